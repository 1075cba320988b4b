/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool: the page cap a session's memory is charged against, and the
 * one loop helper every long-running command uses.  Shared by the
 * session, the channels and the run engine; knows none of them.
 */
#ifndef _PCPOOL_CAP_H
#define _PCPOOL_CAP_H

#include <linux/atomic.h>
#include <linux/errno.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/types.h>

struct pcpool_cap {
	atomic_long_t pages;	/* charged now */
	unsigned long max;	/* fixed when the owner is created */
};

static inline void pcpool_cap_init(struct pcpool_cap *cap, unsigned long max)
{
	atomic_long_set(&cap->pages, 0);
	cap->max = max;
}

/* Exact: a charge that would pass the cap fails and changes nothing. */
static inline int pcpool_charge(struct pcpool_cap *cap, unsigned long pages)
{
	long old = atomic_long_read(&cap->pages);

	do {
		if (pages > cap->max - (unsigned long)old)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&cap->pages, &old, old + pages));
	return 0;
}

static inline void pcpool_uncharge(struct pcpool_cap *cap, unsigned long pages)
{
	atomic_long_sub(pages, &cap->pages);
}

/* Loop iterations between two pcpool_yield() calls. */
#define PCPOOL_YIELD_EVERY	1024U

/* Give the CPU away; -EINTR once the task has been killed. */
static inline int pcpool_yield(void)
{
	if (fatal_signal_pending(current))
		return -EINTR;
	cond_resched();
	return 0;
}

/*
 * Called after a step of @n iterations, with the count done so far:
 * yields whenever the step crossed a multiple of PCPOOL_YIELD_EVERY.
 */
static inline int pcpool_tick_n(u64 done, u64 n)
{
	if ((done - n) / PCPOOL_YIELD_EVERY == done / PCPOOL_YIELD_EVERY)
		return 0;
	return pcpool_yield();
}

/* The same after each single iteration. */
static inline int pcpool_tick(u64 done)
{
	return pcpool_tick_n(done, 1);
}

#endif /* _PCPOOL_CAP_H */
