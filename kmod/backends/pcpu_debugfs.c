// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool per-CPU caches in debugfs: /sys/kernel/debug/pcpool/pcpu/
 *
 *   cpus      per cache backend and CPU: magazine hits and misses
 *   classes   per cache backend and size class: where the memory is
 *   shrinker  scans, pages freed, pages reclaimable now
 *   drain     write anything: empty every magazine, free every free chunk
 *   selftest  read: the dual-mode counter and class checks on real CPUs
 *
 * Formats are described in Documentation/abi.rst; tools parse them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include "pcpu.h"

/* Each loaded cache backend, in mode order, through @fn. */
static void pcpool_pcpu_each_bk(struct seq_file *m,
				void (*fn)(struct seq_file *m,
					   const struct pcpool_pcpu_bk *bk))
{
	struct pcpool_pcpu_bk *bk;
	unsigned int k;

	for (k = 0; k < PCPOOL_PCPU_NR_MODES; k++) {
		bk = READ_ONCE(pcpool_pcpu_family.bk[k]);
		if (bk)
			fn(m, bk);
	}
}

static void pcpool_pcpu_cpus_one(struct seq_file *m,
				 const struct pcpool_pcpu_bk *bk)
{
	unsigned int i;
	int cpu;

	for_each_possible_cpu(cpu) {
		u64 ah = 0, am = 0, fh = 0, fm = 0;

		for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++) {
			const struct pcpool_pcpu_cpu_stats *st =
				&bk->pool->cache[i]->cpu[cpu].st;

			ah += READ_ONCE(st->alloc_hits);
			am += READ_ONCE(st->alloc_depot) +
			      READ_ONCE(st->alloc_refill);
			fh += READ_ONCE(st->free_hits);
			fm += READ_ONCE(st->free_depot) +
			      READ_ONCE(st->free_flush) +
			      READ_ONCE(st->free_direct);
		}
		seq_printf(m, "%s %d %llu %llu %llu %llu\n",
			   bk->b->ops->name, cpu, ah, am, fh, fm);
	}
}

/* cpus: per backend and CPU, magazine hits and misses over all classes. */
static int pcpool_pcpu_cpus_show(struct seq_file *m, void *v)
{
	seq_puts(m, "backend cpu alloc_hits alloc_misses free_hits free_misses\n");
	pcpool_pcpu_each_bk(m, pcpool_pcpu_cpus_one);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_pcpu_cpus);

static void pcpool_pcpu_classes_one(struct seq_file *m,
				    const struct pcpool_pcpu_bk *bk)
{
	struct pcpool_pcpu_totals t;
	struct pcpool_pcpu_cache *c;
	unsigned int i;

	for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++) {
		c = bk->pool->cache[i];
		pcpool_pcpu_get_totals(c, &t);
		seq_printf(m, "%s %u %lu %lu %lu %lu %lu %lu %llu %llu\n",
			   bk->b->ops->name, c->size, t.nr_chunks,
			   t.nr_empty_chunks, t.chunk_free_objs, t.depot_objs,
			   t.mag_objs, pcpool_pcpu_in_use(c), t.chunk_grow,
			   t.chunk_shrink);
	}
}

/* classes: per backend and size class, where the memory is. */
static int pcpool_pcpu_classes_show(struct seq_file *m, void *v)
{
	seq_puts(m, "backend size chunks empty_chunks chunk_free depot_objs mag_objs in_use chunk_grow chunk_shrink\n");
	pcpool_pcpu_each_bk(m, pcpool_pcpu_classes_one);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_pcpu_classes);

static int pcpool_pcpu_shrink_stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "scans %llu\n", READ_ONCE(pcpool_pcpu_family.shrink_scans));
	seq_printf(m, "pages_freed %llu\n", READ_ONCE(pcpool_pcpu_family.shrink_pages));
	seq_printf(m, "decay_passes %llu\n", READ_ONCE(pcpool_pcpu_family.decay_passes));
	seq_printf(m, "decay_pages_freed %llu\n", READ_ONCE(pcpool_pcpu_family.decay_pages));
	seq_printf(m, "decay_trim_pages %llu\n",
		   READ_ONCE(pcpool_pcpu_family.decay_trim_pages));
	seq_printf(m, "reclaimable_pages %lu\n", pcpool_pcpu_reclaimable());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_pcpu_shrink_stats);

