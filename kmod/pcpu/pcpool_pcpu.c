// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool per-CPU cache: size classes, magazines, depot, chunks.
 *
 * Three layers, each with its own protection, always taken in this order:
 *
 *   CPU      two magazines per CPU (loaded, prev), used with the CPU
 *            pinned (preemption off) and only by that CPU: a drain or a
 *            count runs on the CPU itself (pcpool_pcpu_on_cpu()), and
 *            only on CPUs that have magazines at all
 *   depot    lists of full and empty magazines, the depot lock
 *   chunks   a page (up to 32 KiB for big classes) per CPU from the
 *            source, a free bitmap each, found from an object by a hash
 *            of the chunk's first page, the chunk lock
 *
 * The fast paths (pcpool_pcpu.h, inline) take no lock and do no atomic
 * operation.  Allocation pops from the loaded magazine; when it is empty it swaps in
 * prev if prev has objects, then trades an empty magazine for a full one at
 * the depot, and only then takes a batch from the chunks, growing by one
 * chunk when none has a free slot.  Free is the mirror image; it never
 * allocates: with no empty magazine anywhere it flushes a full one back to
 * its chunks.  Per-object work (zeroing, verifying) happens before any
 * lock is taken.  Documentation/percpu.rst has the rest.
 */
#include "pcpool_core.h"
#include "pcpool_pcpu.h"

/* Default magazine: about this many bytes of one CPU's copies. */
#define PCPOOL_PCPU_MAG_BYTES		2048U
#define PCPOOL_PCPU_MAG_MIN		4U
#define PCPOOL_PCPU_MAG_DEFAULT_MAX	64U
#define PCPOOL_PCPU_HASH_BITS		9U
/* Words summed per pass over the CPUs by the default constructed check. */
#define PCPOOL_PCPU_CHECK_WORDS		8U

static bool pcpu_config_ok(const struct pcpool_pcpu_cache_config *cfg)
{
	const struct pcpool_pcpu_source *src = &cfg->src;

	return cfg->shift >= PCPOOL_PCPU_MIN_SHIFT &&
	       cfg->shift <= PCPOOL_PCPU_MAX_SHIFT &&
	       cfg->nr_cpus && cfg->nr_cpus <= (1U << 20) &&
	       pcpool_pcpu_nr_possible() &&
	       pcpool_pcpu_nr_possible() <= cfg->nr_cpus &&
	       (unsigned int)cfg->mode < PCPOOL_PCPU_NR_MODES &&
	       cfg->mag_size <= PCPOOL_PCPU_MAG_MAX &&
	       cfg->hash_bits <= PCPOOL_PCPU_HASH_BITS_MAX &&
	       src->alloc_chunk && src->free_chunk && src->meta_alloc &&
	       src->meta_free && cfg->budget;
}

static unsigned int pcpu_hash_bits(const struct pcpool_pcpu_cache_config *cfg)
{
	return cfg->hash_bits ? cfg->hash_bits : PCPOOL_PCPU_HASH_BITS;
}

static unsigned int pcpu_default_mag_size(unsigned int shift)
{
	unsigned int n = PCPOOL_PCPU_MAG_BYTES >> shift;

	if (n < PCPOOL_PCPU_MAG_MIN)
		return PCPOOL_PCPU_MAG_MIN;
	if (n > PCPOOL_PCPU_MAG_DEFAULT_MAX)
		return PCPOOL_PCPU_MAG_DEFAULT_MAX;
	return n;
}

size_t pcpool_pcpu_cache_meta_size(const struct pcpool_pcpu_cache_config *cfg)
{
	if (!pcpu_config_ok(cfg))
		return 0;
	return PCPOOL_CACHE_BYTES - 1 +
	       ALIGN(sizeof(struct pcpool_pcpu_cache), PCPOOL_CACHE_BYTES) +
	       (size_t)cfg->nr_cpus * sizeof(struct pcpool_pcpu_cpu) +
	       (sizeof(struct pcpool_pcpu_chunk *) << pcpu_hash_bits(cfg));
}

int pcpool_pcpu_cache_init(void *buf, size_t size,
			   const struct pcpool_pcpu_cache_config *cfg,
			   struct pcpool_pcpu_cache **cachep)
{
	size_t need = pcpool_pcpu_cache_meta_size(cfg);
	struct pcpool_pcpu_cache *c;
	char *p;

	p = pcpool_meta_begin(buf, size, need);
	if (!p)
		return -EINVAL;
	c = (struct pcpool_pcpu_cache *)p;
	p = pcpool_meta_next_line(p, sizeof(*c));
	c->cpu = (struct pcpool_pcpu_cpu *)p;
	p += (size_t)cfg->nr_cpus * sizeof(struct pcpool_pcpu_cpu);
	c->hash = (struct pcpool_pcpu_chunk **)p;

	c->shift = cfg->shift;
	c->size = 1U << cfg->shift;
	c->nr_cpus = cfg->nr_cpus;
	c->nr_possible = pcpool_pcpu_nr_possible();
	c->mag_size = cfg->mag_size ? cfg->mag_size :
		      pcpu_default_mag_size(cfg->shift);
	c->chunk_size = pcpool_pcpu_chunk_size(cfg->shift);
	c->per_chunk = c->chunk_size >> cfg->shift;
	c->hash_bits = pcpu_hash_bits(cfg);
	c->mode = cfg->mode;
	pcpool_pcpu_set_verify(c, cfg->verify);
	c->obj_bytes = (unsigned long)c->size * c->nr_possible;
	if (cfg->mode == PCPOOL_PCPU_CONSTRUCTED) {
		c->ctor = cfg->ctor;
		c->check = cfg->check;
		c->arg = cfg->arg;
	}
	c->src = cfg->src;
	c->budget = cfg->budget;

	spin_lock_init(&c->depot_lock);
	INIT_LIST_HEAD(&c->full);
	INIT_LIST_HEAD(&c->empty);
	spin_lock_init(&c->chunk_lock);
	INIT_LIST_HEAD(&c->partial);
	INIT_LIST_HEAD(&c->empty_chunks);
	*cachep = c;
	return 0;
}

/* ---- chunks ---- */

static void __percpu *pcpu_slot(struct pcpool_pcpu_cache *c,
				struct pcpool_pcpu_chunk *ch, unsigned long idx)
{
	return (char __percpu *)ch->base + (idx << c->shift);
}

static unsigned int pcpu_hash_idx(struct pcpool_pcpu_cache *c,
				  unsigned long base)
{
	/* golden-ratio hash of the page number, as the kernel's hash_32() */
	return (u32)((u32)(base >> PAGE_SHIFT) * 0x61C88647U) >>
	       (32 - c->hash_bits);
}

