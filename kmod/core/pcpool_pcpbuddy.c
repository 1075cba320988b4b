// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool pcpbuddy: per-CPU pools that own whole pageblocks of a pcpool
 * zone and run a buddy allocator inside them.  See
 * Documentation/pcpbuddy.rst.
 */
#include "pcpool_pcpbuddy.h"

/* page_private() of a chunk on a pool list: its order, this flag if
 * the chunk is cached without ownership (never merged, drained as is),
 * and the migratetype whose list it is on.
 */
#define PCPBUDDY_LOOSE		0x10000UL
#define PCPBUDDY_ORDER_MASK	0xffffUL
#define PCPBUDDY_MT_SHIFT	17
#define PCPBUDDY_MT_MASK	0x3UL	/* holds PCPOOL_MT_TYPES - 1 */

static inline unsigned int chunk_mt(struct page *page)
{
	return (page_private(page) >> PCPBUDDY_MT_SHIFT) & PCPBUDDY_MT_MASK;
}

/* As in pcpool_zone_alloc(): a grown block can be claimed by others. */
#define PCPBUDDY_GROW_TRIES	4

#define cpu_stat_add(pb, field, n) do {					\
	unsigned int __c = get_cpu();					\
	pcpool_stat_add(&(pb)->stats[__c].field, (n));			\
	put_cpu();							\
} while (0)

/* The zone's block index, from pcpbuddy's own copies of its geometry. */
static inline unsigned long pb_idx(struct pcpool_pcpbuddy *pb,
				   unsigned long pfn)
{
	return (pfn >> pb->order) - pb->base_block;
}

static inline struct pcpool_pcpbuddy_blk *pb_blk(struct pcpool_pcpbuddy *pb,
						 unsigned long idx)
{
	return (struct pcpool_pcpbuddy_blk *)(pb->blk + (idx << pb->blk_shift));
}

static inline unsigned long *pb_map(struct pcpool_pcpbuddy *pb,
				    unsigned long idx)
{
	return pb_blk(pb, idx)->map;
}

static inline unsigned long pb_off(struct pcpool_pcpbuddy *pb,
				   unsigned long pfn)
{
	return pfn & (pb->zone->block_pages - 1);
}

static inline unsigned int this_cpu_id(struct pcpool_pcpbuddy *pb)
{
	unsigned int cpu = raw_smp_processor_id();

	if (WARN_ON_ONCE(cpu >= pb->nr_cpus))
		cpu = 0;
	return cpu;
}

/*
 * pool_add() and pool_del() are most of a pool hit: inline on the hot
 * path, as classic's are.  Out of line, a hit made 5 calls more than
 * classic's and cost twice as much (Documentation/pcpbuddy.rst).
 */
static __always_inline void pool_add(struct pcpool_pcpbuddy *pb,
				     struct pcpool_pcpbuddy_pool *pool,
				     unsigned long pfn, unsigned int order,
				     bool loose, unsigned int mt)
{
	struct page *page = pfn_to_page(pfn);

	set_page_private(page, order | (loose ? PCPBUDDY_LOOSE : 0) |
			 ((unsigned long)mt << PCPBUDDY_MT_SHIFT));
	list_add(&page->lru, &pool->area[mt][order]);
	pool->nr_free[mt][order]++;
	WRITE_ONCE(pool->free_pages, pool->free_pages + (1UL << order));
	if (!loose) {
		unsigned long idx = pb_idx(pb, pfn);

		__set_bit(pb_off(pb, pfn), pb_map(pb, idx));
		pb_blk(pb, idx)->pool_free += 1U << order;
		if (pb_blk(pb, idx)->pool_free == pb->zone->block_pages)
			pool->nr_whole++;
	}
}

/* Take a chunk off its list; returns true if it was loose. */
static __always_inline bool pool_del(struct pcpool_pcpbuddy *pb,
				     struct pcpool_pcpbuddy_pool *pool,
				     struct page *page, unsigned long pfn,
				     unsigned int order)
{
	bool loose = page_private(page) & PCPBUDDY_LOOSE;

	pool->nr_free[chunk_mt(page)][order]--;
	list_del(&page->lru);
	set_page_private(page, 0);
	WRITE_ONCE(pool->free_pages, pool->free_pages - (1UL << order));
	if (!loose) {
		unsigned long idx = pb_idx(pb, pfn);

		__clear_bit(pb_off(pb, pfn), pb_map(pb, idx));
		if (pb_blk(pb, idx)->pool_free == pb->zone->block_pages)
			pool->nr_whole--;
		pb_blk(pb, idx)->pool_free -= 1U << order;
	}
	return loose;
}

/* A chunk on a remote-free list or in a front cache: page->lru is the node. */
static inline struct llist_node *page_llnode(struct page *page)
{
	return (struct llist_node *)&page->lru;
}

static inline struct page *llnode_page(struct llist_node *node)
{
	return list_entry((struct list_head *)node, struct page, lru);
}

/*
 * The front cache: an order-0 page of a block the pool owns, pushed and
 * popped with nothing else touched (page_private() stays 0).  The count
 * updates are the caller's, so an absorb adds once.
 */
static __always_inline void front_push(struct pcpool_pcpbuddy_pool *pool,
				       struct page *page, unsigned int mt)
{
	page_llnode(page)->next = pool->front[mt];
	pool->front[mt] = page_llnode(page);
}

static __always_inline void front_count(struct pcpool_pcpbuddy_pool *pool,
					long n)
{
	WRITE_ONCE(pool->front_pages, pool->front_pages + n);
	WRITE_ONCE(pool->free_pages, pool->free_pages + n);
}

static __always_inline struct page *
front_pop(struct pcpool_pcpbuddy_pool *pool, unsigned int mt)
{
	struct llist_node *node = pool->front[mt];

	pool->front[mt] = node->next;
	front_count(pool, -1);
	return llnode_page(node);
}

/* An owned free chunk of exactly @order at @pfn, in the owner's pool. */
static inline bool pool_free_head(struct pcpool_pcpbuddy *pb,
				  unsigned long pfn, unsigned int order)
{
	unsigned long idx = pb_idx(pb, pfn);

	return test_bit(pb_off(pb, pfn), pb_map(pb, idx)) &&
	       (page_private(pfn_to_page(pfn)) & PCPBUDDY_ORDER_MASK) == order;
}

/*
 * Take every chunk of block @idx off the pool's lists: the block is
 * entirely free here.  Returns the chunks taken.
 */
static unsigned long collect_block(struct pcpool_pcpbuddy *pb,
				   struct pcpool_pcpbuddy_pool *pool,
				   unsigned long idx)
__must_hold(&pool->lock)
{
	struct pcpool_zone *zone = pb->zone;
	unsigned long base = (zone->base_block + idx) << zone->order;
	unsigned long *map = pb_map(pb, idx), off, n = 0;

	for (off = find_next_bit(map, zone->block_pages, 0);
	     off < zone->block_pages;
	     off = find_next_bit(map, zone->block_pages, off + 1)) {
		struct page *page = pfn_to_page(base + off);

		pool_del(pb, pool, page, base + off,
			 page_private(page) & PCPBUDDY_ORDER_MASK);
		n++;
	}
	return n;
}

/*
 * Put a chunk of a block this pool owns back.  Merging is lazy: a free
 * only links the chunk, and buddies merge when a drain merges bottom-up,
 * when a larger order is asked for, or when a block entirely free here
 * goes back to the zone (its chunks are collected at once).  So a CPU
 * that allocates and frees one page does not split and re-merge a
 * pageblock every time.  Up to reserve entirely free blocks stay, in
 * whatever pieces they are; beyond that the block goes back to the zone
 * whole and its ownership ends.
 */
static __always_inline void
insert_owned(struct pcpool_pcpbuddy *pb, struct pcpool_pcpbuddy_pool *pool,
	     struct pcpool_pcpbuddy_stats *st, unsigned long pfn,
	     unsigned int order)
__must_hold(&pool->lock)
{
	struct pcpool_zone *zone = pb->zone;
	unsigned long idx = pb_idx(pb, pfn);
	unsigned long base = pfn & ~(zone->block_pages - 1);

	/* an owned block's type is ours to change: stable under our lock */
	pool_add(pb, pool, pfn, order, false, pcpool_zone_pfn_mt(zone, pfn));
	if (pb_blk(pb, idx)->pool_free != zone->block_pages ||
	    pool->nr_whole <= pb->reserve)
		return;
	pcpool_stat_add(&st->pool_merges, collect_block(pb, pool, idx) - 1);
	pcpool_stat_add(&st->blocks_returned, 1);
	pcpool_zone_return_block(zone, pfn_to_page(base));
}

/*
 * Merge each owned chunk on @mt's order-@o list with its free buddy, into
 * order @o + 1.  Returns the merges.
 */
static unsigned long merge_list(struct pcpool_pcpbuddy *pb,
				struct pcpool_pcpbuddy_pool *pool,
				unsigned int mt, unsigned int o)
