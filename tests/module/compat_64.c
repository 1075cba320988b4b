// SPDX-License-Identifier: GPL-2.0
/* kmod/compat.h as 6.4..6.6 headers compile it: MAX_ORDER inclusive. */
#define PCPOOL_KSHIM_MAX_ORDER_INCLUSIVE
#define PCPOOL_COMPAT_FN pcpool_compat_64
#include "compat_body.h"
