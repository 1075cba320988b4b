// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool classic: Linux 6.1's per-CPU page lists, modelled on a pcpool
 * zone.  The function names follow mm/page_alloc.c so the two can be read
 * side by side.  See Documentation/core.rst.
 */
#include "pcpool_classic.h"

/* As in pcpool_zone_alloc(): a grown block can be taken by others. */
#define PCPOOL_CLASSIC_GROW_TRIES	4

/* @cpu's pageset in node @nid's zone, as zone->per_cpu_pageset. */
static inline struct pcpool_classic_pcp *node_pcp(struct pcpool_classic *classic,
						  unsigned int nid,
						  unsigned int cpu)
{
	return &classic->pcp[nid * classic->nr_cpus + cpu];
}

/*
 * @cpu's pageset in its own node's zone: the fast path's, and where its
 * lock-free stats go.  A pointer per CPU, so that the fast path neither
 * looks the node up nor indexes the [node][cpu] array.
 */
static inline struct pcpool_classic_pcp *cpu_pcp(struct pcpool_classic *classic,
						 unsigned int cpu)
{
	if (WARN_ON_ONCE(cpu >= classic->nr_cpus))
		cpu = 0;
	return READ_ONCE(classic->home[cpu]);
}

/* A counter of the second group: bumped by the pinned CPU, no pcp lock. */
#define cpu_stat_inc(classic, field) do {				\
	struct pcpool_classic_pcp *__p = cpu_pcp(classic, get_cpu());	\
	pcpool_stat_add(&__p->st.field, 1);				\
	put_cpu();							\
} while (0)

int pcpool_classic_default_batch(unsigned long managed)
{
	unsigned long batch;

	/* ~0.1% of the zone or 1 MiB, whichever is smaller, /4 ... */
	batch = min_t(unsigned long, managed >> 10, (1UL << 20) >> PAGE_SHIFT);
	batch /= 4;
	if (batch < 1)
		batch = 1;
	/* ... clamped to 2^n - 1 for cache colouring; 6.1 then takes max(1, .) */
	batch = rounddown_pow_of_two(batch + batch / 2) - 1;
	return max_t(int, 1, (int)batch);
}

/* mult_frac() without overflow, as the kernel spells it. */
static unsigned long frac(unsigned long x, unsigned long n, unsigned long d)
{
	return (x / d) * n + ((x % d) * n) / d;
}

int pcpool_classic_default_high(unsigned long managed, int batch,
				unsigned int nr_split_cpus)
{
	unsigned long kbytes = managed << (PAGE_SHIFT - 10);
	unsigned long min_kbytes, min_pages, low, high;

	/*
	 * 6.1 sizes high from the zone's low watermark.  Compute it as the
	 * kernel would if this zone were all of lowmem:
	 * calculate_min_free_kbytes() then __setup_per_zone_wmarks() with
	 * watermark_scale_factor = 10.
	 */
	min_kbytes = clamp_t(unsigned long, int_sqrt(kbytes * 16), 128, 262144);
	min_pages = min_kbytes >> (PAGE_SHIFT - 10);
	low = min_pages + max_t(unsigned long, min_pages >> 2,
				frac(managed, 10, 10000));
	/* zone_highsize(): split over the CPUs, at least 4 batches */
	high = low / max_t(unsigned int, nr_split_cpus, 1);
	high = max_t(unsigned long, high, (unsigned long)batch << 2);
	return min_t(unsigned long, high, INT_MAX);
}

size_t pcpool_classic_meta_size(const struct pcpool_zone *zone)
{
	return 2 * PCPOOL_CACHE_BYTES + sizeof(struct pcpool_classic) +
	       zone->nr_nodes * zone->nr_cpus *
	       sizeof(struct pcpool_classic_pcp) +
	       zone->nr_cpus * sizeof(struct pcpool_classic_pcp *);
}

/* Like 6.1's pageset_update(): readers cope with either value. */
static void node_set_high_batch(struct pcpool_classic *classic,
				unsigned int nid, int high, int batch)
{
	unsigned int cpu;

	for (cpu = 0; cpu < classic->nr_cpus; cpu++) {
		WRITE_ONCE(node_pcp(classic, nid, cpu)->batch, batch);
		WRITE_ONCE(node_pcp(classic, nid, cpu)->high, high);
	}
}

