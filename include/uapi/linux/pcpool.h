/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pcpool: per-CPU allocator test bed, userspace ABI.
 *
 * One header shared by the kernel module (kmod/) and the harness
 * (userspace/), both reaching it with -I include/uapi. Plain C, only
 * <linux/types.h> and <linux/ioctl.h>.
 *
 * Rules every command follows (see Documentation/abi.rst):
 *  - each struct starts with "__u32 size" (in) set by the caller to
 *    sizeof(struct) as it knows it.  The kernel reads it with
 *    copy_struct_from_user(): a smaller, known size is zero-extended, a
 *    larger one is accepted only when the unknown tail is zero (else
 *    -E2BIG).  A size below the _SIZE_VER0 constant is -EINVAL.
 *  - unknown flag bits, non-zero reserved fields: -EINVAL.
 *  - unknown backend or workload id: -ENOENT.
 *  - bad user pointer: -EFAULT.  Unknown command: -ENOTTY.
 *  - out fields are written back even when a command fails part way,
 *    as far as the struct says (e.g. pcpool_free.freed).
 *  - allocations are named by opaque 64-bit handles, never by kernel
 *    addresses.  Handle 0 is never valid.
 */
#ifndef _UAPI_LINUX_PCPOOL_H
#define _UAPI_LINUX_PCPOOL_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define PCPOOL_ABI_VERSION	1
#define PCPOOL_DEVICE_NAME	"pcpool"

/*
 * Backends.  Ids are stable; a module lists what it implements in
 * pcpool_version.backends (bit 1 << id).
 */
enum pcpool_backend_id {
	PCPOOL_BACKEND_KERNEL	= 0,	/* alloc_pages()/__free_pages() */
	PCPOOL_BACKEND_NULL	= 1,	/* bookkeeping only: the harness floor */
	PCPOOL_BACKEND_CLASSIC	= 2,	/* zone + model of the kernel's PCP */
	PCPOOL_BACKEND_PCPBUDDY	= 3,	/* zone + owned-pageblock PCP */
	PCPOOL_BACKEND_VMALLOC	= 4,	/* vmalloc()/vfree() of 2^order pages */
	PCPOOL_BACKEND_VMAP_GLOBAL	= 5,	/* 6.1's global VA allocator */
	PCPOOL_BACKEND_VMAP_NODES	= 6,	/* per-CPU vmap nodes (Rezki) */
	/*
	 * Per-CPU memory backends (ids 4..7 are left for page backends).
	 * Their blocks are per-CPU objects, not pages: "order" is log2 of
	 * the object size in bytes, 0..page_shift-1, the object aligned to
	 * its size.  An object counts as ceil(size * possible CPUs /
	 * page size) pages against the session cap and in the counters.
	 */
	PCPOOL_BACKEND_PCPU_KERNEL	= 8,	/* __alloc_percpu_gfp()/free_percpu() */
	PCPOOL_BACKEND_PCPU_RAW		= 9,	/* cache, contents undefined */
	PCPOOL_BACKEND_PCPU_ZEROED	= 10,	/* cache, zero on every CPU */
	PCPOOL_BACKEND_PCPU_CONSTRUCTED	= 11,	/* cache, parts sum to zero */
	PCPOOL_BACKEND_PCPU_NULL	= 12,	/* no allocator: the per-CPU floor */
	PCPOOL_NR_BACKENDS_MAX	= 32,
};

