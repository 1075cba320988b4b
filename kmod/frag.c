// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool fragmentation reports: the checks here, the counting in the
 * zone core (core/pcpool_zone_frag.c) behind the backend's frag op.
 */
#include <linux/errno.h>
#include <linux/string.h>

#include "backend.h"
#include "frag.h"

void pcpool_frag_clear(struct pcpool_frag *f)
{
	f->block_order = 0;
	memset(&f->zone, 0, sizeof(f->zone));
	memset(&f->drained, 0, sizeof(f->drained));
}

int pcpool_frag_check(const struct pcpool_frag *f, struct pcpool_backend **bp)
{
	struct pcpool_backend *b;

	if ((f->flags & ~PCPOOL_FRAG_FLAGS) || f->resv[0] || f->resv[1])
		return -EINVAL;
	b = pcpool_backend_get(f->backend);
	if (!b)
		return -ENOENT;
	/* Only a zone backend has a zone of its own to count. */
	if (!b->ops->frag)
		return -EOPNOTSUPP;
	*bp = b;
	return 0;
}

void pcpool_frag_fill(struct pcpool_backend *b, struct pcpool_frag *f)
{
	b->ops->frag(b, f);
}

int pcpool_cmd_frag(struct pcpool_session *s, void *arg)
{
	struct pcpool_frag *f = arg;
	struct pcpool_backend *b;
	int ret;

	pcpool_frag_clear(f);
	ret = pcpool_frag_check(f, &b);
	if (!ret)
		pcpool_frag_fill(b, f);
	return ret;
}
