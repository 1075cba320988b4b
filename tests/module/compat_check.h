/* SPDX-License-Identifier: GPL-2.0 */
/* What each compat_*.c unit saw of kmod/compat.h (compat_body.h). */
#ifndef PCPOOL_COMPAT_CHECK_H
#define PCPOOL_COMPAT_CHECK_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pcpool_compat_result {
  bool shrinker_alloc;       /* compat.h took the 6.7+ branch */
  unsigned int max_order;    /* PCPOOL_MAX_ORDER */
  unsigned int registered;   /* shrinkers added by register */
  unsigned long freed;       /* one shrink pass while registered */
  bool priv_ok;              /* the callbacks saw our pointer */
  unsigned int left;         /* shrinkers left after unregister */
  unsigned long freed_after; /* a shrink pass after unregister */
  unsigned long scans;       /* scan calls in all */
};

/* 6.1: MAX_ORDER exclusive, register_shrinker(). */
int pcpool_compat_61(struct pcpool_compat_result* res);
/* 6.4..6.6: MAX_ORDER inclusive, register_shrinker(). */
int pcpool_compat_64(struct pcpool_compat_result* res);
/* 6.8+: MAX_PAGE_ORDER, shrinker_alloc(). */
int pcpool_compat_68(struct pcpool_compat_result* res);

#ifdef __cplusplus
}
#endif

#endif /* PCPOOL_COMPAT_CHECK_H */
