// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool userspace shim of the kernel APIs the module layer uses: the
 * out-of-line half of include/pcpool_kshim.h, plus both shrinker APIs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcpool_kshim.h"
#include "pcpool_kshim_test.h"
#include <linux/shrinker.h>

unsigned int nr_cpu_ids = 4;

int *pcpool_kshim_first_cpu(int *cpu)
{
	*cpu = -1;
	return cpu;
}

bool pcpool_kshim_next_cpu(int *cpu)
{
	return (unsigned int)++*cpu < nr_cpu_ids;
}

static const struct cpumask kshim_possible;
const struct cpumask *const cpu_possible_mask = &kshim_possible;

static __thread unsigned int kshim_cpu;
static __thread bool kshim_killed;
static unsigned long kshim_warnings;
static long kshim_pages_live;
static unsigned long kshim_resched;
static long kshim_kmalloc_fail = -1;

void pcpool_kshim_set_cpu(unsigned int cpu)
{
	kshim_cpu = cpu;
}

unsigned int pcpool_kshim_cpu(void)
{
	return kshim_cpu;
}

int smp_call_on_cpu(unsigned int cpu, int (*fn)(void *), void *arg,
		    bool phys)
{
	unsigned int old = kshim_cpu;
	int ret;

	if (cpu >= nr_cpu_ids)
		return -ENXIO;
	kshim_cpu = cpu;
	ret = fn(arg);
	kshim_cpu = old;
	return ret;
}

void pcpool_kshim_set_nr_cpus(unsigned int n)
{
	nr_cpu_ids = n;
}

void pcpool_kshim_set_killed(bool killed)
{
	kshim_killed = killed;
}

bool pcpool_kshim_fatal_signal(void)
{
	return kshim_killed;
}

void pcpool_kshim_cond_resched(void)
{
	__atomic_add_fetch(&kshim_resched, 1, __ATOMIC_RELAXED);
}

unsigned long pcpool_kshim_resched_calls(void)
{
	return __atomic_load_n(&kshim_resched, __ATOMIC_RELAXED);
}

void pcpool_kshim_warn(const char *file, int line)
{
	__atomic_add_fetch(&kshim_warnings, 1, __ATOMIC_RELAXED);
	fprintf(stderr, "WARNING at %s:%d\n", file, line);
}

unsigned long pcpool_kshim_warnings(void)
{
	return __atomic_load_n(&kshim_warnings, __ATOMIC_RELAXED);
}

u64 ktime_get_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

u32 get_random_u32(void)
{
	static u64 state = 0x853c49e6748fea9bULL;
	u64 x = __atomic_add_fetch(&state, 0x9e3779b97f4a7c15ULL,
				   __ATOMIC_RELAXED);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return (u32)((x ^ (x >> 31)) >> 32);
}

/* lib/random32.c and include/linux/prandom.h, 6.1 */
static u32 kshim_taus(u32 s, u32 a, u32 b, u32 c, u32 d)
{
	return ((s & c) << d) ^ (((s << a) ^ s) >> b);
}

u32 prandom_u32_state(struct rnd_state *state)
{
	state->s1 = kshim_taus(state->s1,  6U, 13U, 4294967294U, 18U);
	state->s2 = kshim_taus(state->s2,  2U, 27U, 4294967288U,  2U);
	state->s3 = kshim_taus(state->s3, 13U, 21U, 4294967280U,  7U);
	state->s4 = kshim_taus(state->s4,  3U, 12U, 4294967168U, 13U);
	return (state->s1 ^ state->s2 ^ state->s3 ^ state->s4);
}

static u32 kshim_seed(u32 x, u32 m)
{
	return (x < m) ? x + m : x;
}

void prandom_seed_state(struct rnd_state *state, u64 seed)
{
	u32 i = ((seed >> 32) ^ (seed << 10) ^ seed) & 0xffffffffUL;

	state->s1 = kshim_seed(i, 2U);
	state->s2 = kshim_seed(i, 8U);
	state->s3 = kshim_seed(i, 16U);
	state->s4 = kshim_seed(i, 128U);
}

void pcpool_kshim_fail_kmalloc_after(long n)
{
	__atomic_store_n(&kshim_kmalloc_fail, n, __ATOMIC_RELAXED);
}

static bool kshim_kmalloc_fails(void)
{
	long n = __atomic_load_n(&kshim_kmalloc_fail, __ATOMIC_RELAXED);

	while (n >= 0) {
		if (__atomic_compare_exchange_n(&kshim_kmalloc_fail, &n,
						n ? n - 1 : -1, false,
						__ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return n == 0;
	}
	return false;
}

void *kmalloc(size_t size, gfp_t gfp)
{
	if (kshim_kmalloc_fails())
		return NULL;
	/* malloc(0) may return NULL; the kernel returns ZERO_SIZE_PTR */
	return gfp & __GFP_ZERO ? calloc(1, size ? size : 1) :
				  malloc(size ? size : 1);
}

void *kvmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	size_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes))
		return NULL;
	return kmalloc(bytes, gfp);
}

