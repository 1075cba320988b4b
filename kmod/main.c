// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool: per-CPU allocator test bed.
 *
 * /dev/pcpool (root only), one session per open file.  This file holds
 * the module glue, the ioctl marshalling and the command table; the
 * command bodies only ever see an argument struct in kernel memory, so a
 * second entry point (io_uring) can reuse them as they are.
 * Documentation/abi.rst is the reference for every command.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "pcpool.h"

static unsigned long session_max_pages;
module_param(session_max_pages, ulong, 0644);
MODULE_PARM_DESC(session_max_pages,
		 "Pages one session may hold (handles, channels, running workloads), read at open; 0 = totalram/4 (default)");

#define PCPOOL_CHAN_CAPACITY_MAX	BIT(20)

static unsigned int chan_capacity = 8192;

static int chan_capacity_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, PCPOOL_CHAN_CAPACITY_MAX);
}

static const struct kernel_param_ops chan_capacity_ops = {
	.set	= chan_capacity_set,
	.get	= param_get_uint,
};

module_param_cb(chan_capacity, &chan_capacity_ops, &chan_capacity, 0644);
MODULE_PARM_DESC(chan_capacity,
		 "Blocks one channel holds, 1..1048576, read when the channel is first used (default 8192)");

atomic_t pcpool_nr_sessions = ATOMIC_INIT(0);

unsigned long pcpool_session_cap(void)
{
	unsigned long cap = READ_ONCE(session_max_pages);

	return cap ? cap : totalram_pages() / 4;
}

unsigned int pcpool_chan_capacity(void)
{
	return READ_ONCE(chan_capacity);
}

static int pcpool_cmd_version(struct pcpool_session *s, void *arg)
{
	struct pcpool_version *v = arg;

	v->abi_version = PCPOOL_ABI_VERSION;
	v->backends = pcpool_backends_mask();
	v->max_order = pcpool_backends_max_order();
	v->page_shift = PAGE_SHIFT;
	v->max_batch = PCPOOL_MAX_BATCH;
	v->nr_channels = PCPOOL_NR_CHANNELS;
	v->session_max_pages = s->max_pages;
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
	st->session_pages = atomic_long_read(&s->pages);
	st->session_handles = READ_ONCE(s->nr_handles);
	st->session_chan_blocks = pcpool_chan_blocks(s);
	st->allocs = pcpool_backend_sum(b, PCPOOL_CTR_ALLOCS);
	st->frees = pcpool_backend_sum(b, PCPOOL_CTR_FREES);
	st->alloc_failures = pcpool_backend_sum(b, PCPOOL_CTR_ALLOC_FAILURES);
	st->outstanding_pages = max_t(s64, 0, pcpool_backend_outstanding(b));
	st->max_order = b->ops->max_order;
	st->kind = b->ops->pcpu ? PCPOOL_KIND_PCPU : PCPOOL_KIND_PAGES;
	memset(st->resv, 0, sizeof(st->resv));
	return 0;
}

static const struct pcpool_cmd_desc pcpool_cmds[] = {
	[_IOC_NR(PCPOOL_IOC_VERSION)] = {
		sizeof(struct pcpool_version), PCPOOL_VERSION_SIZE_VER0,
		pcpool_cmd_version },
	[_IOC_NR(PCPOOL_IOC_ALLOC)] = {
		sizeof(struct pcpool_alloc), PCPOOL_ALLOC_SIZE_VER0,
		pcpool_cmd_alloc },
	[_IOC_NR(PCPOOL_IOC_FREE)] = {
		sizeof(struct pcpool_free), PCPOOL_FREE_SIZE_VER0,
		pcpool_cmd_free },
	[_IOC_NR(PCPOOL_IOC_RUN)] = {
		sizeof(struct pcpool_run), PCPOOL_RUN_SIZE_VER0,
		pcpool_cmd_run },
	[_IOC_NR(PCPOOL_IOC_CHAN)] = {
		sizeof(struct pcpool_chan), PCPOOL_CHAN_SIZE_VER0,
		pcpool_cmd_chan },
	[_IOC_NR(PCPOOL_IOC_STATS)] = {
		sizeof(struct pcpool_stats), PCPOOL_STATS_SIZE_VER0,
		pcpool_cmd_stats },
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

int pcpool_cmd(struct pcpool_session *s, unsigned int nr, void *arg)
{
	if (nr >= ARRAY_SIZE(pcpool_cmds))
		return -ENOTTY;
	nr = array_index_nospec(nr, ARRAY_SIZE(pcpool_cmds));
	if (!pcpool_cmds[nr].fn)
		return -ENOTTY;
	return pcpool_cmds[nr].fn(s, arg);
}

long pcpool_cmd_user(struct pcpool_session *s,
		     const struct pcpool_cmd_desc *d, unsigned int cmd,
		     void __user *uarg, u32 want_size)
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

	ret = pcpool_cmd(s, _IOC_NR(cmd), &karg);

	/* Out fields go back even on failure; a tail we do not know stays. */
	if (copy_to_user(uarg, &karg, min_t(u32, usize, d->size)) && !ret)
		ret = -EFAULT;
	return ret;
}

