// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool vmalloc backend: __vmalloc()/vfree() of any number of pages.
 *
 * The kernel's vmap allocator as a reference: the per-CPU vmap-node work
 * (seeds/004) was measured with lib/test_vmalloc.c, and two of its tests
 * run on this backend as RUN workloads (run.c), so their figures come out
 * of the same harness run as the page backends':
 *   PCPOOL_WL_VM_RANDOM     random_size_alloc_test
 *   PCPOOL_WL_VM_LONG_BUSY  long_busy_list_alloc_test
 * fix_size_alloc_test is REPEAT at order 0 on this backend.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/vmalloc.h>

#include "backends.h"

/* As the kernel backend: fail with -ENOMEM under pressure, quietly. */
#define PCPOOL_VMALLOC_GFP	(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY)

static int pcpool_vmalloc_alloc(struct pcpool_backend *b, size_t size,
				size_t align, gfp_t gfp, union pcpool_obj *obj)
{
	void *p = __vmalloc(size, PCPOOL_VMALLOC_GFP);

	if (!p)
		return -ENOMEM;
	obj->vmem = p;
	return 0;
}

static void pcpool_vmalloc_free(struct pcpool_backend *b,
				union pcpool_obj obj, size_t size,
				size_t align)
{
	vfree(obj.vmem);
}

const struct pcpool_backend_ops pcpool_vmalloc_ops = {
	.name		= "vmalloc",
	.kind		= PCPOOL_BK_VMAP,
	.alloc		= pcpool_vmalloc_alloc,
	.free		= pcpool_vmalloc_free,
};