/* drain: write anything: empty every magazine and give back every free chunk. */
static ssize_t pcpool_pcpu_drain_write(struct file *file,
				       const char __user *buf, size_t len,
				       loff_t *ppos)
{
	mutex_lock(&pcpool_pcpu_family.lock);
	pcpool_pcpu_reclaim(0, true);
	mutex_unlock(&pcpool_pcpu_family.lock);
	return len;
}

static const struct file_operations pcpool_pcpu_drain_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= pcpool_pcpu_drain_write,
	.llseek	= noop_llseek,
};

/*
 * selftest: reading runs the dual-mode counter through its modes on real
 * CPUs (smp_call_on_cpu) and the class checks, one "ok"/"FAIL" line each
 * and a summary line.
 */
struct pcpool_pcpu_st {
	struct pcpool_pcpu_counter ctr;
	s64 delta;
	int times;
};

static int pcpool_pcpu_st_add(void *arg)
{
	struct pcpool_pcpu_st *st = arg;
	int i;

	for (i = 0; i < st->times; i++)
		pcpool_pcpu_counter_add(&st->ctr, st->delta);
	return 0;
}

static int pcpool_pcpu_st_destroy(void *arg)
{
	struct pcpool_pcpu_st *st = arg;

	return pcpool_pcpu_counter_destroy(&st->ctr) == st->delta ? 0 : -EIO;
}

/*
 * On @st's second CPU, after one single-word update on the first: reused
 * storage is zeroed where it is touched, whatever its last user left.
 */
static int pcpool_pcpu_st_reuse(void *arg)
{
	struct pcpool_pcpu_st *st = arg;

	pcpool_pcpu_counter_add(&st->ctr, st->delta);
	return pcpool_pcpu_counter_sum(&st->ctr) == 2 * st->delta ? 0 : -EIO;
}

/* Break one object's promise with verify on.  family lock held. */
static int pcpool_pcpu_st_verify(struct pcpool_pcpu_cache *c)
{
	struct pcpool_pcpu_totals t0, t1;
	bool was = READ_ONCE(c->verify);
	void __percpu *p;
	int ret;

	pcpool_pcpu_set_verify(c, true);
	pcpool_pcpu_get_totals(c, &t0);
	ret = pcpool_pcpu_alloc(c, &p);
	if (!ret) {
		(*per_cpu_ptr((s64 __percpu *)p, cpumask_first(cpu_possible_mask)))++;
		pcpool_pcpu_free(c, p);
		pcpool_pcpu_get_totals(c, &t1);
		if (t1.st.verify_failures != t0.st.verify_failures + 1)
			ret = -EIO;
	}
	pcpool_pcpu_set_verify(c, was);
	return ret;
}

#define PCPOOL_PCPU_ST(cond, what) do {					\
	bool __ok = (cond);						\
	seq_printf(m, "%s %s\n", __ok ? "ok" : "FAIL", what);		\
	if (__ok)							\
		pass++;							\
	else								\
		fail++;							\
} while (0)

