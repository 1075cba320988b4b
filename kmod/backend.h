/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool backends: one ops table per allocator, and the one accounting
 * wrapper every caller goes through.
 *
 * A request is a size and an alignment in bytes.  The command layer
 * speaks in orders (2^order pages, or 2^order bytes for per-CPU objects);
 * pcpool_order_size() turns one into the other, so a size-based
 * allocator (vmalloc, the per-CPU caches) sees real sizes.
 *
 * Callers count (allocs, frees, failures, pages) and inject failures here,
 * so a backend only allocates and frees.  Nothing in this layer knows
 * about sessions: the layers above charge, the backends below allocate.
 */
#ifndef _PCPOOL_BACKEND_H
#define _PCPOOL_BACKEND_H

#include <linux/atomic.h>
#include <linux/jump_label.h>
#include <linux/log2.h>
#include <linux/math.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/types.h>

#include <linux/pcpool.h>

#include "compat.h"

/*
 * What every page request is made with unless it asks for a migratetype:
 * the kernel's allocator fails it quietly and early, as pcpool's do.
 */
#define PCPOOL_KERNEL_GFP	(GFP_KERNEL | __GFP_NOWARN | __GFP_NORETRY)

struct dentry;
struct seq_file;
struct page;
struct pcpool_backend;

/* What a backend hands out for one request.  Never shown to userspace. */
union pcpool_obj {
	struct page *page;	/* PCPOOL_BK_PAGES */
	void *cookie;		/* null backend */
	void __percpu *pcpu;	/* PCPOOL_BK_PCPU */
	void *vmem;		/* PCPOOL_BK_VMAP */
};

/* What a backend's objects are; decides cost, sizes and workloads. */
enum pcpool_bk_kind {
	PCPOOL_BK_PAGES,	/* 2^order pages */
	PCPOOL_BK_PCPU,		/* a per-CPU object of 2^order bytes */
	PCPOOL_BK_VMAP,		/* a virtually contiguous area, any pages */
};

/* What a fresh per-CPU object holds, for workloads that use it. */
enum pcpool_contents {
	PCPOOL_CONTENTS_ZERO,		/* zero on every CPU */
	PCPOOL_CONTENTS_UNDEFINED,	/* the last owner's leftovers */
	PCPOOL_CONTENTS_CANCELLING,	/* 64-bit words sum to zero over CPUs */
};

/**
 * struct pcpool_backend_ops - one allocator behind the common commands
 * @name: short name; debugfs directory and "outstanding" key
 * @kind: what the objects are; pages unless set
 * @contents: PCPOOL_BK_PCPU only: the state of a fresh object
 * @max_order: highest order a command may ask for; 0: PCPOOL_MAX_ORDER
 * @init: optional, at module load; sets b->priv; non-zero fails the load
 * @exit: optional, at unload, after every session closed
 * @alloc: one object of @size bytes aligned to @align into *@obj;
 *	0 or -errno.  Process context, may sleep; must not warn on failure.
 *	@gfp is the request's (PCPOOL_KERNEL_GFP, with __GFP_MOVABLE or
 *	__GFP_RECLAIMABLE for those migratetypes): the kernel's allocator
 *	gets it as is, the zone backends take its migratetype, and backends
 *	of other kinds ignore it.
 * @free: free an object @alloc returned, with the same @size and @align.
 *	Any CPU, process context.  Must not allocate memory.
 * @alloc_nowait: optional, as @alloc from any context, hardirq included:
 *	never sleeps and never waits on a lock an interrupted context may
 *	hold, so it may fail where @alloc would not (the in-kernel API's
 *	GFP_ATOMIC path)
 * @free_any: optional, as @free from any context, hardirq included
 * @show_counters: optional, extra "key value" lines for <name>/counters
 * @reset_counters: optional, zero the event counters @show_counters
 *	prints (not its gauges)
 * @debugfs_init: optional, extra files in the backend's directory @dir
 * @counter: optional, PCPOOL_BK_PCPU: the per-CPU counter built on the
 *	backend's objects, for PCPU_COUNTER
 * @frag: optional, zone backends: fill @f's out fields (PCPOOL_IOC_FRAG),
 *	flags already checked.  Process context, may sleep.
 */
