// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool's in-kernel API (include/linux/pcpool.h): pages from a page
 * backend, pcpbuddy unless api_pages says otherwise, and per-CPU objects
 * from the zeroed per-CPU cache.  An entry point beside main.c and
 * uring.c: it calls down into the backend ops through the accounting
 * wrapper (backend.h), as the commands do, and nothing calls up into it
 * but debugfs.c, to read the counts.  Documentation/api.rst.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/gfp.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/llist.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include <linux/pcpool.h>

#include "api.h"
#include "backend.h"

static char *api_pages = "pcpbuddy";
module_param(api_pages, charp, 0444);
MODULE_PARM_DESC(api_pages,
		 "Backend of pcpool_alloc_pages(): \"pcpbuddy\", \"classic\" or \"kernel\" (alloc_pages itself)");

/* NULL: the kernel's page allocator, called directly. */
static struct pcpool_backend *api_page_bk;
static struct pcpool_backend *api_pcpu_bk;

/* Outstanding pages and per-CPU objects: this_cpu ops, any context. */
static DEFINE_PER_CPU(long, api_nr_pages);
static DEFINE_PER_CPU(long, api_nr_percpu);

/*
 * One per-CPU object: the free needs its size and alignment (the cache's
 * class), and unload frees what clients left.
 */
struct api_pcpu_rec {
	struct hlist_node hash;
	struct llist_node defer;
	void __percpu *ptr;
	size_t size;
	size_t align;
	bool kernel;		/* __alloc_percpu(): larger than the classes */
};

#define API_PCPU_HASH_BITS	10
static DEFINE_HASHTABLE(api_pcpu_hash, API_PCPU_HASH_BITS);
static DEFINE_SPINLOCK(api_pcpu_lock);	/* api_pcpu_hash */

/*
 * Frees from interrupt context the backend cannot take there (classic's
 * and the per-CPU cache's locks are not interrupt-safe): handed to a work
 * item, pages linked through page->lru with the order in page_private().
 */
static LLIST_HEAD(api_deferred_pages);
static LLIST_HEAD(api_deferred_pcpu);
static void api_deferred_fn(struct work_struct *work);
static DECLARE_WORK(api_deferred_work, api_deferred_fn);

static long api_sum(long __percpu *ctr)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *per_cpu_ptr(ctr, cpu);
	return sum;
}

/* Page backends sized in pages: a request of @order is 2^order pages. */
static size_t api_page_size(unsigned int order)
{
	return PAGE_SIZE << order;
}

struct page *pcpool_alloc_pages(gfp_t gfp, unsigned int order)
{
	struct pcpool_backend *b = api_page_bk;
	bool may_sleep = gfpflags_allow_blocking(gfp);
	union pcpool_obj obj;
	unsigned int i;

	might_sleep_if(may_sleep);
	if (!b) {
		obj.page = alloc_pages(gfp, order);
	} else if (order > b->max_order) {
		return NULL;
	} else if (may_sleep && in_task()) {
		/* the caller's gfp: its migratetype picks the blocks */
		if (pcpool_obj_alloc_gfp(b, api_page_size(order),
					 api_page_size(order), gfp, &obj))
			return NULL;
	} else if (!b->ops->alloc_nowait ||
		   __pcpool_obj_alloc(b, api_page_size(order),
				      api_page_size(order), gfp, &obj, true)) {
		return NULL;
	}
	if (!obj.page)
		return NULL;
	/* the backends zero only as init_on_alloc asks */
	if (b && (gfp & __GFP_ZERO))
		for (i = 0; i < (1U << order); i++)
			clear_highpage(obj.page + i);
	this_cpu_add(api_nr_pages, 1L << order);
	return obj.page;
}
EXPORT_SYMBOL_GPL(pcpool_alloc_pages);

void pcpool_free_pages(struct page *page, unsigned int order)
{
	struct pcpool_backend *b = api_page_bk;
	union pcpool_obj obj = { .page = page };

	if (!page)
		return;
	this_cpu_sub(api_nr_pages, 1L << order);
	if (!b) {
		__free_pages(page, order);
	} else if (in_task()) {
		/* interrupts may be off: the backend's free never sleeps */
		pcpool_obj_free(b, obj, api_page_size(order),
				api_page_size(order));
	} else if (b->ops->free_any) {
		__pcpool_obj_free(b, obj, api_page_size(order),
				  api_page_size(order), true);
	} else {
		set_page_private(page, order);
		llist_add((struct llist_node *)&page->lru, &api_deferred_pages);
		schedule_work(&api_deferred_work);
	}
}
EXPORT_SYMBOL_GPL(pcpool_free_pages);

static unsigned long api_pcpu_key(void __percpu *ptr)
{
	return (__force unsigned long)ptr;
}

