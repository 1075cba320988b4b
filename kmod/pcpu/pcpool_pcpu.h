/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool per-CPU cache: a cached allocator of per-CPU memory.
 *
 * Objects are real per-CPU memory (void __percpu *, usable with
 * per_cpu_ptr() and this_cpu_*()), carved in power-of-two size classes from
 * PAGE_SIZE chunks that a chunk source obtains (in the kernel, from
 * alloc_percpu()).  Each CPU keeps two magazines of free objects in front
 * of a depot of full and empty magazines shared by all CPUs, so the chunk
 * source, and the kernel's pcpu_alloc_mutex behind it, is only touched to
 * grow or shrink.  Design, locking and cost model: Documentation/percpu.rst.
 *
 * Portable core: builds in the kernel (kmod/platform/kernel) and in
 * userspace (kmod/platform/user).  It never allocates memory itself: the
 * caller sizes the cache's own metadata with pcpool_pcpu_*_meta_size() and
 * hands it in, and chunk descriptors and magazines come from the source's
 * meta_alloc(), so tests can make every allocation fail.
 */
#ifndef _PCPOOL_PCPU_H
#define _PCPOOL_PCPU_H

#include "pcpool_pcpu_platform.h"

/*
 * Size classes 8 B .. 32 KiB, what alloc_percpu() serves (its
 * PCPU_MIN_UNIT_SIZE).  A chunk is one page per CPU up to PAGE_SIZE / 2;
 * classes of a page and more take 4 objects per chunk, at most
 * PCPOOL_PCPU_CHUNK_MAX (pcpool_pcpu_chunk_size()).  The source aligns
 * chunks to a page only (alloc_percpu() aligns to at most PAGE_SIZE), so
 * objects are aligned to min(size, PAGE_SIZE).
 */
#define PCPOOL_PCPU_MIN_SHIFT	3
#define PCPOOL_PCPU_MAX_SHIFT	15
#define PCPOOL_PCPU_NR_CLASSES	(PCPOOL_PCPU_MAX_SHIFT - PCPOOL_PCPU_MIN_SHIFT + 1)
#define PCPOOL_PCPU_CHUNK_SIZE	PAGE_SIZE
#define PCPOOL_PCPU_CHUNK_MAX	BIT(PCPOOL_PCPU_MAX_SHIFT)
#define PCPOOL_PCPU_BIG_OBJS	4U
#define PCPOOL_PCPU_MAG_MAX	256U
#define PCPOOL_PCPU_HASH_BITS_MAX 16U

/* What a freed object is guaranteed to hold when it is handed out again. */
enum pcpool_pcpu_mode {
	/* nothing: whatever the last owner left */
	PCPOOL_PCPU_RAW,
	/* all-zero on every CPU; the free path zeroes the copies not zero */
	PCPOOL_PCPU_ZEROED,
	/*
	 * the constructed state: the owner frees it in that state, so
	 * neither path does per-CPU work (a debug mode checks on free)
	 */
	PCPOOL_PCPU_CONSTRUCTED,
	PCPOOL_PCPU_NR_MODES,
};

/*
 * Where per-CPU memory and metadata come from.
 * @alloc_chunk: @size bytes per CPU, PAGE_SIZE aligned, zero on every
 *	possible CPU (as alloc_percpu() gives it), or NULL.  May sleep,
 *	unless @nowait: then it must not (GFP_NOWAIT), and may fail more.
 * @free_chunk: give back what @alloc_chunk returned.  Must not sleep.
 * @meta_alloc: @size bytes of ordinary memory, contents undefined, or
 *	NULL.  May sleep unless @nowait, as @alloc_chunk.
 * @meta_free: give back what @meta_alloc returned.  Must not sleep.
 * Called with no cache lock held, except the two frees (chunk lock or a
 * CPU's magazine lock may be held).
 */
struct pcpool_pcpu_source {
	void __percpu *(*alloc_chunk)(void *ctx, size_t size, bool nowait);
	void (*free_chunk)(void *ctx, void __percpu *chunk);
	void *(*meta_alloc)(void *ctx, size_t size, bool nowait);
	void (*meta_free)(void *ctx, void *p);
	void *ctx;
};

