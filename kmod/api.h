/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PCPOOL_API_H
#define _PCPOOL_API_H

struct seq_file;

/* The in-kernel API (api.c), after the backends load and before they go. */
int pcpool_api_init(void);
void pcpool_api_exit(void);
/* debugfs "api": outstanding pages and per-CPU objects. */
void pcpool_api_show(struct seq_file *m);

#endif /* _PCPOOL_API_H */
