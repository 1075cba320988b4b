// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool run engine: the per-CPU workloads, PCPU_LIFECYCLE, PCPU_SIZES and
 * PCPU_COUNTER (their rows are in run.c's table).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/string.h>

#include "run_ctx.h"
#include "pcpu_sizes_real.h"

/* PCPU_SIZES: lib/test_vmalloc.c's pcpu_alloc_test() shape */
#define PCPOOL_PCPU_SIZES_MAX	(PAGE_SIZE / 4)
#define PCPOOL_PCPU_SIZES_ALIGNS 11U	/* alignments 2 .. 2048 */
#define PCPOOL_PCPU_SIZES_SEED	0x9e3779b97f4a7c15ULL
/* PCPU_LIFECYCLE: one counter (mm_cid-like), four (rss_stat-like) */
#define PCPOOL_LC_SMALL		8U
#define PCPOOL_LC_LARGE		32U
#define PCPOOL_LC_WORDS		(PCPOOL_LC_LARGE / sizeof(s64))
/*
 * PCPU_LIFECYCLE, PCPOOL_LIFECYCLE_COUNTERS: mm_struct since 6.4, its
 * NR_MM_COUNTERS rss counters (percpu_counter since 6.2) and the
 * alloc_percpu(struct mm_cid) region (u64 time, int cid).
 */
#define PCPOOL_LC_RSS		4U
#define PCPOOL_LC_CID		16U

unsigned long pcpool_pages_lifecycle(const struct pcpool_run_ctx *c)
{
	if (c->r->seed == PCPOOL_LIFECYCLE_COUNTERS)
		return pcpool_obj_pages(c->b, PCPOOL_LC_CID, sizeof(s64)) +
		       PCPOOL_LC_RSS *
		       pcpool_obj_pages(c->b, sizeof(s64), sizeof(s64));
	return pcpool_obj_pages(c->b, PCPOOL_LC_SMALL, PCPOOL_LC_SMALL) +
	       pcpool_obj_pages(c->b, PCPOOL_LC_LARGE, PCPOOL_LC_LARGE);
}

/*
 * One process of PCPU_LIFECYCLE: allocate, make the objects usable (only
 * a backend whose objects come back undefined has to write every CPU's
 * copy), update them on the CPUs it runs on, sum them over every
 * possible CPU at exit, free.  A wrong sum is -EIO.
 */
static int pcpool_lifecycle_one(struct pcpool_run_ctx *c,
				const unsigned int *cpus, unsigned int ncpus)
{
	enum pcpool_contents contents = c->b->ops->contents;
	s64 sa = 0, sm[PCPOOL_LC_WORDS] = {}, *pm;
	union pcpool_obj a, m;
	unsigned int i, w;
	bool bad;
	int cpu, ret;

	ret = pcpool_obj_alloc(c->b, PCPOOL_LC_SMALL, PCPOOL_LC_SMALL, &a);
	if (ret)
		return ret;
	ret = pcpool_obj_alloc(c->b, PCPOOL_LC_LARGE, PCPOOL_LC_LARGE, &m);
	if (ret) {
		pcpool_obj_free(c->b, a, PCPOOL_LC_SMALL, PCPOOL_LC_SMALL);
		return ret;
	}
	if (contents == PCPOOL_CONTENTS_UNDEFINED) {
		for_each_possible_cpu(cpu) {
			memset(per_cpu_ptr((s64 __percpu *)a.pcpu, cpu), 0,
			       PCPOOL_LC_SMALL);
			memset(per_cpu_ptr((s64 __percpu *)m.pcpu, cpu), 0,
			       PCPOOL_LC_LARGE);
		}
	}

	for (i = 0; i < ncpus; i++) {
		pm = per_cpu_ptr((s64 __percpu *)m.pcpu, cpus[i]);
		(*per_cpu_ptr((s64 __percpu *)a.pcpu, cpus[i]))++;
		for (w = 0; w < PCPOOL_LC_WORDS; w++)
			pm[w] += w + 1;
	}

	for_each_possible_cpu(cpu) {
		pm = per_cpu_ptr((s64 __percpu *)m.pcpu, cpu);
		sa += *per_cpu_ptr((s64 __percpu *)a.pcpu, cpu);
		for (w = 0; w < PCPOOL_LC_WORDS; w++)
			sm[w] += pm[w];
	}
	bad = sa != ncpus;
	for (w = 0; w < PCPOOL_LC_WORDS; w++)
		bad |= sm[w] != (s64)ncpus * (w + 1);

	if (contents == PCPOOL_CONTENTS_CANCELLING) {
		/* the destructor: one write per counter makes the parts cancel */
		pm = per_cpu_ptr((s64 __percpu *)m.pcpu, cpus[0]);
		*per_cpu_ptr((s64 __percpu *)a.pcpu, cpus[0]) -= sa;
		for (w = 0; w < PCPOOL_LC_WORDS; w++)
			pm[w] -= sm[w];
	}
	pcpool_obj_free(c->b, m, PCPOOL_LC_LARGE, PCPOOL_LC_LARGE);
	pcpool_obj_free(c->b, a, PCPOOL_LC_SMALL, PCPOOL_LC_SMALL);
	return bad ? -EIO : 0;
}

/* A counter-shaped process: its rss counters, its mm_cid region. */
struct pcpool_lc_mm {
	const struct pcpool_counter_ops *ops;
	char *rss;			/* PCPOOL_LC_RSS counters of ops->size */
	union pcpool_obj cid;
	unsigned int *ran;		/* the CPUs it ran on, in order */
	unsigned int nran;
	u64 seq;
	u64 ns;				/* time spent on other CPUs */
};

static void *pcpool_lc_rss(struct pcpool_lc_mm *mm, unsigned int w)
{
	return mm->rss + w * mm->ops->size;
}

/* What the process does on a CPU it runs on: scheduled in, faults. */
static int pcpool_lc_run_here(void *arg)
{
	struct pcpool_lc_mm *mm = arg;
	u64 t0 = ktime_get_ns();
	unsigned int w;
	s64 *cid;
	int cpu;

	cpu = get_cpu();
	cid = per_cpu_ptr((s64 __percpu *)mm->cid.pcpu, cpu);
	cid[0] = ++mm->seq;		/* mm_cid.time */
	cid[1] = cpu + 1;		/* mm_cid.cid, 0 is unset */
	put_cpu();
	/* the calling thread may have migrated: check where it was */
	mm->ran[mm->nran++] = cpu;
	for (w = 0; w < PCPOOL_LC_RSS; w++)
		mm->ops->add(pcpool_lc_rss(mm, w), w + 1);
	mm->ns += ktime_get_ns() - t0;
	return 0;
}

/*
 * One counter-shaped process: the mm_cid region (a backend whose objects
 * come back undefined writes every possible CPU's copy, as mm_init_cid()
 * does anyway), the rss counters made; on each of @cpus its cid slot
 * written and every counter updated there (other CPUs by
 * smp_call_on_cpu(), the trips left out of *@ns); at exit the exact sums,
 * the cid slots checked and, for a constructed backend, cleared; all
 * given back.  A wrong value is -EIO.
 */
static int pcpool_lc_counters_one(struct pcpool_run_ctx *c,
				  struct pcpool_lc_mm *mm,
				  const unsigned int *cpus, unsigned int ncpus,
				  u64 *ns)
{
	u64 t0 = ktime_get_ns(), t1;
	unsigned int i, w, made = 0;
	bool bad = false;
	int cpu, ret;

	ret = pcpool_obj_alloc(c->b, PCPOOL_LC_CID, sizeof(s64), &mm->cid);
	if (ret)
		return ret;
	if (c->b->ops->contents == PCPOOL_CONTENTS_UNDEFINED)
		for_each_possible_cpu(cpu)
			memset(per_cpu_ptr((char __percpu *)mm->cid.pcpu, cpu),
			       0, PCPOOL_LC_CID);
	for (; made < PCPOOL_LC_RSS && !ret; made++)
		ret = mm->ops->init(c->b, pcpool_lc_rss(mm, made));
	if (ret) {
		made--;
		goto out;
	}
	mm->nran = 0;
	pcpool_lc_run_here(mm);
	mm->ns = 0;	/* only the other CPUs' time is added below */
	for (i = 1; i < ncpus && !ret; i++) {
		t1 = ktime_get_ns();
		ret = smp_call_on_cpu(cpus[i], pcpool_lc_run_here, mm, false);
		t0 += ktime_get_ns() - t1;
	}
	for (w = 0; w < PCPOOL_LC_RSS && !ret; w++)
		bad |= mm->ops->sum(pcpool_lc_rss(mm, w)) !=
		       (s64)ncpus * (w + 1);
	for (i = 0; i < mm->nran; i++) {
		s64 *cid = per_cpu_ptr((s64 __percpu *)mm->cid.pcpu,
				       mm->ran[i]);

		bad |= cid[1] != mm->ran[i] + 1;
	}
	/* a constructed object goes back with its parts cancelling */
	for (i = 0; i < mm->nran &&
	     c->b->ops->contents == PCPOOL_CONTENTS_CANCELLING; i++)
		memset(per_cpu_ptr((char __percpu *)mm->cid.pcpu, mm->ran[i]),
		       0, PCPOOL_LC_CID);
out:
	while (made--)
		mm->ops->destroy(pcpool_lc_rss(mm, made));
	pcpool_obj_free(c->b, mm->cid, PCPOOL_LC_CID, sizeof(s64));
	*ns += ktime_get_ns() - t0 + mm->ns;
	if (ret)
		return ret;
	return bad ? -EIO : 0;
}

/* @n CPUs to run on: this one, then the next ones of @mask. */
static void pcpool_lc_cpus(unsigned int *cpus, unsigned int n, int cpu,
			   const struct cpumask *mask)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		cpus[i] = cpu;
		cpu = cpumask_next(cpu, mask);
		if (cpu >= nr_cpu_ids)
			cpu = cpumask_first(mask);
	}
}