static long pcpool_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	const struct pcpool_cmd_desc *d = pcpool_cmd_lookup(cmd);

	if (!d)
		return -ENOTTY;
	return pcpool_cmd_user(file->private_data, d, cmd,
			       (void __user *)arg, 0);
}

static int pcpool_open(struct inode *inode, struct file *file)
{
	struct pcpool_session *s;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	s = pcpool_session_create();
	if (!s)
		return -ENOMEM;
	file->private_data = s;
	return nonseekable_open(inode, file);
}

static int pcpool_release(struct inode *inode, struct file *file)
{
	pcpool_session_destroy(file->private_data);
	return 0;
}

static const struct file_operations pcpool_fops = {
	.owner		= THIS_MODULE,
	.open		= pcpool_open,
	.release	= pcpool_release,
	.unlocked_ioctl	= pcpool_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.uring_cmd	= pcpool_uring_cmd,
};

static struct miscdevice pcpool_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= PCPOOL_DEVICE_NAME,
	.fops	= &pcpool_fops,
	.mode	= 0600,
};

static int __init pcpool_init(void)
{
	int ret;

	BUILD_BUG_ON(sizeof(struct pcpool_version) != PCPOOL_VERSION_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pcpool_alloc) != PCPOOL_ALLOC_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pcpool_free) != PCPOOL_FREE_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pcpool_run) != PCPOOL_RUN_SIZE_VER1);
	BUILD_BUG_ON(sizeof(struct pcpool_hist) != PCPOOL_HIST_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pcpool_uring_cmd) != PCPOOL_URING_CMD_SIZE);
	BUILD_BUG_ON(sizeof(struct pcpool_chan) != PCPOOL_CHAN_SIZE_VER0);
	BUILD_BUG_ON(sizeof(struct pcpool_stats) != PCPOOL_STATS_SIZE_VER0);
	/* Slots and channel entries keep backend id and order in a u8. */
	BUILD_BUG_ON((u8)(PCPOOL_NR_BACKENDS_MAX - 1) !=
		     PCPOOL_NR_BACKENDS_MAX - 1);
	BUILD_BUG_ON((u8)PCPOOL_MAX_ORDER != PCPOOL_MAX_ORDER);

	ret = pcpool_backends_init();
	if (ret)
		return ret;
	pcpool_debugfs_init();
	ret = pcpool_pcpu_register();
	if (ret)
		goto err_debugfs;
	ret = misc_register(&pcpool_misc);
	if (ret) {
		pr_err("misc_register failed: %d\n", ret);
		goto err_pcpu;
	}
	pr_info("abi %d, backends %#llx, session cap %lu pages\n",
		PCPOOL_ABI_VERSION, pcpool_backends_mask(),
		pcpool_session_cap());
	return 0;

err_pcpu:
	pcpool_pcpu_unregister();
err_debugfs:
	pcpool_debugfs_exit();
	pcpool_backends_exit();
	return ret;
}

static void __exit pcpool_exit(void)
{
	misc_deregister(&pcpool_misc);
	pcpool_pcpu_unregister();
	pcpool_debugfs_exit();
	pcpool_backends_exit();
}

module_init(pcpool_init);
module_exit(pcpool_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pcpool: per-CPU allocator test bed");
