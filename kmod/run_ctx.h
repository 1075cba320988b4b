/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool run engine, inside: what a workload's loop sees.  Only run.c and
 * the workload files (run_pcpu.c) include this.
 */
#ifndef _PCPOOL_RUN_CTX_H
#define _PCPOOL_RUN_CTX_H

#include <linux/ktime.h>
#include <linux/prandom.h>
#include <linux/types.h>

#include <linux/pcpool.h>

#include "backend.h"
#include "cap.h"

/* Per-operation timing of one RUN, when PCPOOL_RUN_HIST asks for it. */
struct pcpool_lat {
	struct pcpool_hist *h;	/* kernel copy, written out at the end */
	u32 mask;		/* time an event when (count & mask) == 0 */
	u32 nalloc;
	u32 nfree;
};

struct pcpool_run_ctx {
	struct pcpool_backend *b;
	struct pcpool_run *r;
	struct pcpool_cap *cap;
	struct pcpool_lat *lat;		/* NULL: no histogram */
	struct pcpool_frag *frag;	/* RUN_FRAG not yet taken, or NULL */
	union pcpool_obj *objs;		/* live_objs() entries, or NULL */
	size_t size;			/* bytes of r->order */
	unsigned int mt_seq;		/* PCPOOL_RUN_MT_MIX: allocations so far */
	struct rnd_state rnd;
};

void pcpool_lat_record(u64 *buckets, u64 *sum, u64 *max, u64 ns);

/* ---- one allocation, one free, timed when the histogram says so ---- */

/* PCPOOL_RUN_MT_MIX's cycle: unmovable, movable, movable, reclaimable. */
static __always_inline gfp_t pcpool_run_gfp(struct pcpool_run_ctx *c)
{
	static const gfp_t mix[4] = {
		PCPOOL_KERNEL_GFP, PCPOOL_KERNEL_GFP | __GFP_MOVABLE,
		PCPOOL_KERNEL_GFP | __GFP_MOVABLE,
		PCPOOL_KERNEL_GFP | __GFP_RECLAIMABLE,
	};

	if (likely(!(c->r->flags & PCPOOL_RUN_MT_MIX)))
		return PCPOOL_KERNEL_GFP;
	return mix[c->mt_seq++ & 3];
}

static __always_inline int pcpool_run_alloc(struct pcpool_run_ctx *c,
					    struct pcpool_lat *lat,
					    size_t size, size_t align,
					    union pcpool_obj *obj)
{
	gfp_t gfp = pcpool_run_gfp(c);
	u64 t0;
	int ret;

	if (!lat || (lat->nalloc++ & lat->mask))
		return pcpool_obj_alloc_gfp(c->b, size, align, gfp, obj);
	t0 = ktime_get_ns();
	ret = pcpool_obj_alloc_gfp(c->b, size, align, gfp, obj);
	if (!ret)
		pcpool_lat_record(lat->h->alloc, &lat->h->alloc_sum_ns,
				  &lat->h->alloc_max_ns, ktime_get_ns() - t0);
	return ret;
}

static __always_inline void pcpool_run_free(struct pcpool_run_ctx *c,
					    struct pcpool_lat *lat,
					    union pcpool_obj obj,
					    size_t size, size_t align)
{
	u64 t0;

	if (!lat || (lat->nfree++ & lat->mask)) {
		pcpool_obj_free(c->b, obj, size, align);
		return;
	}
	t0 = ktime_get_ns();
	pcpool_obj_free(c->b, obj, size, align);
	pcpool_lat_record(lat->h->free, &lat->h->free_sum_ns,
			  &lat->h->free_max_ns, ktime_get_ns() - t0);
}

/* Blocks a batch of BULK (and PCPU_SIZES) keeps alive at once. */
u64 pcpool_live_bulk(const struct pcpool_run *r);

/* run_pcpu.c: the per-CPU workloads. */
unsigned long pcpool_pages_lifecycle(const struct pcpool_run_ctx *c);
int pcpool_wl_lifecycle(struct pcpool_run_ctx *c);
int pcpool_wl_sizes(struct pcpool_run_ctx *c);
unsigned long pcpool_pages_counter(const struct pcpool_run_ctx *c);
int pcpool_wl_counter(struct pcpool_run_ctx *c);

#endif /* _PCPOOL_RUN_CTX_H */
