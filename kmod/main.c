// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool: per-CPU allocator test bed.
 *
 * Module init and exit, the backend table and /dev/pcpool (root only):
 * one session per open file, commands through ioctl() or io_uring, both
 * marshalled by cmd.c.  Documentation/design.rst draws the layers.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "api.h"
#include "backend.h"
#include "backends/backends.h"
#include "cmd.h"
#include "debugfs.h"
#include "session.h"
#include "uring.h"

static const struct pcpool_backend_ops *const
pcpool_backend_table[PCPOOL_NR_BACKENDS_MAX] = {
	[PCPOOL_BACKEND_KERNEL]			= &pcpool_kernel_ops,
	[PCPOOL_BACKEND_NULL]			= &pcpool_null_ops,
	[PCPOOL_BACKEND_CLASSIC]		= &pcpool_classic_ops,
	[PCPOOL_BACKEND_PCPBUDDY]		= &pcpool_pcpbuddy_ops,
	[PCPOOL_BACKEND_VMALLOC]		= &pcpool_vmalloc_ops,
	[PCPOOL_BACKEND_VMAP_GLOBAL]		= &pcpool_vmap_global_ops,
	[PCPOOL_BACKEND_VMAP_NODES]		= &pcpool_vmap_nodes_ops,
	[PCPOOL_BACKEND_PCPU_KERNEL]		= &pcpool_pcpu_kernel_ops,
	[PCPOOL_BACKEND_PCPU_RAW]		= &pcpool_pcpu_raw_ops,
	[PCPOOL_BACKEND_PCPU_ZEROED]		= &pcpool_pcpu_zeroed_ops,
	[PCPOOL_BACKEND_PCPU_CONSTRUCTED]	= &pcpool_pcpu_constructed_ops,
	[PCPOOL_BACKEND_PCPU_NULL]		= &pcpool_pcpu_null_ops,
};

static long pcpool_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	const struct pcpool_cmd_desc *d = pcpool_cmd_lookup(cmd);

	if (!d)
		return -ENOTTY;
	return pcpool_cmd_user(file->private_data, d, (void __user *)arg, 0);
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

	ret = pcpool_backends_init(pcpool_backend_table,
				   ARRAY_SIZE(pcpool_backend_table));
	if (ret)
		return ret;
	ret = pcpool_api_init();
	if (ret) {
		pcpool_backends_exit();
		return ret;
	}
	pcpool_debugfs_init();
	ret = misc_register(&pcpool_misc);
	if (ret) {
		pr_err("misc_register failed: %d\n", ret);
		pcpool_debugfs_exit();
		pcpool_backends_exit();
		return ret;
	}
	pr_info("abi %d, backends %#llx, session cap %lu pages\n",
		PCPOOL_ABI_VERSION, pcpool_backends_mask(),
		pcpool_session_cap());
	return 0;
}

static void __exit pcpool_exit(void)
{
	misc_deregister(&pcpool_misc);
	pcpool_debugfs_exit();
	pcpool_api_exit();
	pcpool_backends_exit();
}

module_init(pcpool_init);
module_exit(pcpool_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("pcpool: per-CPU allocator test bed");
