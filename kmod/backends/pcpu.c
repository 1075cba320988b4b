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
 * pcpu-null         no allocator: fixed objects, the per-CPU workloads' floor
 *
 * The three caches share one budget for cached memory (pcpu_max_cached_kb),
 * one shrinker and one hotplug callback: the family below.  Chunks come
 * from alloc_percpu(), one page per CPU each; metadata (chunk descriptors,
 * magazines) from kmalloc().  A request's class is log2 of its size or
 * alignment, whichever is larger.  Documentation/percpu.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

#include "../param.h"
#include "pcpu.h"

#define PCPOOL_PCPU_GFP		(GFP_KERNEL | __GFP_NOWARN)

static void pcpool_pcpu_budget_reclaim(struct pcpool_pcpu_budget *budget,
				       struct pcpool_pcpu_cache *grower,
				       unsigned long bytes);

struct pcpool_pcpu_family pcpool_pcpu_family = {
	.lock = __MUTEX_INITIALIZER(pcpool_pcpu_family.lock),
	.budget = {
		.cached = ATOMIC_LONG_INIT(0),
		.max = 32UL << 20,
		.reclaim = pcpool_pcpu_budget_reclaim,
	},
};

static struct pcpool_shrinker pcpool_pcpu_shrinker;
static enum cpuhp_state pcpool_pcpu_cpuhp;

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
	WRITE_ONCE(pcpool_pcpu_family.budget.max,
		   kb > ULONG_MAX >> 10 ? ULONG_MAX : kb << 10);
	return 0;
}

PCPOOL_PARAM_OPS(pcpu_max_cached, pcpu_max_cached_set, param_get_ulong);
module_param_cb(pcpu_max_cached_kb, &pcpu_max_cached_param_ops,
		&pcpu_max_cached_kb, 0644);
MODULE_PARM_DESC(pcpu_max_cached_kb,
		 "Per-CPU caches: KiB (all CPUs' copies) of free objects kept in depots and chunks, shared by all caches; above it memory goes back to alloc_percpu at once (default: 1/16 of RAM, at least 32768)");

static bool pcpu_verify;

static int pcpu_verify_set(const char *val, const struct kernel_param *kp)
{
	int ret;

	mutex_lock(&pcpool_pcpu_family.lock);
	ret = param_set_bool(val, kp);
	if (!ret)
		pcpool_pcpu_apply_verify(READ_ONCE(pcpu_verify));
	mutex_unlock(&pcpool_pcpu_family.lock);
	return ret;
}

PCPOOL_PARAM_OPS(pcpu_verify, pcpu_verify_set, param_get_bool);
module_param_cb(pcpu_verify, &pcpu_verify_param_ops, &pcpu_verify, 0644);
MODULE_PARM_DESC(pcpu_verify,
		 "pcpu-constructed: check on every free that the object is back in its constructed state, count and repair violations (default off)");

/* ---- the chunk source: alloc_percpu() and kmalloc() ---- */

/* GFP_NOWAIT: alloc_percpu() then serves from populated pages, no mutex. */
static gfp_t pcpool_pcpu_gfp(bool nowait)
{
	return nowait ? GFP_NOWAIT | __GFP_NOWARN : PCPOOL_PCPU_GFP;
}

/* Whether @chunk's per-CPU memory is mapped in vmalloc space. */
static bool pcpool_pcpu_in_vmalloc(void __percpu *chunk)
{
	int cpu = cpumask_first(cpu_possible_mask);

	return is_vmalloc_addr(per_cpu_ptr(chunk, cpu));
}

static void __percpu *pcpool_pcpu_alloc_chunk(void *ctx, size_t size,
					      bool nowait)
{
	struct pcpool_pcpu_bk *bk = ctx;
	void __percpu *chunk;

	chunk = __alloc_percpu_gfp(size, PAGE_SIZE, pcpool_pcpu_gfp(nowait));
	if (chunk && pcpool_pcpu_in_vmalloc(chunk))
		atomic_long_inc(&bk->chunks_vmalloc);
	return chunk;
}