__must_hold(&pool->lock)
{
	struct list_head *area = &pool->area[mt][o], walk;
	unsigned long merges = 0;

	if (pool->nr_free[mt][o] < 2)
		return 0;
	/* Walk a detached copy; list_del works wherever a chunk is. */
	INIT_LIST_HEAD(&walk);
	list_splice_init(area, &walk);
	while (!list_empty(&walk)) {
		struct page *page = list_first_entry(&walk, struct page, lru);
		unsigned long pfn = page_to_pfn(page), buddy;

		list_del(&page->lru);
		list_add_tail(&page->lru, area);
		if (page_private(page) & PCPBUDDY_LOOSE)
			continue;
		buddy = pfn ^ (1UL << o);
		if (!pool_free_head(pb, buddy, o))
			continue;
		pool_del(pb, pool, pfn_to_page(buddy), buddy, o);
		pool_del(pb, pool, page, pfn, o);
		pool_add(pb, pool, pfn & ~(1UL << o), o + 1, false, mt);
		merges++;
	}
	return merges;
}

/*
 * Merge every owned chunk with its free buddy, bottom-up.  Buddies share
 * a block, so a type: each type's lists on their own.
 */
static void merge_pool(struct pcpool_pcpbuddy *pb,
		       struct pcpool_pcpbuddy_pool *pool,
		       struct pcpool_pcpbuddy_stats *st)
__must_hold(&pool->lock)
{
	unsigned int o, mt, top = pb->zone->order;
	unsigned long merges = 0;

	for (mt = 0; mt < PCPOOL_MT_TYPES; mt++)
		for (o = 0; o < top; o++)
			merges += merge_list(pb, pool, mt, o);
	if (merges)
		pcpool_stat_add(&st->pool_merges, merges);
}

/*
 * Smallest chunk of at least @order on @mt's lists, split down; halves
 * stay in @pool, on the same lists.
 */
static __always_inline struct page *
pool_rmqueue(struct pcpool_pcpbuddy *pb, struct pcpool_pcpbuddy_pool *pool,
	     struct pcpool_pcpbuddy_stats *st, unsigned int order,
	     unsigned int mt)
__must_hold(&pool->lock)
{
	unsigned int o;

	for (o = order; o <= pb->zone->order; o++) {
		struct page *page;
		unsigned long pfn;
		bool loose;

		if (!pool->nr_free[mt][o])
			continue;
		page = list_first_entry(&pool->area[mt][o], struct page, lru);
		pfn = page_to_pfn(page);
		loose = pool_del(pb, pool, page, pfn, o);
		while (o > order) {
			o--;
			pool_add(pb, pool, pfn + (1UL << o), o, loose, mt);
			pcpool_stat_add(&st->pool_splits, 1);
		}
		return page;
	}
	return NULL;
}

static void front_flush(struct pcpool_pcpbuddy *pb,
			struct pcpool_pcpbuddy_pool *pool,
			struct pcpool_pcpbuddy_stats *st);

/* @mt's front cache or lists, without merging. */
static struct page *take_listed(struct pcpool_pcpbuddy *pb,
				struct pcpool_pcpbuddy_pool *pool,
				struct pcpool_pcpbuddy_stats *st, unsigned int order,
				unsigned int mt)
__must_hold(&pool->lock)
{
	if (!order && pool->front[mt]) {
		pcpool_stat_add(&st->front_allocs, 1);
		return front_pop(pool, mt);
	}
	return pool_rmqueue(pb, pool, st, order, mt);
}

/*
 * The front cache for order 0, else pool_rmqueue(), merging first (the
 * front cache emptied into the lists) if the pages are there in pieces.
 */
static struct page *pool_get(struct pcpool_pcpbuddy *pb,
			     struct pcpool_pcpbuddy_pool *pool,
			     struct pcpool_pcpbuddy_stats *st, unsigned int order,
			     unsigned int mt)
__must_hold(&pool->lock)
{
	struct page *page = take_listed(pb, pool, st, order, mt);

	if (page || !order || pool->free_pages < (1UL << order))
		return page;
	front_flush(pb, pool, st);
	merge_pool(pb, pool, st);
	return pool_rmqueue(pb, pool, st, order, mt);
}

static void frag_note(struct pcpool_pcpbuddy_pool *pool, unsigned long idx)
{
	unsigned int i;

	for (i = 0; i < PCPOOL_PCPBUDDY_FRAG_RING; i++)
		if (pool->frag[i] == idx + 1)
			return;
	pool->frag[pool->frag_head] = idx + 1;
	pool->frag_head = (pool->frag_head + 1) % PCPOOL_PCPBUDDY_FRAG_RING;
}

static unsigned long absorb_remote(struct pcpool_pcpbuddy *pb,
				   struct pcpool_pcpbuddy_pool *pool,
				   struct pcpool_pcpbuddy_stats *st, bool zone_ok);

/* An owned chunk goes to the zone: a fragment to recover later, or a block. */
static void note_drained(struct pcpool_pcpbuddy *pb,
			 struct pcpool_pcpbuddy_pool *pool,
			 struct pcpool_pcpbuddy_stats *st, unsigned long pfn,
			 unsigned int order)
{
	unsigned long idx = pb_idx(pb, pfn);

	if (order < pb->order) {
		frag_note(pool, idx);
		WRITE_ONCE(pb_blk(pb, idx)->zone_frags,
			   READ_ONCE(pb_blk(pb, idx)->zone_frags) + (1U << order));
	} else {
		pcpool_stat_add(&st->blocks_returned, 1);
	}
}

/*
 * The coarsest chunk on the lists, of any type, no coarser than *@order,
 * which it sets to the chunk's; NULL when the lists are empty.
 */
static struct page *pool_coarsest(struct pcpool_pcpbuddy_pool *pool,
				  unsigned int *order)
{
	unsigned int o, mt;

	for (o = *order + 1; o-- > 0;) {
		for (mt = 0; mt < PCPOOL_MT_TYPES; mt++) {
			if (!pool->nr_free[mt][o])
				continue;
			*order = o;
			return list_last_entry(&pool->area[mt][o], struct page,
					       lru);
		}
	}
	return NULL;
}

/*
 * Hand chunks to the zone, coarsest first, until at most @target pages
 * stay (none if the pool is dead), under one zone-lock acquisition per
 * node they are on.
 * Remote frees queued for the pool are absorbed first, then the front
 * cache goes into the lists (a block it completes goes back on its own,
 * as on any free) and the lists are merged bottom-up.  Returns pages
 * handed over.
 */
static unsigned long drain_pool(struct pcpool_pcpbuddy *pb,
				struct pcpool_pcpbuddy_pool *pool,
				struct pcpool_pcpbuddy_stats *st,
				unsigned long target)
__must_hold(&pool->lock)
{
	unsigned int o = pb->order;
	unsigned long before;

	absorb_remote(pb, pool, st, true);
	if (pool->dead)
		target = 0;
	before = pool->free_pages;
	if (before <= target)
		return 0;
	/* may hand whole blocks over already: counted by the difference */
	front_flush(pb, pool, st);
	merge_pool(pb, pool, st);
	if (pool->free_pages > target) {
		/* on the stack, through page->lru: a drain allocates nothing */
		struct list_head list;

		INIT_LIST_HEAD(&list);
		while (pool->free_pages > target) {
			struct page *page = pool_coarsest(pool, &o);
			unsigned long pfn;

			if (WARN_ON_ONCE(!page))
				break;
			pfn = page_to_pfn(page);
			if (!pool_del(pb, pool, page, pfn, o))
				note_drained(pb, pool, st, pfn, o);
			set_page_private(page, o);
			list_add_tail(&page->lru, &list);
		}
		pcpool_zone_free_list(pb->zone, &list);
	}
	return before > pool->free_pages ? before - pool->free_pages : 0;
}

/*
 * Take every fragment of block @idx (ours) back from the zone, merging.
 * Returns pages taken.
 */
static unsigned long take_back(struct pcpool_pcpbuddy *pb,
			       struct pcpool_pcpbuddy_pool *pool,
			       struct pcpool_pcpbuddy_stats *st,
			       unsigned int cpu, unsigned long idx)
__must_hold(&pool->lock)
{
	struct pcpool_zone *zone = pb->zone;
	unsigned long pfn = (zone->base_block + idx) << zone->order, got;
	struct list_head list;

	if (pcpool_zone_owner(zone, pfn) != (int)cpu)
		return 0;
	INIT_LIST_HEAD(&list);
	got = pcpool_zone_take_fragments(zone, pfn, &list);
	/* a hint (see struct pcpool_pcpbuddy): races only make it stale */
	if (pcpool_zone_owner(zone, pfn) == (int)cpu)
		WRITE_ONCE(pb_blk(pb, idx)->zone_frags, 0);
	while (!list_empty(&list)) {
		struct page *page = list_first_entry(&list, struct page, lru);
		unsigned int o = page_private(page);
		unsigned long cpfn = page_to_pfn(page);

		list_del(&page->lru);
		set_page_private(page, 0);
		/*
		 * Ownership of a block we own ends under our lock or once it
		 * is whole in the zone; in the latter case someone may have
		 * claimed it since: then cache the chunk without ownership.
		 */
		if (pcpool_zone_owner(zone, cpfn) == (int)cpu)
			insert_owned(pb, pool, st, cpfn, o);
		else
			pool_add(pb, pool, cpfn, o, true,
				 pcpool_zone_pfn_mt(zone, cpfn));
	}
	return got;
}

