// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool zone fragmentation snapshot; see pcpool_zone_frag.h.
 */
#include "pcpool_zone_frag.h"

/* One node's zone into @f: its blocks, under its lock. */
static void add_node_frag(struct pcpool_zone *zone, struct pcpool_zone_frag *f)
{
	unsigned long i;
	unsigned int o;

	/* Plain spin_lock: a reader must not show up in the lock stats. */
	spin_lock(&zone->lock);
	for (i = 0; i < zone->nr_span; i++) {
		const struct pcpool_block *blk = &zone->blocks[i];

		if (!pcpool_zone_holds(zone, blk))
			continue;
		f->blocks_held++;
		if (READ_ONCE(blk->owner) != PCPOOL_OWNER_NONE)
			f->owned_blocks++;
		if (blk->zone_free == zone->block_pages)
			f->free_blocks++;
		else if (blk->zone_free)
			f->partial_blocks++;
		else
			f->used_blocks++;
	}
	f->free_pages += zone->free_pages;
	for (o = 0; o < PCPOOL_NR_ORDERS; o++)
		f->nr_free[o] += zone->area[o].nr_free;
	spin_unlock(&zone->lock);
}

void pcpool_zone_get_frag(struct pcpool_zone *zone,
			  struct pcpool_zone_frag *f)
{
	unsigned int n;
	int o;

	memset(f, 0, sizeof(*f));
	for (n = 0; n < zone->nr_nodes; n++)
		add_node_frag(zone->nodes[n], f);
	f->largest_order = -1;
	for (o = PCPOOL_NR_ORDERS - 1; o >= 0; o--) {
		if (f->nr_free[o]) {
			f->largest_order = o;
			break;
		}
	}
}
