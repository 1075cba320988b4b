// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool backends: the ops table and the two that need no private zone.
 *
 * kernel: the page allocator itself, the reference every other backend is
 *	measured against.
 * null:   the same bookkeeping with no allocation, so its time is the
 *	harness floor (ioctl, handle table, counters, indirect call).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/jump_label.h>
#include <linux/mmzone.h>
#include <linux/percpu.h>
#include <linux/printk.h>

#include "pcpool.h"

DEFINE_STATIC_KEY_FALSE(pcpool_fail_key);
atomic_t pcpool_fail_nth = ATOMIC_INIT(0);

const char *const pcpool_ctr_names[PCPOOL_NR_CTR] = {
	[PCPOOL_CTR_ALLOCS]		= "allocs",
	[PCPOOL_CTR_FREES]		= "frees",
	[PCPOOL_CTR_ALLOC_FAILURES]	= "alloc_failures",
	[PCPOOL_CTR_PAGES_ALLOCATED]	= "pages_allocated",
	[PCPOOL_CTR_PAGES_FREED]	= "pages_freed",
};

/*
 * The gfp flags only matter once the fast path fails, so they do not
 * change what is measured.  __GFP_NORETRY: a test load that runs the
 * machine out of memory gets -ENOMEM instead of waking the OOM killer;
 * __GFP_NOWARN: that failure is an expected result, not a splat in the
 * log (the VM runner treats a call trace as a failure).
 */
#define PCPOOL_KERNEL_GFP	(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY)

static int pcpool_kernel_alloc(unsigned int order, union pcpool_obj *obj)
{
	struct page *page = alloc_pages(PCPOOL_KERNEL_GFP, order);

	if (!page)
		return -ENOMEM;
	obj->page = page;
	return 0;
}

static void pcpool_kernel_free(union pcpool_obj obj, unsigned int order)
{
	__free_pages(obj.page, order);
}

static const struct pcpool_backend_ops pcpool_kernel_ops = {
	.name		= "kernel",
	.max_order	= PCPOOL_MAX_ORDER,
	.alloc		= pcpool_kernel_alloc,
	.free		= pcpool_kernel_free,
};

/* Any non-NULL value would do; an address of ours is easy to check. */
static char pcpool_null_cookie;

static int pcpool_null_alloc(unsigned int order, union pcpool_obj *obj)
{
	obj->cookie = &pcpool_null_cookie;
	return 0;
}

static void pcpool_null_free(union pcpool_obj obj, unsigned int order)
{
	WARN_ON_ONCE(obj.cookie != &pcpool_null_cookie);
}

static const struct pcpool_backend_ops pcpool_null_ops = {
	.name		= "null",
	.max_order	= PCPOOL_MAX_ORDER,
	.alloc		= pcpool_null_alloc,
	.free		= pcpool_null_free,
};

/* Later backends add themselves here. */
static const struct pcpool_backend_ops *const
pcpool_backend_table[PCPOOL_NR_BACKENDS_MAX] = {
	[PCPOOL_BACKEND_KERNEL]	= &pcpool_kernel_ops,
	[PCPOOL_BACKEND_NULL]	= &pcpool_null_ops,
	[PCPOOL_BACKEND_CLASSIC]	= &pcpool_classic_ops,
	[PCPOOL_BACKEND_PCPBUDDY]	= &pcpool_pcpbuddy_ops,
	[PCPOOL_BACKEND_VMALLOC]	= &pcpool_vmalloc_ops,
	[PCPOOL_BACKEND_PCPU_KERNEL]		= &pcpool_pcpu_kernel_ops,
	[PCPOOL_BACKEND_PCPU_RAW]		= &pcpool_pcpu_raw_ops,
	[PCPOOL_BACKEND_PCPU_ZEROED]		= &pcpool_pcpu_zeroed_ops,
	[PCPOOL_BACKEND_PCPU_CONSTRUCTED]	= &pcpool_pcpu_constructed_ops,
};

static struct pcpool_backend pcpool_backends[PCPOOL_NR_BACKENDS_MAX];

struct pcpool_backend *pcpool_backend_get(u32 id)
{
	if (id >= PCPOOL_NR_BACKENDS_MAX || !pcpool_backends[id].ops)
		return NULL;
	return &pcpool_backends[id];
}

u64 pcpool_backends_mask(void)
{
	u64 mask = 0;
	u32 id;

	for (id = 0; id < PCPOOL_NR_BACKENDS_MAX; id++)
		if (pcpool_backends[id].ops)
			mask |= 1ULL << id;
	return mask;
}

unsigned int pcpool_backends_max_order(void)
{
	unsigned int hi = 0;
	u32 id;

	/* page orders only: per-CPU backends' orders are object sizes */
	for (id = 0; id < PCPOOL_NR_BACKENDS_MAX; id++)
		if (pcpool_backends[id].ops && !pcpool_backends[id].ops->pcpu)
			hi = max(hi, pcpool_backends[id].ops->max_order);
	return hi;
}

u64 pcpool_backend_sum(const struct pcpool_backend *b, enum pcpool_ctr ctr)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu_ptr(b->ctr, cpu)->c[ctr];
	return sum;
}

/*
 * Per-CPU parts can wrap (a block freed on another CPU); the sum cannot.
 * It is exact when nothing runs; under live traffic it is a snapshot
 * taken CPU by CPU, and reading frees first makes it lean high, not low.
 */
s64 pcpool_backend_outstanding(const struct pcpool_backend *b)
{
	u64 freed = pcpool_backend_sum(b, PCPOOL_CTR_PAGES_FREED);

	return (s64)(pcpool_backend_sum(b, PCPOOL_CTR_PAGES_ALLOCATED) - freed);
}

static void pcpool_backend_teardown(struct pcpool_backend *b)
{
	s64 left = pcpool_backend_outstanding(b);

	if (left)
		pr_err("backend %s: %lld pages outstanding at unload\n",
		       b->ops->name, left);
	if (b->ops->exit)
		b->ops->exit();
	free_percpu(b->ctr);
	b->ctr = NULL;
	b->ops = NULL;
}

int pcpool_backends_init(void)
{
	u32 id;
	int ret;

	for (id = 0; id < PCPOOL_NR_BACKENDS_MAX; id++) {
		const struct pcpool_backend_ops *ops = pcpool_backend_table[id];
		struct pcpool_backend *b = &pcpool_backends[id];

		if (!ops)
			continue;
		b->id = id;
		b->ctr = alloc_percpu(struct pcpool_counters);
		if (!b->ctr) {
			ret = -ENOMEM;
			goto unwind;
		}
		if (ops->init) {
			ret = ops->init();
			if (ret) {
				pr_err("backend %s: init failed: %d\n",
				       ops->name, ret);
				free_percpu(b->ctr);
				b->ctr = NULL;
				goto unwind;
			}
		}
		b->ops = ops;
	}
	return 0;

unwind:
	while (id--)
		if (pcpool_backends[id].ops)
			pcpool_backend_teardown(&pcpool_backends[id]);
	return ret;
}

void pcpool_backends_exit(void)
{
	u32 id;

	for (id = 0; id < PCPOOL_NR_BACKENDS_MAX; id++)
		if (pcpool_backends[id].ops)
			pcpool_backend_teardown(&pcpool_backends[id]);
}