/* In-kernel workloads for PCPOOL_IOC_RUN. */
enum pcpool_workload_id {
	PCPOOL_WL_REPEAT	= 0,	/* alloc one, free it; ops = pairs */
	PCPOOL_WL_BULK		= 1,	/* alloc batch, free batch; ops = pairs */
	/*
	 * Per-CPU backends only (page backends: -EINVAL); order must be 0.
	 * PCPU_LIFECYCLE: ops = "processes", each allocates an 8-byte and a
	 *   32-byte (4 x s64) object, updates them on @batch CPUs (this one
	 *   and the next possible ones), sums them over every possible CPU
	 *   and frees them; @batch 1..number of possible CPUs.  @seed
	 *   LIFECYCLE_COUNTERS: mm_struct's shape instead, four rss counters
	 *   (the backend's counter, as PCPU_COUNTER's) and a 16-byte mm_cid
	 *   region, used from this CPU and the next online ones (@batch at
	 *   most the online CPUs; not pcpu-constructed); @ns leaves out the
	 *   trips to the other CPUs.  A wrong sum: -EIO.
	 * PCPU_SIZES: lib/test_vmalloc.c's pcpu test: rounds of @batch
	 *   objects of size 1..page_size/4, alignment 2..2048 (a fixed
	 *   pseudo-random sequence, the same for every backend), all
	 *   allocated then all freed; ops = objects, @batch 1..max_batch.
	 *   @seed picks the sizes: SIZES_UNIFORM (that), or SIZES_REAL: the
	 *   guest kernel's own alloc_percpu() requests under load, in their
	 *   proportions (traces/percpu-sizes-smp2.txt); else -EINVAL.
	 */
	PCPOOL_WL_PCPU_LIFECYCLE = 2,
	PCPOOL_WL_PCPU_SIZES	= 3,
	/*
	 * BUSY: a live set of @batch blocks is allocated first (untimed), then
	 *   @ops times a random one of them is freed and allocated again;
	 *   ops = pairs.  @seed picks the slots.
	 * CHURN: allocate up to the set-point @batch (untimed), then bursts:
	 *   a target drawn in set-point +- set-point/2 (@seed), allocate up
	 *   to it or free random blocks down to it.  -ENOMEM from the backend
	 *   frees half the live blocks and goes on (counted in @backoffs).
	 *   ops = blocks allocated in bursts; the final drain is untimed.
	 * VMALLOC backend only, order 0, after lib/test_vmalloc.c:
	 * VM_RANDOM: random_size_alloc_test: vmalloc 1..100 pages (@seed),
	 *   write a byte, vfree; @batch 0; ops = pairs.
	 * VM_LONG_BUSY: long_busy_list_alloc_test: hold @batch 1-page areas
	 *   (untimed), then @ops times vmalloc 100 pages and 1 page, write
	 *   a byte to each, vfree both; ops = iterations.
	 * VM_FIX_SIZE: fix_size_alloc_test: vmalloc 2^order pages, write a
	 *   byte, vfree; @batch 0; ops = pairs.
	 * VM_FULL_FIT: full_fit_alloc_test: fls(online CPUs) * 32 MiB of
	 *   1-page areas in pairs, every second one freed (untimed), then
	 *   @ops times vmalloc 1 page, write a byte, vfree; @batch 0.
	 * VM_FIX_ALIGN: fix_align_alloc_test: 5 pages aligned to
	 *   THREAD_ALIGN << 1 (the vmalloc backend cannot ask for alignment:
	 *   __vmalloc_node() is not exported), zeroed, vfree; @batch 0.
	 * The VM_* workloads run on every VMAP-kind backend: vmalloc,
	 * vmap-global, vmap-nodes.
	 */
	PCPOOL_WL_BUSY		= 4,
	PCPOOL_WL_CHURN		= 5,
	PCPOOL_WL_VM_RANDOM	= 6,
	PCPOOL_WL_VM_LONG_BUSY	= 7,
	PCPOOL_WL_VM_FIX_SIZE	= 8,
	PCPOOL_WL_VM_FULL_FIT	= 9,
	PCPOOL_WL_VM_FIX_ALIGN	= 10,
	/*
	 * PCPU_COUNTER: per-CPU backends except pcpu-constructed, order 0.
	 *   ops = "processes", one after another: each creates a counter
	 *   (pcpu-kernel: the kernel's percpu_counter; the caches: pcpool's
	 *   dual-mode counter on their 8-byte objects), makes @batch updates
	 *   (1..max_batch) on this CPU, reads the exact sum and destroys it.
	 *   @seed is the share of processes, per mille (0..COUNTER_SHARE_MAX,
	 *   spread evenly), whose middle half of updates runs on the next
	 *   online CPU; @ns leaves out the trips there.  A wrong sum: -EIO.
	 *   (@seed is a PRNG seed for BUSY, CHURN and VM_*, PCPU_SIZES's
	 *   mix; else 0.)
	 */
	PCPOOL_WL_PCPU_COUNTER	= 11,
	PCPOOL_NR_WORKLOADS,
};