struct pcpool_backend_ops {
	const char *name;
	enum pcpool_bk_kind kind;
	enum pcpool_contents contents;
	unsigned int max_order;
	int (*init)(struct pcpool_backend *b);
	void (*exit)(struct pcpool_backend *b);
	int (*alloc)(struct pcpool_backend *b, size_t size, size_t align,
		     gfp_t gfp, union pcpool_obj *obj);
	void (*free)(struct pcpool_backend *b, union pcpool_obj obj,
		     size_t size, size_t align);
	int (*alloc_nowait)(struct pcpool_backend *b, size_t size,
			    size_t align, gfp_t gfp, union pcpool_obj *obj);
	void (*free_any)(struct pcpool_backend *b, union pcpool_obj obj,
			 size_t size, size_t align);
	void (*show_counters)(struct pcpool_backend *b, struct seq_file *m);
	void (*reset_counters)(struct pcpool_backend *b);
	void (*debugfs_init)(struct pcpool_backend *b, struct dentry *dir);
	const struct pcpool_counter_ops *counter;
	void (*frag)(struct pcpool_backend *b, struct pcpool_frag *f);
};

/**
 * struct pcpool_counter_ops - a per-CPU counter a backend offers
 * @size: bytes of one counter, which the caller provides
 * @init: make @ctr a counter at zero; 0 or -errno.  May sleep.
 * @add: add @delta on this CPU.  Preemptible or not, never sleeps.
 * @sum: the exact value
 * @destroy: give everything back; no @add may run concurrently
 */
struct pcpool_counter_ops {
	size_t size;
	int (*init)(struct pcpool_backend *b, void *ctr);
	void (*add)(void *ctr, s64 delta);
	s64 (*sum)(void *ctr);
	void (*destroy)(void *ctr);
};

/* Per-CPU counters of one backend; names in pcpool_ctr_names[]. */
enum pcpool_ctr {
	PCPOOL_CTR_ALLOCS,
	PCPOOL_CTR_FREES,
	PCPOOL_CTR_ALLOC_FAILURES,
	PCPOOL_CTR_PAGES_ALLOCATED,
	PCPOOL_CTR_PAGES_FREED,
	PCPOOL_NR_CTR,
};

struct pcpool_counters {
	u64 c[PCPOOL_NR_CTR];
};

struct pcpool_backend {
	const struct pcpool_backend_ops *ops;
	struct pcpool_counters __percpu *ctr;
	void *priv;		/* the backend's own state */
	unsigned int id;
	unsigned int max_order;	/* @ops->max_order with its default applied */
};

extern const char *const pcpool_ctr_names[PCPOOL_NR_CTR];

/* Backends by id; ids without an entry stay absent. */
int pcpool_backends_init(const struct pcpool_backend_ops *const *table,
			 unsigned int n);
void pcpool_backends_exit(void);
struct pcpool_backend *pcpool_backend_get(u32 id);
u64 pcpool_backends_mask(void);
unsigned int pcpool_backends_max_order(void);
u64 pcpool_backend_sum(const struct pcpool_backend *b, enum pcpool_ctr ctr);
s64 pcpool_backend_outstanding(const struct pcpool_backend *b);
void pcpool_backend_show(struct pcpool_backend *b, struct seq_file *m);

/* Possible CPUs, set when the backends load. */
extern unsigned int pcpool_nr_possible_cpus;

/* Bytes of a request of @order: pages for page kinds, bytes for per-CPU. */
static inline size_t pcpool_order_size(const struct pcpool_backend *b,
				       unsigned int order)
{
	return b->ops->kind == PCPOOL_BK_PCPU ? 1UL << order :
						PAGE_SIZE << order;
}

/*
 * Pages a request costs against a session cap and in the counters: its
 * pages, or for a per-CPU object its class's bytes on every possible CPU.
 */
static inline unsigned long pcpool_obj_pages(const struct pcpool_backend *b,
					     size_t size, size_t align)
{
	if (b->ops->kind == PCPOOL_BK_PCPU)
		return DIV_ROUND_UP(max_t(size_t, roundup_pow_of_two(size),
					  align) * pcpool_nr_possible_cpus,
				    PAGE_SIZE);
	return DIV_ROUND_UP(size, PAGE_SIZE);
}

