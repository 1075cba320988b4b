/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool per-CPU cache platform header, userspace world.
 *
 * Per-CPU memory is modelled as the kernel lays it out: one arena holding
 * a unit per possible CPU, every unit the same size, so CPU n's copy of an
 * object is at the CPU 0 address plus n units, and a "__percpu pointer" is
 * the CPU 0 address.  pcpool_pcpu_user.c owns the arena and hands out
 * chunks of it (the chunk source the tests control and can make fail).
 * The calling thread's CPU is pcpool_user_cpu (pcpool_platform.h).
 *
 * Atomics are the compiler's __atomic builtins, so TSan sees them.  Under
 * ASan the core poisons the objects it holds, so a use after free of a
 * cached object is reported.
 *
 * Must stay valid C and C++ (the tests include it through the core headers).
 */
#ifndef _PCPOOL_PCPU_PLATFORM_H
#define _PCPOOL_PCPU_PLATFORM_H

#include "pcpool_platform.h"

#if defined(__SANITIZE_ADDRESS__)
#define PCPOOL_PCPU_USER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PCPOOL_PCPU_USER_ASAN 1
#endif
#endif
#ifdef PCPOOL_PCPU_USER_ASAN
#include <sanitizer/asan_interface.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* sparse address spaces: nothing to check here. */
#ifndef __percpu
#define __percpu
#endif
#ifndef __force
#define __force
#endif

#define IS_ALIGNED(x, a)	(((x) & ((__typeof__(x))(a) - 1)) == 0)

/* The arena: set by pcpool_pcpu_user_arena_init(), read-only afterwards. */
extern size_t pcpool_pcpu_user_unit;
extern unsigned int pcpool_pcpu_user_nr_cpus;

static inline unsigned int pcpool_pcpu_nr_possible(void)
{
	return pcpool_pcpu_user_nr_cpus;
}

#define per_cpu_ptr(ptr, cpu)						\
	((__typeof__(ptr))((char *)(ptr) +				\
			   (size_t)(cpu) * pcpool_pcpu_user_unit))

static inline int *pcpool_pcpu_user_first_cpu(int *cpu)
{
	*cpu = -1;
	return cpu;
}

static inline bool pcpool_pcpu_user_next_cpu(int *cpu)
{
	return ++*cpu < (int)pcpool_pcpu_user_nr_cpus;
}

static inline bool pcpool_pcpu_cpu_possible(unsigned int cpu)
{
	return cpu < pcpool_pcpu_user_nr_cpus;
}

/* every modelled CPU is possible; @cpu is an int lvalue, as in the kernel */
#define for_each_possible_cpu(cpu)					\
	for (int *__pcpu_cpu = pcpool_pcpu_user_first_cpu(&(cpu));	\
	     pcpool_pcpu_user_next_cpu(__pcpu_cpu);)

/* Relaxed atomics: the kernel's this_cpu ops cannot tear either. */
#define this_cpu_add(pcp, val)						\
	((void)__atomic_fetch_add(per_cpu_ptr(&(pcp), pcpool_user_cpu),	\
				  (val), __ATOMIC_RELAXED))
#define this_cpu_sub(pcp, val)	this_cpu_add(pcp, -(val))

/* The kernel's acquire / release pair, as C11 atomics. */
#define smp_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
/* The kernel's acquire / release pair, as C11 atomics. */
#define smp_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

/* The kernel's atomic bit operations, for the counter's CPU masks. */
static inline bool test_and_set_bit(unsigned long nr, unsigned long *addr)
{
	unsigned long bit = 1UL << (nr % (8 * sizeof(long)));

	return __atomic_fetch_or(addr + nr / (8 * sizeof(long)), bit,
				 __ATOMIC_SEQ_CST) & bit;
}

/*
 * Fully ordered, so smp_mb__before_atomic() needs no fence of its own (TSan
 * has no fences): the stores before set_bit() are seen before the bit.
 */
static inline void set_bit(unsigned long nr, unsigned long *addr)
{
	__atomic_fetch_or(addr + nr / (8 * sizeof(long)),
			  1UL << (nr % (8 * sizeof(long))), __ATOMIC_SEQ_CST);
}

static inline bool test_bit_acquire(unsigned long nr, const unsigned long *addr)
{
	return (__atomic_load_n(addr + nr / (8 * sizeof(long)),
				__ATOMIC_ACQUIRE) >> (nr % (8 * sizeof(long)))) & 1;
}

/* no fence: set_bit() above is fully ordered already */
#define smp_mb__before_atomic()	do { } while (0)
#define cpu_relax()		sched_yield()
/* No interrupts here: only the flags type is kept. */
#define local_irq_save(flags)	((void)(flags = 0))
#define local_irq_restore(flags)	((void)(flags))

/* Returns the value found, like the kernel's; full barrier. */
#define cmpxchg(ptr, o, n) __extension__({				\
	__auto_type __ptr = (ptr);					\
	__typeof__(*__ptr) __old = (o);					\
	__atomic_compare_exchange_n(__ptr, &__old, (n), false,		\
				    __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);	\
	__old;								\
})

struct pcpool_atomic_long {
	long counter;
};

#define atomic_long_t struct pcpool_atomic_long

