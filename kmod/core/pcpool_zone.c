// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool zone: pageblocks from a page source, buddy free lists, one
 * instrumented lock.  See Documentation/core.rst.
 */
#include "pcpool_zone.h"

/* A grown block can be raced away by other CPUs; retry this often. */
#define PCPOOL_GROW_TRIES	4

static inline unsigned long *block_map(struct pcpool_zone *zone,
				       unsigned long idx)
{
	return zone->map + idx * zone->map_words;
}

static inline unsigned long block_off(const struct pcpool_zone *zone,
				      unsigned long pfn)
{
	return pfn & (zone->block_pages - 1);
}

/* Is @pfn the head of a free chunk of exactly @order in the zone lists? */
static inline bool zone_free_head(struct pcpool_zone *zone, unsigned long pfn,
				  unsigned int order)
{
	unsigned long idx = pcpool_zone_block_index(zone, pfn);

	return test_bit(block_off(zone, pfn), block_map(zone, idx)) &&
	       page_private(pfn_to_page(pfn)) == order;
}

static void add_free(struct pcpool_zone *zone, struct page *page,
		     unsigned long pfn, unsigned int order)
{
	unsigned long idx = pcpool_zone_block_index(zone, pfn);

	__set_bit(block_off(zone, pfn), block_map(zone, idx));
	set_page_private(page, order);
	list_add(&page->lru, &zone->area[order].list[zone->blocks[idx].mt]);
	/* WRITE_ONCE: shrink_count() reads it without the lock */
	WRITE_ONCE(zone->area[order].nr_free, zone->area[order].nr_free + 1);
	zone->blocks[idx].zone_free += 1U << order;
	zone->free_pages += 1UL << order;
}

static void del_free(struct pcpool_zone *zone, struct page *page,
		     unsigned long pfn, unsigned int order)
{
	unsigned long idx = pcpool_zone_block_index(zone, pfn);

	list_del(&page->lru);
	__clear_bit(block_off(zone, pfn), block_map(zone, idx));
	set_page_private(page, 0);
	WRITE_ONCE(zone->area[order].nr_free, zone->area[order].nr_free - 1);
	zone->blocks[idx].zone_free -= 1U << order;
	zone->free_pages -= 1UL << order;
}

static inline struct pcpool_zone_stats *this_stats(struct pcpool_zone *zone)
{
	unsigned int cpu = raw_smp_processor_id();

	if (WARN_ON_ONCE(cpu >= zone->nr_cpus))
		cpu = 0;
	return &zone->stats[cpu];
}

static unsigned int moved_bucket(unsigned long moved)
{
	if (!moved)
		return 0;
	return min_t(unsigned int, ilog2(moved) + 1, PCPOOL_MOVED_HIST - 1);
}

/* Most nodes: a node id must fit pcpool_block.node and a zonelist entry. */
#define PCPOOL_MAX_NODES	1024

static unsigned int cfg_nodes(const struct pcpool_zone_config *cfg)
{
	return cfg->nr_nodes ? cfg->nr_nodes : 1;
}

/* Entries of blocks[]: the pageblocks [start_pfn, end_pfn) touches. */
static unsigned long cfg_span(const struct pcpool_zone_config *cfg)
{
	return ((cfg->end_pfn - 1) >> cfg->block_order) -
	       (cfg->start_pfn >> cfg->block_order) + 1;
}

size_t pcpool_zone_meta_size(const struct pcpool_zone_config *cfg)
{
	unsigned long nr_span, words;
	unsigned int nodes;

	if (!cfg || cfg->block_order >= PCPOOL_NR_ORDERS || !cfg->nr_cpus ||
	    !cfg->limit_blocks || cfg->start_pfn >= cfg->end_pfn ||
	    !cfg->src.alloc_block || !cfg->src.free_block)
		return 0;
	nodes = cfg_nodes(cfg);
	if (nodes > PCPOOL_MAX_NODES ||
	    (nodes > 1 && (!cfg->src.alloc_block_node || !cfg->src.block_node)))
		return 0;
	nr_span = cfg_span(cfg);
	words = BITS_TO_LONGS(1UL << cfg->block_order);
	return PCPOOL_CACHE_BYTES + nodes * sizeof(struct pcpool_zone) +
	       nodes * cfg->nr_cpus * sizeof(struct pcpool_zone_stats) +
	       nr_span * words * sizeof(unsigned long) +
	       nodes * sizeof(struct pcpool_zone *) +
	       nr_span * sizeof(struct pcpool_block) +
	       nodes * nodes * sizeof(u16);
}

static int node_distance_of(const struct pcpool_zone_config *cfg, int from,
			    int to)
{
	if (cfg->src.distance)
		return cfg->src.distance(cfg->src.ctx, from, to);
	return from == to ? 10 : 20;
}

/*
 * build_zonelists(): each node's row lists every node, itself first, then
 * by distance, ties by id.
 */
static void build_zonelists(const struct pcpool_zone_config *cfg, u16 *rows,
			    unsigned int nodes)
{
	unsigned int from, i, j;

	for (from = 0; from < nodes; from++) {
		u16 *row = rows + from * nodes;

		for (i = 0; i < nodes; i++) {
			int d = node_distance_of(cfg, from, i);

			/* insertion: keys (not self, distance, id) */
			for (j = i; j > 0; j--) {
				int prev = row[j - 1];

				if (prev == (int)from ||
				    (i != from &&
				     node_distance_of(cfg, from, prev) <= d))
					break;
				row[j] = row[j - 1];
			}
			row[j] = i;
		}
	}
}