/*
 * The bound on cached memory, shared by any number of caches.  @cached
 * counts bytes (every CPU's copy) of free objects outside the per-CPU
 * magazines: in depot magazines and in free slots of chunks.  When it is
 * above the limit, @max plus @slack_pct percent of it
 * (pcpool_pcpu_budget_limit()), full magazines go back to their chunks
 * instead of the depot and chunks that become entirely free are given
 * back at once.  Memory pinned by chunks that still have an object in use
 * is not reclaimable and can keep @cached above the limit.
 *
 * The slack is an overshoot the free path allows so that a burst larger
 * than @max reuses what the last one freed instead of giving it back and
 * obtaining it again; whoever owns the budget trims the overshoot back to
 * @max once the caches are idle (pcpool_pcpu_trim()).  With @slack_pct 0
 * @max is enforced on every free.
 */
struct pcpool_pcpu_cache;

struct pcpool_pcpu_budget {
	atomic_long_t cached;
	unsigned long max;		/* bytes; READ_ONCE, may change any time */
	unsigned int slack_pct;		/* READ_ONCE, may change any time */
	/*
	 * Optional.  A cache about to grow to @bytes (all its chunks, which
	 * its frees will cache) that the budget has no room for calls it
	 * first, so that the free memory other caches keep (idle ones,
	 * typically) goes back and this one may keep what it frees later:
	 * without it the first cache to fill the budget keeps it, and every
	 * other one gives each chunk back as soon as it is free.  May sleep;
	 * no cache lock is held.  @grower is the caller.
	 */
	void (*reclaim)(struct pcpool_pcpu_budget *budget,
			struct pcpool_pcpu_cache *grower, unsigned long bytes);
};

/* Bytes the free path may cache: @max plus the slack, saturated. */
static inline unsigned long
pcpool_pcpu_budget_limit(const struct pcpool_pcpu_budget *budget)
{
	unsigned long max = READ_ONCE(budget->max);
	unsigned long pct = READ_ONCE(budget->slack_pct);
	unsigned long slack;

	if (max / 100 > ULONG_MAX / (pct ? pct : 1))
		return ULONG_MAX;
	slack = max / 100 * pct + max % 100 * pct / 100;
	return max + slack < max ? ULONG_MAX : max + slack;
}

struct pcpool_pcpu_cache_config {
	unsigned int shift;		/* object size 1 << shift, MIN..MAX_SHIFT */
	unsigned int nr_cpus;		/* CPU ids are 0..nr_cpus-1 */
	enum pcpool_pcpu_mode mode;
	bool verify;			/* CONSTRUCTED: check on free */
	unsigned int mag_size;		/* objects per magazine, 0: default */
	unsigned int hash_bits;		/* chunk lookup buckets, 0: default */
	/*
	 * CONSTRUCTED only, both optional.  @ctor puts a fresh object in its
	 * constructed state (default: leave the source's zeroes); it runs
	 * once per object, when its chunk is obtained, and again after a
	 * verify failure.  @check says whether a freed object is in that
	 * state (default: every 64-bit word sums to zero over the CPUs,
	 * which holds for zeroes and for counters whose parts cancel).
	 */
	void (*ctor)(void __percpu *obj, unsigned int size, void *arg);
	bool (*check)(void __percpu *obj, unsigned int size, void *arg);
	void *arg;
	struct pcpool_pcpu_source src;
	struct pcpool_pcpu_budget *budget;
};

/* See pcpool_stat_add() in the zone: one writer, racing readers. */
static inline void pcpool_pcpu_stat_add(u64 *stat, u64 val)
{
	WRITE_ONCE(*stat, READ_ONCE(*stat) + val);
}

/* A stack of free objects. */
struct pcpool_pcpu_mag {
	struct list_head list;		/* depot full or empty list */
	unsigned int nr;
	void __percpu *obj[];		/* mag_size slots */
};

/*
 * Per-CPU statistics, written by the holder of the CPU's lock into its own
 * slot with pcpool_pcpu_stat_inc(); readers use READ_ONCE().
 */
struct pcpool_pcpu_cpu_stats {
	u64 alloc_hits;		/* from a magazine of this CPU */
	u64 alloc_depot;	/* after taking a full magazine from the depot */
	u64 alloc_refill;	/* after refilling from chunks */
	u64 alloc_failed;	/* the source said no: -ENOMEM */
	u64 free_hits;		/* into a magazine of this CPU */
	u64 free_depot;		/* after trading a full magazine for an empty one */
	u64 free_flush;		/* after flushing a magazine to its chunks */
	u64 free_direct;	/* no magazine at all: straight to the chunk */
	u64 zeroed_copies;	/* ZEROED: per-CPU copies written on free */
	u64 verify_failures;	/* CONSTRUCTED + verify: bad state on free */
	u64 dead_objs;		/* taken from the magazines when it went offline */
};

