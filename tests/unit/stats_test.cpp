// SPDX-License-Identifier: GPL-2.0
#include "stats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace pcpool {
namespace {

ThreadResult T(Role role, int unit, uint64_t ops, uint64_t ns) {
  ThreadResult t;
  t.role = role;
  t.unit = unit;
  t.ops = ops;
  t.ns = ns;
  return t;
}

TEST(Stats, NsPerOpIsTotalNsOverTotalOps) {
  const std::vector<UnitTotals> units{{100, 1000}, {300, 9000}};
  const RunStats s = ComputeStats(units);
  EXPECT_EQ(s.ops, 400U);
  EXPECT_EQ(s.ns, 10000U);
  EXPECT_DOUBLE_EQ(*s.ns_per_op, 25.0);
  // 100/1000ns + 300/9000ns per ns = 0.1 + 0.0333.. ops/ns.
  EXPECT_DOUBLE_EQ(*s.ops_per_sec, 1e8 + 1e9 / 30);
}

TEST(Stats, OpsPerSecIsNotOpsOverNs) {
  // Two equal threads in parallel: twice one thread's rate, while ns/op
  // stays one thread's cost.
  const std::vector<UnitTotals> units{{1000, 2000}, {1000, 2000}};
  const RunStats s = ComputeStats(units);
  EXPECT_DOUBLE_EQ(*s.ns_per_op, 2.0);
  EXPECT_DOUBLE_EQ(*s.ops_per_sec, 1e9);
}

TEST(Stats, EmptyAndZeroTimeUnits) {
  EXPECT_FALSE(ComputeStats({}).ns_per_op.has_value());
  EXPECT_FALSE(ComputeStats({}).ops_per_sec.has_value());
  const std::vector<UnitTotals> units{{0, 0}, {10, 0}, {10, 100}};
  const RunStats s = ComputeStats(units);
  EXPECT_DOUBLE_EQ(*s.ns_per_op, 5.0);
  EXPECT_DOUBLE_EQ(*s.ops_per_sec, 1e8);  // the zero-time unit adds no rate
  const std::vector<UnitTotals> zero{{10, 0}};
  EXPECT_FALSE(ComputeStats(zero).ops_per_sec.has_value());
}

TEST(Stats, CrossPairSumsBothSidesAndCountsFreedBlocks) {
  const std::vector<ThreadResult> threads{
      T(Role::kProducer, 0, 1000, 3000), T(Role::kConsumer, 0, 1000, 5000),
      T(Role::kProducer, 1, 500, 1000),  T(Role::kConsumer, 1, 400, 1000),
      T(Role::kIdle, -1, 0, 0),
  };
  const std::vector<UnitTotals> units = SumUnits(threads);
  ASSERT_EQ(units.size(), 2U);
  EXPECT_EQ(units[0].ops, 1000U);
  EXPECT_EQ(units[0].ns, 8000U);
  EXPECT_EQ(units[1].ops, 400U);
  EXPECT_EQ(units[1].ns, 2000U);
  const RunStats s = ComputeStats(units);
  EXPECT_DOUBLE_EQ(*s.ns_per_op, 10000.0 / 1400.0);
  EXPECT_DOUBLE_EQ(*s.ops_per_sec, 1000.0 / 8000 * 1e9 + 400.0 / 2000 * 1e9);
}

TEST(Stats, WorkersAreTheirOwnUnits) {
  const std::vector<ThreadResult> threads{T(Role::kWorker, 0, 10, 100),
                                          T(Role::kWorker, 1, 20, 400)};
  const std::vector<UnitTotals> units = SumUnits(threads);
  ASSERT_EQ(units.size(), 2U);
  EXPECT_EQ(units[1].ops, 20U);
  EXPECT_EQ(units[1].ns, 400U);
}

TEST(Stats, ActiveThreadsSkipsIdle) {
  RunResult r;
  r.threads = {T(Role::kProducer, 0, 1, 1), T(Role::kConsumer, 0, 1, 1), T(Role::kIdle, -1, 0, 0)};
  EXPECT_EQ(r.active_threads(), 2U);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(RoleName(Role::kConsumer), "consumer");
}

}  // namespace
}  // namespace pcpool
