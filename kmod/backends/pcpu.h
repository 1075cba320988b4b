/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool per-CPU cache backends, shared between pcpu.c (the backends and
 * their shrinker, budget and hotplug) and pcpu_debugfs.c (their files).
 */
#ifndef _PCPOOL_BACKENDS_PCPU_H
#define _PCPOOL_BACKENDS_PCPU_H

#include <linux/mutex.h>
#include <linux/types.h>

#include "backends.h"
#include "pcpool_pcpu.h"

struct dentry;

/* One cache backend: a pool of size classes in one mode. */
struct pcpool_pcpu_bk {
	struct pcpool_backend *b;
	enum pcpool_pcpu_mode mode;
	struct pcpool_pcpu_pool *pool;
	void *meta;
	/* the cache serving each class shift, MIN..MAX: one load per op */
	struct pcpool_pcpu_cache *cache[PCPOOL_PCPU_MAX_SHIFT + 1];
	/*
	 * Chunks held whose per-CPU memory alloc_percpu() mapped in vmalloc
	 * space, page by page, rather than in its first chunk (the linear
	 * map): a difference in TLB reach that a reading of per-CPU timings
	 * has to rule out (Documentation/scaling.rst).
	 */
	atomic_long_t chunks_vmalloc;
};

/*
 * What the cache backends share: one budget for cached memory, one
 * shrinker, one hotplug callback and the debugfs directory pcpu/.
 * Set up by the first cache backend to load, torn down by the last.
 */
struct pcpool_pcpu_family {
	/*
	 * Serializes the shrinker, the drains, the verify switch and the
	 * pools' creation and destruction.
	 */
	struct mutex lock;
	struct pcpool_pcpu_bk *bk[PCPOOL_PCPU_NR_MODES];
	struct pcpool_pcpu_budget budget;
	unsigned int users;
	u64 shrink_scans;
	u64 shrink_pages;
	/*
	 * pcpu_decay.c: passes, pages given back (of which to trim the
	 * budget's overshoot), activity last seen
	 */
	u64 decay_passes;
	u64 decay_pages;
	u64 decay_trim_pages;
	u64 decay_seen[PCPOOL_PCPU_NR_MODES * PCPOOL_PCPU_NR_CLASSES];
	struct dentry *dir;
};

extern struct pcpool_pcpu_family pcpool_pcpu_family;

#define PCPOOL_PCPU_NR_CACHES	(PCPOOL_PCPU_NR_MODES * PCPOOL_PCPU_NR_CLASSES)

/* The pool of @mode's backend, or NULL.  The family lock held. */
struct pcpool_pcpu_pool *pcpool_pcpu_pool_of(enum pcpool_pcpu_mode mode);
/* pcpu_counter.c: the counters PCPU_COUNTER runs. */
extern const struct pcpool_counter_ops pcpool_pcpu_kernel_counter;
extern const struct pcpool_counter_ops pcpool_pcpu_dual_counter;

/* Cache @k of all pools (0 .. NR_CACHES - 1); NULL: no such pool. */
struct pcpool_pcpu_cache *pcpool_pcpu_cache_nr(unsigned int k);

/* Pages (every CPU's) of one chunk of @c: big classes span several. */
static inline unsigned long pcpool_pcpu_chunk_pages(struct pcpool_pcpu_cache *c)
{
	return (c->chunk_size >> PAGE_SHIFT) * pcpool_nr_possible_cpus;
}

/* Pages all caches could give back now. */
unsigned long pcpool_pcpu_reclaimable(void);
/* Give back up to @want pages (0: all).  The family lock held. */
unsigned long pcpool_pcpu_reclaim(unsigned long want, bool drain_cpus);
/* Turn pcpu-constructed's verification on or off.  The lock held. */
void pcpool_pcpu_apply_verify(bool on);

/* pcpu_decay.c: the background decay, while the family is set up. */
void pcpool_pcpu_decay_start(void);
void pcpool_pcpu_decay_stop(void);

/* pcpu_debugfs.c: the family's files in @dir. */
void pcpool_pcpu_debugfs_init(struct dentry *dir);

#endif /* _PCPOOL_BACKENDS_PCPU_H */