/* A node's weight in the split of the limit: its size, else 1 each. */
static unsigned long node_weight(const struct pcpool_zone_config *cfg,
				 unsigned int nid)
{
	if (cfg_nodes(cfg) > 1 && cfg->src.node_size)
		return cfg->src.node_size(cfg->src.ctx, nid);
	return 1;
}

/* ceil(@total * @part / @sum), without overflow for weights below 2^31. */
static unsigned long share_upto(unsigned long total, unsigned long part,
				unsigned long sum)
{
	unsigned long r = (total % sum) * part;

	return (total / sum) * part + r / sum + !!(r % sum);
}

/*
 * The share of @total of the node whose weight is @w after @before of the
 * nodes before it, of @sum in all: the difference of rounded-up prefix
 * sums, so the shares add up to @total exactly and, for equal weights,
 * the first nodes take the remainder.
 */
static unsigned long node_share(unsigned long total, unsigned long before,
				unsigned long w, unsigned long sum)
{
	return share_upto(total, before + w, sum) -
	       share_upto(total, before, sum);
}

/* Node @nid's zone, its limit and reserve aside (pcpool_zone_init()). */
static void init_node_zone(struct pcpool_zone *zone,
			   const struct pcpool_zone_config *cfg,
			   unsigned int nid)
{
	unsigned int o, mt;

	zone->order = cfg->block_order;
	zone->nid = nid;
	zone->nr_nodes = cfg_nodes(cfg);
	zone->nr_cpus = cfg->nr_cpus;
	zone->block_pages = 1UL << cfg->block_order;
	zone->base_block = cfg->start_pfn >> cfg->block_order;
	zone->nr_span = cfg_span(cfg);
	zone->map_words = BITS_TO_LONGS(zone->block_pages);
	zone->src = cfg->src;
	spin_lock_init(&zone->lock);
	for (o = 0; o < PCPOOL_NR_ORDERS; o++)
		for (mt = 0; mt < PCPOOL_MT_TYPES; mt++)
			INIT_LIST_HEAD(&zone->area[o].list[mt]);
	INIT_LIST_HEAD(&zone->giveback);
}

int pcpool_zone_init(void *buf, size_t size,
		     const struct pcpool_zone_config *cfg,
		     struct pcpool_zone **zonep)
{
	size_t need = pcpool_zone_meta_size(cfg);
	unsigned long i, *map, nr_span, before = 0, sum = 0;
	struct pcpool_zone *zones, **nodes_tab;
	struct pcpool_zone_stats *stats;
	struct pcpool_block *blocks;
	unsigned int nodes, n;
	u16 *zonelists;
	char *p;

	p = pcpool_meta_begin(buf, size, need);
	if (!p)
		return -EINVAL;
	nodes = cfg_nodes(cfg);
	nr_span = cfg_span(cfg);
	/* Cache-line multiples first, then pointers and longs, then the rest. */
	zones = (struct pcpool_zone *)p;
	p += nodes * sizeof(*zones);
	stats = (struct pcpool_zone_stats *)p;
	p += nodes * cfg->nr_cpus * sizeof(*stats);
	map = (unsigned long *)p;
	p += nr_span * BITS_TO_LONGS(1UL << cfg->block_order) *
	     sizeof(unsigned long);
	nodes_tab = (struct pcpool_zone **)p;
	p += nodes * sizeof(*nodes_tab);
	blocks = (struct pcpool_block *)p;
	p += nr_span * sizeof(*blocks);
	zonelists = (u16 *)p;
	build_zonelists(cfg, zonelists, nodes);

	for (n = 0; n < nodes; n++)
		sum += node_weight(cfg, n);
	for (n = 0; n < nodes; n++) {
		struct pcpool_zone *zone = &zones[n];
		/* no node says it has memory: split evenly */
		unsigned long w = sum ? node_weight(cfg, n) : 1;
		unsigned long all = sum ? sum : nodes;

		init_node_zone(zone, cfg, n);
		zone->limit = max(node_share(cfg->limit_blocks, before, w, all),
				  1UL);
		zone->reserve = node_share(cfg->reserve_blocks, before, w, all);
		before += w;
		zone->nodes = nodes_tab;
		zone->zonelists = zonelists;
		zone->stats = stats + n * cfg->nr_cpus;
		zone->map = map;
		zone->blocks = blocks;
		nodes_tab[n] = zone;
	}
	/* with one zone every block is node 0's; else its grower's */
	for (i = 0; i < nr_span; i++) {
		blocks[i].owner = PCPOOL_OWNER_NONE;
		blocks[i].node = nodes > 1 ? PCPOOL_NO_NODE : 0;
	}
	*zonep = &zones[0];
	return 0;
}

void pcpool_zone_lock(struct pcpool_zone *zone) __acquires(&zone->lock)
{
	/* result kept in a variable: sparse follows the lock context then */
	int got = spin_trylock(&zone->lock);

	if (!got)
		spin_lock(&zone->lock);
	zone->held_contended = !got;
	zone->held_moved = 0;
	zone->held_merges = 0;
	zone->held_splits = 0;
	zone->held_since = local_clock();
}

