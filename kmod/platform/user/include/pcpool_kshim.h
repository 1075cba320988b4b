/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool userspace shim of the kernel APIs the module layer uses
 * (session.c, chan.c, run.c, run_pcpu.c, backend.c, cmd.c, backends/page.c),
 * so those files build unchanged in userspace as the kernel's tools/testing
 * builds real kernel files.  Every <linux/...> header the module layer
 * names is a one-line file in this folder that includes this one.
 *
 * What it models: "CPUs" are a per-thread number (pcpool_kshim_set_cpu),
 * per-CPU memory is a fixed stride per CPU, user memory is ordinary memory
 * (an address below PCPOOL_KSHIM_FAULT_BELOW faults), pages are aligned
 * malloc counted so a test can see every page came back, locks are
 * pthread mutexes so TSan sees them.
 */
#ifndef _PCPOOL_KSHIM_H
#define _PCPOOL_KSHIM_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/cdefs.h>	/* __always_inline, as the kernel spells it */

#include <linux/types.h>	/* the shim's: the uapi __u32 and friends */

#ifdef __cplusplus
extern "C" {
#endif

/* ---- compiler ---- */
#define __user
#define __percpu
#define __rcu
#define __force
#define __must_check		__attribute__((warn_unused_result))
#define __bitwise
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
/* no false sharing to avoid in a model: layout only */
#define ____cacheline_aligned_in_smp
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#ifndef KBUILD_MODNAME
#define KBUILD_MODNAME		"pcpool"
#endif

/* ---- types and arithmetic ---- */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;	/* as the kernel's, for %llu */
typedef signed char s8;
typedef short s16;
typedef int s32;
typedef long long s64;
typedef unsigned int __bitwise gfp_t;

#define U32_MAX			((u32)~0U)
#define U64_MAX			((u64)~0ULL)
#define BIT(n)			(1UL << (n))
#define BIT_ULL(n)		(1ULL << (n))
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d) __extension__({				\
	__typeof__(d) __d = (d);					\
	((n) + __d - 1) / __d;						\
})
#define lower_32_bits(n)	((u32)((n) & 0xffffffff))
#define upper_32_bits(n)	((u32)(((n) >> 16) >> 16))
#include "../pcpool_user_minmax.h"
#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))
#define array_index_nospec(i, n)	(i)

static inline int fls64(u64 x)
{
	return x ? 64 - __builtin_clzll(x) : 0;
}

static inline int fls(unsigned int x)
{
	return x ? 32 - __builtin_clz(x) : 0;
}

/* a constant expression for constant @n (PCPOOL_MAX_ORDER); @n > 0 */
#define ilog2(n)		(63 - __builtin_clzll((u64)(n) | 1))

static inline unsigned long roundup_pow_of_two(unsigned long n)
{
	return n <= 1 ? 1UL : 1UL << (64 - __builtin_clzl(n - 1));
}

/* ---- diagnostics ---- */
unsigned long pcpool_kshim_warnings(void);
void pcpool_kshim_warn(const char *file, int line);
#define WARN_ON_ONCE(c) ({ \
	bool __w = !!(c); \
	if (unlikely(__w)) \
		pcpool_kshim_warn(__FILE__, __LINE__); \
	__w; })
#define WARN_ON(c)		WARN_ON_ONCE(c)
#define pr_err(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)	do { } while (0)
#ifndef pr_fmt
#define pr_fmt(fmt)		fmt
#endif

/* ---- atomics ---- */
typedef struct { int counter; } atomic_t;
struct kshim_atomic_long { long counter; };
#define atomic_long_t		struct kshim_atomic_long
#define ATOMIC_INIT(v)		{ (v) }
#define __KSHIM_LD(a)		__atomic_load_n(&(a)->counter, __ATOMIC_RELAXED)
#define __KSHIM_ST(a, v)	__atomic_store_n(&(a)->counter, (v), __ATOMIC_RELAXED)
#define __KSHIM_ADD(a, v)	__atomic_add_fetch(&(a)->counter, (v), __ATOMIC_SEQ_CST)
#define atomic_read(a)		__KSHIM_LD(a)
#define atomic_set(a, v)	__KSHIM_ST(a, v)
#define atomic_inc(a)		((void)__KSHIM_ADD(a, 1))
#define atomic_dec(a)		((void)__KSHIM_ADD(a, -1))
#define atomic_long_read(a)	__KSHIM_LD(a)
#define atomic_long_set(a, v)	__KSHIM_ST(a, v)
#define atomic_long_add(v, a)	((void)__KSHIM_ADD(a, (long)(v)))
#define atomic_long_sub(v, a)	((void)__KSHIM_ADD(a, -(long)(v)))