void __percpu *pcpool_alloc_percpu(size_t size, size_t align)
{
	struct pcpool_backend *b = api_pcpu_bk;
	struct api_pcpu_rec *rec;
	union pcpool_obj obj;
	unsigned long flags;

	might_sleep();
	/* as pcpu_alloc(): a power-of-two alignment up to a page */
	if (!size || !is_power_of_2(align) || align > PAGE_SIZE)
		return NULL;
	rec = kmalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return NULL;
	rec->size = size;
	rec->align = align;
	rec->kernel = !b || max_t(size_t, roundup_pow_of_two(size), align) >
			    (1UL << b->max_order);
	if (rec->kernel)
		obj.pcpu = __alloc_percpu(size, align);
	else if (pcpool_obj_alloc(b, size, align, &obj))
		obj.pcpu = NULL;
	if (!obj.pcpu) {
		kfree(rec);
		return NULL;
	}
	rec->ptr = obj.pcpu;
	spin_lock_irqsave(&api_pcpu_lock, flags);
	hash_add(api_pcpu_hash, &rec->hash, api_pcpu_key(rec->ptr));
	spin_unlock_irqrestore(&api_pcpu_lock, flags);
	this_cpu_inc(api_nr_percpu);
	return rec->ptr;
}
EXPORT_SYMBOL_GPL(pcpool_alloc_percpu);

/* Back to where it came from; process context. */
static void api_pcpu_release(struct api_pcpu_rec *rec)
{
	union pcpool_obj obj = { .pcpu = rec->ptr };

	if (rec->kernel)
		free_percpu(rec->ptr);
	else
		pcpool_obj_free(api_pcpu_bk, obj, rec->size, rec->align);
	kfree(rec);
}

void pcpool_free_percpu(void __percpu *ptr)
{
	struct api_pcpu_rec *rec, *found = NULL;
	unsigned long flags;

	if (!ptr)
		return;
	spin_lock_irqsave(&api_pcpu_lock, flags);
	hash_for_each_possible(api_pcpu_hash, rec, hash, api_pcpu_key(ptr)) {
		if (rec->ptr == ptr) {
			hash_del(&rec->hash);
			found = rec;
			break;
		}
	}
	spin_unlock_irqrestore(&api_pcpu_lock, flags);
	if (WARN_ONCE(!found, "pcpool: free of unknown per-CPU pointer %p\n",
		      (__force void *)ptr))
		return;
	this_cpu_dec(api_nr_percpu);
	if (in_task()) {
		api_pcpu_release(found);
	} else {
		llist_add(&found->defer, &api_deferred_pcpu);
		schedule_work(&api_deferred_work);
	}
}
EXPORT_SYMBOL_GPL(pcpool_free_percpu);

static void api_deferred_fn(struct work_struct *work)
{
	struct llist_node *node = llist_del_all(&api_deferred_pages);
	struct api_pcpu_rec *rec, *next;

	while (node) {
		struct page *page = list_entry((struct list_head *)node,
					       struct page, lru);
		unsigned int order = page_private(page);
		union pcpool_obj obj = { .page = page };

		node = node->next;
		set_page_private(page, 0);
		pcpool_obj_free(api_page_bk, obj, api_page_size(order),
				api_page_size(order));
	}
	llist_for_each_entry_safe(rec, next, llist_del_all(&api_deferred_pcpu),
				  defer)
		api_pcpu_release(rec);
}

void pcpool_api_show(struct seq_file *m)
{
	seq_printf(m, "pages %ld\n", api_sum(&api_nr_pages));
	seq_printf(m, "percpu %ld\n", api_sum(&api_nr_percpu));
	seq_printf(m, "backend %s\n",
		   api_page_bk ? api_page_bk->ops->name : "kernel");
}

int pcpool_api_init(void)
{
	static const struct {
		const char *name;
		u32 id;
	} choices[] = {
		{ "pcpbuddy", PCPOOL_BACKEND_PCPBUDDY },
		{ "classic", PCPOOL_BACKEND_CLASSIC },
	};
	unsigned int i;

	api_page_bk = NULL;
	if (!api_pages || !sysfs_streq(api_pages, "kernel")) {
		for (i = 0; i < ARRAY_SIZE(choices); i++)
			if (api_pages && sysfs_streq(api_pages, choices[i].name))
				api_page_bk = pcpool_backend_get(choices[i].id);
		if (!api_page_bk) {
			pr_err("api_pages must be pcpbuddy, classic or kernel (and loaded)\n");
			return -EINVAL;
		}
	}
	api_pcpu_bk = pcpool_backend_get(PCPOOL_BACKEND_PCPU_ZEROED);
	return 0;
}

/*
 * At unload no client is left (each holds a reference on the module), so
 * nothing frees concurrently: finish deferred frees and free the per-CPU
 * objects clients leaked.  Leaked pages cannot be found without tracking
 * every page; they are reported, and the backends' own unload check sees
 * them as outstanding.
 */
void pcpool_api_exit(void)
{
	struct api_pcpu_rec *rec;
	struct hlist_node *tmp;
	long pages, leaked = 0;
	int bkt;

	flush_work(&api_deferred_work);
	hash_for_each_safe(api_pcpu_hash, bkt, tmp, rec, hash) {
		hash_del(&rec->hash);
		api_pcpu_release(rec);
		leaked++;
	}
	pages = api_sum(&api_nr_pages);
	if (leaked)
		pr_err("api: %ld per-CPU objects outstanding at unload, freed\n",
		       leaked);
	if (pages)
		pr_err("api: %ld pages outstanding at unload\n", pages);
}
