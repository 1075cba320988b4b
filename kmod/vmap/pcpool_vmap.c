// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool vmap: the 6.1 global VA allocator and Rezki's vmap nodes, over
 * one free space (pcpool_vmap.h says what each models).
 *
 * The free space is 6.1's: an rb-tree of free extents by address,
 * augmented with each subtree's largest extent and searched first fit
 * (find_vmap_lowest_match()), split as adjust_va_to_fit_type() splits
 * (full, left, right, no-edge fit) and merged with both neighbours on
 * insertion as merge_or_add_vmap_area() does.  Busy areas are in hash
 * tables (6.1: an rb-tree; both are found by address).
 *
 * Lock order: drain, then a node's pool, busy or lazy lock, then free.
 * Descriptors are allocated before any lock is taken and freed after, so
 * no lock is held across the hooks, and purge never allocates.
 */
#include "pcpool_vmap_internal.h"

unsigned int pcpool_vmap_class(unsigned long pages)
{
	unsigned int c = 0;

	while (c < PCPOOL_VMAP_NR_CLASSES - 1 && (1UL << c) < pages)
		c++;
	return c;
}

unsigned int pcpool_vmap_addr_node(const struct pcpool_vmap *vm,
				   unsigned long addr)
{
	return (addr / (PCPOOL_VMAP_SEG_PAGES * PAGE_SIZE)) % vm->nr_nodes;
}

unsigned int pcpool_vmap_nr_nodes(const struct pcpool_vmap *vm)
{
	return vm->nr_nodes;
}

/* Free the descriptors on @dead, with no lock held. */
static void pcpool_va_free_list(struct pcpool_vmap *vm,
				struct list_head *dead)
{
	while (!list_empty(dead)) {
		struct pcpool_va *va = list_first_entry(dead, struct pcpool_va,
							list);

		list_del(&va->list);
		vm->hooks.free(va);
	}
}

/* ---- busy tables, under their lock ---- */

/* Fibonacci hashing of the page number, as hash_64(): nodes own strided pages. */
static unsigned long pcpool_busy_hash(const struct pcpool_vbusy *b,
				      unsigned long addr)
{
	return (unsigned long)(((u64)(addr >> PAGE_SHIFT) *
				0x61C8864680B583EBULL) >> (64 - b->bits));
}

static void pcpool_busy_add(struct pcpool_vbusy *b, struct pcpool_va *va)
{
	struct pcpool_va **h = &b->hash[pcpool_busy_hash(b, va->start)];

	va->hnext = *h;
	*h = va;
	pcpool_vadd(&b->pages, pcpool_va_pages(va));
}

static struct pcpool_va *pcpool_busy_del(struct pcpool_vbusy *b,
					 unsigned long addr)
{
	struct pcpool_va **h = &b->hash[pcpool_busy_hash(b, addr)];

	for (; *h; h = &(*h)->hnext) {
		struct pcpool_va *va = *h;

		if (va->start == addr) {
			*h = va->hnext;
			pcpool_vadd(&b->pages, -pcpool_va_pages(va));
			return va;
		}
	}
	return NULL;
}

/* ---- purge: 6.1's __purge_vmap_area_lazy() and Rezki's nodes ---- */

/* Up to a quarter (all when @full) of each pool onto @out. */
static void pcpool_node_decay(struct pcpool_vmap *vm, struct pcpool_vnode *vn,
			      bool full, struct list_head *out)
{
	unsigned long moved = 0;
	unsigned int i;

	spin_lock(&vn->pool_lock);
	for (i = 0; i < PCPOOL_VMAP_POOL_PAGES; i++) {
		unsigned long n = full ? vn->pool_len[i] : vn->pool_len[i] >> 2;

		vn->pool_len[i] -= n;
		pcpool_vadd(&vn->pool_pages, -(n * (i + 1)));
		moved += n * (i + 1);
		while (n--) {
			struct pcpool_va *va = list_first_entry(&vn->pool[i],
								struct pcpool_va,
								list);

			list_del(&va->list);
			list_add(&va->list, out);
		}
	}
	spin_unlock(&vn->pool_lock);
	if (moved) {
		pcpool_vinc(&vm->decay_events, 1);
		pcpool_vinc(&vm->decayed_pages, moved);
	}
}

