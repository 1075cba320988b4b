// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool run engine: every RUN workload, one validator, one table.
 *
 * A workload is a row of pcpool_workloads[]: which backend kinds it runs
 * on, what it takes (order, batch, seed, histogram), how much memory it
 * keeps alive at once (charged before it starts), and its loop.  Every
 * loop allocates and frees through pcpool_obj_alloc()/pcpool_obj_free(),
 * so each is written once for every backend, and the per-operation
 * latency histogram (PCPOOL_RUN_HIST) is one helper pair around them.
 *
 * A histogram costs nothing when it is not asked for: REPEAT and BULK are
 * compiled twice from one inline body, with and without it, and the other
 * loops test one NULL pointer per allocation or free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/percpu.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/smp.h>
#include <linux/string.h>
#include <linux/thread_info.h>
#include <linux/uaccess.h>

#include "backend.h"
#include "cap.h"
#include "frag.h"
#include "run.h"
#include "run_ctx.h"

/* CHURN gives up after this many back-offs in a row with nothing live. */
#define PCPOOL_CHURN_MAX_EMPTY	16U
/* test_vmalloc's sizes: 1..100 pages at random; 100 + 1 per iteration. */
#define PCPOOL_VM_RANDOM_MAX	100U
#define PCPOOL_VM_BUSY_BIG	100U
/* fix_align_alloc_test's size. */
#define PCPOOL_VM_ALIGN_PAGES	5U

/* Which fields a workload takes. */
enum pcpool_run_batch {
	PCPOOL_BATCH_ZERO,	/* must be 0 */
	PCPOOL_BATCH_SET,	/* 1..PCPOOL_MAX_BATCH */
	PCPOOL_BATCH_CPUS,	/* 1..the possible CPUs */
};

struct pcpool_workload {
	u8 kinds;		/* BIT(enum pcpool_bk_kind) it runs on */
	u8 batch;		/* enum pcpool_run_batch */
	bool order;		/* takes an order; else it must be 0 */
	bool seed;		/* takes a seed */
	bool hist;		/* takes a latency histogram */
	bool self_timed;	/* sets r->ns itself (steady state only) */
	bool objs;		/* keeps its live blocks in c->objs[] */
	bool frag;		/* RUN_FRAG: drains a live set at the end */
	/* blocks of r->order alive at once: the charge and objs[] */
	u64 (*live_objs)(const struct pcpool_run *r);
	/* or pages charged up front, for runs of other sizes */
	unsigned long (*pages)(const struct pcpool_run_ctx *c);
	/* or, for one area of a fixed size, its pages */
	unsigned long area_pages;
	int (*fn)(struct pcpool_run_ctx *c);
};

/* ---- latency histograms ---- */

unsigned int pcpool_lat_bucket(u64 ns)
{
	unsigned int e;

	if (ns < BIT_ULL(PCPOOL_HIST_SUB_BITS))
		return ns;
	if (ns >> PCPOOL_HIST_MAX_BITS)
		return PCPOOL_HIST_BUCKETS - 1;
	e = fls64(ns) - 1;
	return ((e - PCPOOL_HIST_SUB_BITS + 1) << PCPOOL_HIST_SUB_BITS) +
	       (unsigned int)(ns >> (e - PCPOOL_HIST_SUB_BITS)) -
	       BIT(PCPOOL_HIST_SUB_BITS);
}

void pcpool_lat_record(u64 *buckets, u64 *sum, u64 *max, u64 ns)
{
	buckets[pcpool_lat_bucket(ns)]++;
	*sum += ns;
	if (ns > *max)
		*max = ns;
}

/* Copy the histogram header in and set up @lat; @lat->h is zeroed. */
static int pcpool_lat_get(const struct pcpool_run *r, struct pcpool_lat *lat)
{
	struct pcpool_hist __user *uh = u64_to_user_ptr(r->hist);
	u32 size, shift;

	if (get_user(size, &uh->size) || get_user(shift, &uh->shift))
		return -EFAULT;
	if (size != PCPOOL_HIST_SIZE_VER0 || shift > PCPOOL_HIST_MAX_SHIFT)
		return -EINVAL;
	lat->h = kvzalloc(sizeof(*lat->h), GFP_KERNEL);
	if (!lat->h)
		return -ENOMEM;
	lat->h->size = size;
	lat->h->shift = shift;
	lat->mask = BIT(shift) - 1;
	lat->nalloc = 0;
	lat->nfree = 0;
	return 0;
}

