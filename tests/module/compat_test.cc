// SPDX-License-Identifier: GPL-2.0
// kmod/compat.h compiled against each kernel-API variant of the shim.
#include <gtest/gtest.h>

#include "compat_check.h"

namespace {

void ExpectWorks(const pcpool_compat_result& r) {
  EXPECT_EQ(r.max_order, 10U);
  EXPECT_EQ(r.registered, 1U);
  EXPECT_TRUE(r.priv_ok);
  EXPECT_EQ(r.freed, 8UL);  // nr_to_scan, as scan returned it
  EXPECT_EQ(r.left, 0U);
  EXPECT_EQ(r.freed_after, 0UL);
  EXPECT_EQ(r.scans, 1UL);
}

TEST(Compat, Linux61RegisterShrinker) {
  pcpool_compat_result r{};
  ASSERT_EQ(pcpool_compat_61(&r), 0);
  EXPECT_FALSE(r.shrinker_alloc);
  ExpectWorks(r);
}

TEST(Compat, Linux64InclusiveMaxOrder) {
  pcpool_compat_result r{};
  ASSERT_EQ(pcpool_compat_64(&r), 0);
  EXPECT_FALSE(r.shrinker_alloc);
  ExpectWorks(r);
}

TEST(Compat, Linux68ShrinkerAlloc) {
  pcpool_compat_result r{};
  ASSERT_EQ(pcpool_compat_68(&r), 0);
  EXPECT_TRUE(r.shrinker_alloc);
  ExpectWorks(r);
}

}  // namespace
