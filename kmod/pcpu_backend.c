// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool per-CPU memory backends: the cached per-CPU allocator (kmod/pcpu)
 * on real per-CPU memory, and the kernel's own alloc_percpu() beside it.
 *
 * pcpu-kernel       __alloc_percpu_gfp()/free_percpu(), the reference
 * pcpu-raw          the cache, objects handed out as the last owner left them
 * pcpu-zeroed       the cache, objects all-zero on every CPU
 * pcpu-constructed  the cache, objects whose 64-bit words sum to zero over
 *                   the CPUs (zeroes, or counters whose parts cancel)
 *
 * The three caches share one budget for cached memory (pcpu_max_cached_kb)
 * and one shrinker.  Chunks come from alloc_percpu(), one page per CPU
 * each; metadata (chunk descriptors, magazines) from kmalloc().  The RUN
 * workloads PCPU_LIFECYCLE and PCPU_SIZES live here; REPEAT, BULK and the
 * channels work on these backends through the common code, with "order"
 * meaning log2 of the object size.  Documentation/percpu.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include "pcpool.h"
#include "pcpool_pcpu.h"

#define PCPOOL_PCPU_GFP		(GFP_KERNEL | __GFP_NOWARN)
/* Loop iterations between fatal-signal checks and cond_resched(). */
#define PCPOOL_PCPU_YIELD_MASK	1023U
/* lib/test_vmalloc.c's pcpu_alloc_test() shape */
#define PCPOOL_PCPU_SIZES_MAX	(PAGE_SIZE / 4)
#define PCPOOL_PCPU_SIZES_SEED	0x9e3779b97f4a7c15ULL

unsigned int pcpool_nr_possible_cpus;

static void pcpool_pcpu_budget_reclaim(struct pcpool_pcpu_budget *budget,
				       struct pcpool_pcpu_cache *grower,
				       unsigned long bytes);

static struct pcpool_pcpu_budget pcpool_pcpu_budget = {
	.cached = ATOMIC_LONG_INIT(0),
	.max = 32UL << 20,
	.reclaim = pcpool_pcpu_budget_reclaim,
};

/*
 * Serializes the shrinker, the debugfs drain, the verify switch and the
 * pools' creation and destruction.
 */
static DEFINE_MUTEX(pcpool_pcpu_lock);
static struct pcpool_pcpu_pool *pcpool_pcpu_pools[PCPOOL_PCPU_NR_MODES];
/*
 * The cache serving each order (orders below the smallest class go to it),
 * so the fast path finds it with one load and no clamping.  Set before
 * the backend is used, cleared at teardown.
 */
static struct pcpool_pcpu_cache *
pcpool_pcpu_caches[PCPOOL_PCPU_NR_MODES][PCPOOL_PCPU_MAX_SHIFT + 1];
static void *pcpool_pcpu_meta[PCPOOL_PCPU_NR_MODES];

/*
 * pcpu-kernel's requests by size class (log2 of max(size, align)), per
 * CPU.  The caches count every request anyway (hits, misses, failures),
 * so theirs are summed from those instead of counted twice.
 */
struct pcpool_pcpu_hist {
	u64 req[PCPOOL_PCPU_NR_CLASSES];
};

static struct pcpool_pcpu_hist __percpu *pcpool_pcpu_hist;

static u64 pcpool_pcpu_shrink_scans;
static u64 pcpool_pcpu_shrink_pages;

/* ---- module parameters ---- */

/* At least this much, else 1/16 of RAM: see pcpool_pcpu_default_budget(). */
#define PCPOOL_PCPU_MAX_CACHED_MIN_KB	(32UL << 10)
#define PCPOOL_PCPU_MAX_CACHED_RAM_DIV	16

static unsigned long pcpu_max_cached_kb = PCPOOL_PCPU_MAX_CACHED_MIN_KB;
static bool pcpu_max_cached_given;

static int pcpu_max_cached_set(const char *val, const struct kernel_param *kp)
{
	unsigned long kb;
	int ret = kstrtoul(val, 0, &kb);

	if (ret)
		return ret;
	WRITE_ONCE(pcpu_max_cached_given, true);
	WRITE_ONCE(pcpu_max_cached_kb, kb);
	WRITE_ONCE(pcpool_pcpu_budget.max,
		   kb > ULONG_MAX >> 10 ? ULONG_MAX : kb << 10);
	return 0;
}

static const struct kernel_param_ops pcpu_max_cached_ops = {
	.set	= pcpu_max_cached_set,
	.get	= param_get_ulong,
};

module_param_cb(pcpu_max_cached_kb, &pcpu_max_cached_ops,
		&pcpu_max_cached_kb, 0644);
MODULE_PARM_DESC(pcpu_max_cached_kb,
		 "Per-CPU caches: KiB (all CPUs' copies) of free objects kept in depots and chunks, shared by all caches; above it memory goes back to alloc_percpu at once (default: 1/16 of RAM, at least 32768)");

static bool pcpu_verify;

static int pcpu_verify_set(const char *val, const struct kernel_param *kp)
{
	struct pcpool_pcpu_pool *pool;
	unsigned int i;
	int ret;

	mutex_lock(&pcpool_pcpu_lock);
	ret = param_set_bool(val, kp);
	pool = pcpool_pcpu_pools[PCPOOL_PCPU_CONSTRUCTED];
	if (!ret && pool)
		for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++)
			pcpool_pcpu_set_verify(pool->cache[i],
					       READ_ONCE(pcpu_verify));
	mutex_unlock(&pcpool_pcpu_lock);
	return ret;
}

static const struct kernel_param_ops pcpu_verify_ops = {
	.set	= pcpu_verify_set,
	.get	= param_get_bool,
};

module_param_cb(pcpu_verify, &pcpu_verify_ops, &pcpu_verify, 0644);
MODULE_PARM_DESC(pcpu_verify,
		 "pcpu-constructed: check on every free that the object is back in its constructed state, count and repair violations (default off)");

/* ---- the chunk source: alloc_percpu() and kmalloc() ---- */