/* A block of the run's order into objs[@k], and back. */
static int pcpool_run_get(struct pcpool_run_ctx *c, struct pcpool_lat *lat,
			  u32 k)
{
	return pcpool_run_alloc(c, lat, c->size, c->size, &c->objs[k]);
}

static void pcpool_run_put(struct pcpool_run_ctx *c, struct pcpool_lat *lat,
			   u32 k)
{
	pcpool_run_free(c, lat, c->objs[k], c->size, c->size);
}

/* Uniform in [0, n), n > 0. */
static u32 pcpool_rand_below(struct rnd_state *rnd, u32 n)
{
	return (u32)(((u64)prandom_u32_state(rnd) * n) >> 32);
}

/* Fill objs[*live..@n) untimed: the set-up of BUSY and CHURN. */
static int pcpool_run_fill(struct pcpool_run_ctx *c, u32 *live, u32 n)
{
	int ret = 0;

	while (*live < n && !ret) {
		ret = pcpool_run_get(c, NULL, *live);
		if (!ret)
			ret = pcpool_tick(++*live);
	}
	return ret;
}

/* Free objs[0..*live) untimed, as the end of a run. */
static void pcpool_run_drain(struct pcpool_run_ctx *c, u32 *live)
{
	if (c->frag) {
		/* PCPOOL_RUN_FRAG: the live set is still held here. */
		pcpool_frag_fill(c->b, c->frag);
		c->frag = NULL;
	}
	while (*live) {
		pcpool_run_put(c, NULL, --*live);
		if (!(*live % PCPOOL_YIELD_EVERY))
			cond_resched();
	}
}

/* ---- the workloads ---- */

u64 pcpool_live_bulk(const struct pcpool_run *r)
{
	return min_t(u64, r->batch, r->ops);
}

static u64 pcpool_live_one(const struct pcpool_run *r)
{
	return 1;
}

static u64 pcpool_live_batch(const struct pcpool_run *r)
{
	return r->batch;
}

/*
 * REPEAT, and the test_vmalloc tests that hold nothing: allocate an area
 * of @size (0: 1..PCPOOL_VM_RANDOM_MAX pages at random, as
 * random_size_alloc_test), zero @touch bytes of it, free it.  test_vmalloc
 * writes one byte, or all of it where it asks for __GFP_ZERO; REPEAT
 * touches nothing.
 */
static __always_inline int pcpool_area_loop(struct pcpool_run_ctx *c,
					    struct pcpool_lat *lat,
					    size_t size, size_t align,
					    size_t touch)
{
	struct pcpool_run *r = c->r;
	union pcpool_obj obj;
	size_t sz = size;
	int ret = 0;
	u64 i;

	for (i = 0; i < r->ops && !ret;) {
		if (!size)
			sz = (1 + pcpool_rand_below(&c->rnd,
						    PCPOOL_VM_RANDOM_MAX)) *
			     PAGE_SIZE;
		ret = pcpool_run_alloc(c, lat, sz, align, &obj);
		if (ret)
			break;
		if (touch)
			memset(obj.vmem, 0, min(touch, sz));
		pcpool_run_free(c, lat, obj, sz, align);
		ret = pcpool_tick(++i);
	}
	r->done = i;
	return ret;
}

static int pcpool_wl_repeat(struct pcpool_run_ctx *c)
{
	return c->lat ? pcpool_area_loop(c, c->lat, c->size, c->size, 0) :
			pcpool_area_loop(c, NULL, c->size, c->size, 0);
}

/* The vmalloc tests: one copy, testing for a histogram at run time. */
static int pcpool_vm_loop(struct pcpool_run_ctx *c, size_t size, size_t align,
			  size_t touch)
{
	return pcpool_area_loop(c, c->lat, size, align, touch);
}

