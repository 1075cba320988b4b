/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool run engine: PCPOOL_IOC_RUN.  One validator and one table of
 * workloads (in the spirit of lib/test_vmalloc.c's test case table), each
 * loop written once, all of them on top of the backend ops.  The caller
 * passes the cap the run's live memory is charged against.
 */
#ifndef _PCPOOL_RUN_H
#define _PCPOOL_RUN_H

#include <linux/pcpool.h>

struct pcpool_cap;

/*
 * Run @r, an argument already in kernel memory: validate every field
 * (-ENOENT for an unknown backend or workload, -EINVAL for the rest),
 * charge @cap with the most memory the run keeps alive at once, run it,
 * fill the out fields (also on failure) and uncharge.
 */
int pcpool_run(struct pcpool_cap *cap, struct pcpool_run *r);

/* Bucket of a latency of @ns in a struct pcpool_hist (exposed for tests). */
unsigned int pcpool_lat_bucket(u64 ns);

#endif /* _PCPOOL_RUN_H */
