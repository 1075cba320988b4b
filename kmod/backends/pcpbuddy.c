// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool pcpbuddy backend: the portable zone + pcpbuddy core (core/)
 * behind the backend ops, with the module-only parts: memory for the
 * core's metadata, module parameters, a shrinker and CPU hotplug.  Its
 * zone is its own, so runs of classic and pcpbuddy do not share memory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/irqflags.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/topology.h>

#include "backends.h"
#include "pcpool_kernel.h"
#include "pcpool_pcpbuddy.h"
#include "zone.h"

PCPOOL_ZONE_PARAMS(pcpbuddy_);

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

struct pcpbuddy_state {
	struct pcpool_zone_host zh;
	struct pcpool_pcpbuddy *pcpbuddy;
	/*
	 * Serializes the shrinker with hotplug drains.  Needs no memory: the
	 * core drain walks every pool and skips empty ones without a mask.
	 */
	struct mutex drain_mutex;
};

/* b->priv is the state and the zone host both (zone.h). */
static_assert(offsetof(struct pcpbuddy_state, zh) == 0);

static unsigned long pcpbuddy_shrink_count(void *priv)
{
	struct pcpbuddy_state *st = priv;

	return pcpool_pcpbuddy_shrink_count(st->pcpbuddy);
}

static unsigned long pcpbuddy_shrink_scan(void *priv, unsigned long nr)
{
	struct pcpbuddy_state *st = priv;
	unsigned long freed;

	/* Reclaim must not wait on a hotplug drain. */
	if (!mutex_trylock(&st->drain_mutex))
		return SHRINK_STOP;
	freed = pcpool_pcpbuddy_shrink(st->pcpbuddy, nr);
	mutex_unlock(&st->drain_mutex);
	return freed;
}

/* Before a CPU comes (back) up: its pool takes frees again. */
static int pcpbuddy_cpu_prepare(unsigned int cpu, struct hlist_node *node)
{
	struct pcpbuddy_state *st =
		hlist_entry(node, struct pcpbuddy_state, zh.cpuhp_node);

	pcpool_pcpbuddy_cpu_online(st->pcpbuddy, cpu);
	return 0;
}

/*
 * A dead CPU's pool is emptied, remote-free list included; frees to its
 * blocks go to the zone.
 */
