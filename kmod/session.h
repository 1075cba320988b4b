/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool sessions: one per open file.  A handle table (ALLOC, FREE), the
 * channels (CHAN) and the page cap everything the session holds or runs
 * is charged against.  The command layer (cmd.c) calls in here; the
 * session calls down into the run engine and the backends.
 */
#ifndef _PCPOOL_SESSION_H
#define _PCPOOL_SESSION_H

#include <linux/cache.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <linux/pcpool.h>

#include "backend.h"
#include "cap.h"

/* One handle-table slot; a handle is (gen << 32) | (index + 1). */
struct pcpool_slot {
	union {
		union pcpool_obj obj;	/* in use */
		u32 next_free;		/* free: next free index or SLOT_NONE */
	};
	u32 gen;			/* bumped on free: stale handles miss */
	u8 backend;
	u8 order;
	bool used;
};

/* One block waiting in a channel. */
struct pcpool_chan_entry {
	union pcpool_obj obj;
	u8 backend;
	u8 order;
};

/*
 * A bounded FIFO.  Its own lock, so the producer and the consumer of a
 * cross-CPU run meet only here, never on the session mutex.
 */
struct pcpool_channel {
	spinlock_t lock;		/* everything below but @ring's setup */
	struct pcpool_chan_entry *ring;	/* NULL until the first CHAN_ALLOC */
	unsigned int cap;
	unsigned int head;		/* oldest entry */
	unsigned int fill;		/* entries in the ring */
} ____cacheline_aligned_in_smp;

struct pcpool_session {
	struct mutex lock;		/* the handle table below */
	struct pcpool_slot *slots;
	u32 nr_slots;
	u32 free_head;
	unsigned long nr_handles;	/* written under @lock */

	struct pcpool_cap cap;		/* handles, channels, RUNs */

	struct pcpool_channel chan[PCPOOL_NR_CHANNELS];
};

/* session.c */
struct pcpool_session *pcpool_session_create(void);
void pcpool_session_destroy(struct pcpool_session *s);
unsigned long pcpool_session_cap(void);
int pcpool_nr_sessions(void);
/* ALLOC and FREE: @arg is a struct pcpool_alloc / pcpool_free (cmd.c). */
int pcpool_session_alloc(struct pcpool_session *s, void *arg);
int pcpool_session_free(struct pcpool_session *s, void *arg);

/* chan.c */
void pcpool_chan_init(struct pcpool_channel *ch);
unsigned long pcpool_chan_release(struct pcpool_channel *ch);
unsigned long pcpool_chan_blocks(struct pcpool_session *s);
/* CHAN: @arg is a struct pcpool_chan. */
int pcpool_session_chan(struct pcpool_session *s, void *arg);

#endif /* _PCPOOL_SESSION_H */
