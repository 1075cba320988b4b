/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool: every kernel-version difference the module meets, in one place.
 *
 * Written for Debian's 6.1 and kept building on later kernels without
 * relying on anything they removed:
 *  - MAX_ORDER was exclusive up to 6.3, inclusive from 6.4, and renamed
 *    MAX_PAGE_ORDER in 6.8 (MAX_ORDER_NR_PAGES kept its meaning);
 *  - register_shrinker() on a caller-owned struct shrinker gave way to
 *    shrinker_alloc()/shrinker_register()/shrinker_free() in 6.7;
 *  - alloc_pages_bulk_array() became alloc_pages_bulk() in 6.14;
 *  - struct io_uring_cmd moved to <linux/io_uring/cmd.h> in 6.7, and the
 *    SQE's command area is reached with io_uring_sqe_cmd() since 6.4
 *    (Kbuild probes the headers and sets PCPOOL_URING_CMD_H and
 *    PCPOOL_URING_SQE_CMD).
 *
 * The userspace build of the module layer compiles this header against
 * its shim with either shrinker API, so both sides of each #if are
 * compiled somewhere.
 */
#ifndef _PCPOOL_COMPAT_H
#define _PCPOOL_COMPAT_H

#include <linux/gfp.h>
#include <linux/log2.h>
#include <linux/mmzone.h>
#include <linux/seq_file.h>
#include <linux/shrinker.h>
#include <linux/slab.h>

/*
 * Highest page order the buddy allocator hands out (inclusive).  Read off
 * MAX_ORDER_NR_PAGES, which is 2^max on every version, so the meaning
 * MAX_ORDER had on a given kernel does not matter.
 */
#define PCPOOL_MAX_ORDER	ilog2(MAX_ORDER_NR_PAGES)
/* Orders a free-list array needs: 0..PCPOOL_MAX_ORDER. */
#define PCPOOL_NR_ORDERS	(PCPOOL_MAX_ORDER + 1)

/*
 * A read-write seq_file attribute: <name>_show and <name>_write give
 * <name>_fops.  Later kernels' <linux/seq_file.h> defines it; 6.1's has
 * only the read-only DEFINE_SHOW_ATTRIBUTE().
 */
#ifndef DEFINE_SHOW_STORE_ATTRIBUTE
#define DEFINE_SHOW_STORE_ATTRIBUTE(__name)				\
static int __name ## _open(struct inode *inode, struct file *file)	\
{									\
	return single_open(file, __name ## _show, inode->i_private);	\
}									\
									\
static const struct file_operations __name ## _fops = {			\
	.owner		= THIS_MODULE,					\
	.open		= __name ## _open,				\
	.read		= seq_read,					\
	.write		= __name ## _write,				\
	.llseek		= seq_lseek,					\
	.release	= single_release,				\
}
#endif

/*
 * Order-0 pages into the NULL slots of an array, as vmalloc takes them:
 * alloc_pages_bulk_array() up to 6.13, alloc_pages_bulk() since 6.14.
 */
#if defined(alloc_pages_bulk) && !defined(alloc_pages_bulk_array)
/* 6.14+: a macro; the array form was a function up to 6.10, a macro after */
#define pcpool_alloc_pages_bulk(gfp, nr, pages) alloc_pages_bulk(gfp, nr, pages)
#else
#define pcpool_alloc_pages_bulk(gfp, nr, pages) \
	alloc_pages_bulk_array(gfp, nr, pages)
#endif

/*
 * A shrinker with a private pointer, on either API.  The callbacks see
 * only that pointer: no struct shrinker, no shrink_control, no
 * SHRINK_EMPTY, so they read the same whichever API is underneath.
 * @count: what could be freed now, 0 for nothing
 * @scan: free up to @nr; what was freed, or SHRINK_STOP
 */
struct pcpool_shrinker_ops {
	const char *name;
	unsigned long (*count)(void *priv);
	unsigned long (*scan)(void *priv, unsigned long nr);
};

#ifdef SHRINKER_ALLOCATED	/* 6.7+ */
struct pcpool_shrinker {
	struct shrinker *sh;
	const struct pcpool_shrinker_ops *ops;
	void *priv;
};

static inline struct pcpool_shrinker *pcpool_shrinker_of(struct shrinker *sh)
{
	return sh->private_data;
}
#else				/* up to 6.6 */
struct pcpool_shrinker {
	struct shrinker sh;
	const struct pcpool_shrinker_ops *ops;
	void *priv;
};

static inline struct pcpool_shrinker *pcpool_shrinker_of(struct shrinker *sh)
{
	return container_of(sh, struct pcpool_shrinker, sh);
}
#endif

static inline unsigned long
pcpool_shrinker_count_objects(struct shrinker *sh, struct shrink_control *sc)
{
	struct pcpool_shrinker *ps = pcpool_shrinker_of(sh);

	return ps->ops->count(ps->priv) ?: SHRINK_EMPTY;
}

static inline unsigned long
pcpool_shrinker_scan_objects(struct shrinker *sh, struct shrink_control *sc)
{
	struct pcpool_shrinker *ps = pcpool_shrinker_of(sh);

	return ps->ops->scan(ps->priv, sc->nr_to_scan);
}

#ifdef SHRINKER_ALLOCATED
static inline int pcpool_shrinker_register(struct pcpool_shrinker *ps,
					   const struct pcpool_shrinker_ops *ops,
					   void *priv)
{
	ps->ops = ops;
	ps->priv = priv;
	ps->sh = shrinker_alloc(0, "%s", ops->name);
	if (!ps->sh)
		return -ENOMEM;
	ps->sh->count_objects = pcpool_shrinker_count_objects;
	ps->sh->scan_objects = pcpool_shrinker_scan_objects;
	ps->sh->private_data = ps;
	shrinker_register(ps->sh);
	return 0;
}

static inline void pcpool_shrinker_unregister(struct pcpool_shrinker *ps)
{
	shrinker_free(ps->sh);
	ps->sh = NULL;
}
#else
static inline int pcpool_shrinker_register(struct pcpool_shrinker *ps,
					   const struct pcpool_shrinker_ops *ops,
					   void *priv)
{
	ps->ops = ops;
	ps->priv = priv;
	ps->sh.count_objects = pcpool_shrinker_count_objects;
	ps->sh.scan_objects = pcpool_shrinker_scan_objects;
	ps->sh.seeks = DEFAULT_SEEKS;
	return register_shrinker(&ps->sh, "%s", ops->name);
}

static inline void pcpool_shrinker_unregister(struct pcpool_shrinker *ps)
{
	unregister_shrinker(&ps->sh);
}
#endif

/*
 * io_uring commands: only uring.c asks for this part (it defines
 * PCPOOL_COMPAT_URING first), so nothing else pulls in io_uring headers.
 */
#ifdef PCPOOL_COMPAT_URING
#ifdef PCPOOL_URING_CMD_H
#include <linux/io_uring/cmd.h>
#else
#include <linux/io_uring.h>
#endif

/* The SQE's command area: ioucmd->cmd on 6.1, io_uring_sqe_cmd() from 6.4. */
static inline const void *pcpool_uring_pdu(struct io_uring_cmd *ioucmd)
{
#ifdef PCPOOL_URING_SQE_CMD
	return io_uring_sqe_cmd(ioucmd->sqe);
#else
	return ioucmd->cmd;
#endif
}
#endif /* PCPOOL_COMPAT_URING */

#endif /* _PCPOOL_COMPAT_H */
