// SPDX-License-Identifier: GPL-2.0
/* kmod/compat.h as 6.8+ headers compile it: MAX_PAGE_ORDER, shrinker_alloc(). */
#define PCPOOL_KSHIM_MAX_PAGE_ORDER
#define PCPOOL_KSHIM_SHRINKER_ALLOC
#define PCPOOL_COMPAT_FN pcpool_compat_68
#include "compat_body.h"