/* PCPU_LIFECYCLE's @seed: the shape of a process. */
#define PCPOOL_LIFECYCLE_WORDS		0U
#define PCPOOL_LIFECYCLE_COUNTERS	1U

/* PCPU_SIZES's @seed: which sizes. */
#define PCPOOL_SIZES_UNIFORM		0U
#define PCPOOL_SIZES_REAL		1U

/* PCPU_COUNTER's @seed: processes per this many that use a second CPU. */
#define PCPOOL_COUNTER_SHARE_MAX	1000U

/* Hard limits; the module may report lower ones in pcpool_version. */
#define PCPOOL_MAX_BATCH	65536U		/* handles per ALLOC/FREE/CHAN call */
#define PCPOOL_MAX_RUN_OPS	(1ULL << 32)	/* ops per RUN call */
#define PCPOOL_NR_CHANNELS	16U		/* channels per session */

/*
 * PCPOOL_IOC_VERSION: ABI handshake and limits.  Call first.
 */
struct pcpool_version {
	__u32 size;		/* in: sizeof(struct pcpool_version) */
	__u32 abi_version;	/* out: PCPOOL_ABI_VERSION */
	__u64 backends;		/* out: bit (1 << id) per backend present */
	__u32 max_order;	/* out: highest order accepted by page backends */
	__u32 page_shift;	/* out: PAGE_SHIFT of the running kernel */
	__u32 max_batch;	/* out: handles per ALLOC/FREE/CHAN call */
	__u32 nr_channels;	/* out: channels per session */
	__u64 session_max_pages;/* out: per-session cap, in pages */
	__u32 block_order;	/* out: the kernel's pageblock_order */
	__u32 nr_cpu_ids;	/* out: nr_cpu_ids of the kernel */
	__u64 resv[4];		/* out: zero */
};

#define PCPOOL_VERSION_SIZE_VER0	80

/*
 * PCPOOL_IOC_ALLOC: allocate @count blocks of 2^@order pages from
 * @backend, write their handles to the __u64 array at @handles.
 * All or nothing: on failure nothing stays allocated (-ENOMEM when the
 * backend or the session cap says no).
 */
struct pcpool_alloc {
	__u32 size;		/* in */
	__u32 backend;		/* in: enum pcpool_backend_id */
	__u32 order;		/* in: 0..max_order */
	__u32 flags;		/* in: 0 or one PCPOOL_ALLOC_ migratetype */
	__u64 count;		/* in: 1..max_batch */
	__u64 handles;		/* in: user pointer to __u64[count] (out) */
	__u64 ns;		/* out: in-kernel time of the allocation loop */
	__u32 cpu;		/* out: CPU the call started on */
	__u32 resv;		/* in: must be 0 */
};

#define PCPOOL_ALLOC_SIZE_VER0		48

/*
 * pcpool_alloc.flags: the request's migratetype, as __GFP_MOVABLE and
 * __GFP_RECLAIMABLE give it (neither: unmovable, GFP_KERNEL's).  Both at
 * once: -EINVAL.  Backends without migratetypes ignore it.
 */
#define PCPOOL_ALLOC_MOVABLE		0x1U
#define PCPOOL_ALLOC_RECLAIMABLE	0x2U

/*
 * PCPOOL_IOC_FREE: free the handles in the __u64 array at @handles.
 * Every handle is tried.  A bad, stale or repeated handle gets -ENOENT in
 * its @status slot and changes nothing else.  The call returns 0 when all
 * were freed, -ENOENT when any was not (@freed and @status say which).
 */
struct pcpool_free {
	__u32 size;		/* in */
	__u32 flags;		/* in: must be 0 */
	__u64 count;		/* in: 1..max_batch */
	__u64 handles;		/* in: user pointer to __u64[count] */
	__u64 status;		/* in: user pointer to __s32[count] (out), or 0 */
	__u64 freed;		/* out: handles freed */
	__u64 ns;		/* out: in-kernel time of the free loop */
	__u32 cpu;		/* out: CPU the call started on */
	__u32 resv;		/* in: must be 0 */
};

#define PCPOOL_FREE_SIZE_VER0		56

/*
 * PCPOOL_IOC_RUN: run @workload for @ops operations on the calling CPU,
 * the loop inside the kernel and timed there with ktime_get_ns(), so the
 * syscall is not what is measured.  Nothing stays allocated afterwards.
 * A fatal signal stops the loop (-EINTR), everything is freed.
 */
