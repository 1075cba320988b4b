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

/* percpu_counter_init() takes percpu_counters_lock to list it for hotplug. */
static int pcpool_kctr_init(struct pcpool_backend *b, void *ctr)
{
	return percpu_counter_init(ctr, 0, GFP_KERNEL);
}

static void pcpool_kctr_add(void *ctr, s64 delta)
{
	percpu_counter_add(ctr, delta);
}

/* The exact value: every online CPU under the counter's lock. */
static s64 pcpool_kctr_sum(void *ctr)
{
	return percpu_counter_sum(ctr);
}

static void pcpool_kctr_destroy(void *ctr)
{
	percpu_counter_destroy(ctr);
}

const struct pcpool_counter_ops pcpool_pcpu_kernel_counter = {
	.size		= sizeof(struct percpu_counter),
	.init		= pcpool_kctr_init,
	.add		= pcpool_kctr_add,
	.sum		= pcpool_kctr_sum,
	.destroy	= pcpool_kctr_destroy,
};

static int pcpool_dctr_init(struct pcpool_backend *b, void *ctr)
{
	struct pcpool_pcpu_bk *bk = b->priv;

	return pcpool_pcpu_counter_init(ctr, bk->cache[PCPOOL_PCPU_MIN_SHIFT]);
}

static void pcpool_dctr_add(void *ctr, s64 delta)
{
	pcpool_pcpu_counter_add(ctr, delta);
}

static s64 pcpool_dctr_sum(void *ctr)
{
	return pcpool_pcpu_counter_sum(ctr);
}

static void pcpool_dctr_destroy(void *ctr)
{
	pcpool_pcpu_counter_destroy(ctr);
}

const struct pcpool_counter_ops pcpool_pcpu_dual_counter = {
	.size		= sizeof(struct pcpool_pcpu_counter),
	.init		= pcpool_dctr_init,
	.add		= pcpool_dctr_add,
	.sum		= pcpool_dctr_sum,
	.destroy	= pcpool_dctr_destroy,
};