/*
 * PCPU_LIFECYCLE: processes that run on @batch CPUs, one after another;
 * @seed PCPOOL_LIFECYCLE_COUNTERS makes them counter-shaped, which needs
 * the backend's counter and @batch online CPUs.
 */
int pcpool_wl_lifecycle(struct pcpool_run_ctx *c)
{
	struct pcpool_lc_mm mm = { .ops = c->b->ops->counter };
	bool counters = c->r->seed == PCPOOL_LIFECYCLE_COUNTERS;
	struct pcpool_run *r = c->r;
	unsigned int *cpus;
	u64 n, ns = 0, t0;
	int ret = 0;

	if (r->seed > PCPOOL_LIFECYCLE_COUNTERS ||
	    (counters && (!mm.ops || r->batch > num_online_cpus())))
		return -EINVAL;
	/* and the CPUs a counter-shaped process really ran on */
	cpus = kmalloc_array(r->batch, 2 * sizeof(*cpus), GFP_KERNEL);
	if (!cpus)
		return -ENOMEM;
	mm.ran = cpus + r->batch;
	if (counters) {
		mm.rss = kmalloc_array(PCPOOL_LC_RSS, mm.ops->size,
				       GFP_KERNEL);
		if (!mm.rss) {
			kfree(cpus);
			return -ENOMEM;
		}
	}
	/* where the process runs: offline CPUs only take direct writes */
	pcpool_lc_cpus(cpus, r->batch, r->cpu,
		       counters ? cpu_online_mask : cpu_possible_mask);
	for (n = 0; n < r->ops && !ret;) {
		if (counters) {
			ret = pcpool_lc_counters_one(c, &mm, cpus, r->batch,
						     &ns);
		} else {
			t0 = ktime_get_ns();
			ret = pcpool_lifecycle_one(c, cpus, r->batch);
			ns += ktime_get_ns() - t0;
		}
		if (ret)
			break;
		ret = pcpool_tick(++n);
	}
	r->done = n;
	r->ns = ns;
	kfree(mm.rss);
	kfree(cpus);
	return ret;
}

