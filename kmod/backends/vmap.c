// SPDX-License-Identifier: GPL-2.0
/*
 * pcpool vmap backends: the VA allocators of kmod/vmap (6.1's global
 * design and Rezki's vmap nodes) over a kernel VA range this module owns,
 * each area backed by pages and mapped, so an allocation is a vmalloc-like
 * object the workloads write to.
 *
 * Owning a range: get_vm_area() and __get_vm_area_caller() are not
 * exported by 6.1, vmap() is.  At load, vmap() maps one zero page over
 * the whole range (building its page tables), and every PTE is then
 * cleared, so the range is reserved in the kernel's vmap space, its page
 * tables exist, and nothing is mapped.  An allocation fills the PTEs of
 * its area (the tables exist: nothing is allocated but the pages, in
 * bulk as vmalloc takes them); a
 * free clears them and frees the pages at once, as 6.1's vfree() does,
 * and the TLB is flushed lazily, before the area can be handed out again
 * (one flush on every CPU per purge batch, in a work item as 6.1 does).
 * Unload vunmap()s the range.
 *
 * With vmap_map=0 (VA only) the range stays mapped to one writable scratch
 * page from load to unload: an allocation is only the VA manager's work,
 * the workloads' writes land on the shared page, and no PTE changes, so
 * the purge's flush is skipped (tlb_flushes still counts the batches).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>
#include <asm/pgtable_types.h>
#include <asm/tlbflush.h>

#include "backends.h"
#include "pcpool_vmap.h"

static unsigned long vmap_range_pages = 262144;
module_param(vmap_range_pages, ulong, 0444);
MODULE_PARM_DESC(vmap_range_pages,
		 "Pages of kernel VA each vmap backend owns (default 262144: 1 GiB; at most half of RAM, as vmap() counts them)");

static unsigned long vmap_lazy_max_pages;
module_param(vmap_lazy_max_pages, ulong, 0444);
MODULE_PARM_DESC(vmap_lazy_max_pages,
		 "Lazily freed pages that start a purge (0: 6.1's fls(CPUs) * 32 MiB, at most a quarter of the range)");

static bool vmap_map = true;
module_param(vmap_map, bool, 0444);
MODULE_PARM_DESC(vmap_map,
		 "Back each vmap area with its own pages and map them (default); 0: VA only, the range mapped to one shared scratch page");

/* Pages taken from the bulk allocator at once, on the stack. */
#define VMAP_BULK	32UL

struct vmap_state {
	struct pcpool_vmap *vm;
	struct pcpool_vmap_hooks hooks;
	/* 6.1's drain_vmap_work: a freer over the lazy limit only kicks it */
	struct work_struct drain;
	void *base;		/* the vmap()ed range */
	struct page *zero;	/* VA only: the scratch page, mapped writable */
	bool map;		/* vmap_map at load */
	struct pcpool_shrinker shrinker;
};

static void *vmap_zalloc(size_t size)
{
	return kvzalloc(size, GFP_KERNEL);
}

static void vmap_kvfree(void *p)
{
	kvfree(p);
}

static void vmap_flush_cpu(void *info)
{
	__flush_tlb_all();
}

/* flush_tlb_kernel_range() is not exported; flush everything everywhere. */
static void vmap_flush(void *priv, unsigned long start, unsigned long end)
{
	on_each_cpu(vmap_flush_cpu, NULL, 1);
}

/* VA only: no PTE ever changes, so there is nothing to flush. */
static void vmap_noflush(void *priv, unsigned long start, unsigned long end)
{
}

static void vmap_drain(struct work_struct *work)
{
	struct vmap_state *st = container_of(work, struct vmap_state, drain);

	pcpool_vmap_purge(st->vm);
}

static void vmap_kick(void *priv)
{
	struct vmap_state *st = priv;

	schedule_work(&st->drain);
}

static const struct pcpool_vmap_hooks vmap_hooks = {
	.zalloc	= vmap_zalloc,
	.free	= vmap_kvfree,
	.flush	= vmap_flush,
	.kick	= vmap_kick,
};

/*
 * The PTEs of a range vmap() mapped, whose tables therefore exist, up to
 * the end of @addr's page table (at most @end): their count in *@n.
 * init_mm is not exported, so apply_to_page_range() is out of reach;
 * x86's lookup_address() is exported and walks init_mm's tables.
 */