/* A fresh free into its allocating node's pool; false if not poolable. */
static bool pcpool_node_pool_add(struct pcpool_vmap *vm, struct pcpool_va *va)
{
	unsigned long pages = pcpool_va_pages(va);
	struct pcpool_vnode *vn;

	if (!va->owner || pages > PCPOOL_VMAP_POOL_PAGES)
		return false;
	vn = vm->nodes[va->owner - 1];
	spin_lock(&vn->pool_lock);
	list_add(&va->list, &vn->pool[pages - 1]);
	vn->pool_len[pages - 1]++;
	pcpool_vadd(&vn->pool_pages, pages);
	spin_unlock(&vn->pool_lock);
	return true;
}

/* Take every lazy area onto @lazy; their pages. */
static unsigned long pcpool_take_lazy(struct pcpool_vmap *vm,
				      struct list_head *lazy)
{
	unsigned long pages = 0;
	unsigned int i;

	if (vm->design == PCPOOL_VMAP_GLOBAL) {
		pcpool_glock(&vm->purge_lk);
		list_splice_init(&vm->glazy, lazy);
		pages = vm->glazy_pages;
		WRITE_ONCE(vm->glazy_pages, 0);
		pcpool_gunlock(&vm->purge_lk);
		return pages;
	}
	for (i = 0; i < vm->nr_nodes; i++) {
		struct pcpool_vnode *vn = vm->nodes[i];

		spin_lock(&vn->lazy_lock);
		list_splice_init(&vn->lazy, lazy);
		pages += vn->lazy_pages;
		WRITE_ONCE(vn->lazy_pages, 0);
		spin_unlock(&vn->lazy_lock);
	}
	return pages;
}

/*
 * One batch: decay the pools (nodes), flush the TLB once over the lazy
 * areas, then pool them or merge them into the free space.  With @full
 * (the retry after a failed allocation) the pools empty completely and
 * nothing is pooled, as reclaim_and_purge_vmap_areas() does.
 */
static void pcpool_purge(struct pcpool_vmap *vm, bool full)
{
	struct list_head lazy, back, dead;
	unsigned long lo = ULONG_MAX, hi = 0, pages;
	struct list_head *p;
	unsigned int i;

	INIT_LIST_HEAD(&lazy);
	INIT_LIST_HEAD(&back);
	INIT_LIST_HEAD(&dead);
	pcpool_glock(&vm->drain_lk);
	if (vm->design == PCPOOL_VMAP_NODES)
		for (i = 0; i < vm->nr_nodes; i++)
			pcpool_node_decay(vm, vm->nodes[i], full, &back);
	pages = pcpool_take_lazy(vm, &lazy);
	for (p = lazy.next; p != &lazy; p = p->next) {
		struct pcpool_va *va = list_entry(p, struct pcpool_va, list);

		lo = min(lo, va->start);
		hi = max(hi, va->end);
	}
	if (hi) {
		vm->hooks.flush(vm->hooks.priv, lo, hi);
		pcpool_vinc(&vm->tlb_flushes, 1);
		pcpool_vinc(&vm->purge_batches, 1);
		pcpool_vinc(&vm->purged_pages, pages);
	}
	while (!list_empty(&lazy)) {
		struct pcpool_va *va = list_first_entry(&lazy, struct pcpool_va,
							list);

		list_del(&va->list);
		if (vm->design == PCPOOL_VMAP_NODES && !full &&
		    pcpool_node_pool_add(vm, va))
			continue;
		list_add_tail(&va->list, &back);
	}
	pcpool_fs_insert_list(vm, &back, &dead);
	pcpool_gunlock(&vm->drain_lk);
	pcpool_va_free_list(vm, &dead);
}

void pcpool_vmap_purge(struct pcpool_vmap *vm)
{
	pcpool_purge(vm, false);
}

unsigned long pcpool_vmap_shrink(struct pcpool_vmap *vm)
{
	struct list_head back, dead;
	unsigned long before;
	unsigned int i;

	if (vm->design != PCPOOL_VMAP_NODES)
		return 0;
	INIT_LIST_HEAD(&back);
	INIT_LIST_HEAD(&dead);
	/* Under the purge's lock: a decay never races a shrink. */
	pcpool_glock(&vm->drain_lk);
	before = vm->decayed_pages;
	for (i = 0; i < vm->nr_nodes; i++)
		pcpool_node_decay(vm, vm->nodes[i], true, &back);
	pcpool_fs_insert_list(vm, &back, &dead);
	pcpool_vinc(&vm->shrinks, 1);
	before = vm->decayed_pages - before;
	pcpool_gunlock(&vm->drain_lk);
	pcpool_va_free_list(vm, &dead);
	return before;
}