static void __percpu *pcpool_pcpu_alloc_chunk(void *ctx, size_t size)
{
	return __alloc_percpu_gfp(size, PAGE_SIZE, PCPOOL_PCPU_GFP);
}

static void pcpool_pcpu_free_chunk(void *ctx, void __percpu *chunk)
{
	free_percpu(chunk);
}

static void *pcpool_pcpu_meta_alloc(void *ctx, size_t size)
{
	return kmalloc(size, PCPOOL_PCPU_GFP);
}

static void pcpool_pcpu_meta_free(void *ctx, void *p)
{
	kfree(p);
}

/* ---- helpers ---- */

static struct pcpool_pcpu_pool *pcpool_pcpu_pool_of(u32 backend_id)
{
	return pcpool_pcpu_pools[backend_id - PCPOOL_BACKEND_PCPU_RAW];
}

static void pcpool_pcpu_show_req(struct seq_file *m, unsigned int i, u64 n)
{
	seq_printf(m, "req_%u %llu\n", 1U << (i + PCPOOL_PCPU_MIN_SHIFT), n);
}

/* ---- pcpu-kernel ---- */

static int pcpool_pcpu_kernel_init(void)
{
	pcpool_nr_possible_cpus = num_possible_cpus();
	pcpool_pcpu_hist = alloc_percpu(struct pcpool_pcpu_hist);
	return pcpool_pcpu_hist ? 0 : -ENOMEM;
}

static void pcpool_pcpu_kernel_exit(void)
{
	free_percpu(pcpool_pcpu_hist);
	pcpool_pcpu_hist = NULL;
}

static int pcpool_pcpu_kernel_alloc_sized(size_t size, size_t align,
					  unsigned int shift,
					  void __percpu **p)
{
	this_cpu_inc(pcpool_pcpu_hist->req[shift - PCPOOL_PCPU_MIN_SHIFT]);
	*p = __alloc_percpu_gfp(size, align, PCPOOL_PCPU_GFP);
	return *p ? 0 : -ENOMEM;
}

static int pcpool_pcpu_kernel_alloc(unsigned int order, union pcpool_obj *obj)
{
	return pcpool_pcpu_kernel_alloc_sized(1UL << order, 1UL << order,
					      max_t(unsigned int, order,
						    PCPOOL_PCPU_MIN_SHIFT),
					      &obj->pcpu);
}

static void pcpool_pcpu_kernel_free(union pcpool_obj obj, unsigned int order)
{
	free_percpu(obj.pcpu);
}

static void pcpool_pcpu_kernel_show(struct seq_file *m)
{
	unsigned int i;
	int cpu;

	for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++) {
		u64 sum = 0;

		for_each_possible_cpu(cpu)
			sum += READ_ONCE(per_cpu_ptr(pcpool_pcpu_hist, cpu)->req[i]);
		pcpool_pcpu_show_req(m, i, sum);
	}
}

const struct pcpool_backend_ops pcpool_pcpu_kernel_ops = {
	.name		= "pcpu-kernel",
	.max_order	= PCPOOL_PCPU_MAX_SHIFT,
	.pcpu		= true,
	.init		= pcpool_pcpu_kernel_init,
	.exit		= pcpool_pcpu_kernel_exit,
	.alloc		= pcpool_pcpu_kernel_alloc,
	.free		= pcpool_pcpu_kernel_free,
	.show_counters	= pcpool_pcpu_kernel_show,
};

/* ---- the three caches ---- */

static unsigned int pcpool_pcpu_order_shift(unsigned int order)
{
	return max_t(unsigned int, order, PCPOOL_PCPU_MIN_SHIFT);
}

static int pcpool_pcpu_pool_create(u32 backend_id, enum pcpool_pcpu_mode mode)
{
	struct pcpool_pcpu_cache_config cfg = {
		.nr_cpus	= nr_cpu_ids,
		.mode		= mode,
		.verify		= mode == PCPOOL_PCPU_CONSTRUCTED &&
				  READ_ONCE(pcpu_verify),
		.src		= {
			.alloc_chunk	= pcpool_pcpu_alloc_chunk,
			.free_chunk	= pcpool_pcpu_free_chunk,
			.meta_alloc	= pcpool_pcpu_meta_alloc,
			.meta_free	= pcpool_pcpu_meta_free,
		},
		.budget		= &pcpool_pcpu_budget,
	};
	struct pcpool_pcpu_pool *pool;
	size_t size;
	void *buf;
	int ret;

	unsigned int order;

	pcpool_nr_possible_cpus = num_possible_cpus();
	size = pcpool_pcpu_pool_meta_size(&cfg);
	if (!size)
		return -EINVAL;
	buf = kvzalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = pcpool_pcpu_pool_init(buf, size, &cfg, &pool);
	if (ret)
		goto err_buf;
	for (order = 0; order <= PCPOOL_PCPU_MAX_SHIFT; order++)
		pcpool_pcpu_caches[mode][order] =
			pcpool_pcpu_pool_cache(pool, pcpool_pcpu_order_shift(order));
	mutex_lock(&pcpool_pcpu_lock);
	pcpool_pcpu_meta[mode] = buf;
	pcpool_pcpu_pools[mode] = pool;
	/* pcpu_verify may have changed since cfg was filled */
	if (mode == PCPOOL_PCPU_CONSTRUCTED) {
		unsigned int i;

		for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++)
			pcpool_pcpu_set_verify(pool->cache[i],
					       READ_ONCE(pcpu_verify));
	}
	mutex_unlock(&pcpool_pcpu_lock);
	return 0;

err_buf:
	kvfree(buf);
	return ret;
}

