/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module layer's userspace harness: what a test may call without
 * seeing a kernel header.  A session here is the real struct
 * pcpool_session, reached as /dev/pcpool's ioctl() reaches it: through the
 * real command table (cmd.c), with "user" pointers that are plain memory.
 */
#ifndef PCPOOL_MODULE_GLUE_H
#define PCPOOL_MODULE_GLUE_H

#include <linux/pcpool.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pcpool_session;
struct pcpool_cap;

/*
 * Backends loaded by pcpool_m_load(): the module's own kernel (0) and
 * null (1) from backends/page.c, and two test backends of the other
 * kinds: a per-CPU one at PCPOOL_BACKEND_PCPU_KERNEL (objects zeroed,
 * backed by the shim's per-CPU memory) and a vmap one at
 * PCPOOL_BACKEND_VMALLOC (plain heap memory).
 */
int pcpool_m_load(void);
void pcpool_m_unload(void);

/* open() and release() of /dev/pcpool. */
struct pcpool_session* pcpool_m_open(void);
void pcpool_m_close(struct pcpool_session* s);
/* The ioctl() body: -ENOTTY for a command the table does not know. */
long pcpool_m_ioctl(struct pcpool_session* s, unsigned int cmd, void* arg);
/* The same command through io_uring's path: @size must match. */
long pcpool_m_uring(struct pcpool_session* s, unsigned int cmd, void* arg, uint32_t size);

long pcpool_m_session_pages(struct pcpool_session* s);
unsigned long pcpool_m_session_max(struct pcpool_session* s);
unsigned long pcpool_m_session_handles(struct pcpool_session* s);
unsigned long pcpool_m_session_chan_blocks(struct pcpool_session* s);
int pcpool_m_nr_sessions(void);
unsigned long pcpool_m_session_cap(void);

/* A bare cap, and the run engine called on it directly. */
struct pcpool_cap* pcpool_m_cap_create(unsigned long max);
void pcpool_m_cap_destroy(struct pcpool_cap* cap);
int pcpool_m_charge(struct pcpool_cap* cap, unsigned long pages);
void pcpool_m_uncharge(struct pcpool_cap* cap, unsigned long pages);
long pcpool_m_cap_pages(struct pcpool_cap* cap);
int pcpool_m_run(struct pcpool_cap* cap, struct pcpool_run* r);
unsigned int pcpool_m_lat_bucket(uint64_t ns);

/* Backend counters: pages allocated minus freed, and objects live. */
long long pcpool_m_outstanding(uint32_t backend);
long long pcpool_m_test_objs_live(void);
unsigned int pcpool_m_max_order(uint32_t backend);
int pcpool_m_fail_nth(uint64_t n);
/*
 * test_pcpu's counter (PCPU_COUNTER): counters alive; the CPUs that
 * updated any since the last call (bit per CPU, then cleared); a value
 * added to every sum (0: exact).
 */
long long pcpool_m_counters_live(void);
unsigned int pcpool_m_counter_cpus(void);
void pcpool_m_counter_skew(int skew);

#ifdef __cplusplus
}
#endif

#endif /* PCPOOL_MODULE_GLUE_H */