static struct pcpool_pcpu_chunk *pcpu_hash_find(struct pcpool_pcpu_cache *c,
						unsigned long base)
{
	struct pcpool_pcpu_chunk *ch = c->hash[pcpu_hash_idx(c, base)];

	while (ch && (unsigned long)ch->base != base)
		ch = ch->hnext;
	return ch;
}

/*
 * The chunk holding @addr, or NULL.  Small classes: the chunk is the
 * object's page.  Big ones: the object is slot k of a chunk based at
 * addr - (k << shift), which then spans @addr (chunks do not overlap).
 */
static struct pcpool_pcpu_chunk *pcpu_chunk_of(struct pcpool_pcpu_cache *c,
					       unsigned long addr)
{
	struct pcpool_pcpu_chunk *ch;
	unsigned long k;

	if (c->chunk_size == PCPOOL_PCPU_CHUNK_SIZE)
		return pcpu_hash_find(c, addr & ~(PCPOOL_PCPU_CHUNK_SIZE - 1));
	for (k = 0; k < c->per_chunk && (k << c->shift) <= addr; k++) {
		ch = pcpu_hash_find(c, addr - (k << c->shift));
		if (ch)
			return ch;
	}
	return NULL;
}

static void pcpu_hash_add(struct pcpool_pcpu_cache *c,
			  struct pcpool_pcpu_chunk *ch)
{
	struct pcpool_pcpu_chunk **head =
		&c->hash[pcpu_hash_idx(c, (unsigned long)ch->base)];

	ch->hnext = *head;
	*head = ch;
}

static void pcpu_hash_del(struct pcpool_pcpu_cache *c,
			  struct pcpool_pcpu_chunk *ch)
{
	struct pcpool_pcpu_chunk **pp =
		&c->hash[pcpu_hash_idx(c, (unsigned long)ch->base)];

	while (*pp && *pp != ch)
		pp = &(*pp)->hnext;
	if (!WARN_ON_ONCE(!*pp))
		*pp = ch->hnext;
	ch->hnext = NULL;
}

static size_t pcpu_chunk_meta_size(struct pcpool_pcpu_cache *c)
{
	return sizeof(struct pcpool_pcpu_chunk) +
	       BITS_TO_LONGS(c->per_chunk) * sizeof(unsigned long);
}

/* Take up to @want free slots of @ch.  Chunk lock held. */
static unsigned int pcpu_carve(struct pcpool_pcpu_cache *c,
			       struct pcpool_pcpu_chunk *ch,
			       void __percpu **objs, unsigned int want)
{
	unsigned long idx = ch->hint;
	unsigned int n = 0;

	while (n < want && ch->nr_free) {
		idx = find_next_bit(ch->map, c->per_chunk, idx);
		if (WARN_ON_ONCE(idx >= c->per_chunk))
			break;
		__clear_bit(idx, ch->map);
		objs[n++] = pcpu_slot(c, ch, idx);
		ch->nr_free--;
		idx++;
	}
	ch->hint = idx;
	return n;
}

static bool pcpu_over_budget(struct pcpool_pcpu_cache *c, unsigned long more)
{
	unsigned long cached = atomic_long_read(&c->budget->cached);

	return cached + more < cached ||
	       cached + more > pcpool_pcpu_budget_limit(c->budget);
}

/* Up to @want objects from chunks that have free slots.  Chunk lock held. */
static unsigned int pcpu_take_locked(struct pcpool_pcpu_cache *c,
				     void __percpu **objs, unsigned int want)
{
	struct pcpool_pcpu_chunk *ch;
	unsigned int n = 0;

	while (n < want) {
		/* partly used chunks first, so free ones can go back */
		if (!list_empty(&c->partial)) {
			ch = list_first_entry(&c->partial,
					      struct pcpool_pcpu_chunk, list);
		} else if (!list_empty(&c->empty_chunks)) {
			ch = list_first_entry(&c->empty_chunks,
					      struct pcpool_pcpu_chunk, list);
			list_del(&ch->list);
			list_add(&ch->list, &c->partial);
			WRITE_ONCE(c->nr_empty_chunks, c->nr_empty_chunks - 1);
		} else {
			break;
		}
		n += pcpu_carve(c, ch, objs + n, want - n);
		if (!ch->nr_free)
			list_del(&ch->list);	/* full chunks are on no list */
	}
	if (n) {
		WRITE_ONCE(c->chunk_free_objs, c->chunk_free_objs - n);
		atomic_long_sub((long)(n * c->obj_bytes), &c->budget->cached);
		pcpool_pcpu_stat_add(&c->chunk_refills, 1);
	}
	return n;
}

/*
 * Obtain one chunk and take up to @want objects from it.  No lock held;
 * may sleep unless @nowait, which also skips the budget's reclaim (it
 * may sleep).  Returns the number taken (>= 1) or -ENOMEM.
 */
static int pcpu_grow(struct pcpool_pcpu_cache *c, void __percpu **objs,
		     unsigned int want, bool nowait)
{
	struct pcpool_pcpu_chunk *ch;
	void __percpu *base;
	unsigned int i, n;

	if (!nowait) {
		/*
		 * Room for all of this cache's chunks, which its frees will
		 * cache: asking for one chunk's room only let an idle cache
		 * keep the budget while this one gave back, on every burst,
		 * what did not fit beside it.
		 */
		unsigned long need = (READ_ONCE(c->nr_chunks) + 1) *
				     c->per_chunk * c->obj_bytes;

		might_sleep();
		if (c->budget->reclaim && pcpu_over_budget(c, need))
			c->budget->reclaim(c->budget, c, need);
	}
	ch = c->src.meta_alloc(c->src.ctx, pcpu_chunk_meta_size(c), nowait);
	if (!ch)
		goto fail;
	base = c->src.alloc_chunk(c->src.ctx, c->chunk_size, nowait);
	if (!base)
		goto fail_meta;
	/* objects are found by page: the source must keep chunks aligned */
	if (WARN_ON_ONCE(!IS_ALIGNED((unsigned long)base,
				     PCPOOL_PCPU_CHUNK_SIZE))) {
		c->src.free_chunk(c->src.ctx, base);
		goto fail_meta;
	}
	ch->hnext = NULL;
	ch->base = base;
	ch->nr_free = c->per_chunk;
	ch->hint = 0;
	bitmap_zero(ch->map, c->per_chunk);
	for (i = 0; i < c->per_chunk; i++)
		__set_bit(i, ch->map);
	if (c->ctor)
		for (i = 0; i < c->per_chunk; i++)
			c->ctor(pcpu_slot(c, ch, i), c->size, c->arg);
	pcpool_pcpu_poison(base, c->chunk_size);

	spin_lock(&c->chunk_lock);
	pcpu_hash_add(c, ch);
	WRITE_ONCE(c->nr_chunks, c->nr_chunks + 1);
	pcpool_pcpu_stat_add(&c->chunk_grow, 1);
	n = pcpu_carve(c, ch, objs, want);
	if (ch->nr_free)
		list_add(&ch->list, &c->partial);
	WRITE_ONCE(c->chunk_free_objs, c->chunk_free_objs + ch->nr_free);
	atomic_long_add((long)(ch->nr_free * c->obj_bytes), &c->budget->cached);
	pcpool_pcpu_stat_add(&c->chunk_refills, 1);
	spin_unlock(&c->chunk_lock);
	return n;

fail_meta:
	c->src.meta_free(c->src.ctx, ch);
fail:
	spin_lock(&c->chunk_lock);
	pcpool_pcpu_stat_add(&c->chunk_grow_failed, 1);
	spin_unlock(&c->chunk_lock);
	return -ENOMEM;
}

