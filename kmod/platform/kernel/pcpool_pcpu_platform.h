/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool per-CPU cache platform header, kernel world.
 *
 * What the per-CPU cache core (kmod/pcpu) needs beyond pcpool_platform.h:
 * __percpu pointers and per_cpu_ptr()/this_cpu_*(), the possible CPUs,
 * pinning to a CPU and running a function on one, atomics.
 * The kernel has them all.  The userspace twin
 * (kmod/platform/user/pcpool_pcpu_platform.h) models per-CPU memory as one
 * arena with a fixed distance between two CPUs' copies, as the kernel's
 * units are, and pinning as a mutex per CPU.
 */
#ifndef _PCPOOL_PCPU_PLATFORM_H
#define _PCPOOL_PCPU_PLATFORM_H

#include "pcpool_platform.h"

#include <asm/local64.h>
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/smp.h>
#include <linux/string.h>

/* Possible CPUs: per-CPU memory exists for each of them. */
static inline unsigned int pcpool_pcpu_nr_possible(void)
{
	return num_possible_cpus();
}

static inline bool pcpool_pcpu_cpu_possible(unsigned int cpu)
{
	return cpu_possible(cpu);
}

/*
 * Pin the calling task to its CPU and return it: preemption off, so no
 * other task runs on this CPU until pcpool_pcpu_put_cpu().  The core's
 * per-CPU magazines are used only this way.  Process context.
 */
static inline unsigned int pcpool_pcpu_get_cpu(void)
{
	preempt_disable();
	return smp_processor_id();
}

static inline void pcpool_pcpu_put_cpu(unsigned int cpu)
{
	preempt_enable();
}

/* The same, by a function that pcpool_pcpu_on_cpu() runs for @cpu. */
static inline void pcpool_pcpu_pin_cpu(unsigned int cpu)
{
	preempt_disable();
	WARN_ON_ONCE(cpu_online(cpu) && cpu != smp_processor_id());
}

static inline void pcpool_pcpu_unpin_cpu(unsigned int cpu)
{
	preempt_enable();
}

/*
 * Run @fn(@arg) on @cpu, in process context, and wait for it; an offline
 * CPU runs nothing, so there @fn runs here.  Hotplug is held off
 * meanwhile.  May sleep.
 */
static inline int pcpool_pcpu_on_cpu(unsigned int cpu, int (*fn)(void *),
				     void *arg)
{
	int ret;

	cpus_read_lock();
	if (cpu_online(cpu))
		ret = smp_call_on_cpu(cpu, fn, arg, false);
	else
		ret = fn(arg);
	cpus_read_unlock();
	return ret;
}

/*
 * The userspace build poisons cached objects for ASan; here KASAN would
 * need symbols a module does not get, so nothing.
 */
static inline void pcpool_pcpu_poison(void __percpu *p, size_t size)
{
}

static inline void pcpool_pcpu_unpoison(void __percpu *p, size_t size)
{
}

#endif /* _PCPOOL_PCPU_PLATFORM_H */
