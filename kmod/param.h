/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool: the kernel_param_ops table module_param_cb() wants for a
 * parameter checked by its own setter, as <prefix>_param_ops.
 * module_param_call() used to write it and is obsolete.
 */
#ifndef _PCPOOL_PARAM_H
#define _PCPOOL_PARAM_H

#include <linux/moduleparam.h>

#define PCPOOL_PARAM_OPS(prefix, setter, getter)			\
static const struct kernel_param_ops prefix##_param_ops = {		\
	.set	= setter,						\
	.get	= getter,						\
}

#endif /* _PCPOOL_PARAM_H */
