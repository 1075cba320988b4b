// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool pcpbuddy backend: the portable zone + pcpbuddy core (core/)
 * wired into the backend table, with the module-only parts: memory for the
 * core's metadata, module parameters, a shrinker and CPU hotplug.  Its
 * zone is its own, so runs of classic and pcpbuddy do not share memory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/topology.h>

#include "pcpool.h"
#include "pcpool_pcpbuddy.h"
#include "pcpool_kernel.h"

static unsigned long pcpbuddy_zone_limit_blocks;
module_param(pcpbuddy_zone_limit_blocks, ulong, 0444);
MODULE_PARM_DESC(pcpbuddy_zone_limit_blocks,
		 "Most pageblocks the pcpbuddy zone holds (0: a quarter of RAM)");

static unsigned long pcpbuddy_zone_reserve_blocks = 4;
module_param(pcpbuddy_zone_reserve_blocks, ulong, 0444);
MODULE_PARM_DESC(pcpbuddy_zone_reserve_blocks,
		 "Whole free pageblocks the pcpbuddy zone keeps instead of giving back");

static unsigned long pcpbuddy_pool_reserve;
module_param(pcpbuddy_pool_reserve, ulong, 0444);
MODULE_PARM_DESC(pcpbuddy_pool_reserve,
		 "Entirely free pageblocks a CPU's pool keeps (0: half of high)");

static unsigned long pcpbuddy_high;
module_param(pcpbuddy_high, ulong, 0444);
MODULE_PARM_DESC(pcpbuddy_high,
		 "Free pages a pool holds before draining (0: from the zone limit)");

static unsigned long pcpbuddy_batch;
module_param(pcpbuddy_batch, ulong, 0444);
MODULE_PARM_DESC(pcpbuddy_batch,
		 "A drain leaves high - batch pages (0: a quarter of high)");

static long pcpbuddy_front_high = -1;
module_param(pcpbuddy_front_high, long, 0444);
MODULE_PARM_DESC(pcpbuddy_front_high,
		 "Order-0 pages a pool caches ahead of its buddy lists (-1: one pageblock, 0: off, at most high)");

static char *pcpbuddy_remote_free = "list";
module_param(pcpbuddy_remote_free, charp, 0444);
MODULE_PARM_DESC(pcpbuddy_remote_free,
		 "A free of another CPU's page: \"list\" (lock-free, absorbed by the owner) or \"lock\" (under the owner's pool lock)");

/* Default pool size bounds, in pageblocks. */
#define PCPBUDDY_HIGH_MIN_BLOCKS	2
#define PCPBUDDY_HIGH_MAX_BLOCKS	64

static void *pcpbuddy_zone_meta, *pcpbuddy_meta;
static struct pcpool_zone *pcpbuddy_zone;
static struct pcpool_pcpbuddy *pcpbuddy;
static enum cpuhp_state pcpbuddy_cpuhp;
/*
 * Serializes the shrinker with hotplug drains.  Needs no memory: the core
 * drain walks every pool and skips empty ones without a mask.
 */
static DEFINE_MUTEX(pcpbuddy_drain_mutex);

static unsigned long pcpbuddy_shrink_count(struct shrinker *s,
					   struct shrink_control *sc)
{
	return pcpool_pcpbuddy_shrink_count(pcpbuddy) ?: SHRINK_EMPTY;
}

static unsigned long pcpbuddy_shrink_scan(struct shrinker *s,
					  struct shrink_control *sc)
{
	unsigned long freed;

	/* Reclaim must not wait on a hotplug drain. */
	if (!mutex_trylock(&pcpbuddy_drain_mutex))
		return SHRINK_STOP;
	freed = pcpool_pcpbuddy_shrink(pcpbuddy, sc->nr_to_scan);
	mutex_unlock(&pcpbuddy_drain_mutex);
	return freed;
}

static struct shrinker pcpbuddy_shrinker = {
	.count_objects	= pcpbuddy_shrink_count,
	.scan_objects	= pcpbuddy_shrink_scan,
	.seeks		= DEFAULT_SEEKS,
};

/* Before a CPU comes (back) up: its pool takes frees again. */
static int pcpbuddy_cpu_prepare(unsigned int cpu)
{
	pcpool_pcpbuddy_cpu_online(pcpbuddy, cpu);
	return 0;
}

/*
 * A dead CPU's pool is emptied, remote-free list included; frees to its
 * blocks go to the zone.
 */
static int pcpbuddy_cpu_dead(unsigned int cpu)
{
	mutex_lock(&pcpbuddy_drain_mutex);
	pcpool_pcpbuddy_cpu_dead(pcpbuddy, cpu);
	mutex_unlock(&pcpbuddy_drain_mutex);
	return 0;
}

/*
 * high: pools together may cache half of the zone's limit, split over the
 * CPUs, 2..64 blocks each.  The zone limit is the memory budget already
 * (a quarter of RAM by default), and pooled whole blocks are what keeps
 * the zone lock out of the way; the shrinker takes them back.
 */
static void pcpbuddy_sizes(struct pcpool_zone *zone, unsigned long *high,
			   unsigned long *batch, unsigned long *reserve)
{
	unsigned long blocks = zone->limit / (2 * nr_cpu_ids);

	blocks = clamp_t(unsigned long, blocks, PCPBUDDY_HIGH_MIN_BLOCKS,
			 PCPBUDDY_HIGH_MAX_BLOCKS);
	*high = pcpbuddy_high ?: blocks * zone->block_pages;
	*batch = pcpbuddy_batch ?: max(*high / 4, 1UL);
	*reserve = pcpbuddy_pool_reserve ?:
		   max(*high / zone->block_pages / 2, 1UL);
}