/*
 * Phase 0: take back fragments of owned blocks of type @mt that drains
 * left in the zone; blocks of other types stay noted for their type.
 */
static struct page *refill_fragments(struct pcpool_pcpbuddy *pb,
				     struct pcpool_pcpbuddy_pool *pool,
				     struct pcpool_pcpbuddy_stats *st,
				     unsigned int cpu, unsigned int order,
				     unsigned int mt)
__must_hold(&pool->lock)
{
	struct pcpool_zone *zone = pb->zone;
	unsigned int i;

	for (i = 0; i < PCPOOL_PCPBUDDY_FRAG_RING; i++) {
		unsigned int slot = (pool->frag_head + PCPOOL_PCPBUDDY_FRAG_RING
				     - 1 - i) % PCPOOL_PCPBUDDY_FRAG_RING;
		unsigned long idx, got, base;
		struct page *page;

		if (!pool->frag[slot])
			continue;
		idx = pool->frag[slot] - 1;
		base = (zone->base_block + idx) << zone->order;
		if (pcpool_zone_owner(zone, base) == (int)cpu &&
		    pcpool_zone_pfn_mt(zone, base) != mt)
			continue;
		pool->frag[slot] = 0;
		got = take_back(pb, pool, st, cpu, idx);
		if (!got)
			continue;
		pcpool_stat_add(&st->refill_phase0, 1);
		pcpool_stat_add(&st->refill_phase0_pages, got);
		page = pool_get(pb, pool, st, order, mt);
		if (page)
			return page;
	}
	return NULL;
}

/*
 * A whole block of another type in this pool becomes @mt's: nothing of
 * it is in use, so no types mix (6.1 moves a free pageblock between
 * types the same way).  Merges first when a whole block is in pieces.
 */
static struct page *retag_whole(struct pcpool_pcpbuddy *pb,
				struct pcpool_pcpbuddy_pool *pool,
				struct pcpool_pcpbuddy_stats *st,
				unsigned int order, unsigned int mt)
__must_hold(&pool->lock)
{
	unsigned int top = pb->zone->order, i, merged = 0;

	if (!pool->nr_whole)
		return NULL;
	for (i = 0; i < PCPOOL_MT_TYPES - 1; i++)
		merged += pool->nr_free[pcpool_mt_fallbacks[mt][i]][top];
	if (!merged) {
		front_flush(pb, pool, st);
		merge_pool(pb, pool, st);
	}
	for (i = 0; i < PCPOOL_MT_TYPES - 1; i++) {
		unsigned int f = pcpool_mt_fallbacks[mt][i];
		struct page *page;
		unsigned long pfn;

		if (!pool->nr_free[f][top])
			continue;
		page = list_first_entry(&pool->area[f][top], struct page, lru);
		pfn = page_to_pfn(page);
		if (page_private(page) & PCPBUDDY_LOOSE)
			continue;
		pool_del(pb, pool, page, pfn, top);
		pcpool_zone_set_mt(pb->zone, pfn, mt);
		pool_add(pb, pool, pfn, top, false, mt);
		pcpool_stat_add(&st->mt_retags, 1);
		return pool_rmqueue(pb, pool, st, order, mt);
	}
	return NULL;
}

/*
 * Phase 1: a whole free block, split here: one of ours of another type,
 * retagged, else one from the zone, tagged @mt.  One on this CPU's node,
 * or with @any_node (the zone cannot grow one there) on any node, as the
 * kernel walks a zonelist from the local node's zone outwards.
 */
static struct page *refill_claim(struct pcpool_pcpbuddy *pb,
				 struct pcpool_pcpbuddy_pool *pool,
				 struct pcpool_pcpbuddy_stats *st,
				 unsigned int cpu, unsigned int order,
				 unsigned int mt, bool any_node)
__must_hold(&pool->lock)
{
	int node = pb->node[cpu];
	struct page *page;

	page = retag_whole(pb, pool, st, order, mt);
	if (page)
		return page;
	page = pcpool_zone_claim_block_node(pb->zone, cpu, node, any_node, mt);
	if (!page)
		return NULL;
	pcpool_stat_add(&st->refill_phase1, 1);
	pcpool_stat_add(&st->blocks_claimed, 1);
	if (pcpool_zone_pfn_node(pb->zone, page_to_pfn(page)) == node)
		pcpool_stat_add(&st->claims_local, 1);
	else
		pcpool_stat_add(&st->claims_remote, 1);
	WRITE_ONCE(pb_blk(pb, pb_idx(pb, page_to_pfn(page)))->zone_frags, 0);
	pool_add(pb, pool, page_to_pfn(page), pb->zone->order, false, mt);
	return pool_rmqueue(pb, pool, st, order, mt);
}

/*
 * Phase 2: sub-block chunks of @mt in the zone, cached without ownership,
 * from the first zone of @node's zonelist that has some.
 */
static struct page *refill_loose(struct pcpool_pcpbuddy *pb,
				 struct pcpool_pcpbuddy_pool *pool,
				 struct pcpool_pcpbuddy_stats *st, int node,
				 unsigned int order, unsigned int mt)
__must_hold(&pool->lock)
{
	unsigned long got = 0;
	unsigned int i;

	if (order >= pb->order)
		return NULL;
	for (i = 0; i < pb->zone->nr_nodes && !got; i++) {
		struct pcpool_zone *zone = pcpool_zone_nearest(pb->zone, node,
							       i);

		pcpool_zone_lock(zone);
		do {
			unsigned int o;
			struct page *page;

			page = __pcpool_zone_rmqueue_largest(zone, order,
							     zone->order - 1,
							     mt, &o);
			if (!page)
				break;
			pool_add(pb, pool, page_to_pfn(page), o, true, mt);
			got += 1UL << o;
		} while (got < pb->batch);
		pcpool_zone_unlock(zone);
	}
	if (!got)
		return NULL;
	pcpool_stat_add(&st->refill_phase2, 1);
	pcpool_stat_add(&st->refill_phase2_pages, got);
	return pool_get(pb, pool, st, order, mt);
}

/*
 * Steal order: pass 0 the CPUs on @cpu's node, pass 1 the others (none
 * on one node), each pass by CPU id from @cpu on.  Is @v in @pass?
 */
static inline bool in_steal_pass(struct pcpool_pcpbuddy *pb, unsigned int cpu,
				 unsigned int v, int pass)
{
	return (READ_ONCE(pb->node[v]) == READ_ONCE(pb->node[cpu])) == !pass;
}

static inline int steal_passes(struct pcpool_pcpbuddy *pb)
{
	return READ_ONCE(pb->numa) ? 2 : 1;
}

/* What one steal wants of a victim's pool; NULL: nothing there for it. */
struct steal_req {
	struct page *(*take)(struct pcpool_pcpbuddy *pb,
			     struct pcpool_pcpbuddy_pool *victim,
			     struct steal_req *req);
	struct pcpool_pcpbuddy_stats *st;
	unsigned int order;
	unsigned int mt;
	bool absorbed;		/* a victim's remote list was taken in */
};

/*
 * The other pools in steal order, until @req->take() gets a page.  The
 * CPU this CPU last stole from comes first when it is on this CPU's node:
 * where a steal found pages the next one likely finds more, and without
 * it every steal walks the empty pools in between (one pass over n CPUs
 * per steal when one CPU holds the memory).  Then pass 0, this node's
 * CPUs, and pass 1, the others, each by CPU id from @cpu on.  Returns
 * the page, with the pass that found it, 1-based, in *@found.
 */
static struct page *steal_scan(struct pcpool_pcpbuddy *pb, unsigned int cpu,
			       struct steal_req *req, int *found)
{
	struct pcpool_pcpbuddy_pool *me = &pb->pool[cpu];
	unsigned int v = READ_ONCE(me->steal_hint), tried = cpu, d;
	int pass = 0, passes = steal_passes(pb);
	unsigned long visits = 0;
	struct page *page = NULL;

	/* steal_hint is the victim + 1: 0, none yet */
	if (v-- && v != cpu && v < pb->nr_cpus &&
	    in_steal_pass(pb, cpu, v, 0)) {
		tried = v;
		visits++;
		page = req->take(pb, &pb->pool[v], req);
		if (page)
			pass = 1;
	}
	for (; pass < passes && !page; pass++) {
		for (d = 1; d < pb->nr_cpus && !page; d++) {
			v = (cpu + d) % pb->nr_cpus;
			if (v == tried || !in_steal_pass(pb, cpu, v, pass))
				continue;
			visits++;
			page = req->take(pb, &pb->pool[v], req);
		}
	}
	pcpool_stat_add(&req->st->steal_visits, visits);
	if (page)
		WRITE_ONCE(me->steal_hint, v + 1);
	*found = pass;
	return page;
}

