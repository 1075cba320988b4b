/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool zone fragmentation: how the zone's held pageblocks and free lists
 * look at one moment, as the zone's buddy allocator sees them.  Pages a
 * per-CPU layer keeps (classic's PCP lists, pcpbuddy's pools and front
 * caches) are not in the free lists, so here they count as allocated; the
 * caller reports them beside it, and drains first for the other view.
 * Documentation/replay.rst says how the harness reports both.
 */
#ifndef _PCPOOL_ZONE_FRAG_H
#define _PCPOOL_ZONE_FRAG_H

#include "pcpool_zone.h"

struct pcpool_zone_frag {
	unsigned long blocks_held;
	unsigned long free_blocks;	/* held, every page in the free lists */
	unsigned long partial_blocks;	/* held, some pages free, some not */
	unsigned long used_blocks;	/* held, no page in the free lists */
	unsigned long owned_blocks;	/* held with an owner (per-CPU layer) */
	unsigned long free_pages;	/* pages in the free lists */
	int largest_order;		/* highest order with a free chunk, -1 */
	unsigned long nr_free[PCPOOL_NR_ORDERS];	/* free chunks per order */
};

/* A snapshot summed over nodes, each under its zone lock.  O(span x nodes). */
void pcpool_zone_get_frag(struct pcpool_zone *zone,
			  struct pcpool_zone_frag *f);

#endif /* _PCPOOL_ZONE_FRAG_H */
