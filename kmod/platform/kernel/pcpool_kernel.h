/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool core, kernel glue: what a module needs to run the portable core
 * (kmod/core) on real memory.  Not part of the core: the userspace build
 * has its own (kmod/platform/user/pcpool_user.h).
 */
#ifndef _PCPOOL_KERNEL_H
#define _PCPOOL_KERNEL_H

#include "pcpool_zone.h"

struct seq_file;

/* pfns spanned by the online nodes, [*start, *end). */
void pcpool_kernel_pfn_span(unsigned long *start, unsigned long *end);

/*
 * A zone config for this kernel: pageblock_order blocks from
 * alloc_pages(), the online nodes' pfn span, nr_cpu_ids CPUs.
 * @limit_blocks 0 picks pcpool_kernel_default_limit().
 */
void pcpool_kernel_zone_config(struct pcpool_zone_config *cfg,
			       unsigned long limit_blocks,
			       unsigned long reserve_blocks);

/* A zone on kernel memory and the metadata it lives in. */
struct pcpool_kernel_zone {
	struct pcpool_zone *zone;
	void *meta;
};

/*
 * Create a zone of pcpool_kernel_zone_config(@limit_blocks,
 * @reserve_blocks), its metadata from kvzalloc(); 0 or -errno.
 */
int pcpool_kernel_zone_create(struct pcpool_kernel_zone *kz,
			      unsigned long limit_blocks,
			      unsigned long reserve_blocks);
/* Destroy it; says so under @name's prefix if blocks were still out. */
void pcpool_kernel_zone_destroy(struct pcpool_kernel_zone *kz,
				const char *name);

/* A quarter of RAM, in pageblocks, at least one. */
unsigned long pcpool_kernel_default_limit(void);

/*
 * The running kernel's own pcp high and batch, from the populated zone
 * with the most managed pages (usually Normal on node 0), so classic can
 * copy them.  Returns false if no zone is populated.
 */
bool pcpool_kernel_pcp_high_batch(int *high, int *batch);

/* An emit callback for pcpool_*_counters(): @arg is a struct seq_file. */
void pcpool_kernel_seq_emit(void *arg, const char *key, u64 val);

#endif /* _PCPOOL_KERNEL_H */
