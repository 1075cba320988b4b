// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool vmalloc backend: vmalloc()/vfree() of 2^order pages.
 *
 * The kernel's vmap allocator as a reference: the per-CPU vmap-node work
 * (seeds/004) was measured with lib/test_vmalloc.c, and two of its tests
 * run here as RUN workloads so their figures come out of the same harness
 * run as the page backends':
 *   PCPOOL_WL_VM_RANDOM     random_size_alloc_test
 *   PCPOOL_WL_VM_LONG_BUSY  long_busy_list_alloc_test
 * fix_size_alloc_test is REPEAT at order 0 on this backend.  As in
 * test_vmalloc, those two write a byte to each area; the common workloads
 * do not touch the memory, like every other backend.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/jump_label.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "pcpool.h"

/* As the kernel backend: fail with -ENOMEM under pressure, quietly. */
#define PCPOOL_VMALLOC_GFP	(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY)

/* test_vmalloc's sizes: 1..100 pages at random; 100 + 1 per iteration. */
#define PCPOOL_VM_RANDOM_MAX	100U
#define PCPOOL_VM_BUSY_BIG	100U
#define PCPOOL_VM_YIELD_MASK	1023U

static int pcpool_vmalloc_alloc(unsigned int order, union pcpool_obj *obj)
{
	void *p = __vmalloc(PAGE_SIZE << order, PCPOOL_VMALLOC_GFP);

	if (!p)
		return -ENOMEM;
	obj->vmem = p;
	return 0;
}

static void pcpool_vmalloc_free(union pcpool_obj obj, unsigned int order)
{
	vfree(obj.vmem);
}

const struct pcpool_backend_ops pcpool_vmalloc_ops = {
	.name		= "vmalloc",
	.max_order	= PCPOOL_MAX_ORDER,
	.alloc		= pcpool_vmalloc_alloc,
	.free		= pcpool_vmalloc_free,
};

/*
 * An area of @nr pages, any size, with the accounting and failure
 * injection pcpool_obj_alloc() gives power-of-two blocks.
 */
static void *pcpool_vm_get(struct pcpool_backend *b, unsigned long nr,
			   struct pcpool_lat *lat)
{
	bool timed = pcpool_lat_alloc_due(lat);
	void *p = NULL;
	u64 t0 = 0;

	if (timed)
		t0 = ktime_get_ns();
	if (!static_branch_unlikely(&pcpool_fail_key) ||
	    atomic_dec_if_positive(&pcpool_fail_nth) != 0)
		p = __vmalloc(nr << PAGE_SHIFT, PCPOOL_VMALLOC_GFP);
	if (!p) {
		this_cpu_inc(b->ctr->c[PCPOOL_CTR_ALLOC_FAILURES]);
		return NULL;
	}
	if (timed)
		pcpool_lat_alloc(lat, ktime_get_ns() - t0);
	this_cpu_inc(b->ctr->c[PCPOOL_CTR_ALLOCS]);
	this_cpu_add(b->ctr->c[PCPOOL_CTR_PAGES_ALLOCATED], nr);
	return p;
}

static void pcpool_vm_put(struct pcpool_backend *b, void *p, unsigned long nr,
			  struct pcpool_lat *lat)
{
	u64 t0;

	if (pcpool_lat_free_due(lat)) {
		t0 = ktime_get_ns();
		vfree(p);
		pcpool_lat_free(lat, ktime_get_ns() - t0);
	} else {
		vfree(p);
	}
	this_cpu_inc(b->ctr->c[PCPOOL_CTR_FREES]);
	this_cpu_add(b->ctr->c[PCPOOL_CTR_PAGES_FREED], nr);
}

static int pcpool_vm_random(struct pcpool_backend *b, struct pcpool_run *r,
			    struct pcpool_lat *lat)
{
	struct rnd_state rnd;
	unsigned long nr;
	int ret = 0;
	u64 i, t0;
	u8 *p;

	prandom_seed_state(&rnd, r->seed);
	t0 = ktime_get_ns();
	for (i = 0; i < r->ops; i++) {
		nr = 1 + prandom_u32_state(&rnd) % PCPOOL_VM_RANDOM_MAX;
		p = pcpool_vm_get(b, nr, lat);
		if (!p) {
			ret = -ENOMEM;
			break;
		}
		*p = 1;
		pcpool_vm_put(b, p, nr, lat);
		if ((i & PCPOOL_VM_YIELD_MASK) == PCPOOL_VM_YIELD_MASK) {
			ret = pcpool_yield();
			if (ret) {
				i++;
				break;
			}
		}
	}
	r->ns = ktime_get_ns() - t0;
	r->done = i;
	return ret;
}

static int pcpool_vm_long_busy(struct pcpool_backend *b, struct pcpool_run *r,
			       struct pcpool_lat *lat)
{
	u32 held = 0, n = r->batch;
	u8 **busy, *p1, *p2;
	int ret = 0;
	u64 i, t0;

	busy = kvmalloc_array(n, sizeof(*busy), GFP_KERNEL);
	if (!busy)
		return -ENOMEM;
	/* The long busy list: not timed. */
	while (held < n) {
		busy[held] = pcpool_vm_get(b, 1, NULL);
		if (!busy[held]) {
			ret = -ENOMEM;
			goto drain;
		}
		if ((++held & PCPOOL_VM_YIELD_MASK) == 0) {
			ret = pcpool_yield();
			if (ret)
				goto drain;
		}
	}

	t0 = ktime_get_ns();
	for (i = 0; i < r->ops; i++) {
		p1 = pcpool_vm_get(b, PCPOOL_VM_BUSY_BIG, lat);
		if (!p1) {
			ret = -ENOMEM;
			break;
		}
		p2 = pcpool_vm_get(b, 1, lat);
		if (!p2) {
			pcpool_vm_put(b, p1, PCPOOL_VM_BUSY_BIG, lat);
			ret = -ENOMEM;
			break;
		}
		*p1 = 0;
		*p2 = 1;
		pcpool_vm_put(b, p1, PCPOOL_VM_BUSY_BIG, lat);
		pcpool_vm_put(b, p2, 1, lat);
		if ((i & PCPOOL_VM_YIELD_MASK) == PCPOOL_VM_YIELD_MASK) {
			ret = pcpool_yield();
			if (ret) {
				i++;
				break;
			}
		}
	}
	r->ns = ktime_get_ns() - t0;
	r->done = i;
drain:
	while (held) {
		pcpool_vm_put(b, busy[--held], 1, NULL);
		if ((held & PCPOOL_VM_YIELD_MASK) == 0)
			cond_resched();
	}
	kvfree(busy);
	return ret;
}

/*
 * The VM_* workloads; workload.c checked backend, order, ops, batch and
 * the histogram.  Charged up front with the most pages alive at once.
 */
int pcpool_vmalloc_cmd_run(struct pcpool_session *s, struct pcpool_backend *b,
			   struct pcpool_run *r, struct pcpool_lat *lat)
{
	unsigned long pages;
	int ret;

	if (r->workload == PCPOOL_WL_VM_RANDOM)
		pages = PCPOOL_VM_RANDOM_MAX;
	else
		pages = (unsigned long)r->batch + PCPOOL_VM_BUSY_BIG + 1;
	ret = pcpool_charge(s, pages);
	if (ret)
		return ret;
	if (r->workload == PCPOOL_WL_VM_RANDOM)
		ret = pcpool_vm_random(b, r, lat);
	else
		ret = pcpool_vm_long_busy(b, r, lat);
	pcpool_uncharge(s, pages);
	return ret;
}