static void pcpool_pcpu_pool_teardown(u32 backend_id, enum pcpool_pcpu_mode mode)
{
	struct pcpool_pcpu_pool *pool;
	unsigned long leaked;
	u64 grow = 0, shrink = 0;
	unsigned int i;

	mutex_lock(&pcpool_pcpu_lock);
	pool = pcpool_pcpu_pools[mode];
	pcpool_pcpu_pools[mode] = NULL;
	mutex_unlock(&pcpool_pcpu_lock);
	if (!pool)
		return;
	memset(pcpool_pcpu_caches[mode], 0, sizeof(pcpool_pcpu_caches[mode]));

	leaked = pcpool_pcpu_pool_destroy(pool);
	for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++) {
		struct pcpool_pcpu_totals t;

		pcpool_pcpu_get_totals(pool->cache[i], &t);
		grow += t.chunk_grow;
		shrink += t.chunk_shrink;
	}
	if (leaked)
		pr_err("pcpu cache %u: %lu objects still allocated at unload\n",
		       backend_id, leaked);
	/* The counters prove every chunk went back to alloc_percpu. */
	pr_info("pcpu cache %u: %llu chunks obtained, %llu returned\n",
		backend_id, grow, shrink);
	kvfree(pcpool_pcpu_meta[mode]);
	pcpool_pcpu_meta[mode] = NULL;
}

/* One object of class @shift from the cache of @backend_id. */
static int pcpool_pcpu_cache_alloc(u32 backend_id, unsigned int shift,
				   void __percpu **p)
{
	return pcpool_pcpu_alloc(pcpool_pcpu_pool_cache(pcpool_pcpu_pool_of(backend_id),
							shift), p);
}

static void pcpool_pcpu_cache_free(u32 backend_id, unsigned int shift,
				   void __percpu *p)
{
	pcpool_pcpu_free(pcpool_pcpu_pool_cache(pcpool_pcpu_pool_of(backend_id),
						shift), p);
}

static void pcpool_pcpu_show_cache(struct seq_file *m, u32 backend_id)
{
	struct pcpool_pcpu_pool *pool = pcpool_pcpu_pool_of(backend_id);
	struct pcpool_pcpu_totals sum = {}, t;
	unsigned long bytes_cached = 0, bytes_mags = 0, bytes_chunks = 0;
	u64 req[PCPOOL_PCPU_NR_CLASSES];
	unsigned int i;

	for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++) {
		struct pcpool_pcpu_cache *c = pool->cache[i];

		pcpool_pcpu_get_totals(c, &t);
		/* every request is a hit, a miss or a failure of its class */
		req[i] = t.st.alloc_hits + t.st.alloc_depot +
			 t.st.alloc_refill + t.st.alloc_failed;
		sum.st.alloc_hits += t.st.alloc_hits;
		sum.st.alloc_depot += t.st.alloc_depot;
		sum.st.alloc_refill += t.st.alloc_refill;
		sum.st.alloc_failed += t.st.alloc_failed;
		sum.st.free_hits += t.st.free_hits;
		sum.st.free_depot += t.st.free_depot;
		sum.st.free_flush += t.st.free_flush;
		sum.st.free_direct += t.st.free_direct;
		sum.st.zeroed_copies += t.st.zeroed_copies;
		sum.st.verify_failures += t.st.verify_failures;
		sum.st.dead_objs += t.st.dead_objs;
		sum.depot_full_get += t.depot_full_get;
		sum.depot_full_put += t.depot_full_put;
		sum.depot_empty_get += t.depot_empty_get;
		sum.depot_empty_put += t.depot_empty_put;
		sum.mags_allocated += t.mags_allocated;
		sum.mags_freed += t.mags_freed;
		sum.chunk_grow += t.chunk_grow;
		sum.chunk_grow_failed += t.chunk_grow_failed;
		sum.chunk_shrink += t.chunk_shrink;
		sum.chunk_refills += t.chunk_refills;
		sum.chunk_flushes += t.chunk_flushes;
		sum.bad_frees += t.bad_frees;
		sum.nr_chunks += t.nr_chunks;
		sum.nr_full_mags += t.nr_full_mags;
		sum.nr_empty_mags += t.nr_empty_mags;
		bytes_cached += (t.depot_objs + t.chunk_free_objs) * c->obj_bytes;
		bytes_mags += t.mag_objs * c->obj_bytes;
		bytes_chunks += t.nr_chunks * PCPOOL_PCPU_CHUNK_SIZE *
				c->nr_possible;
	}
	seq_printf(m, "alloc_hits %llu\n", sum.st.alloc_hits);
	seq_printf(m, "alloc_misses %llu\n",
		   sum.st.alloc_depot + sum.st.alloc_refill);
	seq_printf(m, "alloc_depot %llu\n", sum.st.alloc_depot);
	seq_printf(m, "alloc_refill %llu\n", sum.st.alloc_refill);
	seq_printf(m, "alloc_failed %llu\n", sum.st.alloc_failed);
	seq_printf(m, "free_hits %llu\n", sum.st.free_hits);
	seq_printf(m, "free_misses %llu\n", sum.st.free_depot +
		   sum.st.free_flush + sum.st.free_direct);
	seq_printf(m, "free_depot %llu\n", sum.st.free_depot);
	seq_printf(m, "free_flush %llu\n", sum.st.free_flush);
	seq_printf(m, "free_direct %llu\n", sum.st.free_direct);
	seq_printf(m, "depot_full_get %llu\n", sum.depot_full_get);
	seq_printf(m, "depot_full_put %llu\n", sum.depot_full_put);
	seq_printf(m, "depot_empty_get %llu\n", sum.depot_empty_get);
	seq_printf(m, "depot_empty_put %llu\n", sum.depot_empty_put);
	seq_printf(m, "depot_full_mags %lu\n", sum.nr_full_mags);
	seq_printf(m, "depot_empty_mags %lu\n", sum.nr_empty_mags);
	seq_printf(m, "mags_allocated %llu\n", sum.mags_allocated);
	seq_printf(m, "mags_freed %llu\n", sum.mags_freed);
	seq_printf(m, "chunk_grow %llu\n", sum.chunk_grow);
	seq_printf(m, "chunk_grow_failed %llu\n", sum.chunk_grow_failed);
	seq_printf(m, "chunk_shrink %llu\n", sum.chunk_shrink);
	seq_printf(m, "chunk_refills %llu\n", sum.chunk_refills);
	seq_printf(m, "chunk_flushes %llu\n", sum.chunk_flushes);
	seq_printf(m, "chunks %lu\n", sum.nr_chunks);
	seq_printf(m, "bytes_chunks %lu\n", bytes_chunks);
	seq_printf(m, "bytes_cached %lu\n", bytes_cached);
	seq_printf(m, "bytes_magazines %lu\n", bytes_mags);
	/* adds and subs from different CPUs land in any order: hide a dip below 0 */
	seq_printf(m, "budget_cached_bytes %ld\n",
		   max(atomic_long_read(&pcpool_pcpu_budget.cached), 0L));
	seq_printf(m, "budget_max_bytes %lu\n",
		   READ_ONCE(pcpool_pcpu_budget.max));
	seq_printf(m, "zeroed_copies %llu\n", sum.st.zeroed_copies);
	seq_printf(m, "verify_failures %llu\n", sum.st.verify_failures);
	seq_printf(m, "bad_frees %llu\n", sum.bad_frees);
	seq_printf(m, "cpu_dead_objs %llu\n", sum.st.dead_objs);
	for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++)
		pcpool_pcpu_show_req(m, i, req[i]);
}