static void release_blocks(struct pcpool_zone *zone, struct list_head *list)
{
	while (!list_empty(list)) {
		struct page *page = list_first_entry(list, struct page, lru);

		list_del_init(&page->lru);
		zone->src.free_block(zone->src.ctx, page, zone->order);
	}
}

void pcpool_zone_unlock(struct pcpool_zone *zone) __releases(&zone->lock)
{
	struct pcpool_zone_stats *st = this_stats(zone);
	u64 held = local_clock() - zone->held_since;
	unsigned long moved = zone->held_moved;
	struct list_head giveback;

	INIT_LIST_HEAD(&giveback);
	pcpool_stat_add(&st->lock_acquisitions, 1);
	if (zone->held_contended)
		pcpool_stat_add(&st->lock_contended, 1);
	pcpool_stat_add(&st->lock_hold_ns, held);
	pcpool_stat_add(&st->pages_moved, moved);
	pcpool_stat_add(&st->moved_hist[moved_bucket(moved)], 1);
	if (zone->held_merges)
		pcpool_stat_add(&st->merges, zone->held_merges);
	if (zone->held_splits)
		pcpool_stat_add(&st->splits, zone->held_splits);
	list_splice_init(&zone->giveback, &giveback);
	spin_unlock(&zone->lock);

	if (!list_empty(&giveback))
		release_blocks(zone, &giveback);
}

/* Take a whole free block off the lists; it leaves the zone after unlock. */
static void detach_block(struct pcpool_zone *zone, struct page *page)
__must_hold(&zone->lock)
{
	unsigned long pfn = page_to_pfn(page);
	struct pcpool_block *blk = pcpool_zone_block(zone, pfn);

	del_free(zone, page, pfn, zone->order);
	blk->state = PCPOOL_BLOCK_ABSENT;
	WRITE_ONCE(blk->owner, PCPOOL_OWNER_NONE);
	zone->nr_held--;
	zone->nr_reserved--;
	zone->exhausted = false;
	pcpool_stat_add(&this_stats(zone)->blocks_returned, 1);
	list_add_tail(&page->lru, &zone->giveback);
}

/*
 * A block the source gave us: aligned, in the span, not held already, on
 * this zone's node when there are several.
 */
static bool block_acceptable(struct pcpool_zone *zone, struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	if (block_off(zone, pfn) || !pcpool_zone_pfn_in_span(zone, pfn))
		return false;
	if (zone->nr_nodes > 1 &&
	    zone->src.block_node(zone->src.ctx, page) != zone->nid)
		return false;
	return !WARN_ON_ONCE(pcpool_zone_block(zone, pfn)->state !=
			     PCPOOL_BLOCK_ABSENT);
}

/* One block for @zone: on its node when there are several, else anywhere. */
static int grow_zone(struct pcpool_zone *zone)
{
	struct pcpool_block *blk;
	struct page *page;
	unsigned long pfn, w, *map;

	pcpool_zone_lock(zone);
	if (zone->nr_reserved >= zone->limit) {
		pcpool_stat_add(&this_stats(zone)->grow_limited, 1);
		pcpool_zone_unlock(zone);
		return -ENOSPC;
	}
	zone->nr_reserved++;
	pcpool_zone_unlock(zone);

	if (zone->nr_nodes > 1)
		page = zone->src.alloc_block_node(zone->src.ctx, zone->order,
						  zone->nid);
	else
		page = zone->src.alloc_block(zone->src.ctx, zone->order);

	pcpool_zone_lock(zone);
	zone->exhausted = !page;
	if (!page) {
		zone->nr_reserved--;
		pcpool_stat_add(&this_stats(zone)->grow_failed, 1);
		pcpool_zone_unlock(zone);
		return -ENOMEM;
	}
	pfn = page_to_pfn(page);
	if (!block_acceptable(zone, page)) {
		zone->nr_reserved--;
		pcpool_stat_add(&this_stats(zone)->blocks_rejected, 1);
		pcpool_zone_unlock(zone);
		zone->src.free_block(zone->src.ctx, page, zone->order);
		return -ENOMEM;
	}
	/* A block only leaves the zone whole, so its map is clear. */
	map = block_map(zone, pcpool_zone_block_index(zone, pfn));
	for (w = 0; w < zone->map_words; w++)
		WARN_ON_ONCE(map[w]);
	blk = pcpool_zone_block(zone, pfn);
	blk->state = PCPOOL_BLOCK_HELD;
	WRITE_ONCE(blk->node, zone->nid);
	WRITE_ONCE(blk->owner, PCPOOL_OWNER_NONE);
	WRITE_ONCE(blk->mt, PCPOOL_MT_MOVABLE);
	blk->zone_free = 0;
	add_free(zone, page, pfn, zone->order);
	zone->nr_held++;
	pcpool_stat_add(&this_stats(zone)->blocks_obtained, 1);
	pcpool_zone_unlock(zone);
	return 0;
}

int pcpool_zone_grow(struct pcpool_zone *zone)
{
	return pcpool_zone_grow_near(zone, PCPOOL_NO_NODE);
}

int pcpool_zone_grow_node(struct pcpool_zone *zone, int node)
{
	if (node == PCPOOL_NO_NODE)
		return pcpool_zone_grow(zone);
	return grow_zone(pcpool_zone_node(zone, node));
}