struct pcpool_sized {
	union pcpool_obj obj;
	u32 size;
	u32 align;
};

/* xorshift64*: the same sequence for every backend, no shared state. */
static u32 pcpool_sizes_rand(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return (u32)((x * 0x2545f4914f6cdd1dULL) >> 32);
}

/* One request of the real mix, drawn in proportion to its count. */
static void pcpool_sizes_real_draw(u64 *state, struct pcpool_sized *o)
{
	u32 total = 0, x;
	unsigned int k;

	for (k = 0; k < ARRAY_SIZE(pcpool_sizes_real); k++)
		total += pcpool_sizes_real[k].count;
	x = pcpool_sizes_rand(state) % total;
	for (k = 0; x >= pcpool_sizes_real[k].count; k++)
		x -= pcpool_sizes_real[k].count;
	o->size = pcpool_sizes_real[k].size;
	o->align = pcpool_sizes_real[k].align;
}

/* The sizes and alignments of the next @n objects; returns their pages. */
static unsigned long pcpool_sizes_draw(struct pcpool_run_ctx *c, u64 *state,
				       struct pcpool_sized *objs, u32 n)
{
	unsigned long pages = 0;
	u32 i;

	for (i = 0; i < n; i++) {
		if (c->r->seed == PCPOOL_SIZES_REAL) {
			pcpool_sizes_real_draw(state, &objs[i]);
		} else {
			objs[i].size = 1 + pcpool_sizes_rand(state) %
					   PCPOOL_PCPU_SIZES_MAX;
			objs[i].align = 2U << (pcpool_sizes_rand(state) %
					       PCPOOL_PCPU_SIZES_ALIGNS);
		}
		pages += pcpool_obj_pages(c->b, objs[i].size, objs[i].align);
	}
	return pages;
}

