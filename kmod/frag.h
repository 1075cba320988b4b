/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool fragmentation reports: PCPOOL_IOC_FRAG, and RUN's
 * PCPOOL_RUN_FRAG, which takes the same report before its final drain.
 */
#ifndef _PCPOOL_FRAG_H
#define _PCPOOL_FRAG_H

#include <linux/pcpool.h>

struct pcpool_backend;
struct pcpool_session;

/* Zero @f's out fields. */
void pcpool_frag_clear(struct pcpool_frag *f);
/* Every in field of @f; the backend it names into *@bp. */
int pcpool_frag_check(const struct pcpool_frag *f, struct pcpool_backend **bp);
/* Fill every out field of @f (checked) from @b. */
void pcpool_frag_fill(struct pcpool_backend *b, struct pcpool_frag *f);
/* PCPOOL_IOC_FRAG. */
int pcpool_cmd_frag(struct pcpool_session *s, void *arg);

#endif /* _PCPOOL_FRAG_H */
