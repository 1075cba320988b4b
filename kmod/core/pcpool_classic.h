/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool classic: a model of Linux 6.1's per-CPU page lists (PCP) on a
 * pcpool zone.  Per-CPU lists for orders 0..PAGE_ALLOC_COSTLY_ORDER with
 * high and batch; refill batch pages under one zone-lock acquisition
 * (rmqueue_bulk), free to the freeing CPU's list, drain to the zone when
 * the list reaches high (free_pcppages_bulk).  Larger orders go straight to
 * the zone.  Documentation/core.rst says what is modelled and what is not.
 */
#ifndef _PCPOOL_CLASSIC_H
#define _PCPOOL_CLASSIC_H

#include "pcpool_zone.h"

/* 6.1's NR_PCP_LISTS without THP: a list per (order, migratetype) */
#define PCPOOL_CLASSIC_NR_ORDERS	(PAGE_ALLOC_COSTLY_ORDER + 1)
#define PCPOOL_CLASSIC_NR_LISTS \
	(PCPOOL_MT_TYPES * PCPOOL_CLASSIC_NR_ORDERS)
/* CONFIG_PCP_BATCH_SCALE_MAX as Debian's 6.1 kernel sets it */
#define PCPOOL_PCP_BATCH_SCALE_MAX	5

/*
 * Per CPU.  The first group changes under that CPU's pcp lock; the second
 * is bumped by the CPU itself (pinned) without the lock.  Readers use
 * READ_ONCE().
 */
struct pcpool_classic_stats {
	u64 allocs;		/* served from the lists */
	u64 frees;		/* put on the lists */
	u64 refills;		/* rmqueue_bulk: one zone-lock acquisition */
	u64 refill_pages;
	u64 drains;		/* free_pcppages_bulk on reaching high */
	u64 drain_pages;
	u64 drained_by_all;	/* pages taken out by drain_all */

	u64 direct_allocs;	/* order > costly, or own pcp lock busy */
	u64 direct_frees;
	u64 pcp_busy;		/* own pcp trylock failed (6.1: pcp_spin_trylock) */
	u64 alloc_failures;
	u64 grows;		/* zone grown on this CPU's behalf */
	u64 drain_all_calls;
	u64 drain_all_busy;	/* another drain_all was running: skipped */
	u64 drain_all_visited;	/* CPUs drained */
	u64 drain_all_skipped;	/* CPUs with empty lists, not touched */
	/* zone_statistics(): served by another node's zone (hits derived) */
	u64 numa_miss;
};

/* One CPU's pageset in one node's zone (zone->per_cpu_pageset). */
struct pcpool_classic_pcp {
	struct pcpool_zone *zone;	/* its node's zone */
	spinlock_t lock;	/* the lists and count; 6.1's pcp->lock */
	int count;		/* pages on the lists */
	int high;
	int batch;
	int free_factor;	/* batch scale for consecutive frees */
	struct list_head lists[PCPOOL_CLASSIC_NR_LISTS];
	struct pcpool_classic_stats st;
} ____cacheline_aligned_in_smp;

struct pcpool_classic {
	struct pcpool_zone *zone;	/* node 0's; pagesets know their own */
	unsigned int nr_nodes;
	unsigned int nr_cpus;
	unsigned int max_order;		/* highest order kept on the lists */
	unsigned int nr_split_cpus;	/* CPUs the default high is split over */
	int high;			/* setting applied to every CPU */
	int batch;
	spinlock_t drain_lock;		/* one drain_all at a time */
	struct pcpool_classic_pcp *pcp;	/* [nr_nodes][nr_cpus] */
	/* [nr_cpus]: each CPU's pageset in its own node's zone */
	struct pcpool_classic_pcp **home;
};

/* 6.1's zone_batchsize() and zone_highsize() for a zone of @managed pages. */
int pcpool_classic_default_batch(unsigned long managed);
int pcpool_classic_default_high(unsigned long managed, int batch,
				unsigned int nr_split_cpus);

size_t pcpool_classic_meta_size(const struct pcpool_zone *zone);
/*
 * high and batch default to what 6.1 derives for a zone of the zone's
 * limit, high split over @nr_split_cpus (0: the zone's nr_cpus).
 */