/* ---- allocation and free ---- */

/* From the pool of this CPU's node, if the head fits @align. */
static struct pcpool_va *pcpool_pool_get(struct pcpool_vmap *vm,
					 unsigned long pages,
					 unsigned long align,
					 unsigned int *owner)
{
	unsigned int id = raw_smp_processor_id() % vm->nr_nodes;
	unsigned int c = pcpool_vmap_class(pages);
	struct pcpool_vnode *vn = vm->nodes[id];
	struct pcpool_va *va = NULL;

	*owner = id + 1;
	spin_lock(&vn->pool_lock);
	if (vn->pool_len[pages - 1]) {
		va = list_first_entry(&vn->pool[pages - 1], struct pcpool_va,
				      list);
		if (va->start & (align - 1)) {
			va = NULL;
		} else {
			list_del(&va->list);
			vn->pool_len[pages - 1]--;
			pcpool_vadd(&vn->pool_pages, -pages);
		}
	}
	if (va)
		pcpool_vinc(&vn->hits[c], 1);
	else
		pcpool_vinc(&vn->misses[c], 1);
	spin_unlock(&vn->pool_lock);
	return va;
}

/* From the free space: first fit, one purge and retry on failure. */
static struct pcpool_va *pcpool_fs_get(struct pcpool_vmap *vm,
				       unsigned long size,
				       unsigned long align)
{
	struct list_head spare;
	struct pcpool_va *va = NULL, *d;
	bool purged = false;
	unsigned long a;
	int i;

	INIT_LIST_HEAD(&spare);
	for (i = 0; i < 2; i++) {
		d = vm->hooks.zalloc(sizeof(*d));
		if (!d)
			goto out;
		list_add(&d->list, &spare);
	}
	for (;;) {
		pcpool_glock(&vm->free_lk);
		d = pcpool_fs_find(vm, size, align, &a);
		if (d)
			va = pcpool_fs_clip(vm, d, a, size, &spare);
		pcpool_gunlock(&vm->free_lk);
		if (va || purged)
			break;
		pcpool_purge(vm, true);
		purged = true;
	}
out:
	pcpool_va_free_list(vm, &spare);
	return va;
}

int pcpool_vmap_alloc(struct pcpool_vmap *vm, unsigned long size,
		      unsigned long align, unsigned long *addr)
{
	unsigned long pages = size >> PAGE_SHIFT;
	struct pcpool_va *va = NULL;
	struct pcpool_vnode *vn;
	unsigned int owner = 0;

	if (!size || (size & (PAGE_SIZE - 1)) || align < PAGE_SIZE ||
	    (align & (align - 1)) || size > vm->end - vm->start)
		return -EINVAL;
	if (vm->design == PCPOOL_VMAP_NODES && pages <= PCPOOL_VMAP_POOL_PAGES)
		va = pcpool_pool_get(vm, pages, align, &owner);
	if (!va)
		va = pcpool_fs_get(vm, size, align);
	if (!va)
		return -ENOMEM;
	va->owner = owner;
	if (vm->design == PCPOOL_VMAP_GLOBAL) {
		pcpool_glock(&vm->busy_lk);
		pcpool_busy_add(&vm->gbusy, va);
		pcpool_gunlock(&vm->busy_lk);
	} else {
		vn = vm->nodes[pcpool_vmap_addr_node(vm, va->start)];
		spin_lock(&vn->busy.lock);
		pcpool_busy_add(&vn->busy, va);
		spin_unlock(&vn->busy.lock);
	}
	*addr = va->start;
	return 0;
}

static unsigned long pcpool_lazy_total(struct pcpool_vmap *vm)
{
	unsigned long n = 0;
	unsigned int i;

	if (vm->design == PCPOOL_VMAP_GLOBAL)
		return READ_ONCE(vm->glazy_pages);
	for (i = 0; i < vm->nr_nodes; i++)
		n += READ_ONCE(vm->nodes[i]->lazy_pages);
	return n;
}

