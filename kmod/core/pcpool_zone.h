/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool zone: memory taken from a page source in whole pageblocks, kept in
 * buddy free lists for orders 0..block_order under one spin lock, the zone
 * lock, which is instrumented with per-CPU counters.
 *
 * NUMA: one zone per node, as the kernel has (struct zone in each
 * pglist_data).  Each has its own lock, free lists, limit and counters; the
 * pageblock data is one pfn-indexed array they share, as the kernel's
 * pageblock bitmap belongs to the memory section, not the zone.  A block
 * is in its node's zone only.  pcpool_zone_init() hands back node 0's
 * zone: the entry points that take a page find its node's zone
 * themselves, the whole-zone ones (counters, check, shrink, destroy) cover
 * every node, and the allocating ones start at the zone they are given
 * and walk its zonelist, nearest node first.
 *
 * Portable core: builds in the kernel (kmod/platform/kernel) and in
 * userspace (kmod/platform/user).  It never allocates memory: the caller
 * sizes the metadata with pcpool_zone_meta_size() and hands it in.
 * Design and invariants: Documentation/core.rst.
 */
#ifndef _PCPOOL_ZONE_H
#define _PCPOOL_ZONE_H

#include "pcpool_core.h"

#define PCPOOL_OWNER_NONE	(-1)
#define PCPOOL_NO_NODE		(-1)

/*
 * Pages moved per zone-lock acquisition, log2 buckets: [0], [1], [2,3],
 * [4,7], ... and the last one [2^(N-2), inf).  A bucket is named by its
 * lower bound: zone_moved_hist_0, _1, _2, _4, ... _1024.
 */
#define PCPOOL_MOVED_HIST	12

/*
 * Where pageblocks come from.  alloc_block() returns the first page of
 * 2^order naturally aligned pages, or NULL; it is only called with no
 * pcpool lock held, from pcpool_zone_grow(), and may sleep if the callers
 * of the allocation entry points may.  free_block() takes back what
 * alloc_block() gave; it is called with no zone lock held but possibly
 * with a per-CPU lock held, so it must not sleep.
 */
struct pcpool_page_source {
	struct page *(*alloc_block)(void *ctx, unsigned int order);
	void (*free_block)(void *ctx, struct page *page, unsigned int order);
	/*
	 * Optional, for NUMA: a block on @node only (__GFP_THISNODE), the
	 * node a block is on, and how far node @to is from node @from
	 * (as node_distance(): 10 local, larger farther).  Without the first
	 * two every block is on node 0; without the distance every other
	 * node is as near as the next.
	 */
	struct page *(*alloc_block_node)(void *ctx, unsigned int order,
					 int node);
	int (*block_node)(void *ctx, struct page *page);
	int (*distance)(void *ctx, int from, int to);
	/*
	 * Optional: node @node's memory in any unit (blocks, say), below
	 * 2^31; the limit and the reserve are split in proportion, as a
	 * zone's size is its node's.  Without it, or all 0, evenly.
	 */
	unsigned long (*node_size)(void *ctx, int node);
	void *ctx;
};

struct pcpool_zone_config {
	/* pfns [start_pfn, end_pfn) the zone may ever hold; others go back */
	unsigned long start_pfn;
	unsigned long end_pfn;
	unsigned int block_order;	/* pageblock order, < PCPOOL_NR_ORDERS */
	unsigned int nr_cpus;		/* CPU ids are 0..nr_cpus-1 */
	unsigned long limit_blocks;	/* most blocks held at once, >= 1 */
	/* whole free blocks kept when more become free; shrink ignores it */
	unsigned long reserve_blocks;
	/*
	 * Nodes, one zone each (0 or 1: one zone, every block on node 0).
	 * More need src.alloc_block_node and src.block_node; the limit and
	 * the reserve are split over them by src.node_size (each node at
	 * least one block of limit), as each zone is sized by its node's
	 * memory.
	 */
	unsigned int nr_nodes;
	struct pcpool_page_source src;
};

enum pcpool_block_state {
	PCPOOL_BLOCK_ABSENT = 0,	/* not held by the zone */
	PCPOOL_BLOCK_HELD,		/* obtained from the page source */
};