/* BULK: allocate up to @batch, free them in allocation order, repeat. */
static __always_inline int pcpool_bulk_loop(struct pcpool_run_ctx *c,
					    struct pcpool_lat *lat)
{
	struct pcpool_run *r = c->r;
	u64 t0, t1, n, i, j;
	int ret = 0;

	while (r->done < r->ops && !ret) {
		n = min_t(u64, r->batch, r->ops - r->done);
		/* Two clock reads per batch time the halves apart. */
		t0 = ktime_get_ns();
		for (i = 0; i < n && !ret;) {
			ret = pcpool_run_get(c, lat, i);
			if (ret)
				break;
			ret = pcpool_tick(r->done + ++i);
		}
		t1 = ktime_get_ns();
		for (j = 0; j < i; j++)
			pcpool_run_put(c, lat, j);
		r->alloc_ns += t1 - t0;
		r->free_ns += ktime_get_ns() - t1;
		r->done += i;
	}
	return ret;
}

static int pcpool_wl_bulk(struct pcpool_run_ctx *c)
{
	return c->lat ? pcpool_bulk_loop(c, c->lat) : pcpool_bulk_loop(c, NULL);
}

/*
 * BUSY: a live set of @batch blocks, filled untimed; each operation frees
 * a random one and allocates its replacement.
 */
static int pcpool_wl_busy(struct pcpool_run_ctx *c)
{
	struct pcpool_run *r = c->r;
	u32 live = 0, k;
	u64 i = 0, t0;
	int ret;

	ret = pcpool_run_fill(c, &live, r->batch);
	if (ret)
		goto drain;
	t0 = ktime_get_ns();
	while (i < r->ops && !ret) {
		k = pcpool_rand_below(&c->rnd, live);
		pcpool_run_put(c, c->lat, k);
		ret = pcpool_run_get(c, c->lat, k);
		if (ret) {
			c->objs[k] = c->objs[--live];
			break;
		}
		ret = pcpool_tick(++i);
	}
	r->ns = ktime_get_ns() - t0;
	r->done = i;
drain:
	pcpool_run_drain(c, &live);
	return ret;
}

static u32 pcpool_churn_amp(const struct pcpool_run *r)
{
	return max(r->batch / 2, 1U);
}

static u64 pcpool_live_churn(const struct pcpool_run *r)
{
	return (u64)r->batch + pcpool_churn_amp(r);
}

/* Free @n random live blocks, timed into r->free_ns. */
static int pcpool_churn_free(struct pcpool_run_ctx *c, u32 *live, u32 n)
{
	u64 t0 = ktime_get_ns();
	int ret = 0;
	u32 k, i;

	for (i = 0; i < n && !ret;) {
		k = pcpool_rand_below(&c->rnd, *live);
		pcpool_run_put(c, c->lat, k);
		c->objs[k] = c->objs[--*live];
		ret = pcpool_tick(++i);
	}
	c->r->free_ns += ktime_get_ns() - t0;
	return ret;
}

/* Up to @want blocks onto the live set, timed into r->alloc_ns. */
static int pcpool_churn_alloc(struct pcpool_run_ctx *c, u32 *live, u64 want)
{
	struct pcpool_run *r = c->r;
	u64 t0 = ktime_get_ns();
	int ret = 0;

	while (want-- && !ret) {
		ret = pcpool_run_get(c, c->lat, *live);
		if (ret)
			break;
		++*live;
		ret = pcpool_tick(++r->done);
	}
	r->alloc_ns += ktime_get_ns() - t0;
	return ret;
}

/*
 * CHURN: ramp up to the set-point (@batch) untimed, which is the gate to
 * the steady state; then bursts towards a random target in set-point +-
 * amplitude.  An allocation failure is a back-off: free half the live
 * blocks, reschedule, go on.  The final drain is untimed, so the timed
 * part frees about as many blocks as it allocates.
 */