void kfree(const void *p)
{
	free((void *)p);
}

struct page *alloc_pages(gfp_t gfp, unsigned int order)
{
	struct page *page = kmalloc(sizeof(*page), gfp);

	if (!page)
		return NULL;
	page->virt = aligned_alloc(PAGE_SIZE, PAGE_SIZE << order);
	if (!page->virt) {
		free(page);
		return NULL;
	}
	page->order = order;
	__atomic_add_fetch(&kshim_pages_live, 1L << order, __ATOMIC_RELAXED);
	return page;
}

void __free_pages(struct page *page, unsigned int order)
{
	if (WARN_ON_ONCE(page->order != order))
		return;
	__atomic_sub_fetch(&kshim_pages_live, 1L << order, __ATOMIC_RELAXED);
	free(page->virt);
	free(page);
}

long pcpool_kshim_pages_live(void)
{
	return __atomic_load_n(&kshim_pages_live, __ATOMIC_RELAXED);
}

unsigned long totalram_pages(void)
{
	return PCPOOL_KSHIM_TOTALRAM_PAGES;
}

void *__alloc_percpu(size_t size, size_t align)
{
	void *p;

	if (size > PCPOOL_KSHIM_PCPU_STRIDE || align > PCPOOL_KSHIM_PCPU_STRIDE)
		return NULL;
	p = aligned_alloc(PCPOOL_KSHIM_PCPU_STRIDE,
			  PCPOOL_KSHIM_NR_CPUS * PCPOOL_KSHIM_PCPU_STRIDE);
	if (p)
		memset(p, 0, PCPOOL_KSHIM_NR_CPUS * PCPOOL_KSHIM_PCPU_STRIDE);
	return p;
}

void *pcpool_kshim_alloc_percpu(size_t size)
{
	return __alloc_percpu(size, 64);
}

void free_percpu(void __percpu *p)
{
	free(p);
}

static bool kshim_faults(const void *p, unsigned long n)
{
	return n && (uintptr_t)p < PCPOOL_KSHIM_FAULT_BELOW;
}

unsigned long copy_from_user(void *to, const void __user *from,
			     unsigned long n)
{
	if (kshim_faults(from, n))
		return n;
	memcpy(to, from, n);
	return 0;
}

unsigned long copy_to_user(void __user *to, const void *from,
			   unsigned long n)
{
	if (kshim_faults(to, n))
		return n;
	memcpy(to, from, n);
	return 0;
}

/* include/linux/uaccess.h, 6.1: a longer tail must be zero. */
int copy_struct_from_user(void *dst, size_t ksize, const void __user *src,
			  size_t usize)
{
	size_t size = min(ksize, usize);
	size_t i;

	if (usize < ksize) {
		memset((char *)dst + size, 0, ksize - usize);
	} else if (usize > ksize) {
		if (kshim_faults((const char *)src + ksize, usize - ksize))
			return -EFAULT;
		for (i = ksize; i < usize; i++)
			if (((const char *)src)[i])
				return -E2BIG;
	}
	if (copy_from_user(dst, src, size))
		return -EFAULT;
	return 0;
}

static struct kernel_param *kshim_params;

void pcpool_kshim_param_add(struct kernel_param *kp)
{
	kp->next = kshim_params;
	kshim_params = kp;
}

int pcpool_kshim_param_set(const char *name, const char *val)
{
	struct kernel_param *kp;

	for (kp = kshim_params; kp; kp = kp->next)
		if (!strcmp(kp->name, name))
			return kp->ops->set(val, kp);
	return -ENOENT;
}

static int kshim_parse(const char *val, unsigned long long lo,
		       unsigned long long hi, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(val, &end, 0);
	if (errno || *end || end == val || *v < lo || *v > hi)
		return -EINVAL;
	return 0;
}

static int param_set_ulong(const char *val, const struct kernel_param *kp)
{
	unsigned long long v;
	int ret = kshim_parse(val, 0, ULONG_MAX, &v);

	if (!ret)
		*(unsigned long *)kp->arg = v;
	return ret;
}

static int param_set_uint(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, UINT_MAX);
}

const struct kernel_param_ops param_ops_ulong = { .set = param_set_ulong };
const struct kernel_param_ops param_ops_uint = {
	.set = param_set_uint,
	.get = param_get_uint,
};

