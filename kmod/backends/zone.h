/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool: what the two zone backends (classic, pcpbuddy) share around
 * their cores: a private zone on kernel memory, the core's metadata, a
 * CPU-hotplug multi-state instance and a shrinker.  The cores differ;
 * how they are hosted in the module does not.
 */
#ifndef _PCPOOL_BACKENDS_ZONE_H
#define _PCPOOL_BACKENDS_ZONE_H

#include <linux/cpuhotplug.h>
#include <linux/list.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>

#include <linux/pcpool.h>

#include "../compat.h"
#include "pcpool_kernel.h"

/*
 * A request's migratetype, as gfp_migratetype() reads it (not called:
 * it reads page_group_by_mobility_disabled, which modules cannot).
 */
static inline unsigned int pcpool_gfp_mt(gfp_t gfp)
{
	if (gfp & __GFP_MOVABLE)
		return PCPOOL_MT_MOVABLE;
	if (gfp & __GFP_RECLAIMABLE)
		return PCPOOL_MT_RECLAIMABLE;
	return PCPOOL_MT_UNMOVABLE;
}

struct pcpool_zone_host;

/**
 * struct pcpool_zone_host_desc - what one zone backend plugs in
 * @name: the backend's name, for messages
 * @cpuhp_name: its CPU-hotplug state's name
 * @cpu_prepare: optional, before a CPU comes up
 * @cpu_dead: after a CPU went down
 * @shrinker: its shrinker; the callbacks' private pointer is the one
 *	given to pcpool_zone_host_start()
 * @meta_size: bytes of metadata its core needs for @zone
 * @drain: empty every CPU's pool now, saying what it did (debugfs drain);
 *	process context, must not allocate
 * @show_pools: a header line of keys, then one line per possible CPU of
 *	its pool's state now (debugfs pools)
 * @cached_pages: pages its per-CPU layer keeps free (racy sum)
 * @drain_all: empty every per-CPU list or pool into the zone
 */
struct pcpool_backend;
struct dentry;
struct pcpool_zone_host;
struct seq_file;

struct pcpool_zone_host_desc {
	const char *name;
	const char *cpuhp_name;
	int (*cpu_prepare)(unsigned int cpu, struct hlist_node *node);
	int (*cpu_dead)(unsigned int cpu, struct hlist_node *node);
	struct pcpool_shrinker_ops shrinker;
	size_t (*meta_size)(const struct pcpool_zone *zone);
	void (*drain)(struct pcpool_zone_host *zh,
		      struct pcpool_drain_result *r);
	void (*show_pools)(struct pcpool_zone_host *zh, struct seq_file *m);
	unsigned long (*cached_pages)(struct pcpool_zone_host *zh);
	void (*drain_all)(struct pcpool_zone_host *zh);
};

/*
 * A zone backend's two zone knobs, read at load: <prefix>zone_limit_blocks
 * and <prefix>zone_reserve_blocks, the prefix naming the backend.
 */
#define PCPOOL_ZONE_PARAMS(prefix)					\
static unsigned long prefix##zone_limit_blocks;				\
module_param(prefix##zone_limit_blocks, ulong, 0444);			\
MODULE_PARM_DESC(prefix##zone_limit_blocks,				\
		 "Most pageblocks the zone holds (0: a quarter of RAM)");	\
static unsigned long prefix##zone_reserve_blocks = 4;			\
module_param(prefix##zone_reserve_blocks, ulong, 0444);			\
MODULE_PARM_DESC(prefix##zone_reserve_blocks,				\
		 "Whole free pageblocks the zone keeps instead of giving back")

/*
 * Embedded first in a backend's state (b->priv points at it too); the
 * hotplug callbacks get @cpuhp_node.
 */
struct pcpool_zone_host {
	const struct pcpool_zone_host_desc *desc;
	struct pcpool_kernel_zone kz;
	void *meta;
	size_t meta_size;
	enum cpuhp_state cpuhp;
	struct hlist_node cpuhp_node;
	struct pcpool_shrinker shrinker;
	struct mutex drain_mutex;	/* debugfs drains, and @last_drain */
	struct pcpool_drain_result last_drain;
};

/*
 * Bring-up in two steps around the core's own init, which needs the zone
 * and the metadata: setup() registers the hotplug state and creates the
 * zone and metadata; start() adds the hotplug instance and the shrinker,
 * which may call into the core at once.  stop() and teardown() undo them;
 * on failure each step has undone itself.
 */
int pcpool_zone_host_setup(struct pcpool_zone_host *zh,
			   const struct pcpool_zone_host_desc *desc,
			   unsigned long limit_blocks,
			   unsigned long reserve_blocks);
int pcpool_zone_host_start(struct pcpool_zone_host *zh, void *priv);
void pcpool_zone_host_stop(struct pcpool_zone_host *zh);
void pcpool_zone_host_teardown(struct pcpool_zone_host *zh);
/*
 * The backend's frag op (PCPOOL_IOC_FRAG): the views @f->flags ask for.
 * b->priv is the zone host.
 */
void pcpool_zone_host_frag(struct pcpool_backend *b, struct pcpool_frag *f);

/*
 * The backend's debugfs_init: <backend>/drain (write 1: drain every pool
 * now; read: "visited V skipped S pages P" of the last such drain) and
 * <backend>/pools (desc->show_pools).  b->priv is the zone host.
 */
void pcpool_zone_host_debugfs(struct pcpool_backend *b, struct dentry *dir);

#endif /* _PCPOOL_BACKENDS_ZONE_H */