/* Per-pageblock data, indexed by (pfn >> block_order) - (start_pfn >> block_order). */
struct pcpool_block {
	int owner;		/* CPU owning it (per-CPU layer), or OWNER_NONE */
	u8 state;		/* enum pcpool_block_state, zone lock */
	/*
	 * enum pcpool_mt.  Unowned: the zone's, under its lock (MOVABLE when
	 * obtained, as the kernel's memmap init).  Owned: the owner's, set
	 * at claim and changed only by the owner while the block is whole in
	 * its hands; the zone never retags an owned block.
	 */
	u8 mt;
	s16 node;		/* its zone's node, set when obtained */
	u32 zone_free;		/* pages of it in the zone free lists, zone lock */
};

struct pcpool_free_area {
	/* chunk heads, linked through page->lru, on their block's type */
	struct list_head list[PCPOOL_MT_TYPES];
	unsigned long nr_free;	/* chunks on the lists */
};

/*
 * One per CPU.  Written only while holding the zone lock, by the CPU that
 * holds it, into its own slot: no atomics, no shared line on the hot path.
 * Readers use READ_ONCE().
 */
struct pcpool_zone_stats {
	u64 lock_acquisitions;
	u64 lock_contended;	/* first trylock failed */
	u64 lock_hold_ns;
	u64 pages_moved;	/* pages allocated out of + freed into the lists */
	u64 merges;		/* buddy merges */
	u64 splits;		/* halves split off by allocations */
	u64 moved_hist[PCPOOL_MOVED_HIST];
	u64 blocks_obtained;	/* from the page source */
	u64 blocks_returned;	/* to the page source */
	u64 blocks_rejected;	/* source gave a block outside the span */
	u64 grow_failed;	/* source said no */
	u64 grow_limited;	/* at limit_blocks */
	u64 blocks_claimed;	/* whole blocks taken by an owner */
	u64 bad_frees;		/* frees refused as invalid */
	/*
	 * __rmqueue_fallback(): a chunk of another type's block handed out,
	 * the block keeping its type (fragmenting: types now mix in it), and
	 * blocks retagged for the requester (whole, or half free).
	 */
	u64 mt_fallbacks;
	u64 mt_claims;
	/* chunks handed in to the free lists by order, before merging */
	u64 freed_order[PCPOOL_NR_ORDERS];
} ____cacheline_aligned_in_smp;

struct pcpool_zone {
	/* Read-mostly after init. */
	unsigned int order;		/* block order */
	int nid;			/* this zone's node */
	unsigned int nr_nodes;
	struct pcpool_zone **nodes;	/* [nr_nodes]: every node's zone */
	/* [nr_nodes][nr_nodes]: each node's zonelist, itself first */
	const u16 *zonelists;
	unsigned int nr_cpus;
	unsigned long block_pages;
	unsigned long base_block;	/* start_pfn >> order */
	unsigned long nr_span;		/* entries in blocks[] */
	unsigned long map_words;	/* bitmap words per block */
	unsigned long limit;		/* this node's share */
	unsigned long reserve;		/* this node's share */
	struct pcpool_block *blocks;	/* shared by every node's zone */
	/* bit set: page is the head of a free chunk in the zone free lists */
	unsigned long *map;
	struct pcpool_zone_stats *stats;	/* [nr_cpus], this zone's */
	struct pcpool_page_source src;

	/* The zone lock and what it protects. */
	spinlock_t lock ____cacheline_aligned_in_smp;
	struct pcpool_free_area area[PCPOOL_NR_ORDERS];
	unsigned long free_pages;	/* pages in the free lists */
	unsigned long nr_held;		/* blocks held */
	unsigned long nr_reserved;	/* held + being obtained, <= limit */
	/*
	 * The page source said no to the last grow.  While it has not and
	 * the zone is below its limit, memory not yet obtained counts as
	 * whole free movable blocks (as all free memory starts out in the
	 * kernel), so a type falls back into another's partial blocks only
	 * when the zone cannot grow.
	 */
	bool exhausted;
	struct list_head giveback;	/* detached blocks, freed after unlock */
	/* The current acquisition, folded into stats at unlock. */
	u64 held_since;
	unsigned long held_moved;
	unsigned long held_merges;
	unsigned long held_splits;
	bool held_contended;
};