int pcpool_classic_set_high_batch(struct pcpool_classic *classic, int high,
				  int batch)
{
	unsigned long limit = 0;
	unsigned int n;

	/* at most the largest node's zone: zones follow their node's memory */
	for (n = 0; n < classic->nr_nodes; n++)
		limit = max(limit, pcpool_zone_node(classic->zone, n)->limit);
	limit <<= classic->zone->order;
	if (batch < 1 || high < 0 || (unsigned long)batch > limit ||
	    (unsigned long)high > limit)
		return -EINVAL;
	WRITE_ONCE(classic->high, high);
	WRITE_ONCE(classic->batch, batch);
	for (n = 0; n < classic->nr_nodes; n++)
		node_set_high_batch(classic, n, high, batch);
	return 0;
}

int pcpool_classic_set_node(struct pcpool_classic *classic, unsigned int cpu,
			    int node)
{
	if (cpu >= classic->nr_cpus)
		return -EINVAL;
	if (node < 0 || (unsigned int)node >= classic->nr_nodes)
		node = 0;
	WRITE_ONCE(classic->home[cpu], node_pcp(classic, node, cpu));
	return 0;
}

int pcpool_classic_init(void *buf, size_t size, struct pcpool_zone *zone,
			unsigned int nr_split_cpus,
			struct pcpool_classic **classicp)
{
	struct pcpool_classic *classic;
	unsigned int cpu, i, n;
	char *p;

	if (!zone)
		return -EINVAL;
	p = pcpool_meta_begin(buf, size, pcpool_classic_meta_size(zone));
	if (!p)
		return -EINVAL;
	classic = (struct pcpool_classic *)p;
	p = pcpool_meta_next_line(p, sizeof(*classic));
	classic->pcp = (struct pcpool_classic_pcp *)p;
	p += zone->nr_nodes * zone->nr_cpus * sizeof(*classic->pcp);
	classic->home = (struct pcpool_classic_pcp **)p;

	classic->zone = zone;
	classic->nr_nodes = zone->nr_nodes;
	classic->nr_cpus = zone->nr_cpus;
	classic->max_order = min_t(unsigned int, PAGE_ALLOC_COSTLY_ORDER,
				   zone->order);
	classic->nr_split_cpus = nr_split_cpus ? nr_split_cpus : zone->nr_cpus;
	spin_lock_init(&classic->drain_lock);
	for (n = 0; n < classic->nr_nodes; n++) {
		struct pcpool_zone *z = pcpool_zone_node(zone, n);
		/* zone_set_pageset_high_and_batch(), "managed" the limit */
		unsigned long managed = z->limit << z->order;
		int batch = pcpool_classic_default_batch(managed);
		int high = pcpool_classic_default_high(managed, batch,
						       classic->nr_split_cpus);

		for (cpu = 0; cpu < classic->nr_cpus; cpu++) {
			struct pcpool_classic_pcp *pcp = node_pcp(classic, n,
								  cpu);

			pcp->zone = z;
			if (!n)		/* every CPU starts on node 0 */
				classic->home[cpu] = pcp;
			spin_lock_init(&pcp->lock);
			for (i = 0; i < PCPOOL_CLASSIC_NR_LISTS; i++)
				INIT_LIST_HEAD(&pcp->lists[i]);
		}
		node_set_high_batch(classic, n, high, batch);
		if (!n) {
			classic->high = high;
			classic->batch = batch;
		}
	}
	*classicp = classic;
	return 0;
}

/* 6.1's order_to_pindex() and pindex_to_order(). */
static inline unsigned int order_to_pindex(unsigned int mt, unsigned int order)
{
	return order * PCPOOL_MT_TYPES + mt;
}

static inline unsigned int pindex_to_order(unsigned int pindex)
{
	return pindex / PCPOOL_MT_TYPES;
}

/*
 * free_pcppages_bulk(): give @count pages back to the zone under one
 * zone-lock acquisition, round-robin over the lists starting with @pindex,
 * coldest (tail) pages first.  Returns pages freed.
 */
