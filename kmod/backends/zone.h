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

#include "../compat.h"
#include "pcpool_kernel.h"

/**
 * struct pcpool_zone_host_desc - what one zone backend plugs in
 * @name: the backend's name, for messages
 * @cpuhp_name: its CPU-hotplug state's name
 * @cpu_prepare: optional, before a CPU comes up
 * @cpu_dead: after a CPU went down
 * @shrinker: its shrinker; the callbacks' private pointer is the one
 *	given to pcpool_zone_host_start()
 * @meta_size: bytes of metadata its core needs for @zone
 */
struct pcpool_zone_host_desc {
	const char *name;
	const char *cpuhp_name;
	int (*cpu_prepare)(unsigned int cpu, struct hlist_node *node);
	int (*cpu_dead)(unsigned int cpu, struct hlist_node *node);
	struct pcpool_shrinker_ops shrinker;
	size_t (*meta_size)(const struct pcpool_zone *zone);
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

/* Embedded in a backend's state; the hotplug callbacks get @cpuhp_node. */
struct pcpool_zone_host {
	const struct pcpool_zone_host_desc *desc;
	struct pcpool_kernel_zone kz;
	void *meta;
	size_t meta_size;
	enum cpuhp_state cpuhp;
	struct hlist_node cpuhp_node;
	struct pcpool_shrinker shrinker;
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

#endif /* _PCPOOL_BACKENDS_ZONE_H */