/* Up to @want objects, growing when no chunk has any.  See pcpu_grow(). */
static int pcpu_chunk_take(struct pcpool_pcpu_cache *c, void __percpu **objs,
			   unsigned int want, bool nowait)
{
	unsigned int n;

	spin_lock(&c->chunk_lock);
	n = pcpu_take_locked(c, objs, want);
	spin_unlock(&c->chunk_lock);
	if (n)
		return n;
	return pcpu_grow(c, objs, want, nowait);
}

/* One object back into its chunk.  Returns false if it is not ours. */
static bool pcpu_put_one(struct pcpool_pcpu_cache *c, void __percpu *obj)
{
	unsigned long addr = (unsigned long)obj;
	struct pcpool_pcpu_chunk *ch = pcpu_chunk_of(c, addr);
	unsigned long off = ch ? addr - (unsigned long)ch->base : 0;
	unsigned long idx = off >> c->shift;

	if (WARN_ON_ONCE(!ch || (off & (c->size - 1)) ||
			 test_bit(idx, ch->map))) {
		pcpool_pcpu_stat_add(&c->bad_frees, 1);
		return false;
	}
	__set_bit(idx, ch->map);
	if (idx < ch->hint)
		ch->hint = idx;
	if (++ch->nr_free == 1)
		list_add(&ch->list, &c->partial);
	if (ch->nr_free == c->per_chunk) {
		list_del(&ch->list);
		list_add(&ch->list, &c->empty_chunks);
		WRITE_ONCE(c->nr_empty_chunks, c->nr_empty_chunks + 1);
	}
	return true;
}

/*
 * Detach entirely free chunks, at most @max: all of them with @all, else
 * while the budget is exceeded.  Chunk lock held.  Returns them chained
 * by hnext; pcpu_release() frees them once the lock is dropped.
 */
static struct pcpool_pcpu_chunk *pcpu_reap_locked(struct pcpool_pcpu_cache *c,
						  bool all, unsigned long max)
{
	struct pcpool_pcpu_chunk *ch, *victims = NULL;

	while (max-- && !list_empty(&c->empty_chunks) &&
	       (all || pcpu_over_budget(c, 0))) {
		ch = list_first_entry(&c->empty_chunks, struct pcpool_pcpu_chunk,
				      list);
		list_del(&ch->list);
		pcpu_hash_del(c, ch);
		WRITE_ONCE(c->nr_empty_chunks, c->nr_empty_chunks - 1);
		WRITE_ONCE(c->nr_chunks, c->nr_chunks - 1);
		WRITE_ONCE(c->chunk_free_objs, c->chunk_free_objs - c->per_chunk);
		atomic_long_sub((long)(c->per_chunk * c->obj_bytes),
				&c->budget->cached);
		pcpool_pcpu_stat_add(&c->chunk_shrink, 1);
		ch->hnext = victims;
		victims = ch;
	}
	return victims;
}

static unsigned long pcpu_release(struct pcpool_pcpu_cache *c,
				  struct pcpool_pcpu_chunk *victims)
{
	unsigned long n = 0;

	while (victims) {
		struct pcpool_pcpu_chunk *ch = victims;

		victims = ch->hnext;
		c->src.free_chunk(c->src.ctx, ch->base);
		c->src.meta_free(c->src.ctx, ch);
		n++;
	}
	return n;
}

/*
 * @objs back to their chunks under one chunk-lock acquisition; chunks left
 * entirely free go back to the source while the budget is exceeded.
 * Never sleeps.
 */
static void pcpu_chunk_put(struct pcpool_pcpu_cache *c,
			   void __percpu *const *objs, unsigned int n)
{
	struct pcpool_pcpu_chunk *victims;
	unsigned int i, put = 0;

	spin_lock(&c->chunk_lock);
	for (i = 0; i < n; i++)
		put += pcpu_put_one(c, objs[i]);
	WRITE_ONCE(c->chunk_free_objs, c->chunk_free_objs + put);
	atomic_long_add((long)(put * c->obj_bytes), &c->budget->cached);
	pcpool_pcpu_stat_add(&c->chunk_flushes, 1);
	victims = pcpu_reap_locked(c, false, ULONG_MAX);
	spin_unlock(&c->chunk_lock);
	pcpu_release(c, victims);
}

/* ---- magazines and the depot ---- */

static size_t pcpu_mag_bytes(struct pcpool_pcpu_cache *c)
{
	return sizeof(struct pcpool_pcpu_mag) +
	       c->mag_size * sizeof(void __percpu *);
}

/*
 * Trade @give (empty or NULL) for a full magazine; @give goes to the depot
 * only if a full one was there.  Returns the full one or NULL.
 */
static struct pcpool_pcpu_mag *pcpu_depot_get_full(struct pcpool_pcpu_cache *c,
						   struct pcpool_pcpu_mag *give)
{
	struct pcpool_pcpu_mag *m = NULL;

	spin_lock(&c->depot_lock);
	if (!list_empty(&c->full)) {
		m = list_first_entry(&c->full, struct pcpool_pcpu_mag, list);
		list_del(&m->list);
		WRITE_ONCE(c->nr_full, c->nr_full - 1);
		WRITE_ONCE(c->depot_objs, c->depot_objs - m->nr);
		atomic_long_sub((long)(m->nr * c->obj_bytes), &c->budget->cached);
		pcpool_pcpu_stat_add(&c->depot_events[PCPOOL_PCPU_DEPOT_FULL_GET], 1);
		if (give) {
			list_add(&give->list, &c->empty);
			WRITE_ONCE(c->nr_empty, c->nr_empty + 1);
			pcpool_pcpu_stat_add(&c->depot_events[PCPOOL_PCPU_DEPOT_EMPTY_PUT], 1);
		}
	}
	spin_unlock(&c->depot_lock);
	return m;
}

static struct pcpool_pcpu_mag *pcpu_depot_get_empty(struct pcpool_pcpu_cache *c)
{
	struct pcpool_pcpu_mag *m = NULL;