static int free_pcppages_bulk(struct pcpool_classic *classic, int count,
			      struct pcpool_classic_pcp *pcp, int pindex)
__must_hold(&pcp->lock)
{
	int min_pindex = 0, freed = 0;
	int max_pindex = order_to_pindex(PCPOOL_MT_TYPES - 1, classic->max_order);
	struct pcpool_zone *zone = pcp->zone;

	count = min(pcp->count, count);
	pindex = pindex - 1;

	pcpool_zone_lock(zone);
	while (count > 0) {
		struct list_head *list;
		int nr_pages;

		do {
			if (++pindex > max_pindex)
				pindex = min_pindex;
			list = &pcp->lists[pindex];
			if (!list_empty(list))
				break;
			if (pindex == max_pindex)
				max_pindex--;
			if (pindex == min_pindex)
				min_pindex++;
			/* count says pages, lists say none: don't spin */
			if (WARN_ON_ONCE(min_pindex > max_pindex))
				goto out;
		} while (1);

		nr_pages = 1 << pindex_to_order(pindex);
		do {
			struct page *page = list_last_entry(list, struct page, lru);

			list_del(&page->lru);
			count -= nr_pages;
			WRITE_ONCE(pcp->count, pcp->count - nr_pages);
			__pcpool_zone_free(zone, page, pindex_to_order(pindex));
			freed += nr_pages;
		} while (count > 0 && !list_empty(list));
	}
out:
	pcpool_zone_unlock(zone);
	return freed;
}

/* rmqueue_pcplist() + __rmqueue_pcplist(), pcp lock held. */
static __always_inline struct page *
rmqueue_pcplist(struct pcpool_classic_pcp *pcp, unsigned int order,
		unsigned int mt)
__must_hold(&pcp->lock)
{
	struct list_head *list = &pcp->lists[order_to_pindex(mt, order)];
	struct page *page;

	/* An allocation shrinks the batch that consecutive frees drain. */
	pcp->free_factor >>= 1;
	if (list_empty(list)) {
		int batch = READ_ONCE(pcp->batch);
		unsigned int got;

		/* Scale batch by order, but keep at least 2 (6.1). */
		if (batch > 1)
			batch = max(batch >> order, 2);
		got = pcpool_zone_alloc_bulk(pcp->zone, order, mt, batch, list);
		pcpool_stat_add(&pcp->st.refills, 1);
		pcpool_stat_add(&pcp->st.refill_pages, (u64)got << order);
		WRITE_ONCE(pcp->count, pcp->count + (int)(got << order));
		if (!got)
			return NULL;
	}
	page = list_first_entry(list, struct page, lru);
	list_del(&page->lru);
	WRITE_ONCE(pcp->count, pcp->count - (1 << order));
	pcpool_stat_add(&pcp->st.allocs, 1);
	return page;
}

/*
 * rmqueue() on the @i-th zone of this CPU's zonelist: its pageset for the
 * zone, or the zone itself.  zone_statistics(): entry 0 is the CPU's own
 * node, every later one another node's, a numa_miss; hits are the rest.
 */
static __always_inline struct page *
rmqueue(struct pcpool_classic *classic, unsigned int i, unsigned int order,
	unsigned int mt, struct pcpool_zone **zonep)
{
	unsigned int cpu = get_cpu();
	struct pcpool_classic_pcp *home = cpu_pcp(classic, cpu), *pcp = home;
	struct pcpool_zone *zone = home->zone;
	bool listed = order <= classic->max_order;
	struct page *page;

	if (i) {
		zone = pcpool_zone_nearest(classic->zone, zone->nid, i);
		pcp = node_pcp(classic, zone->nid, cpu);
	}
	if (listed && spin_trylock(&pcp->lock)) {
		page = rmqueue_pcplist(pcp, order, mt);
		spin_unlock(&pcp->lock);
	} else {
		/* rmqueue_buddy(): straight from the zone */
		if (listed)
			pcpool_stat_add(&home->st.pcp_busy, 1);
		pcpool_zone_lock(zone);
		page = __pcpool_zone_rmqueue(zone, order, mt);
		pcpool_zone_unlock(zone);
		if (page)
			pcpool_stat_add(&home->st.direct_allocs, 1);
	}
	if (page && i)
		pcpool_stat_add(&home->st.numa_miss, 1);
	put_cpu();
	*zonep = zone;
	return page;
}

