// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool: hosting a zone core (classic, pcpbuddy) in the module; see
 * zone.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpuhotplug.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "zone.h"

int pcpool_zone_host_setup(struct pcpool_zone_host *zh,
			   const struct pcpool_zone_host_desc *desc,
			   unsigned long limit_blocks,
			   unsigned long reserve_blocks)
{
	int ret;

	zh->desc = desc;
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
}