int pcpool_zone_grow_near(struct pcpool_zone *zone, int node)
{
	int ret = -ENOSPC;
	unsigned int i;

	for (i = 0; i < zone->nr_nodes; i++) {
		int r = grow_zone(pcpool_zone_nearest(zone, node, i));

		if (!r)
			return 0;
		if (r == -ENOMEM)
			ret = r;
	}
	return ret;
}

/* Split the chunk at @pfn of order @high down to @low, freeing the halves. */
static void expand(struct pcpool_zone *zone, unsigned long pfn,
		   unsigned int low, unsigned int high)
{
	while (high > low) {
		unsigned long half;

		high--;
		half = pfn + (1UL << high);
		add_free(zone, pfn_to_page(half), half, high);
		zone->held_splits++;
	}
}

/* The first chunk of exactly @order on @mt's list, taken off it. */
static struct page *take_first(struct pcpool_zone *zone, unsigned int order,
			       unsigned int mt)
{
	struct list_head *head = &zone->area[order].list[mt];
	struct page *page;

	if (list_empty(head))
		return NULL;
	page = list_first_entry(head, struct page, lru);
	del_free(zone, page, page_to_pfn(page), order);
	return page;
}

const u8 pcpool_mt_fallbacks[PCPOOL_MT_TYPES][PCPOOL_MT_TYPES - 1] = {
	[PCPOOL_MT_UNMOVABLE]	= { PCPOOL_MT_RECLAIMABLE, PCPOOL_MT_MOVABLE },
	[PCPOOL_MT_MOVABLE]	= { PCPOOL_MT_RECLAIMABLE, PCPOOL_MT_UNMOVABLE },
	[PCPOOL_MT_RECLAIMABLE]	= { PCPOOL_MT_UNMOVABLE, PCPOOL_MT_MOVABLE },
};

/*
 * The block of @pfn becomes @mt with its free chunks (6.1's
 * steal_suitable_fallback()): whole, or at least half of it free in the
 * zone, and unowned, since an owner's pool lists follow the tag.
 */
static void claim_for(struct pcpool_zone *zone, unsigned long pfn,
		      unsigned int order, unsigned int mt)
{
	unsigned long idx = pcpool_zone_block_index(zone, pfn);
	struct pcpool_block *blk = &zone->blocks[idx];
	unsigned long base = pfn & ~(zone->block_pages - 1);
	unsigned long *map = block_map(zone, idx), off;

	if (blk->owner != PCPOOL_OWNER_NONE ||
	    blk->zone_free + (1U << order) < zone->block_pages / 2)
		return;
	WRITE_ONCE(blk->mt, mt);
	for (off = find_next_bit(map, zone->block_pages, 0);
	     off < zone->block_pages;
	     off = find_next_bit(map, zone->block_pages, off + 1)) {
		struct page *page = pfn_to_page(base + off);

		list_move(&page->lru,
			  &zone->area[page_private(page)].list[mt]);
	}
	pcpool_stat_add(&this_stats(zone)->mt_claims, 1);
}

/*
 * 6.1's __rmqueue_fallback(), for a chunk of at least @order: the largest
 * chunk another type has whose taking may claim its block (any, for the
 * unmovable and reclaimable types; at least half a block for movable, as
 * can_steal_fallback()), else the smallest one, taken without claiming.
 * With @whole_only, whole blocks only.  The remainder is split onto the
 * lists of its block's type.
 */
static struct page *rmqueue_fallback(struct pcpool_zone *zone,
				     unsigned int order, unsigned int mt,
				     bool whole_only, unsigned int *got)
{
	unsigned int o, i, low = whole_only ? zone->order : order;

	for (o = zone->order + 1; o-- > low;) {
		if (mt == PCPOOL_MT_MOVABLE && o < zone->order / 2)
			break;
		for (i = 0; i < PCPOOL_MT_TYPES - 1; i++) {
			struct page *page;

			page = take_first(zone, o, pcpool_mt_fallbacks[mt][i]);
			if (!page)
				continue;
			claim_for(zone, page_to_pfn(page), o, mt);
			*got = o;
			return page;
		}
	}
	for (o = low; o <= zone->order; o++) {
		for (i = 0; i < PCPOOL_MT_TYPES - 1; i++) {
			struct page *page;

			page = take_first(zone, o, pcpool_mt_fallbacks[mt][i]);
			if (page) {
				*got = o;
				return page;
			}
		}
	}
	return NULL;
}

struct page *__pcpool_zone_rmqueue(struct pcpool_zone *zone,
				   unsigned int order, unsigned int mt)
__must_hold(&zone->lock)
{
	struct page *page = NULL;
	unsigned int o;

	if (mt >= PCPOOL_MT_TYPES)
		mt = PCPOOL_MT_DEFAULT;
	for (o = order; o <= zone->order && !page; o++)
		page = take_first(zone, o, mt);
	if (page) {
		o--;
	} else {
		bool can_grow = !zone->exhausted &&
				zone->nr_reserved < zone->limit;

		page = rmqueue_fallback(zone, order, mt, can_grow, &o);
		if (!page)
			return NULL;
		/* a whole block retagged is a claim, not a mix */
		if (pcpool_zone_pfn_mt(zone, page_to_pfn(page)) != mt)
			pcpool_stat_add(&this_stats(zone)->mt_fallbacks, 1);
	}
	expand(zone, page_to_pfn(page), order, o);
	zone->held_moved += 1UL << order;
	return page;
}