/* steal()'s take: the victim's lock, waiting for it. */
static struct page *steal_take(struct pcpool_pcpbuddy *pb,
			       struct pcpool_pcpbuddy_pool *victim,
			       struct steal_req *req)
{
	struct page *page = NULL;

	if (READ_ONCE(victim->free_pages) < (1UL << req->order) &&
	    llist_empty(&victim->remote))
		return NULL;
	spin_lock(&victim->lock);
	if (!victim->dead) {
		if (absorb_remote(pb, victim, req->st, true))
			req->absorbed = true;
		page = pool_get(pb, victim, req->st, req->order, req->mt);
	}
	if (page)
		WRITE_ONCE(victim->stolen_pages,
			   victim->stolen_pages + (1UL << req->order));
	spin_unlock(&victim->lock);
	return page;
}

/* A steal done: counted, by the pass that found it (1 same node, 2 other). */
static void count_steal(struct pcpool_pcpbuddy_stats *st, unsigned int order,
			int found)
{
	pcpool_stat_add(&st->refill_phase3, 1);
	pcpool_stat_add(&st->steal_pages, 1UL << order);
	pcpool_stat_add(found == 1 ? &st->steals_same_node :
		       &st->steals_other_node, 1);
}

/*
 * Phase 3: one chunk of @mt from another CPU's pool, same node first,
 * then by CPU distance; never more than the request.  Holds one pool
 * lock at a time, never our own.
 */
static struct page *steal(struct pcpool_pcpbuddy *pb, unsigned int order,
			  unsigned int mt, bool *absorbed)
{
	unsigned int cpu = get_cpu();
	struct steal_req req = {
		.take = steal_take, .st = &pb->stats[cpu],
		.order = order, .mt = mt,
	};
	struct page *page;
	int found;

	page = steal_scan(pb, cpu, &req, &found);
	if (page)
		count_steal(req.st, order, found);
	if (req.absorbed)
		*absorbed = true;
	put_cpu();
	return page;
}

/*
 * Phase 4, when @mt has nothing left anywhere: another type's chunk, in
 * 6.1's fallback order: this pool's lists, the zone's (which may claim
 * an unowned block for @mt whole, as __rmqueue_fallback() does), then
 * the other pools'.  Smallest fit first: the other type's blocks split
 * least.  Holds one pool lock at a time.
 */
static struct page *fallback(struct pcpool_pcpbuddy *pb, unsigned int order,
			     unsigned int mt, bool *absorbed)
{
	unsigned int cpu = get_cpu(), i;
	struct pcpool_pcpbuddy_pool *pool = &pb->pool[cpu];
	struct pcpool_pcpbuddy_stats *st = &pb->stats[cpu];
	struct page *page = NULL;

	spin_lock(&pool->lock);
	for (i = 0; i < PCPOOL_MT_TYPES - 1 && !page; i++)
		page = pool_get(pb, pool, st, order, pcpool_mt_fallbacks[mt][i]);
	/* the zones as get_page_from_freelist() walks them, nearest first */
	for (i = 0; i < pb->zone->nr_nodes && !page; i++) {
		struct pcpool_zone *zone;

		zone = pcpool_zone_nearest(pb->zone, READ_ONCE(pb->node[cpu]),
					   i);
		pcpool_zone_lock(zone);
		page = __pcpool_zone_rmqueue(zone, order, mt);
		pcpool_zone_unlock(zone);
	}
	spin_unlock(&pool->lock);
	put_cpu();
	for (i = 0; i < PCPOOL_MT_TYPES - 1 && !page; i++)
		page = steal(pb, order, pcpool_mt_fallbacks[mt][i], absorbed);
	/* a block the zone claimed for @mt whole mixes nothing */
	if (page && pcpool_zone_pfn_mt(pb->zone, page_to_pfn(page)) != mt)
		cpu_stat_add(pb, mt_fallbacks, 1);
	return page;
}

/*
 * Above high, after a free or an absorb of remote frees: give back down to
 * high - batch.  Out of line: it is the rare end of both hot paths.
 */
static noinline void drain_over_high(struct pcpool_pcpbuddy *pb,
				     struct pcpool_pcpbuddy_pool *pool,
				     struct pcpool_pcpbuddy_stats *st)
__must_hold(&pool->lock)
{
	pcpool_stat_add(&st->drains, 1);
	pcpool_stat_add(&st->drain_pages,
			drain_pool(pb, pool, st, pb->high - pb->batch));
}

/*
 * A miss, under the pool lock: take the remote frees in, merge on demand,
 * take a fragment or claim a block.  NULL when the zone must grow or
 * another pool be stolen from, which alloc_slow() does without the lock.
 * Out of line: the hit keeps its registers.
 */
static noinline struct page *alloc_miss(struct pcpool_pcpbuddy *pb,
					struct pcpool_pcpbuddy_pool *pool,
					struct pcpool_pcpbuddy_stats *st,
					unsigned int cpu, unsigned int order,
					unsigned int mt, bool any_node)
__must_hold(&pool->lock)
{
	bool absorbed = absorb_remote(pb, pool, st, true);
	struct page *page = pool_get(pb, pool, st, order, mt);

	/* absorbed remote frees may leave it above high */
	if (absorbed && pool->free_pages > pb->high)
		drain_over_high(pb, pool, st);
	if (!page)
		page = refill_fragments(pb, pool, st, cpu, order, mt);
	if (!page)
		page = refill_claim(pb, pool, st, cpu, order, mt, any_node);
	return page;
}

/*
 * One try at this CPU's pool, under its lock: the hits inline, a miss in
 * alloc_miss(), and at the zone's limit the loose chunks.  *@cpup is the
 * CPU it ran on.
 */
static __always_inline struct page *alloc_pool(struct pcpool_pcpbuddy *pb,
					       unsigned int order,
					       unsigned int mt, bool at_limit,
					       bool any_node,
					       unsigned int *cpup)
{
	unsigned int cpu = get_cpu();
	struct pcpool_pcpbuddy_pool *pool = &pb->pool[cpu];
	struct pcpool_pcpbuddy_stats *st = &pb->stats[cpu];
	struct page *page;

	spin_lock(&pool->lock);
	/* The hits, inline; pool_get() merges on demand. */
	if (!order && pool->front[mt]) {
		page = front_pop(pool, mt);
		pcpool_stat_add(&st->front_allocs, 1);
	} else if (likely(pool->nr_free[mt][order])) {
		page = pool_rmqueue(pb, pool, st, order, mt);
	} else {
		page = alloc_miss(pb, pool, st, cpu, order, mt,
				  at_limit || any_node);
	}
	if (!page && at_limit)
		page = refill_loose(pb, pool, st, READ_ONCE(pb->node[cpu]),
				    order, mt);
	if (likely(page))
		pcpool_stat_add(&st->allocs, 1);
	spin_unlock(&pool->lock);
	put_cpu();
	*cpup = cpu;
	return page;
}

/*
 * The pool had nothing and could not claim a block: grow the zone, or at
 * its limit steal and fall back, trying the pool again after each step.
 * Out of line, so that a hit pays for none of this state.
 */
static noinline struct page *alloc_slow(struct pcpool_pcpbuddy *pb,
					unsigned int order, unsigned int mt,
					unsigned int cpu)
{
	bool at_limit = false, absorbed = false, retried = false;
	/* one node: every block is local, claim and grow as before */
	bool any_node = !READ_ONCE(pb->numa);
	int grows = 0;
	struct page *page;

	for (;;) {
		if (!at_limit) {
			int node = READ_ONCE(pb->node[cpu]), ret = -ENOSPC;

			/*
			 * May sleep: no lock held, preemption on.  This node's
			 * zone first; full or out of memory, the rest of its
			 * zonelist, as get_page_from_freelist() goes on to
			 * the next zone before anything slower.
			 */
			if (grows < PCPBUDDY_GROW_TRIES)
				ret = any_node ?
				      pcpool_zone_grow_near(pb->zone, node) :
				      pcpool_zone_grow_node(pb->zone, node);
			if (!ret) {
				grows++;
				cpu_stat_add(pb, grows, 1);
			} else if (!any_node && grows < PCPBUDDY_GROW_TRIES) {
				any_node = true;
			} else {
				at_limit = true;
			}
		} else {
			page = steal(pb, order, mt, &absorbed);
			/*
			 * Another type only when @mt has nothing anywhere,
			 * claims and grows included (the retry below first,
			 * if absorbing may have given whole blocks back).
			 */
			if (!page && (!absorbed || retried))
				page = fallback(pb, order, mt, &absorbed);
			if (page) {
				cpu_stat_add(pb, allocs, 1);
				return page;
			}
			/*
			 * Absorbing completed blocks that went to the zone,
			 * or back to the page source: claim or grow again,
			 * once.
			 */
			if (!absorbed || retried) {
				cpu_stat_add(pb, alloc_failures, 1);
				return NULL;
			}
			retried = true;
			at_limit = false;
		}
		page = alloc_pool(pb, order, mt, at_limit, any_node, &cpu);
		if (page)
			return page;
	}
}

