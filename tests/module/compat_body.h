/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One check of kmod/compat.h, compiled once per kernel-API variant of the
 * shim (compat_61.c, compat_64.c, compat_68.c define PCPOOL_COMPAT_FN and
 * the variant first): the top order must come out the same, and a
 * shrinker registered through pcpool_shrinker_register() must be called
 * with its private pointer until it is unregistered.
 */
#include "compat.h"
#include "compat_check.h"
#include "pcpool_kshim_test.h"

_Static_assert(PCPOOL_MAX_ORDER == 10, "top order is 10 on every version");
_Static_assert(PCPOOL_NR_ORDERS == 11, "orders 0..10");

static void* compat_seen;
static unsigned long compat_scans;

static unsigned long compat_count(void* priv) {
  compat_seen = priv;
  return 1;
}

static unsigned long compat_scan(void* priv, unsigned long nr) {
  compat_scans++;
  return priv == compat_seen ? nr : 0;
}

int PCPOOL_COMPAT_FN(struct pcpool_compat_result* res) {
  static const struct pcpool_shrinker_ops ops = {
      .name = "pcpool-compat",
      .count = compat_count,
      .scan = compat_scan,
  };
  static int priv;
  struct pcpool_shrinker ps;
  unsigned int before = pcpool_kshim_nr_shrinkers();
  int ret;

#ifdef SHRINKER_ALLOCATED
  res->shrinker_alloc = true;
#else
  res->shrinker_alloc = false;
#endif
  res->max_order = PCPOOL_MAX_ORDER;
  compat_seen = NULL;
  compat_scans = 0;
  ret = pcpool_shrinker_register(&ps, &ops, &priv);
  if (ret) return ret;
  res->registered = pcpool_kshim_nr_shrinkers() - before;
  res->freed = pcpool_kshim_shrink(8);
  res->priv_ok = compat_seen == &priv;
  pcpool_shrinker_unregister(&ps);
  res->left = pcpool_kshim_nr_shrinkers() - before;
  res->freed_after = pcpool_kshim_shrink(8);
  res->scans = compat_scans;
  return 0;
}
