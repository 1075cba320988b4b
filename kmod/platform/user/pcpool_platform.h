/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool platform header, userspace world.
 *
 * The allocator core (kmod/core) is kernel C.  This header gives it the
 * small subset of the kernel API it uses, with the kernel's names and
 * semantics, so the same files build for GoogleTest under ASan/UBSan/TSan:
 * list_head, a modelled struct page array with pfns, spinlock_t (a pthread
 * mutex, so trylock reports contention and TSan understands it), a
 * thread-local "current CPU" the tests set, READ_ONCE/WRITE_ONCE as relaxed
 * atomics, WARN_ON_ONCE that counts, bit and math helpers.
 *
 * Must stay valid C and C++ (the tests include it through the core headers).
 * The test-only API (memory model, page source, CPU id) is in pcpool_user.h.
 */
#ifndef _PCPOOL_PLATFORM_H
#define _PCPOOL_PLATFORM_H

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned char u8;
typedef unsigned short u16;
typedef short s16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;

#define BIT(nr)			(1UL << (nr))
#define PAGE_SHIFT		12
#define PAGE_SIZE		BIT(PAGE_SHIFT)
#define PAGE_ALLOC_COSTLY_ORDER	3
#define MAX_ORDER		11

/* Orders the zone's free lists can hold: 0..PCPOOL_NR_ORDERS-1. */
#define PCPOOL_NR_ORDERS	MAX_ORDER
/* The kernel's pageblock_order on x86-64; tests pick smaller ones. */
#define PCPOOL_DEFAULT_BLOCK_ORDER 9
#define PCPOOL_CACHE_BYTES	64

#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define PCPOOL_USER_ATTR(...)	__attribute__((__VA_ARGS__))
#define noinline		PCPOOL_USER_ATTR(__noinline__)
/* __always_inline: glibc's <sys/cdefs.h> defines it as the kernel does. */
#define ____cacheline_aligned_in_smp PCPOOL_USER_ATTR(aligned(PCPOOL_CACHE_BYTES))
/* sparse lock-context annotations: nothing to check here. */
#define __acquires(x)
#define __releases(x)
#define __must_hold(x)

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* Counts instead of warning once, so tests can assert on it. */
void pcpool_user_warn(const char *file, int line, const char *cond);
#define WARN_ON_ONCE(cond)						\
	__extension__({							\
		bool __w = !!(cond);					\
		if (unlikely(__w))					\
			pcpool_user_warn(__FILE__, __LINE__, #cond);	\
		__w;							\
	})

#include "pcpool_user_minmax.h"
#define ALIGN(x, a) __extension__({					\
	__typeof__(x) __m = (__typeof__(x))(a) - 1;			\
	((x) + __m) & ~__m;						\
})
#define ARRAY_SIZE(arr)		(sizeof(arr) / sizeof((arr)[0]))

#define BITS_PER_LONG		(8 * (int)sizeof(long))
#define BITS_TO_LONGS(n)	(((n) + BITS_PER_LONG - 1) / BITS_PER_LONG)
#define BIT_WORD(n)		((n) / BITS_PER_LONG)
#define BIT_MASK(n)		(1UL << ((n) % BITS_PER_LONG))

static inline bool test_bit(unsigned long nr, const unsigned long *addr)
{
	return addr[BIT_WORD(nr)] & BIT_MASK(nr);
}

static inline void __set_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] |= BIT_MASK(nr);
}

static inline void __clear_bit(unsigned long nr, unsigned long *addr)
{
	addr[BIT_WORD(nr)] &= ~BIT_MASK(nr);
}

static inline unsigned long find_next_bit(const unsigned long *addr,
					  unsigned long size,
					  unsigned long offset)
{
	while (offset < size) {
		unsigned long w = addr[BIT_WORD(offset)] >>
				  (offset % BITS_PER_LONG);

		if (w) {
			offset += (unsigned long)__builtin_ctzl(w);
			return offset < size ? offset : size;
		}
		offset = (offset | (BITS_PER_LONG - 1)) + 1;
	}
	return size;
}

/* for_each_set_bit()'s cursor: each macro argument is evaluated once */
struct pcpool_user_fsb {
	const unsigned long *addr;
	unsigned long size;
	unsigned long next;
	unsigned long cur;
};

static inline bool pcpool_user_fsb_next(struct pcpool_user_fsb *f)
{
	f->cur = find_next_bit(f->addr, f->size, f->next);
	f->next = f->cur + 1;
	return f->cur < f->size;
}

#define for_each_set_bit(bit, addr, size)				\
	for (struct pcpool_user_fsb __fsb = { (addr), (size), 0, 0 };	\
	     pcpool_user_fsb_next(&__fsb) && ((bit) = __fsb.cur, true);)

static inline unsigned int hweight_long(unsigned long w)
{
	return (unsigned int)__builtin_popcountl(w);
}

static inline void bitmap_zero(unsigned long *dst, unsigned long nbits)
{
	memset(dst, 0, BITS_TO_LONGS(nbits) * sizeof(unsigned long));
}

static inline int ilog2(unsigned long n)
{
	return n ? BITS_PER_LONG - 1 - __builtin_clzl(n) : -1;
}