struct pcpool_run {
	__u32 size;		/* in */
	__u32 backend;		/* in: enum pcpool_backend_id */
	__u32 workload;		/* in: enum pcpool_workload_id */
	__u32 order;		/* in: 0..max_order */
	__u64 ops;		/* in: 1..PCPOOL_MAX_RUN_OPS */
	/*
	 * in, by workload.  REPEAT, VM_RANDOM: 0.  1..PCPOOL_MAX_BATCH for
	 * BULK (blocks per round), BUSY (the live set), CHURN (the
	 * set-point), VM_LONG_BUSY (1-page areas held) and PCPU_SIZES
	 * (objects per round).  PCPU_LIFECYCLE: CPUs the objects are
	 * updated on, 1..the number of possible CPUs.  Else -EINVAL.
	 */
	__u32 batch;
	/*
	 * in: 0, or PCPOOL_RUN_HIST for REPEAT, BULK, BUSY, CHURN, VM_RANDOM
	 * and VM_LONG_BUSY, which then needs @hist (so 0 for a VER0 caller,
	 * which has no @hist).  The per-CPU workloads take 0.  Other bits
	 * and a mismatch with @hist: -EINVAL.
	 */
	__u32 flags;
	__u64 ns;		/* out: in-kernel time of the loop */
	__u64 done;		/* out: ops completed */
	__u32 cpu;		/* out: CPU the loop started on */
	__u32 cpu_end;		/* out: CPU the loop ended on */
	__u64 resv[2];		/* in: must be 0 */
	/* PCPOOL_RUN_SIZE_VER1 */
	__u64 hist;		/* in: pcpool_hist pointer iff RUN_HIST, else 0 */
	__u64 seed;		/* in: PRNG seed, or PCPU_COUNTER's share */
	__u64 alloc_ns;		/* out: BULK, CHURN: time in allocation phases */
	__u64 free_ns;		/* out: BULK, CHURN: time in free phases */
	__u64 backoffs;		/* out: CHURN: -ENOMEM back-offs */
	/*
	 * in: pcpool_frag pointer iff PCPOOL_RUN_FRAG, else 0 (was resv1).
	 * BUSY and CHURN on a zone backend fill it with the live set still
	 * held, just before the untimed final drain, as PCPOOL_IOC_FRAG
	 * would (its flags honoured); other workloads and backends: -EINVAL.
	 */
	__u64 frag;
};

#define PCPOOL_RUN_SIZE_VER0		72
#define PCPOOL_RUN_SIZE_VER1		120

/* pcpool_run.flags */
#define PCPOOL_RUN_HIST		0x1U	/* fill *hist: per-op latencies */
#define PCPOOL_RUN_FRAG		0x2U	/* fill *frag before the final drain */
/*
 * Page workloads on page backends: allocations cycle through the
 * migratetypes, unmovable, movable, movable, reclaimable (as the
 * PCPOOL_ALLOC_ flags ask for them), so frees mix the types too.
 */
#define PCPOOL_RUN_MT_MIX	0x4U
#define PCPOOL_RUN_FLAGS \
	(PCPOOL_RUN_HIST | PCPOOL_RUN_FRAG | PCPOOL_RUN_MT_MIX)

/*
 * Latency histogram of one PCPOOL_IOC_RUN call (PCPOOL_RUN_HIST).  Every
 * 2^@shift-th allocation and every 2^@shift-th free is timed on its own
 * with ktime_get_ns() and counted in a log-linear bucket of nanoseconds:
 * values below 2^SUB_BITS have a bucket each; above, each power of two
 * [2^e, 2^(e+1)) is cut into 2^SUB_BITS equal buckets:
 *   bucket(v) = v                                   v < 8
 *             = (e - 2) * 8 + (v >> (e - 3)) - 8    e = floor(log2 v) < 40
 *             = PCPOOL_HIST_BUCKETS - 1             v >= 2^40
 * so a bucket is at most 1/8 of its lower bound wide.  The kernel zeroes
 * the out fields at the start of every call: a harness merges calls by
 * adding buckets.  Each timed allocation or free costs two extra clock
 * reads, inside the RUN's @ns; runs without PCPOOL_RUN_HIST pay nothing.
 */