struct page *__pcpool_zone_rmqueue_largest(struct pcpool_zone *zone,
					   unsigned int min_order,
					   unsigned int max_order,
					   unsigned int mt,
					   unsigned int *order)
__must_hold(&zone->lock)
{
	unsigned int o;

	if (max_order > zone->order)
		max_order = zone->order;
	if (mt >= PCPOOL_MT_TYPES)
		return NULL;
	for (o = max_order + 1; o-- > min_order;) {
		struct page *page = take_first(zone, o, mt);

		if (!page)
			continue;
		zone->held_moved += 1UL << o;
		*order = o;
		return page;
	}
	return NULL;
}

/*
 * Cheap sanity checks on a chunk coming back: inside a held block, aligned,
 * not already a free head, not overfilling its block.  A page freed twice
 * after merging into a bigger free chunk can slip past; callers (the
 * module's handle table) must not free twice.
 */
static bool free_ok(struct pcpool_zone *zone, unsigned long pfn,
		    unsigned int order)
{
	struct pcpool_block *blk;

	if (order > zone->order || (pfn & ((1UL << order) - 1)) ||
	    !pcpool_zone_pfn_in_span(zone, pfn))
		return false;
	blk = pcpool_zone_block(zone, pfn);
	return blk->state == PCPOOL_BLOCK_HELD && blk->node == zone->nid &&
	       !test_bit(block_off(zone, pfn),
			 block_map(zone, pcpool_zone_block_index(zone, pfn))) &&
	       blk->zone_free + (1U << order) <= zone->block_pages;
}

void __pcpool_zone_free(struct pcpool_zone *zone, struct page *page,
			unsigned int order)
__must_hold(&zone->lock)
{
	unsigned long pfn = page_to_pfn(page);
	struct pcpool_block *blk;

	if (WARN_ON_ONCE(!free_ok(zone, pfn, order))) {
		pcpool_stat_add(&this_stats(zone)->bad_frees, 1);
		return;
	}
	pcpool_stat_add(&this_stats(zone)->freed_order[order], 1);
	zone->held_moved += 1UL << order;
	while (order < zone->order) {
		unsigned long buddy = pfn ^ (1UL << order);

		if (!zone_free_head(zone, buddy, order))
			break;
		del_free(zone, pfn_to_page(buddy), buddy, order);
		pfn &= ~(1UL << order);
		order++;
		zone->held_merges++;
	}
	page = pfn_to_page(pfn);
	add_free(zone, page, pfn, order);
	if (order < zone->order)
		return;

	/* Whole again: ownership ends; beyond the reserve it goes back. */
	blk = pcpool_zone_block(zone, pfn);
	WRITE_ONCE(blk->owner, PCPOOL_OWNER_NONE);
	if (zone->area[order].nr_free > zone->reserve)
		detach_block(zone, page);
}

struct page *pcpool_zone_alloc_mt(struct pcpool_zone *zone, unsigned int order,
				  unsigned int mt)
{
	unsigned int i;

	if (order > zone->order)
		return NULL;
	for (i = 0; i < zone->nr_nodes; i++) {
		struct pcpool_zone *z = pcpool_zone_nearest(zone, PCPOOL_NO_NODE,
							    i);
		int tries;

		for (tries = 0; ; tries++) {
			struct page *page;

			pcpool_zone_lock(z);
			page = __pcpool_zone_rmqueue(z, order, mt);
			pcpool_zone_unlock(z);
			if (page)
				return page;
			if (tries == PCPOOL_GROW_TRIES || grow_zone(z))
				break;
		}
	}
	return NULL;
}

void pcpool_zone_free(struct pcpool_zone *zone, struct page *page,
		      unsigned int order)
{
	zone = pcpool_zone_of_pfn(zone, page_to_pfn(page));
	pcpool_zone_lock(zone);
	__pcpool_zone_free(zone, page, order);
	pcpool_zone_unlock(zone);
}

unsigned int pcpool_zone_alloc_bulk(struct pcpool_zone *zone,
				    unsigned int order, unsigned int mt,
				    unsigned int count, struct list_head *list)
{
	unsigned int i;

	if (order > zone->order)
		return 0;
	pcpool_zone_lock(zone);
	for (i = 0; i < count; i++) {
		struct page *page = __pcpool_zone_rmqueue(zone, order, mt);

		if (!page)
			break;
		list_add_tail(&page->lru, list);
	}
	pcpool_zone_unlock(zone);
	return i;
}

void pcpool_zone_free_list(struct pcpool_zone *zone, struct list_head *list)
{
	/* a pass per node the pages are on, the first page's node first */
	while (!list_empty(list)) {
		struct page *first = list_first_entry(list, struct page, lru);
		struct pcpool_zone *z = pcpool_zone_of_pfn(zone,
							   page_to_pfn(first));
		struct list_head *pos, *next;

		pcpool_zone_lock(z);
		for (pos = list->next; pos != list; pos = next) {
			struct page *page = list_entry(pos, struct page, lru);
			unsigned int order = page_private(page);

			next = pos->next;
			if (pcpool_zone_of_pfn(zone, page_to_pfn(page)) != z)
				continue;
			list_del(&page->lru);
			set_page_private(page, 0);
			__pcpool_zone_free(z, page, order);
		}
		pcpool_zone_unlock(z);
	}
}

