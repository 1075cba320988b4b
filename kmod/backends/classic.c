// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool classic backend: the portable zone + classic PCP core (core/)
 * behind the backend ops, with the module-only parts: memory for the
 * core's metadata, module parameters, a shrinker and a CPU-hotplug drain.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "../param.h"
#include "backends.h"
#include "pcpool_classic.h"
#include "pcpool_kernel.h"
#include "zone.h"

/* unprefixed: the first backend's names, kept for scripts that use them */
PCPOOL_ZONE_PARAMS();

static bool classic_kernel_pcp = true;
module_param(classic_kernel_pcp, bool, 0444);
MODULE_PARM_DESC(classic_kernel_pcp,
		 "Copy the running kernel's pcp high/batch (else derive from the zone limit)");

struct classic_state {
	struct pcpool_zone_host zh;
	struct pcpool_classic *classic;
};

/* b->priv is the state and the zone host both (zone.h). */
static_assert(offsetof(struct classic_state, zh) == 0);

/*
 * The loaded classic, for the writable parameters.  Written under
 * kernel_param_lock(THIS_MODULE): sysfs writes take it, and init/exit
 * take it to publish and retract it, so a write lands on a live classic
 * or is only remembered for the next load.
 */
static struct pcpool_classic *classic_live;
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
		high = kp->arg == &classic_high ? v : READ_ONCE(classic_live->high);
		batch = kp->arg == &classic_batch ? v : READ_ONCE(classic_live->batch);
		/* 0 means "derived" at load; on a live classic it is invalid */
		ret = pcpool_classic_set_high_batch(classic_live, high, batch);
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
		v = kp->arg == &classic_high ? READ_ONCE(classic_live->high) :
					       READ_ONCE(classic_live->batch);
	return sysfs_emit(buf, "%d\n", v);
}

PCPOOL_PARAM_OPS(classic_pcp, classic_pcp_param_set, classic_pcp_param_get);
module_param_cb(classic_high, &classic_pcp_param_ops, &classic_high, 0644);
MODULE_PARM_DESC(classic_high,
		 "classic pcp high in pages, like 6.1's pcp->high (0 at load: default); writable");
module_param_cb(classic_batch, &classic_pcp_param_ops, &classic_batch, 0644);
MODULE_PARM_DESC(classic_batch,
		 "classic pcp batch in pages (0 at load: default); writable");

/* The shrinker's private pointer is the core. */
static unsigned long classic_shrink_count(void *classic)
{
	return pcpool_classic_shrink_count(classic);
}

static unsigned long classic_shrink_scan(void *classic, unsigned long nr)
{
	return pcpool_classic_shrink(classic, nr);
}

/* Like 6.1's page_alloc_cpu_dead(): a dead CPU's lists go to the zone. */
static int classic_cpu_dead(unsigned int cpu, struct hlist_node *node)
{
	struct classic_state *st =
		hlist_entry(node, struct classic_state, zh.cpuhp_node);

	pcpool_classic_drain_cpu(st->classic, cpu);
	return 0;
}

/* The kernel's own pcp sizes, then the parameters over them. */
static int classic_set_sizes(struct pcpool_classic *classic)
{
	int high, batch;

	if (classic_kernel_pcp && pcpool_kernel_pcp_high_batch(&high, &batch))
		pcpool_classic_set_high_batch(classic, high, batch);
	if (!classic_high && !classic_batch)
		return 0;
	high = classic_high ?: classic->high;
	batch = classic_batch ?: classic->batch;
	if (pcpool_classic_set_high_batch(classic, high, batch)) {
		pr_err("classic: bad classic_high=%d classic_batch=%d\n",
		       classic_high, classic_batch);
		return -EINVAL;
	}
	return 0;
}

/* As a shrinker pass would: CPUs with empty lists are skipped. */
static void classic_drain(struct pcpool_zone_host *zh,
			  struct pcpool_drain_result *r)
{
	struct classic_state *st = container_of(zh, struct classic_state, zh);

	pcpool_classic_drain_all_count(st->classic, false, r);
}

static void classic_show_pools(struct pcpool_zone_host *zh, struct seq_file *m)
{
	struct classic_state *st = container_of(zh, struct classic_state, zh);
	struct pcpool_classic_pcp_state s;
	unsigned int cpu, o;

	seq_puts(m, "cpu pages high batch");
	for (o = 0; o < PCPOOL_CLASSIC_NR_ORDERS; o++)
		seq_printf(m, " order%u", o);
	seq_putc(m, '\n');
	for_each_possible_cpu(cpu) {
		if (pcpool_classic_get_pcp_state(st->classic, cpu, &s))
			continue;
		seq_printf(m, "%u %d %d %d", cpu, s.count, s.high, s.batch);
		for (o = 0; o < PCPOOL_CLASSIC_NR_ORDERS; o++)
			seq_printf(m, " %lu", s.chunks[o]);
		seq_putc(m, '\n');
	}
}

