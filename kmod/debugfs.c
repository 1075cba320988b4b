// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool debugfs: /sys/kernel/debug/pcpool/
 *
 *   outstanding         "<backend> <pages>" per backend present
 *   sessions            open sessions
 *   api                 the in-kernel API's outstanding pages, per-CPU
 *                       objects and page backend (api.c)
 *   <backend>/counters  "<key> <value>" per counter, summed over CPUs
 *   <backend>/percpu    header line of keys, then "<cpu> <values...>"
 *   <backend>/reset     write 1: zero the backend's own event counters
 *                       (not the common ones above, not gauges)
 *   <backend>/pools     classic, pcpbuddy: each CPU's pool now
 *   <backend>/drain     classic, pcpbuddy: write 1 drains every pool; read
 *                       "visited V skipped S pages P" of the last one
 *   fail_nth            failure injection: write N, the N-th allocation
 *                       from now fails with -ENOMEM; write 0 to disarm
 *
 * Formats are described in Documentation/abi.rst; tools parse them.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/jump_label.h>
#include <linux/limits.h>
#include <linux/seq_file.h>

#include "api.h"
#include "backend.h"
#include "debugfs.h"
#include "session.h"

static struct dentry *pcpool_debugfs_dir;

static int pcpool_outstanding_show(struct seq_file *m, void *v)
{
	u32 id;

	for (id = 0; id < PCPOOL_NR_BACKENDS_MAX; id++) {
		struct pcpool_backend *b = pcpool_backend_get(id);

		if (b)
			seq_printf(m, "%s %lld\n", b->ops->name,
				   pcpool_backend_outstanding(b));
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_outstanding);

static int pcpool_sessions_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%d\n", pcpool_nr_sessions());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_sessions);

static int pcpool_api_file_show(struct seq_file *m, void *v)
{
	pcpool_api_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_api_file);

static int pcpool_counters_show(struct seq_file *m, void *v)
{
	pcpool_backend_show(m->private, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_counters);

static int pcpool_percpu_show(struct seq_file *m, void *v)
{
	struct pcpool_backend *b = m->private;
	int cpu, i;

	seq_puts(m, "cpu");
	for (i = 0; i < PCPOOL_NR_CTR; i++)
		seq_printf(m, " %s", pcpool_ctr_names[i]);
	seq_putc(m, '\n');
	for_each_possible_cpu(cpu) {
		const struct pcpool_counters *c = per_cpu_ptr(b->ctr, cpu);

		seq_printf(m, "%d", cpu);
		for (i = 0; i < PCPOOL_NR_CTR; i++)
			seq_printf(m, " %llu", c->c[i]);
		seq_putc(m, '\n');
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pcpool_percpu);

/*
 * Only the backend's own counters are zeroed: "outstanding" is derived
 * from the common ones, and tools take deltas of those anyway.
 */
static int pcpool_reset_set(void *data, u64 val)
{
	struct pcpool_backend *b = data;

	if (val != 1)
		return -EINVAL;
	b->ops->reset_counters(b);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(pcpool_reset_fops, NULL, pcpool_reset_set, "%llu\n");

static int pcpool_fail_nth_get(void *data, u64 *val)
{
	*val = atomic_read(&pcpool_fail_nth);
	return 0;
}

static int pcpool_fail_nth_set(void *data, u64 val)
{
	return pcpool_fail_nth_arm(val);
}
DEFINE_DEBUGFS_ATTRIBUTE(pcpool_fail_nth_fops, pcpool_fail_nth_get,
			 pcpool_fail_nth_set, "%llu\n");

void pcpool_debugfs_init(void)
{
	struct dentry *dir;
	u32 id;

	pcpool_debugfs_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("outstanding", 0400, pcpool_debugfs_dir, NULL,
			    &pcpool_outstanding_fops);
	debugfs_create_file("sessions", 0400, pcpool_debugfs_dir, NULL,
			    &pcpool_sessions_fops);
	debugfs_create_file("api", 0400, pcpool_debugfs_dir, NULL,
			    &pcpool_api_file_fops);
	debugfs_create_file_unsafe("fail_nth", 0600, pcpool_debugfs_dir, NULL,
				   &pcpool_fail_nth_fops);
	for (id = 0; id < PCPOOL_NR_BACKENDS_MAX; id++) {
		struct pcpool_backend *b = pcpool_backend_get(id);

		if (!b)
			continue;
		dir = debugfs_create_dir(b->ops->name, pcpool_debugfs_dir);
		debugfs_create_file("counters", 0400, dir, b,
				    &pcpool_counters_fops);
		debugfs_create_file("percpu", 0400, dir, b,
				    &pcpool_percpu_fops);
		if (b->ops->reset_counters)
			debugfs_create_file_unsafe("reset", 0200, dir, b,
						   &pcpool_reset_fops);
		if (b->ops->debugfs_init)
			b->ops->debugfs_init(b, dir);
	}
}

void pcpool_debugfs_exit(void)
{
	debugfs_remove_recursive(pcpool_debugfs_dir);
	pcpool_debugfs_dir = NULL;
}