#define ATOMIC_LONG_INIT(i)	{ (i) }

static inline long atomic_long_read(const atomic_long_t *v)
{
	return __atomic_load_n(&v->counter, __ATOMIC_RELAXED);
}

static inline void atomic_long_set(atomic_long_t *v, long i)
{
	__atomic_store_n(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_long_add(long i, atomic_long_t *v)
{
	__atomic_fetch_add(&v->counter, i, __ATOMIC_RELAXED);
}

static inline void atomic_long_sub(long i, atomic_long_t *v)
{
	__atomic_fetch_sub(&v->counter, i, __ATOMIC_RELAXED);
}

/*
 * local64_t: in the kernel an add that is atomic against this CPU only
 * (no lock prefix on x86), for a word one CPU writes and others read.
 * Here a relaxed atomic: two threads may claim the same modelled CPU.
 */
struct pcpool_local64 {
	long long v;
};

#define local64_t struct pcpool_local64

static inline long long local64_read(const local64_t *l)
{
	return __atomic_load_n(&l->v, __ATOMIC_RELAXED);
}

static inline void local64_set(local64_t *l, long long i)
{
	__atomic_store_n(&l->v, i, __ATOMIC_RELAXED);
}

static inline void local64_add(long long i, local64_t *l)
{
	__atomic_fetch_add(&l->v, i, __ATOMIC_RELAXED);
}

static inline void *memchr_inv(const void *start, int c, size_t bytes)
{
	const unsigned char *p = (const unsigned char *)start;
	size_t i;

	for (i = 0; i < bytes; i++)
		if (p[i] != (unsigned char)c)
			return (void *)(p + i);
	return NULL;
}

/*
 * Atomic sections of this thread: pinned to a CPU, or a test saying so.
 * might_sleep() warns inside one, as the kernel's does with
 * CONFIG_DEBUG_ATOMIC_SLEEP.
 */
extern __thread unsigned int pcpool_pcpu_user_atomic;

/*
 * Pinning to a CPU: in the kernel, preemption off, so nothing else runs on
 * that CPU meanwhile.  Modelled with a mutex per CPU, taken by the thread
 * that is that CPU (pcpool_user_cpu) and by whatever pcpool_pcpu_on_cpu()
 * runs for it: the same exclusion, and TSan sees it.
 */
#define PCPOOL_PCPU_USER_MAX_CPUS	256
extern pthread_mutex_t pcpool_pcpu_user_cpu_lock[PCPOOL_PCPU_USER_MAX_CPUS];

static inline void pcpool_pcpu_pin_cpu(unsigned int cpu)
{
	pthread_mutex_lock(&pcpool_pcpu_user_cpu_lock[cpu]);
	pcpool_pcpu_user_atomic++;
}

static inline void pcpool_pcpu_unpin_cpu(unsigned int cpu)
{
	pcpool_pcpu_user_atomic--;
	pthread_mutex_unlock(&pcpool_pcpu_user_cpu_lock[cpu]);
}

static inline unsigned int pcpool_pcpu_get_cpu(void)
{
	unsigned int cpu = pcpool_user_cpu;

	pcpool_pcpu_pin_cpu(cpu);
	return cpu;
}

static inline void pcpool_pcpu_put_cpu(unsigned int cpu)
{
	pcpool_pcpu_unpin_cpu(cpu);
}

/* The calling thread acts as @cpu while @fn runs. */
static inline int pcpool_pcpu_on_cpu(unsigned int cpu, int (*fn)(void *),
				     void *arg)
{
	unsigned int old = pcpool_user_cpu;
	int ret;

	pcpool_user_cpu = cpu;
	ret = fn(arg);
	pcpool_user_cpu = old;
	return ret;
}

/* Sleeping is allowed wherever the kernel build says might_sleep(). */
static inline void might_sleep(void)
{
	WARN_ON_ONCE(pcpool_pcpu_user_atomic);
}

static inline void cond_resched(void)
{
}

/*
 * Poison / unpoison every CPU's copy of [p, p + size): the core poisons
 * what it holds (free objects, free chunk slots), so touching a freed
 * object is an ASan report.  No-ops without ASan, and in the kernel.
 */
static inline void pcpool_pcpu_asan_mark(void __percpu *p, size_t size,
					 bool poison)
{
#ifdef PCPOOL_PCPU_USER_ASAN
	int cpu;

	for_each_possible_cpu(cpu) {
		if (poison)
			ASAN_POISON_MEMORY_REGION(per_cpu_ptr((char *)p, cpu),
						  size);
		else
			ASAN_UNPOISON_MEMORY_REGION(per_cpu_ptr((char *)p, cpu),
						    size);
	}
#else
	(void)p;
	(void)size;
	(void)poison;
#endif
}

static inline void pcpool_pcpu_poison(void __percpu *p, size_t size)
{
	pcpool_pcpu_asan_mark(p, size, true);
}

static inline void pcpool_pcpu_unpoison(void __percpu *p, size_t size)
{
	pcpool_pcpu_asan_mark(p, size, false);
}

#ifdef __cplusplus
}
#endif

#endif /* _PCPOOL_PCPU_PLATFORM_H */