static void pcpool_pcpu_free_chunk(void *ctx, void __percpu *chunk)
{
	struct pcpool_pcpu_bk *bk = ctx;

	if (pcpool_pcpu_in_vmalloc(chunk))
		atomic_long_dec(&bk->chunks_vmalloc);
	free_percpu(chunk);
}

static void *pcpool_pcpu_meta_alloc(void *ctx, size_t size, bool nowait)
{
	return kmalloc(size, pcpool_pcpu_gfp(nowait));
}

static void pcpool_pcpu_meta_free(void *ctx, void *p)
{
	kfree(p);
}

/* The class of a request: its size and alignment, rounded up. */
static __always_inline unsigned int pcpool_pcpu_shift(size_t size,
						      size_t align)
{
	size_t m = max(size, align);

	if (m <= BIT(PCPOOL_PCPU_MIN_SHIFT))
		return PCPOOL_PCPU_MIN_SHIFT;
	return order_base_2(m);
}

static void pcpool_pcpu_show_req(struct seq_file *m, unsigned int i, u64 n)
{
	seq_printf(m, "req_%u %llu\n", 1U << (i + PCPOOL_PCPU_MIN_SHIFT), n);
}

/* ---- pcpu-kernel ---- */

/*
 * pcpu-kernel's requests by size class, per CPU.  The caches count every
 * request anyway (hits, misses, failures), so theirs are summed from
 * those instead of counted twice.
 */
struct pcpool_pcpu_hist {
	u64 req[PCPOOL_PCPU_NR_CLASSES];
};

static int pcpool_pcpu_kernel_init(struct pcpool_backend *b)
{
	b->priv = (void __force *)alloc_percpu(struct pcpool_pcpu_hist);
	return b->priv ? 0 : -ENOMEM;
}

static struct pcpool_pcpu_hist __percpu *pcpool_pcpu_hist(struct pcpool_backend *b)
{
	return (struct pcpool_pcpu_hist __percpu __force *)b->priv;
}

static void pcpool_pcpu_kernel_exit(struct pcpool_backend *b)
{
	free_percpu(pcpool_pcpu_hist(b));
}

static int pcpool_pcpu_kernel_alloc(struct pcpool_backend *b, size_t size,
				    size_t align, gfp_t gfp,
				    union pcpool_obj *obj)
{
	unsigned int shift = pcpool_pcpu_shift(size, align);

	this_cpu_inc(pcpool_pcpu_hist(b)->req[shift - PCPOOL_PCPU_MIN_SHIFT]);
	/* it aligns to a page at most; so do the caches' big classes */
	obj->pcpu = __alloc_percpu_gfp(size, min_t(size_t, align, PAGE_SIZE),
				       PCPOOL_PCPU_GFP);
	return obj->pcpu ? 0 : -ENOMEM;
}

static void pcpool_pcpu_kernel_free(struct pcpool_backend *b,
				    union pcpool_obj obj, size_t size,
				    size_t align)
{
	free_percpu(obj.pcpu);
}

static void pcpool_pcpu_kernel_show(struct pcpool_backend *b,
				    struct seq_file *m)
{
	unsigned int i;
	int cpu;

	for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++) {
		u64 sum = 0;

		for_each_possible_cpu(cpu)
			sum += READ_ONCE(per_cpu_ptr(pcpool_pcpu_hist(b), cpu)->req[i]);
		pcpool_pcpu_show_req(m, i, sum);
	}
}

const struct pcpool_backend_ops pcpool_pcpu_kernel_ops = {
	.name		= "pcpu-kernel",
	.kind		= PCPOOL_BK_PCPU,
	.contents	= PCPOOL_CONTENTS_ZERO,
	.max_order	= PCPOOL_PCPU_MAX_SHIFT,
	.init		= pcpool_pcpu_kernel_init,
	.exit		= pcpool_pcpu_kernel_exit,
	.alloc		= pcpool_pcpu_kernel_alloc,
	.free		= pcpool_pcpu_kernel_free,
	.show_counters	= pcpool_pcpu_kernel_show,
	.counter	= &pcpool_pcpu_kernel_counter,
};