struct page *pcpool_zone_claim_block(struct pcpool_zone *zone, int owner)
{
	return pcpool_zone_claim_block_node(zone, owner, PCPOOL_NO_NODE, true,
					    PCPOOL_MT_DEFAULT);
}

/*
 * The first whole free block of @zone, claimed for @owner as @mt: a
 * whole block's type does not matter, its claimer retags it.
 */
static struct page *claim_whole(struct pcpool_zone *zone, int owner,
				unsigned int mt)
{
	struct page *page = NULL;
	unsigned int t;

	if (!READ_ONCE(zone->area[zone->order].nr_free))
		return NULL;
	pcpool_zone_lock(zone);
	for (t = 0; t < PCPOOL_MT_TYPES && !page; t++)
		page = take_first(zone, zone->order, t);
	if (page) {
		struct pcpool_block *blk = pcpool_zone_block(zone,
							     page_to_pfn(page));

		WRITE_ONCE(blk->owner, owner);
		WRITE_ONCE(blk->mt, mt);
		zone->held_moved += zone->block_pages;
		pcpool_stat_add(&this_stats(zone)->blocks_claimed, 1);
	}
	pcpool_zone_unlock(zone);
	return page;
}

struct page *pcpool_zone_claim_block_node(struct pcpool_zone *zone, int owner,
					  int node, bool fallback,
					  unsigned int mt)
{
	unsigned int i;

	if (mt >= PCPOOL_MT_TYPES)
		return NULL;
	for (i = 0; i < zone->nr_nodes && (!i || fallback); i++) {
		struct page *page;

		page = claim_whole(pcpool_zone_nearest(zone, node, i), owner,
				   mt);
		if (page)
			return page;
	}
	return NULL;
}

void pcpool_zone_return_block(struct pcpool_zone *zone, struct page *page)
{
	pcpool_zone_free(zone, page, zone->order);
}

unsigned long pcpool_zone_take_fragments(struct pcpool_zone *zone,
					 unsigned long pfn,
					 struct list_head *list)
{
	unsigned long idx, base, off, *map, taken = 0;

	if (!pcpool_zone_pfn_in_span(zone, pfn))
		return 0;
	zone = pcpool_zone_of_pfn(zone, pfn);
	idx = pcpool_zone_block_index(zone, pfn);
	base = pfn & ~(zone->block_pages - 1);
	map = block_map(zone, idx);

	pcpool_zone_lock(zone);
	for (off = find_next_bit(map, zone->block_pages, 0);
	     off < zone->block_pages;
	     off = find_next_bit(map, zone->block_pages, off + 1)) {
		struct page *page = pfn_to_page(base + off);
		unsigned int order = page_private(page);

		del_free(zone, page, base + off, order);
		set_page_private(page, order);
		list_add_tail(&page->lru, list);
		taken += 1UL << order;
	}
	zone->held_moved += taken;
	pcpool_zone_unlock(zone);
	return taken;
}

static unsigned long shrink_zone(struct pcpool_zone *zone,
				 unsigned long nr_pages)
{
	struct pcpool_free_area *area = &zone->area[zone->order];
	unsigned long freed = 0;
	unsigned int mt;

	pcpool_zone_lock(zone);
	for (mt = 0; mt < PCPOOL_MT_TYPES; mt++) {
		while (freed < nr_pages && !list_empty(&area->list[mt])) {
			detach_block(zone, list_first_entry(&area->list[mt],
							    struct page, lru));
			freed += zone->block_pages;
		}
	}
	pcpool_zone_unlock(zone);
	return freed;
}

unsigned long pcpool_zone_shrink(struct pcpool_zone *zone,
				 unsigned long nr_pages)
{
	unsigned long freed = 0;
	unsigned int n;

	for (n = 0; n < zone->nr_nodes && freed < nr_pages; n++)
		freed += shrink_zone(zone->nodes[n], nr_pages - freed);
	return freed;
}

unsigned long pcpool_zone_shrink_count(struct pcpool_zone *zone)
{
	unsigned long blocks = 0;
	unsigned int n;

	for (n = 0; n < zone->nr_nodes; n++)
		blocks += READ_ONCE(zone->nodes[n]->area[zone->order].nr_free);
	return blocks * zone->block_pages;
}

/* @fn on every node's zone, summed. */
static unsigned long sum_nodes(struct pcpool_zone *zone,
			       unsigned long (*fn)(struct pcpool_zone *zone))
{
	unsigned long sum = 0;
	unsigned int n;

	for (n = 0; n < zone->nr_nodes; n++)
		sum += fn(zone->nodes[n]);
	return sum;
}

static unsigned long destroy_zone(struct pcpool_zone *zone)
{
	unsigned long idx, leaked = 0;

	pcpool_zone_lock(zone);
	for (idx = 0; idx < zone->nr_span; idx++) {
		struct pcpool_block *blk = &zone->blocks[idx];
		unsigned long pfn = (zone->base_block + idx) << zone->order;

		if (!pcpool_zone_holds(zone, blk))
			continue;
		if (blk->zone_free == zone->block_pages &&
		    zone_free_head(zone, pfn, zone->order))
			detach_block(zone, pfn_to_page(pfn));
		else
			leaked++;
	}
	WARN_ON_ONCE(leaked || zone->nr_reserved != zone->nr_held);
	pcpool_zone_unlock(zone);
	return leaked;
}