#define PCPOOL_HIST_SUB_BITS	3
#define PCPOOL_HIST_MAX_BITS	40
#define PCPOOL_HIST_BUCKETS \
	((PCPOOL_HIST_MAX_BITS - PCPOOL_HIST_SUB_BITS + 1) << PCPOOL_HIST_SUB_BITS)
#define PCPOOL_HIST_MAX_SHIFT	16

struct pcpool_hist {
	__u32 size;		/* in: PCPOOL_HIST_SIZE_VER0 exactly */
	__u32 shift;		/* in: time one op in 2^shift, 0..MAX_SHIFT */
	__u64 alloc_sum_ns;	/* out: sum of the timed allocations */
	__u64 free_sum_ns;	/* out: sum of the timed frees */
	__u64 alloc_max_ns;	/* out: slowest timed allocation */
	__u64 free_max_ns;	/* out: slowest timed free */
	__u64 alloc[PCPOOL_HIST_BUCKETS];	/* out: timed allocations */
	__u64 free[PCPOOL_HIST_BUCKETS];	/* out: timed frees */
};

#define PCPOOL_HIST_SIZE_VER0		(40 + 16 * PCPOOL_HIST_BUCKETS)

/*
 * PCPOOL_IOC_CHAN: kernel-side channels for cross-CPU patterns.  A
 * channel is a bounded FIFO of allocations owned by the session; one
 * pinned thread fills it, another drains it, and no handle travels
 * through userspace.  Allocations still in a channel are freed on close.
 *
 * PCPOOL_CHAN_ALLOC: allocate up to @count blocks and push them; stops
 *   early when the channel is full.  @done = number pushed.
 * PCPOOL_CHAN_FREE: pop up to @count blocks and free them on this CPU;
 *   stops early when the channel is empty.  @done = number freed.
 * Neither blocks: @done < @count with a 0 return means full / empty.
 * @backend and @order apply to CHAN_ALLOC; CHAN_FREE frees each block
 * with the backend and order it was allocated with, and requires both
 * to be 0.
 */
enum pcpool_chan_op {
	PCPOOL_CHAN_ALLOC	= 0,
	PCPOOL_CHAN_FREE	= 1,
};

struct pcpool_chan {
	__u32 size;		/* in */
	__u32 op;		/* in: enum pcpool_chan_op */
	__u32 chan;		/* in: 0..nr_channels-1 */
	__u32 backend;		/* in: CHAN_ALLOC only */
	__u32 order;		/* in: CHAN_ALLOC only */
	__u32 flags;		/* in: must be 0 */
	__u64 count;		/* in: 1..max_batch */
	__u64 done;		/* out: blocks pushed or freed */
	__u64 ns;		/* out: in-kernel time */
	__u32 cpu;		/* out: CPU the call started on */
	__u32 fill;		/* out: blocks in the channel afterwards */
	__u64 resv[2];		/* in: must be 0 */
};

#define PCPOOL_CHAN_SIZE_VER0		72

/*
 * PCPOOL_IOC_STATS: this session's and the module's accounting.
 */
struct pcpool_stats {
	__u32 size;		/* in */
	__u32 backend;		/* in: enum pcpool_backend_id */
	__u64 session_pages;	/* out: pages this session holds, all backends */
	__u64 session_handles;	/* out: live handles in this session */
	__u64 session_chan_blocks; /* out: blocks sitting in this session's channels */
	__u64 allocs;		/* out: backend, all sessions, since load */
	__u64 frees;		/* out: backend, all sessions, since load */
	__u64 alloc_failures;	/* out: backend, all sessions, since load */
	__u64 outstanding_pages;/* out: backend, all sessions, now */
	__u32 max_order;	/* out: highest order this backend accepts */
	__u32 kind;		/* out: enum pcpool_backend_kind */
	__u64 resv[3];		/* out: zero */
};

#define PCPOOL_STATS_SIZE_VER0		96

