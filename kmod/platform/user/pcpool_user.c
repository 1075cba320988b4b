// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool userspace shim: memmap, CPU id, WARN counter, page source.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pcpool_user.h"

struct page *pcpool_user_memmap;
unsigned long pcpool_user_memmap_base;
__thread unsigned int pcpool_user_cpu;

static unsigned long warnings;
static bool warnings_quiet;

void pcpool_user_warn(const char *file, int line, const char *cond)
{
	__atomic_add_fetch(&warnings, 1, __ATOMIC_RELAXED);
	if (!__atomic_load_n(&warnings_quiet, __ATOMIC_RELAXED))
		fprintf(stderr, "WARNING: %s:%d: %s\n", file, line, cond);
}

unsigned long pcpool_user_warnings(void)
{
	return __atomic_load_n(&warnings, __ATOMIC_RELAXED);
}

void pcpool_user_quiet_warnings(bool quiet)
{
	__atomic_store_n(&warnings_quiet, quiet, __ATOMIC_RELAXED);
}

void pcpool_user_set_cpu(unsigned int cpu)
{
	pcpool_user_cpu = cpu;
}

int pcpool_user_mem_init(struct pcpool_user_mem *mem, unsigned long base_pfn,
			 unsigned long nr_blocks, unsigned int order)
{
	unsigned long i;

	memset(mem, 0, sizeof(*mem));
	if (pcpool_user_memmap || !nr_blocks || order >= PCPOOL_NR_ORDERS ||
	    (base_pfn & ((1UL << order) - 1)))
		return -EINVAL;
	mem->nr_pages = nr_blocks << order;
	mem->pages = calloc(mem->nr_pages, sizeof(struct page));
	mem->taken = calloc(nr_blocks, 1);
	if (!mem->pages || !mem->taken) {
		free(mem->pages);
		free(mem->taken);
		return -ENOMEM;
	}
	for (i = 0; i < mem->nr_pages; i++) {
		mem->pages[i].lru.next = LIST_POISON1;
		mem->pages[i].lru.prev = LIST_POISON2;
	}
	mem->base_pfn = base_pfn;
	mem->nr_blocks = nr_blocks;
	mem->order = order;
	mem->fail_after = -1;
	pthread_mutex_init(&mem->lock, NULL);
	pcpool_user_memmap = mem->pages;
	pcpool_user_memmap_base = base_pfn;
	return 0;
}

void pcpool_user_mem_destroy(struct pcpool_user_mem *mem)
{
	if (pcpool_user_memmap == mem->pages) {
		pcpool_user_memmap = NULL;
		pcpool_user_memmap_base = 0;
	}
	pthread_mutex_destroy(&mem->lock);
	free(mem->pages);
	free(mem->taken);
	mem->pages = NULL;
	mem->taken = NULL;
}

bool pcpool_user_should_fail(long *after, unsigned long every,
			     unsigned long attempts)
{
	if (every && attempts % every == 0)
		return true;
	if (*after < 0)
		return false;
	if (*after == 0)
		return true;
	(*after)--;
	return false;
}

static bool should_fail(struct pcpool_user_mem *mem)
{
	mem->attempts++;
	return pcpool_user_should_fail(&mem->fail_after, mem->fail_every,
				       mem->attempts);
}

void pcpool_user_mem_set_nodes(struct pcpool_user_mem *mem,
			       unsigned int nr_nodes)
{
	mem->nr_nodes = nr_nodes;
}

static int block_nid(const struct pcpool_user_mem *mem, unsigned long b)
{
	unsigned long per;

	if (!mem->nr_nodes)
		return 0;
	per = mem->nr_blocks / mem->nr_nodes;
	if (!per)
		return 0;
	return (int)(b / per < mem->nr_nodes ? b / per : mem->nr_nodes - 1);
}