static pte_t *vmap_ptes(unsigned long addr, unsigned long end,
			unsigned long *n)
{
	unsigned long next = min(end, ALIGN(addr + 1, PMD_SIZE));
	unsigned int level;
	pte_t *pte = lookup_address(addr, &level);

	*n = (next - addr) >> PAGE_SHIFT;
	if (WARN_ON_ONCE(!pte || level != PG_LEVEL_4K))
		return NULL;
	return pte;
}

/* Clear the PTEs of [@addr, @end); their pages onto @pages. */
static void vmap_unmap(unsigned long addr, unsigned long end,
		       struct list_head *pages)
{
	unsigned long n, i;
	pte_t *pte, old;

	for (; addr < end; addr += n << PAGE_SHIFT) {
		pte = vmap_ptes(addr, end, &n);
		for (i = 0; pte && i < n; i++) {
			old = READ_ONCE(pte[i]);
			if (!pte_present(old))
				continue;
			set_pte(&pte[i], __pte(0));
			if (pages)
				list_add(&pte_page(old)->lru, pages);
		}
	}
}

/*
 * Fresh order-0 pages mapped over [@addr, @end), in bulk as
 * __vmalloc_area_node() takes them; on failure what was mapped stays
 * mapped for the caller to unmap.
 */
static int vmap_populate(unsigned long addr, unsigned long end)
{
	struct page *batch[VMAP_BULK];
	unsigned long n, i, k, got;
	pte_t *pte;

	for (; addr < end; addr += n << PAGE_SHIFT) {
		pte = vmap_ptes(addr, end, &n);
		if (!pte)
			return -EFAULT;
		n = min_t(unsigned long, n, VMAP_BULK);
		memset(batch, 0, n * sizeof(batch[0]));
		got = pcpool_alloc_pages_bulk(PCPOOL_KERNEL_GFP, n, batch);
		for (k = got; k < n; k++) {
			batch[k] = alloc_page(PCPOOL_KERNEL_GFP);
			if (!batch[k])
				break;
		}
		for (i = 0; i < k; i++)
			set_pte(&pte[i], mk_pte(batch[i], PAGE_KERNEL));
		if (k < n)
			return -ENOMEM;
	}
	return 0;
}

static void vmap_free_list(struct list_head *pages)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, pages, lru)
		__free_page(page);
}

static int vmap_alloc(struct pcpool_backend *b, size_t size, size_t align,
		      gfp_t gfp, union pcpool_obj *obj)
{
	struct vmap_state *st = b->priv;
	unsigned long addr;
	LIST_HEAD(pages);
	int ret;

	size = PAGE_ALIGN(size);
	ret = pcpool_vmap_alloc(st->vm, size, max_t(size_t, align, PAGE_SIZE),
				&addr);
	if (ret)
		return ret;
	obj->vmem = (void *)addr;
	if (!st->map)
		return 0;
	ret = vmap_populate(addr, addr + size);
	if (ret) {
		vmap_unmap(addr, addr + size, &pages);
		vmap_free_list(&pages);
		pcpool_vmap_free(st->vm, addr);
		return -ENOMEM;
	}
	return 0;
}

static void vmap_free(struct pcpool_backend *b, union pcpool_obj obj,
		      size_t size, size_t align)
{
	struct vmap_state *st = b->priv;
	unsigned long addr = (unsigned long)obj.vmem;
	LIST_HEAD(pages);

	if (st->map) {
		size = PAGE_ALIGN(size);
		vmap_unmap(addr, addr + size, &pages);
		vmap_free_list(&pages);
	}
	WARN_ON_ONCE(pcpool_vmap_free(st->vm, addr));
}

/* The shrinker's private pointer is the allocator. */
static unsigned long vmap_shrink_count(void *vm)
{
	return pcpool_vmap_pool_pages(vm);
}

/* The pools are dropped whole: @nr is not a unit they can honour. */
static unsigned long vmap_shrink_scan(void *vm, unsigned long nr)
{
	return pcpool_vmap_shrink(vm);
}

static const struct pcpool_shrinker_ops vmap_shrinker_ops = {
	.name	= "pcpool-vmap-nodes",
	.count	= vmap_shrink_count,
	.scan	= vmap_shrink_scan,
};