struct page *pcpool_pcpbuddy_alloc_mt(struct pcpool_pcpbuddy *pb,
				      unsigned int order, unsigned int mt)
{
	struct page *page;
	unsigned int cpu;

	if (order > pb->zone->order || mt >= PCPOOL_MT_TYPES)
		return NULL;
	/* one node: every block is local, claim as before */
	page = alloc_pool(pb, order, mt, false, !READ_ONCE(pb->numa), &cpu);
	return page ?: alloc_slow(pb, order, mt, cpu);
}

/*
 * After a free into the owner's pool: if the pages the owner drained are
 * all that is missing from the block, take them back so it can be whole.
 * Inline: every owned free runs the check; take_back() is the rare part.
 */
static __always_inline void
maybe_take_back(struct pcpool_pcpbuddy *pb, struct pcpool_pcpbuddy_pool *pool,
		struct pcpool_pcpbuddy_stats *st, int owner, unsigned long pfn)
__must_hold(&pool->lock)
{
	struct pcpool_zone *zone = pb->zone;
	unsigned long idx = pb_idx(pb, pfn);
	u32 frags = READ_ONCE(pb_blk(pb, idx)->zone_frags);
	unsigned long got;

	if (likely(!frags) || pcpool_zone_owner(zone, pfn) != owner ||
	    pb_blk(pb, idx)->pool_free + frags < zone->block_pages)
		return;
	got = take_back(pb, pool, st, owner, idx);
	pcpool_stat_add(&st->recovers, 1);
	pcpool_stat_add(&st->recover_pages, got);
}

/*
 * Empty the front cache into the buddy lists, as frees: a block may
 * become whole and go back to the zone.
 */
static void front_flush(struct pcpool_pcpbuddy *pb,
			struct pcpool_pcpbuddy_pool *pool,
			struct pcpool_pcpbuddy_stats *st)
__must_hold(&pool->lock)
{
	int owner = (int)(pool - pb->pool);
	unsigned long n = 0;
	unsigned int mt;

	for (mt = 0; mt < PCPOOL_MT_TYPES; mt++) {
		while (pool->front[mt]) {
			struct page *page = front_pop(pool, mt);
			unsigned long pfn = page_to_pfn(page);

			insert_owned(pb, pool, st, pfn, 0);
			maybe_take_back(pb, pool, st, owner, pfn);
			n++;
		}
	}
	if (n) {
		pcpool_stat_add(&st->front_flushes, 1);
		pcpool_stat_add(&st->front_flush_pages, n);
	}
}

/*
 * Put a freed chunk of a block @pool owns in: order 0 in the front cache
 * of its block's type while the cache has room, else into the lists.
 */
static __always_inline void free_owned(struct pcpool_pcpbuddy *pb,
				       struct pcpool_pcpbuddy_pool *pool,
				       struct pcpool_pcpbuddy_stats *st,
				       int owner, struct page *page,
				       unsigned long pfn, unsigned int order)
__must_hold(&pool->lock)
{
	if (!order && pool->front_pages < READ_ONCE(pb->front_high)) {
		front_push(pool, page, pcpool_zone_pfn_mt(pb->zone, pfn));
		front_count(pool, 1);
		pcpool_stat_add(&st->front_frees, 1);
		return;
	}
	insert_owned(pb, pool, st, pfn, order);
	maybe_take_back(pb, pool, st, owner, pfn);
}

/*
 * Take the pool's remote-free list and put every chunk in as if freed
 * here: merged lazily, whole blocks beyond the reserve back to the zone.
 * Any CPU holding the pool's lock may do it (steal, drain-all, hotplug).
 * Without @zone_ok (the _nowait path) owned chunks are only linked: no
 * block goes back and no fragment is taken back, both need the zone lock;
 * a later drain or free does it.  Loose chunks (free_nowait of an unowned
 * block) are cached loose.  Returns pages absorbed.
 */
static unsigned long absorb_remote(struct pcpool_pcpbuddy *pb,
				   struct pcpool_pcpbuddy_pool *pool,
				   struct pcpool_pcpbuddy_stats *st, bool zone_ok)
__must_hold(&pool->lock)
{
	int owner = (int)(pool - pb->pool);
	unsigned long chunks = 0, pages = 0, room, fronted = 0;
	struct llist_node *node;

	if (llist_empty(&pool->remote))
		return 0;
	room = READ_ONCE(pb->front_high);
	room = room > pool->front_pages ? room - pool->front_pages : 0;
	node = llist_del_all(&pool->remote);
	while (node) {
		struct page *page = llnode_page(node);
		unsigned long priv = page_private(page);
		unsigned int order = priv & PCPBUDDY_ORDER_MASK;
		unsigned long pfn = page_to_pfn(page);
		unsigned int mt = pcpool_zone_pfn_mt(pb->zone, pfn);

		node = node->next;
		chunks++;
		pages += 1UL << order;
		if (priv & PCPBUDDY_LOOSE) {
			pool_add(pb, pool, pfn, order, true, mt);
			continue;
		}
		/* as free_owned(), the front counted once at the end */
		if (!order && fronted < room) {
			front_push(pool, page, mt);
			fronted++;
			continue;
		}
		if (!zone_ok) {
			pool_add(pb, pool, pfn, order, false, mt);
			continue;
		}
		insert_owned(pb, pool, st, pfn, order);
		maybe_take_back(pb, pool, st, owner, pfn);
	}
	if (fronted) {
		front_count(pool, fronted);
		pcpool_stat_add(&st->front_frees, fronted);
	}
	/* after free_pages grew: a racy sum may count a chunk twice, never 0 */
	WRITE_ONCE(pool->remote_in_pages, pool->remote_in_pages + pages);
	pcpool_stat_add(&st->remote_absorbs, 1);
	pcpool_stat_add(&st->remote_absorbed, chunks);
	return pages;
}

/*
 * Queue a chunk of another online CPU's block on that pool's remote-free
 * list: one cmpxchg on a line the owner reads only when it absorbs, and
 * the owner's lock untouched.  Counted first, so the chunk is never
 * missing from pcpool_pcpbuddy_pool_pages().  A CPU going offline after
 * the dead check leaves the chunk on the dead pool's list, still counted,
 * until the next drain-all (shrinker, unload) absorbs it to the zone.
 */
static void queue_remote(struct pcpool_pcpbuddy_pool *pool,
			 struct pcpool_pcpbuddy_stats *st, struct page *page,
			 unsigned int order)
{
	set_page_private(page, order);
	pcpool_stat_add(&st->remote_out_pages, 1UL << order);
	llist_add(page_llnode(page), &pool->remote);
	pcpool_stat_add(&st->remote_frees, 1);
	pcpool_stat_add(&st->remote_queued, 1);
}

/*
 * A free of a chunk this CPU's pool does not own, other than a remote-list
 * queue: loose (no owner), under the owner's lock, or to the zone when the
 * owner is dead.  Out of line: the local free is the hot one.
 */
static noinline void free_other(struct pcpool_pcpbuddy *pb, struct page *page,
				unsigned long pfn, unsigned int order,
				unsigned int cpu, int owner,
				struct pcpool_pcpbuddy_stats *st)
{
	struct pcpool_zone *zone = pb->zone;
	struct pcpool_pcpbuddy_pool *pool;

	if (owner < 0 || owner >= (int)pb->nr_cpus) {
		pool = &pb->pool[cpu];
		spin_lock(&pool->lock);
		pool_add(pb, pool, pfn, order, true,
			 pcpool_zone_pfn_mt(zone, pfn));
		pcpool_stat_add(&st->loose_frees, 1);
	} else {
		/* lock mode, or the owner is dead */
		pool = &pb->pool[owner];
		spin_lock(&pool->lock);
		if (unlikely(pool->dead)) {
			spin_unlock(&pool->lock);
			pcpool_zone_free(zone, page, order);
			pcpool_stat_add(&st->dead_frees, 1);
			return;
		}
		free_owned(pb, pool, st, owner, page, pfn, order);
		pcpool_stat_add(&st->remote_frees, 1);
	}
	if (pool->free_pages > pb->high)
		drain_over_high(pb, pool, st);
	spin_unlock(&pool->lock);
}

