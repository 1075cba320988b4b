/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool platform header, kernel world.
 *
 * The allocator core (kmod/core) is written against the kernel API.  Here
 * the kernel provides it all; this header only gathers the includes and the
 * few pcpool-specific constants.  The userspace twin is
 * kmod/platform/user/pcpool_platform.h.
 */
#ifndef _PCPOOL_PLATFORM_H
#define _PCPOOL_PLATFORM_H

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/cache.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/log2.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/sched/clock.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>

/* PCPOOL_NR_ORDERS: the orders the zone's free lists can hold. */
#include "compat.h"

#define PCPOOL_CACHE_BYTES	SMP_CACHE_BYTES

#endif /* _PCPOOL_PLATFORM_H */