static inline bool atomic_long_try_cmpxchg(atomic_long_t *a, long *old,
					   long v)
{
	return __atomic_compare_exchange_n(&a->counter, old, v, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
}

static inline int atomic_dec_if_positive(atomic_t *a)
{
	int old = __KSHIM_LD(a);

	do {
		if (old <= 0)
			return old - 1;
	} while (!__atomic_compare_exchange_n(&a->counter, &old, old - 1,
					      false, __ATOMIC_SEQ_CST,
					      __ATOMIC_RELAXED));
	return old - 1;
}

/* Static keys: a flag read on every test. */
struct static_key_false { int enabled; };
#define DEFINE_STATIC_KEY_FALSE(name)	struct static_key_false name = { 0 }
#define DECLARE_STATIC_KEY_FALSE(name)	extern struct static_key_false name
#define static_branch_unlikely(k) \
	unlikely(__atomic_load_n(&(k)->enabled, __ATOMIC_ACQUIRE))
#define static_branch_enable(k) \
	__atomic_store_n(&(k)->enabled, 1, __ATOMIC_RELEASE)
#define static_branch_disable(k) \
	__atomic_store_n(&(k)->enabled, 0, __ATOMIC_RELEASE)

/* ---- locks ---- */
struct mutex { pthread_mutex_t m; };
#define mutex_init(l)		pthread_mutex_init(&(l)->m, NULL)
#define mutex_destroy(l)	pthread_mutex_destroy(&(l)->m)
#define mutex_lock(l)		pthread_mutex_lock(&(l)->m)
#define mutex_unlock(l)		pthread_mutex_unlock(&(l)->m)
struct kshim_spinlock { pthread_mutex_t m; };
#define spinlock_t		struct kshim_spinlock
#define spin_lock_init(l)	pthread_mutex_init(&(l)->m, NULL)
#define spin_lock(l)		pthread_mutex_lock(&(l)->m)
#define spin_unlock(l)		pthread_mutex_unlock(&(l)->m)

/* ---- CPUs, scheduling, signals ---- */
#define PCPOOL_KSHIM_NR_CPUS	8U
extern unsigned int nr_cpu_ids;		/* possible CPUs, <= NR_CPUS */
struct cpumask { int unused; };
extern const struct cpumask *const cpu_possible_mask;
unsigned int pcpool_kshim_cpu(void);
#define raw_smp_processor_id()	pcpool_kshim_cpu()
#define smp_processor_id()	pcpool_kshim_cpu()
/* a shim thread's CPU changes only inside smp_call_on_cpu() */
#define get_cpu()		pcpool_kshim_cpu()
#define put_cpu()		do { } while (0)
#define num_possible_cpus()	nr_cpu_ids
/* every possible CPU is online in the shim */
#define num_online_cpus()	nr_cpu_ids
int *pcpool_kshim_first_cpu(int *cpu);
bool pcpool_kshim_next_cpu(int *cpu);
/* @cpu is an int lvalue, as in the kernel */
#define for_each_possible_cpu(cpu)					\
	for (int *__kshim_cpu = pcpool_kshim_first_cpu(&(cpu));		\
	     pcpool_kshim_next_cpu(__kshim_cpu);)
#define cpumask_first(m)	((void)(m), 0)
#define cpumask_next(n, m)	((void)(m), (n) + 1)
#define cpu_online_mask		cpu_possible_mask
/* @fn runs in the calling thread, which is "CPU" @cpu meanwhile. */
int smp_call_on_cpu(unsigned int cpu, int (*fn)(void *), void *arg,
		    bool phys);

struct task_struct;
#define current			((struct task_struct *)NULL)
bool pcpool_kshim_fatal_signal(void);
#define fatal_signal_pending(t)	((void)(t), pcpool_kshim_fatal_signal())
void pcpool_kshim_cond_resched(void);
#define cond_resched()		pcpool_kshim_cond_resched()

/* ---- time, randomness ---- */
u64 ktime_get_ns(void);
u32 get_random_u32(void);

struct rnd_state { u32 s1, s2, s3, s4; };
u32 prandom_u32_state(struct rnd_state *state);
void prandom_seed_state(struct rnd_state *state, u64 seed);

/* ---- memory ---- */
#define PAGE_SHIFT		12
#define PAGE_SIZE		BIT(PAGE_SHIFT)
#define SZ_32M			0x02000000U
/* x86-64's with KASAN off: 16 KiB stacks */
#define THREAD_ALIGN		(4 * PAGE_SIZE)
#define GFP_KERNEL		0x1U
#define GFP_KERNEL_ACCOUNT	0x2U
#define __GFP_NOWARN		0x4U
#define __GFP_NORETRY		0x8U
#define __GFP_ZERO		0x10U
#define __GFP_MOVABLE		0x20U
#define __GFP_RECLAIMABLE	0x40U

void *kmalloc(size_t size, gfp_t gfp);
void *kvmalloc_array(size_t n, size_t size, gfp_t gfp);
void kfree(const void *p);
#define kzalloc(s, g)		kmalloc((s), (g) | __GFP_ZERO)
#define kvzalloc(s, g)		kmalloc((s), (g) | __GFP_ZERO)
#define kmalloc_array(n, s, g)	kvmalloc_array((n), (s), (g))
#define kvfree(p)		kfree(p)

/* A page is a descriptor in front of its memory, as far as we care. */
struct page {
	void *virt;
	unsigned int order;
};

struct page *alloc_pages(gfp_t gfp, unsigned int order);
void __free_pages(struct page *page, unsigned int order);
#define page_address(p)		((p)->virt)
#define clear_highpage(p)	memset(page_address(p), 0, PAGE_SIZE)
#define want_init_on_alloc(g)	((void)(g), false)
#define want_init_on_free()	false
unsigned long totalram_pages(void);

static inline unsigned int get_order(unsigned long size)
{
	return size <= PAGE_SIZE ? 0 :
		64 - __builtin_clzl((size - 1) >> PAGE_SHIFT);
}

/* Per-CPU memory: CPU n's copy lies n strides after CPU 0's. */
#define PCPOOL_KSHIM_PCPU_STRIDE	4096UL
void *__alloc_percpu(size_t size, size_t align);
void free_percpu(void __percpu *p);
/* void *: C converts it; 64 is as aligned as any counter block needs */
#define alloc_percpu(t)	pcpool_kshim_alloc_percpu(sizeof(t))
void *pcpool_kshim_alloc_percpu(size_t size);
#define per_cpu_ptr(p, cpu) \
	((__typeof__(p))((char *)(p) + (size_t)(cpu) * \
			 PCPOOL_KSHIM_PCPU_STRIDE))
#define this_cpu_ptr(p)		per_cpu_ptr(p, pcpool_kshim_cpu())
/* Threads may share a "CPU": atomic where the kernel only stops preemption. */
#define this_cpu_add(lv, n) \
	((void)__atomic_fetch_add(per_cpu_ptr(&(lv), pcpool_kshim_cpu()), \
				  (n), __ATOMIC_RELAXED))
#define this_cpu_inc(lv)	this_cpu_add(lv, 1)

/* mmzone: 6.1's MAX_ORDER unless a compat test picks another version. */
#if defined(PCPOOL_KSHIM_MAX_PAGE_ORDER)		/* 6.8+ */
#define MAX_PAGE_ORDER		10
#define MAX_ORDER_NR_PAGES	BIT(MAX_PAGE_ORDER)
#elif defined(PCPOOL_KSHIM_MAX_ORDER_INCLUSIVE)	/* 6.4 .. 6.7 */
#define MAX_ORDER		10
#define MAX_ORDER_NR_PAGES	BIT(MAX_ORDER)
#else							/* up to 6.3 */
#define MAX_ORDER		11
#define MAX_ORDER_NR_PAGES	(1 << (MAX_ORDER - 1))
#endif
#define pageblock_order		9

/* ---- user memory ---- */
/* Addresses below this fault, so a test can ask for -EFAULT. */
#define PCPOOL_KSHIM_FAULT_BELOW	4096UL
#define u64_to_user_ptr(x)	((void __user *)(uintptr_t)(x))
unsigned long copy_from_user(void *to, const void __user *from,
			     unsigned long n);
unsigned long copy_to_user(void __user *to, const void *from,
			   unsigned long n);
int copy_struct_from_user(void *dst, size_t ksize, const void __user *src,
			  size_t usize);
#define get_user(x, p) __extension__({				\
	__typeof__(p) __p = (p);					\
	copy_from_user(&(x), __p, sizeof(*__p)) ? -EFAULT : 0;		\
})

