/* SPDX-License-Identifier: GPL-2.0 */
/* Shim: the uapi types from the system header, the kernel ones from ours. */
#include_next <linux/types.h>
#include "../pcpool_kshim.h"
