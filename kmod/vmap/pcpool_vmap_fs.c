// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool vmap: the free space, under free_lk.
 *
 * 6.1's free_vmap_area_root and free_vmap_area_list: free extents in an
 * rb-tree by address, each node carrying the largest extent size of its
 * subtree, and on an address-sorted list for the neighbours of a merge.
 * The functions follow their 6.1 namesakes in mm/vmalloc.c.
 */
#include "pcpool_vmap_internal.h"

static inline unsigned long pcpool_va_size(const struct pcpool_va *va)
{
	return va->end - va->start;
}

/* get_subtree_max_size() */
static inline unsigned long pcpool_fs_max(struct rb_node *node)
{
	return node ? rb_entry(node, struct pcpool_va, rb)->subtree_max_size : 0;
}

RB_DECLARE_CALLBACKS_MAX(static, pcpool_fs_cb, struct pcpool_va, rb,
			 unsigned long, subtree_max_size, pcpool_va_size)

/* find_va_links(): from the root, or from @from down; NULL on overlap. */
static struct rb_node **pcpool_fs_links(struct pcpool_vmap *vm,
					struct pcpool_va *va,
					struct rb_node *from,
					struct rb_node **parent)
{
	struct rb_node **link = from ? &from : &vm->free_root.rb_node;
	struct pcpool_va *t = NULL;

	*parent = NULL;
	while (*link) {
		t = rb_entry(*link, struct pcpool_va, rb);
		if (va->end <= t->start) {
			link = &(*link)->rb_left;
		} else if (va->start >= t->end) {
			link = &(*link)->rb_right;
		} else {
			WARN_ON_ONCE(1);
			return NULL;
		}
		*parent = &t->rb;
	}
	return link;
}

/* __link_va(..., augment): the subtree maxima wait for the propagation. */
static void pcpool_fs_link(struct pcpool_vmap *vm, struct pcpool_va *va,
			   struct rb_node *parent, struct rb_node **link)
{
	struct list_head *head = &vm->free;

	if (parent) {
		head = &rb_entry(parent, struct pcpool_va, rb)->list;
		if (&parent->rb_right != link)
			head = head->prev;
	}
	rb_link_node(&va->rb, parent, link);
	rb_insert_augmented(&va->rb, &vm->free_root, &pcpool_fs_cb);
	va->subtree_max_size = 0;
	list_add(&va->list, head);
}

static void pcpool_fs_unlink(struct pcpool_vmap *vm, struct pcpool_va *va)
{
	rb_erase_augmented(&va->rb, &vm->free_root, &pcpool_fs_cb);
	list_del(&va->list);
	RB_CLEAR_NODE(&va->rb);
}

/* augment_tree_propagate_from(): up until a node's maximum holds. */
static void pcpool_fs_propagate(struct pcpool_va *va)
{
	pcpool_fs_cb_propagate(&va->rb, NULL);
}

/* is_within_this_va() */
static bool pcpool_fs_within(const struct pcpool_va *va, unsigned long size,
			     unsigned long align, unsigned long vstart)
{
	unsigned long a = ALIGN(max(va->start, vstart), align);

	if (a + size < a || a < vstart)
		return false;
	return a + size <= va->end;
}

/*
 * find_vmap_lowest_match(): the lowest extent holding @size at @align,
 * and where.  As 6.1, an alignment above a page searches for size +
 * align - 1, so an aligned request may pass over a lower extent that
 * fits it only exactly.
 */
struct pcpool_va *pcpool_fs_find(struct pcpool_vmap *vm, unsigned long size,
				 unsigned long align, unsigned long *nva)
{
	struct rb_node *node = vm->free_root.rb_node;
	unsigned long vstart = vm->start, length = size;
	struct pcpool_va *va = NULL;
	u64 steps = 0;

	if (align > PAGE_SIZE && vm->end - vm->start != size)
		length = size + align - 1;
	while (node) {
		va = rb_entry(node, struct pcpool_va, rb);
		steps++;
		if (pcpool_fs_max(node->rb_left) >= length &&
		    vstart < va->start) {
			node = node->rb_left;
			continue;
		}
		if (pcpool_fs_within(va, size, align, vstart))
			goto found;
		if (pcpool_fs_max(node->rb_right) >= length) {
			node = node->rb_right;
			continue;
		}
		/* Back up to the first right subtree that may hold it. */
		while ((node = rb_parent(node))) {
			va = rb_entry(node, struct pcpool_va, rb);
			steps++;
			if (pcpool_fs_within(va, size, align, vstart))
				goto found;
			if (pcpool_fs_max(node->rb_right) >= length &&
			    vstart <= va->start) {
				/* Past this subtree: it held nothing. */
				vstart = va->start + 1;
				node = node->rb_right;
				break;
			}
		}
	}
	va = NULL;
found:
	pcpool_vinc(&vm->search_steps, steps);
	/* From the range's start, as __alloc_vmap_area() aligns. */
	if (va)
		*nva = ALIGN(max(va->start, vm->start), align);
	return va;
}

