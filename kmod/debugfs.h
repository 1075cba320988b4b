/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PCPOOL_DEBUGFS_H
#define _PCPOOL_DEBUGFS_H

/* /sys/kernel/debug/pcpool/, after the backends loaded (debugfs.c). */
void pcpool_debugfs_init(void);
void pcpool_debugfs_exit(void);

#endif /* _PCPOOL_DEBUGFS_H */
