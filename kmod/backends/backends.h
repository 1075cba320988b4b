/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool: the module's backends, for its backend table (main.c).  Each
 * lives in one file of this folder and is reached only through its ops.
 */
#ifndef _PCPOOL_BACKENDS_H
#define _PCPOOL_BACKENDS_H

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/mm.h>

#include "../backend.h"

/*
 * The gfp flags of every page backend's requests.  They only matter once
 * the fast path fails, so they do not change what is measured.
 * __GFP_NORETRY: a test load that runs the machine out of memory gets
 * -ENOMEM instead of waking the OOM killer; __GFP_NOWARN: that failure
 * is an expected result, not a splat in the log (the VM runner treats a
 * call trace as a failure).
 */

/*
 * A pool backend zeroes a block exactly when the page allocator would for
 * the same request (init_on_alloc, init_on_free, as 6.1's
 * post_alloc_hook() and free_pages_prepare() decide), so the kernel
 * backend is compared on equal terms whatever the boot asked for.
 */
static inline void pcpool_clear_block(struct page *page, unsigned int order)
{
	unsigned long i;

	for (i = 0; i < (1UL << order); i++)
		clear_highpage(page + i);
}

static inline void pcpool_init_on_alloc(struct page *page, unsigned int order)
{
	if (!want_init_on_free() && want_init_on_alloc(PCPOOL_KERNEL_GFP))
		pcpool_clear_block(page, order);
}

static inline void pcpool_init_on_free(struct page *page, unsigned int order)
{
	if (want_init_on_free())
		pcpool_clear_block(page, order);
}

/* page.c: the page allocator itself, and the harness floor */
extern const struct pcpool_backend_ops pcpool_kernel_ops;
extern const struct pcpool_backend_ops pcpool_null_ops;
/* classic.c, pcpbuddy.c: the portable zone + PCP cores (kmod/core) */
extern const struct pcpool_backend_ops pcpool_classic_ops;
extern const struct pcpool_backend_ops pcpool_pcpbuddy_ops;
/* vmalloc.c: the kernel's vmap allocator */
extern const struct pcpool_backend_ops pcpool_vmalloc_ops;
/* vmap.c: 6.1's global VA allocator and vmap nodes (kmod/vmap) */
extern const struct pcpool_backend_ops pcpool_vmap_global_ops;
extern const struct pcpool_backend_ops pcpool_vmap_nodes_ops;
/* pcpu.c: alloc_percpu() and the cached per-CPU allocator (kmod/pcpu) */
extern const struct pcpool_backend_ops pcpool_pcpu_kernel_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_raw_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_zeroed_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_constructed_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_null_ops;

#endif /* _PCPOOL_BACKENDS_H */
