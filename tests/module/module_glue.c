// SPDX-License-Identifier: GPL-2.0
/*
 * The module layer's userspace harness (module_glue.h): the module's real
 * backend table entries for kernel and null, two test backends for the
 * per-CPU and vmap kinds, and the file operations of main.c without the
 * misc device around them.
 */
#include "module_glue.h"

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "backend.h"
#include "backends/backends.h"
#include "cap.h"
#include "cmd.h"
#include "run.h"
#include "session.h"

static long long test_objs_live;

/* A per-CPU backend: zeroed objects on the shim's per-CPU memory. */
static int test_pcpu_alloc(struct pcpool_backend* b, size_t size, size_t align, gfp_t gfp,
                           union pcpool_obj* obj) {
  void __percpu* p = __alloc_percpu(size, align);

  if (!p) return -ENOMEM;
  __atomic_add_fetch(&test_objs_live, 1, __ATOMIC_RELAXED);
  obj->pcpu = p;
  return 0;
}

static void test_pcpu_free(struct pcpool_backend* b, union pcpool_obj obj, size_t size,
                           size_t align) {
  __atomic_sub_fetch(&test_objs_live, 1, __ATOMIC_RELAXED);
  free_percpu(obj.pcpu);
}

/*
 * Its counter: one slot per shim CPU.  Counts what is alive and which
 * CPUs updated it; a skew makes every sum wrong, for the -EIO path.
 */
struct test_ctr {
  s64 part[PCPOOL_KSHIM_NR_CPUS];
};

static long long test_ctrs_live;
static unsigned int test_ctr_cpus;
static int test_ctr_skew;

static int test_ctr_init(struct pcpool_backend* b, void* ctr) {
  memset(ctr, 0, sizeof(struct test_ctr));
  test_ctrs_live++;
  return 0;
}

static void test_ctr_add(void* ctr, s64 delta) {
  unsigned int cpu = raw_smp_processor_id();

  ((struct test_ctr*)ctr)->part[cpu] += delta;
  test_ctr_cpus |= 1U << cpu;
}

static s64 test_ctr_sum(void* ctr) {
  s64 sum = test_ctr_skew;

  for (unsigned int i = 0; i < PCPOOL_KSHIM_NR_CPUS; i++) sum += ((struct test_ctr*)ctr)->part[i];
  return sum;
}

static void test_ctr_destroy(void* ctr) { test_ctrs_live--; }

static const struct pcpool_counter_ops test_counter = {
    .size = sizeof(struct test_ctr),
    .init = test_ctr_init,
    .add = test_ctr_add,
    .sum = test_ctr_sum,
    .destroy = test_ctr_destroy,
};

long long pcpool_m_counters_live(void) { return test_ctrs_live; }

unsigned int pcpool_m_counter_cpus(void) {
  unsigned int cpus = test_ctr_cpus;

  test_ctr_cpus = 0;
  return cpus;
}

void pcpool_m_counter_skew(int skew) { test_ctr_skew = skew; }

static const struct pcpool_backend_ops test_pcpu_ops = {
    .name = "test_pcpu",
    .kind = PCPOOL_BK_PCPU,
    .contents = PCPOOL_CONTENTS_ZERO,
    .max_order = 10, /* 1 KiB objects: PAGE_SIZE / 4 */
    .alloc = test_pcpu_alloc,
    .free = test_pcpu_free,
    .counter = &test_counter,
};

/* A vmap backend: any size, page aligned. */
static int test_vmap_alloc(struct pcpool_backend* b, size_t size, size_t align, gfp_t gfp,
                           union pcpool_obj* obj) {
  void* p = aligned_alloc(PAGE_SIZE, DIV_ROUND_UP(size, PAGE_SIZE) * PAGE_SIZE);

  if (!p) return -ENOMEM;
  __atomic_add_fetch(&test_objs_live, 1, __ATOMIC_RELAXED);
  obj->vmem = p;
  return 0;
}

static void test_vmap_free(struct pcpool_backend* b, union pcpool_obj obj, size_t size,
                           size_t align) {
  __atomic_sub_fetch(&test_objs_live, 1, __ATOMIC_RELAXED);
  free(obj.vmem);
}