/* ---- pcpu-null ---- */

/*
 * The floor of the per-CPU workloads, as null is of the page ones: the
 * same bookkeeping and the same per-CPU memory to write, no allocator.
 * Each class up to 64 B has a region of its own, page aligned, with a
 * line per CPU: the calling CPU's object is the start of its line.  So a
 * process's objects of two classes sit on two pages of each unit, as they
 * do in the caches (a chunk per class), and what LIFECYCLE writes on one
 * CPU's behalf shares no line with another's.  That matters: in a TCG
 * guest, putting LIFECYCLE's two objects on one page halves what a
 * process costs (Documentation/scaling.rst).  Each bigger class is one
 * object every CPU shares (no workload writes those).  Objects alias:
 * two live objects of one class on one CPU are one object, as null's
 * pages are one cookie.  Their words cancel, as pcpu-constructed's do,
 * so LIFECYCLE does the same work on them and checks its sums.
 */
#define PCPOOL_PCPU_NULL_LINE		64U
#define PCPOOL_PCPU_NULL_SMALL_SHIFT	6U	/* classes 8..64 B per CPU */
#define PCPOOL_PCPU_NULL_NR_SMALL	\
	(PCPOOL_PCPU_NULL_SMALL_SHIFT - PCPOOL_PCPU_MIN_SHIFT + 1)

struct pcpool_pcpu_null {
	unsigned int nr_lines;		/* per small region: CPUs beyond share */
	void __percpu *small[PCPOOL_PCPU_NULL_NR_SMALL];
	void __percpu *big[PCPOOL_PCPU_MAX_SHIFT - PCPOOL_PCPU_NULL_SMALL_SHIFT];
};

static void pcpool_pcpu_null_exit(struct pcpool_backend *b)
{
	struct pcpool_pcpu_null *n = b->priv;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(n->small); i++)
		free_percpu(n->small[i]);
	for (i = 0; i < ARRAY_SIZE(n->big); i++)
		free_percpu(n->big[i]);
	kfree(n);
}

static int pcpool_pcpu_null_init(struct pcpool_backend *b)
{
	struct pcpool_pcpu_null *n = kzalloc(sizeof(*n), GFP_KERNEL);
	bool ok = true;
	unsigned int i;
	size_t size;

	if (!n)
		return -ENOMEM;
	b->priv = n;
	/* each region one allocation of at most PCPU_MIN_UNIT_SIZE */
	n->nr_lines = min_t(unsigned int, nr_cpu_ids,
			    PCPU_MIN_UNIT_SIZE / PCPOOL_PCPU_NULL_LINE);
	for (i = 0; i < ARRAY_SIZE(n->small) && ok; i++) {
		n->small[i] = __alloc_percpu(n->nr_lines * PCPOOL_PCPU_NULL_LINE,
					     PAGE_SIZE);
		ok = n->small[i];
	}
	for (i = 0; i < ARRAY_SIZE(n->big) && ok; i++) {
		size = BIT(PCPOOL_PCPU_NULL_SMALL_SHIFT + 1 + i);
		n->big[i] = __alloc_percpu(size, min_t(size_t, size, PAGE_SIZE));
		ok = n->big[i];
	}
	if (!ok) {
		pcpool_pcpu_null_exit(b);
		return -ENOMEM;
	}
	return 0;
}

static int pcpool_pcpu_null_alloc(struct pcpool_backend *b, size_t size,
				  size_t align, gfp_t gfp,
				  union pcpool_obj *obj)
{
	struct pcpool_pcpu_null *n = b->priv;
	unsigned int shift = pcpool_pcpu_shift(size, align);

	if (shift > PCPOOL_PCPU_NULL_SMALL_SHIFT) {
		obj->pcpu = n->big[shift - PCPOOL_PCPU_NULL_SMALL_SHIFT - 1];
		return 0;
	}
	obj->pcpu = (char __percpu *)n->small[shift - PCPOOL_PCPU_MIN_SHIFT] +
		    (raw_smp_processor_id() % n->nr_lines) *
		    PCPOOL_PCPU_NULL_LINE;
	return 0;
}

