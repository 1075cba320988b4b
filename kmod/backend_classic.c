// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool classic backend: the portable zone + classic core (core/) wired
 * into the backend table, with the module-only parts: memory for the
 * core's metadata, module parameters, a shrinker and a CPU-hotplug drain.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

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

/*
 * Written under kernel_param_lock(THIS_MODULE): sysfs writes take it, and
 * init/exit take it to publish and retract classic_live, so a write lands
 * on a live classic or is only remembered for the next load.
 */
static bool classic_live;
static int classic_high, classic_batch;

static int classic_pcp_param_set(const char *val, const struct kernel_param *kp)
{
	int v, high, batch, ret;

	ret = kstrtoint(val, 0, &v);
	if (ret)
		return ret;
	if (v < 0)
		return -EINVAL;
	if (classic_live) {
		high = kp->arg == &classic_high ? v : READ_ONCE(classic->high);
		batch = kp->arg == &classic_batch ? v : READ_ONCE(classic->batch);
		/* 0 means "derived" at load; on a live classic it is invalid */
		ret = pcpool_classic_set_high_batch(classic, high, batch);
		if (ret)
			return ret;
	}
	*(int *)kp->arg = v;
	return 0;
}

static int classic_pcp_param_get(char *buf, const struct kernel_param *kp)
{
	int v = *(int *)kp->arg;

	if (classic_live)
		v = kp->arg == &classic_high ? READ_ONCE(classic->high) :
					       READ_ONCE(classic->batch);
	return sysfs_emit(buf, "%d\n", v);
}

static const struct kernel_param_ops classic_pcp_param_ops = {
	.set	= classic_pcp_param_set,
	.get	= classic_pcp_param_get,
};

module_param_cb(classic_high, &classic_pcp_param_ops, &classic_high, 0644);
MODULE_PARM_DESC(classic_high,
		 "classic pcp high in pages, like 6.1's pcp->high (0 at load: default); writable");
module_param_cb(classic_batch, &classic_pcp_param_ops, &classic_batch, 0644);
MODULE_PARM_DESC(classic_batch,
		 "classic pcp batch in pages (0 at load: default); writable");

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
	if (classic_high || classic_batch) {
		high = classic_high ?: classic->high;
		batch = classic_batch ?: classic->batch;
		ret = pcpool_classic_set_high_batch(classic, high, batch);
		if (ret) {
			pr_err("classic: bad classic_high=%d classic_batch=%d\n",
			       classic_high, classic_batch);
			goto free_classic;
		}
	}

	ret = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN,
					"pcpool/classic:dead", NULL,
					classic_cpu_dead);
	if (ret < 0)
		goto free_classic;
	classic_cpuhp = ret;
	ret = register_shrinker(&classic_shrinker, "pcpool-classic");
	if (ret)
		goto remove_cpuhp;
	kernel_param_lock(THIS_MODULE);
	classic_live = true;
	kernel_param_unlock(THIS_MODULE);
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
	kernel_param_lock(THIS_MODULE);
	classic_live = false;
	kernel_param_unlock(THIS_MODULE);
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
