// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool RUN workloads beyond the plain REPEAT and BULK loops of session.c:
 * those two with per-operation latency histograms (PCPOOL_RUN_HIST), BUSY
 * and CHURN on any backend, and the hand-off to the vmalloc workloads.
 * session.c calls pcpool_wl_cmd_run() once flags, reserved fields, backend
 * and workload id are known to be valid.
 *
 * A histogram costs nothing when it is not asked for: REPEAT and BULK
 * without PCPOOL_RUN_HIST never come here, and the loops here test one
 * NULL pointer per allocation or free.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>

#include "pcpool.h"

/* Loop iterations between fatal-signal checks and cond_resched(). */
#define PCPOOL_WL_YIELD_MASK		1023U
/* CHURN gives up after this many back-offs in a row with nothing live. */
#define PCPOOL_CHURN_MAX_EMPTY		16U

void pcpool_lat_record(u64 *buckets, u64 *sum, u64 *max, u64 ns)
{
	unsigned int idx, e;

	if (ns < BIT_ULL(PCPOOL_HIST_SUB_BITS)) {
		idx = ns;
	} else if (ns >> PCPOOL_HIST_MAX_BITS) {
		idx = PCPOOL_HIST_BUCKETS - 1;
	} else {
		e = fls64(ns) - 1;
		idx = ((e - PCPOOL_HIST_SUB_BITS + 1) << PCPOOL_HIST_SUB_BITS) +
		      (unsigned int)(ns >> (e - PCPOOL_HIST_SUB_BITS)) -
		      BIT(PCPOOL_HIST_SUB_BITS);
	}
	buckets[idx]++;
	*sum += ns;
	if (ns > *max)
		*max = ns;
}

/* Uniform in [0, n), n > 0. */
static u32 pcpool_rand_below(struct rnd_state *rnd, u32 n)
{
	return (u32)(((u64)prandom_u32_state(rnd) * n) >> 32);
}

static __always_inline int pcpool_wl_alloc(struct pcpool_backend *b,
					   unsigned int order,
					   union pcpool_obj *obj,
					   struct pcpool_lat *lat)
{
	u64 t0;
	int ret;

	if (!pcpool_lat_alloc_due(lat))
		return pcpool_obj_alloc(b, order, obj);
	t0 = ktime_get_ns();
	ret = pcpool_obj_alloc(b, order, obj);
	if (!ret)
		pcpool_lat_alloc(lat, ktime_get_ns() - t0);
	return ret;
}

static __always_inline void pcpool_wl_free(struct pcpool_backend *b,
					   union pcpool_obj obj,
					   unsigned int order,
					   struct pcpool_lat *lat)
{
	u64 t0;

	if (!pcpool_lat_free_due(lat)) {
		pcpool_obj_free(b, obj, order);
		return;
	}
	t0 = ktime_get_ns();
	pcpool_obj_free(b, obj, order);
	pcpool_lat_free(lat, ktime_get_ns() - t0);
}

/* Free objs[0..*live) untimed, as the end of a run. */
static void pcpool_wl_drain(struct pcpool_backend *b, unsigned int order,
			    union pcpool_obj *objs, u32 *live)
{
	while (*live) {
		pcpool_obj_free(b, objs[--*live], order);
		if ((*live & PCPOOL_WL_YIELD_MASK) == 0)
			cond_resched();
	}
}

static int pcpool_wl_repeat(struct pcpool_backend *b, struct pcpool_run *r,
			    struct pcpool_lat *lat)
{
	union pcpool_obj obj;
	int ret = 0;
	u64 i;

	for (i = 0; i < r->ops; i++) {
		ret = pcpool_wl_alloc(b, r->order, &obj, lat);
		if (ret)
			break;
		pcpool_wl_free(b, obj, r->order, lat);
		if ((i & PCPOOL_WL_YIELD_MASK) == PCPOOL_WL_YIELD_MASK) {
			ret = pcpool_yield();
			if (ret) {
				i++;
				break;
			}
		}
	}
	r->done = i;
	return ret;
}

static int pcpool_wl_bulk(struct pcpool_backend *b, struct pcpool_run *r,
			  union pcpool_obj *objs, struct pcpool_lat *lat)
{
	unsigned int since = 0;
	u64 t0, t1;
	u32 i, j, n;
	int ret = 0;

	while (r->done < r->ops) {
		n = min_t(u64, r->batch, r->ops - r->done);
		t0 = ktime_get_ns();
		for (i = 0; i < n; i++) {
			ret = pcpool_wl_alloc(b, r->order, &objs[i], lat);
			if (ret)
				break;
			if (++since > PCPOOL_WL_YIELD_MASK) {
				since = 0;
				ret = pcpool_yield();
				if (ret) {
					i++;
					break;
				}
			}
		}
		t1 = ktime_get_ns();
		for (j = 0; j < i; j++)
			pcpool_wl_free(b, objs[j], r->order, lat);
		r->alloc_ns += t1 - t0;
		r->free_ns += ktime_get_ns() - t1;
		r->done += i;
		if (ret)
			break;
	}
	return ret;
}

