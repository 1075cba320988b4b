/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool: module-internal definitions.
 *
 * Layers, bottom up:
 *  - backends (backend.c): one ops table indexed by enum pcpool_backend_id,
 *    with per-CPU counters kept by the wrappers below, so a backend only
 *    allocates and frees;
 *  - sessions (session.c, chan.c): one per open file; a handle table, the
 *    channels and the memory cap;
 *  - commands: pcpool_cmd() runs one command on an argument struct that is
 *    already in kernel memory.  main.c copies it in and out for ioctl();
 *    any other entry point (io_uring) only has to do the same.
 */
#ifndef PCPOOL_INTERNAL_H
#define PCPOOL_INTERNAL_H

#include <linux/atomic.h>
#include <linux/cache.h>
#include <linux/compiler.h>
#include <linux/jump_label.h>
#include <linux/math.h>
#include <linux/mmzone.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/types.h>

/*
 * Highest page order.  Written for 6.1, where MAX_ORDER is exclusive;
 * 6.8 renamed the inclusive limit MAX_PAGE_ORDER.  (On 6.4..6.7 this is
 * one order short of the real limit, which is safe.)
 */
#ifdef MAX_PAGE_ORDER
#define PCPOOL_MAX_ORDER	MAX_PAGE_ORDER
#else
#define PCPOOL_MAX_ORDER	(MAX_ORDER - 1)
#endif

#include <linux/pcpool.h>

struct seq_file;
struct page;

/*
 * What a backend hands out for one block.  Never shown to userspace.
 * Which member is live depends on the backend kind.
 */
union pcpool_obj {
	struct page *page;	/* page backends */
	void *cookie;		/* null backend */
	void __percpu *pcpu;	/* per-CPU object backends */
	void *vmem;		/* vmalloc backend */
};

/**
 * struct pcpool_backend_ops - one allocator behind the common commands
 * @name: short name; debugfs directory and "outstanding" key
 * @max_order: highest order @alloc accepts
 * @init: optional, called once at module load; non-zero fails the load
 * @exit: optional, called once at module unload, after every session closed
 * @alloc: allocate one block of 2^@order pages into *@obj; 0 or -errno.
 *	Process context, may sleep.  Must not warn on failure.
 * @free: free a block @alloc returned, with the same @order.  Any CPU,
 *	process context.  Must not allocate memory.
 * @show_counters: optional, extra "key value" lines for <name>/counters
 * @reset_counters: optional, zero the event counters @show_counters
 *	prints (not its gauges); any process context
 * @pcpu: blocks are per-CPU objects of 2^@order bytes, not pages
 *	(pcpu_backend.c); see pcpool_obj_pages()
 *
 * Accounting (counters, charging) is done by the callers, so a backend
 * only allocates and frees.
 */
struct pcpool_backend_ops {
	const char *name;
	unsigned int max_order;
	bool pcpu;
	int (*init)(void);
	void (*exit)(void);
	int (*alloc)(unsigned int order, union pcpool_obj *obj);
	void (*free)(union pcpool_obj obj, unsigned int order);
	void (*show_counters)(struct seq_file *m);
	void (*reset_counters)(void);
};

/* Per-CPU counters of one backend; index names in pcpool_ctr_names[]. */
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
	unsigned int id;
};

extern const char *const pcpool_ctr_names[PCPOOL_NR_CTR];

int pcpool_backends_init(void);
void pcpool_backends_exit(void);
struct pcpool_backend *pcpool_backend_get(u32 id);
u64 pcpool_backends_mask(void);
unsigned int pcpool_backends_max_order(void);
u64 pcpool_backend_sum(const struct pcpool_backend *b, enum pcpool_ctr ctr);
s64 pcpool_backend_outstanding(const struct pcpool_backend *b);

/* Pages a block of @order costs against the session cap and counters. */
static inline unsigned long pcpool_block_pages(unsigned int order)
{
	return 1UL << order;
}

/* Possible CPUs, set when the per-CPU backends load. */
extern unsigned int pcpool_nr_possible_cpus;

/*
 * Pages a block of @b costs: 2^@order for page backends; for per-CPU
 * backends, the 2^@order-byte object on every possible CPU, rounded up.
 */