int pcpool_vmap_free(struct pcpool_vmap *vm, unsigned long addr)
{
	struct pcpool_vnode *vn = NULL;
	struct pcpool_va *va;

	if (addr < vm->start || addr >= vm->end)
		return -EINVAL;
	if (vm->design == PCPOOL_VMAP_GLOBAL) {
		pcpool_glock(&vm->busy_lk);
		va = pcpool_busy_del(&vm->gbusy, addr);
		pcpool_gunlock(&vm->busy_lk);
	} else {
		vn = vm->nodes[pcpool_vmap_addr_node(vm, addr)];
		spin_lock(&vn->busy.lock);
		va = pcpool_busy_del(&vn->busy, addr);
		spin_unlock(&vn->busy.lock);
	}
	if (!va)
		return -EINVAL;
	if (vn) {
		spin_lock(&vn->lazy_lock);
		list_add_tail(&va->list, &vn->lazy);
		WRITE_ONCE(vn->lazy_pages, vn->lazy_pages + pcpool_va_pages(va));
		spin_unlock(&vn->lazy_lock);
	} else {
		pcpool_glock(&vm->purge_lk);
		list_add_tail(&va->list, &vm->glazy);
		WRITE_ONCE(vm->glazy_pages, vm->glazy_pages + pcpool_va_pages(va));
		pcpool_gunlock(&vm->purge_lk);
	}
	if (pcpool_lazy_total(vm) > vm->lazy_max) {
		if (vm->hooks.kick)
			vm->hooks.kick(vm->hooks.priv);
		else
			pcpool_purge(vm, false);
	}
	return 0;
}

/* ---- set-up ---- */

static int pcpool_vbusy_init(struct pcpool_vbusy *b, unsigned int bits,
			     const struct pcpool_vmap_hooks *hooks)
{
	spin_lock_init(&b->lock);
	b->bits = bits;
	b->hash = hooks->zalloc(sizeof(*b->hash) << bits);
	return b->hash ? 0 : -ENOMEM;
}

static void pcpool_vmap_free_all(struct pcpool_vmap *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_nodes && vm->design == PCPOOL_VMAP_NODES; i++)
		if (vm->nodes[i]) {
			vm->hooks.free(vm->nodes[i]->busy.hash);
			vm->hooks.free(vm->nodes[i]);
		}
	vm->hooks.free(vm->gbusy.hash);
	vm->hooks.free(vm);
}

struct pcpool_vmap *pcpool_vmap_create(enum pcpool_vmap_design design,
				       unsigned long start, unsigned long size,
				       unsigned int nr_cpus,
				       unsigned long lazy_max,
				       const struct pcpool_vmap_hooks *hooks)
{
	unsigned int nr_nodes = 1, i, j, bits;
	unsigned long npages;
	struct pcpool_vmap *vm;
	struct pcpool_va *va;

	if (!size || ((start | size) & (PAGE_SIZE - 1)) || start + size < start ||
	    !nr_cpus)
		return NULL;
	if (design == PCPOOL_VMAP_NODES)
		nr_nodes = min(nr_cpus, PCPOOL_VMAP_MAX_NODES);
	vm = hooks->zalloc(sizeof(*vm) + nr_nodes * sizeof(vm->nodes[0]));
	if (!vm)
		return NULL;
	vm->design = design;
	vm->start = start;
	vm->end = start + size;
	vm->nr_nodes = nr_nodes;
	vm->hooks = *hooks;
	if (!lazy_max) {
		/* 6.1's lazy_max_pages(), capped to fit a small range. */
		unsigned int n, bits = 0;

		for (n = nr_cpus; n; n >>= 1)	/* fls() */
			bits++;
		lazy_max = bits * (32UL << 20) >> PAGE_SHIFT;
		lazy_max = min(lazy_max, (size >> PAGE_SHIFT) / 4);
	}
	vm->lazy_max = lazy_max;
	pcpool_glock_init(&vm->free_lk);
	pcpool_glock_init(&vm->busy_lk);
	pcpool_glock_init(&vm->purge_lk);
	pcpool_glock_init(&vm->drain_lk);
	vm->free_root = RB_ROOT;
	INIT_LIST_HEAD(&vm->free);
	INIT_LIST_HEAD(&vm->glazy);
	npages = size >> PAGE_SHIFT;
	/* About one bucket per 4 pages of range, split over the tables. */
	for (bits = PCPOOL_VMAP_HASH_MIN_BITS;
	     bits < PCPOOL_VMAP_HASH_MAX_BITS &&
	     (1UL << bits) < npages / 4 / nr_nodes; bits++)
		;
	if (design == PCPOOL_VMAP_GLOBAL &&
	    pcpool_vbusy_init(&vm->gbusy, bits, hooks))
		goto fail;
	for (i = 0; i < nr_nodes && design == PCPOOL_VMAP_NODES; i++) {
		struct pcpool_vnode *vn = hooks->zalloc(sizeof(*vn));

		if (!vn)
			goto fail;
		vm->nodes[i] = vn;
		if (pcpool_vbusy_init(&vn->busy, bits, hooks))
			goto fail;
		spin_lock_init(&vn->lazy_lock);
		spin_lock_init(&vn->pool_lock);
		INIT_LIST_HEAD(&vn->lazy);
		for (j = 0; j < PCPOOL_VMAP_POOL_PAGES; j++)
			INIT_LIST_HEAD(&vn->pool[j]);
	}
	va = hooks->zalloc(sizeof(*va));
	if (!va)
		goto fail;
	va->start = vm->start;
	va->end = vm->end;
	va->subtree_max_size = size;
	rb_link_node(&va->rb, NULL, &vm->free_root.rb_node);
	rb_insert_color(&va->rb, &vm->free_root);
	list_add(&va->list, &vm->free);
	vm->free_pages = npages;
	return vm;
fail:
	pcpool_vmap_free_all(vm);
	return NULL;
}