static int pcpbuddy_cpu_dead(unsigned int cpu, struct hlist_node *node)
{
	struct pcpbuddy_state *st =
		hlist_entry(node, struct pcpbuddy_state, zh.cpuhp_node);

	mutex_lock(&st->drain_mutex);
	pcpool_pcpbuddy_cpu_dead(st->pcpbuddy, cpu);
	mutex_unlock(&st->drain_mutex);
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
	unsigned long blocks = pcpool_zone_limit_blocks(zone) / (2 * nr_cpu_ids);

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

/* Sizes, nodes, remote-free mode and front cache from the parameters. */
static int pcpbuddy_configure(struct pcpool_pcpbuddy *pb,
			      enum pcpool_pcpbuddy_remote remote,
			      unsigned long high, unsigned long batch)
{
	unsigned int cpu;

	if (pcpool_pcpbuddy_set_high_batch(pb, high, batch))
		pr_warn("pcpbuddy: high %lu batch %lu refused, core defaults kept\n",
			high, batch);
	for_each_possible_cpu(cpu)
		pcpool_pcpbuddy_set_node(pb, cpu, cpu_to_node(cpu));
	pcpool_pcpbuddy_set_remote_free(pb, remote);
	if (pcpbuddy_front_high < -1 ||
	    pcpool_pcpbuddy_set_front(pb, pcpbuddy_front_high < 0 ?
				      min(pb->zone->block_pages, pb->high) :
				      pcpbuddy_front_high)) {
		pr_err("pcpbuddy_front_high must be -1, or 0 to high (%lu)\n",
		       pb->high);
		return -EINVAL;
	}
	return 0;
}

static void pcpbuddy_drain(struct pcpool_zone_host *zh,
			   struct pcpool_drain_result *r)
{
	struct pcpbuddy_state *st = container_of(zh, struct pcpbuddy_state, zh);

	mutex_lock(&st->drain_mutex);
	pcpool_pcpbuddy_drain_all_count(st->pcpbuddy, r);
	mutex_unlock(&st->drain_mutex);
}

static void pcpbuddy_show_pools(struct pcpool_zone_host *zh,
				struct seq_file *m)
{
	struct pcpbuddy_state *st = container_of(zh, struct pcpbuddy_state, zh);
	struct pcpool_pcpbuddy_pool_state s;
	unsigned int cpu;

	seq_puts(m, "cpu node pages owned_blocks whole_blocks front_pages remote_chunks remote_pages dead\n");
	for_each_possible_cpu(cpu) {
		if (pcpool_pcpbuddy_get_pool_state(st->pcpbuddy, cpu, &s))
			continue;
		seq_printf(m, "%u %d %lu %lu %lu %lu %lu %lu %d\n", cpu,
			   READ_ONCE(st->pcpbuddy->node[cpu]), s.pages,
			   s.owned_blocks, s.whole_blocks, s.front_pages,
			   s.remote_chunks, s.remote_pages, s.dead);
	}
}

static unsigned long pcpbuddy_cached_pages(struct pcpool_zone_host *zh)
{
	struct pcpbuddy_state *st = container_of(zh, struct pcpbuddy_state, zh);

	return pcpool_pcpbuddy_pool_pages(st->pcpbuddy);
}

static void pcpbuddy_drain_all(struct pcpool_zone_host *zh)
{
	struct pcpool_drain_result r;

	pcpbuddy_drain(zh, &r);
}

static const struct pcpool_zone_host_desc pcpbuddy_host = {
	.name		= "pcpbuddy",
	.cpuhp_name	= "pcpool/pcpbuddy:prepare",
	.cpu_prepare	= pcpbuddy_cpu_prepare,
	.cpu_dead	= pcpbuddy_cpu_dead,
	.shrinker	= { .name = "pcpool-pcpbuddy",
			    .count = pcpbuddy_shrink_count,
			    .scan = pcpbuddy_shrink_scan },
	.meta_size	= pcpool_pcpbuddy_meta_size,
	.drain		= pcpbuddy_drain,
	.show_pools	= pcpbuddy_show_pools,
	.cached_pages	= pcpbuddy_cached_pages,
	.drain_all	= pcpbuddy_drain_all,
};

static int pcpbuddy_init(struct pcpool_backend *b)
{
	enum pcpool_pcpbuddy_remote remote;
	unsigned long high, batch, reserve;
	struct pcpbuddy_state *st;
	int ret;

	if (!pcpbuddy_remote_free || pcpbuddy_remote_mode(&remote)) {
		pr_err("pcpbuddy_remote_free must be \"list\" or \"lock\"\n");
		return -EINVAL;
	}
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	mutex_init(&st->drain_mutex);
	ret = pcpool_zone_host_setup(&st->zh, &pcpbuddy_host,
				     pcpbuddy_zone_limit_blocks,
				     pcpbuddy_zone_reserve_blocks);
	if (ret)
		goto free_st;
	pcpbuddy_sizes(st->zh.kz.zone, &high, &batch, &reserve);
	ret = pcpool_pcpbuddy_init(st->zh.meta, st->zh.meta_size,
				   st->zh.kz.zone, reserve, &st->pcpbuddy);
	if (!ret)
		ret = pcpbuddy_configure(st->pcpbuddy, remote, high, batch);
	if (!ret)
		ret = pcpool_zone_host_start(&st->zh, st);
	if (ret)
		goto teardown;
	b->priv = st;
	return 0;

teardown:
	pcpool_zone_host_teardown(&st->zh);
free_st:
	mutex_destroy(&st->drain_mutex);
	kfree(st);
	return ret;
}

static void pcpbuddy_exit(struct pcpool_backend *b)
{
	struct pcpbuddy_state *st = b->priv;

	pcpool_zone_host_stop(&st->zh);
	pcpool_pcpbuddy_destroy(st->pcpbuddy);
	if (pcpool_pcpbuddy_pool_pages(st->pcpbuddy))
		pr_err("pcpbuddy: pages left in the pools at unload\n");
	pcpool_zone_host_teardown(&st->zh);
	mutex_destroy(&st->drain_mutex);
	kfree(st);
}

/* A page from the core, if any, zeroed as init_on_alloc asks, into *@obj. */
static int pcpbuddy_hand_out(struct page *page, unsigned int order,
			     union pcpool_obj *obj)
{
	if (!page)
		return -ENOMEM;
	pcpool_init_on_alloc(page, order);
	obj->page = page;
	return 0;
}

static int pcpbuddy_alloc(struct pcpool_backend *b, size_t size, size_t align,
			  gfp_t gfp, union pcpool_obj *obj)
{
	struct pcpbuddy_state *st = b->priv;
	unsigned int order = get_order(size);

	return pcpbuddy_hand_out(pcpool_pcpbuddy_alloc_mt(st->pcpbuddy, order,
							  pcpool_gfp_mt(gfp)),
				 order, obj);
}

static void pcpbuddy_free(struct pcpool_backend *b, union pcpool_obj obj,
			  size_t size, size_t align)
{
	struct pcpbuddy_state *st = b->priv;
	unsigned int order = get_order(size);

	pcpool_init_on_free(obj.page, order);
	pcpool_pcpbuddy_free(st->pcpbuddy, obj.page, order);
}

/*
 * The interrupt-safe pair: the core's _nowait entry points want local
 * interrupts off (their counters are per CPU, without atomics).  The
 * process-context ops above stay as they were.
 */
static int pcpbuddy_alloc_nowait(struct pcpool_backend *b, size_t size,
				 size_t align, gfp_t gfp, union pcpool_obj *obj)
{
	struct pcpbuddy_state *st = b->priv;
	unsigned int order = get_order(size);
	unsigned long flags;
	struct page *page;

	local_irq_save(flags);
	page = pcpool_pcpbuddy_alloc_nowait_mt(st->pcpbuddy, order,
					       pcpool_gfp_mt(gfp));
	local_irq_restore(flags);
	return pcpbuddy_hand_out(page, order, obj);
}

static void pcpbuddy_free_any(struct pcpool_backend *b, union pcpool_obj obj,
			      size_t size, size_t align)
{
	struct pcpbuddy_state *st = b->priv;
	unsigned int order = get_order(size);
	unsigned long flags;

	pcpool_init_on_free(obj.page, order);
	local_irq_save(flags);
	pcpool_pcpbuddy_free_nowait(st->pcpbuddy, obj.page, order);
	local_irq_restore(flags);
}

static void pcpbuddy_show(struct pcpool_backend *b, struct seq_file *m)
{
	struct pcpbuddy_state *st = b->priv;

	pcpool_pcpbuddy_counters(st->pcpbuddy, pcpool_kernel_seq_emit, m);
}

static void pcpbuddy_reset(struct pcpool_backend *b)
{
	struct pcpbuddy_state *st = b->priv;

	pcpool_pcpbuddy_reset_counters(st->pcpbuddy);
}

const struct pcpool_backend_ops pcpool_pcpbuddy_ops = {
	.name		= "pcpbuddy",
	.max_order	= pageblock_order,
	.init		= pcpbuddy_init,
	.exit		= pcpbuddy_exit,
	.alloc		= pcpbuddy_alloc,
	.free		= pcpbuddy_free,
	.alloc_nowait	= pcpbuddy_alloc_nowait,
	.free_any	= pcpbuddy_free_any,
	.show_counters	= pcpbuddy_show,
	.reset_counters	= pcpbuddy_reset,
	.debugfs_init	= pcpool_zone_host_debugfs,
	.frag		= pcpool_zone_host_frag,
};