	spin_lock(&c->depot_lock);
	if (!list_empty(&c->empty)) {
		m = list_first_entry(&c->empty, struct pcpool_pcpu_mag, list);
		list_del(&m->list);
		WRITE_ONCE(c->nr_empty, c->nr_empty - 1);
		pcpool_pcpu_stat_add(&c->depot_events[PCPOOL_PCPU_DEPOT_EMPTY_GET], 1);
	}
	spin_unlock(&c->depot_lock);
	return m;
}

/*
 * Magazines worth keeping: enough to hold every object the chunks have,
 * plus a pair per CPU.  Beyond that an empty magazine is only memory.
 */
static unsigned long pcpu_mag_cap(struct pcpool_pcpu_cache *c)
{
	return READ_ONCE(c->nr_chunks) * c->per_chunk / c->mag_size +
	       2UL * c->nr_cpus;
}

/*
 * A magazine to the depot: onto the full list if it holds objects and the
 * budget allows, else its objects go back to their chunks first and it
 * joins the empty list, or is freed if the depot has enough.  Never sleeps.
 */
static void pcpu_depot_put(struct pcpool_pcpu_cache *c,
			   struct pcpool_pcpu_mag *m)
{
	if (m->nr && pcpu_over_budget(c, m->nr * c->obj_bytes)) {
		pcpu_chunk_put(c, m->obj, m->nr);
		m->nr = 0;
	}
	spin_lock(&c->depot_lock);
	if (m->nr) {
		list_add(&m->list, &c->full);
		WRITE_ONCE(c->nr_full, c->nr_full + 1);
		WRITE_ONCE(c->depot_objs, c->depot_objs + m->nr);
		atomic_long_add((long)(m->nr * c->obj_bytes), &c->budget->cached);
		pcpool_pcpu_stat_add(&c->depot_events[PCPOOL_PCPU_DEPOT_FULL_PUT], 1);
		m = NULL;
	} else if (c->nr_full + c->nr_empty < pcpu_mag_cap(c)) {
		list_add(&m->list, &c->empty);
		WRITE_ONCE(c->nr_empty, c->nr_empty + 1);
		pcpool_pcpu_stat_add(&c->depot_events[PCPOOL_PCPU_DEPOT_EMPTY_PUT], 1);
		m = NULL;
	} else {
		pcpool_pcpu_stat_add(&c->depot_events[PCPOOL_PCPU_MAGS_FREED], 1);
	}
	spin_unlock(&c->depot_lock);
	if (m)
		c->src.meta_free(c->src.ctx, m);
}

/*
 * A magazine for a refill: a new one, so that the depot's empty ones stay
 * for the frees that will bring these objects back (free cannot allocate
 * one); a depot one only when the source says no.
 */
static struct pcpool_pcpu_mag *pcpu_mag_get(struct pcpool_pcpu_cache *c,
					    bool nowait)
{
	struct pcpool_pcpu_mag *m;

	m = c->src.meta_alloc(c->src.ctx, pcpu_mag_bytes(c), nowait);
	if (!m)
		return pcpu_depot_get_empty(c);
	m->nr = 0;
	spin_lock(&c->depot_lock);
	pcpool_pcpu_stat_add(&c->depot_events[PCPOOL_PCPU_MAGS_ALLOCATED], 1);
	spin_unlock(&c->depot_lock);
	return m;
}

/* ---- per-object work, before any lock ---- */

static unsigned int pcpu_zero(struct pcpool_pcpu_cache *c, void __percpu *obj)
{
	unsigned int n = 0;
	int cpu;

	/*
	 * Read every copy, write only the dirty ones: a task that ran on two
	 * CPUs dirties two lines, not nr_possible.  Sizes are multiples of 8.
	 */
	for_each_possible_cpu(cpu) {
		u64 *p = per_cpu_ptr((u64 __percpu *)obj, cpu);
		unsigned int w, words = c->size / sizeof(u64);

		for (w = 0; w < words && !p[w]; w++)
			;
		if (w < words) {
			memset(p + w, 0, (words - w) * sizeof(u64));
			n++;
		}
	}
	return n;
}

/* The default constructed state: each 64-bit word sums to 0 over CPUs. */
static bool pcpu_words_cancel(struct pcpool_pcpu_cache *c, void __percpu *obj)
{
	unsigned int words = c->size / sizeof(u64), w, i, n;
	u64 sum[PCPOOL_PCPU_CHECK_WORDS];
	int cpu;

	for (w = 0; w < words; w += n) {
		n = min_t(unsigned int, words - w, PCPOOL_PCPU_CHECK_WORDS);
		memset(sum, 0, sizeof(sum));
		for_each_possible_cpu(cpu) {
			const u64 *p = per_cpu_ptr((u64 __percpu *)obj, cpu);

			for (i = 0; i < n; i++)
				sum[i] += p[w + i];
		}
		for (i = 0; i < n; i++)
			if (sum[i])
				return false;
	}
	return true;
}

static void pcpu_construct(struct pcpool_pcpu_cache *c, void __percpu *obj)
{
	int cpu;

	if (c->ctor) {
		c->ctor(obj, c->size, c->arg);
		return;
	}
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr((char __percpu *)obj, cpu), 0, c->size);
}

/* ---- allocation and free ---- */

/*
 * This CPU's magazines, pinned: preemption off in the kernel, so nothing
 * else runs on this CPU until pcpool_pcpu_put_cpu().  Nobody else touches
 * them: a drain runs on their CPU (pcpool_pcpu_on_cpu()).
 */
static struct pcpool_pcpu_cpu *pcpu_get(struct pcpool_pcpu_cache *c,
					unsigned int *cpu)
{
	*cpu = pcpool_pcpu_get_cpu();
	return &c->cpu[*cpu];
}

/* WRITE_ONCE: a drain peeks at them to skip CPUs that hold nothing. */
static void pcpu_set_mags(struct pcpool_pcpu_cpu *pc,
			  struct pcpool_pcpu_mag *loaded,
			  struct pcpool_pcpu_mag *prev)
{
	WRITE_ONCE(pc->loaded, loaded);
	WRITE_ONCE(pc->prev, prev);
}

/* The source failed us: counted so that requests = hits + misses + this. */
static int pcpu_alloc_failed(struct pcpool_pcpu_cache *c, int err)
{
	unsigned int cpu;
	struct pcpool_pcpu_cpu *pc = pcpu_get(c, &cpu);

	pcpool_pcpu_stat_add(&pc->st.alloc_failed, 1);
	pcpool_pcpu_put_cpu(cpu);
	return err;
}

/*
 * Magazines and depot had nothing: a batch from the chunks into a
 * magazine that becomes this CPU's loaded one.  Not pinned; may sleep
 * unless @nowait.
 */
