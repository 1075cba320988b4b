// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool per-CPU backends' counters, for the PCPU_COUNTER workload: the
 * kernel's percpu_counter on pcpu-kernel, pcpool's dual-mode counter
 * (kmod/pcpu/pcpool_pcpu_counter.c) on pcpu-raw and pcpu-zeroed, with
 * its storage from the backend's 8-byte class.  pcpu-constructed has
 * none: the lazy counter touches only its own parts, so it cannot hand
 * storage back with every CPU's parts cancelling.
 */
#include <linux/gfp.h>
#include <linux/percpu_counter.h>

#include "pcpu.h"

/* @init, and @add/@sum/@destroy wrapped from the counter's own functions. */
#define PCPOOL_PCPU_CTR_OPS(var, type, initf, addf, sumf, destroyf)	\
static void var##_add(void *ctr, s64 delta)				\
{									\
	addf(ctr, delta);						\
}									\
static s64 var##_sum(void *ctr)						\
{									\
	return sumf(ctr);						\
}									\
static void var##_destroy(void *ctr)					\
{									\
	destroyf(ctr);							\
}									\
const struct pcpool_counter_ops var = {					\
	.size		= sizeof(type),					\
	.init		= initf,					\
	.add		= var##_add,					\
	.sum		= var##_sum,					\
	.destroy	= var##_destroy,				\
}

/* percpu_counter_init() takes percpu_counters_lock to list it for hotplug. */
static int pcpool_kctr_init(struct pcpool_backend *b, void *ctr)
{
	return percpu_counter_init(ctr, 0, GFP_KERNEL);
}

/* The sum is percpu_counter_sum(): exact, every online CPU under its lock. */
PCPOOL_PCPU_CTR_OPS(pcpool_pcpu_kernel_counter, struct percpu_counter,
		    pcpool_kctr_init, percpu_counter_add, percpu_counter_sum,
		    percpu_counter_destroy);

static int pcpool_dctr_init(struct pcpool_backend *b, void *ctr)
{
	struct pcpool_pcpu_bk *bk = b->priv;

	return pcpool_pcpu_counter_init(ctr, bk->cache[PCPOOL_PCPU_MIN_SHIFT]);
}

PCPOOL_PCPU_CTR_OPS(pcpool_pcpu_dual_counter, struct pcpool_pcpu_counter,
		    pcpool_dctr_init, pcpool_pcpu_counter_add,
		    pcpool_pcpu_counter_sum, pcpool_pcpu_counter_destroy);
