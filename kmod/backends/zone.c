// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool: hosting a zone core (classic, pcpbuddy) in the module; see
 * zone.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kstrtox.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "../backend.h"
#include "pcpool_zone_frag.h"
#include "zone.h"

int pcpool_zone_host_setup(struct pcpool_zone_host *zh,
			   const struct pcpool_zone_host_desc *desc,
			   unsigned long limit_blocks,
			   unsigned long reserve_blocks)
{
	int ret;

	zh->desc = desc;
	mutex_init(&zh->drain_mutex);
	ret = cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN, desc->cpuhp_name,
				      desc->cpu_prepare, desc->cpu_dead);
	if (ret < 0)
		return ret;
	zh->cpuhp = ret;
	ret = pcpool_kernel_zone_create(&zh->kz, limit_blocks, reserve_blocks);
	if (ret)
		goto remove_cpuhp;
	zh->meta_size = desc->meta_size(zh->kz.zone);
	zh->meta = kvzalloc(zh->meta_size, GFP_KERNEL);
	if (zh->meta)
		return 0;
	ret = -ENOMEM;
	pcpool_kernel_zone_destroy(&zh->kz, desc->name);
remove_cpuhp:
	cpuhp_remove_multi_state(zh->cpuhp);
	mutex_destroy(&zh->drain_mutex);
	return ret;
}

int pcpool_zone_host_start(struct pcpool_zone_host *zh, void *priv)
{
	int ret;

	ret = cpuhp_state_add_instance_nocalls(zh->cpuhp, &zh->cpuhp_node);
	if (ret)
		return ret;
	ret = pcpool_shrinker_register(&zh->shrinker, &zh->desc->shrinker, priv);
	if (ret)
		cpuhp_state_remove_instance_nocalls(zh->cpuhp, &zh->cpuhp_node);
	return ret;
}

void pcpool_zone_host_stop(struct pcpool_zone_host *zh)
{
	pcpool_shrinker_unregister(&zh->shrinker);
	cpuhp_state_remove_instance_nocalls(zh->cpuhp, &zh->cpuhp_node);
}

/* After the core is gone: the zone says what was still out. */
void pcpool_zone_host_teardown(struct pcpool_zone_host *zh)
{
	pcpool_kernel_zone_destroy(&zh->kz, zh->desc->name);
	kvfree(zh->meta);
	cpuhp_remove_multi_state(zh->cpuhp);
	mutex_destroy(&zh->drain_mutex);
}

static int zone_host_drain_show(struct seq_file *m, void *v)
{
	struct pcpool_zone_host *zh = m->private;

	mutex_lock(&zh->drain_mutex);
	seq_printf(m, "visited %lu skipped %lu pages %lu\n",
		   zh->last_drain.visited, zh->last_drain.skipped,
		   zh->last_drain.pages);
	mutex_unlock(&zh->drain_mutex);
	return 0;
}

/* Needs no memory: the cores walk every CPU without a mask (seed 002). */
static ssize_t zone_host_drain_write(struct file *file, const char __user *buf,
				     size_t len, loff_t *ppos)
{
	struct pcpool_zone_host *zh =
		((struct seq_file *)file->private_data)->private;
	unsigned int val;
	int ret;

	ret = kstrtouint_from_user(buf, len, 0, &val);
	if (ret)
		return ret;
	if (val != 1)
		return -EINVAL;
	mutex_lock(&zh->drain_mutex);
	zh->desc->drain(zh, &zh->last_drain);
	mutex_unlock(&zh->drain_mutex);
	return len;
}
DEFINE_SHOW_STORE_ATTRIBUTE(zone_host_drain);

static int zone_host_pools_show(struct seq_file *m, void *v)
{
	struct pcpool_zone_host *zh = m->private;

	zh->desc->show_pools(zh, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zone_host_pools);

/* A line per node's zone: one zone per node, each with its own lock. */
static int zone_host_zones_show(struct seq_file *m, void *v)
{
	struct pcpool_zone_host *zh = m->private;
	struct pcpool_zone_node_state s;
	unsigned int nid;

	seq_puts(m, "node limit_blocks blocks_held free_pages lock_acquisitions lock_contended pages_moved blocks_obtained\n");
	for (nid = 0; !pcpool_zone_get_node_state(zh->kz.zone, nid, &s); nid++)
		seq_printf(m, "%u %lu %lu %lu %llu %llu %llu %llu\n", nid,
			   s.limit, s.blocks_held, s.free_pages,
			   s.lock_acquisitions, s.lock_contended,
			   s.pages_moved, s.blocks_obtained);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zone_host_zones);

void pcpool_zone_host_debugfs(struct pcpool_backend *b, struct dentry *dir)
{
	struct pcpool_zone_host *zh = b->priv;

	debugfs_create_file("drain", 0600, dir, zh, &zone_host_drain_fops);
	debugfs_create_file("pools", 0400, dir, zh, &zone_host_pools_fops);
	debugfs_create_file("zones", 0400, dir, zh, &zone_host_zones_fops);
}

static void zone_host_view(struct pcpool_zone_host *zh,
			   struct pcpool_frag_view *v)
{
	struct pcpool_zone_frag zf;
	unsigned int o;

	/* Sampled first: a page moving meanwhile is counted once at most. */
	v->cached_pages = zh->desc->cached_pages(zh);
	pcpool_zone_get_frag(zh->kz.zone, &zf);
	v->blocks_held = zf.blocks_held;
	v->free_blocks = zf.free_blocks;
	v->partial_blocks = zf.partial_blocks;
	v->used_blocks = zf.used_blocks;
	v->owned_blocks = zf.owned_blocks;
	v->free_pages = zf.free_pages;
	v->largest_order = zf.largest_order;
	v->resv = 0;
	for (o = 0; o < PCPOOL_FRAG_ORDERS; o++)
		v->nr_free[o] = o < PCPOOL_NR_ORDERS ? zf.nr_free[o] : 0;
}

void pcpool_zone_host_frag(struct pcpool_backend *b, struct pcpool_frag *f)
{
	struct pcpool_zone_host *zh = b->priv;

	f->block_order = zh->kz.zone->order;
	zone_host_view(zh, &f->zone);
	memset(&f->drained, 0, sizeof(f->drained));
	if (!(f->flags & PCPOOL_FRAG_DRAIN))
		return;
	zh->desc->drain_all(zh);
	zone_host_view(zh, &f->drained);
}