static void pcpool_pcpu_null_free(struct pcpool_backend *b,
				  union pcpool_obj obj, size_t size,
				  size_t align)
{
}

const struct pcpool_backend_ops pcpool_pcpu_null_ops = {
	.name		= "pcpu-null",
	.kind		= PCPOOL_BK_PCPU,
	.contents	= PCPOOL_CONTENTS_CANCELLING,
	.max_order	= PCPOOL_PCPU_MAX_SHIFT,
	.init		= pcpool_pcpu_null_init,
	.exit		= pcpool_pcpu_null_exit,
	.alloc		= pcpool_pcpu_null_alloc,
	.free		= pcpool_pcpu_null_free,
};

/* ---- the family: shrinker, hotplug ---- */

struct pcpool_pcpu_pool *pcpool_pcpu_pool_of(enum pcpool_pcpu_mode mode)
{
	struct pcpool_pcpu_bk *bk = READ_ONCE(pcpool_pcpu_family.bk[mode]);

	return bk ? bk->pool : NULL;
}

struct pcpool_pcpu_cache *pcpool_pcpu_cache_nr(unsigned int k)
{
	struct pcpool_pcpu_bk *bk =
		READ_ONCE(pcpool_pcpu_family.bk[k / PCPOOL_PCPU_NR_CLASSES]);

	return bk ? bk->pool->cache[k % PCPOOL_PCPU_NR_CLASSES] : NULL;
}

unsigned long pcpool_pcpu_reclaimable(void)
{
	struct pcpool_pcpu_cache *c;
	unsigned long pages = 0;
	unsigned int k;

	for (k = 0; k < PCPOOL_PCPU_NR_CACHES; k++) {
		c = pcpool_pcpu_cache_nr(k);
		if (c)
			pages += pcpool_pcpu_shrink_count(c) *
				 pcpool_pcpu_chunk_pages(c);
	}
	return pages;
}

unsigned long pcpool_pcpu_reclaim(unsigned long want, bool drain_cpus)
{
	struct pcpool_pcpu_cache *c;
	unsigned long pages = 0;
	unsigned int k;

	lockdep_assert_held(&pcpool_pcpu_family.lock);
	for (k = 0; k < PCPOOL_PCPU_NR_CACHES; k++) {
		c = pcpool_pcpu_cache_nr(k);
		if (!c)
			continue;
		/* a bounded ask frees what it asks for, not whole caches */
		if (want && !drain_cpus)
			pages += pcpool_pcpu_shrink_nr(c,
				DIV_ROUND_UP(want - pages,
					     pcpool_pcpu_chunk_pages(c))) *
				 pcpool_pcpu_chunk_pages(c);
		else
			pages += pcpool_pcpu_shrink(c, drain_cpus) *
				 pcpool_pcpu_chunk_pages(c);
		if (want && pages >= want)
			break;
	}
	return pages;
}

void pcpool_pcpu_apply_verify(bool on)
{
	struct pcpool_pcpu_bk *bk = pcpool_pcpu_family.bk[PCPOOL_PCPU_CONSTRUCTED];
	unsigned int i;

	lockdep_assert_held(&pcpool_pcpu_family.lock);
	if (bk)
		for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++)
			pcpool_pcpu_set_verify(bk->pool->cache[i], on);
}

static unsigned long pcpool_pcpu_shrink_count_cb(void *fam)
{
	return pcpool_pcpu_reclaimable();
}

static unsigned long pcpool_pcpu_shrink_scan_cb(void *priv, unsigned long nr)
{
	struct pcpool_pcpu_family *fam = priv;
	unsigned long pages;

	if (!mutex_trylock(&fam->lock))
		return SHRINK_STOP;
	pages = pcpool_pcpu_reclaim(nr, false);
	WRITE_ONCE(fam->shrink_scans, fam->shrink_scans + 1);
	WRITE_ONCE(fam->shrink_pages, fam->shrink_pages + pages);
	mutex_unlock(&fam->lock);
	return pages;
}