/*
 * PCPOOL_IOC_FRAG: fragmentation of a zone backend's private zone
 * (classic, pcpbuddy; others: -EOPNOTSUPP), counted under its zone lock
 * as the zone's buddy free lists see it.  Pages a per-CPU layer keeps
 * (classic's PCP lists, pcpbuddy's pools and front caches) are free to a
 * user but not in those lists: a view counts them as allocated and gives
 * their number in @cached_pages.  PCPOOL_FRAG_DRAIN then empties every
 * per-CPU list and pool into the zone (as drain_all_pages() would) and
 * fills @drained, where they are in the free lists and merged.  The drain
 * changes the backend's state; it does not free anything a user holds.
 */
#define PCPOOL_FRAG_ORDERS	16	/* nr_free[] slots; unused ones 0 */

struct pcpool_frag_view {
	__u64 blocks_held;	/* pageblocks the zone holds */
	__u64 free_blocks;	/* ... every page of it in the free lists */
	__u64 partial_blocks;	/* ... some pages in the free lists, some not */
	__u64 used_blocks;	/* ... no page in the free lists */
	__u64 owned_blocks;	/* ... owned by a CPU's pool (pcpbuddy) */
	__u64 free_pages;	/* pages in the zone free lists */
	__u64 cached_pages;	/* pages free in per-CPU lists and pools */
	__s32 largest_order;	/* highest order with a free chunk, -1: none */
	__u32 resv;		/* out: zero */
	__u64 nr_free[PCPOOL_FRAG_ORDERS];	/* free chunks by order */
};

struct pcpool_frag {
	__u32 size;		/* in */
	__u32 backend;		/* in: enum pcpool_backend_id */
	__u32 flags;		/* in: 0 or PCPOOL_FRAG_DRAIN */
	__u32 block_order;	/* out: the zone's pageblock order */
	struct pcpool_frag_view zone;	 /* out: as found */
	struct pcpool_frag_view drained; /* out: FRAG_DRAIN: after it; else 0 */
	__u64 resv[2];		/* in: must be 0 */
};

#define PCPOOL_FRAG_SIZE_VER0		416

/* pcpool_frag.flags */
#define PCPOOL_FRAG_DRAIN	0x1U
#define PCPOOL_FRAG_FLAGS	PCPOOL_FRAG_DRAIN

/* What a backend's blocks are; pcpool_stats.kind. */
enum pcpool_backend_kind {
	PCPOOL_KIND_PAGES	= 0,	/* 2^order pages */
	PCPOOL_KIND_PCPU	= 1,	/* per-CPU objects of 2^order bytes */
};

/*
 * io_uring: IORING_OP_URING_CMD on an open /dev/pcpool with sqe->cmd_op
 * set to one of the PCPOOL_IOC_* numbers below and this struct in the
 * SQE's 16-byte command area (sqe->cmd; no IORING_SETUP_SQE128 needed).
 * It points at the same argument struct ioctl() takes; the command runs
 * inline on the submitting CPU and the CQE's res is what ioctl() would
 * have returned (0 or -errno).  Unknown cmd_op: -EOPNOTSUPP.
 */
struct pcpool_uring_cmd {
	__u64 arg;		/* in: user pointer to the command's struct */
	__u32 size;		/* in: equal to that struct's size field */
	__u32 flags;		/* in: must be 0 */
};

#define PCPOOL_URING_CMD_SIZE		16

#define PCPOOL_IOC_MAGIC	0xBC	/* free in ioctl-number.rst as of 6.1 */

#define PCPOOL_IOC_VERSION	_IOWR(PCPOOL_IOC_MAGIC, 0x00, struct pcpool_version)
#define PCPOOL_IOC_ALLOC	_IOWR(PCPOOL_IOC_MAGIC, 0x01, struct pcpool_alloc)
#define PCPOOL_IOC_FREE		_IOWR(PCPOOL_IOC_MAGIC, 0x02, struct pcpool_free)
#define PCPOOL_IOC_RUN		_IOWR(PCPOOL_IOC_MAGIC, 0x03, struct pcpool_run)
#define PCPOOL_IOC_CHAN		_IOWR(PCPOOL_IOC_MAGIC, 0x04, struct pcpool_chan)
#define PCPOOL_IOC_STATS	_IOWR(PCPOOL_IOC_MAGIC, 0x05, struct pcpool_stats)
#define PCPOOL_IOC_FRAG		_IOWR(PCPOOL_IOC_MAGIC, 0x06, struct pcpool_frag)

#endif /* _UAPI_LINUX_PCPOOL_H */