/* ---- module parameters: a table the tests set by name ---- */
struct kernel_param;
struct kernel_param_ops {
	int (*set)(const char *val, const struct kernel_param *kp);
	int (*get)(char *buf, const struct kernel_param *kp);
};

struct kernel_param {
	const char *name;
	const struct kernel_param_ops *ops;
	void *arg;
	struct kernel_param *next;
};

void pcpool_kshim_param_add(struct kernel_param *kp);
int param_set_uint_minmax(const char *val, const struct kernel_param *kp,
			  unsigned int min, unsigned int max);
int param_get_uint(char *buf, const struct kernel_param *kp);
extern const struct kernel_param_ops param_ops_uint;
extern const struct kernel_param_ops param_ops_ulong;

/* Registers the parameter @kp names when the program starts. */
#define KSHIM_PARAM_CTOR(kp)						\
	__attribute__((constructor)) static void kp##_add(void)		\
	{								\
		pcpool_kshim_param_add(&(kp));				\
	}
#define module_param_cb(name, ops_, arg_, perm)				\
	static struct kernel_param __kshim_param_##name = {		\
		#name, ops_, arg_, NULL };				\
	KSHIM_PARAM_CTOR(__kshim_param_##name)
#define module_param(name, type, perm)					\
	static struct kernel_param __kshim_param_##name = {		\
		#name, &param_ops_##type, &(name), NULL };		\
	KSHIM_PARAM_CTOR(__kshim_param_##name)
#define MODULE_PARM_DESC(name, desc)

/* ---- seq_file: into a caller's buffer ---- */
struct seq_file {
	char *buf;
	size_t size;
	size_t count;
};

void seq_printf(struct seq_file *m, const char *fmt, ...);

#ifdef __cplusplus
}
#endif

#endif /* _PCPOOL_KSHIM_H */