static int pcpu_alloc_refill(struct pcpool_pcpu_cache *c,
			     void __percpu **objp, bool nowait)
{
	struct pcpool_pcpu_mag *m, *spare = NULL;
	struct pcpool_pcpu_cpu *pc;
	void __percpu *obj;
	unsigned int cpu;
	int n;

	if (!nowait)
		might_sleep();
	m = pcpu_mag_get(c, nowait);
	if (!m) {
		/* no magazine to be had: serve one object, cache nothing */
		n = pcpu_chunk_take(c, &obj, 1, nowait);
		if (n < 0)
			return pcpu_alloc_failed(c, n);
		/* a miss all the same: counted, or requests would not add up */
		pc = pcpu_get(c, &cpu);
		pcpool_pcpu_stat_add(&pc->st.alloc_refill, 1);
		pcpool_pcpu_put_cpu(cpu);
		goto out;
	}
	n = pcpu_chunk_take(c, m->obj, c->mag_size, nowait);
	if (n < 0) {
		pcpu_depot_put(c, m);
		return pcpu_alloc_failed(c, n);
	}
	obj = m->obj[n - 1];
	m->nr = n - 1;

	/* We may be on another CPU now, and it may have objects again. */
	pc = pcpu_get(c, &cpu);
	if (!pc->loaded || !pc->loaded->nr) {
		spare = pc->loaded;
		if (spare && !pc->prev) {
			pcpu_set_mags(pc, m, spare);
			spare = NULL;
		} else {
			pcpu_set_mags(pc, m, pc->prev);
		}
		m = NULL;
	}
	pcpool_pcpu_stat_add(&pc->st.alloc_refill, 1);
	pcpool_pcpu_put_cpu(cpu);
	if (m)
		pcpu_depot_put(c, m);
	if (spare)
		pcpu_depot_put(c, spare);
out:
	pcpool_pcpu_unpoison(obj, c->size);
	*objp = obj;
	return 0;
}

int pcpool_pcpu_alloc_slow(struct pcpool_pcpu_cache *c, void __percpu **objp,
			   bool nowait)
{
	struct pcpool_pcpu_mag *m;
	struct pcpool_pcpu_cpu *pc;
	void __percpu *obj;
	unsigned int cpu;

	pc = pcpu_get(c, &cpu);
	m = pc->loaded;
	if (m && m->nr) {
		/* moved to a CPU that has objects since the inline check */
		obj = m->obj[--m->nr];
		pcpool_pcpu_stat_add(&pc->st.alloc_hits, 1);
		goto out_put;
	}
	if (pc->prev && pc->prev->nr) {
		pcpu_set_mags(pc, pc->prev, pc->loaded);
		m = pc->loaded;
		obj = m->obj[--m->nr];
		pcpool_pcpu_stat_add(&pc->st.alloc_hits, 1);
		goto out_put;
	}
	/* both empty (or absent): prev goes to the depot for a full one */
	m = pcpu_depot_get_full(c, pc->prev);
	if (m) {
		pcpu_set_mags(pc, m, pc->loaded);
		obj = m->obj[--m->nr];
		pcpool_pcpu_stat_add(&pc->st.alloc_depot, 1);
		goto out_put;
	}
	pcpool_pcpu_put_cpu(cpu);
	return pcpu_alloc_refill(c, objp, nowait);

out_put:
	pcpool_pcpu_put_cpu(cpu);
	pcpool_pcpu_unpoison(obj, c->size);
	*objp = obj;
	return 0;
}

void pcpool_pcpu_free_slow(struct pcpool_pcpu_cache *c, void __percpu *obj,
			   bool prepared)
{
	struct pcpool_pcpu_mag *m, *e;
	struct pcpool_pcpu_cpu *pc;
	unsigned int zeroed = 0, cpu;
	bool bad = false;

	if (prepared) {
		/* the inline path found no room; the object is poisoned */
	} else if (c->mode == PCPOOL_PCPU_ZEROED) {
		zeroed = pcpu_zero(c, obj);
	} else if (c->mode == PCPOOL_PCPU_CONSTRUCTED && READ_ONCE(c->verify)) {
		bad = c->check ? !c->check(obj, c->size, c->arg) :
				 !pcpu_words_cancel(c, obj);
		if (bad)
			pcpu_construct(c, obj);
	}
	if (!prepared)
		pcpool_pcpu_poison(obj, c->size);

	pc = pcpu_get(c, &cpu);
	if (zeroed)
		pcpool_pcpu_stat_add(&pc->st.zeroed_copies, zeroed);
	if (bad)
		pcpool_pcpu_stat_add(&pc->st.verify_failures, 1);
	m = pc->loaded;
	if (m && m->nr < c->mag_size) {
		m->obj[m->nr++] = obj;
		pcpool_pcpu_stat_add(&pc->st.free_hits, 1);
		pcpool_pcpu_put_cpu(cpu);
		return;
	}
	if (pc->prev && pc->prev->nr < c->mag_size) {
		pcpu_set_mags(pc, pc->prev, pc->loaded);
		m = pc->loaded;
		m->obj[m->nr++] = obj;
		pcpool_pcpu_stat_add(&pc->st.free_hits, 1);
		pcpool_pcpu_put_cpu(cpu);
		return;
	}

	/* loaded and prev full (or absent) */
	e = pcpu_depot_get_empty(c);
	if (e) {
		if (pc->prev)
			pcpu_depot_put(c, pc->prev);
		pcpu_set_mags(pc, e, pc->loaded);
		pcpool_pcpu_stat_add(&pc->st.free_depot, 1);
	} else if (pc->prev) {
		/* no empty magazine anywhere, and free must not allocate */
		pcpu_chunk_put(c, pc->prev->obj, pc->prev->nr);
		pc->prev->nr = 0;
		pcpu_set_mags(pc, pc->prev, pc->loaded);
		pcpool_pcpu_stat_add(&pc->st.free_flush, 1);
	} else if (pc->loaded) {
		pcpu_chunk_put(c, pc->loaded->obj, pc->loaded->nr);
		pc->loaded->nr = 0;
		pcpool_pcpu_stat_add(&pc->st.free_flush, 1);
	} else {
		pcpool_pcpu_stat_add(&pc->st.free_direct, 1);
		pcpool_pcpu_put_cpu(cpu);
		pcpu_chunk_put(c, &obj, 1);
		return;
	}
	m = pc->loaded;
	m->obj[m->nr++] = obj;
	pcpool_pcpu_put_cpu(cpu);
}

/* ---- draining and shrinking ---- */

struct pcpu_on_cpu_arg {
	struct pcpool_pcpu_cache *c;
	unsigned int cpu;
	struct pcpool_pcpu_mag *mags[2];
	unsigned long objs;
};