void pcpool_vmap_destroy(struct pcpool_vmap *vm)
{
	struct list_head dead;

	if (!vm)
		return;
	pcpool_purge(vm, true);
	WARN_ON_ONCE(pcpool_vmap_busy_pages(vm));
	INIT_LIST_HEAD(&dead);
	list_splice_init(&vm->free, &dead);
	pcpool_va_free_list(vm, &dead);
	pcpool_vmap_free_all(vm);
}

/* ---- gauges and counters ---- */

unsigned long pcpool_vmap_busy_pages(struct pcpool_vmap *vm)
{
	unsigned long n = READ_ONCE(vm->gbusy.pages);
	unsigned int i;

	for (i = 0; i < vm->nr_nodes && vm->design == PCPOOL_VMAP_NODES; i++)
		n += READ_ONCE(vm->nodes[i]->busy.pages);
	return n;
}

unsigned long pcpool_vmap_lazy_pages(struct pcpool_vmap *vm)
{
	return pcpool_lazy_total(vm);
}

unsigned long pcpool_vmap_pool_pages(struct pcpool_vmap *vm)
{
	unsigned long n = 0;
	unsigned int i;

	for (i = 0; i < vm->nr_nodes && vm->design == PCPOOL_VMAP_NODES; i++)
		n += READ_ONCE(vm->nodes[i]->pool_pages);
	return n;
}

unsigned long pcpool_vmap_free_pages(struct pcpool_vmap *vm)
{
	return READ_ONCE(vm->free_pages);
}

/* The global locks, as 6.1 names them: free, busy, purge list, purge. */
static const char *const pcpool_vmap_lock_names[4][3] = {
	{ "free_lock_acquired", "free_lock_contended", "free_lock_hold_ns" },
	{ "busy_lock_acquired", "busy_lock_contended", "busy_lock_hold_ns" },
	{ "lazy_lock_acquired", "lazy_lock_contended", "lazy_lock_hold_ns" },
	{ "drain_lock_acquired", "drain_lock_contended", "drain_lock_hold_ns" },
};

static const char *const pcpool_vmap_class_names[PCPOOL_VMAP_NR_CLASSES][2] = {
	{ "pool_hits_1", "pool_misses_1" },
	{ "pool_hits_2", "pool_misses_2" },
	{ "pool_hits_4", "pool_misses_4" },
	{ "pool_hits_8", "pool_misses_8" },
	{ "pool_hits_16", "pool_misses_16" },
	{ "pool_hits_32", "pool_misses_32" },
	{ "pool_hits_64", "pool_misses_64" },
	{ "pool_hits_128", "pool_misses_128" },
	{ "pool_hits_256", "pool_misses_256" },
};