unsigned long pcpool_zone_destroy(struct pcpool_zone *zone)
{
	return sum_nodes(zone, destroy_zone);
}

void pcpool_zone_get_totals(struct pcpool_zone *zone,
			    struct pcpool_zone_totals *t)
{
	unsigned int o, n;

	memset(t, 0, sizeof(*t));
	for (n = 0; n < zone->nr_nodes; n++) {
		struct pcpool_zone *z = zone->nodes[n];

		/* Plain spin_lock: a reader must not show up in the lock stats. */
		spin_lock(&z->lock);
		t->blocks_held += z->nr_held;
		t->free_pages += z->free_pages;
		for (o = 0; o < PCPOOL_NR_ORDERS; o++)
			t->nr_free[o] += z->area[o].nr_free;
		spin_unlock(&z->lock);
	}
}

/* One statistic, at byte offset @off in struct pcpool_zone_stats, of one node. */
static u64 node_stat(struct pcpool_zone *zone, size_t off)
{
	unsigned int cpu;
	u64 sum = 0;

	for (cpu = 0; cpu < zone->nr_cpus; cpu++)
		sum += READ_ONCE(*(u64 *)((char *)&zone->stats[cpu] + off));
	return sum;
}

/* The same summed over nodes. */
static u64 sum_stat(struct pcpool_zone *zone, size_t off)
{
	unsigned int n;
	u64 sum = 0;

	for (n = 0; n < zone->nr_nodes; n++)
		sum += node_stat(zone->nodes[n], off);
	return sum;
}

#define NODE_STAT(zone, field) \
	node_stat(zone, offsetof(struct pcpool_zone_stats, field))

int pcpool_zone_get_node_state(struct pcpool_zone *zone, unsigned int nid,
			       struct pcpool_zone_node_state *s)
{
	struct pcpool_zone *z;

	if (nid >= zone->nr_nodes)
		return -EINVAL;
	z = zone->nodes[nid];
	/* Plain spin_lock: a reader must not show up in the lock stats. */
	spin_lock(&z->lock);
	s->limit = z->limit;
	s->blocks_held = z->nr_held;
	s->free_pages = z->free_pages;
	spin_unlock(&z->lock);
	s->lock_acquisitions = NODE_STAT(z, lock_acquisitions);
	s->lock_contended = NODE_STAT(z, lock_contended);
	s->pages_moved = NODE_STAT(z, pages_moved);
	s->blocks_obtained = NODE_STAT(z, blocks_obtained);
	return 0;
}

#define SUM_STAT(zone, field) \
	sum_stat(zone, offsetof(struct pcpool_zone_stats, field))

#define ZONE_STAT(field) \
	{ "zone_" #field, offsetof(struct pcpool_zone_stats, field) }

/* The event counters in the order they are shown; NULL: the histogram. */
static const struct {
	const char *key;
	size_t off;
} zone_stats[] = {
	ZONE_STAT(lock_acquisitions), ZONE_STAT(lock_contended),
	ZONE_STAT(lock_hold_ns), ZONE_STAT(pages_moved), ZONE_STAT(merges),
	ZONE_STAT(splits), { NULL, 0 }, ZONE_STAT(blocks_obtained),
	ZONE_STAT(blocks_returned), ZONE_STAT(blocks_rejected),
	ZONE_STAT(grow_failed), ZONE_STAT(grow_limited),
	ZONE_STAT(blocks_claimed), ZONE_STAT(bad_frees),
	ZONE_STAT(mt_fallbacks), ZONE_STAT(mt_claims),
};

void pcpool_zone_counters(struct pcpool_zone *zone, pcpool_emit_fn emit,
			  void *arg)
{
	static const char * const hist_keys[PCPOOL_MOVED_HIST] = {
		"zone_moved_hist_0", "zone_moved_hist_1", "zone_moved_hist_2",
		"zone_moved_hist_4", "zone_moved_hist_8", "zone_moved_hist_16",
		"zone_moved_hist_32", "zone_moved_hist_64",
		"zone_moved_hist_128", "zone_moved_hist_256",
		"zone_moved_hist_512", "zone_moved_hist_1024",
	};
	static const char * const free_keys[] = {
		"zone_free_order_0", "zone_free_order_1", "zone_free_order_2",
		"zone_free_order_3", "zone_free_order_4", "zone_free_order_5",
		"zone_free_order_6", "zone_free_order_7", "zone_free_order_8",
		"zone_free_order_9", "zone_free_order_10", "zone_free_order_11",
		"zone_free_order_12", "zone_free_order_13", "zone_free_order_14",
		"zone_free_order_15",
	};
	static const char * const freed_keys[] = {
		"zone_freed_order_0", "zone_freed_order_1", "zone_freed_order_2",
		"zone_freed_order_3", "zone_freed_order_4", "zone_freed_order_5",
		"zone_freed_order_6", "zone_freed_order_7", "zone_freed_order_8",
		"zone_freed_order_9", "zone_freed_order_10", "zone_freed_order_11",
		"zone_freed_order_12", "zone_freed_order_13", "zone_freed_order_14",
		"zone_freed_order_15",
	};
	struct pcpool_zone_totals t;
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(zone_stats); i++) {
		if (zone_stats[i].key) {
			emit(arg, zone_stats[i].key,
			     sum_stat(zone, zone_stats[i].off));
			continue;
		}
		for (j = 0; j < PCPOOL_MOVED_HIST; j++)
			emit(arg, hist_keys[j], SUM_STAT(zone, moved_hist[j]));
	}
	for (i = 0; i <= zone->order && i < ARRAY_SIZE(freed_keys); i++)
		emit(arg, freed_keys[i], SUM_STAT(zone, freed_order[i]));

	pcpool_zone_get_totals(zone, &t);
	emit(arg, "zone_blocks_held", t.blocks_held);
	emit(arg, "zone_free_pages", t.free_pages);
	for (i = 0; i <= zone->order && i < ARRAY_SIZE(free_keys); i++)
		emit(arg, free_keys[i], t.nr_free[i]);
}