/* On @a->cpu: take its magazines away. */
static int pcpu_detach_fn(void *arg)
{
	struct pcpu_on_cpu_arg *a = arg;
	struct pcpool_pcpu_cpu *pc = &a->c->cpu[a->cpu];

	pcpool_pcpu_pin_cpu(a->cpu);
	a->mags[0] = pc->loaded;
	a->mags[1] = pc->prev;
	pcpu_set_mags(pc, NULL, NULL);
	pcpool_pcpu_unpin_cpu(a->cpu);
	return 0;
}

/* On @a->cpu: count what its magazines hold. */
static int pcpu_count_fn(void *arg)
{
	struct pcpu_on_cpu_arg *a = arg;
	struct pcpool_pcpu_cpu *pc = &a->c->cpu[a->cpu];

	pcpool_pcpu_pin_cpu(a->cpu);
	a->objs = (pc->loaded ? pc->loaded->nr : 0) +
		  (pc->prev ? pc->prev->nr : 0);
	pcpool_pcpu_unpin_cpu(a->cpu);
	return 0;
}

/* A CPU without magazines holds nothing: no need to disturb it. */
static bool pcpu_cpu_holds(struct pcpool_pcpu_cache *c, unsigned int cpu)
{
	return READ_ONCE(c->cpu[cpu].loaded) || READ_ONCE(c->cpu[cpu].prev);
}

unsigned long pcpool_pcpu_drain_cpu(struct pcpool_pcpu_cache *c,
				    unsigned int cpu)
{
	struct pcpu_on_cpu_arg a = { .c = c, .cpu = cpu };
	unsigned long moved = 0;
	unsigned int i;

	if (WARN_ON_ONCE(cpu >= c->nr_cpus) || !pcpu_cpu_holds(c, cpu))
		return 0;
	might_sleep();
	pcpool_pcpu_on_cpu(cpu, pcpu_detach_fn, &a);

	for (i = 0; i < 2; i++) {
		struct pcpool_pcpu_mag *m = a.mags[i];

		if (!m)
			continue;
		if (m->nr)
			pcpu_chunk_put(c, m->obj, m->nr);
		moved += m->nr;
		m->nr = 0;
		pcpu_depot_put(c, m);
	}
	return moved;
}

unsigned long pcpool_pcpu_cpu_dead(struct pcpool_pcpu_cache *c,
				   unsigned int cpu)
{
	struct pcpu_on_cpu_arg a = { .c = c, .cpu = cpu };
	unsigned long moved;
	unsigned int i;

	if (WARN_ON_ONCE(cpu >= c->nr_cpus) || !pcpu_cpu_holds(c, cpu))
		return 0;
	/* no pcpool_pcpu_on_cpu(): the CPU is gone, and hotplug is held */
	pcpu_detach_fn(&a);
	moved = (a.mags[0] ? a.mags[0]->nr : 0) +
		(a.mags[1] ? a.mags[1]->nr : 0);
	/* the dead CPU's own slot: nobody else writes it */
	pcpool_pcpu_pin_cpu(cpu);
	pcpool_pcpu_stat_add(&c->cpu[cpu].st.dead_objs, moved);
	pcpool_pcpu_unpin_cpu(cpu);
	for (i = 0; i < 2; i++)
		if (a.mags[i])
			pcpu_depot_put(c, a.mags[i]);
	return moved;
}

unsigned long pcpool_pcpu_shrink(struct pcpool_pcpu_cache *c, bool drain_cpus)
{
	struct pcpool_pcpu_chunk *victims;
	struct list_head full, empty;
	unsigned long objs, nr;
	unsigned int cpu;

	if (drain_cpus)
		for (cpu = 0; cpu < c->nr_cpus; cpu++)
			pcpool_pcpu_drain_cpu(c, cpu);

	INIT_LIST_HEAD(&full);
	INIT_LIST_HEAD(&empty);
	spin_lock(&c->depot_lock);
	list_splice_init(&c->full, &full);
	list_splice_init(&c->empty, &empty);
	objs = c->depot_objs;
	nr = c->nr_full + c->nr_empty;
	WRITE_ONCE(c->depot_objs, 0);
	WRITE_ONCE(c->nr_full, 0);
	WRITE_ONCE(c->nr_empty, 0);
	atomic_long_sub((long)(objs * c->obj_bytes), &c->budget->cached);
	pcpool_pcpu_stat_add(&c->depot_events[PCPOOL_PCPU_MAGS_FREED], nr);
	spin_unlock(&c->depot_lock);

	while (!list_empty(&full)) {
		struct pcpool_pcpu_mag *m =
			list_first_entry(&full, struct pcpool_pcpu_mag, list);

		list_del(&m->list);
		pcpu_chunk_put(c, m->obj, m->nr);
		c->src.meta_free(c->src.ctx, m);
	}
	while (!list_empty(&empty)) {
		struct pcpool_pcpu_mag *m =
			list_first_entry(&empty, struct pcpool_pcpu_mag, list);

		list_del(&m->list);
		c->src.meta_free(c->src.ctx, m);
	}

	spin_lock(&c->chunk_lock);
	victims = pcpu_reap_locked(c, true, ULONG_MAX);
	spin_unlock(&c->chunk_lock);
	return pcpu_release(c, victims);
}

unsigned long pcpool_pcpu_shrink_nr(struct pcpool_pcpu_cache *c,
				    unsigned long nr)
{
	struct pcpool_pcpu_chunk *victims;
	struct pcpool_pcpu_mag *m;
	unsigned long done = 0;

	while (done < nr) {
		/* free chunks first: giving them back costs nothing else */
		spin_lock(&c->chunk_lock);
		victims = pcpu_reap_locked(c, true, nr - done);
		spin_unlock(&c->chunk_lock);
		done += pcpu_release(c, victims);
		if (done >= nr)
			break;
		/* then one depot magazine's objects back to their chunks */
		m = pcpu_depot_get_full(c, NULL);
		if (!m)
			break;
		pcpu_chunk_put(c, m->obj, m->nr);
		c->src.meta_free(c->src.ctx, m);
		spin_lock(&c->depot_lock);
		pcpool_pcpu_stat_add(&c->depot_events[PCPOOL_PCPU_MAGS_FREED], 1);
		spin_unlock(&c->depot_lock);
	}
	return done;
}

unsigned long pcpool_pcpu_trim(struct pcpool_pcpu_cache *c)
{
	long cached = atomic_long_read(&c->budget->cached);
	unsigned long max = READ_ONCE(c->budget->max);
	unsigned long chunk = c->per_chunk * c->obj_bytes;

	if (cached <= 0 || (unsigned long)cached <= max)
		return 0;
	/* whole chunks: rounded up, so that it ends at or below @max */
	return pcpool_pcpu_shrink_nr(c, ((unsigned long)cached - max - 1) /
					chunk + 1);
}

