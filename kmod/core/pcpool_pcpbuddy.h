/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool pcpbuddy: a per-CPU pageblock buddy pool on a pcpool zone.  Each
 * CPU's pool claims whole pageblocks from the zone and splits them under
 * its own pool lock, a spin lock other CPUs may take.  Each block records
 * its owner; a free from any CPU goes to the owner's pool and merges with
 * its buddy there; a block that becomes whole again goes back to the zone
 * (beyond a small reserve) and its ownership ends.
 *
 * Lock order: a pool lock, then the zone lock.  Never two pool locks.
 * Design and invariants: Documentation/pcpbuddy.rst.
 */
#ifndef _PCPOOL_PCPBUDDY_H
#define _PCPOOL_PCPBUDDY_H

#include "pcpool_zone.h"

/* Blocks whose drained fragments phase 0 may recover, per CPU. */
#define PCPOOL_PCPBUDDY_FRAG_RING	8

/*
 * Per CPU, written only by that CPU (pinned, or holding a lock that
 * pins it), so plain increments; readers use READ_ONCE().
 */
struct pcpool_pcpbuddy_stats {
	u64 allocs;
	u64 frees;
	u64 local_frees;	/* freed into this CPU's own pool */
	u64 remote_frees;	/* routed to another CPU's pool */
	u64 remote_queued;	/* ... through its remote-free list */
	u64 remote_absorbs;	/* remote-free lists taken (non-empty) */
	u64 remote_absorbed;	/* chunks taken off remote-free lists */
	u64 front_allocs;	/* order 0 served by a front cache */
	u64 front_frees;	/* order 0 put in a front cache (absorbs too) */
	u64 front_flushes;	/* front cache emptied into the buddy lists */
	u64 front_flush_pages;
	u64 loose_frees;	/* block unowned: cached here without merging */
	u64 dead_frees;		/* owner offline: straight to the zone */
	u64 pool_merges;	/* buddy merges under a pool lock */
	u64 pool_splits;
	u64 blocks_claimed;	/* whole blocks taken from the zone */
	u64 claims_local;	/* ... on this CPU's node */
	u64 claims_remote;	/* ... on another node: none left locally */
	u64 blocks_returned;	/* whole blocks given back, ownership ended */
	u64 refill_phase0;	/* owned fragments recovered from the zone */
	u64 refill_phase0_pages;
	u64 recovers;		/* a free completed a block with drained parts */
	u64 recover_pages;
	u64 refill_phase1;	/* whole block claimed */
	u64 refill_phase2;	/* sub-block chunks, unowned */
	u64 refill_phase2_pages;
	u64 refill_phase3;	/* taken from another CPU's pool */
	u64 steal_pages;	/* pages this CPU took from others */
	u64 steals_same_node;	/* phase 3 from a CPU of this node */
	u64 steals_other_node;
	/* other pools a steal looked at (phase 3 and _nowait, found or not) */
	u64 steal_visits;
	u64 grows;		/* zone grown for this CPU */
	u64 alloc_failures;
	u64 drains;		/* above high */
	u64 drain_pages;
	u64 drain_all_calls;
	u64 drain_all_visited;
	u64 drain_all_skipped;
	u64 drain_all_pages;
	/*
	 * Migratetypes: chunks handed out of another type's block (phase 4,
	 * or a _nowait allocation), and whole blocks of this pool retagged
	 * for another type (no mixing: nothing of the block was in use).
	 */
	u64 mt_fallbacks;
	u64 mt_retags;
	/* the _nowait entry points (nw_stats only) */
	u64 nowait_allocs;
	u64 nowait_busy;	/* a pool lock was held: skipped, not waited */
	u64 deferred_frees;	/* queued on a remote-free list, no lock */
	/*
	 * Pages this CPU put on other pools' remote-free lists: accounting,
	 * not a counter, so reset_counters leaves it alone.
	 */
	u64 remote_out_pages;
} ____cacheline_aligned_in_smp;