static inline unsigned long pcpool_order_pages(const struct pcpool_backend *b,
					       unsigned int order)
{
	size_t size = pcpool_order_size(b, order);

	return pcpool_obj_pages(b, size, size);
}

/*
 * Failure injection for tests (debugfs fail_nth): while armed, the N-th
 * allocation from now, by any backend, fails with -ENOMEM.  A static key,
 * so it costs nothing until first used.
 */
DECLARE_STATIC_KEY_FALSE(pcpool_fail_key);
extern atomic_t pcpool_fail_nth;
int pcpool_fail_nth_arm(u64 n);

/*
 * @nowait picks ops->alloc_nowait (the backend has one: any context) over
 * ops->alloc; the counters are this_cpu ops, safe in interrupts too.
 */
static __always_inline int __pcpool_obj_alloc(struct pcpool_backend *b,
					      size_t size, size_t align,
					      gfp_t gfp, union pcpool_obj *obj,
					      bool nowait)
{
	int ret;

	if (static_branch_unlikely(&pcpool_fail_key) &&
	    atomic_dec_if_positive(&pcpool_fail_nth) == 0)
		ret = -ENOMEM;
	else if (nowait)
		ret = b->ops->alloc_nowait(b, size, align, gfp, obj);
	else
		ret = b->ops->alloc(b, size, align, gfp, obj);

	if (likely(!ret)) {
		this_cpu_inc(b->ctr->c[PCPOOL_CTR_ALLOCS]);
		this_cpu_add(b->ctr->c[PCPOOL_CTR_PAGES_ALLOCATED],
			     pcpool_obj_pages(b, size, align));
	} else {
		this_cpu_inc(b->ctr->c[PCPOOL_CTR_ALLOC_FAILURES]);
	}
	return ret;
}

static __always_inline int pcpool_obj_alloc_gfp(struct pcpool_backend *b,
						size_t size, size_t align,
						gfp_t gfp,
						union pcpool_obj *obj)
{
	return __pcpool_obj_alloc(b, size, align, gfp, obj, false);
}

static __always_inline int pcpool_obj_alloc(struct pcpool_backend *b,
					    size_t size, size_t align,
					    union pcpool_obj *obj)
{
	return pcpool_obj_alloc_gfp(b, size, align, PCPOOL_KERNEL_GFP, obj);
}

/* @any picks ops->free_any (the backend has one) over ops->free. */
static __always_inline void __pcpool_obj_free(struct pcpool_backend *b,
					      union pcpool_obj obj,
					      size_t size, size_t align,
					      bool any)
{
	if (any)
		b->ops->free_any(b, obj, size, align);
	else
		b->ops->free(b, obj, size, align);
	this_cpu_inc(b->ctr->c[PCPOOL_CTR_FREES]);
	this_cpu_add(b->ctr->c[PCPOOL_CTR_PAGES_FREED],
		     pcpool_obj_pages(b, size, align));
}

static __always_inline void pcpool_obj_free(struct pcpool_backend *b,
					    union pcpool_obj obj,
					    size_t size, size_t align)
{
	__pcpool_obj_free(b, obj, size, align, false);
}

/* The same for a request of @order. */
static __always_inline int pcpool_order_alloc_gfp(struct pcpool_backend *b,
						  unsigned int order, gfp_t gfp,
						  union pcpool_obj *obj)
{
	size_t size = pcpool_order_size(b, order);

	return pcpool_obj_alloc_gfp(b, size, size, gfp, obj);
}

static __always_inline int pcpool_order_alloc(struct pcpool_backend *b,
					      unsigned int order,
					      union pcpool_obj *obj)
{
	return pcpool_order_alloc_gfp(b, order, PCPOOL_KERNEL_GFP, obj);
}

static __always_inline unsigned long
pcpool_order_free(struct pcpool_backend *b, union pcpool_obj obj,
		  unsigned int order)
{
	size_t size = pcpool_order_size(b, order);

	pcpool_obj_free(b, obj, size, size);
	return pcpool_obj_pages(b, size, size);
}

#endif /* _PCPOOL_BACKEND_H */