static int pcpool_wl_churn(struct pcpool_run_ctx *c)
{
	struct pcpool_run *r = c->r;
	u32 amp = pcpool_churn_amp(r), live = 0, target, empty = 0;
	u64 t0;
	int ret;

	ret = pcpool_run_fill(c, &live, r->batch);
	/* Memory ran out on the way up: the steady state starts lower. */
	if (ret == -ENOMEM && live) {
		r->backoffs++;
		ret = 0;
	}
	if (ret)
		goto drain;

	t0 = ktime_get_ns();
	while (r->done < r->ops) {
		target = r->batch - amp + pcpool_rand_below(&c->rnd, 2 * amp + 1);
		if (target <= live) {
			ret = pcpool_churn_free(c, &live, live - target);
			if (ret)
				break;
			continue;
		}
		ret = pcpool_churn_alloc(c, &live,
					 min_t(u64, target - live,
					       r->ops - r->done));
		if (ret != -ENOMEM) {
			if (ret)
				break;
			empty = 0;
			continue;
		}
		r->backoffs++;
		if (!live && ++empty >= PCPOOL_CHURN_MAX_EMPTY)
			break;
		ret = pcpool_churn_free(c, &live, live / 2);
		if (!ret)
			ret = pcpool_yield();
		if (ret)
			break;
	}
	r->ns = ktime_get_ns() - t0;
drain:
	pcpool_run_drain(c, &live);
	return ret;
}

/* random_size_alloc_test: 1..100 pages at random, freed at once. */
static int pcpool_wl_vm_random(struct pcpool_run_ctx *c)
{
	return pcpool_vm_loop(c, 0, PAGE_SIZE, 1);
}

static unsigned long pcpool_pages_vm_long_busy(const struct pcpool_run_ctx *c)
{
	return (unsigned long)c->r->batch + PCPOOL_VM_BUSY_BIG + 1;
}

/*
 * long_busy_list_alloc_test: @batch one-page areas held (untimed), then
 * a 100-page and a one-page area allocated and freed per operation.
 */
static int pcpool_wl_vm_long_busy(struct pcpool_run_ctx *c)
{
	const size_t big = PCPOOL_VM_BUSY_BIG * PAGE_SIZE;
	struct pcpool_run *r = c->r;
	union pcpool_obj p1, p2;
	u32 held = 0;
	u64 i = 0, t0;
	int ret;

	ret = pcpool_run_fill(c, &held, r->batch);
	if (ret)
		goto drain;
	t0 = ktime_get_ns();
	while (i < r->ops && !ret) {
		ret = pcpool_run_alloc(c, c->lat, big, PAGE_SIZE, &p1);
		if (ret)
			break;
		ret = pcpool_run_alloc(c, c->lat, PAGE_SIZE, PAGE_SIZE, &p2);
		if (ret) {
			pcpool_run_free(c, c->lat, p1, big, PAGE_SIZE);
			break;
		}
		*(u8 *)p1.vmem = 0;
		*(u8 *)p2.vmem = 1;
		pcpool_run_free(c, c->lat, p1, big, PAGE_SIZE);
		pcpool_run_free(c, c->lat, p2, PAGE_SIZE, PAGE_SIZE);
		ret = pcpool_tick(++i);
	}
	r->ns = ktime_get_ns() - t0;
	r->done = i;
drain:
	pcpool_run_drain(c, &held);
	return ret;
}

/* fix_size_alloc_test: one area of 2^order pages, a byte written, freed. */
static int pcpool_wl_vm_fix_size(struct pcpool_run_ctx *c)
{
	return pcpool_vm_loop(c, c->size, PAGE_SIZE, 1);
}

/* full_fit_alloc_test's list: fls(online CPUs) * 32 MiB of 1-page areas. */
static u32 pcpool_vm_junk(void)
{
	return fls(num_online_cpus()) * (SZ_32M >> PAGE_SHIFT);
}

static u64 pcpool_live_vm_full_fit(const struct pcpool_run *r)
{
	return 2ULL * pcpool_vm_junk();
}

static unsigned long pcpool_pages_vm_full_fit(const struct pcpool_run_ctx *c)
{
	return 2UL * pcpool_vm_junk() + 1;
}