/*
 * get_page_from_freelist() past the first try: the zonelist from this
 * CPU's node outwards.  Memory not yet obtained counts as free (see
 * struct pcpool_zone), so a zone short of it grows (may sleep, no lock
 * held) before the next is tried; with every zone at its limit, drain all
 * once, as 6.1 does after reclaim.
 */
static noinline struct page *alloc_slow(struct pcpool_classic *classic,
					unsigned int order, unsigned int mt)
{
	bool drained = false;

	for (;;) {
		unsigned int i;

		for (i = 0; i < classic->nr_nodes; i++) {
			int grows;

			for (grows = 0; ; grows++) {
				struct pcpool_zone *zone;
				struct page *page;

				page = rmqueue(classic, i, order, mt, &zone);
				if (page)
					return page;
				if (grows == PCPOOL_CLASSIC_GROW_TRIES ||
				    pcpool_zone_grow_node(zone, zone->nid))
					break;
				cpu_stat_inc(classic, grows);
			}
		}
		if (!drained) {
			drained = true;
			pcpool_classic_drain_all(classic, false);
			continue;
		}
		cpu_stat_inc(classic, alloc_failures);
		return NULL;
	}
}

struct page *pcpool_classic_alloc_mt(struct pcpool_classic *classic,
				     unsigned int order, unsigned int mt)
{
	struct pcpool_zone *zone;
	struct page *page;

	if (order > classic->zone->order || mt >= PCPOOL_MT_TYPES)
		return NULL;
	page = rmqueue(classic, 0, order, mt, &zone);
	if (likely(page))
		return page;
	return alloc_slow(classic, order, mt);
}

/* nr_pcp_free(): how many to drain, doubling on consecutive frees. */
static int nr_pcp_free(struct pcpool_classic_pcp *pcp, int high, int batch,
		       bool free_high)
{
	int min_nr_free, max_nr_free;

	if (unlikely(free_high))
		return pcp->count;
	if (unlikely(high < batch))
		return 1;
	min_nr_free = batch;
	max_nr_free = high - batch;
	batch <<= pcp->free_factor;
	if (batch < max_nr_free && pcp->free_factor < PCPOOL_PCP_BATCH_SCALE_MAX)
		pcp->free_factor++;
	return clamp(batch, min_nr_free, max_nr_free);
}

/* nr_pcp_high(), without reclaim: there is no kswapd here. */
static int nr_pcp_high(struct pcpool_classic_pcp *pcp, bool free_high)
{
	int high = READ_ONCE(pcp->high);

	if (unlikely(!high || free_high))
		return 0;
	return high;
}

/* free_unref_page_commit(). */
static void free_unref_page_commit(struct pcpool_classic *classic,
				   struct pcpool_classic_pcp *pcp,
				   struct page *page, unsigned long pfn,
				   unsigned int order)
__must_hold(&pcp->lock)
{
	unsigned int mt = pcpool_zone_pfn_mt(pcp->zone, pfn);
	unsigned int pindex = order_to_pindex(mt, order);
	bool free_high;
	int high;

	list_add(&page->lru, &pcp->lists[pindex]);
	WRITE_ONCE(pcp->count, pcp->count + (1 << order));
	pcpool_stat_add(&pcp->st.frees, 1);

	/* High orders freed without allocations in between: drain them all. */
	free_high = pcp->free_factor && order;
	high = nr_pcp_high(pcp, free_high);
	if (pcp->count >= high) {
		int batch = READ_ONCE(pcp->batch);
		int freed;

		freed = free_pcppages_bulk(classic,
					   nr_pcp_free(pcp, high, batch,
						       free_high),
					   pcp, pindex);
		pcpool_stat_add(&pcp->st.drains, 1);
		pcpool_stat_add(&pcp->st.drain_pages, freed);
	}
}

/*
 * 6.1's free_one_page(): straight to the zone, for orders the lists do not
 * keep or (@busy) when this CPU's pageset is being drained.  Out of line:
 * the fast path keeps its registers.
 */
