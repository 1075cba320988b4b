// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool classic backend: the portable zone + classic core (core/) wired
 * into the backend table, with the module-only parts: memory for the
 * core's metadata, module parameters, a shrinker and a CPU-hotplug drain.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

#include "pcpool.h"
#include "pcpool_classic.h"
#include "pcpool_kernel.h"

static unsigned long zone_limit_blocks;
module_param(zone_limit_blocks, ulong, 0444);
MODULE_PARM_DESC(zone_limit_blocks,
		 "Most pageblocks the classic zone holds (0: a quarter of RAM)");

static unsigned long zone_reserve_blocks = 4;
module_param(zone_reserve_blocks, ulong, 0444);
MODULE_PARM_DESC(zone_reserve_blocks,
		 "Whole free pageblocks the zone keeps instead of giving back");

static bool classic_kernel_pcp = true;
module_param(classic_kernel_pcp, bool, 0444);
MODULE_PARM_DESC(classic_kernel_pcp,
		 "Copy the running kernel's pcp high/batch (else derive from the zone limit)");

static void *classic_zone_meta, *classic_meta;
static struct pcpool_zone *classic_zone;
static struct pcpool_classic *classic;
static enum cpuhp_state classic_cpuhp;

static unsigned long classic_shrink_count(struct shrinker *s,
					  struct shrink_control *sc)
{
	return pcpool_classic_shrink_count(classic) ?: SHRINK_EMPTY;
}

static unsigned long classic_shrink_scan(struct shrinker *s,
					 struct shrink_control *sc)
{
	return pcpool_classic_shrink(classic, sc->nr_to_scan);
}

static struct shrinker classic_shrinker = {
	.count_objects	= classic_shrink_count,
	.scan_objects	= classic_shrink_scan,
	.seeks		= DEFAULT_SEEKS,
};

/* Like 6.1's page_alloc_cpu_dead(): a dead CPU's lists go to the zone. */
static int classic_cpu_dead(unsigned int cpu)
{
	pcpool_classic_drain_cpu(classic, cpu);
	return 0;
}

static int pcpool_classic_backend_init(void)
{
	struct pcpool_zone_config cfg;
	size_t size;
	int ret, high, batch;

	pcpool_kernel_zone_config(&cfg, zone_limit_blocks, zone_reserve_blocks);
	size = pcpool_zone_meta_size(&cfg);
	classic_zone_meta = kvzalloc(size, GFP_KERNEL);
	if (!classic_zone_meta)
		return -ENOMEM;
	ret = pcpool_zone_init(classic_zone_meta, size, &cfg, &classic_zone);
	if (ret)
		goto free_zone;

	size = pcpool_classic_meta_size(classic_zone);
	classic_meta = kvzalloc(size, GFP_KERNEL);
	ret = -ENOMEM;
	if (!classic_meta)
		goto free_zone;
	ret = pcpool_classic_init(classic_meta, size, classic_zone,
				  nr_cpu_ids, &classic);
	if (ret)
		goto free_classic;
	if (classic_kernel_pcp && pcpool_kernel_pcp_high_batch(&high, &batch))
		pcpool_classic_set_high_batch(classic, high, batch);

	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN,
					"pcpool/classic:dead", NULL,
					classic_cpu_dead);
	if (ret < 0)
		goto free_classic;
	classic_cpuhp = ret;
	ret = register_shrinker(&classic_shrinker, "pcpool-classic");
	if (ret)
		goto remove_cpuhp;
	return 0;

remove_cpuhp:
	cpuhp_remove_state_nocalls(classic_cpuhp);
free_classic:
	kvfree(classic_meta);
free_zone:
	kvfree(classic_zone_meta);
	return ret;
}

static void pcpool_classic_backend_exit(void)
{
	unregister_shrinker(&classic_shrinker);
	cpuhp_remove_state_nocalls(classic_cpuhp);
	pcpool_classic_destroy(classic);
	if (pcpool_zone_destroy(classic_zone))
		pr_err("classic: zone blocks still in use at unload, leaked\n");
	kvfree(classic_meta);
	kvfree(classic_zone_meta);
}

static int pcpool_classic_backend_alloc(unsigned int order,
					union pcpool_obj *obj)
{
	struct page *page = pcpool_classic_alloc(classic, order);

	if (!page)
		return -ENOMEM;
	obj->page = page;
	return 0;
}

static void pcpool_classic_backend_free(union pcpool_obj obj,
					unsigned int order)
{
	pcpool_classic_free(classic, obj.page, order);
}

static void pcpool_classic_backend_show(struct seq_file *m)
{
	pcpool_classic_counters(classic, pcpool_kernel_seq_emit, m);
}

static void pcpool_classic_backend_reset(void)
{
	pcpool_classic_reset_counters(classic);
}

const struct pcpool_backend_ops pcpool_classic_ops = {
	.name		= "classic",
	.max_order	= pageblock_order,
	.init		= pcpool_classic_backend_init,
	.exit		= pcpool_classic_backend_exit,
	.alloc		= pcpool_classic_backend_alloc,
	.free		= pcpool_classic_backend_free,
	.show_counters	= pcpool_classic_backend_show,
	.reset_counters	= pcpool_classic_backend_reset,
};
