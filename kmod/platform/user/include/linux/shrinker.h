/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shim: either shrinker API, so compat.h compiles both of its sides.
 * Default is 6.1's register_shrinker() on a caller-owned struct; defining
 * PCPOOL_KSHIM_SHRINKER_ALLOC gives 6.7's shrinker_alloc() family.  The
 * registered shrinkers are kept in a list that pcpool_kshim_shrink() runs,
 * as shrink_slab() would.
 */
#ifndef _PCPOOL_KSHIM_SHRINKER_H
#define _PCPOOL_KSHIM_SHRINKER_H

#include "../pcpool_kshim.h"

#ifdef __cplusplus
extern "C" {
#endif

struct shrink_control {
	gfp_t gfp_mask;
	unsigned long nr_to_scan;
	unsigned long nr_scanned;
};

#define SHRINK_STOP		(~0UL)
#define SHRINK_EMPTY		(~0UL - 1)
#define DEFAULT_SEEKS		2

struct shrinker {
	unsigned long (*count_objects)(struct shrinker *sh,
				       struct shrink_control *sc);
	unsigned long (*scan_objects)(struct shrinker *sh,
				      struct shrink_control *sc);
	int seeks;
	/* one layout for both APIs; only 6.7's names the pointer */
#ifdef PCPOOL_KSHIM_SHRINKER_ALLOC
	void *private_data;
#else
	void *kshim_unused;
#endif
	unsigned int kshim_flags;
	char name[32];
	struct shrinker *next;		/* the shim's registry */
};

/* Run every registered shrinker once; returns what their scans freed. */
unsigned long pcpool_kshim_shrink(unsigned long nr_to_scan);
unsigned int pcpool_kshim_nr_shrinkers(void);
void pcpool_kshim_shrinker_add(struct shrinker *sh, const char *name);
void pcpool_kshim_shrinker_del(struct shrinker *sh);

#ifdef PCPOOL_KSHIM_SHRINKER_ALLOC	/* 6.7+ */
#define SHRINKER_REGISTERED	BIT(0)
#define SHRINKER_ALLOCATED	BIT(1)

struct shrinker *shrinker_alloc(unsigned int flags, const char *fmt, ...);
void shrinker_register(struct shrinker *sh);
void shrinker_free(struct shrinker *sh);
#else					/* up to 6.6 */
int register_shrinker(struct shrinker *sh, const char *fmt, ...);
void unregister_shrinker(struct shrinker *sh);
#endif

#ifdef __cplusplus
}
#endif

#endif /* _PCPOOL_KSHIM_SHRINKER_H */