/*
 * PCPU_SIZES: batches of objects of random size and alignment, allocated
 * then freed; each batch is charged as it is drawn.  Only the
 * allocations and frees are timed.
 */
int pcpool_wl_sizes(struct pcpool_run_ctx *c)
{
	u64 state = PCPOOL_PCPU_SIZES_SEED, ns = 0, t0;
	struct pcpool_run *r = c->r;
	struct pcpool_sized *objs;
	unsigned long pages;
	u32 i, j, n;
	int ret = 0;

	if (r->seed > PCPOOL_SIZES_REAL)
		return -EINVAL;
	objs = kvmalloc_array(pcpool_live_bulk(r), sizeof(*objs), GFP_KERNEL);
	if (!objs)
		return -ENOMEM;
	while (r->done < r->ops && !ret) {
		n = min_t(u64, r->batch, r->ops - r->done);
		pages = pcpool_sizes_draw(c, &state, objs, n);
		ret = pcpool_charge(c->cap, pages);
		if (ret)
			break;
		t0 = ktime_get_ns();
		for (i = 0; i < n && !ret;) {
			ret = pcpool_obj_alloc(c->b, objs[i].size,
					       objs[i].align, &objs[i].obj);
			if (ret)
				break;
			ret = pcpool_tick(++i);
		}
		for (j = 0; j < i; j++)
			pcpool_obj_free(c->b, objs[j].obj, objs[j].size,
					objs[j].align);
		ns += ktime_get_ns() - t0;
		pcpool_uncharge(c->cap, pages);
		r->done += i;
		if (!ret)
			ret = pcpool_yield();
	}
	r->ns = ns;
	kvfree(objs);
	return ret;
}

/* PCPU_COUNTER: the backend's counter (ops->counter) and where it is. */
struct pcpool_wl_ctr {
	const struct pcpool_counter_ops *ops;
	void *ctr;
};

static void pcpool_ctr_add(struct pcpool_wl_ctr *x, s64 delta)
{
	x->ops->add(x->ctr, delta);
}

/* Update @i of a process: small deltas of both signs. */
static s64 pcpool_ctr_delta(u32 i)
{
	return (s64)(i & 3) - 1;
}

/* The second CPU's share of a process, run there by smp_call_on_cpu(). */
struct pcpool_wl_ctr_remote {
	struct pcpool_wl_ctr *x;
	u32 from, to;		/* update indices */
	u64 ns;			/* time of the updates alone */
};

