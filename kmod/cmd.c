// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool command table: VERSION and STATS here, the rest handed to the
 * session (ALLOC, FREE, CHAN) and the run engine (RUN).
 * Documentation/abi.rst is the reference for every command.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ioctl.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/nospec.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <linux/pcpool.h>

#include "backend.h"
#include "cmd.h"
#include "run.h"
#include "session.h"

static int pcpool_cmd_version(struct pcpool_session *s, void *arg)
{
	struct pcpool_version *v = arg;

	v->abi_version = PCPOOL_ABI_VERSION;
	v->backends = pcpool_backends_mask();
	v->max_order = pcpool_backends_max_order();
	v->page_shift = PAGE_SHIFT;
	v->max_batch = PCPOOL_MAX_BATCH;
	v->nr_channels = PCPOOL_NR_CHANNELS;
	v->session_max_pages = s->cap.max;
	v->block_order = pageblock_order;
	v->nr_cpu_ids = nr_cpu_ids;
	memset(v->resv, 0, sizeof(v->resv));
	return 0;
}

static int pcpool_cmd_stats(struct pcpool_session *s, void *arg)
{
	struct pcpool_stats *st = arg;
	struct pcpool_backend *b = pcpool_backend_get(st->backend);

	if (!b)
		return -ENOENT;
	st->session_pages = atomic_long_read(&s->cap.pages);
	st->session_handles = READ_ONCE(s->nr_handles);
	st->session_chan_blocks = pcpool_chan_blocks(s);
	st->allocs = pcpool_backend_sum(b, PCPOOL_CTR_ALLOCS);
	st->frees = pcpool_backend_sum(b, PCPOOL_CTR_FREES);
	st->alloc_failures = pcpool_backend_sum(b, PCPOOL_CTR_ALLOC_FAILURES);
	st->outstanding_pages = max_t(s64, 0, pcpool_backend_outstanding(b));
	st->max_order = b->max_order;
	st->kind = b->ops->kind == PCPOOL_BK_PCPU ? PCPOOL_KIND_PCPU :
						    PCPOOL_KIND_PAGES;
	memset(st->resv, 0, sizeof(st->resv));
	return 0;
}

static int pcpool_cmd_run(struct pcpool_session *s, void *arg)
{
	return pcpool_run(&s->cap, arg);
}

/* PCPOOL_IOC_<NAME> takes struct pcpool_<type>, at least PCPOOL_<NAME>_SIZE_VER0. */
#define PCPOOL_CMD(NAME, type, body) \
	[_IOC_NR(PCPOOL_IOC_##NAME)] = { \
		sizeof(struct pcpool_##type), PCPOOL_##NAME##_SIZE_VER0, body \
	}

static const struct pcpool_cmd_desc pcpool_cmds[] = {
	PCPOOL_CMD(VERSION, version, pcpool_cmd_version),
	PCPOOL_CMD(ALLOC, alloc, pcpool_session_alloc),
	PCPOOL_CMD(FREE, free, pcpool_session_free),
	PCPOOL_CMD(RUN, run, pcpool_cmd_run),
	PCPOOL_CMD(CHAN, chan, pcpool_session_chan),
	PCPOOL_CMD(STATS, stats, pcpool_cmd_stats),
};

/* Command argument, in kernel memory. */
union pcpool_cmd_arg {
	struct {
		__u32 size;
	} hdr;
	struct pcpool_version version;
	struct pcpool_alloc alloc;
	struct pcpool_free free;
	struct pcpool_run run;
	struct pcpool_chan chan;
	struct pcpool_stats stats;
};

/*
 * Commands are told apart by type and number only: the size bits of @cmd
 * follow the caller's header, the struct's own size field is what counts.
 */
const struct pcpool_cmd_desc *pcpool_cmd_lookup(unsigned int cmd)
{
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) != PCPOOL_IOC_MAGIC ||
	    _IOC_DIR(cmd) != (_IOC_READ | _IOC_WRITE))
		return NULL;
	if (nr >= ARRAY_SIZE(pcpool_cmds))
		return NULL;
	nr = array_index_nospec(nr, ARRAY_SIZE(pcpool_cmds));
	return pcpool_cmds[nr].fn ? &pcpool_cmds[nr] : NULL;
}

long pcpool_cmd_user(struct pcpool_session *s,
		     const struct pcpool_cmd_desc *d, void __user *uarg,
		     u32 want_size)
{
	union pcpool_cmd_arg karg;
	u32 usize;
	int ret;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < d->size_ver0 || (want_size && usize != want_size))
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	ret = copy_struct_from_user(&karg, d->size, uarg, usize);
	if (ret)
		return ret;

	ret = d->fn(s, &karg);

	/* Out fields go back even on failure; a tail we do not know stays. */
	if (copy_to_user(uarg, &karg, min_t(u32, usize, d->size)) && !ret)
		ret = -EFAULT;
	return ret;
}