int param_set_uint_minmax(const char *val, const struct kernel_param *kp,
			  unsigned int lo, unsigned int hi)
{
	unsigned long long v;
	int ret = kshim_parse(val, lo, hi, &v);

	if (!ret)
		*(unsigned int *)kp->arg = v;
	return ret;
}

int param_get_uint(char *buf, const struct kernel_param *kp)
{
	return sprintf(buf, "%u\n", *(unsigned int *)kp->arg);
}

void seq_printf(struct seq_file *m, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (m->count >= m->size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m->buf + m->count, m->size - m->count, fmt, ap);
	va_end(ap);
	if (n > 0)
		m->count = min(m->count + (size_t)n, m->size);
}

/* ---- shrinkers: a list, both registration APIs ---- */
static struct shrinker *kshim_shrinkers;
static pthread_mutex_t kshim_shrinker_lock = PTHREAD_MUTEX_INITIALIZER;

void pcpool_kshim_shrinker_add(struct shrinker *sh, const char *name)
{
	snprintf(sh->name, sizeof(sh->name), "%s", name);
	pthread_mutex_lock(&kshim_shrinker_lock);
	sh->next = kshim_shrinkers;
	kshim_shrinkers = sh;
	pthread_mutex_unlock(&kshim_shrinker_lock);
}

void pcpool_kshim_shrinker_del(struct shrinker *sh)
{
	struct shrinker **pp;

	pthread_mutex_lock(&kshim_shrinker_lock);
	for (pp = &kshim_shrinkers; *pp; pp = &(*pp)->next)
		if (*pp == sh) {
			*pp = sh->next;
			break;
		}
	pthread_mutex_unlock(&kshim_shrinker_lock);
}

unsigned int pcpool_kshim_nr_shrinkers(void)
{
	struct shrinker *sh;
	unsigned int n = 0;

	pthread_mutex_lock(&kshim_shrinker_lock);
	for (sh = kshim_shrinkers; sh; sh = sh->next)
		n++;
	pthread_mutex_unlock(&kshim_shrinker_lock);
	return n;
}

unsigned long pcpool_kshim_shrink(unsigned long nr_to_scan)
{
	struct shrink_control sc = { .gfp_mask = GFP_KERNEL };
	unsigned long freed = 0, r;
	struct shrinker *sh;

	pthread_mutex_lock(&kshim_shrinker_lock);
	for (sh = kshim_shrinkers; sh; sh = sh->next) {
		r = sh->count_objects(sh, &sc);
		/* as do_shrink_slab(): nothing to free either way */
		if (!r || r == SHRINK_EMPTY)
			continue;
		sc.nr_to_scan = nr_to_scan;
		r = sh->scan_objects(sh, &sc);
		if (r != SHRINK_STOP)
			freed += r;
	}
	pthread_mutex_unlock(&kshim_shrinker_lock);
	return freed;
}

static void kshim_vname(char *buf, size_t n, const char *fmt, va_list ap)
{
	vsnprintf(buf, n, fmt, ap);
}

/* 6.1's API (this file sees the 6.1 header) */
int register_shrinker(struct shrinker *sh, const char *fmt, ...)
{
	char name[32];
	va_list ap;

	va_start(ap, fmt);
	kshim_vname(name, sizeof(name), fmt, ap);
	va_end(ap);
	sh->kshim_flags = 0;
	pcpool_kshim_shrinker_add(sh, name);
	return 0;
}

void unregister_shrinker(struct shrinker *sh)
{
	pcpool_kshim_shrinker_del(sh);
}

/* 6.7's API, on the same layout; linux/shrinker.h declares it */
#define KSHIM_SHRINKER_REGISTERED	BIT(0)
#define KSHIM_SHRINKER_ALLOCATED	BIT(1)

struct shrinker *shrinker_alloc(unsigned int flags, const char *fmt, ...)
{
	struct shrinker *sh = calloc(1, sizeof(*sh));
	va_list ap;

	if (!sh)
		return NULL;
	va_start(ap, fmt);
	kshim_vname(sh->name, sizeof(sh->name), fmt, ap);
	va_end(ap);
	sh->kshim_flags = flags | KSHIM_SHRINKER_ALLOCATED;
	return sh;
}

void shrinker_register(struct shrinker *sh)
{
	char name[sizeof(sh->name)];

	memcpy(name, sh->name, sizeof(name));
	sh->kshim_flags |= KSHIM_SHRINKER_REGISTERED;
	pcpool_kshim_shrinker_add(sh, name);
}

void shrinker_free(struct shrinker *sh)
{
	if (!sh)
		return;
	if (sh->kshim_flags & KSHIM_SHRINKER_REGISTERED)
		pcpool_kshim_shrinker_del(sh);
	free(sh);
}