/*
 * Take [@a, @a + @size) out of @va as adjust_va_to_fit_type() does; the
 * busy descriptor comes back, from *@spare or @va itself.
 */
struct pcpool_va *pcpool_fs_clip(struct pcpool_vmap *vm, struct pcpool_va *va,
				 unsigned long a, unsigned long size,
				 struct list_head *spare)
{
	struct pcpool_va *busy, *rest = NULL;
	struct rb_node **link, *parent;
	unsigned long end = a + size;

	pcpool_vadd(&vm->free_pages, -(size >> PAGE_SHIFT));
	if (va->start == a && va->end == end) {		/* full fit */
		pcpool_fs_unlink(vm, va);
		return va;
	}
	busy = list_first_entry(spare, struct pcpool_va, list);
	list_del(&busy->list);
	busy->start = a;
	busy->end = end;
	if (va->start == a) {				/* left edge */
		va->start = end;
	} else if (va->end == end) {			/* right edge */
		va->end = a;
	} else {					/* no edge */
		rest = list_first_entry(spare, struct pcpool_va, list);
		list_del(&rest->list);
		rest->start = va->start;
		rest->end = a;
		va->start = end;
	}
	pcpool_fs_propagate(va);
	if (rest) {
		/* Left of @va: found from @va's node, as 6.1 does. */
		link = pcpool_fs_links(vm, rest, &va->rb, &parent);
		if (link) {
			pcpool_fs_link(vm, rest, parent, link);
			pcpool_fs_propagate(rest);
		}
	}
	return busy;
}

/*
 * Back into the free space, merged with its neighbours as
 * merge_or_add_vmap_area_augment() does; spent descriptors onto @dead.
 */
static void pcpool_fs_insert(struct pcpool_vmap *vm, struct pcpool_va *va,
			     struct list_head *dead)
{
	struct rb_node **link, *parent;
	struct list_head *next = &vm->free;
	struct pcpool_va *sib;
	bool merged = false;

	link = pcpool_fs_links(vm, va, NULL, &parent);
	if (!link) {
		list_add(&va->list, dead);
		return;
	}
	pcpool_vadd(&vm->free_pages, pcpool_va_pages(va));
	if (parent) {
		next = &rb_entry(parent, struct pcpool_va, rb)->list;
		if (&parent->rb_right == link)
			next = next->next;
	}
	if (next != &vm->free) {
		sib = list_entry(next, struct pcpool_va, list);
		if (sib->start == va->end) {
			sib->start = va->start;
			list_add(&va->list, dead);
			va = sib;
			merged = true;
		}
	}
	if (next->prev != &vm->free) {
		sib = list_entry(next->prev, struct pcpool_va, list);
		if (sib->end == va->start) {
			/* Unlink the next one first, as 6.1 explains. */
			if (merged)
				pcpool_fs_unlink(vm, va);
			sib->end = va->end;
			list_add(&va->list, dead);
			va = sib;
			merged = true;
		}
	}
	if (!merged)
		pcpool_fs_link(vm, va, parent, link);
	pcpool_fs_propagate(va);
}

/*
 * The tree's invariants, for tests (6.1's augment_tree_propagate_check()
 * and more): in address order as the list, not touching, each node's
 * maximum right, the pages as counted.  The number of faults.
 */
unsigned long pcpool_vmap_check(struct pcpool_vmap *vm)
{
	unsigned long bad = 0, pages = 0, prev_end = 0;
	struct list_head *l = vm->free.next;
	struct rb_node *n;

	pcpool_glock(&vm->free_lk);
	for (n = rb_first(&vm->free_root); n; n = rb_next(n)) {
		struct pcpool_va *va = rb_entry(n, struct pcpool_va, rb);

		bad += l != &va->list;
		l = va->list.next;
		bad += va->start >= va->end || (prev_end && prev_end >= va->start);
		bad += va->subtree_max_size !=
		       max(pcpool_va_size(va), max(pcpool_fs_max(n->rb_left),
						   pcpool_fs_max(n->rb_right)));
		prev_end = va->end;
		pages += pcpool_va_pages(va);
	}
	bad += l != &vm->free;
	bad += pages != vm->free_pages;
	pcpool_gunlock(&vm->free_lk);
	return bad;
}

/* Everything on @list into the free space under one acquisition. */
void pcpool_fs_insert_list(struct pcpool_vmap *vm, struct list_head *list,
			   struct list_head *dead)
{
	if (list_empty(list))
		return;
	pcpool_glock(&vm->free_lk);
	while (!list_empty(list)) {
		struct pcpool_va *va = list_first_entry(list, struct pcpool_va,
							list);

		list_del(&va->list);
		pcpool_fs_insert(vm, va, dead);
	}
	pcpool_gunlock(&vm->free_lk);
}