/* One CPU's pool. */
struct pcpool_pcpbuddy_pool {
	spinlock_t lock;	/* all below; any CPU may take it */
	bool dead;			/* CPU offline: frees go to the zone */
	unsigned long free_pages;	/* pages on the lists below */
	unsigned long nr_whole;		/* owned blocks entirely free here */
	/* by migratetype: a chunk is listed under its block's type */
	unsigned long nr_free[PCPOOL_MT_TYPES][PCPOOL_NR_ORDERS];
	struct list_head area[PCPOOL_MT_TYPES][PCPOOL_NR_ORDERS];
	/*
	 * Front cache: order-0 pages of blocks this pool owns, outside the
	 * maps and never merged, at most pcpool_pcpbuddy.front_high in all.
	 * One stack per migratetype (as 6.1's PCP has a list per type),
	 * linked through page->lru.next: a push or pop is two stores and no
	 * list_add()/list_del() (out of line, and checked, with
	 * CONFIG_DEBUG_LIST).  Counted in @free_pages.  Emptied into the
	 * lists before a merge or a drain, so a block is never whole while
	 * pages of it are here.
	 */
	struct llist_node *front[PCPOOL_MT_TYPES];
	unsigned long front_pages;
	/*
	 * The CPU this one last stole from, + 1 (0: none): tried first.
	 * Written by this CPU only, process or IRQ context (a hint).
	 */
	unsigned int steal_hint;
	u64 stolen_pages;		/* taken from here by other CPUs */
	unsigned int frag_head;		/* next slot of @frag */
	unsigned long frag[PCPOOL_PCPBUDDY_FRAG_RING];	/* block index + 1 */
	u64 remote_in_pages;		/* taken off @remote */
	/*
	 * Chunks of this pool's blocks freed by other CPUs, lock-free
	 * (PCPOOL_PCPBUDDY_REMOTE_LIST), linked through page->lru with the
	 * order in page_private().  Any holder of @lock absorbs them.  Own
	 * cache line: the freeing CPUs write it, not the lists above.
	 */
	struct llist_head remote ____cacheline_aligned_in_smp;
} ____cacheline_aligned_in_smp;

/*
 * Per block, changed only under its owner's pool lock: the pages of the
 * block free in the owner's pool and a bitmap of their chunk heads.
 * @zone_frags is a hint: pages the owner drained to the zone and has not
 * taken back.  Never below the truth while the owner is online, so a free
 * that may complete the block knows to take its fragments back.  Records
 * are cache-line strided (pcpool_pcpbuddy.blk_shift).
 */
struct pcpool_pcpbuddy_blk {
	u32 pool_free;
	u32 zone_frags;
	unsigned long map[];
};

struct pcpool_pcpbuddy {
	struct pcpool_zone *zone;
	unsigned int nr_cpus;
	unsigned long high;		/* drain when a pool holds more */
	unsigned long batch;		/* ... down to high - batch */
	unsigned long reserve;		/* whole blocks a pool keeps */
	bool remote_list;		/* PCPOOL_PCPBUDDY_REMOTE_LIST */
	unsigned long front_high;	/* front cache size per pool; 0: off */
	struct pcpool_pcpbuddy_pool *pool;	/* [nr_cpus] */
	struct pcpool_pcpbuddy_stats *stats;	/* [nr_cpus] */
	/*
	 * [nr_cpus], written only by the _nowait entry points, which run
	 * with interrupts off: process context never writes them, so an
	 * interrupt cannot tear a plain increment of @stats.
	 */
	struct pcpool_pcpbuddy_stats *nw_stats;
	int *node;			/* [nr_cpus], claim, grow and steal order */
	bool numa;			/* CPUs on more than one node */
	char *blk;			/* [nr_span] records, 1 << blk_shift apart */
	unsigned int blk_shift;
	/* the zone's, copied: one load less on every pool operation */
	unsigned int order;
	unsigned long base_block;
};