/*
 * full_fit_alloc_test: 1-page areas allocated in pairs, the second of
 * each pair freed, leaving one-page holes (untimed); then per operation
 * a 1-page area allocated, a byte written, freed.
 */
static int pcpool_wl_vm_full_fit(struct pcpool_run_ctx *c)
{
	u32 n = pcpool_vm_junk(), held = 0, j = 0;
	union pcpool_obj *junk = c->objs + n;
	u64 t0;
	int ret = 0;

	while (held < n && !ret) {
		ret = pcpool_run_get(c, NULL, held);
		if (ret)
			break;
		held++;
		ret = pcpool_run_alloc(c, NULL, PAGE_SIZE, PAGE_SIZE, &junk[j]);
		if (!ret)
			j++;
		if (!ret)
			ret = pcpool_tick(held);
	}
	while (j) {
		pcpool_run_free(c, NULL, junk[--j], PAGE_SIZE, PAGE_SIZE);
		if (!(j % PCPOOL_YIELD_EVERY))
			cond_resched();
	}
	if (ret)
		goto drain;
	t0 = ktime_get_ns();
	ret = pcpool_vm_loop(c, PAGE_SIZE, PAGE_SIZE, 1);
	c->r->ns = ktime_get_ns() - t0;
drain:
	pcpool_run_drain(c, &held);
	return ret;
}

/*
 * fix_align_alloc_test: 5 pages aligned to THREAD_ALIGN << 1, zeroed
 * (__GFP_ZERO there: a memset here, the same for every backend), freed.
 */
static int pcpool_wl_vm_fix_align(struct pcpool_run_ctx *c)
{
	const size_t size = PCPOOL_VM_ALIGN_PAGES * PAGE_SIZE;

	return pcpool_vm_loop(c, size, THREAD_ALIGN << 1, size);
}

#define PCPOOL_ANY	(BIT(PCPOOL_BK_PAGES) | BIT(PCPOOL_BK_PCPU) | \
			 BIT(PCPOOL_BK_VMAP))

static const struct pcpool_workload pcpool_workloads[PCPOOL_NR_WORKLOADS] = {
	[PCPOOL_WL_REPEAT] = {
		.kinds = PCPOOL_ANY, .batch = PCPOOL_BATCH_ZERO,
		.order = true, .hist = true,
		.live_objs = pcpool_live_one, .fn = pcpool_wl_repeat,
	},
	[PCPOOL_WL_BULK] = {
		.kinds = PCPOOL_ANY, .batch = PCPOOL_BATCH_SET,
		.order = true, .hist = true,
		.objs = true,
		.live_objs = pcpool_live_bulk, .fn = pcpool_wl_bulk,
	},
	[PCPOOL_WL_PCPU_LIFECYCLE] = {
		.kinds = BIT(PCPOOL_BK_PCPU), .batch = PCPOOL_BATCH_CPUS,
		.seed = true, .self_timed = true,
		.pages = pcpool_pages_lifecycle, .fn = pcpool_wl_lifecycle,
	},
	[PCPOOL_WL_PCPU_SIZES] = {
		.kinds = BIT(PCPOOL_BK_PCPU), .batch = PCPOOL_BATCH_SET,
		.seed = true, .self_timed = true, .fn = pcpool_wl_sizes,
	},
	[PCPOOL_WL_BUSY] = {
		.kinds = PCPOOL_ANY, .batch = PCPOOL_BATCH_SET,
		.order = true, .seed = true, .hist = true, .self_timed = true,
		.objs = true, .frag = true,
		.live_objs = pcpool_live_batch, .fn = pcpool_wl_busy,
	},
	[PCPOOL_WL_CHURN] = {
		.kinds = PCPOOL_ANY, .batch = PCPOOL_BATCH_SET,
		.order = true, .seed = true, .hist = true, .self_timed = true,
		.objs = true, .frag = true,
		.live_objs = pcpool_live_churn, .fn = pcpool_wl_churn,
	},
	[PCPOOL_WL_VM_RANDOM] = {
		.kinds = BIT(PCPOOL_BK_VMAP), .batch = PCPOOL_BATCH_ZERO,
		.seed = true, .hist = true,
		.area_pages = PCPOOL_VM_RANDOM_MAX, .fn = pcpool_wl_vm_random,
	},
	[PCPOOL_WL_VM_LONG_BUSY] = {
		.kinds = BIT(PCPOOL_BK_VMAP), .batch = PCPOOL_BATCH_SET,
		.seed = true, .hist = true, .self_timed = true,
		.objs = true,
		.live_objs = pcpool_live_batch, .pages = pcpool_pages_vm_long_busy,
		.fn = pcpool_wl_vm_long_busy,
	},
	[PCPOOL_WL_VM_FIX_SIZE] = {
		.kinds = BIT(PCPOOL_BK_VMAP), .batch = PCPOOL_BATCH_ZERO,
		.order = true, .hist = true,
		.live_objs = pcpool_live_one, .fn = pcpool_wl_vm_fix_size,
	},
	[PCPOOL_WL_VM_FULL_FIT] = {
		.kinds = BIT(PCPOOL_BK_VMAP), .batch = PCPOOL_BATCH_ZERO,
		.hist = true, .self_timed = true, .objs = true,
		.live_objs = pcpool_live_vm_full_fit,
		.pages = pcpool_pages_vm_full_fit, .fn = pcpool_wl_vm_full_fit,
	},
	[PCPOOL_WL_VM_FIX_ALIGN] = {
		.kinds = BIT(PCPOOL_BK_VMAP), .batch = PCPOOL_BATCH_ZERO,
		.hist = true,
		.area_pages = PCPOOL_VM_ALIGN_PAGES, .fn = pcpool_wl_vm_fix_align,
	},
	[PCPOOL_WL_PCPU_COUNTER] = {
		.kinds = BIT(PCPOOL_BK_PCPU), .batch = PCPOOL_BATCH_SET,
		.seed = true, .self_timed = true,
		.pages = pcpool_pages_counter, .fn = pcpool_wl_counter,
	},
};

