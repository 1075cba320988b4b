// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool per-CPU cache, userspace shim: the per-CPU arena and the chunk
 * source over it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "pcpool_pcpu_user.h"
#include "pcpool_user.h"

size_t pcpool_pcpu_user_unit;
unsigned int pcpool_pcpu_user_nr_cpus;
__thread unsigned int pcpool_pcpu_user_atomic;
pthread_mutex_t pcpool_pcpu_user_cpu_lock[PCPOOL_PCPU_USER_MAX_CPUS] = {
	[0 ... PCPOOL_PCPU_USER_MAX_CPUS - 1] = PTHREAD_MUTEX_INITIALIZER,
};

int pcpool_pcpu_user_arena_init(struct pcpool_pcpu_user_arena *a,
				unsigned int nr_cpus, size_t unit)
{
	void *p;

	memset(a, 0, sizeof(*a));
	if (pcpool_pcpu_user_nr_cpus || !nr_cpus ||
	    nr_cpus > PCPOOL_PCPU_USER_MAX_CPUS || !unit || unit % PAGE_SIZE)
		return -EINVAL;
	/* Reserved, not committed: only what chunks touch gets memory. */
	p = mmap(NULL, unit * nr_cpus, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	a->nr_pages = unit / PAGE_SIZE;
	a->used = calloc(a->nr_pages, 1);
	a->chunk_pages = calloc(a->nr_pages, sizeof(*a->chunk_pages));
	if (!a->used || !a->chunk_pages) {
		free(a->used);
		free(a->chunk_pages);
		munmap(p, unit * nr_cpus);
		return -ENOMEM;
	}
	a->base = p;
	a->unit = unit;
	a->nr_cpus = nr_cpus;
	a->chunk_fail_after = -1;
	a->meta_fail_after = -1;
	pthread_mutex_init(&a->lock, NULL);
	pcpool_pcpu_user_unit = unit;
	pcpool_pcpu_user_nr_cpus = nr_cpus;
#ifdef PCPOOL_PCPU_USER_ASAN
	/* Nothing is allocated yet: any touch is a bug. */
	ASAN_POISON_MEMORY_REGION(p, unit * nr_cpus);
#endif
	return 0;
}

void pcpool_pcpu_user_arena_destroy(struct pcpool_pcpu_user_arena *a)
{
	if (!a->base)
		return;
#ifdef PCPOOL_PCPU_USER_ASAN
	ASAN_UNPOISON_MEMORY_REGION(a->base, a->unit * a->nr_cpus);
#endif
	munmap(a->base, a->unit * a->nr_cpus);
	pthread_mutex_destroy(&a->lock);
	free(a->used);
	free(a->chunk_pages);
	pcpool_pcpu_user_unit = 0;
	pcpool_pcpu_user_nr_cpus = 0;
	a->base = NULL;
}

/* Every CPU's copy of @pages at @chunk set to @byte, poisoned after if asked. */
static void user_fill_copies(struct pcpool_pcpu_user_arena *a, char *chunk,
			     unsigned long pages, int byte, bool poison)
{
	size_t len = pages * PAGE_SIZE;
	unsigned int cpu;

	(void)poison;	/* without ASan there is nothing to poison */
	for (cpu = 0; cpu < a->nr_cpus; cpu++) {
		char *copy = chunk + cpu * a->unit;

#ifdef PCPOOL_PCPU_USER_ASAN
		ASAN_UNPOISON_MEMORY_REGION(copy, len);
#endif
		memset(copy, byte, len);
#ifdef PCPOOL_PCPU_USER_ASAN
		if (poison)
			ASAN_POISON_MEMORY_REGION(copy, len);
#endif
	}
}

/* Like alloc_percpu(): zero on every CPU, aligned, or NULL. */
static void __percpu *user_alloc_chunk(void *ctx, size_t size, bool nowait)
{
	struct pcpool_pcpu_user_arena *a = ctx;
	size_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	char *chunk = NULL;
	unsigned long n, i;

	if (!nowait)
		might_sleep();
	pthread_mutex_lock(&a->lock);
	a->chunk_attempts++;
	a->chunk_nowait += nowait;
	if (!pages || pages > a->nr_pages || (nowait && a->nowait_fail) ||
	    pcpool_user_should_fail(&a->chunk_fail_after, a->chunk_fail_every,
				    a->chunk_attempts)) {
		a->chunk_failures++;
		goto out;
	}
	/* first fit from the cursor, wrapping once */
	for (n = 0; n < a->nr_pages; n++) {
		unsigned long start = (a->cursor + n) % a->nr_pages;

		if (start + pages > a->nr_pages)
			continue;
		for (i = 0; i < pages && !a->used[start + i]; i++)
			;
		if (i < pages)
			continue;
		for (i = 0; i < pages; i++)
			a->used[start + i] = 1;
		a->chunk_pages[start] = pages;
		a->cursor = start + pages;
		a->chunk_allocs++;
		chunk = a->base + start * PAGE_SIZE;
		break;
	}
	if (!chunk)
		a->chunk_failures++;
out:
	pthread_mutex_unlock(&a->lock);
	if (chunk)
		user_fill_copies(a, chunk, pages, 0, false);
	return chunk;
}

static void user_free_chunk(void *ctx, void __percpu *chunk)
{
	struct pcpool_pcpu_user_arena *a = ctx;
	char *p = (char *)chunk;
	unsigned long start, i, pages;

	pthread_mutex_lock(&a->lock);
	start = (unsigned long)(p - a->base) / PAGE_SIZE;
	if (p < a->base || p >= a->base + a->unit ||
	    (unsigned long)(p - a->base) % PAGE_SIZE ||
	    !a->chunk_pages[start]) {
		a->chunk_bad_frees++;
		pthread_mutex_unlock(&a->lock);
		return;
	}
	pages = a->chunk_pages[start];
	a->chunk_pages[start] = 0;
	for (i = 0; i < pages; i++)
		a->used[start + i] = 0;
	a->chunk_frees++;
	/* Scribble, then poison: a later read through a stale pointer fails. */
	user_fill_copies(a, p, pages, 0x6b, true);
	pthread_mutex_unlock(&a->lock);
}

static void *user_meta_alloc(void *ctx, size_t size, bool nowait)
{
	struct pcpool_pcpu_user_arena *a = ctx;
	void *p = NULL;
	bool fail;

	if (!nowait)
		might_sleep();
	pthread_mutex_lock(&a->lock);
	a->meta_attempts++;
	a->meta_nowait += nowait;
	fail = (nowait && a->nowait_fail) ||
	       pcpool_user_should_fail(&a->meta_fail_after,
				       a->meta_fail_every, a->meta_attempts);
	if (fail)
		a->meta_failures++;
	pthread_mutex_unlock(&a->lock);
	if (fail)
		return NULL;
	p = malloc(size);
	if (!p)
		return NULL;
	/* contents are undefined: make that visible */
	memset(p, 0x5a, size);
	pthread_mutex_lock(&a->lock);
	a->meta_allocs++;
	pthread_mutex_unlock(&a->lock);
	return p;
}

static void user_meta_free(void *ctx, void *p)
{
	struct pcpool_pcpu_user_arena *a = ctx;

	free(p);
	pthread_mutex_lock(&a->lock);
	a->meta_frees++;
	pthread_mutex_unlock(&a->lock);
}

struct pcpool_pcpu_source
pcpool_pcpu_user_source(struct pcpool_pcpu_user_arena *a)
{
	struct pcpool_pcpu_source src = {
		.alloc_chunk = user_alloc_chunk,
		.free_chunk = user_free_chunk,
		.meta_alloc = user_meta_alloc,
		.meta_free = user_meta_free,
		.ctx = a,
	};

	return src;
}

void pcpool_pcpu_user_chunk_fail_after(struct pcpool_pcpu_user_arena *a, long n)
{
	pcpool_user_store_long(&a->lock, &a->chunk_fail_after, n);
}

void pcpool_pcpu_user_chunk_fail_every(struct pcpool_pcpu_user_arena *a,
				       unsigned long n)
{
	pcpool_user_store_ulong(&a->lock, &a->chunk_fail_every, n);
}

void pcpool_pcpu_user_meta_fail_after(struct pcpool_pcpu_user_arena *a, long n)
{
	pcpool_user_store_long(&a->lock, &a->meta_fail_after, n);
}

void pcpool_pcpu_user_meta_fail_every(struct pcpool_pcpu_user_arena *a,
				      unsigned long n)
{
	pcpool_user_store_ulong(&a->lock, &a->meta_fail_every, n);
}

unsigned long pcpool_pcpu_user_chunks_out(struct pcpool_pcpu_user_arena *a)
{
	return pcpool_user_locked_diff(&a->lock, &a->chunk_allocs, &a->chunk_frees);
}

unsigned long pcpool_pcpu_user_meta_out(struct pcpool_pcpu_user_arena *a)
{
	return pcpool_user_locked_diff(&a->lock, &a->meta_allocs, &a->meta_frees);
}