static inline unsigned long pcpool_obj_pages(const struct pcpool_backend *b,
					     unsigned int order)
{
	if (b->ops->pcpu)
		return DIV_ROUND_UP((1UL << order) * pcpool_nr_possible_cpus,
				    PAGE_SIZE);
	return pcpool_block_pages(order);
}

/*
 * Failure injection for tests (debugfs fail_nth): while armed, the N-th
 * allocation from now, by any backend, fails with -ENOMEM.  A static key,
 * so it costs nothing until first used.
 */
DECLARE_STATIC_KEY_FALSE(pcpool_fail_key);
extern atomic_t pcpool_fail_nth;

static __always_inline int pcpool_obj_alloc(struct pcpool_backend *b,
					    unsigned int order,
					    union pcpool_obj *obj)
{
	int ret;

	if (static_branch_unlikely(&pcpool_fail_key) &&
	    atomic_dec_if_positive(&pcpool_fail_nth) == 0)
		ret = -ENOMEM;
	else
		ret = b->ops->alloc(order, obj);

	if (likely(!ret)) {
		this_cpu_inc(b->ctr->c[PCPOOL_CTR_ALLOCS]);
		this_cpu_add(b->ctr->c[PCPOOL_CTR_PAGES_ALLOCATED],
			     pcpool_obj_pages(b, order));
	} else {
		this_cpu_inc(b->ctr->c[PCPOOL_CTR_ALLOC_FAILURES]);
	}
	return ret;
}

static __always_inline void pcpool_obj_free(struct pcpool_backend *b,
					    union pcpool_obj obj,
					    unsigned int order)
{
	b->ops->free(obj, order);
	this_cpu_inc(b->ctr->c[PCPOOL_CTR_FREES]);
	this_cpu_add(b->ctr->c[PCPOOL_CTR_PAGES_FREED],
		     pcpool_obj_pages(b, order));
}

/* One handle-table slot; a handle is (gen << 32) | (index + 1). */
struct pcpool_slot {
	union {
		union pcpool_obj obj;	/* in use */
		u32 next_free;		/* free: next free index or SLOT_NONE */
	};
	u32 gen;			/* bumped on free: stale handles miss */
	u8 backend;
	u8 order;
	bool used;
};

/* One block waiting in a channel. */
struct pcpool_chan_entry {
	union pcpool_obj obj;
	u8 backend;
	u8 order;
};

/*
 * A bounded FIFO.  Its own lock, so the producer and the consumer of a
 * cross-CPU run meet only here, never on the session mutex.
 */
struct pcpool_channel {
	spinlock_t lock;		/* everything below but @ring's setup */
	struct pcpool_chan_entry *ring;	/* NULL until the first CHAN_ALLOC */
	unsigned int cap;
	unsigned int head;		/* oldest entry */
	unsigned int fill;		/* entries in the ring */
} ____cacheline_aligned_in_smp;

struct pcpool_session {
	struct mutex lock;		/* the handle table below */
	struct pcpool_slot *slots;
	u32 nr_slots;
	u32 free_head;
	unsigned long nr_handles;	/* written under @lock */

	atomic_long_t pages;		/* charged: handles, channels, RUNs */
	unsigned long max_pages;	/* session_max_pages at open */

	struct pcpool_channel chan[PCPOOL_NR_CHANNELS];
};

/* Module parameters, read when a session opens / a ring is created. */
unsigned long pcpool_session_cap(void);
unsigned int pcpool_chan_capacity(void);
extern atomic_t pcpool_nr_sessions;

struct pcpool_session *pcpool_session_create(void);
void pcpool_session_destroy(struct pcpool_session *s);
int pcpool_charge(struct pcpool_session *s, unsigned long pages);
void pcpool_uncharge(struct pcpool_session *s, unsigned long pages);
int pcpool_yield(void);

void pcpool_chan_init(struct pcpool_channel *ch);
unsigned long pcpool_chan_release(struct pcpool_channel *ch);
unsigned long pcpool_chan_blocks(struct pcpool_session *s);

/* Command argument, in kernel memory. */
union pcpool_cmd_arg {
	struct {
		__u32 size;
	} hdr;
	struct pcpool_version version;
	struct pcpool_alloc alloc;
	struct pcpool_free free;
	struct pcpool_run run;
	struct pcpool_chan chan;
	struct pcpool_stats stats;
};

