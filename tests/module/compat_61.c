// SPDX-License-Identifier: GPL-2.0
/* kmod/compat.h as 6.1 headers compile it. */
#define PCPOOL_COMPAT_FN pcpool_compat_61
#include "compat_body.h"