unsigned long pcpool_pcpu_shrink_count(struct pcpool_pcpu_cache *c)
{
	return READ_ONCE(c->nr_empty_chunks) +
	       READ_ONCE(c->depot_objs) / c->per_chunk;
}

unsigned long pcpool_pcpu_cache_destroy(struct pcpool_pcpu_cache *c)
{
	struct pcpool_pcpu_chunk *victims = NULL;
	unsigned long leaked = 0, i;

	pcpool_pcpu_shrink(c, true);

	/* Whatever is left has objects in use. */
	spin_lock(&c->chunk_lock);
	for (i = 0; i < (1UL << c->hash_bits); i++) {
		while (c->hash[i]) {
			struct pcpool_pcpu_chunk *ch = c->hash[i];

			c->hash[i] = ch->hnext;
			leaked += c->per_chunk - ch->nr_free;
			atomic_long_sub((long)(ch->nr_free * c->obj_bytes),
					&c->budget->cached);
			WRITE_ONCE(c->chunk_free_objs,
				   c->chunk_free_objs - ch->nr_free);
			WRITE_ONCE(c->nr_chunks, c->nr_chunks - 1);
			pcpool_pcpu_stat_add(&c->chunk_shrink, 1);
			ch->hnext = victims;
			victims = ch;
		}
	}
	INIT_LIST_HEAD(&c->partial);
	INIT_LIST_HEAD(&c->empty_chunks);
	WRITE_ONCE(c->nr_empty_chunks, 0);
	spin_unlock(&c->chunk_lock);
	pcpu_release(c, victims);
	WARN_ON_ONCE(leaked);
	return leaked;
}

/* ---- reporting and checking ---- */

const char *const
pcpool_pcpu_depot_event_names[PCPOOL_PCPU_NR_DEPOT_EVENTS] = {
	[PCPOOL_PCPU_DEPOT_FULL_GET]	= "depot_full_get",
	[PCPOOL_PCPU_DEPOT_FULL_PUT]	= "depot_full_put",
	[PCPOOL_PCPU_DEPOT_EMPTY_GET]	= "depot_empty_get",
	[PCPOOL_PCPU_DEPOT_EMPTY_PUT]	= "depot_empty_put",
	[PCPOOL_PCPU_MAGS_ALLOCATED]	= "mags_allocated",
	[PCPOOL_PCPU_MAGS_FREED]	= "mags_freed",
};

void pcpool_pcpu_get_totals(struct pcpool_pcpu_cache *c,
			    struct pcpool_pcpu_totals *t)
{
	unsigned int cpu, i;

	memset(t, 0, sizeof(*t));
	for (cpu = 0; cpu < c->nr_cpus; cpu++) {
		struct pcpool_pcpu_cpu *pc = &c->cpu[cpu];
		const struct pcpool_pcpu_cpu_stats *s = &pc->st;

		t->st.alloc_hits += READ_ONCE(s->alloc_hits);
		t->st.alloc_depot += READ_ONCE(s->alloc_depot);
		t->st.alloc_refill += READ_ONCE(s->alloc_refill);
		t->st.alloc_failed += READ_ONCE(s->alloc_failed);
		t->st.free_hits += READ_ONCE(s->free_hits);
		t->st.free_depot += READ_ONCE(s->free_depot);
		t->st.free_flush += READ_ONCE(s->free_flush);
		t->st.free_direct += READ_ONCE(s->free_direct);
		t->st.zeroed_copies += READ_ONCE(s->zeroed_copies);
		t->st.verify_failures += READ_ONCE(s->verify_failures);
		t->st.dead_objs += READ_ONCE(s->dead_objs);
		/* only the CPU itself may look into its magazines */
		if (pcpu_cpu_holds(c, cpu)) {
			struct pcpu_on_cpu_arg a = { .c = c, .cpu = cpu };

			pcpool_pcpu_on_cpu(cpu, pcpu_count_fn, &a);
			t->mag_objs += a.objs;
		}
	}
	t->depot_objs = READ_ONCE(c->depot_objs);
	t->nr_full_mags = READ_ONCE(c->nr_full);
	t->nr_empty_mags = READ_ONCE(c->nr_empty);
	for (i = 0; i < PCPOOL_PCPU_NR_DEPOT_EVENTS; i++)
		t->depot_events[i] = READ_ONCE(c->depot_events[i]);
	t->chunk_free_objs = READ_ONCE(c->chunk_free_objs);
	t->nr_chunks = READ_ONCE(c->nr_chunks);
	t->nr_empty_chunks = READ_ONCE(c->nr_empty_chunks);
	t->chunk_grow = READ_ONCE(c->chunk_grow);
	t->chunk_grow_failed = READ_ONCE(c->chunk_grow_failed);
	t->chunk_shrink = READ_ONCE(c->chunk_shrink);
	t->chunk_refills = READ_ONCE(c->chunk_refills);
	t->chunk_flushes = READ_ONCE(c->chunk_flushes);
	t->bad_frees = READ_ONCE(c->bad_frees);
}

unsigned long pcpool_pcpu_in_use(struct pcpool_pcpu_cache *c)
{
	struct pcpool_pcpu_totals t;
	unsigned long total, held;

	pcpool_pcpu_get_totals(c, &t);
	total = t.nr_chunks * c->per_chunk;
	held = t.mag_objs + t.depot_objs + t.chunk_free_objs;
	return total > held ? total - held : 0;
}

/*
 * Mark @m's objects in their chunk bitmaps (@set) or unmark them; a
 * marked object must be out of its chunk and not yet marked.  Returns
 * inconsistencies.
 */
static unsigned long pcpu_check_mag(struct pcpool_pcpu_cache *c,
				    struct pcpool_pcpu_mag *m, bool set)
{
	unsigned long bad = 0;
	unsigned int i;

	if (m->nr > c->mag_size)
		return 1;
	for (i = 0; i < m->nr; i++) {
		unsigned long addr = (unsigned long)m->obj[i];
		struct pcpool_pcpu_chunk *ch = pcpu_chunk_of(c, addr);
		unsigned long off = ch ? addr - (unsigned long)ch->base : 0;
		unsigned long idx = off >> c->shift;

		if (!ch || (off & (c->size - 1))) {
			bad++;
			continue;
		}
		if (!set) {
			__clear_bit(idx, ch->map);
			continue;
		}
		if (test_bit(idx, ch->map))
			bad++;	/* free in its chunk, or in two magazines */
		else
			__set_bit(idx, ch->map);
	}
	return bad;
}