static int pcpool_pcpu_selftest_show(struct seq_file *m, void *v)
{
	struct pcpool_pcpu_pool *pool;
	struct pcpool_pcpu_cache *c;
	struct pcpool_pcpu_st *st;
	struct pcpool_pcpu_totals t0, t1;
	unsigned int a, b;
	int pass = 0, fail = 0, ret;

	PCPOOL_PCPU_ST(pcpool_pcpu_class(0, 8) == -EINVAL, "class: size 0");
	PCPOOL_PCPU_ST(pcpool_pcpu_class(PCPOOL_PCPU_CHUNK_MAX + 1, 8) == -EINVAL,
		       "class: size above 32 KiB");
	PCPOOL_PCPU_ST(pcpool_pcpu_class(8, 3) == -EINVAL,
		       "class: alignment not a power of two");
	PCPOOL_PCPU_ST(pcpool_pcpu_class(8, PAGE_SIZE * 2) == -EINVAL,
		       "class: alignment above PAGE_SIZE");
	PCPOOL_PCPU_ST(pcpool_pcpu_class(PCPOOL_PCPU_CHUNK_MAX, PAGE_SIZE) ==
		       PCPOOL_PCPU_MAX_SHIFT, "class: 32 KiB");
	PCPOOL_PCPU_ST(pcpool_pcpu_class(3, 2048) == 11,
		       "class: alignment decides");

	mutex_lock(&pcpool_pcpu_family.lock);
	pool = pcpool_pcpu_pool_of(PCPOOL_PCPU_CONSTRUCTED);
	if (pool) {
		/* verify: a broken promise is counted (and repaired) */
		ret = pcpool_pcpu_st_verify(pool->cache[6 - PCPOOL_PCPU_MIN_SHIFT]);
		PCPOOL_PCPU_ST(!ret, "verify: a broken promise is counted on free");
	} else {
		seq_puts(m, "skip verify: no pcpu-constructed backend\n");
	}
	/* the lazy counter takes RAW storage */
	pool = pcpool_pcpu_pool_of(PCPOOL_PCPU_RAW);
	if (!pool) {
		mutex_unlock(&pcpool_pcpu_family.lock);
		seq_puts(m, "selftest: no pcpu-raw backend\n");
		return 0;
	}
	c = pool->cache[0];
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st) {
		mutex_unlock(&pcpool_pcpu_family.lock);
		return -ENOMEM;
	}
	a = cpumask_first(cpu_online_mask);
	b = cpumask_next(a, cpu_online_mask);

	/* single-CPU: no per-CPU storage, exact */
	ret = pcpool_pcpu_counter_init(&st->ctr, c);
	PCPOOL_PCPU_ST(!ret, "counter: init on a RAW cache");
	pcpool_pcpu_get_totals(c, &t0);
	st->delta = 3;
	st->times = 1000;
	smp_call_on_cpu(a, pcpool_pcpu_st_add, st, false);
	pcpool_pcpu_get_totals(c, &t1);
	PCPOOL_PCPU_ST(!pcpool_pcpu_counter_upgraded(&st->ctr) &&
		       pcpool_pcpu_counter_sum(&st->ctr) == 3000 &&
		       t1.st.alloc_hits + t1.st.alloc_depot + t1.st.alloc_refill ==
		       t0.st.alloc_hits + t0.st.alloc_depot + t0.st.alloc_refill,
		       "counter: one CPU stays single-word, no allocation");
	if (b < nr_cpu_ids) {
		st->delta = -7;
		st->times = 10;
		smp_call_on_cpu(b, pcpool_pcpu_st_add, st, false);
		PCPOOL_PCPU_ST(pcpool_pcpu_counter_upgraded(&st->ctr) &&
			       pcpool_pcpu_counter_sum(&st->ctr) == 2930 &&
			       pcpool_pcpu_counter_nr_touched(&st->ctr) == 1,
			       "counter: a second CPU upgrades it, one part in use, sum exact");
		st->delta = 5;
		st->times = 14;
		smp_call_on_cpu(a, pcpool_pcpu_st_add, st, false);
		PCPOOL_PCPU_ST(pcpool_pcpu_counter_sum(&st->ctr) == 3000 &&
			       pcpool_pcpu_counter_nr_touched(&st->ctr) == 2,
			       "counter: updates after the upgrade, two parts, sum exact");
		st->delta = 3000;
		ret = smp_call_on_cpu(b, pcpool_pcpu_st_destroy, st, false);
		PCPOOL_PCPU_ST(!ret, "counter: destroy returns the exact value");
		/* the storage went back on b: the next upgrade there reuses it */
		st->delta = 11;
		st->times = 1;
		smp_call_on_cpu(a, pcpool_pcpu_st_add, st, false);
		ret = smp_call_on_cpu(b, pcpool_pcpu_st_reuse, st, false);
		PCPOOL_PCPU_ST(!ret && pcpool_pcpu_counter_upgraded(&st->ctr),
			       "counter: reused storage starts at zero (lazy init)");
	} else {
		seq_puts(m, "skip counter upgrade: one online CPU\n");
	}
	pcpool_pcpu_counter_destroy(&st->ctr);
	kfree(st);
	mutex_unlock(&pcpool_pcpu_family.lock);
	seq_printf(m, "selftest: %d passed, %d failed\n", pass, fail);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_pcpu_selftest);

/* The family lock held. */
void pcpool_pcpu_debugfs_init(struct dentry *parent)
{
	struct dentry *dir = debugfs_create_dir("pcpu", parent);

	pcpool_pcpu_family.dir = dir;
	debugfs_create_file("cpus", 0400, dir, NULL, &pcpool_pcpu_cpus_fops);
	debugfs_create_file("classes", 0400, dir, NULL,
			    &pcpool_pcpu_classes_fops);
	debugfs_create_file("shrinker", 0400, dir, NULL,
			    &pcpool_pcpu_shrink_stats_fops);
	debugfs_create_file("drain", 0200, dir, NULL, &pcpool_pcpu_drain_fops);
	debugfs_create_file("selftest", 0400, dir, NULL,
			    &pcpool_pcpu_selftest_fops);
}