/*
 * BUSY: a live set of @batch blocks, filled untimed; each operation frees
 * a random one and allocates its replacement.
 */
static int pcpool_wl_busy(struct pcpool_backend *b, struct pcpool_run *r,
			  union pcpool_obj *objs, struct rnd_state *rnd,
			  struct pcpool_lat *lat)
{
	u32 live = 0, k;
	int ret = 0;
	u64 i, t0;

	while (live < r->batch) {
		ret = pcpool_obj_alloc(b, r->order, &objs[live]);
		if (ret)
			goto drain;
		if ((++live & PCPOOL_WL_YIELD_MASK) == 0) {
			ret = pcpool_yield();
			if (ret)
				goto drain;
		}
	}

	t0 = ktime_get_ns();
	for (i = 0; i < r->ops; i++) {
		k = pcpool_rand_below(rnd, live);
		pcpool_wl_free(b, objs[k], r->order, lat);
		ret = pcpool_wl_alloc(b, r->order, &objs[k], lat);
		if (ret) {
			objs[k] = objs[--live];
			break;
		}
		if ((i & PCPOOL_WL_YIELD_MASK) == PCPOOL_WL_YIELD_MASK) {
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
	pcpool_wl_drain(b, r->order, objs, &live);
	return ret;
}

/* Free @n random live blocks, timed into @r->free_ns. */
static int pcpool_churn_free(struct pcpool_backend *b, struct pcpool_run *r,
			     union pcpool_obj *objs, u32 *live, u32 n,
			     struct rnd_state *rnd, struct pcpool_lat *lat)
{
	u64 t0 = ktime_get_ns();
	int ret = 0;
	u32 k;

	while (n--) {
		k = pcpool_rand_below(rnd, *live);
		pcpool_wl_free(b, objs[k], r->order, lat);
		objs[k] = objs[--*live];
		if ((n & PCPOOL_WL_YIELD_MASK) == PCPOOL_WL_YIELD_MASK) {
			ret = pcpool_yield();
			if (ret)
				break;
		}
	}
	r->free_ns += ktime_get_ns() - t0;
	return ret;
}

/*
 * CHURN: ramp up to the set-point (@batch) untimed, which is the gate to
 * the steady state; then bursts towards a random target in set-point +-
 * amplitude.  An allocation failure is a back-off: free half the live
 * blocks, reschedule, go on.  The final drain is untimed, so the timed
 * part frees about as many blocks as it allocates.
 */
static int pcpool_wl_churn(struct pcpool_backend *b, struct pcpool_run *r,
			   union pcpool_obj *objs, u32 amp,
			   struct rnd_state *rnd, struct pcpool_lat *lat)
{
	u32 setpoint = r->batch, live = 0, target, empty = 0;
	unsigned int since = 0;
	u64 want, t0, t;
	int ret = 0;

	while (live < setpoint) {
		ret = pcpool_obj_alloc(b, r->order, &objs[live]);
		if (ret)
			break;
		if ((++live & PCPOOL_WL_YIELD_MASK) == 0) {
			ret = pcpool_yield();
			if (ret)
				goto drain;
		}
	}
	/* Memory ran out on the way up: the steady state starts lower. */
	if (ret == -ENOMEM && live) {
		r->backoffs++;
		ret = 0;
	}
	if (ret)
		goto drain;

	t0 = ktime_get_ns();
	while (r->done < r->ops) {
		target = setpoint - amp + pcpool_rand_below(rnd, 2 * amp + 1);
		if (target <= live) {
			ret = pcpool_churn_free(b, r, objs, &live, live - target,
						rnd, lat);
			if (ret)
				break;
			continue;
		}
		want = min_t(u64, target - live, r->ops - r->done);
		t = ktime_get_ns();
		while (want--) {
			ret = pcpool_wl_alloc(b, r->order, &objs[live], lat);
			if (ret)
				break;
			live++;
			r->done++;
			if (++since > PCPOOL_WL_YIELD_MASK) {
				since = 0;
				ret = pcpool_yield();
				if (ret)
					break;
			}
		}
		r->alloc_ns += ktime_get_ns() - t;
		if (ret != -ENOMEM) {
			if (ret)
				break;
			empty = 0;
			continue;
		}
		r->backoffs++;
		if (!live && ++empty >= PCPOOL_CHURN_MAX_EMPTY)
			break;
		ret = pcpool_churn_free(b, r, objs, &live, live / 2, rnd, lat);
		if (!ret)
			ret = pcpool_yield();
		if (ret)
			break;
	}
	r->ns = ktime_get_ns() - t0;
drain:
	pcpool_wl_drain(b, r->order, objs, &live);
	return ret;
}

/* Copy the histogram header in and set up @lat; @lat->h is zeroed. */
static int pcpool_lat_get(struct pcpool_run *r, struct pcpool_lat *lat)
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

/* Blocks a page-backend workload keeps alive at most, for the cap. */
static u64 pcpool_wl_live(const struct pcpool_run *r, u32 amp)
{
	switch (r->workload) {
	case PCPOOL_WL_REPEAT:
		return 1;
	case PCPOOL_WL_BULK:
		return min_t(u64, r->batch, r->ops);
	case PCPOOL_WL_CHURN:
		return (u64)r->batch + amp;
	default:	/* BUSY */
		return r->batch;
	}
}

static int pcpool_wl_check(struct pcpool_backend *b, struct pcpool_run *r)
{
	bool vm = r->workload == PCPOOL_WL_VM_RANDOM ||
		  r->workload == PCPOOL_WL_VM_LONG_BUSY;

	switch (r->workload) {
	case PCPOOL_WL_REPEAT:
	case PCPOOL_WL_BULK:
		if (r->seed)
			return -EINVAL;
		break;
	case PCPOOL_WL_BUSY:
	case PCPOOL_WL_CHURN:
	case PCPOOL_WL_VM_RANDOM:
	case PCPOOL_WL_VM_LONG_BUSY:
		break;
	default:	/* the per-CPU workloads take no histogram or seed */
		return -EINVAL;
	}
	if (!!(r->flags & PCPOOL_RUN_HIST) != !!r->hist)
		return -EINVAL;
	if (r->order > b->ops->max_order)
		return -EINVAL;
	if (vm && (b->ops != &pcpool_vmalloc_ops || r->order))
		return -EINVAL;
	if (!r->ops || r->ops > PCPOOL_MAX_RUN_OPS)
		return -EINVAL;
	if (r->workload == PCPOOL_WL_REPEAT ||
	    r->workload == PCPOOL_WL_VM_RANDOM)
		return r->batch ? -EINVAL : 0;
	return !r->batch || r->batch > PCPOOL_MAX_BATCH ? -EINVAL : 0;
}

int pcpool_wl_cmd_run(struct pcpool_session *s, struct pcpool_backend *b,
		      struct pcpool_run *r)
{
	struct pcpool_lat lat_buf, *lat = NULL;
	union pcpool_obj *objs = NULL;
	unsigned long pages = 0;
	struct rnd_state rnd;
	u32 amp = 0;
	u64 live, t0;
	int ret;

	ret = pcpool_wl_check(b, r);
	if (ret)
		return ret;
	if (r->flags & PCPOOL_RUN_HIST) {
		ret = pcpool_lat_get(r, &lat_buf);
		if (ret)
			return ret;
		lat = &lat_buf;
	}
	prandom_seed_state(&rnd, r->seed);

	if (r->workload == PCPOOL_WL_VM_RANDOM ||
	    r->workload == PCPOOL_WL_VM_LONG_BUSY) {
		ret = pcpool_vmalloc_cmd_run(s, b, r, lat);
		goto out;
	}

	if (r->workload == PCPOOL_WL_CHURN)
		amp = max(r->batch / 2, 1U);
	live = pcpool_wl_live(r, amp);
	pages = live * pcpool_obj_pages(b, r->order);
	ret = pcpool_charge(s, pages);
	if (ret)
		goto out;
	if (r->workload != PCPOOL_WL_REPEAT) {
		objs = kvmalloc_array(live, sizeof(*objs), GFP_KERNEL);
		if (!objs) {
			ret = -ENOMEM;
			goto out_uncharge;
		}
	}

	t0 = ktime_get_ns();
	switch (r->workload) {
	case PCPOOL_WL_REPEAT:
		ret = pcpool_wl_repeat(b, r, lat);
		r->ns = ktime_get_ns() - t0;
		break;
	case PCPOOL_WL_BULK:
		ret = pcpool_wl_bulk(b, r, objs, lat);
		r->ns = ktime_get_ns() - t0;
		break;
	case PCPOOL_WL_BUSY:
		ret = pcpool_wl_busy(b, r, objs, &rnd, lat);
		break;
	default:
		ret = pcpool_wl_churn(b, r, objs, amp, &rnd, lat);
		break;
	}
	kvfree(objs);
out_uncharge:
	pcpool_uncharge(s, pages);
out:
	r->cpu_end = raw_smp_processor_id();
	if (lat) {
		/* Out fields go back whatever happened, like the struct's. */
		if (copy_to_user(u64_to_user_ptr(r->hist), lat->h,
				 sizeof(*lat->h)) && !ret)
			ret = -EFAULT;
		kvfree(lat->h);
	}
	return ret;
}
