/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool userspace shim, the test-facing half: a modelled physical memory
 * (struct page array with pfns) handed out in pageblocks by a page source
 * the tests control and can make fail, the "current CPU" of the calling
 * thread, and the WARN_ON_ONCE counter.
 */
#ifndef _PCPOOL_USER_H
#define _PCPOOL_USER_H

#include "pcpool_platform.h"
#include "pcpool_zone.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The calling thread now runs on "CPU" @cpu. */
void pcpool_user_set_cpu(unsigned int cpu);

/* WARN_ON_ONCE hits so far (all threads); @quiet stops the stderr line. */
unsigned long pcpool_user_warnings(void);
void pcpool_user_quiet_warnings(bool quiet);

#define PCPOOL_USER_PAGE_HELD	1UL	/* page->flags: block out at the zone */

struct pcpool_user_mem {
	struct page *pages;
	unsigned long base_pfn;
	unsigned long nr_pages;
	unsigned long nr_blocks;
	unsigned int order;
	unsigned int nr_nodes;	/* blocks split evenly, in order; 0: no nodes */
	pthread_mutex_t lock;	/* everything below */
	unsigned char *taken;	/* per block */
	unsigned long cursor;	/* next block to try */
	long fail_after;	/* allocations left before failing, -1: never */
	unsigned long fail_every; /* fail every Nth allocation, 0: never */
	unsigned long attempts;
	unsigned long allocs;
	unsigned long frees;
	unsigned long failures;
	unsigned long bad_frees;	/* not ours / not out / wrong order */
	unsigned long dirty_frees;	/* a page came back with private != 0 */
};

/*
 * Model @nr_blocks blocks of 2^@order pages starting at pfn @base_pfn
 * (block aligned).  One model at a time: it sets the global memmap that
 * page_to_pfn()/pfn_to_page() use.  0 or -errno.
 */
int pcpool_user_mem_init(struct pcpool_user_mem *mem, unsigned long base_pfn,
			 unsigned long nr_blocks, unsigned int order);
void pcpool_user_mem_destroy(struct pcpool_user_mem *mem);
/*
 * Model NUMA: the blocks split evenly over @nr_nodes nodes in pfn order
 * (the last takes the remainder), and the source gains alloc_block_node(),
 * block_node() and distance() (nodes on a line: 10 + 10 per hop).
 * Call before taking the source; 0 turns it off.
 */
void pcpool_user_mem_set_nodes(struct pcpool_user_mem *mem,
			       unsigned int nr_nodes);
/* A page source over @mem for struct pcpool_zone_config. */
struct pcpool_page_source pcpool_user_mem_source(struct pcpool_user_mem *mem);
/* Fault injection: succeed @n more times then fail (-1: never fail). */
void pcpool_user_mem_fail_after(struct pcpool_user_mem *mem, long n);
void pcpool_user_mem_fail_every(struct pcpool_user_mem *mem, unsigned long n);

/*
 * Fault injection shared by the page and per-CPU shims: fail attempt
 * number @attempts when it is a multiple of @every (0: never), and once
 * *@after (counted down per call, -1: never) reaches 0.
 */
/* Set a failure knob under the lock its allocation path reads it with. */
void pcpool_user_store_long(pthread_mutex_t *lock, long *knob, long v);
void pcpool_user_store_ulong(pthread_mutex_t *lock, unsigned long *knob,
			     unsigned long v);
/* *@a - *@b read under @lock: an outstanding count. */
unsigned long pcpool_user_locked_diff(pthread_mutex_t *lock,
				      const unsigned long *a,
				      const unsigned long *b);
bool pcpool_user_should_fail(long *after, unsigned long every,
			     unsigned long attempts);
/* Blocks handed out and not yet given back. */
unsigned long pcpool_user_mem_outstanding(struct pcpool_user_mem *mem);

#ifdef __cplusplus
}
#endif

#endif /* _PCPOOL_USER_H */