/*
 * The ops take no context pointer, so each cache needs its own small set
 * of functions; they differ only in the backend id and the mode.
 */
#define PCPOOL_PCPU_CACHE_OPS(lname, NAME)				\
static int pcpool_pcpu_##lname##_init(void)				\
{									\
	return pcpool_pcpu_pool_create(PCPOOL_BACKEND_PCPU_##NAME,	\
				       PCPOOL_PCPU_##NAME);		\
}									\
									\
static void pcpool_pcpu_##lname##_exit(void)				\
{									\
	pcpool_pcpu_pool_teardown(PCPOOL_BACKEND_PCPU_##NAME,		\
				  PCPOOL_PCPU_##NAME);			\
}									\
									\
static int pcpool_pcpu_##lname##_alloc(unsigned int order,		\
				       union pcpool_obj *obj)		\
{									\
	return pcpool_pcpu_alloc(pcpool_pcpu_caches[PCPOOL_PCPU_##NAME][order], \
				 &obj->pcpu);				\
}									\
									\
static void pcpool_pcpu_##lname##_free(union pcpool_obj obj,		\
				       unsigned int order)		\
{									\
	pcpool_pcpu_free(pcpool_pcpu_caches[PCPOOL_PCPU_##NAME][order],	\
			 obj.pcpu);					\
}									\
									\
static void pcpool_pcpu_##lname##_show(struct seq_file *m)		\
{									\
	pcpool_pcpu_show_cache(m, PCPOOL_BACKEND_PCPU_##NAME);		\
}									\
									\
const struct pcpool_backend_ops pcpool_pcpu_##lname##_ops = {		\
	.name		= "pcpu-" #lname,				\
	.max_order	= PCPOOL_PCPU_MAX_SHIFT,			\
	.pcpu		= true,						\
	.init		= pcpool_pcpu_##lname##_init,			\
	.exit		= pcpool_pcpu_##lname##_exit,			\
	.alloc		= pcpool_pcpu_##lname##_alloc,			\
	.free		= pcpool_pcpu_##lname##_free,			\
	.show_counters	= pcpool_pcpu_##lname##_show,			\
}

PCPOOL_PCPU_CACHE_OPS(raw, RAW);
PCPOOL_PCPU_CACHE_OPS(zeroed, ZEROED);
PCPOOL_PCPU_CACHE_OPS(constructed, CONSTRUCTED);

/* ---- workloads ---- */

/*
 * One object of @size bytes aligned to @align (class @shift), with the
 * accounting pcpool_obj_alloc() does for an order.
 */
static int pcpool_pcpu_alloc_sized(struct pcpool_backend *b, size_t size,
				   size_t align, unsigned int shift,
				   void __percpu **p)
{
	int ret;

	if (static_branch_unlikely(&pcpool_fail_key) &&
	    atomic_dec_if_positive(&pcpool_fail_nth) == 0)
		ret = -ENOMEM;
	else if (b->id == PCPOOL_BACKEND_PCPU_KERNEL)
		ret = pcpool_pcpu_kernel_alloc_sized(size, align, shift, p);
	else
		ret = pcpool_pcpu_cache_alloc(b->id, shift, p);

	if (likely(!ret)) {
		this_cpu_inc(b->ctr->c[PCPOOL_CTR_ALLOCS]);
		this_cpu_add(b->ctr->c[PCPOOL_CTR_PAGES_ALLOCATED],
			     pcpool_obj_pages(b, shift));
	} else {
		this_cpu_inc(b->ctr->c[PCPOOL_CTR_ALLOC_FAILURES]);
	}
	return ret;
}

static void pcpool_pcpu_free_sized(struct pcpool_backend *b,
				   unsigned int shift, void __percpu *p)
{
	if (b->id == PCPOOL_BACKEND_PCPU_KERNEL)
		free_percpu(p);
	else
		pcpool_pcpu_cache_free(b->id, shift, p);
	this_cpu_inc(b->ctr->c[PCPOOL_CTR_FREES]);
	this_cpu_add(b->ctr->c[PCPOOL_CTR_PAGES_FREED], pcpool_obj_pages(b, shift));
}

/* The two objects of a "process" in PCPU_LIFECYCLE. */
#define PCPOOL_PCPU_LC_SMALL	3	/* 8 B: one counter (mm_cid-like) */
#define PCPOOL_PCPU_LC_LARGE	5	/* 32 B: four counters (rss_stat-like) */
#define PCPOOL_PCPU_LC_WORDS	4

/*
 * One process: allocate, make the objects usable (only pcpu-raw has to
 * write every CPU's copy), update them on the CPUs it runs on, sum them
 * over every possible CPU at exit, free.  A wrong sum is -EIO.
 */
static int pcpool_pcpu_lifecycle_one(struct pcpool_backend *b,
				     const unsigned int *cpus,
				     unsigned int ncpus)
{
	s64 sa = 0, sm[PCPOOL_PCPU_LC_WORDS] = {};
	union pcpool_obj a, m;
	unsigned int i, w;
	int cpu, ret;
	bool bad = false;

	ret = pcpool_obj_alloc(b, PCPOOL_PCPU_LC_SMALL, &a);
	if (ret)
		return ret;
	ret = pcpool_obj_alloc(b, PCPOOL_PCPU_LC_LARGE, &m);
	if (ret) {
		pcpool_obj_free(b, a, PCPOOL_PCPU_LC_SMALL);
		return ret;
	}
	if (b->id == PCPOOL_BACKEND_PCPU_RAW) {
		for_each_possible_cpu(cpu) {
			memset(per_cpu_ptr((s64 __percpu *)a.pcpu, cpu), 0,
			       sizeof(s64));
			memset(per_cpu_ptr((s64 __percpu *)m.pcpu, cpu), 0,
			       PCPOOL_PCPU_LC_WORDS * sizeof(s64));
		}
	}

	for (i = 0; i < ncpus; i++) {
		s64 *pm = per_cpu_ptr((s64 __percpu *)m.pcpu, cpus[i]);

		(*per_cpu_ptr((s64 __percpu *)a.pcpu, cpus[i]))++;
		for (w = 0; w < PCPOOL_PCPU_LC_WORDS; w++)
			pm[w] += w + 1;
	}

	for_each_possible_cpu(cpu) {
		const s64 *pm = per_cpu_ptr((s64 __percpu *)m.pcpu, cpu);

		sa += *per_cpu_ptr((s64 __percpu *)a.pcpu, cpu);
		for (w = 0; w < PCPOOL_PCPU_LC_WORDS; w++)
			sm[w] += pm[w];
	}
	bad = sa != ncpus;
	for (w = 0; w < PCPOOL_PCPU_LC_WORDS; w++)
		bad |= sm[w] != (s64)ncpus * (w + 1);

	if (b->id == PCPOOL_BACKEND_PCPU_CONSTRUCTED) {
		/* the destructor: one write per counter makes the parts cancel */
		s64 *pm = per_cpu_ptr((s64 __percpu *)m.pcpu, cpus[0]);

		*per_cpu_ptr((s64 __percpu *)a.pcpu, cpus[0]) -= sa;
		for (w = 0; w < PCPOOL_PCPU_LC_WORDS; w++)
			pm[w] -= sm[w];
	}
	pcpool_obj_free(b, m, PCPOOL_PCPU_LC_LARGE);
	pcpool_obj_free(b, a, PCPOOL_PCPU_LC_SMALL);
	return bad ? -EIO : 0;
}

static int pcpool_pcpu_run_lifecycle(struct pcpool_session *s,
				     struct pcpool_backend *b,
				     struct pcpool_run *r)
{
	unsigned long pages = pcpool_obj_pages(b, PCPOOL_PCPU_LC_SMALL) +
			      pcpool_obj_pages(b, PCPOOL_PCPU_LC_LARGE);
	unsigned int *cpus, i;
	int ret = 0, cpu;
	u64 n, t0;

	if (!r->batch || r->batch > nr_cpu_ids ||
	    r->batch > num_possible_cpus())
		return -EINVAL;
	cpus = kmalloc_array(r->batch, sizeof(*cpus), GFP_KERNEL);
	if (!cpus)
		return -ENOMEM;
	/* this CPU, then the next possible ones: where the process runs */
	cpu = r->cpu;
	for (i = 0; i < r->batch; i++) {
		cpus[i] = cpu;
		cpu = cpumask_next(cpu, cpu_possible_mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(cpu_possible_mask);
	}
	ret = pcpool_charge(s, pages);
	if (ret)
		goto out;

	t0 = ktime_get_ns();
	for (n = 0; n < r->ops; n++) {
		ret = pcpool_pcpu_lifecycle_one(b, cpus, r->batch);
		if (ret)
			break;
		if ((n & PCPOOL_PCPU_YIELD_MASK) == PCPOOL_PCPU_YIELD_MASK) {
			ret = pcpool_yield();
			if (ret) {
				n++;
				break;
			}
		}
	}
	r->ns = ktime_get_ns() - t0;
	r->done = n;
	pcpool_uncharge(s, pages);
out:
	kfree(cpus);
	return ret;
}

struct pcpool_pcpu_sized {
	void __percpu *p;
	u32 size;
	u32 align;
	u32 shift;
};

/* xorshift64*: the same sequence for every backend, no shared state. */
static u32 pcpool_pcpu_rand(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (u32)((x * 0x2545f4914f6cdd1dULL) >> 32);
}

static int pcpool_pcpu_run_sizes(struct pcpool_session *s,
				 struct pcpool_backend *b,
				 struct pcpool_run *r)
{
	u64 state = PCPOOL_PCPU_SIZES_SEED, done = 0, ns = 0, t0;
	struct pcpool_pcpu_sized *objs;
	unsigned long pages;
	unsigned int i, j, n;
	int ret = 0;

	if (!r->batch || r->batch > PCPOOL_MAX_BATCH)
		return -EINVAL;
	objs = kvmalloc_array(min_t(u64, r->batch, r->ops), sizeof(*objs),
			      GFP_KERNEL);
	if (!objs)
		return -ENOMEM;

	while (done < r->ops) {
		n = min_t(u64, r->batch, r->ops - done);
		pages = 0;
		for (i = 0; i < n; i++) {
			struct pcpool_pcpu_sized *o = &objs[i];

			o->size = 1 + pcpool_pcpu_rand(&state) %
				      PCPOOL_PCPU_SIZES_MAX;
			o->align = 2U << (pcpool_pcpu_rand(&state) % 11);
			o->shift = pcpool_pcpu_class(o->size, o->align);
			pages += pcpool_obj_pages(b, o->shift);
		}
		ret = pcpool_charge(s, pages);
		if (ret)
			break;

		t0 = ktime_get_ns();
		for (i = 0; i < n; i++) {
			ret = pcpool_pcpu_alloc_sized(b, objs[i].size,
						      objs[i].align,
						      objs[i].shift,
						      &objs[i].p);
			if (ret)
				break;
			if ((i & PCPOOL_PCPU_YIELD_MASK) == PCPOOL_PCPU_YIELD_MASK) {
				ret = pcpool_yield();
				if (ret) {
					i++;
					break;
				}
			}
		}
		for (j = 0; j < i; j++)
			pcpool_pcpu_free_sized(b, objs[j].shift, objs[j].p);
		ns += ktime_get_ns() - t0;
		pcpool_uncharge(s, pages);
		done += i;
		if (ret)
			break;
		ret = pcpool_yield();
		if (ret)
			break;
	}
	r->ns = ns;
	r->done = done;
	kvfree(objs);
	return ret;
}

bool pcpool_pcpu_workload(u32 workload)
{
	return workload == PCPOOL_WL_PCPU_LIFECYCLE ||
	       workload == PCPOOL_WL_PCPU_SIZES;
}

/*
 * RUN for the per-CPU workloads.  The common code has checked flags,
 * reserved fields, the backend and that the workload is known.
 */
int pcpool_pcpu_cmd_run(struct pcpool_session *s, struct pcpool_backend *b,
			struct pcpool_run *r)
{
	int ret;

	/* no latency histogram or seed here: the sequence is fixed */
	if (!b->ops->pcpu || r->order || r->flags || r->hist || r->seed)
		return -EINVAL;
	if (!r->ops || r->ops > PCPOOL_MAX_RUN_OPS)
		return -EINVAL;
	if (r->workload == PCPOOL_WL_PCPU_LIFECYCLE)
		ret = pcpool_pcpu_run_lifecycle(s, b, r);
	else
		ret = pcpool_pcpu_run_sizes(s, b, r);
	r->cpu_end = raw_smp_processor_id();
	return ret;
}

/* ---- shrinker ---- */

#define PCPOOL_PCPU_NR_CACHES	(PCPOOL_PCPU_NR_MODES * PCPOOL_PCPU_NR_CLASSES)

/* Cache @k of all pools' caches (0 .. NR_CACHES - 1); NULL: no such pool. */
static struct pcpool_pcpu_cache *pcpool_pcpu_cache_nr(unsigned int k)
{
	struct pcpool_pcpu_pool *pool =
		READ_ONCE(pcpool_pcpu_pools[k / PCPOOL_PCPU_NR_CLASSES]);

	return pool ? pool->cache[k % PCPOOL_PCPU_NR_CLASSES] : NULL;
}

static unsigned long pcpool_pcpu_reclaimable(void)
{
	struct pcpool_pcpu_cache *c;
	unsigned long chunks = 0;
	unsigned int k;

	for (k = 0; k < PCPOOL_PCPU_NR_CACHES; k++) {
		c = pcpool_pcpu_cache_nr(k);
		if (c)
			chunks += pcpool_pcpu_shrink_count(c);
	}
	return chunks * pcpool_nr_possible_cpus;
}

/* Give back up to @want pages (0: all).  pcpool_pcpu_lock held. */
static unsigned long pcpool_pcpu_reclaim(unsigned long want, bool drain_cpus)
{
	struct pcpool_pcpu_cache *c;
	unsigned long pages = 0;
	unsigned int k;

	lockdep_assert_held(&pcpool_pcpu_lock);
	for (k = 0; k < PCPOOL_PCPU_NR_CACHES; k++) {
		c = pcpool_pcpu_cache_nr(k);
		if (!c)
			continue;
		pages += pcpool_pcpu_shrink(c, drain_cpus) *
			 pcpool_nr_possible_cpus;
		if (want && pages >= want)
			break;
	}
	return pages;
}

static unsigned long pcpool_pcpu_shrink_count_cb(struct shrinker *sh,
						 struct shrink_control *sc)
{
	return pcpool_pcpu_reclaimable();
}

static unsigned long pcpool_pcpu_shrink_scan_cb(struct shrinker *sh,
						struct shrink_control *sc)
{
	unsigned long pages;

	if (!mutex_trylock(&pcpool_pcpu_lock))
		return SHRINK_STOP;
	pages = pcpool_pcpu_reclaim(sc->nr_to_scan, false);
	WRITE_ONCE(pcpool_pcpu_shrink_scans, pcpool_pcpu_shrink_scans + 1);
	WRITE_ONCE(pcpool_pcpu_shrink_pages, pcpool_pcpu_shrink_pages + pages);
	mutex_unlock(&pcpool_pcpu_lock);
	return pages;
}

/* 6.7 replaced register_shrinker() with shrinker_alloc() */
#ifdef SHRINKER_ALLOCATED
static struct shrinker *pcpool_pcpu_shrinker;

static int pcpool_pcpu_shrinker_register(void)
{
	pcpool_pcpu_shrinker = shrinker_alloc(0, "pcpool-pcpu");
	if (!pcpool_pcpu_shrinker)
		return -ENOMEM;
	pcpool_pcpu_shrinker->count_objects = pcpool_pcpu_shrink_count_cb;
	pcpool_pcpu_shrinker->scan_objects = pcpool_pcpu_shrink_scan_cb;
	shrinker_register(pcpool_pcpu_shrinker);
	return 0;
}

static void pcpool_pcpu_shrinker_unregister(void)
{
	shrinker_free(pcpool_pcpu_shrinker);
	pcpool_pcpu_shrinker = NULL;
}
#else
static struct shrinker pcpool_pcpu_shrinker = {
	.count_objects	= pcpool_pcpu_shrink_count_cb,
	.scan_objects	= pcpool_pcpu_shrink_scan_cb,
	.seeks		= DEFAULT_SEEKS,
};

static int pcpool_pcpu_shrinker_register(void)
{
	return register_shrinker(&pcpool_pcpu_shrinker, "pcpool-pcpu");
}

static void pcpool_pcpu_shrinker_unregister(void)
{
	unregister_shrinker(&pcpool_pcpu_shrinker);
}
#endif

/* ---- debugfs: /sys/kernel/debug/pcpool/pcpu/ ---- */

static struct dentry *pcpool_pcpu_dir;

static const u32 pcpool_pcpu_cache_ids[] = {
	PCPOOL_BACKEND_PCPU_RAW,
	PCPOOL_BACKEND_PCPU_ZEROED,
	PCPOOL_BACKEND_PCPU_CONSTRUCTED,
};

/* cpus: per backend and CPU, magazine hits and misses over all classes. */
static int pcpool_pcpu_cpus_show(struct seq_file *m, void *v)
{
	unsigned int k, i;
	int cpu;

	seq_puts(m, "backend cpu alloc_hits alloc_misses free_hits free_misses\n");
	for (k = 0; k < ARRAY_SIZE(pcpool_pcpu_cache_ids); k++) {
		struct pcpool_backend *b = pcpool_backend_get(pcpool_pcpu_cache_ids[k]);
		struct pcpool_pcpu_pool *pool;

		if (!b)
			continue;
		pool = pcpool_pcpu_pool_of(b->id);
		for_each_possible_cpu(cpu) {
			u64 ah = 0, am = 0, fh = 0, fm = 0;

			for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++) {
				const struct pcpool_pcpu_cpu_stats *st =
					&pool->cache[i]->cpu[cpu].st;

				ah += READ_ONCE(st->alloc_hits);
				am += READ_ONCE(st->alloc_depot) +
				      READ_ONCE(st->alloc_refill);
				fh += READ_ONCE(st->free_hits);
				fm += READ_ONCE(st->free_depot) +
				      READ_ONCE(st->free_flush) +
				      READ_ONCE(st->free_direct);
			}
			seq_printf(m, "%s %d %llu %llu %llu %llu\n",
				   b->ops->name, cpu, ah, am, fh, fm);
		}
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_pcpu_cpus);

/* classes: per backend and size class, where the memory is. */
static int pcpool_pcpu_classes_show(struct seq_file *m, void *v)
{
	unsigned int k, i;

	seq_puts(m, "backend size chunks empty_chunks chunk_free depot_objs mag_objs in_use chunk_grow chunk_shrink\n");
	for (k = 0; k < ARRAY_SIZE(pcpool_pcpu_cache_ids); k++) {
		struct pcpool_backend *b = pcpool_backend_get(pcpool_pcpu_cache_ids[k]);
		struct pcpool_pcpu_pool *pool;

		if (!b)
			continue;
		pool = pcpool_pcpu_pool_of(b->id);
		for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++) {
			struct pcpool_pcpu_cache *c = pool->cache[i];
			struct pcpool_pcpu_totals t;

			pcpool_pcpu_get_totals(c, &t);
			seq_printf(m, "%s %u %lu %lu %lu %lu %lu %lu %llu %llu\n",
				   b->ops->name, c->size, t.nr_chunks,
				   t.nr_empty_chunks, t.chunk_free_objs,
				   t.depot_objs, t.mag_objs,
				   pcpool_pcpu_in_use(c), t.chunk_grow,
				   t.chunk_shrink);
		}
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_pcpu_classes);

static int pcpool_pcpu_shrink_stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "scans %llu\n", READ_ONCE(pcpool_pcpu_shrink_scans));
	seq_printf(m, "pages_freed %llu\n", READ_ONCE(pcpool_pcpu_shrink_pages));
	seq_printf(m, "reclaimable_pages %lu\n", pcpool_pcpu_reclaimable());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_pcpu_shrink_stats);

/* drain: write anything: empty every magazine and give back every free chunk. */
static ssize_t pcpool_pcpu_drain_write(struct file *file,
				       const char __user *buf, size_t len,
				       loff_t *ppos)
{
	mutex_lock(&pcpool_pcpu_lock);
	pcpool_pcpu_reclaim(0, true);
	mutex_unlock(&pcpool_pcpu_lock);
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

/* On the CPU the storage was freed on: is it back with cancelling parts? */
static int pcpool_pcpu_st_reuse(void *arg)
{
	struct pcpool_pcpu_cache *c = arg;
	void __percpu *p;
	s64 sum = 0;
	int cpu;

	if (pcpool_pcpu_alloc(c, &p))
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr((s64 __percpu *)p, cpu);
	pcpool_pcpu_free(c, p);
	return sum ? -EIO : 0;
}

/* Break one object's promise with verify on.  pcpool_pcpu_lock held. */
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
	PCPOOL_PCPU_ST(pcpool_pcpu_class(PAGE_SIZE / 2 + 1, 8) == -EINVAL,
		       "class: size above PAGE_SIZE/2");
	PCPOOL_PCPU_ST(pcpool_pcpu_class(8, 3) == -EINVAL,
		       "class: alignment not a power of two");
	PCPOOL_PCPU_ST(pcpool_pcpu_class(8, PAGE_SIZE) == -EINVAL,
		       "class: alignment above PAGE_SIZE/2");
	PCPOOL_PCPU_ST(pcpool_pcpu_class(3, 2048) == 11,
		       "class: alignment decides");

	mutex_lock(&pcpool_pcpu_lock);
	pool = pcpool_pcpu_pools[PCPOOL_PCPU_CONSTRUCTED];
	if (!pool) {
		mutex_unlock(&pcpool_pcpu_lock);
		seq_puts(m, "selftest: no pcpu-constructed backend\n");
		return 0;
	}
	c = pool->cache[0];
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st) {
		mutex_unlock(&pcpool_pcpu_lock);
		return -ENOMEM;
	}
	a = cpumask_first(cpu_online_mask);
	b = cpumask_next(a, cpu_online_mask);

	/* verify: a broken promise is counted (and repaired) */
	ret = pcpool_pcpu_st_verify(pool->cache[6 - PCPOOL_PCPU_MIN_SHIFT]);
	PCPOOL_PCPU_ST(!ret, "verify: a broken promise is counted on free");

	/* single-CPU: no per-CPU storage, exact */
	pcpool_pcpu_counter_init(&st->ctr, c);
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
			       pcpool_pcpu_counter_sum(&st->ctr) == 2930,
			       "counter: a second CPU upgrades it, sum exact");
		st->delta = 5;
		st->times = 14;
		smp_call_on_cpu(a, pcpool_pcpu_st_add, st, false);
		PCPOOL_PCPU_ST(pcpool_pcpu_counter_sum(&st->ctr) == 3000,
			       "counter: updates after the upgrade, sum exact");
		st->delta = 3000;
		ret = smp_call_on_cpu(b, pcpool_pcpu_st_destroy, st, false);
		PCPOOL_PCPU_ST(!ret, "counter: destroy returns the exact value");
		ret = smp_call_on_cpu(b, pcpool_pcpu_st_reuse, c, false);
		PCPOOL_PCPU_ST(!ret,
			       "counter: storage comes back with parts cancelling");
	} else {
		seq_puts(m, "skip counter upgrade: one online CPU\n");
		pcpool_pcpu_counter_destroy(&st->ctr);
	}
	kfree(st);
	mutex_unlock(&pcpool_pcpu_lock);
	seq_printf(m, "selftest: %d passed, %d failed\n", pass, fail);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_pcpu_selftest);

