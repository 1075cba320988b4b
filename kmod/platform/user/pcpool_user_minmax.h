/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pcpool userspace platforms: the kernel's min()/max() family, shared by
 * the core platform (pcpool_platform.h) and the kernel API shim
 * (include/pcpool_kshim.h).  Statement expressions: each argument once.
 */
#ifndef _PCPOOL_USER_MINMAX_H
#define _PCPOOL_USER_MINMAX_H

#ifndef __cplusplus	/* would shadow std::min/std::max in the tests */
#define min(a, b) __extension__({					\
	__typeof__(a) __a = (a);					\
	__typeof__(b) __b = (b);					\
	__a < __b ? __a : __b;						\
})
#define max(a, b) __extension__({					\
	__typeof__(a) __a = (a);					\
	__typeof__(b) __b = (b);					\
	__a > __b ? __a : __b;						\
})
#define min_t(type, a, b) __extension__({				\
	type __a = (a);							\
	type __b = (b);							\
	__a < __b ? __a : __b;						\
})
#define max_t(type, a, b) __extension__({				\
	type __a = (a);							\
	type __b = (b);							\
	__a > __b ? __a : __b;						\
})
#define clamp(v, lo, hi)	min(max(v, lo), hi)
#define clamp_t(type, v, lo, hi) min_t(type, max_t(type, v, lo), hi)
#endif

#endif /* _PCPOOL_USER_MINMAX_H */