size_t pcpool_pcpbuddy_meta_size(const struct pcpool_zone *zone);
/*
 * Lay out in @buf on @zone.  Defaults: high two blocks, batch one block,
 * @reserve_blocks whole blocks kept per pool, every CPU on node 0.
 */
int pcpool_pcpbuddy_init(void *buf, size_t size, struct pcpool_zone *zone,
			 unsigned long reserve_blocks,
			 struct pcpool_pcpbuddy **pbp);
/* Drain every pool into the zone.  The zone is the caller's to destroy. */
void pcpool_pcpbuddy_destroy(struct pcpool_pcpbuddy *pb);

int pcpool_pcpbuddy_set_high_batch(struct pcpool_pcpbuddy *pb,
				   unsigned long high, unsigned long batch);
/*
 * How a free reaches another CPU's pool: under that pool's lock (the
 * default of the core), or pushed on its lock-free remote-free list,
 * which the owner absorbs at refill and drain; drain-all, CPU offline and
 * steals absorb it too.  May be switched at any time.
 */
enum pcpool_pcpbuddy_remote {
	PCPOOL_PCPBUDDY_REMOTE_LOCK,
	PCPOOL_PCPBUDDY_REMOTE_LIST,
};

int pcpool_pcpbuddy_set_remote_free(struct pcpool_pcpbuddy *pb,
				    enum pcpool_pcpbuddy_remote mode);

/*
 * Order-0 pages each pool keeps in its front cache, ahead of the buddy
 * lists (as the kernel's PCP list sits ahead of the zone's free lists):
 * an allocation or free there touches no map and merges nothing.  0 (the
 * core's default) turns it off; at most high.  Pages already cached stay
 * until the next flush or drain.
 */
int pcpool_pcpbuddy_set_front(struct pcpool_pcpbuddy *pb, unsigned long high);

/*
 * @cpu's NUMA node: its pool claims and grows blocks on that node first
 * (other nodes' blocks only when none is left there and the zone cannot
 * grow one), and its steals visit CPUs of that node first.
 */
void pcpool_pcpbuddy_set_node(struct pcpool_pcpbuddy *pb, unsigned int cpu,
			      int node);

/*
 * 2^order pages, 0 <= order <= block order, of migratetype @mt: from its
 * own lists and blocks claimed for it (phases 0-3), and only when none
 * is left anywhere, from another type's (phase 4, as 6.1's
 * __rmqueue_fallback()).  alloc may grow the zone; it takes
 * PCPOOL_MT_DEFAULT.
 */
struct page *pcpool_pcpbuddy_alloc_mt(struct pcpool_pcpbuddy *pb,
				      unsigned int order, unsigned int mt);
static inline struct page *pcpool_pcpbuddy_alloc(struct pcpool_pcpbuddy *pb,
						 unsigned int order)
{
	return pcpool_pcpbuddy_alloc_mt(pb, order, PCPOOL_MT_DEFAULT);
}

void pcpool_pcpbuddy_free(struct pcpool_pcpbuddy *pb, struct page *page,
			  unsigned int order);

/*
 * The interrupt-safe pair.  Call with local interrupts off; they never
 * sleep and never spin on a lock, so a hardirq or softirq that interrupts
 * a holder of a pool or zone lock on this CPU cannot deadlock, and the
 * process-context paths above stay as they are.
 *
 * alloc_nowait: this CPU's pool, then the others, each under a trylock:
 * the front cache, the lists without merging, the remote-free list taken
 * in without giving blocks back; @mt's chunks first in each pool, then
 * another type's (counted as a fallback).  Never the zone: NULL when
 * every pool is empty or busy, as GFP_ATOMIC may fail.
 *
 * free_nowait: from any context on any CPU.  The chunk goes on its
 * owner's lock-free remote-free list (this CPU's own list when the block
 * is unowned, marked loose); whoever takes that pool's lock next absorbs
 * it, as with PCPOOL_PCPBUDDY_REMOTE_LIST.  Touches no lock.
 */