static bool pcpool_run_batch_ok(const struct pcpool_workload *wl, u32 batch)
{
	switch (wl->batch) {
	case PCPOOL_BATCH_ZERO:
		return !batch;
	case PCPOOL_BATCH_CPUS:
		return batch && batch <= nr_cpu_ids &&
		       batch <= num_possible_cpus();
	default:
		return batch && batch <= PCPOOL_MAX_BATCH;
	}
}

/* Every field of @r against the workload's row. */
static int pcpool_run_check(const struct pcpool_run *r,
			    struct pcpool_backend **bp,
			    const struct pcpool_workload **wlp)
{
	const struct pcpool_workload *wl;
	struct pcpool_backend *b;

	if ((r->flags & ~PCPOOL_RUN_FLAGS) || r->resv[0] || r->resv[1])
		return -EINVAL;
	b = pcpool_backend_get(r->backend);
	if (!b || r->workload >= PCPOOL_NR_WORKLOADS)
		return -ENOENT;
	wl = &pcpool_workloads[array_index_nospec(r->workload,
						  PCPOOL_NR_WORKLOADS)];
	if (!wl->fn)
		return -ENOENT;
	if (!(wl->kinds & BIT(b->ops->kind)))
		return -EINVAL;
	if (r->order > (wl->order ? b->max_order : 0))
		return -EINVAL;
	if ((r->seed && !wl->seed) || (r->hist && !wl->hist))
		return -EINVAL;
	if (!!(r->flags & PCPOOL_RUN_HIST) != !!r->hist)
		return -EINVAL;
	/* migratetypes: page workloads on page backends */
	if ((r->flags & PCPOOL_RUN_MT_MIX) &&
	    (b->ops->kind != PCPOOL_BK_PAGES || !wl->order))
		return -EINVAL;
	/* A live set held to the end (BUSY, CHURN), on a zone backend. */
	if (!!(r->flags & PCPOOL_RUN_FRAG) != !!r->frag ||
	    (r->frag && (!wl->frag || !b->ops->frag)))
		return -EINVAL;
	if (!r->ops || r->ops > PCPOOL_MAX_RUN_OPS)
		return -EINVAL;
	if (!pcpool_run_batch_ok(wl, r->batch))
		return -EINVAL;
	*bp = b;
	*wlp = wl;
	return 0;
}