static unsigned long classic_cached_pages(struct pcpool_zone_host *zh)
{
	struct classic_state *st = container_of(zh, struct classic_state, zh);

	return pcpool_classic_pcp_pages(st->classic);
}

static void classic_drain_all(struct pcpool_zone_host *zh)
{
	struct classic_state *st = container_of(zh, struct classic_state, zh);

	pcpool_classic_drain_all(st->classic, true);
}

static const struct pcpool_zone_host_desc classic_host = {
	.name		= "classic",
	.cpuhp_name	= "pcpool/classic:dead",
	.cpu_dead	= classic_cpu_dead,
	.shrinker	= { .name = "pcpool-classic",
			    .count = classic_shrink_count,
			    .scan = classic_shrink_scan },
	.meta_size	= pcpool_classic_meta_size,
	.drain		= classic_drain,
	.show_pools	= classic_show_pools,
	.cached_pages	= classic_cached_pages,
	.drain_all	= classic_drain_all,
};

static int classic_init(struct pcpool_backend *b)
{
	struct classic_state *st;
	int ret;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	ret = pcpool_zone_host_setup(&st->zh, &classic_host, zone_limit_blocks,
				     zone_reserve_blocks);
	if (ret)
		goto free_st;
	ret = pcpool_classic_init(st->zh.meta, st->zh.meta_size, st->zh.kz.zone,
				  nr_cpu_ids, &st->classic);
	if (!ret) {
		unsigned int cpu;

		for_each_possible_cpu(cpu)
			pcpool_classic_set_node(st->classic, cpu,
						cpu_to_node(cpu));
		ret = classic_set_sizes(st->classic);
	}
	if (!ret)
		ret = pcpool_zone_host_start(&st->zh, st->classic);
	if (ret)
		goto teardown;
	b->priv = st;
	kernel_param_lock(THIS_MODULE);
	classic_live = st->classic;
	kernel_param_unlock(THIS_MODULE);
	return 0;

teardown:
	pcpool_zone_host_teardown(&st->zh);
free_st:
	kfree(st);
	return ret;
}

static void classic_exit(struct pcpool_backend *b)
{
	struct classic_state *st = b->priv;

	kernel_param_lock(THIS_MODULE);
	classic_live = NULL;
	kernel_param_unlock(THIS_MODULE);
	pcpool_zone_host_stop(&st->zh);
	pcpool_classic_destroy(st->classic);
	pcpool_zone_host_teardown(&st->zh);
	kfree(st);
}

static int classic_alloc(struct pcpool_backend *b, size_t size, size_t align,
			 gfp_t gfp, union pcpool_obj *obj)
{
	struct classic_state *st = b->priv;
	unsigned int order = get_order(size);
	struct page *page = pcpool_classic_alloc_mt(st->classic, order,
						    pcpool_gfp_mt(gfp));

	if (!page)
		return -ENOMEM;
	pcpool_init_on_alloc(page, order);
	obj->page = page;
	return 0;
}

static void classic_free(struct pcpool_backend *b, union pcpool_obj obj,
			 size_t size, size_t align)
{
	struct classic_state *st = b->priv;
	unsigned int order = get_order(size);

	pcpool_init_on_free(obj.page, order);
	pcpool_classic_free(st->classic, obj.page, order);
}

static void classic_show(struct pcpool_backend *b, struct seq_file *m)
{
	struct classic_state *st = b->priv;

	pcpool_classic_counters(st->classic, pcpool_kernel_seq_emit, m);
}

static void classic_reset(struct pcpool_backend *b)
{
	struct classic_state *st = b->priv;

	pcpool_classic_reset_counters(st->classic);
}

const struct pcpool_backend_ops pcpool_classic_ops = {
	.name		= "classic",
	.max_order	= pageblock_order,
	.init		= classic_init,
	.exit		= classic_exit,
	.alloc		= classic_alloc,
	.free		= classic_free,
	.show_counters	= classic_show,
	.reset_counters	= classic_reset,
	.debugfs_init	= pcpool_zone_host_debugfs,
	.frag		= pcpool_zone_host_frag,
};
