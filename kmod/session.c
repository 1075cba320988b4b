// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool sessions: the handle table, the memory cap, ALLOC and FREE.
 *
 * A handle is (generation << 32) | (slot index + 1).  A slot's generation
 * changes every time it is freed, so a stale or repeated handle misses
 * exactly, and handle 0 (index part 0) never names a slot.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>

#include "session.h"

#define PCPOOL_SLOT_NONE	U32_MAX
#define PCPOOL_MIN_SLOTS	64U
/* Index + 1 must fit 32 bits, and kvmalloc() refuses more than INT_MAX. */
#define PCPOOL_MAX_SLOTS \
	((u32)min_t(u64, U32_MAX - 1, INT_MAX / sizeof(struct pcpool_slot)))
/* FREE reads handles in chunks this big, on the stack: no allocation. */
#define PCPOOL_FREE_CHUNK	32U

static unsigned long session_max_pages;
module_param(session_max_pages, ulong, 0644);
MODULE_PARM_DESC(session_max_pages,
		 "Pages one session may hold (handles, channels, running workloads), read at open; 0 = totalram/4 (default)");

static atomic_t pcpool_sessions = ATOMIC_INIT(0);

unsigned long pcpool_session_cap(void)
{
	unsigned long cap = READ_ONCE(session_max_pages);

	return cap ? cap : totalram_pages() / 4;
}

int pcpool_nr_sessions(void)
{
	return atomic_read(&pcpool_sessions);
}

struct pcpool_session *pcpool_session_create(void)
{
	struct pcpool_session *s;
	unsigned int i;

	s = kzalloc(sizeof(*s), GFP_KERNEL_ACCOUNT);
	if (!s)
		return NULL;
	mutex_init(&s->lock);
	s->free_head = PCPOOL_SLOT_NONE;
	pcpool_cap_init(&s->cap, pcpool_session_cap());
	for (i = 0; i < PCPOOL_NR_CHANNELS; i++)
		pcpool_chan_init(&s->chan[i]);
	atomic_inc(&pcpool_sessions);
	return s;
}

/* Runs when the last reference to the file goes: no command is running. */
void pcpool_session_destroy(struct pcpool_session *s)
{
	unsigned long pages = 0;
	unsigned int i;
	u32 idx;

	for (idx = 0; idx < s->nr_slots; idx++) {
		struct pcpool_slot *slot = &s->slots[idx];

		if (slot->used) {
			struct pcpool_backend *b =
				pcpool_backend_get(slot->backend);

			pages += pcpool_order_free(b, slot->obj, slot->order);
		}
		if (!((idx + 1) % PCPOOL_YIELD_EVERY))
			cond_resched();
	}
	for (i = 0; i < PCPOOL_NR_CHANNELS; i++)
		pages += pcpool_chan_release(&s->chan[i]);
	/* Whatever was charged must have been held by a handle or channel. */
	WARN_ON_ONCE(atomic_long_read(&s->cap.pages) != pages);

	kvfree(s->slots);
	mutex_destroy(&s->lock);
	kfree(s);
	atomic_dec(&pcpool_sessions);
}

static u64 pcpool_handle(const struct pcpool_session *s, u32 idx)
{
	return (u64)s->slots[idx].gen << 32 | (idx + 1);
}

/* The live slot @h names, or NULL.  Caller holds s->lock. */
static struct pcpool_slot *pcpool_handle_slot(struct pcpool_session *s, u64 h)
{
	u32 idx = lower_32_bits(h) - 1;	/* handle 0 wraps to U32_MAX */
	struct pcpool_slot *slot;

	if (idx >= s->nr_slots)
		return NULL;
	slot = &s->slots[array_index_nospec(idx, s->nr_slots)];
	if (!slot->used || slot->gen != upper_32_bits(h))
		return NULL;
	return slot;
}

static u32 pcpool_slot_take(struct pcpool_session *s)
{
	u32 idx = s->free_head;

	s->free_head = s->slots[idx].next_free;
	return idx;
}

static void pcpool_slot_put(struct pcpool_session *s, u32 idx)
{
	struct pcpool_slot *slot = &s->slots[idx];

	slot->used = false;
	slot->gen++;
	slot->next_free = s->free_head;
	s->free_head = idx;
}

/* Make room for @count more handles.  Caller holds s->lock. */
static int pcpool_slots_reserve(struct pcpool_session *s, unsigned long count)
{
	unsigned long want = s->nr_handles + count;
	struct pcpool_slot *slots;
	u32 n, i, gen;

	if (want <= s->nr_slots)
		return 0;
	if (want > PCPOOL_MAX_SLOTS)
		return -ENOMEM;
	n = clamp_t(unsigned long, max(want, 2UL * s->nr_slots),
		    PCPOOL_MIN_SLOTS, PCPOOL_MAX_SLOTS);
	slots = kvmalloc_array(n, sizeof(*slots),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!slots)
		return -ENOMEM;
	if (s->nr_slots)
		memcpy(slots, s->slots, s->nr_slots * sizeof(*slots));
	kvfree(s->slots);
	s->slots = slots;

	/* New slots start at a random generation; lowest index pops first. */
	gen = get_random_u32();
	for (i = n; i-- > s->nr_slots;) {
		slots[i] = (struct pcpool_slot){ .gen = gen };
		slots[i].next_free = s->free_head;
		s->free_head = i;
	}
	s->nr_slots = n;
	return 0;
}

/*
 * Free the block @h names.  Returns the pages it held, 0 when @h is not a
 * live handle of this session.  Caller holds s->lock.
 */
