// SPDX-License-Identifier: GPL-2.0
/*
 * A client of pcpool's in-kernel API, for tests/vm/api_vm.sh.  At load it
 * allocates and frees pages and per-CPU objects from process context on
 * every CPU (pinned kthreads, frees crossing CPUs), from a timer (softirq)
 * and from IPI handlers (hardirq) on the other CPU while that CPU's
 * kthread is busy in the allocator, then keeps HOLD_PAGES pages and one
 * per-CPU object until unload so the test sees them counted.  The load
 * fails (-EIO) if a check fails; the counts per context are logged.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/timer.h>

#include <linux/pcpool.h>

#define HOLD_PAGES	8
#define ITERS		20000
#define RING		64

/* classic has no interrupt-safe allocation: its GFP_ATOMIC ones fail */
static bool atomic_allocs = true;
module_param(atomic_allocs, bool, 0444);
MODULE_PARM_DESC(atomic_allocs, "Require GFP_ATOMIC allocations in interrupts to succeed");

static struct page *held[HOLD_PAGES];
static void __percpu *held_pcpu;

/* Pages handed from process context to the other contexts to free. */
static struct page *ring[RING];
static atomic_t ring_head = ATOMIC_INIT(0);

static atomic_t softirq_allocs, softirq_frees, softirq_fails;
static atomic_t hardirq_allocs, hardirq_frees, hardirq_fails, hardirq_seen;
static atomic_t bad;
static bool stop_timer;
static struct timer_list timer;

/* Free whatever the process side left in the ring, from this context. */
static int drain_ring(void)
{
	int i, n = 0;

	for (i = 0; i < RING; i++) {
		struct page *p = xchg(&ring[i], NULL);

		if (p) {
			pcpool_free_pages(p, 0);
			n++;
		}
	}
	return n;
}

/* An allocation here and a free of it, plus frees of handed pages. */
static void irq_side(atomic_t *allocs, atomic_t *frees, atomic_t *fails)
{
	struct page *p = pcpool_alloc_pages(GFP_ATOMIC | __GFP_ZERO, 0);

	if (p) {
		u64 *v = kmap_local_page(p);

		if (v[0] || v[PAGE_SIZE / sizeof(u64) - 1])
			atomic_inc(&bad);
		kunmap_local(v);
		atomic_inc(allocs);
		pcpool_free_pages(p, 0);
		atomic_inc(frees);
	} else {
		atomic_inc(fails);
	}
	atomic_add(drain_ring(), frees);
}

static void timer_fn(struct timer_list *t)
{
	if (!in_serving_softirq())
		atomic_inc(&bad);
	irq_side(&softirq_allocs, &softirq_frees, &softirq_fails);
	if (!READ_ONCE(stop_timer))
		mod_timer(&timer, jiffies + 1);
}

static void ipi_fn(void *arg)
{
	if (in_hardirq())
		atomic_inc(&hardirq_seen);
	irq_side(&hardirq_allocs, &hardirq_frees, &hardirq_fails);
}

struct worker {
	struct task_struct *task;
	struct completion done;
	unsigned int cpu;
	int fails;
};

static int worker_fn(void *arg)
{
	struct worker *w = arg;
	unsigned int other = cpumask_next(w->cpu, cpu_online_mask);
	int i;

	if (other >= nr_cpu_ids)
		other = cpumask_first(cpu_online_mask);
	for (i = 0; i < ITERS; i++) {
		unsigned int order = i % 3;
		struct page *p = pcpool_alloc_pages(GFP_KERNEL, order);

		if (!p) {
			w->fails++;
			continue;
		}
		/* every 8th order-0 page is freed by the other contexts */
		if (!order && !(i % 8)) {
			p = xchg(&ring[atomic_inc_return(&ring_head) % RING], p);
			if (!p)
				continue;
		}
		pcpool_free_pages(p, order);
		/* hardirq on the other CPU, while it is in the allocator too */
		if (!(i % 64) && other != w->cpu)
			smp_call_function_single(other, ipi_fn, NULL, 1);
	}
	complete(&w->done);
	return 0;
}

/* Zeroed on every CPU at allocation, written, freed; then one kept. */
static int percpu_checks(void)
{
	static const size_t sizes[] = { 8, 24, 256, 2048, 8192 };
	unsigned int i;
	int cpu;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		u8 __percpu *p = pcpool_alloc_percpu(sizes[i], 8);

		if (!p)
			return -ENOMEM;
		for_each_possible_cpu(cpu) {
			u8 *c = per_cpu_ptr(p, cpu);

			if (c[0] || c[sizes[i] - 1])
				return -EIO;
			memset(c, 0xa5, sizes[i]);
		}
		pcpool_free_percpu(p);
	}
	pcpool_free_percpu(NULL);
	held_pcpu = pcpool_alloc_percpu(64, 64);
	return held_pcpu ? 0 : -ENOMEM;
}

static int __init client_init(void)
{
	static struct worker w[NR_CPUS];
	unsigned int cpu, n = 0;
	int i, fails = 0, ret;

	ret = percpu_checks();
	if (ret) {
		pr_err("per-CPU checks failed: %d\n", ret);
		return ret;
	}
	timer_setup(&timer, timer_fn, 0);
	mod_timer(&timer, jiffies + 1);
	for_each_online_cpu(cpu) {
		struct worker *x = &w[n++];

		x->cpu = cpu;
		x->fails = 0;
		init_completion(&x->done);
		x->task = kthread_create_on_cpu(worker_fn, x, cpu,
						"pcpool_api/%u");
		if (IS_ERR(x->task)) {
			n--;
			break;
		}
		wake_up_process(x->task);
	}
	for (i = 0; i < n; i++) {
		wait_for_completion(&w[i].done);
		fails += w[i].fails;
	}
	WRITE_ONCE(stop_timer, true);
	del_timer_sync(&timer);
	/* what is left in the ring, from a hardirq, or here with one CPU */
	if (num_online_cpus() > 1)
		smp_call_function_single(cpumask_last(cpu_online_mask), ipi_fn,
					 NULL, 1);
	drain_ring();
	for (i = 0; i < HOLD_PAGES; i++) {
		held[i] = pcpool_alloc_pages(GFP_KERNEL, 0);
		if (!held[i])
			fails++;
	}
	pr_info("process: %u threads x %d, %d failures; softirq: %d allocs %d frees %d failures; hardirq: %d calls, %d allocs %d frees %d failures; bad %d\n",
		n, ITERS, fails, atomic_read(&softirq_allocs),
		atomic_read(&softirq_frees), atomic_read(&softirq_fails),
		atomic_read(&hardirq_seen), atomic_read(&hardirq_allocs),
		atomic_read(&hardirq_frees), atomic_read(&hardirq_fails),
		atomic_read(&bad));
	if (fails || atomic_read(&bad) ||
	    (num_online_cpus() > 1 && !atomic_read(&hardirq_seen)) ||
	    (atomic_allocs && (!atomic_read(&softirq_allocs) ||
			       (num_online_cpus() > 1 &&
				!atomic_read(&hardirq_allocs))))) {
		for (i = 0; i < HOLD_PAGES; i++)
			pcpool_free_pages(held[i], 0);
		pcpool_free_percpu(held_pcpu);
		return -EIO;
	}
	return 0;
}

static void __exit client_exit(void)
{
	int i;

	for (i = 0; i < HOLD_PAGES; i++)
		pcpool_free_pages(held[i], 0);
	pcpool_free_percpu(held_pcpu);
}

module_init(client_init);
module_exit(client_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pcpool in-kernel API test client");