static inline unsigned long rounddown_pow_of_two(unsigned long n)
{
	return 1UL << ilog2(n);
}

static inline unsigned long int_sqrt(unsigned long x)
{
	unsigned long r = 0, b;

	if (x <= 1)
		return x;
	for (b = 1UL << (ilog2(x) & ~1); b; b >>= 2) {
		if (x >= r + b) {
			x -= r + b;
			r = (r >> 1) + b;
		} else {
			r >>= 1;
		}
	}
	return r;
}

/* ---- lists, the kernel's include/linux/list.h subset ---- */

struct list_head {
	struct list_head *next, *prev;
};

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline void INIT_LIST_HEAD(struct list_head *l)
{
	l->next = l;
	l->prev = l;
}

static inline void __list_add(struct list_head *n, struct list_head *prev,
			      struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

static inline void list_add(struct list_head *n, struct list_head *head)
{
	__list_add(n, head, head->next);
}

static inline void list_add_tail(struct list_head *n, struct list_head *head)
{
	__list_add(n, head->prev, head);
}

/* Poisoned like the kernel's, so a use after list_del() faults. */
#define LIST_POISON1	((struct list_head *)(uintptr_t)0x100)
#define LIST_POISON2	((struct list_head *)(uintptr_t)0x122)

static inline void list_del(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	e->next = LIST_POISON1;
	e->prev = LIST_POISON2;
}

static inline void list_del_init(struct list_head *e)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	INIT_LIST_HEAD(e);
}

static inline void list_move(struct list_head *e, struct list_head *head)
{
	e->next->prev = e->prev;
	e->prev->next = e->next;
	list_add(e, head);
}

static inline bool list_empty(const struct list_head *head)
{
	return READ_ONCE(head->next) == head;
}

static inline void list_splice_init(struct list_head *list,
				    struct list_head *head)
{
	if (!list_empty(list)) {
		struct list_head *first = list->next, *last = list->prev;

		first->prev = head;
		last->next = head->next;
		head->next->prev = last;
		head->next = first;
		INIT_LIST_HEAD(list);
	}
}

/* The iteration macros are left out: the core walks lists by hand. */
#define list_entry(ptr, type, member)	container_of(ptr, type, member)
#define list_first_entry(ptr, type, member) \
	list_entry((ptr)->next, type, member)
#define list_last_entry(ptr, type, member) \
	list_entry((ptr)->prev, type, member)

/*
 * ---- lock-free lists, include/linux/llist.h: any number of adders, one
 * deleter of everything at a time; release on add, acquire on del_all ----
 */

struct llist_node {
	struct llist_node *next;
};

struct llist_head {
	struct llist_node *first;
};

static inline void init_llist_head(struct llist_head *list)
{
	WRITE_ONCE(list->first, (struct llist_node *)NULL);
}

static inline bool llist_empty(const struct llist_head *head)
{
	return !READ_ONCE(head->first);
}

/* True if the list was empty before. */
static inline bool llist_add(struct llist_node *n, struct llist_head *head)
{
	struct llist_node *first = READ_ONCE(head->first);

	do {
		n->next = first;
	} while (!__atomic_compare_exchange_n(&head->first, &first, n, true,
					      __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	return !first;
}

static inline struct llist_node *llist_del_all(struct llist_head *head)
{
	return __atomic_exchange_n(&head->first, (struct llist_node *)NULL,
				   __ATOMIC_ACQUIRE);
}

/* ---- struct page model: one flat array, pfn = base + index ---- */

struct page {
	unsigned long flags;		/* unused by the core; tests may tag */
	struct list_head lru;
	unsigned long pg_private;	/* "private" is a C++ keyword */
};

extern struct page *pcpool_user_memmap;
extern unsigned long pcpool_user_memmap_base;

static inline unsigned long page_to_pfn(const struct page *page)
{
	return (unsigned long)(page - pcpool_user_memmap) +
	       pcpool_user_memmap_base;
}

static inline struct page *pfn_to_page(unsigned long pfn)
{
	return pcpool_user_memmap + (pfn - pcpool_user_memmap_base);
}

#define page_private(page)		((page)->pg_private)
#define set_page_private(page, v)	((page)->pg_private = (v))

/* ---- locks: a mutex, so trylock failure means "contended" ---- */

struct spinlock {
	pthread_mutex_t m;
};

#define spinlock_t struct spinlock

static inline void spin_lock_init(spinlock_t *l)
{
	pthread_mutex_init(&l->m, NULL);
}

static inline void spin_lock(spinlock_t *l)
{
	pthread_mutex_lock(&l->m);
}

static inline bool spin_trylock(spinlock_t *l)
{
	return pthread_mutex_trylock(&l->m) == 0;
}

static inline void spin_unlock(spinlock_t *l)
{
	pthread_mutex_unlock(&l->m);
}

/* ---- CPUs: each test thread says which "CPU" it is ---- */

extern __thread unsigned int pcpool_user_cpu;

static inline unsigned int raw_smp_processor_id(void)
{
	return pcpool_user_cpu;
}

static inline unsigned int get_cpu(void)
{
	return pcpool_user_cpu;
}

static inline void put_cpu(void)
{
}

static inline u64 local_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

#ifdef __cplusplus
}
#endif

#endif /* _PCPOOL_PLATFORM_H */