/*
 * A CPU's magazines.  Only that CPU touches them, pinned
 * (pcpool_pcpu_get_cpu()); others go through pcpool_pcpu_on_cpu().
 */
struct pcpool_pcpu_cpu {
	struct pcpool_pcpu_mag *loaded;	/* objects come and go here first */
	struct pcpool_pcpu_mag *prev;	/* full or empty, swapped with loaded */
	struct pcpool_pcpu_cpu_stats st;
} ____cacheline_aligned_in_smp;

/* Per-CPU bytes of a chunk of class @shift. */
static inline unsigned long pcpool_pcpu_chunk_size(unsigned int shift)
{
	unsigned long big = (unsigned long)PCPOOL_PCPU_BIG_OBJS << shift;

	if (shift < PAGE_SHIFT)
		return PCPOOL_PCPU_CHUNK_SIZE;
	return big < PCPOOL_PCPU_CHUNK_MAX ? big : PCPOOL_PCPU_CHUNK_MAX;
}

/* chunk_size bytes per CPU and what is free in it. */
struct pcpool_pcpu_chunk {
	struct pcpool_pcpu_chunk *hnext;	/* hash chain */
	struct list_head list;		/* partial or empty list; full: none */
	void __percpu *base;
	unsigned int nr_free;
	unsigned int hint;		/* lowest free slot is >= hint */
	unsigned long map[];		/* bit set: slot free */
};

/*
 * Depot traffic, counted under the depot lock and reported under these
 * names (pcpool_pcpu_depot_event_names[]).
 */
enum pcpool_pcpu_depot_event {
	PCPOOL_PCPU_DEPOT_FULL_GET,	/* a full magazine taken */
	PCPOOL_PCPU_DEPOT_FULL_PUT,	/* a full magazine given */
	PCPOOL_PCPU_DEPOT_EMPTY_GET,
	PCPOOL_PCPU_DEPOT_EMPTY_PUT,
	PCPOOL_PCPU_MAGS_ALLOCATED,
	PCPOOL_PCPU_MAGS_FREED,
	PCPOOL_PCPU_NR_DEPOT_EVENTS
};

extern const char *const
pcpool_pcpu_depot_event_names[PCPOOL_PCPU_NR_DEPOT_EVENTS];

struct pcpool_pcpu_cache {
	/* Read-mostly after init. */
	unsigned int shift;
	unsigned int size;
	unsigned int nr_cpus;
	unsigned int nr_possible;
	unsigned int mag_size;
	unsigned int per_chunk;		/* objects per chunk */
	unsigned long chunk_size;	/* per-CPU bytes of a chunk */
	unsigned int hash_bits;
	enum pcpool_pcpu_mode mode;
	bool verify;			/* READ_ONCE: may be toggled any time */
	/*
	 * RAW, or CONSTRUCTED without verify: free is a bare push.  One flag
	 * so the inline free tests one byte, not the mode and verify.
	 */
	bool free_inline;		/* READ_ONCE, follows verify */
	unsigned long obj_bytes;	/* size * nr_possible: real bytes */
	void (*ctor)(void __percpu *obj, unsigned int size, void *arg);
	bool (*check)(void __percpu *obj, unsigned int size, void *arg);
	void *arg;
	struct pcpool_pcpu_source src;
	struct pcpool_pcpu_budget *budget;
	struct pcpool_pcpu_cpu *cpu;	/* [nr_cpus] */

	/* The depot. */
	spinlock_t depot_lock ____cacheline_aligned_in_smp;
	struct list_head full;		/* magazines holding objects */
	struct list_head empty;		/* magazines holding none */
	unsigned long nr_full;
	unsigned long nr_empty;
	unsigned long depot_objs;	/* objects in @full */
	u64 depot_events[PCPOOL_PCPU_NR_DEPOT_EVENTS];

	/* The chunks. */
	spinlock_t chunk_lock ____cacheline_aligned_in_smp;
	struct list_head partial;	/* some slots free */
	struct list_head empty_chunks;	/* every slot free */
	struct pcpool_pcpu_chunk **hash;	/* [1 << hash_bits] */
	unsigned long nr_chunks;
	unsigned long nr_empty_chunks;
	unsigned long chunk_free_objs;	/* free slots in all chunks */
	u64 chunk_grow;			/* alloc_chunk() calls that worked */
	u64 chunk_grow_failed;		/* alloc_chunk() or meta_alloc() said no */
	u64 chunk_shrink;		/* free_chunk() calls */
	u64 chunk_refills;		/* batches taken under the chunk lock */
	u64 chunk_flushes;		/* batches put back under the chunk lock */
	u64 bad_frees;			/* not an object of this cache, or free */
};