static unsigned long pcpu_check_list(struct pcpool_pcpu_cache *c,
				     struct list_head *head, bool full,
				     unsigned long *count, unsigned long *objs,
				     bool set)
{
	struct list_head *pos;
	unsigned long bad = 0;

	for (pos = head->next; pos != head; pos = pos->next) {
		struct pcpool_pcpu_mag *m =
			list_entry(pos, struct pcpool_pcpu_mag, list);

		if (full != !!m->nr)
			bad++;
		(*count)++;
		*objs += m->nr;
		bad += pcpu_check_mag(c, m, set);
	}
	return bad;
}

/* Walk every magazine; @set marks their objects, !@set unmarks them. */
static unsigned long pcpu_check_mags(struct pcpool_pcpu_cache *c, bool set)
{
	unsigned long bad = 0, nfull = 0, nempty = 0, objs = 0;
	unsigned int cpu;

	for (cpu = 0; cpu < c->nr_cpus; cpu++) {
		struct pcpool_pcpu_cpu *pc = &c->cpu[cpu];

		if (set && pc->prev && !pc->loaded)
			bad++;
		if (pc->loaded)
			bad += pcpu_check_mag(c, pc->loaded, set);
		if (pc->prev)
			bad += pcpu_check_mag(c, pc->prev, set);
	}
	bad += pcpu_check_list(c, &c->full, true, &nfull, &objs, set);
	bad += pcpu_check_list(c, &c->empty, false, &nempty, &objs, set);
	if (set && (nfull != c->nr_full || nempty != c->nr_empty ||
		    objs != c->depot_objs))
		bad++;
	return bad;
}

static unsigned long pcpu_check_chunk(struct pcpool_pcpu_cache *c,
				      struct pcpool_pcpu_chunk *ch)
{
	unsigned long bad = 0, free = 0, i, first;

	if (!IS_ALIGNED((unsigned long)ch->base, PCPOOL_PCPU_CHUNK_SIZE))
		bad++;
	for (i = 0; i < BITS_TO_LONGS(c->per_chunk) * BITS_PER_LONG; i++) {
		if (!test_bit(i, ch->map))
			continue;
		if (i >= c->per_chunk)
			bad++;
		else
			free++;
	}
	if (free != ch->nr_free)
		bad++;
	first = find_next_bit(ch->map, c->per_chunk, 0);
	if (ch->nr_free && first < ch->hint)
		bad++;
	return bad;
}

static unsigned long pcpu_count_list(struct list_head *head)
{
	struct list_head *pos;
	unsigned long n = 0;

	for (pos = head->next; pos != head; pos = pos->next)
		n++;
	return n;
}

unsigned long pcpool_pcpu_check(struct pcpool_pcpu_cache *c)
{
	unsigned long bad, chunks = 0, free = 0, i;
	struct list_head *pos;

	/* Magazine objects are out of their chunks: mark, check, unmark. */
	bad = pcpu_check_mags(c, true);
	pcpu_check_mags(c, false);

	for (i = 0; i < (1UL << c->hash_bits); i++) {
		struct pcpool_pcpu_chunk *ch;

		for (ch = c->hash[i]; ch; ch = ch->hnext) {
			if (pcpu_hash_idx(c, (unsigned long)ch->base) != i)
				bad++;
			bad += pcpu_check_chunk(c, ch);
			chunks++;
			free += ch->nr_free;
		}
	}
	if (chunks != c->nr_chunks || free != c->chunk_free_objs)
		bad++;
	for (pos = c->partial.next; pos != &c->partial; pos = pos->next) {
		struct pcpool_pcpu_chunk *ch =
			list_entry(pos, struct pcpool_pcpu_chunk, list);

		if (!ch->nr_free || ch->nr_free == c->per_chunk)
			bad++;
	}
	for (pos = c->empty_chunks.next; pos != &c->empty_chunks;
	     pos = pos->next) {
		struct pcpool_pcpu_chunk *ch =
			list_entry(pos, struct pcpool_pcpu_chunk, list);

		if (ch->nr_free != c->per_chunk)
			bad++;
	}
	if (pcpu_count_list(&c->empty_chunks) != c->nr_empty_chunks)
		bad++;
	return bad;
}

/* ---- size classes and pools ---- */

int pcpool_pcpu_class(size_t size, size_t align)
{
	const size_t max = (size_t)1 << PCPOOL_PCPU_MAX_SHIFT;
	unsigned int shift = PCPOOL_PCPU_MIN_SHIFT;

	/* alloc_percpu()'s limits: 32 KiB, aligned to at most a page */
	if (!size || size > max || !align || (align & (align - 1)) ||
	    align > PAGE_SIZE)
		return -EINVAL;
	/* objects are aligned to their size, up to a page (the chunk's) */
	while (((size_t)1 << shift) < size || ((size_t)1 << shift) < align)
		shift++;
	return shift;
}

size_t pcpool_pcpu_pool_meta_size(const struct pcpool_pcpu_cache_config *cfg)
{
	struct pcpool_pcpu_cache_config one = *cfg;
	size_t sum = ALIGN(sizeof(struct pcpool_pcpu_pool), sizeof(long));
	unsigned int shift;

	for (shift = PCPOOL_PCPU_MIN_SHIFT; shift <= PCPOOL_PCPU_MAX_SHIFT;
	     shift++) {
		size_t n;

		one.shift = shift;
		n = pcpool_pcpu_cache_meta_size(&one);
		if (!n)
			return 0;
		sum += n;
	}
	return sum;
}

int pcpool_pcpu_pool_init(void *buf, size_t size,
			  const struct pcpool_pcpu_cache_config *cfg,
			  struct pcpool_pcpu_pool **poolp)
{
	size_t need = pcpool_pcpu_pool_meta_size(cfg);
	struct pcpool_pcpu_cache_config one = *cfg;
	struct pcpool_pcpu_pool *pool;
	unsigned int shift;
	char *p;
	int ret;

	if (!need || !buf || size < need)
		return -EINVAL;
	pool = (struct pcpool_pcpu_pool *)ALIGN((uintptr_t)buf, sizeof(long));
	p = (char *)pool + ALIGN(sizeof(*pool), sizeof(long));
	for (shift = PCPOOL_PCPU_MIN_SHIFT; shift <= PCPOOL_PCPU_MAX_SHIFT;
	     shift++) {
		size_t n;

		one.shift = shift;
		n = pcpool_pcpu_cache_meta_size(&one);
		ret = pcpool_pcpu_cache_init(p, n, &one,
					     &pool->cache[shift - PCPOOL_PCPU_MIN_SHIFT]);
		if (ret)
			return ret;
		p += n;
	}
	*poolp = pool;
	return 0;
}

unsigned long pcpool_pcpu_pool_destroy(struct pcpool_pcpu_pool *pool)
{
	unsigned long leaked = 0;
	unsigned int i;

	for (i = 0; i < PCPOOL_PCPU_NR_CLASSES; i++)
		leaked += pcpool_pcpu_cache_destroy(pool->cache[i]);
	return leaked;
}
