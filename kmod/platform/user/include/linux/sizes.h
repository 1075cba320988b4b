/* SPDX-License-Identifier: GPL-2.0 */
/* Shim: see pcpool_kshim.h. */
#include "../pcpool_kshim.h"