/* Metadata bytes for @cfg (0 if @cfg is invalid). */
size_t pcpool_pcpu_cache_meta_size(const struct pcpool_pcpu_cache_config *cfg);
/*
 * Lay the cache out in @buf (@size bytes from pcpool_pcpu_cache_meta_size(),
 * any alignment).  0 or -EINVAL.  Holds no memory until used.
 */
int pcpool_pcpu_cache_init(void *buf, size_t size,
			   const struct pcpool_pcpu_cache_config *cfg,
			   struct pcpool_pcpu_cache **cachep);
/*
 * Give everything back to the source.  Nothing may run on the cache.
 * Returns the number of objects still allocated (a caller bug, warned
 * once); their chunks are given back all the same.
 */
unsigned long pcpool_pcpu_cache_destroy(struct pcpool_pcpu_cache *c);

int pcpool_pcpu_alloc_slow(struct pcpool_pcpu_cache *c, void __percpu **objp,
			   bool nowait);
void pcpool_pcpu_free_slow(struct pcpool_pcpu_cache *c, void __percpu *obj,
			   bool prepared);

static __always_inline int __pcpool_pcpu_alloc(struct pcpool_pcpu_cache *c,
					       void __percpu **objp,
					       bool nowait)
{
	struct pcpool_pcpu_mag *m;
	unsigned int cpu = pcpool_pcpu_get_cpu();
	struct pcpool_pcpu_cpu *pc = &c->cpu[cpu];
	void __percpu *obj;

	m = pc->loaded;
	if (likely(m && m->nr)) {
		obj = m->obj[--m->nr];
		pcpool_pcpu_stat_add(&pc->st.alloc_hits, 1);
		pcpool_pcpu_put_cpu(cpu);
		pcpool_pcpu_unpoison(obj, c->size);
		*objp = obj;
		return 0;
	}
	pcpool_pcpu_put_cpu(cpu);
	return pcpool_pcpu_alloc_slow(c, objp, nowait);
}

/*
 * One object.  0, or -ENOMEM when the source fails.  May sleep when the
 * cache must grow; never sleeps with a lock held.  Process context.
 * Inline: the common case pops from this CPU's magazine, no lock, no
 * atomic operation.
 */
static inline int pcpool_pcpu_alloc(struct pcpool_pcpu_cache *c,
				    void __percpu **objp)
{
	return __pcpool_pcpu_alloc(c, objp, false);
}

/*
 * The same without sleeping, for callers in atomic context (preemption
 * off, a spinlock held; not hard or soft interrupts: the magazines are
 * not interrupt-safe).  What the cache holds is served as above; growing
 * asks the source with @nowait (GFP_NOWAIT in the kernel), never reclaims
 * for the budget, and a failure is -ENOMEM with nothing held.
 */
static inline int pcpool_pcpu_alloc_nowait(struct pcpool_pcpu_cache *c,
					   void __percpu **objp)
{
	return __pcpool_pcpu_alloc(c, objp, true);
}

/*
 * Give back an object of this cache.  Never sleeps, never allocates.
 * CONSTRUCTED: the object must be in its constructed state.  Inline for
 * RAW and unverified CONSTRUCTED caches: a push on this CPU's magazine.
 */
static inline void pcpool_pcpu_free(struct pcpool_pcpu_cache *c,
				    void __percpu *obj)
{
	struct pcpool_pcpu_mag *m;
	struct pcpool_pcpu_cpu *pc;
	unsigned int cpu;

	if (unlikely(!READ_ONCE(c->free_inline))) {
		pcpool_pcpu_free_slow(c, obj, false);
		return;
	}
	pcpool_pcpu_poison(obj, c->size);
	cpu = pcpool_pcpu_get_cpu();
	pc = &c->cpu[cpu];
	m = pc->loaded;
	if (likely(m && m->nr < c->mag_size)) {
		m->obj[m->nr++] = obj;
		pcpool_pcpu_stat_add(&pc->st.free_hits, 1);
		pcpool_pcpu_put_cpu(cpu);
		return;
	}
	pcpool_pcpu_put_cpu(cpu);
	pcpool_pcpu_free_slow(c, obj, true);
}

