// SPDX-License-Identifier: GPL-2.0
/*
 * Background decay of the per-CPU caches.  Every pcpu_decay_ms, a cache
 * that made no refill, no flush and no depot trade since the last pass
 * (idle) gives back a quarter, rounded up, of what it could give back:
 * free chunks first, then depot magazines (pcpool_pcpu_shrink_nr()), as
 * seed 004's pools decay.  A busy cache keeps what it reuses.
 *
 * Serialized with the shrinker, drains and the pools' teardown by the
 * family lock, taken with trylock (a pass is skipped while it is held);
 * the hotplug callback takes only the cache locks, as shrink_nr() does.
 * Per-CPU magazines are not touched: that would be cross-CPU work.
 *
 * It also enforces the budget in the background: the free path lets the
 * caches keep up to pcpu_overshoot_pct percent more than
 * pcpu_max_cached_kb, so that a burst larger than the budget reuses what
 * the last one freed instead of re-obtaining it, and each pass makes the
 * idle caches give the overshoot back (pcpool_pcpu_trim()).  With the
 * decay off there is no overshoot: the budget holds on every free.
 */
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/workqueue.h>

#include "../param.h"
#include "pcpu.h"

static unsigned int pcpu_decay_ms = 1000;
module_param(pcpu_decay_ms, uint, 0644);
MODULE_PARM_DESC(pcpu_decay_ms,
		 "Per-CPU caches: ms between decay passes, each giving back a quarter of an idle cache's free chunks and depot magazines (0: no decay; default 1000)");

#define PCPOOL_PCPU_OVERSHOOT_MAX	1000U

static unsigned int pcpu_overshoot_pct = 100;

/* The slack the free path allows: none while nothing trims it. */
static void pcpool_pcpu_slack_apply(unsigned int ms)
{
	WRITE_ONCE(pcpool_pcpu_family.budget.slack_pct,
		   ms ? READ_ONCE(pcpu_overshoot_pct) : 0);
}

static int pcpu_overshoot_set(const char *val, const struct kernel_param *kp)
{
	unsigned int pct;
	int ret = kstrtouint(val, 0, &pct);

	if (ret)
		return ret;
	if (pct > PCPOOL_PCPU_OVERSHOOT_MAX)
		return -EINVAL;
	WRITE_ONCE(pcpu_overshoot_pct, pct);
	pcpool_pcpu_slack_apply(READ_ONCE(pcpu_decay_ms));
	return 0;
}

PCPOOL_PARAM_OPS(pcpu_overshoot, pcpu_overshoot_set, param_get_uint);
module_param_cb(pcpu_overshoot_pct, &pcpu_overshoot_param_ops,
		&pcpu_overshoot_pct, 0644);
MODULE_PARM_DESC(pcpu_overshoot_pct,
		 "Per-CPU caches: percent of pcpu_max_cached_kb that busy caches may keep beyond it, given back by the decay once they are idle (0..1000, default 100; none while pcpu_decay_ms is 0)");

/* While pcpu_decay_ms is 0, how often to look whether it still is. */
#define PCPOOL_PCPU_DECAY_IDLE_MS	1000U

static void pcpool_pcpu_decay_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(pcpool_pcpu_decay_work, pcpool_pcpu_decay_fn);

/* Changes whenever the cache goes past its magazines. */
static u64 pcpool_pcpu_activity(struct pcpool_pcpu_cache *c)
{
	return READ_ONCE(c->chunk_refills) + READ_ONCE(c->chunk_flushes) +
	       READ_ONCE(c->depot_events[PCPOOL_PCPU_DEPOT_FULL_GET]) +
	       READ_ONCE(c->depot_events[PCPOOL_PCPU_DEPOT_EMPTY_GET]);
}

/* One pass.  The family lock held. */
static void pcpool_pcpu_decay_pass(struct pcpool_pcpu_family *fam)
{
	struct pcpool_pcpu_cache *c;
	unsigned long pages = 0, trimmed = 0, n;
	unsigned int k;

	for (k = 0; k < PCPOOL_PCPU_NR_CACHES; k++) {
		c = pcpool_pcpu_cache_nr(k);
		if (!c)
			continue;
		if (pcpool_pcpu_activity(c) == fam->decay_seen[k]) {
			n = DIV_ROUND_UP(pcpool_pcpu_shrink_count(c), 4);
			if (n)
				pages += pcpool_pcpu_shrink_nr(c, n) *
					 pcpool_pcpu_chunk_pages(c);
			/* then what is still above the budget */
			n = pcpool_pcpu_trim(c) * pcpool_pcpu_chunk_pages(c);
			pages += n;
			trimmed += n;
		}
		/* after our own shrink, which counts as activity too */
		fam->decay_seen[k] = pcpool_pcpu_activity(c);
	}
	WRITE_ONCE(fam->decay_passes, fam->decay_passes + 1);
	WRITE_ONCE(fam->decay_pages, fam->decay_pages + pages);
	WRITE_ONCE(fam->decay_trim_pages, fam->decay_trim_pages + trimmed);
}

static void pcpool_pcpu_decay_fn(struct work_struct *work)
{
	struct pcpool_pcpu_family *fam = &pcpool_pcpu_family;
	unsigned int ms = READ_ONCE(pcpu_decay_ms);

	pcpool_pcpu_slack_apply(ms);
	if (ms && mutex_trylock(&fam->lock)) {
		if (fam->users)
			pcpool_pcpu_decay_pass(fam);
		mutex_unlock(&fam->lock);
	}
	schedule_delayed_work(&pcpool_pcpu_decay_work,
			      msecs_to_jiffies(ms ? ms : PCPOOL_PCPU_DECAY_IDLE_MS));
}

void pcpool_pcpu_decay_start(void)
{
	pcpool_pcpu_slack_apply(READ_ONCE(pcpu_decay_ms));
	schedule_delayed_work(&pcpool_pcpu_decay_work,
			      msecs_to_jiffies(PCPOOL_PCPU_DECAY_IDLE_MS));
}

/* The work only trylocks the family lock, so this may hold it. */
void pcpool_pcpu_decay_stop(void)
{
	cancel_delayed_work_sync(&pcpool_pcpu_decay_work);
}
