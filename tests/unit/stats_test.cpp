// SPDX-License-Identifier: GPL-2.0
#include "stats.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

ThreadResult T(Role role, uint64_t ops, uint64_t ns) {
  ThreadResult t;
  t.role = role;
  t.ops = ops;
  t.allocs = ops;
  t.frees = ops;
  t.ns = ns;
  return t;
}

RunSpec Spec(Workload w) {
  RunSpec s;
  s.workload = w;
  return s;
}

TEST(Stats, RunWorkloadsSumThreadRates) {
  const std::vector<ThreadResult> threads{T(Role::kWorker, 100, 1000), T(Role::kWorker, 300, 9000)};
  const RunStats s = ComputeStats(Spec(Workload::kRepeat), threads);
  EXPECT_EQ(s.ops, 400U);
  EXPECT_EQ(s.ns, 10000U);
  EXPECT_DOUBLE_EQ(*s.ns_per_op, 25.0);
  // 100/1000ns + 300/9000ns per ns.
  EXPECT_DOUBLE_EQ(*s.ops_per_sec, 1e8 + 1e9 / 30);
  EXPECT_FALSE(s.alloc_ns_per_block.has_value()) << "repeat does not time the halves";
}

TEST(Stats, TwoEqualThreadsDoubleTheRateNotTheCost) {
  const std::vector<ThreadResult> threads{T(Role::kWorker, 1000, 2000),
                                          T(Role::kWorker, 1000, 2000)};
  const RunStats s = ComputeStats(Spec(Workload::kBulk), threads);
  EXPECT_DOUBLE_EQ(*s.ns_per_op, 2.0);
  EXPECT_DOUBLE_EQ(*s.ops_per_sec, 1e9);
}

TEST(Stats, EmptyAndZeroTime) {
  const RunStats e = ComputeStats(Spec(Workload::kRepeat), {});
  EXPECT_FALSE(e.ns_per_op.has_value());
  EXPECT_FALSE(e.ops_per_sec.has_value());
  const std::vector<ThreadResult> threads{T(Role::kWorker, 10, 0), T(Role::kWorker, 10, 100)};
  const RunStats s = ComputeStats(Spec(Workload::kRepeat), threads);
  EXPECT_DOUBLE_EQ(*s.ns_per_op, 5.0);
  EXPECT_DOUBLE_EQ(*s.ops_per_sec, 1e8);  // the zero-time thread adds no rate
}

TEST(Stats, BulkHalvesPerBlock) {
  ThreadResult t = T(Role::kWorker, 100, 5000);
  t.alloc_ns = 3000;
  t.free_ns = 1000;
  const RunStats s = ComputeStats(Spec(Workload::kBulk), std::vector<ThreadResult>{t});
  EXPECT_DOUBLE_EQ(*s.alloc_ns_per_block, 30.0);
  EXPECT_DOUBLE_EQ(*s.free_ns_per_block, 10.0);
  EXPECT_DOUBLE_EQ(*s.alloc_ops_per_sec, 100.0 / 3000 * 1e9);
}

ThreadResult Side(Role role, uint64_t allocs, uint64_t frees, uint64_t alloc_ns, uint64_t free_ns) {
  ThreadResult t;
  t.role = role;
  t.allocs = allocs;
  t.frees = frees;
  t.alloc_ns = alloc_ns;
  t.free_ns = free_ns;
  t.ns = alloc_ns + free_ns;
  return t;
}

TEST(Stats, ChannelRunsAtTheSlowerSide) {
  // Fan-in: two producers at 10M/s each, one consumer at 5M/s.
  const std::vector<ThreadResult> threads{
      Side(Role::kProducer, 1000, 0, 100000, 0), Side(Role::kProducer, 1000, 0, 100000, 0),
      Side(Role::kConsumer, 0, 2000, 0, 400000), Side(Role::kIdle, 0, 0, 0, 0)};
  const RunStats s = ComputeStats(Spec(Workload::kFanin), threads);
  EXPECT_EQ(s.ops, 2000U) << "blocks freed";
  EXPECT_DOUBLE_EQ(*s.alloc_ops_per_sec, 2e7);
  EXPECT_DOUBLE_EQ(*s.free_ops_per_sec, 5e6);
  EXPECT_DOUBLE_EQ(*s.ops_per_sec, 5e6);
  EXPECT_DOUBLE_EQ(*s.ns_per_op, 600000.0 / 2000);
}

