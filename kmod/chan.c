// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool channels: per-session bounded FIFOs of allocated blocks, so one
 * pinned thread can allocate and another free without handles crossing
 * userspace.  Each channel has its own spin lock; CHAN never takes the
 * session mutex, so producer and consumer meet only on the channel.
 * Blocks move through the lock in chunks, allocated and freed outside it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>

#include "param.h"
#include "session.h"

/* Blocks moved per channel-lock acquisition; the buffer is on the stack. */
#define PCPOOL_CHAN_CHUNK	16U
#define PCPOOL_CHAN_CAPACITY_MAX	BIT(20)

static unsigned int chan_capacity = 8192;

static int chan_capacity_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, PCPOOL_CHAN_CAPACITY_MAX);
}

PCPOOL_PARAM_OPS(chan_capacity, chan_capacity_set, param_get_uint);
module_param_cb(chan_capacity, &chan_capacity_param_ops, &chan_capacity, 0644);
MODULE_PARM_DESC(chan_capacity,
		 "Blocks one channel holds, 1..1048576, read when the channel is first used (default 8192)");

void pcpool_chan_init(struct pcpool_channel *ch)
{
	spin_lock_init(&ch->lock);
	ch->ring = NULL;
	ch->cap = 0;
	ch->head = 0;
	ch->fill = 0;
}

/* The session is going away and nothing else can reach it. */
unsigned long pcpool_chan_release(struct pcpool_channel *ch)
{
	unsigned long pages = 0;

	while (ch->fill) {
		struct pcpool_chan_entry *e = &ch->ring[ch->head];
		struct pcpool_backend *b = pcpool_backend_get(e->backend);

		pages += pcpool_order_free(b, e->obj, e->order);
		ch->head = ch->head + 1 == ch->cap ? 0 : ch->head + 1;
		ch->fill--;
		if (!(ch->fill % PCPOOL_YIELD_EVERY))
			cond_resched();
	}
	kvfree(ch->ring);
	ch->ring = NULL;
	return pages;
}

unsigned long pcpool_chan_blocks(struct pcpool_session *s)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; i < PCPOOL_NR_CHANNELS; i++)
		sum += READ_ONCE(s->chan[i].fill);
	return sum;
}

/* The ring is allocated on first use, here in ioctl context. */
static int pcpool_chan_ring(struct pcpool_channel *ch)
{
	struct pcpool_chan_entry *ring;
	unsigned int cap;

	if (READ_ONCE(ch->ring))
		return 0;
	cap = READ_ONCE(chan_capacity);
	ring = kvmalloc_array(cap, sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return -ENOMEM;
	spin_lock(&ch->lock);
	if (!ch->ring) {
		ch->cap = cap;
		WRITE_ONCE(ch->ring, ring);
		ring = NULL;
	}
	spin_unlock(&ch->lock);
	kvfree(ring);
	return 0;
}

static int pcpool_chan_alloc(struct pcpool_session *s,
			     struct pcpool_channel *ch, struct pcpool_chan *c)
{
	struct pcpool_chan_entry buf[PCPOOL_CHAN_CHUNK];
	unsigned int i, j, n, pushed;
	struct pcpool_backend *b;
	unsigned long per;
	u64 want, done = 0, t0;
	int ret;

	b = pcpool_backend_get(c->backend);
	if (!b)
		return -ENOENT;
	if (c->order > b->max_order)
		return -EINVAL;
	ret = pcpool_chan_ring(ch);
	if (ret)
		return ret;

	/* Charge for what can fit now, refund what did not go in. */
	spin_lock(&ch->lock);
	want = min_t(u64, c->count, ch->cap - ch->fill);
	spin_unlock(&ch->lock);
	if (!want)
		return 0;
	/* a per-CPU object costs its bytes on every CPU, not 2^order pages */
	per = pcpool_order_pages(b, c->order);
	ret = pcpool_charge(&s->cap, want * per);
	if (ret)
		return ret;

	t0 = ktime_get_ns();
	while (done < want) {
		n = min_t(u64, PCPOOL_CHAN_CHUNK, want - done);
		for (i = 0; i < n; i++) {
			ret = pcpool_order_alloc(b, c->order, &buf[i].obj);
			if (ret)
				break;
			buf[i].backend = c->backend;
			buf[i].order = c->order;
		}

		spin_lock(&ch->lock);
		pushed = min(i, ch->cap - ch->fill);
		for (j = 0; j < pushed; j++) {
			unsigned int at = ch->head + ch->fill + j;

			ch->ring[at >= ch->cap ? at - ch->cap : at] = buf[j];
		}
		WRITE_ONCE(ch->fill, ch->fill + pushed);
		spin_unlock(&ch->lock);

		/* Another producer filled the channel first. */
		for (j = pushed; j < i; j++)
			pcpool_order_free(b, buf[j].obj, c->order);
		done += pushed;
		if (ret || pushed < n)
			break;
		ret = pcpool_tick_n(done, n);
		if (ret)
			break;
	}
	c->ns = ktime_get_ns() - t0;
	c->done = done;
	pcpool_uncharge(&s->cap, (want - done) * per);
	return ret;
}

static int pcpool_chan_free(struct pcpool_session *s,
			    struct pcpool_channel *ch, struct pcpool_chan *c)
{
	struct pcpool_chan_entry buf[PCPOOL_CHAN_CHUNK];
	unsigned int j, n;
	unsigned long pages = 0;
	u64 done = 0, t0;
	int ret = 0;

	if (c->backend || c->order)
		return -EINVAL;

	t0 = ktime_get_ns();
	while (done < c->count) {
		n = min_t(u64, PCPOOL_CHAN_CHUNK, c->count - done);

		spin_lock(&ch->lock);
		n = min(n, ch->fill);
		for (j = 0; j < n; j++) {
			buf[j] = ch->ring[ch->head];
			ch->head = ch->head + 1 == ch->cap ? 0 : ch->head + 1;
		}
		WRITE_ONCE(ch->fill, ch->fill - n);
		spin_unlock(&ch->lock);
		if (!n)
			break;

		for (j = 0; j < n; j++) {
			struct pcpool_backend *b =
				pcpool_backend_get(buf[j].backend);

			pages += pcpool_order_free(b, buf[j].obj,
						   buf[j].order);
		}
		done += n;
		ret = pcpool_tick_n(done, n);
		if (ret)
			break;
	}
	c->ns = ktime_get_ns() - t0;
	c->done = done;
	pcpool_uncharge(&s->cap, pages);
	return ret;
}

int pcpool_session_chan(struct pcpool_session *s, void *arg)
{
	struct pcpool_chan *c = arg;
	struct pcpool_channel *ch;
	int ret;

	c->cpu = raw_smp_processor_id();
	c->done = 0;
	c->ns = 0;
	c->fill = 0;
	if (c->flags || c->resv[0] || c->resv[1])
		return -EINVAL;
	if (c->op != PCPOOL_CHAN_ALLOC && c->op != PCPOOL_CHAN_FREE)
		return -EINVAL;
	if (c->chan >= PCPOOL_NR_CHANNELS)
		return -EINVAL;
	if (!c->count || c->count > PCPOOL_MAX_BATCH)
		return -EINVAL;
	ch = &s->chan[array_index_nospec(c->chan, PCPOOL_NR_CHANNELS)];

	if (c->op == PCPOOL_CHAN_ALLOC)
		ret = pcpool_chan_alloc(s, ch, c);
	else
		ret = pcpool_chan_free(s, ch, c);
	c->fill = READ_ONCE(ch->fill);
	return ret;
}