void pcpool_zone_reset_counters(struct pcpool_zone *zone)
{
	unsigned int cpu, n;

	for (n = 0; n < zone->nr_nodes; n++) {
		struct pcpool_zone *z = zone->nodes[n];

		/* Writers hold the lock, so under it the reset loses nothing. */
		spin_lock(&z->lock);
		for (cpu = 0; cpu < z->nr_cpus; cpu++) {
			u64 *f = (u64 *)&z->stats[cpu];
			size_t i;

			for (i = 0; i < sizeof(z->stats[cpu]) / sizeof(u64); i++)
				WRITE_ONCE(f[i], 0);
		}
		spin_unlock(&z->lock);
	}
}

/* Walk one block's free heads in address order; returns problems found. */
static unsigned long check_block(struct pcpool_zone *zone, unsigned long idx)
{
	struct pcpool_block *blk = &zone->blocks[idx];
	unsigned long *map = block_map(zone, idx);
	unsigned long base = (zone->base_block + idx) << zone->order;
	unsigned long off, end = 0, sum = 0, bad = 0;

	if (blk->state != PCPOOL_BLOCK_HELD) {
		for (off = 0; off < zone->map_words; off++)
			bad += map[off] != 0;
		return bad + (blk->zone_free != 0);
	}
	for (off = find_next_bit(map, zone->block_pages, 0);
	     off < zone->block_pages;
	     off = find_next_bit(map, zone->block_pages, off + 1)) {
		unsigned long order = page_private(pfn_to_page(base + off));

		if (order > zone->order || (off & ((1UL << order) - 1)) ||
		    off < end) {
			bad++;
			continue;
		}
		/* an unmerged free buddy of the same order is a missed merge */
		if (order < zone->order &&
		    zone_free_head(zone, base + (off ^ (1UL << order)), order))
			bad++;
		end = off + (1UL << order);
		sum += 1UL << order;
	}
	bad += sum != blk->zone_free;
	if (sum == zone->block_pages && blk->owner != PCPOOL_OWNER_NONE)
		bad++;
	return bad;
}

/*
 * One node's zone: its blocks (absent ones too when they were last its),
 * lists and counts.  A block never obtained has no node: with several
 * zones nobody's lock covers it, so it is left out.
 */
static unsigned long check_zone(struct pcpool_zone *zone)
{
	unsigned long idx, heads = 0, chunks = 0, pages = 0, held = 0, bad = 0;
	unsigned int o;

	spin_lock(&zone->lock);
	for (idx = 0; idx < zone->nr_span; idx++) {
		unsigned long w;

		if (zone->blocks[idx].node != zone->nid)
			continue;
		bad += check_block(zone, idx);
		held += zone->blocks[idx].state == PCPOOL_BLOCK_HELD;
		for (w = 0; w < zone->map_words; w++)
			heads += hweight_long(block_map(zone, idx)[w]);
	}
	for (o = 0; o < PCPOOL_NR_ORDERS; o++) {
		struct pcpool_free_area *area = &zone->area[o];
		unsigned long n = 0;
		unsigned int mt;

		for (mt = 0; mt < PCPOOL_MT_TYPES; mt++) {
			struct list_head *head = &area->list[mt], *pos;

			for (pos = head->next; pos != head; pos = pos->next) {
				unsigned long pfn;

				pfn = page_to_pfn(list_entry(pos, struct page,
							     lru));
				/* on its block's type's list, as a free head */
				if (o > zone->order ||
				    !pcpool_zone_pfn_in_span(zone, pfn) ||
				    !zone_free_head(zone, pfn, o) ||
				    pcpool_zone_pfn_mt(zone, pfn) != mt)
					bad++;
				n++;
			}
		}
		bad += n != area->nr_free;
		chunks += n;
		pages += n << o;
	}
	/* every set bit is a listed head and every listed head has its bit */
	bad += heads != chunks;
	bad += pages != zone->free_pages;
	bad += held != zone->nr_held;
	bad += zone->nr_held > zone->nr_reserved ||
	       zone->nr_reserved > zone->limit;
	spin_unlock(&zone->lock);
	return bad;
}

unsigned long pcpool_zone_check(struct pcpool_zone *zone)
{
	return sum_nodes(zone, check_zone);
}