static const struct pcpool_shrinker_ops pcpool_pcpu_shrinker_ops = {
	.name	= "pcpool-pcpu",
	.count	= pcpool_pcpu_shrink_count_cb,
	.scan	= pcpool_pcpu_shrink_scan_cb,
};

/*
 * A dead CPU's magazines go to the depot, so its objects serve the other
 * CPUs instead of waiting for it to come back; when it does, it starts
 * with no magazine and refills from the depot.  Runs with the hotplug
 * lock held, which keeps drains and counts (pcpool_pcpu_on_cpu()) away;
 * the pools live from before this state is set up until after it is
 * removed.  The family lock is not taken: a drain holding it may be
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
	struct pcpool_pcpu_family *fam =
		container_of(budget, struct pcpool_pcpu_family, budget);
	struct pcpool_pcpu_pool *pool;
	unsigned int mode, i;

	if (!mutex_trylock(&fam->lock))
		return;
	for (mode = 0; mode < PCPOOL_PCPU_NR_MODES; mode++) {
		pool = pcpool_pcpu_pool_of(mode);
		if (!pool || pcpool_pcpu_pool_cache(pool, grower->shift) == grower)
			continue;
		for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++)
			pcpool_pcpu_shrink(pool->cache[i], false);
		if ((unsigned long)atomic_long_read(&budget->cached) + bytes <=
		    pcpool_pcpu_budget_limit(budget))
			break;
	}
	mutex_unlock(&fam->lock);
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
	WRITE_ONCE(pcpool_pcpu_family.budget.max, kb << 10);
}

/* The first cache backend to load sets the family up.  Family lock held. */
static int pcpool_pcpu_family_get(void)
{
	int ret;

	if (pcpool_pcpu_family.users++)
		return 0;
	pcpool_pcpu_default_budget();
	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "pcpool/pcpu:dead",
					NULL, pcpool_pcpu_cpu_dead_cb);
	if (ret < 0)
		goto err;
	pcpool_pcpu_cpuhp = ret;
	ret = pcpool_shrinker_register(&pcpool_pcpu_shrinker,
				       &pcpool_pcpu_shrinker_ops,
				       &pcpool_pcpu_family);
	if (!ret) {
		pcpool_pcpu_decay_start();
		return 0;
	}
	cpuhp_remove_state_nocalls(pcpool_pcpu_cpuhp);
err:
	pcpool_pcpu_family.users--;
	return ret;
}

/* Family lock held. */
static void pcpool_pcpu_family_put(void)
{
	if (--pcpool_pcpu_family.users)
		return;
	pcpool_pcpu_decay_stop();
	pcpool_shrinker_unregister(&pcpool_pcpu_shrinker);
	cpuhp_remove_state_nocalls(pcpool_pcpu_cpuhp);
	pcpool_pcpu_family.dir = NULL;
}

/* ---- the three caches ---- */

/* Each cache backend's mode is what its objects hold when handed out. */
static enum pcpool_pcpu_mode pcpool_pcpu_mode_of(const struct pcpool_backend *b)
{
	switch (b->ops->contents) {
	case PCPOOL_CONTENTS_UNDEFINED:
		return PCPOOL_PCPU_RAW;
	case PCPOOL_CONTENTS_CANCELLING:
		return PCPOOL_PCPU_CONSTRUCTED;
	default:
		return PCPOOL_PCPU_ZEROED;
	}
}

static int pcpool_pcpu_bk_pool(struct pcpool_pcpu_bk *bk)
{
	struct pcpool_pcpu_cache_config cfg = {
		.nr_cpus	= nr_cpu_ids,
		.mode		= bk->mode,
		.src		= {
			.alloc_chunk	= pcpool_pcpu_alloc_chunk,
			.free_chunk	= pcpool_pcpu_free_chunk,
			.meta_alloc	= pcpool_pcpu_meta_alloc,
			.meta_free	= pcpool_pcpu_meta_free,
			.ctx		= bk,
		},
		.budget		= &pcpool_pcpu_family.budget,
	};
	unsigned int shift;
	size_t size;
	int ret;

	size = pcpool_pcpu_pool_meta_size(&cfg);
	if (!size)
		return -EINVAL;
	bk->meta = kvzalloc(size, GFP_KERNEL);
	if (!bk->meta)
		return -ENOMEM;
	ret = pcpool_pcpu_pool_init(bk->meta, size, &cfg, &bk->pool);
	if (ret) {
		kvfree(bk->meta);
		return ret;
	}
	for (shift = PCPOOL_PCPU_MIN_SHIFT; shift <= PCPOOL_PCPU_MAX_SHIFT;
	     shift++)
		bk->cache[shift] = pcpool_pcpu_pool_cache(bk->pool, shift);
	return 0;
}

