/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool userspace shim of the kernel APIs, the test-facing half: knobs
 * and gauges a test reads or sets, with no kernel types in them, so C++
 * tests include this and never a kernel header.
 */
#ifndef _PCPOOL_KSHIM_TEST_H
#define _PCPOOL_KSHIM_TEST_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What totalram_pages() says: 1 GiB of 4 KiB pages. */
#define PCPOOL_KSHIM_TOTALRAM_PAGES	262144UL

/* The calling thread now runs on "CPU" @cpu (< nr_cpu_ids). */
void pcpool_kshim_set_cpu(unsigned int cpu);
/* Possible CPUs, at most PCPOOL_KSHIM_NR_CPUS; set before loading. */
void pcpool_kshim_set_nr_cpus(unsigned int n);
/* fatal_signal_pending() for the calling thread. */
void pcpool_kshim_set_killed(bool killed);
/* The @n-th kmalloc from now (0 = the next) fails; -1 disarms. */
void pcpool_kshim_fail_kmalloc_after(long n);
/* Set a module parameter by name as "echo val > .../name"; 0 or -errno. */
int pcpool_kshim_param_set(const char *name, const char *val);

/* Pages alloc_pages() handed out and __free_pages() has not taken back. */
long pcpool_kshim_pages_live(void);
unsigned long pcpool_kshim_warnings(void);
unsigned long pcpool_kshim_resched_calls(void);

#ifdef __cplusplus
}
#endif

#endif /* _PCPOOL_KSHIM_TEST_H */
