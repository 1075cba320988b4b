/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool vmap, inside: the descriptors, the instrumented locks and the
 * state that pcpool_vmap.c (pools, busy tables, purge, alloc and free)
 * and pcpool_vmap_fs.c (the free space) share.  Not for other users:
 * pcpool_vmap.h is the interface.
 */
#ifndef _PCPOOL_VMAP_INTERNAL_H
#define _PCPOOL_VMAP_INTERNAL_H

#include <linux/rbtree_augmented.h>

#include "pcpool_vmap.h"

/*
 * Counters and gauges are read unlocked by show_counters, and written by
 * one writer at a time, under a lock.
 */
static inline void pcpool_vadd(unsigned long *x, unsigned long n)
{
	WRITE_ONCE(*x, *x + n);
}

static inline void pcpool_vinc(u64 *x, u64 n)
{
	WRITE_ONCE(*x, *x + n);
}

struct pcpool_va {
	unsigned long start;
	unsigned long end;
	struct list_head list;		/* free space, lazy list or pool */
	struct rb_node rb;		/* free space */
	unsigned long subtree_max_size;	/* free space: largest below */
	struct pcpool_va *hnext;	/* busy hash chain */
	unsigned int owner;		/* nodes: allocating node + 1, or 0 */
};

/* A global lock and what it cost; the counters change under it. */
struct pcpool_glock {
	spinlock_t lock;	/* what it guards: see struct pcpool_vmap */
	u64 acquired;
	u64 contended;
	u64 hold_ns;
	u64 t0;
};

struct pcpool_vbusy {
	spinlock_t lock;	/* hash and pages */
	struct pcpool_va **hash;
	unsigned int bits;
	unsigned long pages;
};

struct pcpool_vnode {
	struct pcpool_vbusy busy;
	spinlock_t lazy_lock;	/* lazy, lazy_pages */
	struct list_head lazy;
	unsigned long lazy_pages;	/* WRITE_ONCE: summed unlocked */
	spinlock_t pool_lock;	/* pools, their counts, hits and misses */
	struct list_head pool[PCPOOL_VMAP_POOL_PAGES];
	unsigned long pool_len[PCPOOL_VMAP_POOL_PAGES];
	unsigned long pool_pages;
	u64 hits[PCPOOL_VMAP_NR_CLASSES];
	u64 misses[PCPOOL_VMAP_NR_CLASSES];
} ____cacheline_aligned_in_smp;

struct pcpool_vmap {
	enum pcpool_vmap_design design;
	unsigned long start;
	unsigned long end;
	unsigned long lazy_max;
	unsigned int nr_nodes;
	struct pcpool_vmap_hooks hooks;

	struct pcpool_glock free_lk;	/* free space */
	struct rb_root free_root;
	struct list_head free;		/* the same extents by address */
	unsigned long free_pages;
	u64 search_steps;		/* tree nodes first fit visited */

	/* GLOBAL: 6.1's vmap_area_lock and purge_vmap_area_lock. */
	struct pcpool_glock busy_lk;
	struct pcpool_vbusy gbusy;	/* its own lock unused */
	struct pcpool_glock purge_lk;
	struct list_head glazy;
	unsigned long glazy_pages;

	/* 6.1's vmap_purge_lock: purge batches, and the shrinker. */
	struct pcpool_glock drain_lk;
	u64 purge_batches;
	u64 tlb_flushes;
	u64 purged_pages;
	u64 decay_events;
	u64 decayed_pages;
	u64 shrinks;

	struct pcpool_vnode *nodes[];
};

static inline void pcpool_glock(struct pcpool_glock *g)
	__acquires(&g->lock)
{
	bool busy = !spin_trylock(&g->lock);

	if (busy)
		spin_lock(&g->lock);
	WRITE_ONCE(g->acquired, g->acquired + 1);
	if (busy)
		WRITE_ONCE(g->contended, g->contended + 1);
	g->t0 = local_clock();
}

static inline void pcpool_gunlock(struct pcpool_glock *g)
	__releases(&g->lock)
{
	WRITE_ONCE(g->hold_ns, g->hold_ns + (local_clock() - g->t0));
	spin_unlock(&g->lock);
}

static inline void pcpool_glock_init(struct pcpool_glock *g)
{
	spin_lock_init(&g->lock);
	g->acquired = 0;
	g->contended = 0;
	g->hold_ns = 0;
}

static inline unsigned long pcpool_va_pages(const struct pcpool_va *va)
{
	return (va->end - va->start) >> PAGE_SHIFT;
}

/*
 * The free space (pcpool_vmap_fs.c), under free_lk unless said: the
 * lowest extent that fits @size at @align (*@nva: the aligned start);
 * @size at @a carved out of @va (@spare: a descriptor a no-edge fit
 * needs; NULL when none was given); everything on @list inserted and
 * merged, taking free_lk once (descriptors merged away go on @dead).
 */
struct pcpool_va *pcpool_fs_find(struct pcpool_vmap *vm, unsigned long size,
				 unsigned long align, unsigned long *nva);
struct pcpool_va *pcpool_fs_clip(struct pcpool_vmap *vm, struct pcpool_va *va,
				 unsigned long a, unsigned long size,
				 struct list_head *spare);
void pcpool_fs_insert_list(struct pcpool_vmap *vm, struct list_head *list,
			   struct list_head *dead);

#endif /* _PCPOOL_VMAP_INTERNAL_H */