void pcpool_pcpbuddy_free(struct pcpool_pcpbuddy *pb, struct page *page,
			  unsigned int order)
{
	struct pcpool_zone *zone = pb->zone;
	unsigned long pfn = page_to_pfn(page), idx = pb_idx(pb, pfn);
	struct pcpool_pcpbuddy_stats *st;
	struct pcpool_pcpbuddy_pool *pool;
	unsigned int cpu;
	int owner;

	/* idx < nr_span: pcpool_zone_pfn_in_span() */
	if (WARN_ON_ONCE(order > pb->order || idx >= zone->nr_span ||
			 (pfn & ((1UL << order) - 1))))
		return;
	cpu = get_cpu();
	st = &pb->stats[cpu];
	pcpool_stat_add(&st->frees, 1);
	/* Stable while we hold a page of the block: it cannot be whole. */
	owner = READ_ONCE(zone->blocks[idx].owner);
	if (unlikely(owner != (int)cpu)) {
		/* the remote free of list mode, inline: one llist_add() */
		if (owner >= 0 && owner < (int)pb->nr_cpus &&
		    READ_ONCE(pb->remote_list) &&
		    !READ_ONCE(pb->pool[owner].dead))
			queue_remote(&pb->pool[owner], st, page, order);
		else
			free_other(pb, page, pfn, order, cpu, owner, st);
		put_cpu();
		return;
	}
	pool = &pb->pool[cpu];
	spin_lock(&pool->lock);
	if (unlikely(pool->dead)) {
		spin_unlock(&pool->lock);
		pcpool_zone_free(zone, page, order);
		pcpool_stat_add(&st->dead_frees, 1);
		put_cpu();
		return;
	}
	free_owned(pb, pool, st, owner, page, pfn, order);
	pcpool_stat_add(&st->local_frees, 1);
	if (unlikely(pool->free_pages > pb->high))
		drain_over_high(pb, pool, st);
	spin_unlock(&pool->lock);
	put_cpu();
}

/*
 * One chunk from @pool if its lock is free: the _nowait allocation, @mt's
 * first, else another type's.  No merge (a front flush may give a block
 * back) and no zone.
 */
static struct page *take_nowait(struct pcpool_pcpbuddy *pb,
				struct pcpool_pcpbuddy_pool *pool,
				struct pcpool_pcpbuddy_stats *st, unsigned int order,
				unsigned int mt)
{
	struct page *page = NULL;
	unsigned int i;

	if (READ_ONCE(pool->free_pages) < (1UL << order) &&
	    llist_empty(&pool->remote))
		return NULL;
	if (!spin_trylock(&pool->lock)) {
		pcpool_stat_add(&st->nowait_busy, 1);
		return NULL;
	}
	if (!pool->dead) {
		if (!pool->nr_free[mt][order] && !(!order && pool->front[mt]))
			absorb_remote(pb, pool, st, false);
		page = take_listed(pb, pool, st, order, mt);
		for (i = 0; i < PCPOOL_MT_TYPES - 1 && !page; i++) {
			page = take_listed(pb, pool, st, order,
					   pcpool_mt_fallbacks[mt][i]);
			if (page)
				pcpool_stat_add(&st->mt_fallbacks, 1);
		}
	}
	spin_unlock(&pool->lock);
	return page;
}

/* The _nowait steal's take: take_nowait() on a victim. */
static struct page *nowait_take(struct pcpool_pcpbuddy *pb,
				struct pcpool_pcpbuddy_pool *victim,
				struct steal_req *req)
{
	return take_nowait(pb, victim, req->st, req->order, req->mt);
}

struct page *pcpool_pcpbuddy_alloc_nowait_mt(struct pcpool_pcpbuddy *pb,
					     unsigned int order,
					     unsigned int mt)
{
	unsigned int cpu = this_cpu_id(pb);
	struct steal_req req = {
		.take = nowait_take, .st = &pb->nw_stats[cpu],
		.order = order, .mt = mt,
	};
	struct pcpool_pcpbuddy_stats *st = req.st;
	struct page *page;
	int found;

	if (order > pb->order || mt >= PCPOOL_MT_TYPES)
		return NULL;
	page = take_nowait(pb, &pb->pool[cpu], st, order, mt);
	/* then the others in steal() order, never waiting */
	if (!page) {
		page = steal_scan(pb, cpu, &req, &found);
		if (page)
			count_steal(st, order, found);
	}
	if (!page) {
		pcpool_stat_add(&st->alloc_failures, 1);
		return NULL;
	}
	pcpool_stat_add(&st->allocs, 1);
	pcpool_stat_add(&st->nowait_allocs, 1);
	return page;
}

void pcpool_pcpbuddy_free_nowait(struct pcpool_pcpbuddy *pb,
				 struct page *page, unsigned int order)
{
	unsigned long pfn = page_to_pfn(page), idx = pb_idx(pb, pfn);
	unsigned int cpu = this_cpu_id(pb);
	struct pcpool_pcpbuddy_stats *st = &pb->nw_stats[cpu];
	unsigned long loose = 0;
	int owner;

	if (WARN_ON_ONCE(order > pb->order || idx >= pb->zone->nr_span ||
			 (pfn & ((1UL << order) - 1))))
		return;
	/* Stable while we hold a page of the block, as in free(). */
	owner = READ_ONCE(pb->zone->blocks[idx].owner);
	if (owner < 0 || owner >= (int)pb->nr_cpus) {
		/* unowned stays unowned: the block is not whole in the zone */
		owner = cpu;
		loose = PCPBUDDY_LOOSE;
	}
	set_page_private(page, order | loose);
	/* counted before it is visible, as queue_remote() does */
	pcpool_stat_add(&st->remote_out_pages, 1UL << order);
	llist_add(page_llnode(page), &pb->pool[owner].remote);
	pcpool_stat_add(&st->frees, 1);
	pcpool_stat_add(&st->deferred_frees, 1);
}

/*
 * Each block's record on cache lines of its own: its owner writes it on
 * every allocation and free, and packed per-block arrays put blocks of
 * different owners on one line (false sharing between CPUs).
 */
static unsigned int pcpbuddy_blk_shift(const struct pcpool_zone *zone)
{
	size_t size = ALIGN(sizeof(struct pcpool_pcpbuddy_blk) +
			    zone->map_words * sizeof(unsigned long),
			    (size_t)PCPOOL_CACHE_BYTES);
	unsigned int shift = ilog2(size);

	/* a power of two: the hot paths shift instead of multiplying */
	return (1UL << shift) < size ? shift + 1 : shift;
}

size_t pcpool_pcpbuddy_meta_size(const struct pcpool_zone *zone)
{
	if (!zone)
		return 0;
	return 2 * PCPOOL_CACHE_BYTES + sizeof(struct pcpool_pcpbuddy) +
	       zone->nr_cpus * (sizeof(struct pcpool_pcpbuddy_pool) +
				2 * sizeof(struct pcpool_pcpbuddy_stats) +
				sizeof(int)) +
	       (zone->nr_span << pcpbuddy_blk_shift(zone));
}

int pcpool_pcpbuddy_set_high_batch(struct pcpool_pcpbuddy *pb,
				   unsigned long high, unsigned long batch)
{
	if (!batch || batch > high ||
	    high > (pcpool_zone_limit_blocks(pb->zone) << pb->order))
		return -EINVAL;
	/* Readers cope with either value, as with 6.1's pageset_update(). */
	WRITE_ONCE(pb->high, high);
	WRITE_ONCE(pb->batch, batch);
	return 0;
}

int pcpool_pcpbuddy_init(void *buf, size_t size, struct pcpool_zone *zone,
			 unsigned long reserve_blocks,
			 struct pcpool_pcpbuddy **pbp)
{
	size_t need = pcpool_pcpbuddy_meta_size(zone);
	struct pcpool_pcpbuddy *pb;
	unsigned int cpu, o, mt;
	char *p;

	p = pcpool_meta_begin(buf, size, need);
	if (!p)
		return -EINVAL;
	pb = (struct pcpool_pcpbuddy *)p;
	p = pcpool_meta_next_line(p, sizeof(*pb));
	pb->pool = (struct pcpool_pcpbuddy_pool *)p;
	p += zone->nr_cpus * sizeof(struct pcpool_pcpbuddy_pool);
	pb->stats = (struct pcpool_pcpbuddy_stats *)p;
	p += zone->nr_cpus * sizeof(struct pcpool_pcpbuddy_stats);
	pb->nw_stats = (struct pcpool_pcpbuddy_stats *)p;
	p += zone->nr_cpus * sizeof(struct pcpool_pcpbuddy_stats);
	pb->blk = p;
	pb->blk_shift = pcpbuddy_blk_shift(zone);
	p += zone->nr_span << pb->blk_shift;
	pb->node = (int *)p;

	pb->zone = zone;
	pb->order = zone->order;
	pb->base_block = zone->base_block;
	pb->nr_cpus = zone->nr_cpus;
	pb->reserve = reserve_blocks;
	pb->high = 2 * zone->block_pages;
	pb->batch = zone->block_pages;
	for (cpu = 0; cpu < pb->nr_cpus; cpu++) {
		struct pcpool_pcpbuddy_pool *pool = &pb->pool[cpu];

		spin_lock_init(&pool->lock);
		init_llist_head(&pool->remote);
		for (mt = 0; mt < PCPOOL_MT_TYPES; mt++)
			for (o = 0; o < PCPOOL_NR_ORDERS; o++)
				INIT_LIST_HEAD(&pool->area[mt][o]);
	}
	*pbp = pb;
	return 0;
}

