// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool backends: the table of loaded backends, their generic per-CPU
 * counters and failure injection.  Which backends exist is the caller's
 * choice (main.c passes the module's table; the userspace tests their
 * own), so nothing here names one.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/cpumask.h>
#include <linux/errno.h>
#include <linux/jump_label.h>
#include <linux/kernel.h>
#include <linux/limits.h>
#include <linux/percpu.h>
#include <linux/printk.h>
#include <linux/seq_file.h>

#include "backend.h"

DEFINE_STATIC_KEY_FALSE(pcpool_fail_key);
atomic_t pcpool_fail_nth = ATOMIC_INIT(0);

unsigned int pcpool_nr_possible_cpus;

const char *const pcpool_ctr_names[PCPOOL_NR_CTR] = {
	[PCPOOL_CTR_ALLOCS]		= "allocs",
	[PCPOOL_CTR_FREES]		= "frees",
	[PCPOOL_CTR_ALLOC_FAILURES]	= "alloc_failures",
	[PCPOOL_CTR_PAGES_ALLOCATED]	= "pages_allocated",
	[PCPOOL_CTR_PAGES_FREED]	= "pages_freed",
};

static struct pcpool_backend pcpool_backends[PCPOOL_NR_BACKENDS_MAX];

/* N > 0: the N-th allocation from now fails; 0 disarms. */
int pcpool_fail_nth_arm(u64 n)
{
	if (n > INT_MAX)
		return -EINVAL;
	if (n) {
		atomic_set(&pcpool_fail_nth, n);
		static_branch_enable(&pcpool_fail_key);
	} else {
		static_branch_disable(&pcpool_fail_key);
		atomic_set(&pcpool_fail_nth, 0);
	}
	return 0;
}

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
	for (id = 0; id < PCPOOL_NR_BACKENDS_MAX; id++) {
		const struct pcpool_backend *b = &pcpool_backends[id];

		if (b->ops && b->ops->kind != PCPOOL_BK_PCPU)
			hi = max(hi, b->max_order);
	}
	return hi;
}

u64 pcpool_backend_sum(const struct pcpool_backend *b, enum pcpool_ctr ctr)
{
	u64 sum = 0;
	int cpu;

	/* other CPUs' counters move under us: a marked, untorn read */
	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu_ptr(b->ctr, cpu)->c[ctr]);
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

/* <name>/counters: the generic counters, then the backend's own. */
void pcpool_backend_show(struct pcpool_backend *b, struct seq_file *m)
{
	int i;

	for (i = 0; i < PCPOOL_NR_CTR; i++)
		seq_printf(m, "%s %llu\n", pcpool_ctr_names[i],
			   pcpool_backend_sum(b, i));
	if (b->ops->show_counters)
		b->ops->show_counters(b, m);
}

static void pcpool_backend_teardown(struct pcpool_backend *b)
{
	s64 left = pcpool_backend_outstanding(b);

	if (left)
		pr_err("backend %s: %lld pages outstanding at unload\n",
		       b->ops->name, left);
	if (b->ops->exit)
		b->ops->exit(b);
	free_percpu(b->ctr);
	b->ctr = NULL;
	b->priv = NULL;
	b->ops = NULL;
}

int pcpool_backends_init(const struct pcpool_backend_ops *const *table,
			 unsigned int n)
{
	u32 id;
	int ret;

	if (n > PCPOOL_NR_BACKENDS_MAX)
		return -EINVAL;
	pcpool_nr_possible_cpus = num_possible_cpus();
	for (id = 0; id < n; id++) {
		const struct pcpool_backend_ops *ops = table[id];
		struct pcpool_backend *b = &pcpool_backends[id];

		if (!ops)
			continue;
		b->id = id;
		b->ops = ops;
		b->max_order = ops->max_order ?: PCPOOL_MAX_ORDER;
		b->ctr = alloc_percpu(struct pcpool_counters);
		ret = b->ctr ? 0 : -ENOMEM;
		if (!ret && ops->init)
			ret = ops->init(b);
		if (ret) {
			pr_err("backend %s: init failed: %d\n", ops->name, ret);
			free_percpu(b->ctr);
			b->ctr = NULL;
			b->ops = NULL;
			goto unwind;
		}
	}
	return 0;

unwind:
	while (id--)
		if (pcpool_backends[id].ops)
			pcpool_backend_teardown(&pcpool_backends[id]);
	return ret;
}

/* In reverse: a backend may lean on one loaded before it. */
void pcpool_backends_exit(void)
{
	u32 id = PCPOOL_NR_BACKENDS_MAX;

	while (id--)
		if (pcpool_backends[id].ops)
			pcpool_backend_teardown(&pcpool_backends[id]);
}
