/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool vmap: two virtual-address allocators over one range the caller
 * owns, differing only in the design under study (seeds/004).
 *
 * PCPOOL_VMAP_GLOBAL models 6.1's mm/vmalloc.c: one free space (6.1's
 * augmented rb-tree, searched first fit), one busy table and one purge
 * list, each under its own global lock; frees are lazy and purged in
 * batches with one TLB flush per batch.
 *
 * PCPOOL_VMAP_NODES models Rezki's vmap nodes: min(CPUs, 128) nodes, an
 * area's busy/lazy node chosen by (addr / 16 pages) % nr_nodes, per-node
 * pools of areas by size (1..256 pages) refilled from purged frees, the
 * purge first decaying each pool by 25%, the global free space touched
 * only on a pool miss.  The purge and the shrinker share one lock.
 *
 * Both sit on the same free-space code, so the only differences measured
 * are the ones of the design.  Addresses are byte addresses; sizes and
 * alignments are page multiples.
 */
#ifndef _PCPOOL_VMAP_H
#define _PCPOOL_VMAP_H

#include "pcpool_core.h"

#define PCPOOL_VMAP_MAX_NODES	128U
#define PCPOOL_VMAP_SEG_PAGES	16UL
#define PCPOOL_VMAP_POOL_PAGES	256U
/* Busy hash tables: 2^8 to 2^20 buckets each, by the range's size. */
#define PCPOOL_VMAP_HASH_MIN_BITS	8U
#define PCPOOL_VMAP_HASH_MAX_BITS	20U
/* Pool hit/miss counters by size class: pages 1, 2, 3-4, ..., 129-256. */
#define PCPOOL_VMAP_NR_CLASSES	9U

enum pcpool_vmap_design {
	PCPOOL_VMAP_GLOBAL,
	PCPOOL_VMAP_NODES,
};

/**
 * struct pcpool_vmap_hooks - what the allocator needs from its world
 * @zalloc: zeroed memory, process context, may sleep; NULL on failure
 * @free: give @zalloc memory back; never allocates
 * @flush: flush the TLB for [@start, @end) once per purge batch; the
 *	areas in it were unmapped by their freer
 * @kick: optional: too much is lazy, have pcpool_vmap_purge() called
 *	soon from another context (6.1's drain_vmap_work); without it the
 *	freer purges at once
 * @priv: passed to @flush and @kick
 */
struct pcpool_vmap_hooks {
	void *(*zalloc)(size_t size);
	void (*free)(void *p);
	void (*flush)(void *priv, unsigned long start, unsigned long end);
	void (*kick)(void *priv);
	void *priv;
};

struct pcpool_vmap;

/*
 * A manager of [@start, @start + @size): both page aligned.  @nr_cpus
 * sizes the nodes (PCPOOL_VMAP_NODES) and the lazy threshold; @lazy_max
 * is the lazily freed pages that start a purge (0: 6.1's
 * fls(nr_cpus) * 32 MiB, capped at a quarter of the range).
 */
struct pcpool_vmap *pcpool_vmap_create(enum pcpool_vmap_design design,
				       unsigned long start, unsigned long size,
				       unsigned int nr_cpus,
				       unsigned long lazy_max,
				       const struct pcpool_vmap_hooks *hooks);
/* Purges everything; every area must have been freed. */
void pcpool_vmap_destroy(struct pcpool_vmap *vm);

/*
 * An area of @size bytes aligned to @align: its address in *@addr, 0 or
 * -ENOMEM (after one purge and retry, as 6.1) or -EINVAL.
 */
int pcpool_vmap_alloc(struct pcpool_vmap *vm, unsigned long size,
		      unsigned long align, unsigned long *addr);
/*
 * Free the area at @addr (unmapped by the caller, TLB not flushed): it
 * becomes lazy.  Any CPU.  0 or -EINVAL for an address not allocated.
 */
int pcpool_vmap_free(struct pcpool_vmap *vm, unsigned long addr);
/* Purge the lazy areas now, as the drain work does. */
void pcpool_vmap_purge(struct pcpool_vmap *vm);
/* The shrinker: empty every pool into the free space.  Pages freed. */
unsigned long pcpool_vmap_shrink(struct pcpool_vmap *vm);

/* Gauges for tests: pages busy, lazy, in pools, in the free space. */
unsigned long pcpool_vmap_busy_pages(struct pcpool_vmap *vm);
unsigned long pcpool_vmap_lazy_pages(struct pcpool_vmap *vm);
unsigned long pcpool_vmap_pool_pages(struct pcpool_vmap *vm);
unsigned long pcpool_vmap_free_pages(struct pcpool_vmap *vm);
unsigned int pcpool_vmap_nr_nodes(const struct pcpool_vmap *vm);
/* The node an address's busy and lazy entries live on. */
unsigned int pcpool_vmap_addr_node(const struct pcpool_vmap *vm,
				   unsigned long addr);
/*
 * Faults in the free-space tree (order, merging, subtree maxima, page
 * count): 0 when sound.  Takes the free lock; for tests.
 */
unsigned long pcpool_vmap_check(struct pcpool_vmap *vm);
/* Size class of an area of @pages pages, for the pool counters. */
unsigned int pcpool_vmap_class(unsigned long pages);

/* "key value" pairs: the event counters, then the gauges. */
void pcpool_vmap_counters(struct pcpool_vmap *vm, pcpool_emit_fn emit,
			  void *arg);
void pcpool_vmap_reset_counters(struct pcpool_vmap *vm);

#endif /* _PCPOOL_VMAP_H */