static noinline void free_one_page(struct pcpool_classic *classic,
				   struct page *page, unsigned int order,
				   bool busy)
{
	if (busy)
		cpu_stat_inc(classic, pcp_busy);
	cpu_stat_inc(classic, direct_frees);
	pcpool_zone_free(classic->zone, page, order);
}

void pcpool_classic_free(struct pcpool_classic *classic, struct page *page,
			 unsigned int order)
{
	struct pcpool_classic_pcp *pcp, *home;
	struct pcpool_zone *zone;
	unsigned long pfn;
	unsigned int cpu;

	if (unlikely(order > classic->max_order)) {
		free_one_page(classic, page, order, false);
		return;
	}
	/* this CPU's pageset in the page's zone (page_zone()) */
	pfn = page_to_pfn(page);
	zone = pcpool_zone_of_pfn(classic->zone, pfn);
	cpu = get_cpu();
	home = cpu_pcp(classic, cpu);
	pcp = likely(home->zone == zone) ? home :
	      node_pcp(classic, zone->nid, cpu);
	if (likely(spin_trylock(&pcp->lock))) {
		free_unref_page_commit(classic, pcp, page, pfn, order);
		spin_unlock(&pcp->lock);
	} else {
		free_one_page(classic, page, order, true);
	}
	put_cpu();
}

/*
 * drain_pages_zone(): bounded chunks so one zone-lock hold stays short.
 * Returns pages drained.
 */
static unsigned long drain_pages_zone(struct pcpool_classic *classic,
				      struct pcpool_classic_pcp *pcp)
{
	unsigned long drained = 0;
	int count;

	do {
		spin_lock(&pcp->lock);
		count = pcp->count;
		if (count) {
			int to_drain = min(count, READ_ONCE(pcp->batch) <<
					   PCPOOL_PCP_BATCH_SCALE_MAX);
			int freed = free_pcppages_bulk(classic, to_drain, pcp, 0);

			pcpool_stat_add(&pcp->st.drained_by_all, freed);
			drained += freed;
			/* stop if the lists disagree with count (warned) */
			count = freed ? pcp->count : 0;
		}
		spin_unlock(&pcp->lock);
	} while (count);
	return drained;
}

/* drain_pages(): @cpu's pageset in every zone. */
static unsigned long drain_pages(struct pcpool_classic *classic,
				 unsigned int cpu)
{
	unsigned long drained = 0;
	unsigned int n;

	for (n = 0; n < classic->nr_nodes; n++)
		drained += drain_pages_zone(classic, node_pcp(classic, n, cpu));
	return drained;
}

/* Pages on @cpu's pagesets (racy). */
static unsigned long cpu_pcp_pages(struct pcpool_classic *classic,
				   unsigned int cpu)
{
	unsigned long sum = 0;
	unsigned int n;

	for (n = 0; n < classic->nr_nodes; n++)
		sum += max(READ_ONCE(node_pcp(classic, n, cpu)->count), 0);
	return sum;
}

void pcpool_classic_drain_cpu(struct pcpool_classic *classic, unsigned int cpu)
{
	if (!WARN_ON_ONCE(cpu >= classic->nr_cpus))
		drain_pages(classic, cpu);
}

void pcpool_classic_drain_all_count(struct pcpool_classic *classic, bool force,
				    struct pcpool_drain_result *r)
{
	struct pcpool_classic_pcp *me;
	unsigned int cpu;

	r->visited = 0;
	r->skipped = 0;
	r->pages = 0;
	cpu_stat_inc(classic, drain_all_calls);
	if (!spin_trylock(&classic->drain_lock)) {
		if (!force) {
			cpu_stat_inc(classic, drain_all_busy);
			return;
		}
		spin_lock(&classic->drain_lock);
	}
	for (cpu = 0; cpu < classic->nr_cpus; cpu++) {
		/* Racy, as in 6.1; @force callers need every CPU. */
		if (!force && !cpu_pcp_pages(classic, cpu)) {
			r->skipped++;
			continue;
		}
		r->pages += drain_pages(classic, cpu);
		r->visited++;
	}
	/* preemption is off under drain_lock: this CPU is stable */
	me = cpu_pcp(classic, raw_smp_processor_id());
	pcpool_stat_add(&me->st.drain_all_visited, r->visited);
	pcpool_stat_add(&me->st.drain_all_skipped, r->skipped);
	spin_unlock(&classic->drain_lock);
}

