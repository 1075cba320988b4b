/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool's in-kernel API, for other modules (kernel-internal; the ABI of
 * /dev/pcpool is <uapi/linux/pcpool.h>, included here as the kernel's own
 * include/linux headers include their uapi halves).
 *
 * Build a client against it with -I<pcpool>/include and the module's
 * Module.symvers in KBUILD_EXTRA_SYMBOLS; a loaded client pins pcpool.
 * Contexts and accounting: Documentation/api.rst.
 */
#ifndef _LINUX_PCPOOL_H
#define _LINUX_PCPOOL_H

#include <linux/gfp.h>
#include <linux/types.h>

#include <uapi/linux/pcpool.h>

struct page;

/*
 * 2^order pages.  Sleeps only if @gfp allows blocking (GFP_KERNEL); with
 * GFP_ATOMIC or GFP_NOWAIT any context, hardirq included, and may fail.
 * __GFP_ZERO zeroes.  NULL on failure.
 */
struct page *pcpool_alloc_pages(gfp_t gfp, unsigned int order);
/* Any context, any CPU, with the order it was allocated with. */
void pcpool_free_pages(struct page *page, unsigned int order);

/* Zeroed on every CPU, like alloc_percpu().  May sleep. */
void __percpu *pcpool_alloc_percpu(size_t size, size_t align);
/* Like free_percpu(); NULL is a no-op.  Any context but NMI. */
void pcpool_free_percpu(void __percpu *ptr);

#endif /* _LINUX_PCPOOL_H */