int pcpool_classic_init(void *buf, size_t size, struct pcpool_zone *zone,
			unsigned int nr_split_cpus,
			struct pcpool_classic **classicp);
/*
 * @cpu is on @node: it allocates from that node's zone first and its
 * allocations count as numa_hit there.  Every CPU starts on node 0.
 * -EINVAL for a CPU out of range; a node the zone lacks counts as 0.
 */
int pcpool_classic_set_node(struct pcpool_classic *classic, unsigned int cpu,
			    int node);
/* Drain every list into the zone.  The zone is the caller's to destroy. */
void pcpool_classic_destroy(struct pcpool_classic *classic);

/*
 * Allocate/free 2^order pages, 0 <= order <= zone block order, on the
 * current CPU.  alloc walks the zonelist of the CPU's node and may call
 * the page source (see pcpool_zone_grow()); free goes to the CPU's
 * pageset in the page's node's zone.
 * alloc_mt takes migratetype @mt's list and zone lists (falling back in
 * the zone as 6.1's __rmqueue() does); alloc takes PCPOOL_MT_DEFAULT.  A
 * free goes on the list of its block's type, as 6.1's
 * get_pfnblock_migratetype() picks it.
 */
struct page *pcpool_classic_alloc_mt(struct pcpool_classic *classic,
				     unsigned int order, unsigned int mt);
static inline struct page *pcpool_classic_alloc(struct pcpool_classic *classic,
						unsigned int order)
{
	return pcpool_classic_alloc_mt(classic, order, PCPOOL_MT_DEFAULT);
}

void pcpool_classic_free(struct pcpool_classic *classic, struct page *page,
			 unsigned int order);

/* batch >= 1, high >= 0 (high < batch: every free drains, as in 6.1). */
int pcpool_classic_set_high_batch(struct pcpool_classic *classic, int high,
				  int batch);
/*
 * Empty every CPU's lists into the zone (6.1's __drain_all_pages()):
 * CPUs with empty lists are skipped.  Without @force, return at once if
 * another drain_all is running.
 */
void pcpool_classic_drain_all(struct pcpool_classic *classic, bool force);
/* The same, saying what it did in *@r (all zero if it was skipped). */
void pcpool_classic_drain_all_count(struct pcpool_classic *classic, bool force,
				    struct pcpool_drain_result *r);
/* Empty one CPU's lists, e.g. when it goes offline. */
void pcpool_classic_drain_cpu(struct pcpool_classic *classic,
			      unsigned int cpu);
/* Shrinker: drain the lists, then give back up to @nr_pages in blocks. */
unsigned long pcpool_classic_shrink(struct pcpool_classic *classic,
				    unsigned long nr_pages);
unsigned long pcpool_classic_shrink_count(struct pcpool_classic *classic);

/* Pages sitting on all CPUs' lists (racy sum). */
unsigned long pcpool_classic_pcp_pages(struct pcpool_classic *classic);

/* One CPU's lists as they are now, for debugfs. */
struct pcpool_classic_pcp_state {
	int count;		/* pages on the lists */
	int high;
	int batch;
	unsigned long chunks[PCPOOL_CLASSIC_NR_ORDERS];	/* per order */
};

/* Fill *@s for @cpu under its pcp lock; -EINVAL for a CPU out of range. */
int pcpool_classic_get_pcp_state(struct pcpool_classic *classic,
				 unsigned int cpu,
				 struct pcpool_classic_pcp_state *s);

/* classic_* keys summed over CPUs, then the zone's keys. */
void pcpool_classic_counters(struct pcpool_classic *classic,
			     pcpool_emit_fn emit, void *arg);
/* One CPU's classic_* keys plus classic_pcp_pages/high/batch. */
void pcpool_classic_cpu_counters(struct pcpool_classic *classic,
				 unsigned int cpu, pcpool_emit_fn emit,
				 void *arg);
void pcpool_classic_reset_counters(struct pcpool_classic *classic);
/* Cross-check every list and count, then the zone.  0 = consistent. */
unsigned long pcpool_classic_check(struct pcpool_classic *classic);

#endif /* _PCPOOL_CLASSIC_H */