void pcpool_classic_drain_all(struct pcpool_classic *classic, bool force)
{
	struct pcpool_drain_result r;

	pcpool_classic_drain_all_count(classic, force, &r);
}

void pcpool_classic_destroy(struct pcpool_classic *classic)
{
	pcpool_classic_drain_all(classic, true);
}

unsigned long pcpool_classic_shrink(struct pcpool_classic *classic,
				    unsigned long nr_pages)
{
	pcpool_classic_drain_all(classic, false);
	return pcpool_zone_shrink(classic->zone, nr_pages);
}

unsigned long pcpool_classic_pcp_pages(struct pcpool_classic *classic)
{
	unsigned long sum = 0;
	unsigned int cpu;

	for (cpu = 0; cpu < classic->nr_cpus; cpu++)
		sum += cpu_pcp_pages(classic, cpu);
	return sum;
}

unsigned long pcpool_classic_shrink_count(struct pcpool_classic *classic)
{
	return pcpool_zone_shrink_count(classic->zone) +
	       pcpool_classic_pcp_pages(classic);
}

int pcpool_classic_get_pcp_state(struct pcpool_classic *classic,
				 unsigned int cpu,
				 struct pcpool_classic_pcp_state *s)
{
	struct pcpool_classic_pcp *pcp;
	unsigned int o, n;

	if (cpu >= classic->nr_cpus)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	pcp = cpu_pcp(classic, cpu);
	s->high = READ_ONCE(pcp->high);
	s->batch = READ_ONCE(pcp->batch);
	/* summed over the CPU's pagesets, one lock at a time */
	for (n = 0; n < classic->nr_nodes; n++) {
		pcp = node_pcp(classic, n, cpu);
		spin_lock(&pcp->lock);
		s->count += pcp->count;
		for (o = 0; o < PCPOOL_CLASSIC_NR_LISTS; o++) {
			struct list_head *head = &pcp->lists[o], *pos;

			for (pos = head->next; pos != head; pos = pos->next)
				s->chunks[pindex_to_order(o)]++;
		}
		spin_unlock(&pcp->lock);
	}
	return 0;
}

#define CLASSIC_STAT(name) { "classic_" #name, offsetof(struct pcpool_classic_stats, name) }
static const struct {
	const char *key;
	size_t off;
} classic_keys[] = {
	CLASSIC_STAT(allocs),
	CLASSIC_STAT(frees),
	CLASSIC_STAT(refills),
	CLASSIC_STAT(refill_pages),
	CLASSIC_STAT(drains),
	CLASSIC_STAT(drain_pages),
	CLASSIC_STAT(drained_by_all),
	CLASSIC_STAT(direct_allocs),
	CLASSIC_STAT(direct_frees),
	CLASSIC_STAT(pcp_busy),
	CLASSIC_STAT(alloc_failures),
	CLASSIC_STAT(grows),
	CLASSIC_STAT(drain_all_calls),
	CLASSIC_STAT(drain_all_busy),
	CLASSIC_STAT(drain_all_visited),
	CLASSIC_STAT(drain_all_skipped),
	CLASSIC_STAT(numa_miss),
};

#define CLASSIC_OFF(name) offsetof(struct pcpool_classic_stats, name)

static inline u64 read_stat(struct pcpool_classic_pcp *pcp, size_t off)
{
	return READ_ONCE(*(u64 *)((char *)&pcp->st + off));
}

/* One statistic over @cpu's pagesets. */
static u64 cpu_stat(struct pcpool_classic *classic, unsigned int cpu,
		    size_t off)
{
	unsigned int n;
	u64 sum = 0;

	for (n = 0; n < classic->nr_nodes; n++)
		sum += read_stat(node_pcp(classic, n, cpu), off);
	return sum;
}

/*
 * Allocations @cpu served from its own node: all it made less the misses,
 * so that a hit, the fast path, costs no counter of its own.  Racy reads
 * may run the misses ahead: never below 0.
 */