/*
 * Empty CPU @cpu's magazines into the chunks.  Returns objects moved.  A
 * CPU without magazines is skipped; otherwise the magazines are taken on
 * @cpu itself (pcpool_pcpu_on_cpu()), so this may sleep.
 */
unsigned long pcpool_pcpu_drain_cpu(struct pcpool_pcpu_cache *c,
				    unsigned int cpu);
/*
 * CPU @cpu is dead (hotplug): nothing runs there, so its magazines are
 * taken from here and go to the depot (their objects to the chunks when
 * over budget), where the other CPUs find them.  When it comes back it
 * starts with none, like a CPU that never allocated.  Returns objects
 * moved.  Never sleeps, never allocates; the caller keeps
 * pcpool_pcpu_on_cpu() away (the kernel's hotplug lock does).
 */
unsigned long pcpool_pcpu_cpu_dead(struct pcpool_pcpu_cache *c,
				   unsigned int cpu);
/*
 * Give back what is cached: every depot magazine (objects to their chunks,
 * the magazines freed), then every entirely free chunk.  With @drain_cpus,
 * the per-CPU magazines first (only CPUs holding any are visited).
 * Returns chunks given back.  Never sleeps without @drain_cpus.
 */
unsigned long pcpool_pcpu_shrink(struct pcpool_pcpu_cache *c, bool drain_cpus);
/*
 * The same, bounded: give back at most @nr chunks, entirely free ones
 * first, then the objects of depot magazines one magazine at a time
 * (the magazine freed) until enough chunks became free.  What the
 * shrinker calls with its nr_to_scan.  Returns chunks given back.  Never
 * sleeps.
 */
unsigned long pcpool_pcpu_shrink_nr(struct pcpool_pcpu_cache *c,
				    unsigned long nr);
/*
 * Give back the budget's overshoot, as far as @c can: whole chunks, free
 * ones first, then depot magazines' objects (pcpool_pcpu_shrink_nr()),
 * until the budget's @cached is at most @max (the free path lets it reach
 * the limit).  What a background pass calls on an idle cache.  Returns
 * chunks given back.  Never sleeps.
 */
unsigned long pcpool_pcpu_trim(struct pcpool_pcpu_cache *c);
/* Chunks a shrink without drain could give back now (racy estimate). */
unsigned long pcpool_pcpu_shrink_count(struct pcpool_pcpu_cache *c);

static inline void pcpool_pcpu_set_verify(struct pcpool_pcpu_cache *c, bool on)
{
	WRITE_ONCE(c->verify, on);
	WRITE_ONCE(c->free_inline, c->mode == PCPOOL_PCPU_RAW ||
		   (c->mode == PCPOOL_PCPU_CONSTRUCTED && !on));
}

/* Reporting: sums over CPUs and the cache's own counters. */
struct pcpool_pcpu_totals {
	struct pcpool_pcpu_cpu_stats st;	/* summed over CPUs */
	unsigned long mag_objs;		/* objects in per-CPU magazines */
	unsigned long depot_objs;
	unsigned long chunk_free_objs;
	unsigned long nr_chunks;
	unsigned long nr_empty_chunks;
	unsigned long nr_full_mags;
	unsigned long nr_empty_mags;
	u64 depot_events[PCPOOL_PCPU_NR_DEPOT_EVENTS];
	u64 chunk_grow;
	u64 chunk_grow_failed;
	u64 chunk_shrink;
	u64 chunk_refills;
	u64 chunk_flushes;
	u64 bad_frees;
};

/* May sleep: magazines are counted on their CPU. */
void pcpool_pcpu_get_totals(struct pcpool_pcpu_cache *c,
			    struct pcpool_pcpu_totals *t);
/* Objects handed out and not freed (racy unless idle).  May sleep. */
unsigned long pcpool_pcpu_in_use(struct pcpool_pcpu_cache *c);
/*
 * Cross-check lists, bitmaps, hash and counts.  The cache must be idle.
 * Returns the number of inconsistencies (0 = consistent).
 */
unsigned long pcpool_pcpu_check(struct pcpool_pcpu_cache *c);

/* The class for @size bytes aligned to @align, or -EINVAL. */
int pcpool_pcpu_class(size_t size, size_t align);

/*
 * A pool: one cache per size class, all of one mode, one source and one
 * budget.  The config's @shift is ignored.
 */
struct pcpool_pcpu_pool {
	struct pcpool_pcpu_cache *cache[PCPOOL_PCPU_NR_CLASSES];
};