/**
 * struct pcpool_cmd_desc - how to marshal one command
 * @size: the struct's size as this module knows it
 * @size_ver0: smallest size a caller may pass
 * @fn: the command body; @arg is in kernel memory, already size-checked
 */
struct pcpool_cmd_desc {
	unsigned int size;
	unsigned int size_ver0;
	int (*fn)(struct pcpool_session *s, void *arg);
};

const struct pcpool_cmd_desc *pcpool_cmd_lookup(unsigned int cmd);
int pcpool_cmd(struct pcpool_session *s, unsigned int nr, void *arg);

int pcpool_cmd_alloc(struct pcpool_session *s, void *arg);
int pcpool_cmd_free(struct pcpool_session *s, void *arg);
int pcpool_cmd_run(struct pcpool_session *s, void *arg);
int pcpool_cmd_chan(struct pcpool_session *s, void *arg);

void pcpool_debugfs_init(void);
void pcpool_debugfs_exit(void);

/* The zone + classic PCP model (backend_classic.c, core/). */
extern const struct pcpool_backend_ops pcpool_classic_ops;
extern const struct pcpool_backend_ops pcpool_pcpbuddy_ops;

/* Per-CPU memory backends and their workloads (pcpu_backend.c). */
extern const struct pcpool_backend_ops pcpool_pcpu_kernel_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_raw_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_zeroed_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_constructed_ops;
bool pcpool_pcpu_workload(u32 workload);
int pcpool_pcpu_cmd_run(struct pcpool_session *s, struct pcpool_backend *b,
			struct pcpool_run *r);
int pcpool_pcpu_register(void);
void pcpool_pcpu_unregister(void);

/*
 * Copy a command's struct in from @uarg, run it, copy it back: the one
 * body behind ioctl() and io_uring (main.c).  @want_size, when not 0, is
 * what the struct's size field must be (io_uring passes it alongside).
 */
long pcpool_cmd_user(struct pcpool_session *s,
		     const struct pcpool_cmd_desc *d, unsigned int cmd,
		     void __user *uarg, u32 want_size);

/* io_uring commands on /dev/pcpool (uring.c). */
struct io_uring_cmd;
int pcpool_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);

/*
 * RUN beyond plain REPEAT and BULK (workload.c): latency histograms,
 * BUSY, CHURN and the vmalloc workloads.  session.c hands a RUN over once
 * backend and workload ids are known to exist.
 */
static inline bool pcpool_wl_ext(const struct pcpool_run *r)
{
	return r->flags || r->hist || r->seed ||
	       (r->workload >= PCPOOL_WL_BUSY &&
		r->workload <= PCPOOL_WL_VM_LONG_BUSY);
}

int pcpool_wl_cmd_run(struct pcpool_session *s, struct pcpool_backend *b,
		      struct pcpool_run *r);

/* Per-operation timing of one RUN, when PCPOOL_RUN_HIST asks for it. */
struct pcpool_lat {
	struct pcpool_hist *h;	/* kernel copy, written out at the end */
	u32 mask;		/* time an event when (count & mask) == 0 */
	u32 nalloc;
	u32 nfree;
};

void pcpool_lat_record(u64 *buckets, u64 *sum, u64 *max, u64 ns);

/* Time this allocation?  Always false without a histogram. */
static __always_inline bool pcpool_lat_alloc_due(struct pcpool_lat *lat)
{
	return lat && !(lat->nalloc++ & lat->mask);
}

static __always_inline bool pcpool_lat_free_due(struct pcpool_lat *lat)
{
	return lat && !(lat->nfree++ & lat->mask);
}

static inline void pcpool_lat_alloc(struct pcpool_lat *lat, u64 ns)
{
	pcpool_lat_record(lat->h->alloc, &lat->h->alloc_sum_ns,
			  &lat->h->alloc_max_ns, ns);
}

static inline void pcpool_lat_free(struct pcpool_lat *lat, u64 ns)
{
	pcpool_lat_record(lat->h->free, &lat->h->free_sum_ns,
			  &lat->h->free_max_ns, ns);
}

/* The vmalloc reference backend and its workloads (vmalloc_backend.c). */
extern const struct pcpool_backend_ops pcpool_vmalloc_ops;
int pcpool_vmalloc_cmd_run(struct pcpool_session *s, struct pcpool_backend *b,
			   struct pcpool_run *r, struct pcpool_lat *lat);

#endif /* PCPOOL_INTERNAL_H */