/* A free block, on @node unless it is PCPOOL_NO_NODE. */
static struct page *user_alloc(struct pcpool_user_mem *mem, unsigned int order,
			       int node)
{
	struct page *page = NULL;
	unsigned long n, i;

	pthread_mutex_lock(&mem->lock);
	if (order != mem->order || should_fail(mem)) {
		mem->failures++;
		goto out;
	}
	for (n = 0; n < mem->nr_blocks; n++) {
		unsigned long b = (mem->cursor + n) % mem->nr_blocks;

		if (mem->taken[b] ||
		    (node != PCPOOL_NO_NODE && block_nid(mem, b) != node))
			continue;
		mem->taken[b] = 1;
		mem->cursor = b + 1;
		mem->allocs++;
		page = &mem->pages[b << order];
		/* like alloc_pages(): private 0, lru anything */
		for (i = 0; i < (1UL << order); i++) {
			page[i].pg_private = 0;
			page[i].flags |= PCPOOL_USER_PAGE_HELD;
			page[i].lru.next = LIST_POISON1;
			page[i].lru.prev = LIST_POISON2;
		}
		goto out;
	}
	mem->failures++;
out:
	pthread_mutex_unlock(&mem->lock);
	return page;
}

static struct page *user_alloc_block(void *ctx, unsigned int order)
{
	return user_alloc(ctx, order, PCPOOL_NO_NODE);
}

static struct page *user_alloc_block_node(void *ctx, unsigned int order,
					  int node)
{
	return user_alloc(ctx, order, node);
}

static int user_block_node(void *ctx, struct page *page)
{
	struct pcpool_user_mem *mem = ctx;

	return block_nid(mem, (unsigned long)(page - mem->pages) >> mem->order);
}

/* Blocks of the modelled memory on @node. */
static unsigned long user_node_size(void *ctx, int node)
{
	struct pcpool_user_mem *mem = ctx;
	unsigned long b, n = 0;

	for (b = 0; b < mem->nr_blocks; b++)
		n += block_nid(mem, b) == node;
	return n;
}

/* Nodes on a line, as a SLIT would put them: 10 local, +10 a hop. */
static int user_node_distance(void *ctx, int from, int to)
{
	(void)ctx;
	return 10 + 10 * (from > to ? from - to : to - from);
}

static void user_free_block(void *ctx, struct page *page, unsigned int order)
{
	struct pcpool_user_mem *mem = ctx;
	unsigned long idx = (unsigned long)(page - mem->pages), i;
	unsigned long b = idx >> mem->order;

	pthread_mutex_lock(&mem->lock);
	if (order != mem->order || idx >= mem->nr_pages ||
	    (idx & ((1UL << order) - 1)) || !mem->taken[b]) {
		mem->bad_frees++;
		goto out;
	}
	for (i = 0; i < (1UL << order); i++) {
		if (page[i].pg_private)
			mem->dirty_frees++;
		page[i].flags &= ~PCPOOL_USER_PAGE_HELD;
		page[i].lru.next = LIST_POISON1;
		page[i].lru.prev = LIST_POISON2;
	}
	mem->taken[b] = 0;
	mem->frees++;
out:
	pthread_mutex_unlock(&mem->lock);
}

struct pcpool_page_source pcpool_user_mem_source(struct pcpool_user_mem *mem)
{
	struct pcpool_page_source src = {
		.alloc_block = user_alloc_block,
		.free_block = user_free_block,
		.ctx = mem,
	};

	if (mem->nr_nodes) {
		src.alloc_block_node = user_alloc_block_node;
		src.block_node = user_block_node;
		src.distance = user_node_distance;
		src.node_size = user_node_size;
	}

	return src;
}

void pcpool_user_store_long(pthread_mutex_t *lock, long *knob, long v)
{
	pthread_mutex_lock(lock);
	*knob = v;
	pthread_mutex_unlock(lock);
}

void pcpool_user_store_ulong(pthread_mutex_t *lock, unsigned long *knob,
			     unsigned long v)
{
	pthread_mutex_lock(lock);
	*knob = v;
	pthread_mutex_unlock(lock);
}

unsigned long pcpool_user_locked_diff(pthread_mutex_t *lock,
				      const unsigned long *a,
				      const unsigned long *b)
{
	unsigned long n;

	pthread_mutex_lock(lock);
	n = *a - *b;
	pthread_mutex_unlock(lock);
	return n;
}

void pcpool_user_mem_fail_after(struct pcpool_user_mem *mem, long n)
{
	pcpool_user_store_long(&mem->lock, &mem->fail_after, n);
}

void pcpool_user_mem_fail_every(struct pcpool_user_mem *mem, unsigned long n)
{
	pcpool_user_store_ulong(&mem->lock, &mem->fail_every, n);
}

unsigned long pcpool_user_mem_outstanding(struct pcpool_user_mem *mem)
{
	return pcpool_user_locked_diff(&mem->lock, &mem->allocs, &mem->frees);
}
