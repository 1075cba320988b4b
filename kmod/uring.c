// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool io_uring entry point: IORING_OP_URING_CMD on /dev/pcpool.
 *
 * sqe->cmd_op is a PCPOOL_IOC_* number and the SQE's 16-byte command area
 * holds a struct pcpool_uring_cmd pointing at the same argument struct
 * ioctl() takes, so both entry points share pcpool_cmd_user() and differ
 * only here.
 *
 * Why the pointer travels in the command area, not in sqe->addr/len: on
 * 6.1 a driver sees only ioucmd->cmd, the command area.  When io_uring
 * defers a request (IOSQE_ASYNC, drain, a link) it copies that area and
 * nothing else of the SQE, so reaching back from ioucmd->cmd to
 * sqe->addr would read past the copy.  16 bytes need no SQE128 ring.
 *
 * The command runs inline, on the submitting CPU, and may sleep, as an
 * ioctl would.  It never returns -EAGAIN: io_uring would take that as
 * "retry from a worker" and run it again on an io-wq thread, on another
 * CPU, defeating the pinning the harness relies on.
 *
 * Permission: the file was opened with CAP_SYS_ADMIN (pcpool_open()); as
 * for ioctl(), commands on it are not checked again.  io_uring applies
 * the LSM hook (security_uring_cmd) itself.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/kernel.h>

#define PCPOOL_COMPAT_URING
#include "compat.h"

#include <linux/pcpool.h>

#include "cmd.h"
#include "uring.h"

int pcpool_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags)
{
	const struct pcpool_uring_cmd *pdu = pcpool_uring_pdu(ioucmd);
	const struct pcpool_cmd_desc *d;
	u32 op = ioucmd->cmd_op;
	u32 size, flags;
	u64 arg;
	long ret;

	d = pcpool_cmd_lookup(op);
	if (!d)
		return -EOPNOTSUPP;

	/* The area may be the shared SQ ring: read each field once. */
	arg = READ_ONCE(pdu->arg);
	size = READ_ONCE(pdu->size);
	flags = READ_ONCE(pdu->flags);
	if (flags || !size)
		return -EINVAL;

	ret = pcpool_cmd_user(ioucmd->file->private_data, d,
			      u64_to_user_ptr(arg), size);
	if (WARN_ON_ONCE(ret == -EAGAIN))
		ret = -EIO;
	return ret;
}