static int pcpool_ctr_remote_fn(void *arg)
{
	struct pcpool_wl_ctr_remote *rem = arg;
	u64 t0 = ktime_get_ns();
	u32 i;

	for (i = rem->from; i < rem->to; i++)
		pcpool_ctr_add(rem->x, pcpool_ctr_delta(i));
	rem->ns = ktime_get_ns() - t0;
	return 0;
}

unsigned long pcpool_pages_counter(const struct pcpool_run_ctx *c)
{
	return pcpool_obj_pages(c->b, sizeof(s64), sizeof(s64));
}

/*
 * One process: create the counter, @batch updates on this CPU, or on a
 * cross process the middle half of them on @cpu2, the exact sum, destroy.
 * The trip to @cpu2 and back is not the counter's: *@trips grows by its
 * wall time less the updates made there.
 */
static int pcpool_counter_one(struct pcpool_backend *b, struct pcpool_wl_ctr *x,
			      u32 batch, int cpu2, u64 *trips)
{
	struct pcpool_wl_ctr_remote rem = { .x = x };
	s64 want = 0, sum;
	u64 t1;
	u32 i;
	int ret;

	if (cpu2 >= 0) {
		rem.from = batch / 4;
		rem.to = rem.from + max(batch / 2, 1U);
		rem.to = min(rem.to, batch);
	}
	ret = x->ops->init(b, x->ctr);
	if (ret)
		return ret;
	for (i = 0; i < batch && !ret;) {
		if (i == rem.from && rem.to > rem.from) {
			t1 = ktime_get_ns();
			ret = smp_call_on_cpu(cpu2, pcpool_ctr_remote_fn, &rem,
					      false);
			*trips += ktime_get_ns() - t1 - rem.ns;
			for (; i < rem.to; i++)
				want += pcpool_ctr_delta(i);
			continue;
		}
		want += pcpool_ctr_delta(i);
		pcpool_ctr_add(x, pcpool_ctr_delta(i++));
	}
	sum = x->ops->sum(x->ctr);
	x->ops->destroy(x->ctr);
	if (ret)
		return ret;
	return sum == want ? 0 : -EIO;
}

/*
 * PCPU_COUNTER: @ops processes one after another, each making @batch
 * updates; @seed per mille of them (spread evenly) also update from the
 * next online CPU.  A wrong sum is -EIO.
 */
int pcpool_wl_counter(struct pcpool_run_ctx *c)
{
	struct pcpool_run *r = c->r;
	struct pcpool_wl_ctr x = { .ops = c->b->ops->counter };
	int ret = 0, cpu2 = -1;
	u64 n, ns = 0, trips = 0, t0;

	if (r->seed > PCPOOL_COUNTER_SHARE_MAX || !x.ops)
		return -EINVAL;
	if (r->seed) {
		cpu2 = cpumask_next(r->cpu, cpu_online_mask);
		if (cpu2 >= nr_cpu_ids)
			cpu2 = cpumask_first(cpu_online_mask);
		if (cpu2 == r->cpu)
			return -EINVAL;
	}
	x.ctr = kzalloc(x.ops->size, GFP_KERNEL);
	if (!x.ctr)
		return -ENOMEM;
	/*
	 * Timed in stretches between yields, not per process: two clock reads
	 * a process were most of a short one's time, for every backend alike.
	 */
	t0 = ktime_get_ns();
	for (n = 0; n < r->ops && !ret;) {
		/* process n crosses when n * share / 1000 steps up */
		bool cross = (n + 1) * r->seed / PCPOOL_COUNTER_SHARE_MAX !=
			     n * r->seed / PCPOOL_COUNTER_SHARE_MAX;

		ret = pcpool_counter_one(c->b, &x, r->batch, cross ? cpu2 : -1,
					 &trips);
		if (ret)
			break;
		if (++n % PCPOOL_YIELD_EVERY)
			continue;
		ns += ktime_get_ns() - t0 - trips;
		trips = 0;
		ret = pcpool_yield();
		t0 = ktime_get_ns();
	}
	ns += ktime_get_ns() - t0 - trips;
	r->done = n;
	r->ns = ns;
	kfree(x.ctr);
	return ret;
}