struct page *pcpool_pcpbuddy_alloc_nowait_mt(struct pcpool_pcpbuddy *pb,
					     unsigned int order,
					     unsigned int mt);
static inline struct page *
pcpool_pcpbuddy_alloc_nowait(struct pcpool_pcpbuddy *pb, unsigned int order)
{
	return pcpool_pcpbuddy_alloc_nowait_mt(pb, order, PCPOOL_MT_DEFAULT);
}

void pcpool_pcpbuddy_free_nowait(struct pcpool_pcpbuddy *pb,
				 struct page *page, unsigned int order);

/*
 * Empty every pool holding pages into the zone; empty pools are skipped
 * without taking their lock.  Never allocates.  Returns pages drained.
 */
unsigned long pcpool_pcpbuddy_drain_all(struct pcpool_pcpbuddy *pb);
/* The same, saying what it did in *@r. */
void pcpool_pcpbuddy_drain_all_count(struct pcpool_pcpbuddy *pb,
				     struct pcpool_drain_result *r);
/* CPU hotplug: a dead CPU's pool is emptied and later frees bypass it. */
void pcpool_pcpbuddy_cpu_dead(struct pcpool_pcpbuddy *pb, unsigned int cpu);
void pcpool_pcpbuddy_cpu_online(struct pcpool_pcpbuddy *pb, unsigned int cpu);
/* Shrinker: drain all, then give back up to @nr_pages in whole blocks. */
unsigned long pcpool_pcpbuddy_shrink(struct pcpool_pcpbuddy *pb,
				     unsigned long nr_pages);
unsigned long pcpool_pcpbuddy_shrink_count(struct pcpool_pcpbuddy *pb);

/*
 * Pages free in all pools and on their remote-free lists, summed over
 * per-CPU counts (racy; exact when quiescent).
 */
unsigned long pcpool_pcpbuddy_pool_pages(struct pcpool_pcpbuddy *pb);
/* One CPU's pool as it is now, for debugfs. */
struct pcpool_pcpbuddy_pool_state {
	unsigned long pages;		/* free in the pool, front included */
	unsigned long owned_blocks;	/* blocks the CPU owns */
	unsigned long whole_blocks;	/* ... entirely free in its pool */
	unsigned long front_pages;
	unsigned long remote_chunks;	/* on its remote-free list */
	unsigned long remote_pages;
	bool dead;
};

/*
 * Fill *@s for @cpu under its pool lock (the remote-free list is walked,
 * not counted: only lock holders take chunks off it).  O(span).  -EINVAL
 * for a CPU out of range.
 */
int pcpool_pcpbuddy_get_pool_state(struct pcpool_pcpbuddy *pb,
				   unsigned int cpu,
				   struct pcpool_pcpbuddy_pool_state *s);
/* Owner of the block holding @page (racy; for tests and debugging). */
int pcpool_pcpbuddy_owner(struct pcpool_pcpbuddy *pb, struct page *page);

/* pcpbuddy_* keys summed over CPUs, then the zone's keys. */
void pcpool_pcpbuddy_counters(struct pcpool_pcpbuddy *pb, pcpool_emit_fn emit,
			      void *arg);
/* One CPU's pcpbuddy_* keys plus its pool's free and stolen pages. */
void pcpool_pcpbuddy_cpu_counters(struct pcpool_pcpbuddy *pb, unsigned int cpu,
				  pcpool_emit_fn emit, void *arg);
void pcpool_pcpbuddy_reset_counters(struct pcpool_pcpbuddy *pb);
/* Cross-check every pool list, map and count, then the zone.  0 = ok. */
unsigned long pcpool_pcpbuddy_check(struct pcpool_pcpbuddy *pb);

#endif /* _PCPOOL_PCPBUDDY_H */