/* Metadata bytes for @cfg (0 if @cfg is invalid). */
size_t pcpool_zone_meta_size(const struct pcpool_zone_config *cfg);
/*
 * Lay the zones out in @buf (@size bytes, from pcpool_zone_meta_size(),
 * any alignment); *@zonep is node 0's.  Returns 0 or -EINVAL.  Holds no
 * memory until used.
 */
int pcpool_zone_init(void *buf, size_t size,
		     const struct pcpool_zone_config *cfg,
		     struct pcpool_zone **zonep);
/*
 * Give every node's blocks back.  Nothing may be allocated, cached per CPU
 * or being obtained.  Returns the number of blocks that could not be given
 * back because some of their pages were not free (a caller bug, warned
 * once); those are leaked rather than freed under a user.
 */
unsigned long pcpool_zone_destroy(struct pcpool_zone *zone);

/*
 * Obtain one block from the page source, for the first zone of @zone's
 * zonelist that can take one.  0; -ENOSPC when every node is at its
 * limit; -ENOMEM when the source fails or gives a block outside the span.
 * No lock held.
 */
int pcpool_zone_grow(struct pcpool_zone *zone);
/*
 * The same for @node's zone only (__GFP_THISNODE), as the kernel's
 * node-local zone comes first in a zonelist: -ENOSPC at that node's limit,
 * -ENOMEM when that node has none; the caller then falls back to other
 * nodes (pcpool_zone_grow_near()).  PCPOOL_NO_NODE: pcpool_zone_grow().
 */
int pcpool_zone_grow_node(struct pcpool_zone *zone, int node);
/* pcpool_zone_grow() along @node's zonelist (PCPOOL_NO_NODE: @zone's). */
int pcpool_zone_grow_near(struct pcpool_zone *zone, int node);

/*
 * One chunk of 2^order pages of migratetype @mt (another type's when @mt
 * has none, as the kernel falls back); grows the zone if it must, and
 * then walks @zone's zonelist, as get_page_from_freelist().  NULL: no
 * memory.  pcpool_zone_alloc() takes PCPOOL_MT_DEFAULT.
 */
struct page *pcpool_zone_alloc_mt(struct pcpool_zone *zone, unsigned int order,
				  unsigned int mt);
static inline struct page *pcpool_zone_alloc(struct pcpool_zone *zone,
					     unsigned int order)
{
	return pcpool_zone_alloc_mt(zone, order, PCPOOL_MT_DEFAULT);
}

/* Into the zone of @page's node, whichever node's zone @zone is. */
void pcpool_zone_free(struct pcpool_zone *zone, struct page *page,
		      unsigned int order);
/*
 * Up to @count chunks of @order appended to @list (page->lru) under one
 * zone-lock acquisition, from @zone only, without growing.  Returns the
 * number taken.
 */
unsigned int pcpool_zone_alloc_bulk(struct pcpool_zone *zone,
				    unsigned int order, unsigned int mt,
				    unsigned int count, struct list_head *list);
/*
 * Free every page on @list (page->lru, order in page_private()) under one
 * acquisition per node the pages are on.  @list ends empty.
 */
void pcpool_zone_free_list(struct pcpool_zone *zone, struct list_head *list);

/*
 * Whole free blocks, for an owner (the per-CPU layer).  claim returns the
 * first page of a whole free block with its owner set, or NULL; it does
 * not grow.  return_block gives back a whole block: its owner is cleared
 * (a block whole and free in the zone is never owned).
 */
struct page *pcpool_zone_claim_block(struct pcpool_zone *zone, int owner);
/*
 * claim_block from @node's zone (PCPOOL_NO_NODE: @zone's); with
 * @fallback, else from the next zone of that node's zonelist that has
 * one.  Tagged @mt for its owner.
 */
struct page *pcpool_zone_claim_block_node(struct pcpool_zone *zone, int owner,
					  int node, bool fallback,
					  unsigned int mt);