static int pcpbuddy_remote_mode(enum pcpool_pcpbuddy_remote *mode)
{
	if (sysfs_streq(pcpbuddy_remote_free, "list"))
		*mode = PCPOOL_PCPBUDDY_REMOTE_LIST;
	else if (sysfs_streq(pcpbuddy_remote_free, "lock"))
		*mode = PCPOOL_PCPBUDDY_REMOTE_LOCK;
	else
		return -EINVAL;
	return 0;
}

static int pcpool_pcpbuddy_backend_init(void)
{
	enum pcpool_pcpbuddy_remote remote;
	unsigned long high, batch, reserve;
	struct pcpool_zone_config cfg;
	unsigned int cpu;
	size_t size;
	int ret;

	if (!pcpbuddy_remote_free || pcpbuddy_remote_mode(&remote)) {
		pr_err("pcpbuddy_remote_free must be \"list\" or \"lock\"\n");
		return -EINVAL;
	}

	pcpool_kernel_zone_config(&cfg, pcpbuddy_zone_limit_blocks,
				  pcpbuddy_zone_reserve_blocks);
	size = pcpool_zone_meta_size(&cfg);
	pcpbuddy_zone_meta = kvzalloc(size, GFP_KERNEL);
	if (!pcpbuddy_zone_meta)
		return -ENOMEM;
	ret = pcpool_zone_init(pcpbuddy_zone_meta, size, &cfg, &pcpbuddy_zone);
	if (ret)
		goto free_zone;

	size = pcpool_pcpbuddy_meta_size(pcpbuddy_zone);
	pcpbuddy_meta = kvzalloc(size, GFP_KERNEL);
	ret = -ENOMEM;
	if (!pcpbuddy_meta)
		goto free_zone;
	pcpbuddy_sizes(pcpbuddy_zone, &high, &batch, &reserve);
	ret = pcpool_pcpbuddy_init(pcpbuddy_meta, size, pcpbuddy_zone,
				   reserve, &pcpbuddy);
	if (ret)
		goto free_pcpbuddy;
	if (pcpool_pcpbuddy_set_high_batch(pcpbuddy, high, batch))
		pr_warn("pcpbuddy: high %lu batch %lu refused, core defaults kept\n",
			high, batch);
	for_each_possible_cpu(cpu)
		pcpool_pcpbuddy_set_node(pcpbuddy, cpu, cpu_to_node(cpu));
	pcpool_pcpbuddy_set_remote_free(pcpbuddy, remote);
	ret = -EINVAL;
	if (pcpbuddy_front_high < -1 ||
	    pcpool_pcpbuddy_set_front(pcpbuddy, pcpbuddy_front_high < 0 ?
				      min(pcpbuddy_zone->block_pages,
					  pcpbuddy->high) :
				      pcpbuddy_front_high)) {
		pr_err("pcpbuddy_front_high must be -1, or 0 to high (%lu)\n",
		       pcpbuddy->high);
		goto free_pcpbuddy;
	}

	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN,
					"pcpool/pcpbuddy:prepare",
					pcpbuddy_cpu_prepare, pcpbuddy_cpu_dead);
	if (ret < 0)
		goto free_pcpbuddy;
	pcpbuddy_cpuhp = ret;
	ret = register_shrinker(&pcpbuddy_shrinker, "pcpool-pcpbuddy");
	if (ret)
		goto remove_cpuhp;
	return 0;

remove_cpuhp:
	cpuhp_remove_state_nocalls(pcpbuddy_cpuhp);
free_pcpbuddy:
	kvfree(pcpbuddy_meta);
free_zone:
	kvfree(pcpbuddy_zone_meta);
	return ret;
}

static void pcpool_pcpbuddy_backend_exit(void)
{
	unregister_shrinker(&pcpbuddy_shrinker);
	cpuhp_remove_state_nocalls(pcpbuddy_cpuhp);
	pcpool_pcpbuddy_destroy(pcpbuddy);
	if (pcpool_pcpbuddy_pool_pages(pcpbuddy))
		pr_err("pcpbuddy: pages left in the pools at unload\n");
	if (pcpool_zone_destroy(pcpbuddy_zone))
		pr_err("pcpbuddy: zone blocks still in use at unload, leaked\n");
	kvfree(pcpbuddy_meta);
	kvfree(pcpbuddy_zone_meta);
}

static int pcpool_pcpbuddy_backend_alloc(unsigned int order,
					 union pcpool_obj *obj)
{
	struct page *page = pcpool_pcpbuddy_alloc(pcpbuddy, order);

	if (!page)
		return -ENOMEM;
	obj->page = page;
	return 0;
}

static void pcpool_pcpbuddy_backend_free(union pcpool_obj obj,
					 unsigned int order)
{
	pcpool_pcpbuddy_free(pcpbuddy, obj.page, order);
}

static void pcpool_pcpbuddy_backend_show(struct seq_file *m)
{
	pcpool_pcpbuddy_counters(pcpbuddy, pcpool_kernel_seq_emit, m);
}

static void pcpool_pcpbuddy_backend_reset(void)
{
	pcpool_pcpbuddy_reset_counters(pcpbuddy);
}

const struct pcpool_backend_ops pcpool_pcpbuddy_ops = {
	.name		= "pcpbuddy",
	.max_order	= pageblock_order,
	.init		= pcpool_pcpbuddy_backend_init,
	.exit		= pcpool_pcpbuddy_backend_exit,
	.alloc		= pcpool_pcpbuddy_backend_alloc,
	.free		= pcpool_pcpbuddy_backend_free,
	.show_counters	= pcpool_pcpbuddy_backend_show,
	.reset_counters	= pcpool_pcpbuddy_backend_reset,
};
