/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool: the module's backends, for its backend table (main.c).  Each
 * lives in one file of this folder and is reached only through its ops.
 */
#ifndef _PCPOOL_BACKENDS_H
#define _PCPOOL_BACKENDS_H

#include "../backend.h"

/* page.c: the page allocator itself, and the harness floor */
extern const struct pcpool_backend_ops pcpool_kernel_ops;
extern const struct pcpool_backend_ops pcpool_null_ops;
/* classic.c, pcpbuddy.c: the portable zone + PCP cores (kmod/core) */
extern const struct pcpool_backend_ops pcpool_classic_ops;
extern const struct pcpool_backend_ops pcpool_pcpbuddy_ops;
/* vmalloc.c: the kernel's vmap allocator */
extern const struct pcpool_backend_ops pcpool_vmalloc_ops;
/* pcpu.c: alloc_percpu() and the cached per-CPU allocator (kmod/pcpu) */
extern const struct pcpool_backend_ops pcpool_pcpu_kernel_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_raw_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_zeroed_ops;
extern const struct pcpool_backend_ops pcpool_pcpu_constructed_ops;

#endif /* _PCPOOL_BACKENDS_H */