/*
 * A cache that must grow by @bytes the bound has no room for first makes
 * the other pools (backends) give back all they keep free: depot
 * magazines and free chunks.  Without it an idle pool that filled the
 * shared budget kept it, and every other pool gave each chunk back to
 * alloc_percpu() as soon as it was free, to obtain it again on the next
 * burst.  The grower's own pool is left alone: its other classes' free
 * objects are what it reuses next.  Per-CPU magazines are not touched
 * (no cross-CPU work).  Serialized with the shrinker and drains, and
 * skipped while one runs.
 */
static void pcpool_pcpu_budget_reclaim(struct pcpool_pcpu_budget *budget,
				       struct pcpool_pcpu_cache *grower,
				       unsigned long bytes)
{
	struct pcpool_pcpu_pool *pool;
	unsigned int mode, i;

	if (!mutex_trylock(&pcpool_pcpu_lock))
		return;
	for (mode = 0; mode < PCPOOL_PCPU_NR_MODES; mode++) {
		pool = pcpool_pcpu_pools[mode];
		if (!pool || pcpool_pcpu_pool_cache(pool, grower->shift) == grower)
			continue;
		for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++)
			pcpool_pcpu_shrink(pool->cache[i], false);
		if ((unsigned long)atomic_long_read(&budget->cached) + bytes <=
		    READ_ONCE(budget->max))
			break;
	}
	mutex_unlock(&pcpool_pcpu_lock);
}