static u64 cpu_numa_hit(struct pcpool_classic *classic, unsigned int cpu)
{
	u64 all = cpu_stat(classic, cpu, CLASSIC_OFF(allocs)) +
		  cpu_stat(classic, cpu, CLASSIC_OFF(direct_allocs));
	u64 miss = cpu_stat(classic, cpu, CLASSIC_OFF(numa_miss));

	return all > miss ? all - miss : 0;
}

void pcpool_classic_counters(struct pcpool_classic *classic,
			     pcpool_emit_fn emit, void *arg)
{
	unsigned int i, cpu;
	u64 hits;

	for (i = 0; i < ARRAY_SIZE(classic_keys); i++) {
		u64 sum = 0;

		for (cpu = 0; cpu < classic->nr_cpus; cpu++)
			sum += cpu_stat(classic, cpu, classic_keys[i].off);
		emit(arg, classic_keys[i].key, sum);
	}
	for (cpu = 0, hits = 0; cpu < classic->nr_cpus; cpu++)
		hits += cpu_numa_hit(classic, cpu);
	emit(arg, "classic_numa_hit", hits);
	emit(arg, "classic_pcp_pages", pcpool_classic_pcp_pages(classic));
	emit(arg, "classic_high", READ_ONCE(classic->high));
	emit(arg, "classic_batch", READ_ONCE(classic->batch));
	pcpool_zone_counters(classic->zone, emit, arg);
}

void pcpool_classic_cpu_counters(struct pcpool_classic *classic,
				 unsigned int cpu, pcpool_emit_fn emit,
				 void *arg)
{
	struct pcpool_classic_pcp *pcp;
	unsigned int i;

	if (cpu >= classic->nr_cpus)
		return;
	for (i = 0; i < ARRAY_SIZE(classic_keys); i++)
		emit(arg, classic_keys[i].key,
		     cpu_stat(classic, cpu, classic_keys[i].off));
	emit(arg, "classic_numa_hit", cpu_numa_hit(classic, cpu));
	emit(arg, "classic_pcp_pages", cpu_pcp_pages(classic, cpu));
	pcp = cpu_pcp(classic, cpu);
	emit(arg, "classic_high", READ_ONCE(pcp->high));
	emit(arg, "classic_batch", READ_ONCE(pcp->batch));
}

void pcpool_classic_reset_counters(struct pcpool_classic *classic)
{
	unsigned int i, cpu;

	/* Lock-free bumps racing with this may survive it: harmless. */
	for (cpu = 0; cpu < classic->nr_nodes * classic->nr_cpus; cpu++) {
		struct pcpool_classic_pcp *pcp = &classic->pcp[cpu];

		spin_lock(&pcp->lock);
		for (i = 0; i < ARRAY_SIZE(classic_keys); i++)
			WRITE_ONCE(*(u64 *)((char *)&pcp->st +
					    classic_keys[i].off), 0);
		spin_unlock(&pcp->lock);
	}
	pcpool_zone_reset_counters(classic->zone);
}

unsigned long pcpool_classic_check(struct pcpool_classic *classic)
{
	struct pcpool_zone *zone = classic->zone;
	unsigned long bad = 0;
	unsigned int cpu, o;

	for (cpu = 0; cpu < classic->nr_nodes * classic->nr_cpus; cpu++) {
		struct pcpool_classic_pcp *pcp = &classic->pcp[cpu];
		long pages = 0;

		spin_lock(&pcp->lock);
		for (o = 0; o < PCPOOL_CLASSIC_NR_LISTS; o++) {
			struct list_head *head = &pcp->lists[o], *pos;
			unsigned int order = pindex_to_order(o);

			for (pos = head->next; pos != head; pos = pos->next) {
				unsigned long pfn = page_to_pfn(list_entry(pos,
							struct page, lru));

				/* on its zone's pageset, as page_zone() */
				if (order > classic->max_order ||
				    !pcpool_zone_pfn_in_span(zone, pfn) ||
				    pcpool_zone_pfn_node(zone, pfn) !=
				    pcp->zone->nid ||
				    (pfn & ((1UL << order) - 1)))
					bad++;
				pages += 1L << order;
			}
		}
		bad += pages != pcp->count;
		spin_unlock(&pcp->lock);
	}
	return bad + pcpool_zone_check(zone);
}
