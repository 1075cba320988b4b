// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool core, kernel glue: the page source, the pfn span and debugfs
 * rendering for the portable core.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nodemask.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/topology.h>

#include "pcpool_kernel.h"

/*
 * Not __GFP_COMP: the core splits the block and hands out its pages, so it
 * must stay a plain high-order allocation (head page refcount 1, tails 0),
 * freed the same way.  __GFP_NORETRY + __GFP_NOWARN: failing to find a free
 * pageblock is an expected -ENOMEM, not an OOM kill or a log splat.
 */
#define PCPOOL_BLOCK_GFP	(GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN)

static struct page *pcpool_kernel_alloc_block(void *ctx, unsigned int order)
{
	return alloc_pages(PCPOOL_BLOCK_GFP, order);
}

/*
 * __GFP_THISNODE: the caller falls back to other nodes itself.  A possible
 * node without memory (offline, or memoryless) may have no pglist_data to
 * allocate from: it simply has none.
 */
static struct page *pcpool_kernel_alloc_block_node(void *ctx,
						   unsigned int order, int node)
{
	if (!node_state(node, N_MEMORY))
		return NULL;
	return alloc_pages_node(node, PCPOOL_BLOCK_GFP | __GFP_THISNODE, order);
}

static int pcpool_kernel_block_node(void *ctx, struct page *page)
{
	return page_to_nid(page);
}

/* A node's memory in pageblocks: its zone's share of the limit follows it. */
static unsigned long pcpool_kernel_node_size(void *ctx, int node)
{
	if (!node_state(node, N_MEMORY))
		return 0;
	return node_present_pages(node) >> pageblock_order;
}

static int pcpool_kernel_node_distance(void *ctx, int from, int to)
{
	return node_distance(from, to);
}

static void pcpool_kernel_free_block(void *ctx, struct page *page,
				     unsigned int order)
{
	__free_pages(page, order);
}

void pcpool_kernel_pfn_span(unsigned long *start, unsigned long *end)
{
	unsigned long lo = ULONG_MAX, hi = 0;
	int nid;

	for_each_online_node(nid) {
		lo = min(lo, node_start_pfn(nid));
		hi = max(hi, node_end_pfn(nid));
	}
	if (lo >= hi) {
		lo = 0;
		hi = 0;
	}
	*start = lo;
	*end = hi;
}

unsigned long pcpool_kernel_default_limit(void)
{
	return max(totalram_pages() / 4 >> pageblock_order, 1UL);
}

void pcpool_kernel_zone_config(struct pcpool_zone_config *cfg,
			       unsigned long limit_blocks,
			       unsigned long reserve_blocks)
{
	memset(cfg, 0, sizeof(*cfg));
	pcpool_kernel_pfn_span(&cfg->start_pfn, &cfg->end_pfn);
	cfg->block_order = pageblock_order;
	cfg->nr_cpus = nr_cpu_ids;
	cfg->limit_blocks = limit_blocks ? limit_blocks :
			    pcpool_kernel_default_limit();
	cfg->reserve_blocks = reserve_blocks;
	/* one zone per node, as pglist_data has its own */
	cfg->nr_nodes = nr_node_ids;
	cfg->src.alloc_block = pcpool_kernel_alloc_block;
	cfg->src.free_block = pcpool_kernel_free_block;
	cfg->src.alloc_block_node = pcpool_kernel_alloc_block_node;
	cfg->src.block_node = pcpool_kernel_block_node;
	cfg->src.distance = pcpool_kernel_node_distance;
	cfg->src.node_size = pcpool_kernel_node_size;
	cfg->src.ctx = NULL;
}

bool pcpool_kernel_pcp_high_batch(int *high, int *batch)
{
	struct zone *best = NULL;
	int nid, i;

	/* for_each_populated_zone() needs symbols modules do not get */
	for_each_online_node(nid) {
		for (i = 0; i < MAX_NR_ZONES; i++) {
			struct zone *zone = &NODE_DATA(nid)->node_zones[i];

			if (populated_zone(zone) &&
			    (!best || zone_managed_pages(zone) >
				      zone_managed_pages(best)))
				best = zone;
		}
	}
	if (!best)
		return false;
	/*
	 * Written with WRITE_ONCE() by zone_set_pageset_high_and_batch().
	 * 6.7 replaced pageset_high with a tuned [high_min, high_max] range:
	 * porting there means choosing one.
	 */
	*high = READ_ONCE(best->pageset_high);
	*batch = READ_ONCE(best->pageset_batch);
	return true;
}

void pcpool_kernel_seq_emit(void *arg, const char *key, u64 val)
{
	seq_printf(arg, "%s %llu\n", key, val);
}

int pcpool_kernel_zone_create(struct pcpool_kernel_zone *kz,
			      unsigned long limit_blocks,
			      unsigned long reserve_blocks)
{
	struct pcpool_zone_config cfg;
	size_t size;
	int ret;

	pcpool_kernel_zone_config(&cfg, limit_blocks, reserve_blocks);
	size = pcpool_zone_meta_size(&cfg);
	kz->meta = kvzalloc(size, GFP_KERNEL);
	if (!kz->meta)
		return -ENOMEM;
	ret = pcpool_zone_init(kz->meta, size, &cfg, &kz->zone);
	if (ret) {
		kvfree(kz->meta);
		kz->meta = NULL;
	}
	return ret;
}

void pcpool_kernel_zone_destroy(struct pcpool_kernel_zone *kz,
				const char *name)
{
	if (pcpool_zone_destroy(kz->zone))
		pr_err("pcpool: %s: zone blocks still in use at unload, leaked\n",
		       name);
	kvfree(kz->meta);
	kz->meta = NULL;
	kz->zone = NULL;
}