void pcpool_zone_return_block(struct pcpool_zone *zone, struct page *page);
/*
 * Take every free chunk of the block holding @pfn out of the free lists
 * onto @list (order in page_private()).  Returns pages taken.
 */
unsigned long pcpool_zone_take_fragments(struct pcpool_zone *zone,
					 unsigned long pfn,
					 struct list_head *list);

/* Give back up to @nr_pages in whole free blocks of any node, reserves included. */
unsigned long pcpool_zone_shrink(struct pcpool_zone *zone,
				 unsigned long nr_pages);
/* Pages shrink could give back now (racy read, for a shrinker count). */
unsigned long pcpool_zone_shrink_count(struct pcpool_zone *zone);

/*
 * The zone lock, instrumented.  Between lock and unlock the __ functions
 * below may be called on that zone, and freed pages must be on its node
 * (pcpool_zone_of_pfn()); unlock folds the acquisition into this CPU's
 * stats and gives back blocks detached while it was held.
 */
void pcpool_zone_lock(struct pcpool_zone *zone) __acquires(&zone->lock);
void pcpool_zone_unlock(struct pcpool_zone *zone) __releases(&zone->lock);
/*
 * 6.1's __rmqueue(): @mt's smallest chunk, else __rmqueue_fallback():
 * another type's whole free block, claimed; another type's partial
 * block only once the zone cannot grow (NULL before: grow and retry).
 */
struct page *__pcpool_zone_rmqueue(struct pcpool_zone *zone,
				   unsigned int order, unsigned int mt);
/*
 * The largest free chunk of order in [@min_order, @max_order] on @mt's
 * lists only, unsplit.
 */
struct page *__pcpool_zone_rmqueue_largest(struct pcpool_zone *zone,
					   unsigned int min_order,
					   unsigned int max_order,
					   unsigned int mt,
					   unsigned int *order);
void __pcpool_zone_free(struct pcpool_zone *zone, struct page *page,
			unsigned int order);

/* Per-pageblock data. */
static inline bool pcpool_zone_pfn_in_span(const struct pcpool_zone *zone,
					   unsigned long pfn)
{
	return (pfn >> zone->order) - zone->base_block < zone->nr_span;
}

static inline unsigned long pcpool_zone_block_index(const struct pcpool_zone *zone,
						    unsigned long pfn)
{
	return (pfn >> zone->order) - zone->base_block;
}

static inline struct pcpool_block *pcpool_zone_block(struct pcpool_zone *zone,
						     unsigned long pfn)
{
	return &zone->blocks[pcpool_zone_block_index(zone, pfn)];
}

/* @blk is held, and by @zone: its node's zone (any held block, one zone). */
static inline bool pcpool_zone_holds(const struct pcpool_zone *zone,
				     const struct pcpool_block *blk)
{
	return blk->state == PCPOOL_BLOCK_HELD && blk->node == zone->nid;
}

/* The node of the block holding @pfn. */
static inline int pcpool_zone_pfn_node(const struct pcpool_zone *zone,
				       unsigned long pfn)
{
	return zone->blocks[pcpool_zone_block_index(zone, pfn)].node;
}

/* @node's zone; @zone itself for PCPOOL_NO_NODE or a node it does not have. */
static inline struct pcpool_zone *pcpool_zone_node(struct pcpool_zone *zone,
						   int node)
{
	if (node < 0 || (unsigned int)node >= zone->nr_nodes)
		return zone;
	return zone->nodes[node];
}

/*
 * The zone a page at @pfn goes back to: its block's node's (page_zone()).
 * Outside the span, @zone: the free is refused there.
 */
static inline struct pcpool_zone *pcpool_zone_of_pfn(struct pcpool_zone *zone,
						     unsigned long pfn)
{
	if (zone->nr_nodes == 1 || !pcpool_zone_pfn_in_span(zone, pfn))
		return zone;
	return pcpool_zone_node(zone, READ_ONCE(pcpool_zone_block(zone,
								  pfn)->node));
}

/* The most blocks every node together may hold (the config's limit). */
static inline unsigned long pcpool_zone_limit_blocks(const struct pcpool_zone *zone)
{
	unsigned long sum = 0;
	unsigned int n;

	for (n = 0; n < zone->nr_nodes; n++)
		sum += zone->nodes[n]->limit;
	return sum;
}