int pcpool_pcpbuddy_set_remote_free(struct pcpool_pcpbuddy *pb,
				    enum pcpool_pcpbuddy_remote mode)
{
	if (mode != PCPOOL_PCPBUDDY_REMOTE_LOCK &&
	    mode != PCPOOL_PCPBUDDY_REMOTE_LIST)
		return -EINVAL;
	/* Lists are absorbed in either mode, so a switch strands nothing. */
	WRITE_ONCE(pb->remote_list, mode == PCPOOL_PCPBUDDY_REMOTE_LIST);
	return 0;
}

int pcpool_pcpbuddy_set_front(struct pcpool_pcpbuddy *pb, unsigned long high)
{
	if (high > READ_ONCE(pb->high))
		return -EINVAL;
	WRITE_ONCE(pb->front_high, high);
	return 0;
}

void pcpool_pcpbuddy_set_node(struct pcpool_pcpbuddy *pb, unsigned int cpu,
			      int node)
{
	bool numa = false;
	unsigned int i;

	if (cpu >= pb->nr_cpus)
		return;
	WRITE_ONCE(pb->node[cpu], node);
	/* a CPU without a node (NUMA_NO_NODE, not present) does not count */
	for (i = 1; i < pb->nr_cpus; i++)
		numa |= pb->node[i] >= 0 && pb->node[i] != pb->node[0];
	WRITE_ONCE(pb->numa, numa);
}

void pcpool_pcpbuddy_drain_all_count(struct pcpool_pcpbuddy *pb,
				     struct pcpool_drain_result *r)
{
	struct pcpool_pcpbuddy_stats *st;
	unsigned int cpu, me;

	r->visited = 0;
	r->skipped = 0;
	r->pages = 0;
	me = get_cpu();
	st = &pb->stats[me];
	for (cpu = 0; cpu < pb->nr_cpus; cpu++) {
		struct pcpool_pcpbuddy_pool *pool = &pb->pool[cpu];

		/* Racy: a pool that fills right after is drained next time. */
		if (!READ_ONCE(pool->free_pages) &&
		    llist_empty(&pool->remote)) {
			r->skipped++;
			continue;
		}
		spin_lock(&pool->lock);
		r->pages += drain_pool(pb, pool, st, 0);
		spin_unlock(&pool->lock);
		r->visited++;
	}
	pcpool_stat_add(&st->drain_all_calls, 1);
	pcpool_stat_add(&st->drain_all_visited, r->visited);
	pcpool_stat_add(&st->drain_all_skipped, r->skipped);
	pcpool_stat_add(&st->drain_all_pages, r->pages);
	put_cpu();
}

unsigned long pcpool_pcpbuddy_drain_all(struct pcpool_pcpbuddy *pb)
{
	struct pcpool_drain_result r;

	pcpool_pcpbuddy_drain_all_count(pb, &r);
	return r.pages;
}

void pcpool_pcpbuddy_cpu_dead(struct pcpool_pcpbuddy *pb, unsigned int cpu)
{
	struct pcpool_pcpbuddy_pool *pool;
	unsigned int me;

	if (WARN_ON_ONCE(cpu >= pb->nr_cpus))
		return;
	pool = &pb->pool[cpu];
	me = get_cpu();
	spin_lock(&pool->lock);
	WRITE_ONCE(pool->dead, true);
	pcpool_stat_add(&pb->stats[me].drain_pages,
			drain_pool(pb, pool, &pb->stats[me], 0));
	spin_unlock(&pool->lock);
	put_cpu();
}

void pcpool_pcpbuddy_cpu_online(struct pcpool_pcpbuddy *pb, unsigned int cpu)
{
	struct pcpool_pcpbuddy_pool *pool;

	if (WARN_ON_ONCE(cpu >= pb->nr_cpus))
		return;
	pool = &pb->pool[cpu];
	spin_lock(&pool->lock);
	WRITE_ONCE(pool->dead, false);
	spin_unlock(&pool->lock);
}

void pcpool_pcpbuddy_destroy(struct pcpool_pcpbuddy *pb)
{
	pcpool_pcpbuddy_drain_all(pb);
}

/* Pages on remote-free lists: queued by any CPU, less absorbed. */
static unsigned long remote_pages(struct pcpool_pcpbuddy *pb)
{
	u64 out = 0, in = 0;
	unsigned int cpu;

	for (cpu = 0; cpu < pb->nr_cpus; cpu++) {
		in += READ_ONCE(pb->pool[cpu].remote_in_pages);
		out += READ_ONCE(pb->stats[cpu].remote_out_pages);
		out += READ_ONCE(pb->nw_stats[cpu].remote_out_pages);
	}
	/* racy reads may see an absorb before its queueing */
	return out > in ? (unsigned long)(out - in) : 0;
}

unsigned long pcpool_pcpbuddy_pool_pages(struct pcpool_pcpbuddy *pb)
{
	unsigned long sum = 0;
	unsigned int cpu;

	for (cpu = 0; cpu < pb->nr_cpus; cpu++)
		sum += READ_ONCE(pb->pool[cpu].free_pages);
	return sum + remote_pages(pb);
}

unsigned long pcpool_pcpbuddy_shrink(struct pcpool_pcpbuddy *pb,
				     unsigned long nr_pages)
{
	pcpool_pcpbuddy_drain_all(pb);
	return pcpool_zone_shrink(pb->zone, nr_pages);
}

unsigned long pcpool_pcpbuddy_shrink_count(struct pcpool_pcpbuddy *pb)
{
	return pcpool_zone_shrink_count(pb->zone) +
	       pcpool_pcpbuddy_pool_pages(pb);
}

int pcpool_pcpbuddy_get_pool_state(struct pcpool_pcpbuddy *pb,
				   unsigned int cpu,
				   struct pcpool_pcpbuddy_pool_state *s)
{
	struct pcpool_zone *zone = pb->zone;
	struct pcpool_pcpbuddy_pool *pool;
	struct llist_node *pos;
	unsigned long idx;

	if (cpu >= pb->nr_cpus)
		return -EINVAL;
	pool = &pb->pool[cpu];
	memset(s, 0, sizeof(*s));
	for (idx = 0; idx < zone->nr_span; idx++)
		s->owned_blocks += READ_ONCE(zone->blocks[idx].owner) == (int)cpu;
	spin_lock(&pool->lock);
	s->pages = pool->free_pages;
	s->whole_blocks = pool->nr_whole;
	s->front_pages = pool->front_pages;
	s->dead = pool->dead;
	/* pushes only add ahead of the snapshot; removal needs our lock */
	for (pos = READ_ONCE(pool->remote.first); pos; pos = pos->next) {
		s->remote_chunks++;
		s->remote_pages += 1UL << (page_private(llnode_page(pos)) &
					   PCPBUDDY_ORDER_MASK);
	}
	spin_unlock(&pool->lock);
	return 0;
}

int pcpool_pcpbuddy_owner(struct pcpool_pcpbuddy *pb, struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	if (!pcpool_zone_pfn_in_span(pb->zone, pfn))
		return PCPOOL_OWNER_NONE;
	return pcpool_zone_owner(pb->zone, pfn);
}

#define PB_STAT(name) { "pcpbuddy_" #name, offsetof(struct pcpool_pcpbuddy_stats, name) }
static const struct {
	const char *key;
	size_t off;
} pb_keys[] = {
	PB_STAT(allocs),
	PB_STAT(frees),
	PB_STAT(local_frees),
	PB_STAT(remote_frees),
	PB_STAT(remote_queued),
	PB_STAT(remote_absorbs),
	PB_STAT(remote_absorbed),
	PB_STAT(front_allocs),
	PB_STAT(front_frees),
	PB_STAT(front_flushes),
	PB_STAT(front_flush_pages),
	PB_STAT(loose_frees),
	PB_STAT(dead_frees),
	PB_STAT(pool_merges),
	PB_STAT(pool_splits),
	PB_STAT(blocks_claimed),
	PB_STAT(claims_local),
	PB_STAT(claims_remote),
	PB_STAT(blocks_returned),
	PB_STAT(refill_phase0),
	PB_STAT(refill_phase0_pages),
	PB_STAT(recovers),
	PB_STAT(recover_pages),
	PB_STAT(refill_phase1),
	PB_STAT(refill_phase2),
	PB_STAT(refill_phase2_pages),
	PB_STAT(refill_phase3),
	PB_STAT(steal_pages),
	PB_STAT(steals_same_node),
	PB_STAT(steals_other_node),
	PB_STAT(steal_visits),
	PB_STAT(grows),
	PB_STAT(alloc_failures),
	PB_STAT(drains),
	PB_STAT(drain_pages),
	PB_STAT(drain_all_calls),
	PB_STAT(drain_all_visited),
	PB_STAT(drain_all_skipped),
	PB_STAT(drain_all_pages),
	PB_STAT(mt_fallbacks),
	PB_STAT(mt_retags),
	PB_STAT(nowait_allocs),
	PB_STAT(nowait_busy),
	PB_STAT(deferred_frees),
};

static inline u64 read_stat(struct pcpool_pcpbuddy_stats *st, size_t off)
{
	return READ_ONCE(*(u64 *)((char *)st + off));
}

