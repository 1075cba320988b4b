// SPDX-License-Identifier: GPL-2.0
/*
 * The uapi header compiled as C11 with -Wpedantic.  The layout is checked
 * at compile time here and exported so the C++ test can compare both
 * languages.
 */
#include <linux/pcpool.h>
#include <stddef.h>

_Static_assert(sizeof(struct pcpool_version) == PCPOOL_VERSION_SIZE_VER0, "version");
_Static_assert(sizeof(struct pcpool_alloc) == PCPOOL_ALLOC_SIZE_VER0, "alloc");
_Static_assert(sizeof(struct pcpool_free) == PCPOOL_FREE_SIZE_VER0, "free");
_Static_assert(sizeof(struct pcpool_run) == PCPOOL_RUN_SIZE_VER1, "run");
_Static_assert(sizeof(struct pcpool_hist) == PCPOOL_HIST_SIZE_VER0, "hist");
_Static_assert(sizeof(struct pcpool_uring_cmd) == PCPOOL_URING_CMD_SIZE, "uring_cmd");
_Static_assert(sizeof(struct pcpool_chan) == PCPOOL_CHAN_SIZE_VER0, "chan");
_Static_assert(sizeof(struct pcpool_stats) == PCPOOL_STATS_SIZE_VER0, "stats");

/* Order: version, alloc, free, run, chan, stats. */
const size_t pcpool_uapi_c_sizeof[6] = {
    sizeof(struct pcpool_version), sizeof(struct pcpool_alloc), sizeof(struct pcpool_free),
    sizeof(struct pcpool_run),     sizeof(struct pcpool_chan),  sizeof(struct pcpool_stats),
};

/* One late field per struct: where a layout slip would show. */
const size_t pcpool_uapi_c_offsetof[6] = {
    offsetof(struct pcpool_version, nr_cpu_ids), offsetof(struct pcpool_alloc, cpu),
    offsetof(struct pcpool_free, cpu),           offsetof(struct pcpool_run, backoffs),
    offsetof(struct pcpool_chan, fill),          offsetof(struct pcpool_stats, outstanding_pages),
};

const __u32 pcpool_uapi_c_ioctl[6] = {
    PCPOOL_IOC_VERSION, PCPOOL_IOC_ALLOC, PCPOOL_IOC_FREE,
    PCPOOL_IOC_RUN,     PCPOOL_IOC_CHAN,  PCPOOL_IOC_STATS,
};