/*
 * The @i-th zone of @node's zonelist (0: @node's own), nearest first, as
 * build_zonelists() orders them.  @node PCPOOL_NO_NODE: @zone's node.
 */
static inline struct pcpool_zone *pcpool_zone_nearest(struct pcpool_zone *zone,
						      int node, unsigned int i)
{
	if (node < 0 || (unsigned int)node >= zone->nr_nodes)
		node = zone->nid;
	return zone->nodes[zone->zonelists[node * zone->nr_nodes + i]];
}

/*
 * 6.1's fallbacks[]: the types each type borrows from, in order, when its
 * own lists are empty (the zone's fallback and pcpbuddy's phase 4).
 */
extern const u8 pcpool_mt_fallbacks[PCPOOL_MT_TYPES][PCPOOL_MT_TYPES - 1];

/* Migratetype of the block holding @pfn (see struct pcpool_block). */
static inline unsigned int pcpool_zone_pfn_mt(struct pcpool_zone *zone,
					      unsigned long pfn)
{
	return READ_ONCE(pcpool_zone_block(zone, pfn)->mt);
}

/* Retag a block its owner holds whole (none of it in the zone lists). */
static inline void pcpool_zone_set_mt(struct pcpool_zone *zone,
				      unsigned long pfn, unsigned int mt)
{
	WRITE_ONCE(pcpool_zone_block(zone, pfn)->mt, mt);
}

/* Owner of the block holding @pfn; racy unless the caller serializes. */
static inline int pcpool_zone_owner(struct pcpool_zone *zone, unsigned long pfn)
{
	return READ_ONCE(pcpool_zone_block(zone, pfn)->owner);
}

static inline void pcpool_zone_set_owner(struct pcpool_zone *zone,
					 unsigned long pfn, int owner)
{
	WRITE_ONCE(pcpool_zone_block(zone, pfn)->owner, owner);
}

/*
 * What one drain of every per-CPU pool did: the seed-002 question of how
 * often skipping empty CPUs saves work.
 */
struct pcpool_drain_result {
	unsigned long visited;	/* CPUs whose lock was taken and pool emptied */
	unsigned long skipped;	/* CPUs seen empty: not touched */
	unsigned long pages;	/* pages moved to the zone */
};

/* Reporting.  @emit gets every counter as a "key value" pair. */
struct pcpool_zone_totals {
	unsigned long blocks_held;
	unsigned long free_pages;
	unsigned long nr_free[PCPOOL_NR_ORDERS];	/* chunks per order */
};

void pcpool_zone_get_totals(struct pcpool_zone *zone,
			    struct pcpool_zone_totals *t);

/* One node's zone, for the debugfs zones file. */
struct pcpool_zone_node_state {
	unsigned long limit;		/* blocks, this node's share */
	unsigned long blocks_held;
	unsigned long free_pages;	/* in this zone's free lists */
	u64 lock_acquisitions;		/* of this zone's lock */
	u64 lock_contended;
	u64 pages_moved;
	u64 blocks_obtained;
};

/* -EINVAL for a node the zone does not have. */
int pcpool_zone_get_node_state(struct pcpool_zone *zone, unsigned int nid,
			       struct pcpool_zone_node_state *s);
void pcpool_zone_counters(struct pcpool_zone *zone, pcpool_emit_fn emit,
			  void *arg);
void pcpool_zone_reset_counters(struct pcpool_zone *zone);
/*
 * Walk every list, bitmap and count and cross-check them.  Returns the
 * number of inconsistencies found (0 = consistent).  O(blocks held).
 */
unsigned long pcpool_zone_check(struct pcpool_zone *zone);

/*
 * Bump a statistic that has one writer at a time (the lock holder, or the
 * pinned CPU that owns it) and only readers racing with it.
 */
static inline void pcpool_stat_add(u64 *stat, u64 val)
{
	WRITE_ONCE(*stat, READ_ONCE(*stat) + val);
}

#endif /* _PCPOOL_ZONE_H */