void pcpool_vmap_counters(struct pcpool_vmap *vm, pcpool_emit_fn emit,
			  void *arg)
{
	struct pcpool_glock *g[] = { &vm->free_lk, &vm->busy_lk, &vm->purge_lk,
				     &vm->drain_lk };
	u64 acq = 0, cont = 0, hold = 0;
	unsigned int i, c;

	for (i = 0; i < ARRAY_SIZE(g); i++) {
		acq += READ_ONCE(g[i]->acquired);
		cont += READ_ONCE(g[i]->contended);
		hold += READ_ONCE(g[i]->hold_ns);
	}
	emit(arg, "glock_acquired", acq);
	emit(arg, "glock_contended", cont);
	emit(arg, "glock_hold_ns", hold);
	for (i = 0; i < ARRAY_SIZE(g); i++) {
		emit(arg, pcpool_vmap_lock_names[i][0], READ_ONCE(g[i]->acquired));
		emit(arg, pcpool_vmap_lock_names[i][1], READ_ONCE(g[i]->contended));
		emit(arg, pcpool_vmap_lock_names[i][2], READ_ONCE(g[i]->hold_ns));
	}
	emit(arg, "search_steps", READ_ONCE(vm->search_steps));
	emit(arg, "purge_batches", READ_ONCE(vm->purge_batches));
	emit(arg, "tlb_flushes", READ_ONCE(vm->tlb_flushes));
	emit(arg, "purged_pages", READ_ONCE(vm->purged_pages));
	emit(arg, "decay_events", READ_ONCE(vm->decay_events));
	emit(arg, "decayed_pages", READ_ONCE(vm->decayed_pages));
	emit(arg, "shrinks", READ_ONCE(vm->shrinks));
	for (c = 0; c < PCPOOL_VMAP_NR_CLASSES; c++) {
		unsigned int nodes = vm->design == PCPOOL_VMAP_NODES ?
				     vm->nr_nodes : 0;
		u64 h = 0, m = 0;

		for (i = 0; i < nodes; i++) {
			h += READ_ONCE(vm->nodes[i]->hits[c]);
			m += READ_ONCE(vm->nodes[i]->misses[c]);
		}
		emit(arg, pcpool_vmap_class_names[c][0], h);
		emit(arg, pcpool_vmap_class_names[c][1], m);
	}
	emit(arg, "nr_nodes", vm->nr_nodes);
	emit(arg, "lazy_max_pages", vm->lazy_max);
	emit(arg, "busy_pages", pcpool_vmap_busy_pages(vm));
	emit(arg, "lazy_pages", pcpool_vmap_lazy_pages(vm));
	emit(arg, "pool_pages", pcpool_vmap_pool_pages(vm));
	emit(arg, "free_pages", pcpool_vmap_free_pages(vm));
}

/* Racy against running operations, as every backend's reset is. */
void pcpool_vmap_reset_counters(struct pcpool_vmap *vm)
{
	struct pcpool_glock *g[] = { &vm->free_lk, &vm->busy_lk, &vm->purge_lk,
				     &vm->drain_lk };
	unsigned int i, c;

	for (i = 0; i < ARRAY_SIZE(g); i++) {
		WRITE_ONCE(g[i]->acquired, 0);
		WRITE_ONCE(g[i]->contended, 0);
		WRITE_ONCE(g[i]->hold_ns, 0);
	}
	WRITE_ONCE(vm->search_steps, 0);
	WRITE_ONCE(vm->purge_batches, 0);
	WRITE_ONCE(vm->tlb_flushes, 0);
	WRITE_ONCE(vm->purged_pages, 0);
	WRITE_ONCE(vm->decay_events, 0);
	WRITE_ONCE(vm->decayed_pages, 0);
	WRITE_ONCE(vm->shrinks, 0);
	for (i = 0; i < vm->nr_nodes && vm->design == PCPOOL_VMAP_NODES; i++)
		for (c = 0; c < PCPOOL_VMAP_NR_CLASSES; c++) {
			WRITE_ONCE(vm->nodes[i]->hits[c], 0);
			WRITE_ONCE(vm->nodes[i]->misses[c], 0);
		}
}