static unsigned long pcpool_run_pages(const struct pcpool_workload *wl,
				      const struct pcpool_run_ctx *c)
{
	if (wl->pages)
		return wl->pages(c);
	if (wl->area_pages)
		return wl->area_pages;
	if (wl->live_objs)
		return wl->live_objs(c->r) * pcpool_order_pages(c->b, c->r->order);
	return 0;
}

/* RUN_FRAG's report, copied in and checked; filled at the final drain. */
static int pcpool_run_frag_get(const struct pcpool_run *r,
			       struct pcpool_frag **fp)
{
	struct pcpool_frag __user *uf = u64_to_user_ptr(r->frag);
	struct pcpool_backend *b;
	struct pcpool_frag *f;
	u32 size;
	int ret;

	if (get_user(size, &uf->size))
		return -EFAULT;
	if (size != PCPOOL_FRAG_SIZE_VER0)
		return -EINVAL;
	f = kmalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	ret = -EFAULT;
	if (copy_from_user(f, uf, sizeof(*f)))
		goto out;
	ret = pcpool_frag_check(f, &b);
	if (!ret && f->backend != r->backend)
		ret = -EINVAL;
out:
	if (ret) {
		kfree(f);
		return ret;
	}
	pcpool_frag_clear(f);
	*fp = f;
	return 0;
}

/* Charged, with its objs[], the histogram out in @lat if asked for. */
static int pcpool_run_charged(const struct pcpool_workload *wl,
			      struct pcpool_run_ctx *c)
{
	struct pcpool_run *r = c->r;
	u64 t0;
	int ret;

	if (wl->objs) {
		c->objs = kvmalloc_array(wl->live_objs(r), sizeof(*c->objs),
					 GFP_KERNEL);
		if (!c->objs)
			return -ENOMEM;
	}
	t0 = ktime_get_ns();
	ret = wl->fn(c);
	if (!wl->self_timed)
		r->ns = ktime_get_ns() - t0;
	kvfree(c->objs);
	return ret;
}

int pcpool_run(struct pcpool_cap *cap, struct pcpool_run *r)
{
	const struct pcpool_workload *wl;
	struct pcpool_frag *frag = NULL;
	struct pcpool_lat lat = {};
	struct pcpool_run_ctx c = {
		.r = r,
		.cap = cap,
	};
	unsigned long pages;
	int ret;

	r->cpu = raw_smp_processor_id();
	r->cpu_end = r->cpu;
	r->ns = 0;
	r->done = 0;
	r->alloc_ns = 0;
	r->free_ns = 0;
	r->backoffs = 0;
	ret = pcpool_run_check(r, &c.b, &wl);
	if (ret)
		return ret;
	if (r->flags & PCPOOL_RUN_HIST) {
		ret = pcpool_lat_get(r, &lat);
		if (ret)
			return ret;
		c.lat = &lat;
	}
	if (r->flags & PCPOOL_RUN_FRAG) {
		ret = pcpool_run_frag_get(r, &frag);
		if (ret)
			goto out;
		c.frag = frag;
	}
	c.size = pcpool_order_size(c.b, r->order);
	prandom_seed_state(&c.rnd, r->seed);

	pages = pcpool_run_pages(wl, &c);
	ret = pcpool_charge(cap, pages);
	if (!ret) {
		ret = pcpool_run_charged(wl, &c);
		pcpool_uncharge(cap, pages);
	}
	r->cpu_end = raw_smp_processor_id();
	if (frag) {
		if (copy_to_user(u64_to_user_ptr(r->frag), frag, sizeof(*frag)) &&
		    !ret)
			ret = -EFAULT;
		kfree(frag);
	}
out:
	if (c.lat) {
		/* Out fields go back whatever happened, like the struct's. */
		if (copy_to_user(u64_to_user_ptr(r->hist), lat.h,
				 sizeof(*lat.h)) && !ret)
			ret = -EFAULT;
		kvfree(lat.h);
	}
	return ret;
}