static const struct pcpool_backend_ops test_vmap_ops = {
    .name = "test_vmap",
    .kind = PCPOOL_BK_VMAP,
    .max_order = PCPOOL_MAX_ORDER,
    .alloc = test_vmap_alloc,
    .free = test_vmap_free,
};

static const struct pcpool_backend_ops* const glue_table[] = {
    [PCPOOL_BACKEND_KERNEL] = &pcpool_kernel_ops,
    [PCPOOL_BACKEND_NULL] = &pcpool_null_ops,
    [PCPOOL_BACKEND_VMALLOC] = &test_vmap_ops,
    [PCPOOL_BACKEND_PCPU_KERNEL] = &test_pcpu_ops,
};

int pcpool_m_load(void) { return pcpool_backends_init(glue_table, ARRAY_SIZE(glue_table)); }

void pcpool_m_unload(void) {
  pcpool_fail_nth_arm(0);
  pcpool_backends_exit();
}

struct pcpool_session* pcpool_m_open(void) {
  return pcpool_session_create();
}

void pcpool_m_close(struct pcpool_session* s) { pcpool_session_destroy(s); }

long pcpool_m_ioctl(struct pcpool_session* s, unsigned int cmd, void* arg) {
  const struct pcpool_cmd_desc* d = pcpool_cmd_lookup(cmd);

  if (!d) return -ENOTTY;
  return pcpool_cmd_user(s, d, arg, 0);
}

long pcpool_m_uring(struct pcpool_session* s, unsigned int cmd, void* arg, uint32_t size) {
  const struct pcpool_cmd_desc* d = pcpool_cmd_lookup(cmd);

  if (!d) return -ENOTTY;
  return pcpool_cmd_user(s, d, arg, size);
}

long pcpool_m_session_pages(struct pcpool_session* s) { return atomic_long_read(&s->cap.pages); }

unsigned long pcpool_m_session_max(struct pcpool_session* s) { return s->cap.max; }

unsigned long pcpool_m_session_handles(struct pcpool_session* s) {
  return READ_ONCE(s->nr_handles);
}

unsigned long pcpool_m_session_chan_blocks(struct pcpool_session* s) {
  return pcpool_chan_blocks(s);
}

int pcpool_m_nr_sessions(void) { return pcpool_nr_sessions(); }

unsigned long pcpool_m_session_cap(void) { return pcpool_session_cap(); }

struct pcpool_cap* pcpool_m_cap_create(unsigned long max) {
  struct pcpool_cap* cap = malloc(sizeof(*cap));

  if (cap) pcpool_cap_init(cap, max);
  return cap;
}

void pcpool_m_cap_destroy(struct pcpool_cap* cap) { free(cap); }

int pcpool_m_charge(struct pcpool_cap* cap, unsigned long pages) {
  return pcpool_charge(cap, pages);
}

void pcpool_m_uncharge(struct pcpool_cap* cap, unsigned long pages) { pcpool_uncharge(cap, pages); }

long pcpool_m_cap_pages(struct pcpool_cap* cap) { return atomic_long_read(&cap->pages); }

int pcpool_m_run(struct pcpool_cap* cap, struct pcpool_run* r) { return pcpool_run(cap, r); }

unsigned int pcpool_m_lat_bucket(uint64_t ns) { return pcpool_lat_bucket(ns); }

long long pcpool_m_outstanding(uint32_t backend) {
  struct pcpool_backend* b = pcpool_backend_get(backend);

  return b ? pcpool_backend_outstanding(b) : -1;
}

long long pcpool_m_test_objs_live(void) {
  return __atomic_load_n(&test_objs_live, __ATOMIC_RELAXED);
}

unsigned int pcpool_m_max_order(uint32_t backend) {
  struct pcpool_backend* b = pcpool_backend_get(backend);

  return b ? b->max_order : 0;
}

int pcpool_m_fail_nth(uint64_t n) { return pcpool_fail_nth_arm(n); }