/* One CPU's count of a key: process context's and the _nowait paths'. */
static inline u64 cpu_stat(struct pcpool_pcpbuddy *pb, unsigned int cpu,
			   size_t off)
{
	return read_stat(&pb->stats[cpu], off) +
	       read_stat(&pb->nw_stats[cpu], off);
}

void pcpool_pcpbuddy_counters(struct pcpool_pcpbuddy *pb, pcpool_emit_fn emit,
			      void *arg)
{
	unsigned long owned = 0, idx;
	unsigned int i, cpu;
	u64 stolen = 0, front = 0;

	for (i = 0; i < ARRAY_SIZE(pb_keys); i++) {
		u64 sum = 0;

		for (cpu = 0; cpu < pb->nr_cpus; cpu++)
			sum += cpu_stat(pb, cpu, pb_keys[i].off);
		emit(arg, pb_keys[i].key, sum);
	}
	for (cpu = 0; cpu < pb->nr_cpus; cpu++) {
		stolen += READ_ONCE(pb->pool[cpu].stolen_pages);
		front += READ_ONCE(pb->pool[cpu].front_pages);
	}
	for (idx = 0; idx < pb->zone->nr_span; idx++)
		owned += READ_ONCE(pb->zone->blocks[idx].owner) !=
			 PCPOOL_OWNER_NONE;
	emit(arg, "pcpbuddy_stolen_pages", stolen);
	emit(arg, "pcpbuddy_pool_pages", pcpool_pcpbuddy_pool_pages(pb));
	emit(arg, "pcpbuddy_remote_pages", remote_pages(pb));
	emit(arg, "pcpbuddy_remote_list", READ_ONCE(pb->remote_list));
	emit(arg, "pcpbuddy_front_pages", front);
	emit(arg, "pcpbuddy_front_high", READ_ONCE(pb->front_high));
	emit(arg, "pcpbuddy_blocks_owned", owned);
	emit(arg, "pcpbuddy_high", READ_ONCE(pb->high));
	emit(arg, "pcpbuddy_batch", READ_ONCE(pb->batch));
	emit(arg, "pcpbuddy_reserve", pb->reserve);
	pcpool_zone_counters(pb->zone, emit, arg);
}

void pcpool_pcpbuddy_cpu_counters(struct pcpool_pcpbuddy *pb, unsigned int cpu,
				  pcpool_emit_fn emit, void *arg)
{
	unsigned int i;

	if (cpu >= pb->nr_cpus)
		return;
	for (i = 0; i < ARRAY_SIZE(pb_keys); i++)
		emit(arg, pb_keys[i].key, cpu_stat(pb, cpu, pb_keys[i].off));
	emit(arg, "pcpbuddy_stolen_pages", READ_ONCE(pb->pool[cpu].stolen_pages));
	emit(arg, "pcpbuddy_pool_pages", READ_ONCE(pb->pool[cpu].free_pages));
	emit(arg, "pcpbuddy_front_pages", READ_ONCE(pb->pool[cpu].front_pages));
	emit(arg, "pcpbuddy_remote_out_pages",
	     READ_ONCE(pb->stats[cpu].remote_out_pages) +
	     READ_ONCE(pb->nw_stats[cpu].remote_out_pages));
	emit(arg, "pcpbuddy_remote_in_pages",
	     READ_ONCE(pb->pool[cpu].remote_in_pages));
}

void pcpool_pcpbuddy_reset_counters(struct pcpool_pcpbuddy *pb)
{
	unsigned int i, cpu;

	/* Unlocked bumps racing with this may survive it: harmless. */
	for (cpu = 0; cpu < pb->nr_cpus; cpu++) {
		for (i = 0; i < ARRAY_SIZE(pb_keys); i++) {
			WRITE_ONCE(*(u64 *)((char *)&pb->stats[cpu] +
					    pb_keys[i].off), 0);
			WRITE_ONCE(*(u64 *)((char *)&pb->nw_stats[cpu] +
					    pb_keys[i].off), 0);
		}
		spin_lock(&pb->pool[cpu].lock);
		WRITE_ONCE(pb->pool[cpu].stolen_pages, 0);
		spin_unlock(&pb->pool[cpu].lock);
	}
	pcpool_zone_reset_counters(pb->zone);
}

/*
 * Front-cache pages: order 0, in a block @cpu owns, outside its map.
 * Adds them to @pages; returns problems found.
 */
static unsigned long check_front(struct pcpool_pcpbuddy *pb, unsigned int cpu,
				 unsigned long *pages)
__must_hold(&pb->pool[cpu].lock)
{
	struct pcpool_pcpbuddy_pool *pool = &pb->pool[cpu];
	unsigned long bad = 0, n = 0;
	struct llist_node *pos;

	unsigned int mt;

	/* bounded: a cycle shows as a count mismatch, not a hang */
	for (mt = 0; mt < PCPOOL_MT_TYPES; mt++) {
		for (pos = pool->front[mt]; pos && n <= pool->front_pages;
		     pos = pos->next) {
			struct page *page = llnode_page(pos);
			unsigned long pfn = page_to_pfn(page);

			n++;
			if (!pcpool_zone_pfn_in_span(pb->zone, pfn) ||
			    page_private(page) ||
			    pcpool_zone_owner(pb->zone, pfn) != (int)cpu ||
			    pcpool_zone_pfn_mt(pb->zone, pfn) != mt ||
			    test_bit(pb_off(pb, pfn),
				     pb_map(pb, pb_idx(pb, pfn))))
				bad++;
		}
	}
	*pages += n;
	return bad + (n != pool->front_pages);
}

/* One pool's lists against its counts, maps and owned blocks. */
static unsigned long check_pool(struct pcpool_pcpbuddy *pb, unsigned int cpu)
{
	struct pcpool_pcpbuddy_pool *pool = &pb->pool[cpu];
	struct pcpool_zone *zone = pb->zone;
	unsigned long bad = 0, pages = 0, owned_chunks = 0, bits = 0, idx;
	unsigned long whole = 0;
	unsigned int o, mt;

	spin_lock(&pool->lock);
	for (mt = 0; mt < PCPOOL_MT_TYPES; mt++) {
		for (o = 0; o < PCPOOL_NR_ORDERS; o++) {
			struct list_head *head = &pool->area[mt][o], *pos;
			unsigned long n = 0;

			for (pos = head->next; pos != head; pos = pos->next) {
				struct page *page;
				unsigned long pfn, priv;

				page = list_entry(pos, struct page, lru);
				pfn = page_to_pfn(page);
				priv = page_private(page);
				n++;
				pages += 1UL << o;
				if (o > zone->order ||
				    (pfn & ((1UL << o) - 1)) ||
				    !pcpool_zone_pfn_in_span(zone, pfn) ||
				    (priv & PCPBUDDY_ORDER_MASK) != o ||
				    chunk_mt(page) != mt) {
					bad++;
					continue;
				}
				if (priv & PCPBUDDY_LOOSE)
					continue;
				/* owned: on its block's type's list */
				owned_chunks++;
				if (pcpool_zone_owner(zone, pfn) != (int)cpu ||
				    pcpool_zone_pfn_mt(zone, pfn) != mt ||
				    !pool_free_head(pb, pfn, o))
					bad++;
			}
			bad += n != pool->nr_free[mt][o];
		}
	}
	bad += check_front(pb, cpu, &pages);
	bad += pages != pool->free_pages;
	for (idx = 0; idx < zone->nr_span; idx++) {
		unsigned long base = (zone->base_block + idx) << zone->order;
		unsigned long *map = pb_map(pb, idx), off, sum = 0;

		if (pcpool_zone_owner(zone, base) != (int)cpu)
			continue;
		for (off = find_next_bit(map, zone->block_pages, 0);
		     off < zone->block_pages;
		     off = find_next_bit(map, zone->block_pages, off + 1)) {
			bits++;
			sum += 1UL << (page_private(pfn_to_page(base + off)) &
				       PCPBUDDY_ORDER_MASK);
		}
		bad += sum != pb_blk(pb, idx)->pool_free;
		whole += sum == zone->block_pages;
	}
	bad += bits != owned_chunks;
	bad += whole != pool->nr_whole;
	spin_unlock(&pool->lock);
	return bad;
}

unsigned long pcpool_pcpbuddy_check(struct pcpool_pcpbuddy *pb)
{
	struct pcpool_zone *zone = pb->zone;
	unsigned long bad = 0, idx;
	unsigned int cpu;

	for (cpu = 0; cpu < pb->nr_cpus; cpu++)
		bad += check_pool(pb, cpu);
	/* unowned blocks have nothing in any pool's map */
	for (idx = 0; idx < zone->nr_span; idx++) {
		unsigned long base = (zone->base_block + idx) << zone->order;
		unsigned long w;

		if (pcpool_zone_owner(zone, base) != PCPOOL_OWNER_NONE)
			continue;
		for (w = 0; w < zone->map_words; w++)
			bad += pb_map(pb, idx)[w] != 0;
		bad += pb_blk(pb, idx)->pool_free != 0;
	}
	return bad + pcpool_zone_check(zone);
}