static unsigned long pcpool_handle_release(struct pcpool_session *s, u64 h)
{
	struct pcpool_slot *slot = pcpool_handle_slot(s, h);
	unsigned long pages;

	if (!slot)
		return 0;
	/* before the slot goes back: its free-list link overlays the object */
	pages = pcpool_order_free(pcpool_backend_get(slot->backend), slot->obj,
				  slot->order);
	pcpool_slot_put(s, slot - s->slots);
	WRITE_ONCE(s->nr_handles, s->nr_handles - 1);
	return pages;
}

int pcpool_session_alloc(struct pcpool_session *s, void *arg)
{
	struct pcpool_alloc *a = arg;
	struct pcpool_backend *b;
	gfp_t gfp;
	unsigned long pages, undone;
	u64 *handles, i, t0;
	int ret;

	a->cpu = raw_smp_processor_id();
	a->ns = 0;
	if ((a->flags & ~(PCPOOL_ALLOC_MOVABLE | PCPOOL_ALLOC_RECLAIMABLE)) ||
	    a->flags == (PCPOOL_ALLOC_MOVABLE | PCPOOL_ALLOC_RECLAIMABLE) ||
	    a->resv)
		return -EINVAL;
	gfp = PCPOOL_KERNEL_GFP;
	if (a->flags & PCPOOL_ALLOC_MOVABLE)
		gfp |= __GFP_MOVABLE;
	if (a->flags & PCPOOL_ALLOC_RECLAIMABLE)
		gfp |= __GFP_RECLAIMABLE;
	b = pcpool_backend_get(a->backend);
	if (!b)
		return -ENOENT;
	if (a->order > b->max_order)
		return -EINVAL;
	if (!a->count || a->count > PCPOOL_MAX_BATCH)
		return -EINVAL;

	pages = a->count * pcpool_order_pages(b, a->order);
	ret = pcpool_charge(&s->cap, pages);
	if (ret)
		return ret;
	handles = kvmalloc_array(a->count, sizeof(*handles),
				 GFP_KERNEL_ACCOUNT);
	if (!handles) {
		ret = -ENOMEM;
		goto out_uncharge;
	}

	mutex_lock(&s->lock);
	ret = pcpool_slots_reserve(s, a->count);
	if (ret)
		goto out_unlock;

	t0 = ktime_get_ns();
	for (i = 0; i < a->count;) {
		struct pcpool_slot *slot;
		union pcpool_obj obj;
		u32 idx;

		ret = pcpool_order_alloc_gfp(b, a->order, gfp, &obj);
		if (ret)
			break;
		idx = pcpool_slot_take(s);
		slot = &s->slots[idx];
		slot->obj = obj;
		slot->backend = a->backend;
		slot->order = a->order;
		slot->used = true;
		handles[i] = pcpool_handle(s, idx);
		ret = pcpool_tick(++i);
		if (ret)
			break;
	}
	a->ns = ktime_get_ns() - t0;
	WRITE_ONCE(s->nr_handles, s->nr_handles + i);

	/* All or nothing: nobody has seen these handles yet. */
	if (ret)
		while (i--)
			pcpool_handle_release(s, handles[i]);
out_unlock:
	mutex_unlock(&s->lock);

	if (!ret && copy_to_user(u64_to_user_ptr(a->handles), handles,
				 a->count * sizeof(*handles))) {
		/* Another thread may have freed one by now: go by handle. */
		undone = 0;
		mutex_lock(&s->lock);
		for (i = 0; i < a->count; i++)
			undone += pcpool_handle_release(s, handles[i]);
		mutex_unlock(&s->lock);
		pcpool_uncharge(&s->cap, undone);
		ret = -EFAULT;
	} else if (ret) {
		pcpool_uncharge(&s->cap, pages);
	}
	kvfree(handles);
	return ret;

out_uncharge:
	pcpool_uncharge(&s->cap, pages);
	return ret;
}

int pcpool_session_free(struct pcpool_session *s, void *arg)
{
	struct pcpool_free *f = arg;
	u64 __user *uhandles = u64_to_user_ptr(f->handles);
	s32 __user *ustatus = u64_to_user_ptr(f->status);
	u64 hbuf[PCPOOL_FREE_CHUNK];
	s32 sbuf[PCPOOL_FREE_CHUNK];
	unsigned long pages = 0;
	u64 off, freed = 0, ns = 0, t0;
	unsigned int i, n;
	int ret = 0;

	f->cpu = raw_smp_processor_id();
	f->freed = 0;
	f->ns = 0;
	if (f->flags || f->resv)
		return -EINVAL;
	if (!f->count || f->count > PCPOOL_MAX_BATCH)
		return -EINVAL;

	for (off = 0; off < f->count; off += n) {
		n = min_t(u64, PCPOOL_FREE_CHUNK, f->count - off);
		if (copy_from_user(hbuf, uhandles + off, n * sizeof(*hbuf))) {
			ret = -EFAULT;
			break;
		}
		mutex_lock(&s->lock);
		t0 = ktime_get_ns();
		for (i = 0; i < n; i++) {
			unsigned long p = pcpool_handle_release(s, hbuf[i]);

			sbuf[i] = p ? 0 : -ENOENT;
			freed += !!p;
			pages += p;
		}
		ns += ktime_get_ns() - t0;
		mutex_unlock(&s->lock);
		if (ustatus &&
		    copy_to_user(ustatus + off, sbuf, n * sizeof(*sbuf))) {
			ret = -EFAULT;
			break;
		}
		cond_resched();
	}
	pcpool_uncharge(&s->cap, pages);
	f->freed = freed;
	f->ns = ns;
	if (ret)
		return ret;
	return freed == f->count ? 0 : -ENOENT;
}