TEST(Stats, HandlePhasesAddUp) {
  // Allocation at 10M/s, free at 40M/s, one after the other: 8M/s.
  const std::vector<ThreadResult> threads{Side(Role::kFreer, 1000, 2000, 100000, 50000),
                                          Side(Role::kAllocator, 1000, 0, 100000, 0)};
  const RunStats s = ComputeStats(Spec(Workload::kExit), threads);
  EXPECT_DOUBLE_EQ(*s.alloc_ops_per_sec, 2e7);
  EXPECT_DOUBLE_EQ(*s.free_ops_per_sec, 4e7);
  EXPECT_DOUBLE_EQ(*s.ops_per_sec, 1.0 / (1.0 / 2e7 + 1.0 / 4e7));
  EXPECT_EQ(s.ops, 2000U);
}

TEST(Stats, OverheadUsesTheUserspaceClockExceptTheLoop) {
  ThreadResult t = T(Role::kWorker, 1000, 50000);
  t.user_ns = 2000000;
  RunSpec spec = Spec(Workload::kOverhead);
  EXPECT_DOUBLE_EQ(*ComputeStats(spec, std::vector<ThreadResult>{t}).ops_per_sec, 5e5);
  EXPECT_DOUBLE_EQ(*ComputeStats(spec, std::vector<ThreadResult>{t}).user_ns_per_op, 2000.0);
  spec.loop = true;
  EXPECT_DOUBLE_EQ(*ComputeStats(spec, std::vector<ThreadResult>{t}).ops_per_sec, 2e7);
}

TEST(Stats, LatencyAndBackoffsMerge) {
  ThreadResult a = T(Role::kWorker, 10, 100);
  ThreadResult b = T(Role::kWorker, 10, 100);
  a.latency.alloc.Record(100);
  b.latency.alloc.Record(300);
  b.backoffs = 2;
  const RunStats s = ComputeStats(Spec(Workload::kChurn), std::vector<ThreadResult>{a, b});
  EXPECT_EQ(s.latency.alloc.Count(), 2U);
  EXPECT_EQ(s.latency.alloc.Max(), 300U);
  EXPECT_EQ(s.backoffs, 2U);
}

RunResult Counted(Workload w, uint64_t ops, CounterDeltas c) {
  RunResult r;
  r.spec.workload = w;
  r.stats.ops = ops;
  r.counters = std::move(c);
  return r;
}

TEST(Stats, CountersPer1000Ops) {
  const RunResult r = Counted(Workload::kRepeat, 2000, {{"allocs", 2000}, {"zone_lock", 50}});
  EXPECT_THAT(CountersPer1000(r), ElementsAre(Pair("allocs", 1000.0), Pair("zone_lock", 25.0)));
  EXPECT_THAT(CountersPer1000(Counted(Workload::kRepeat, 0, {{"a", 1}})), IsEmpty());
  RunResult none;
  EXPECT_THAT(CountersPer1000(none), IsEmpty());
}

TEST(Stats, AccountingBalancesOrSaysWhy) {
  const CounterDeltas good{
      {"allocs", 100}, {"frees", 100}, {"pages_allocated", 800}, {"pages_freed", 800}};
  RunResult r = Counted(Workload::kRepeat, 100, good);
  r.outstanding_pages_after = 0;
  EXPECT_THAT(AccountingProblems(r), IsEmpty());

  r = Counted(Workload::kRepeat, 100,
              {{"allocs", 100}, {"frees", 99}, {"pages_allocated", 8}, {"pages_freed", 8}});
  EXPECT_THAT(AccountingProblems(r), ElementsAre(HasSubstr("allocs 100 != frees 99")));

  r = Counted(Workload::kBusy, 100, good);
  r.spec.live = 50;
  EXPECT_THAT(AccountingProblems(r), ElementsAre(HasSubstr("allocs 100 < 150")));

  r = Counted(Workload::kRepeat, 100, good);
  r.outstanding_pages_after = 4;
  EXPECT_THAT(AccountingProblems(r), ElementsAre(HasSubstr("4 pages outstanding")));
}

TEST(Stats, ActiveThreadsSkipsIdle) {
  RunResult r;
  r.threads = {T(Role::kProducer, 1, 1), T(Role::kConsumer, 1, 1), T(Role::kIdle, 0, 0)};
  EXPECT_EQ(r.active_threads(), 2U);
  EXPECT_TRUE(r.ok());
}

}  // namespace
}  // namespace pcpool