static int pcpool_pcpu_bk_init(struct pcpool_backend *b)
{
	struct pcpool_pcpu_family *fam = &pcpool_pcpu_family;
	struct pcpool_pcpu_bk *bk;
	int ret;

	bk = kzalloc(sizeof(*bk), GFP_KERNEL);
	if (!bk)
		return -ENOMEM;
	bk->b = b;
	bk->mode = pcpool_pcpu_mode_of(b);
	ret = pcpool_pcpu_bk_pool(bk);
	if (ret)
		goto free_bk;
	mutex_lock(&fam->lock);
	ret = pcpool_pcpu_family_get();
	if (!ret) {
		b->priv = bk;
		WRITE_ONCE(fam->bk[bk->mode], bk);
		/* pcpu_verify may be set already */
		if (bk->mode == PCPOOL_PCPU_CONSTRUCTED)
			pcpool_pcpu_apply_verify(READ_ONCE(pcpu_verify));
	}
	mutex_unlock(&fam->lock);
	if (!ret)
		return 0;
	pcpool_pcpu_pool_destroy(bk->pool);
	kvfree(bk->meta);
free_bk:
	kfree(bk);
	return ret;
}

static void pcpool_pcpu_bk_exit(struct pcpool_backend *b)
{
	struct pcpool_pcpu_family *fam = &pcpool_pcpu_family;
	struct pcpool_pcpu_bk *bk = b->priv;
	unsigned long leaked;
	u64 grow = 0, shrink = 0;
	unsigned int i;

	mutex_lock(&fam->lock);
	WRITE_ONCE(fam->bk[bk->mode], NULL);
	pcpool_pcpu_family_put();
	mutex_unlock(&fam->lock);

	leaked = pcpool_pcpu_pool_destroy(bk->pool);
	for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++) {
		struct pcpool_pcpu_totals t;

		pcpool_pcpu_get_totals(bk->pool->cache[i], &t);
		grow += t.chunk_grow;
		shrink += t.chunk_shrink;
	}
	if (leaked)
		pr_err("pcpu cache %u: %lu objects still allocated at unload\n",
		       b->id, leaked);
	/* The counters prove every chunk went back to alloc_percpu. */
	pr_info("pcpu cache %u: %llu chunks obtained, %llu returned\n",
		b->id, grow, shrink);
	kvfree(bk->meta);
	kfree(bk);
}

static int pcpool_pcpu_bk_alloc(struct pcpool_backend *b, size_t size,
				size_t align, gfp_t gfp, union pcpool_obj *obj)
{
	struct pcpool_pcpu_bk *bk = b->priv;

	return pcpool_pcpu_alloc(bk->cache[pcpool_pcpu_shift(size, align)],
				 &obj->pcpu);
}

static void pcpool_pcpu_bk_free(struct pcpool_backend *b,
				union pcpool_obj obj, size_t size, size_t align)
{
	struct pcpool_pcpu_bk *bk = b->priv;

	pcpool_pcpu_free(bk->cache[pcpool_pcpu_shift(size, align)], obj.pcpu);
}

/* The family's files, once, beside the first cache's directory. */
static void pcpool_pcpu_bk_debugfs(struct pcpool_backend *b,
				   struct dentry *dir)
{
	mutex_lock(&pcpool_pcpu_family.lock);
	if (!pcpool_pcpu_family.dir)
		pcpool_pcpu_debugfs_init(dir->d_parent);
	mutex_unlock(&pcpool_pcpu_family.lock);
}