size_t pcpool_pcpu_pool_meta_size(const struct pcpool_pcpu_cache_config *cfg);
int pcpool_pcpu_pool_init(void *buf, size_t size,
			  const struct pcpool_pcpu_cache_config *cfg,
			  struct pcpool_pcpu_pool **poolp);
/* Objects still allocated in all classes (see pcpool_pcpu_cache_destroy). */
unsigned long pcpool_pcpu_pool_destroy(struct pcpool_pcpu_pool *pool);

static inline struct pcpool_pcpu_cache *
pcpool_pcpu_pool_cache(struct pcpool_pcpu_pool *pool, unsigned int shift)
{
	return pool->cache[shift - PCPOOL_PCPU_MIN_SHIFT];
}

/*
 * The dual-mode counter.  It starts as one word, @local, that only the
 * first CPU to update it (@owner) writes, with an unlocked local64_add()
 * (as cheap as the kernel's this_cpu_add(), interrupt-safe on that CPU):
 * creating it costs nothing per CPU and reading it is a load or two.  The
 * first update from a second CPU gives it per-CPU storage from @cache
 * (8-byte objects), after which updates are this_cpu_add(); @local keeps
 * what the owner added before and is summed forever after.
 *
 * The storage is initialized lazily: the first update on a CPU zeroes
 * that CPU's part and sets the CPU's bit in @touched, and a read sums only
 * the parts whose bit is set.  So a counter costs per CPU that used it,
 * never per possible CPU: creating, reading and destroying a counter that
 * two CPUs of a 256-CPU machine updated touch two parts.  With more CPUs
 * than bits in a word, a bit stands for a group of 1 << @gshift
 * neighbouring CPUs, all zeroed by the group's first update.
 *
 * Every update lands in exactly one place and a read sums all of them, so
 * the value is exact: no batch error, and with updates running
 * concurrently a read counts each of them or not, never half.  CPU
 * hotplug needs nothing: a CPU that goes away keeps its part and its bit
 * (per-CPU memory exists for every possible CPU), so there is no hotplug
 * callback and no global list of counters (the kernel's percpu_counter
 * has both, behind percpu_counters_lock).
 *
 * No update ever sleeps or allocates on the hot path: the upgrade takes
 * its storage with pcpool_pcpu_alloc_nowait(), and if none can be had
 * other CPUs' updates go to the atomic @single: still exact, only slower.
 * Updates may run in process context or with preemption or interrupts
 * off, not in interrupt handlers (the cache's magazines are not
 * interrupt-safe).
 */
#define PCPOOL_PCPU_NO_OWNER	(-1)

struct pcpool_pcpu_counter {
	local64_t local;		/* @owner's updates before the upgrade */
	atomic_long_t single;		/* others' when no storage could be had */
	int owner;			/* first updating CPU, or NO_OWNER */
	unsigned int gshift;		/* CPUs per bit of @touched: 1 << gshift */
	unsigned long claimed;		/* bit g: group g's parts being zeroed */
	unsigned long touched;		/* bit g: group g's parts zeroed, in use */
	s64 __percpu *pcpu;		/* set once, by the upgrade */
	struct pcpool_pcpu_cache *cache;
};

/*
 * @cache: 8-byte objects, RAW or ZEROED (a CONSTRUCTED cache expects its
 * objects back with their parts cancelling over every CPU, which the
 * lazy counter, touching only its own parts, cannot promise).  0, or
 * -EINVAL for any other cache.
 */
int pcpool_pcpu_counter_init(struct pcpool_pcpu_counter *ctr,
			     struct pcpool_pcpu_cache *cache);
/* Never sleeps; see above for the contexts. */
void pcpool_pcpu_counter_add(struct pcpool_pcpu_counter *ctr, s64 delta);
s64 pcpool_pcpu_counter_sum(struct pcpool_pcpu_counter *ctr);
/*
 * Give the per-CPU storage back.  No update may run concurrently.
 * Returns the final value.  The counter may be used again afterwards.
 */
s64 pcpool_pcpu_counter_destroy(struct pcpool_pcpu_counter *ctr);

static inline bool pcpool_pcpu_counter_upgraded(struct pcpool_pcpu_counter *ctr)
{
	/* pairs with the cmpxchg() that published the storage */
	return !!smp_load_acquire(&ctr->pcpu);
}

/* CPUs whose parts a read sums (racy while updates run). */
unsigned int pcpool_pcpu_counter_nr_touched(struct pcpool_pcpu_counter *ctr);

#endif /* _PCPOOL_PCPU_H */