/*
 * Unless given, the bound is 1/16 of RAM (at least 32 MiB): per-CPU memory
 * scales with the CPU count, and a bound that does not makes a working
 * set that fits at 2 CPUs thrash (a chunk obtained and given back per
 * burst) at 8.  The shrinker gives it back under memory pressure.
 */
static void pcpool_pcpu_default_budget(void)
{
	unsigned long kb;

	if (READ_ONCE(pcpu_max_cached_given))
		return;
	kb = (totalram_pages() << (PAGE_SHIFT - 10)) /
	     PCPOOL_PCPU_MAX_CACHED_RAM_DIV;
	kb = max(kb, PCPOOL_PCPU_MAX_CACHED_MIN_KB);
	WRITE_ONCE(pcpu_max_cached_kb, kb);
	WRITE_ONCE(pcpool_pcpu_budget.max, kb << 10);
}

/* ---- CPU hotplug ---- */

static enum cpuhp_state pcpool_pcpu_cpuhp;

/*
 * A dead CPU's magazines go to the depot, so its objects serve the other
 * CPUs instead of waiting for it to come back; when it does, it starts
 * with no magazine and refills from the depot.  Runs with the hotplug
 * lock held, which keeps drains and counts (pcpool_pcpu_on_cpu()) away;
 * the pools live from before this state is set up until after it is
 * removed.  pcpool_pcpu_lock is not taken: a drain holding it may be
 * waiting for the hotplug lock.
 */