static void pcpool_pcpu_bk_show(struct pcpool_backend *b,
				struct seq_file *m)
{
	struct pcpool_pcpu_bk *bk = b->priv;
	struct pcpool_pcpu_pool *pool = bk->pool;
	struct pcpool_pcpu_totals sum = {}, t;
	unsigned long bytes_cached = 0, bytes_mags = 0, bytes_chunks = 0;
	u64 req[PCPOOL_PCPU_NR_CLASSES];
	unsigned int i, e;

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
		for (e = 0; e < PCPOOL_PCPU_NR_DEPOT_EVENTS; e++)
			sum.depot_events[e] += t.depot_events[e];
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
		bytes_chunks += t.nr_chunks * c->chunk_size *
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
	for (e = 0; e < PCPOOL_PCPU_NR_DEPOT_EVENTS; e++)
		seq_printf(m, "%s %llu\n", pcpool_pcpu_depot_event_names[e],
			   sum.depot_events[e]);
	seq_printf(m, "depot_full_mags %lu\n", sum.nr_full_mags);
	seq_printf(m, "depot_empty_mags %lu\n", sum.nr_empty_mags);
	seq_printf(m, "chunk_grow %llu\n", sum.chunk_grow);
	seq_printf(m, "chunk_grow_failed %llu\n", sum.chunk_grow_failed);
	seq_printf(m, "chunk_shrink %llu\n", sum.chunk_shrink);
	seq_printf(m, "chunk_refills %llu\n", sum.chunk_refills);
	seq_printf(m, "chunk_flushes %llu\n", sum.chunk_flushes);
	seq_printf(m, "chunks %lu\n", sum.nr_chunks);
	seq_printf(m, "chunks_vmalloc %ld\n", atomic_long_read(&bk->chunks_vmalloc));
	seq_printf(m, "bytes_chunks %lu\n", bytes_chunks);
	seq_printf(m, "bytes_cached %lu\n", bytes_cached);
	seq_printf(m, "bytes_magazines %lu\n", bytes_mags);
	/* adds and subs from different CPUs land in any order: hide a dip below 0 */
	seq_printf(m, "budget_cached_bytes %ld\n",
		   max(atomic_long_read(&pcpool_pcpu_family.budget.cached), 0L));
	seq_printf(m, "budget_max_bytes %lu\n",
		   READ_ONCE(pcpool_pcpu_family.budget.max));
	seq_printf(m, "zeroed_copies %llu\n", sum.st.zeroed_copies);
	seq_printf(m, "verify_failures %llu\n", sum.st.verify_failures);
	seq_printf(m, "bad_frees %llu\n", sum.bad_frees);
	seq_printf(m, "cpu_dead_objs %llu\n", sum.st.dead_objs);
	for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++)
		pcpool_pcpu_show_req(m, i, req[i]);
}

#define PCPOOL_PCPU_CACHE_OPS(lname, how, ctr)				\
const struct pcpool_backend_ops pcpool_pcpu_##lname##_ops = {		\
	.name		= "pcpu-" #lname,				\
	.kind		= PCPOOL_BK_PCPU,				\
	.contents	= how,						\
	.max_order	= PCPOOL_PCPU_MAX_SHIFT,			\
	.init		= pcpool_pcpu_bk_init,			\
	.exit		= pcpool_pcpu_bk_exit,			\
	.alloc		= pcpool_pcpu_bk_alloc,			\
	.free		= pcpool_pcpu_bk_free,			\
	.show_counters	= pcpool_pcpu_bk_show,			\
	.debugfs_init	= pcpool_pcpu_bk_debugfs,			\
	.counter	= ctr,						\
}

PCPOOL_PCPU_CACHE_OPS(raw, PCPOOL_CONTENTS_UNDEFINED, &pcpool_pcpu_dual_counter);
PCPOOL_PCPU_CACHE_OPS(zeroed, PCPOOL_CONTENTS_ZERO, &pcpool_pcpu_dual_counter);
PCPOOL_PCPU_CACHE_OPS(constructed, PCPOOL_CONTENTS_CANCELLING, NULL);
