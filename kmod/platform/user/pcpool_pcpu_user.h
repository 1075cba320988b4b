/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool per-CPU cache, userspace shim, the test-facing half: the modelled
 * per-CPU arena (one unit per possible CPU) and a chunk source over it
 * that the tests control: it counts what is out, refuses bad frees, and
 * can be told to fail chunk or metadata allocations.
 */
#ifndef _PCPOOL_PCPU_USER_H
#define _PCPOOL_PCPU_USER_H

#include "pcpool_pcpu.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pcpool_pcpu_user_arena {
	char *base;		/* CPU 0's unit; CPU n's is n units further */
	size_t unit;
	unsigned int nr_cpus;
	unsigned long nr_pages;	/* pages per unit */
	pthread_mutex_t lock;	/* everything below */
	unsigned char *used;	/* per page: 1 if in a chunk */
	size_t *chunk_pages;	/* per page: pages of the chunk starting here */
	unsigned long cursor;	/* next page to try */
	long chunk_fail_after;	/* chunk allocations left before failing; -1 never */
	unsigned long chunk_fail_every;	/* fail every Nth, 0 never */
	long meta_fail_after;
	unsigned long meta_fail_every;
	unsigned long chunk_attempts;
	unsigned long chunk_allocs;
	unsigned long chunk_frees;
	unsigned long chunk_failures;
	unsigned long chunk_bad_frees;
	unsigned long meta_attempts;
	unsigned long meta_allocs;
	unsigned long meta_frees;
	unsigned long meta_failures;
	bool nowait_fail;	/* every @nowait request fails (GFP_NOWAIT) */
	unsigned long chunk_nowait;	/* requests made with @nowait */
	unsigned long meta_nowait;
};

/*
 * Reserve @nr_cpus units of @unit bytes (a multiple of PAGE_SIZE) and make
 * them the per-CPU memory per_cpu_ptr() sees.  One arena at a time.
 */
int pcpool_pcpu_user_arena_init(struct pcpool_pcpu_user_arena *a,
				unsigned int nr_cpus, size_t unit);
void pcpool_pcpu_user_arena_destroy(struct pcpool_pcpu_user_arena *a);
struct pcpool_pcpu_source
pcpool_pcpu_user_source(struct pcpool_pcpu_user_arena *a);

/* Fault injection: succeed @n more times then fail (-1: never fail). */
void pcpool_pcpu_user_chunk_fail_after(struct pcpool_pcpu_user_arena *a, long n);
void pcpool_pcpu_user_chunk_fail_every(struct pcpool_pcpu_user_arena *a,
				       unsigned long n);
void pcpool_pcpu_user_meta_fail_after(struct pcpool_pcpu_user_arena *a, long n);
void pcpool_pcpu_user_meta_fail_every(struct pcpool_pcpu_user_arena *a,
				      unsigned long n);

/* Chunks / metadata blocks handed out and not yet given back. */
unsigned long pcpool_pcpu_user_chunks_out(struct pcpool_pcpu_user_arena *a);
unsigned long pcpool_pcpu_user_meta_out(struct pcpool_pcpu_user_arena *a);

#ifdef __cplusplus
}
#endif

#endif /* _PCPOOL_PCPU_USER_H */
