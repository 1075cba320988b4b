/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool: what every allocator core (core/, pcpu/, vmap/) shares.
 *
 * Counters leave a core as "key value" pairs through an emitter, so the
 * module prints them to debugfs and the tests read them into a map.
 *
 * A core keeps its metadata in one buffer the caller sizes with the
 * core's *_meta_size() and allocates (kvzalloc() in the module, malloc()
 * in the tests), carved the same way by each: the top object on a cache
 * line of its own, arrays after it.
 */
#ifndef _PCPOOL_CORE_H
#define _PCPOOL_CORE_H

#include "pcpool_platform.h"

typedef void (*pcpool_emit_fn)(void *arg, const char *key, u64 val);

/*
 * Migratetypes, numbered as the kernel's first three (MIGRATE_UNMOVABLE,
 * MIGRATE_MOVABLE, MIGRATE_RECLAIMABLE): a pageblock is tagged with one,
 * and free chunks sit on the lists of their block's type.
 */
enum pcpool_mt {
	PCPOOL_MT_UNMOVABLE,
	PCPOOL_MT_MOVABLE,
	PCPOOL_MT_RECLAIMABLE,
	PCPOOL_MT_TYPES
};

/* What an entry point without a type allocates: GFP_KERNEL's. */
#define PCPOOL_MT_DEFAULT	PCPOOL_MT_UNMOVABLE

/*
 * Zero the @need bytes a core asked for and return the first cache line
 * in @buf, or NULL when @buf is missing or smaller than @need (@need 0:
 * the configuration was refused).
 */
static inline char *pcpool_meta_begin(void *buf, size_t size, size_t need)
{
	if (!need || !buf || size < need)
		return NULL;
	memset(buf, 0, need);
	return (char *)ALIGN((uintptr_t)buf, PCPOOL_CACHE_BYTES);
}

/* The cache line after @bytes from @p: the next array starts unshared. */
static inline char *pcpool_meta_next_line(char *p, size_t bytes)
{
	return (char *)ALIGN((uintptr_t)(p + bytes), PCPOOL_CACHE_BYTES);
}

#endif /* _PCPOOL_CORE_H */