static int pcpool_pcpu_cpu_dead_cb(unsigned int cpu)
{
	struct pcpool_pcpu_cache *c;
	unsigned int k;

	for (k = 0; k < PCPOOL_PCPU_NR_CACHES; k++) {
		c = pcpool_pcpu_cache_nr(k);
		if (c)
			pcpool_pcpu_cpu_dead(c, cpu);
	}
	return 0;
}

int pcpool_pcpu_register(void)
{
	struct dentry *parent;
	int ret;

	pcpool_pcpu_default_budget();
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "pcpool/pcpu:dead",
					NULL, pcpool_pcpu_cpu_dead_cb);
	if (ret < 0)
		return ret;
	pcpool_pcpu_cpuhp = ret;
	ret = pcpool_pcpu_shrinker_register();
	if (ret) {
		cpuhp_remove_state_nocalls(pcpool_pcpu_cpuhp);
		return ret;
	}
	parent = debugfs_lookup(KBUILD_MODNAME, NULL);
	if (IS_ERR_OR_NULL(parent))
		return 0;
	pcpool_pcpu_dir = debugfs_create_dir("pcpu", parent);
	dput(parent);
	debugfs_create_file("cpus", 0400, pcpool_pcpu_dir, NULL,
			    &pcpool_pcpu_cpus_fops);
	debugfs_create_file("classes", 0400, pcpool_pcpu_dir, NULL,
			    &pcpool_pcpu_classes_fops);
	debugfs_create_file("shrinker", 0400, pcpool_pcpu_dir, NULL,
			    &pcpool_pcpu_shrink_stats_fops);
	debugfs_create_file("drain", 0200, pcpool_pcpu_dir, NULL,
			    &pcpool_pcpu_drain_fops);
	debugfs_create_file("selftest", 0400, pcpool_pcpu_dir, NULL,
			    &pcpool_pcpu_selftest_fops);
	return 0;
}

void pcpool_pcpu_unregister(void)
{
	debugfs_remove_recursive(pcpool_pcpu_dir);
	pcpool_pcpu_dir = NULL;
	pcpool_pcpu_shrinker_unregister();
	cpuhp_remove_state_nocalls(pcpool_pcpu_cpuhp);
}
