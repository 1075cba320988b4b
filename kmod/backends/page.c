// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool backends that need no private zone.
 *
 * kernel: the page allocator itself, the reference every other backend is
 *	measured against.
 * null:   the same bookkeeping with no allocation, so its time is the
 *	harness floor (ioctl, handle table, counters, indirect call).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/gfp.h>
#include <linux/mm.h>

#include "backends.h"

static int pcpool_kernel_alloc(struct pcpool_backend *b, size_t size,
			       size_t align, gfp_t gfp, union pcpool_obj *obj)
{
	struct page *page = alloc_pages(gfp, get_order(size));

	if (!page)
		return -ENOMEM;
	obj->page = page;
	return 0;
}

static void pcpool_kernel_free(struct pcpool_backend *b, union pcpool_obj obj,
			       size_t size, size_t align)
{
	__free_pages(obj.page, get_order(size));
}

const struct pcpool_backend_ops pcpool_kernel_ops = {
	.name		= "kernel",
	.alloc		= pcpool_kernel_alloc,
	.free		= pcpool_kernel_free,
};

/* Any non-NULL value would do; an address of ours is easy to check. */
static char pcpool_null_cookie;

static int pcpool_null_alloc(struct pcpool_backend *b, size_t size,
			     size_t align, gfp_t gfp, union pcpool_obj *obj)
{
	obj->cookie = &pcpool_null_cookie;
	return 0;
}

static void pcpool_null_free(struct pcpool_backend *b, union pcpool_obj obj,
			     size_t size, size_t align)
{
	WARN_ON_ONCE(obj.cookie != &pcpool_null_cookie);
}

const struct pcpool_backend_ops pcpool_null_ops = {
	.name		= "null",
	.alloc		= pcpool_null_alloc,
	.free		= pcpool_null_free,
};
