/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PCPOOL_URING_H
#define _PCPOOL_URING_H

struct io_uring_cmd;

/* IORING_OP_URING_CMD on /dev/pcpool: the ioctl commands (uring.c). */
int pcpool_uring_cmd(struct io_uring_cmd *ioucmd, unsigned int issue_flags);

#endif /* _PCPOOL_URING_H */