/*
 * vmap() the zero page over the range, then clear every PTE; VA only:
 * leave it mapped, writable.
 */
static void *vmap_reserve(struct vmap_state *st, unsigned long n)
{
	struct page **pages;
	unsigned long i;
	void *base;

	pages = kvmalloc_array(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return NULL;
	for (i = 0; i < n; i++)
		pages[i] = st->zero;
	base = vmap(pages, n, VM_MAP, st->map ? PAGE_KERNEL_RO : PAGE_KERNEL);
	kvfree(pages);
	if (!base || !st->map)
		return base;
	vmap_unmap((unsigned long)base, (unsigned long)base + (n << PAGE_SHIFT),
		   NULL);
	vmap_flush(NULL, 0, 0);
	return base;
}

static int vmap_init(struct pcpool_backend *b, enum pcpool_vmap_design d)
{
	unsigned long n = min(vmap_range_pages, totalram_pages() / 2);
	struct vmap_state *st;
	int ret = -ENOMEM;

	if (n < PCPOOL_VMAP_POOL_PAGES) {
		pr_err("%s: bad vmap_range_pages=%lu\n", b->ops->name, n);
		return -EINVAL;
	}
	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	st->zero = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!st->zero)
		goto free_st;
	st->map = vmap_map;
	st->base = vmap_reserve(st, n);
	if (!st->base)
		goto free_zero;
	INIT_WORK(&st->drain, vmap_drain);
	st->hooks = vmap_hooks;
	st->hooks.priv = st;
	if (!st->map)
		st->hooks.flush = vmap_noflush;
	st->vm = pcpool_vmap_create(d, (unsigned long)st->base,
				    n << PAGE_SHIFT, num_possible_cpus(),
				    vmap_lazy_max_pages, &st->hooks);
	if (!st->vm)
		goto unmap;
	if (d == PCPOOL_VMAP_NODES) {
		ret = pcpool_shrinker_register(&st->shrinker,
					       &vmap_shrinker_ops, st->vm);
		if (ret)
			goto destroy;
	}
	b->priv = st;
	return 0;
destroy:
	pcpool_vmap_destroy(st->vm);
unmap:
	vunmap(st->base);
free_zero:
	__free_page(st->zero);
free_st:
	kfree(st);
	return ret;
}

static int vmap_global_init(struct pcpool_backend *b)
{
	return vmap_init(b, PCPOOL_VMAP_GLOBAL);
}

static int vmap_nodes_init(struct pcpool_backend *b)
{
	return vmap_init(b, PCPOOL_VMAP_NODES);
}

/* After every session closed: every area is freed, so nothing is mapped. */
static void vmap_exit(struct pcpool_backend *b)
{
	struct vmap_state *st = b->priv;

	if (b->ops->init == vmap_nodes_init)
		pcpool_shrinker_unregister(&st->shrinker);
	cancel_work_sync(&st->drain);
	pcpool_vmap_destroy(st->vm);
	vunmap(st->base);
	__free_page(st->zero);
	kfree(st);
}

static void vmap_emit(void *arg, const char *key, u64 val)
{
	seq_printf(arg, "%s %llu\n", key, val);
}

static void vmap_show_counters(struct pcpool_backend *b, struct seq_file *m)
{
	struct vmap_state *st = b->priv;

	pcpool_vmap_counters(st->vm, vmap_emit, m);
	seq_printf(m, "map_pages %d\n", st->map);
}

static void vmap_reset_counters(struct pcpool_backend *b)
{
	struct vmap_state *st = b->priv;

	pcpool_vmap_reset_counters(st->vm);
}

/* The two designs differ only in how the state is made. */
#define PCPOOL_VMAP_OPS(lname)						\
const struct pcpool_backend_ops pcpool_vmap_##lname##_ops = {		\
	.name		= "vmap-" #lname,				\
	.kind		= PCPOOL_BK_VMAP,				\
	.init		= vmap_##lname##_init,				\
	.exit		= vmap_exit,					\
	.alloc		= vmap_alloc,					\
	.free		= vmap_free,					\
	.show_counters	= vmap_show_counters,				\
	.reset_counters	= vmap_reset_counters,				\
}

PCPOOL_VMAP_OPS(global);
PCPOOL_VMAP_OPS(nodes);
