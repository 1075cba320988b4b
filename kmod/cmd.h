/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool commands: one table shared by ioctl() (main.c) and io_uring
 * (uring.c).  A command body only ever sees its argument struct in
 * kernel memory; pcpool_cmd_user() copies it in and out.
 */
#ifndef _PCPOOL_CMD_H
#define _PCPOOL_CMD_H

#include <linux/compiler.h>
#include <linux/types.h>

struct pcpool_session;

/**
 * struct pcpool_cmd_desc - how to marshal one command
 * @size: the struct's size as this module knows it
 * @size_ver0: smallest size a caller may pass
 * @fn: the command body; @arg is in kernel memory, already size-checked
 */
struct pcpool_cmd_desc {
	unsigned int size;
	unsigned int size_ver0;
	int (*fn)(struct pcpool_session *s, void *arg);
};

/* The command @cmd (an ioctl number) names, or NULL. */
const struct pcpool_cmd_desc *pcpool_cmd_lookup(unsigned int cmd);

/*
 * Copy a command's struct in from @uarg, run it, copy it back.
 * @want_size, when not 0, is what the struct's size field must be
 * (io_uring passes it alongside).
 */
long pcpool_cmd_user(struct pcpool_session *s,
		     const struct pcpool_cmd_desc *d, void __user *uarg,
		     u32 want_size);

#endif /* _PCPOOL_CMD_H */
