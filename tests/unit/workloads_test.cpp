// SPDX-License-Identifier: GPL-2.0
// Workload table, the selection mask, and how threads, sessions and
// channels are laid out (the scheduling the runner follows).
#include "workloads.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

namespace pcpool {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(Workloads, NamesRoundTripAndBitsFollowIds) {
  ASSERT_EQ(AllWorkloads().size(), kNumWorkloads);
  std::set<std::string_view> names;
  for (size_t i = 0; i < kNumWorkloads; i++) {
    const WorkloadInfo& w = AllWorkloads()[i];
    EXPECT_EQ(static_cast<size_t>(w.id), i);
    EXPECT_EQ(WorkloadFromName(w.name), w.id);
    EXPECT_EQ(WorkloadBit(w.id), uint64_t{1} << i);
    EXPECT_TRUE(names.insert(w.name).second);
    EXPECT_EQ(w.kernel_id >= 0, w.kind == WorkloadKind::kRun) << w.name;
  }
  EXPECT_EQ(WorkloadFromName("nope"), std::nullopt);
  EXPECT_EQ(RoleName(Role::kPurger), "purger");
}

TEST(Workloads, MaskSelectsInIdOrder) {
  std::string err;
  EXPECT_THAT(*WorkloadsFromMask(1 | 4 | 16, &err),
              ElementsAre(Workload::kRepeat, Workload::kBusy, Workload::kCross));
  EXPECT_EQ(WorkloadsFromMask((uint64_t{1} << kNumWorkloads) - 1, &err)->size(), kNumWorkloads);
  EXPECT_FALSE(WorkloadsFromMask(0, &err).has_value());
  EXPECT_THAT(err, HasSubstr("no workload"));
  EXPECT_FALSE(WorkloadsFromMask(uint64_t{1} << kNumWorkloads, &err).has_value());
  EXPECT_THAT(err, HasSubstr("bits above"));
}

TEST(Workloads, WhereTheyApply) {
  EXPECT_TRUE(Applies(Workload::kRepeat, BackendClass::kPages));
  EXPECT_TRUE(Applies(Workload::kRepeat, BackendClass::kPcpu));
  EXPECT_TRUE(Applies(Workload::kRandomSize, BackendClass::kVmalloc));
  EXPECT_FALSE(Applies(Workload::kRandomSize, BackendClass::kPages));
  EXPECT_FALSE(Applies(Workload::kLongBusy, BackendClass::kPcpu));
  EXPECT_TRUE(Applies(Workload::kLifecycle, BackendClass::kPcpu));
  EXPECT_FALSE(Applies(Workload::kSizes, BackendClass::kPages));
  EXPECT_TRUE(Applies(Workload::kExit, BackendClass::kVmalloc));
}

TEST(SplitOps, EvenAndRemainder) {
  EXPECT_THAT(SplitOps(10, 3), ElementsAre(4U, 3U, 3U));
  EXPECT_THAT(SplitOps(9, 3), ElementsAre(3U, 3U, 3U));
  EXPECT_THAT(SplitOps(2, 4), ElementsAre(1U, 1U, 0U, 0U));
  EXPECT_THAT(SplitOps(5, 0), IsEmpty());
}

// Every channel has one producer and one consumer who both list it, and
// the quotas add up on both sides.
void CheckConsistent(const ChannelPlan& p, uint64_t ops) {
  uint64_t total = 0;
  std::set<std::pair<size_t, uint32_t>> seen;
  for (size_t s = 0; s < p.slots.size(); s++) {
    const ChannelSlot& slot = p.slots[s];
    total += slot.quota;
    EXPECT_LT(slot.session, p.sessions);
    EXPECT_TRUE(seen.insert({slot.session, slot.chan}).second) << "channel used twice";
    ASSERT_LT(slot.producer, p.threads.size());
    ASSERT_LT(slot.consumer, p.threads.size());
    EXPECT_EQ(p.threads[slot.producer].role, Role::kProducer);
    const Role c = p.threads[slot.consumer].role;
    EXPECT_TRUE(c == Role::kConsumer || c == Role::kPurger);
    EXPECT_THAT(p.threads[slot.producer].slots, ::testing::Contains(s));
    EXPECT_THAT(p.threads[slot.consumer].slots, ::testing::Contains(s));
  }
  EXPECT_EQ(total, ops);
  uint64_t produced = 0;
  uint64_t consumed = 0;
  for (const ChannelThread& t : p.threads) {
    uint64_t q = 0;
    for (const size_t s : t.slots) {
      q += p.slots[s].quota;
    }
    EXPECT_EQ(q, t.quota);
    (t.role == Role::kProducer ? produced : consumed) += t.quota;
  }
  EXPECT_EQ(produced, ops);
  EXPECT_EQ(consumed, ops);
}

TEST(PlanChannels, CrossPairsWithASessionEachAndAnIdleOddThread) {
  const std::vector<int> cpus{0, 1, 2, 3, 4};
  const ChannelPlan p = PlanChannels(Workload::kCross, cpus, 1001, 0, 16);
  CheckConsistent(p, 1001);
  ASSERT_EQ(p.threads.size(), 5U);
  EXPECT_EQ(p.sessions, 2U);
  EXPECT_EQ(p.threads[0].role, Role::kProducer);
  EXPECT_EQ(p.threads[1].role, Role::kConsumer);
  EXPECT_EQ(p.threads[3].group, 1);
  EXPECT_EQ(p.threads[4].role, Role::kIdle);
  EXPECT_EQ(p.threads[1].quota, 501U);
  EXPECT_EQ(p.threads[3].quota, 500U);
  EXPECT_EQ(p.slots[1].session, 1U);
  EXPECT_EQ(p.slots[1].chan, 0U);
}

TEST(PlanChannels, FaninManyProducersOneConsumer) {
  const std::vector<int> cpus{3, 4, 5, 6};
  const ChannelPlan p = PlanChannels(Workload::kFanin, cpus, 100, 0, 16);
  CheckConsistent(p, 100);
  EXPECT_EQ(p.sessions, 1U);
  EXPECT_EQ(p.threads[3].role, Role::kConsumer);
  EXPECT_EQ(p.threads[3].cpu, 6);
  EXPECT_EQ(p.threads[3].slots.size(), 3U);
  EXPECT_EQ(p.threads[0].quota, 34U);
}

TEST(PlanChannels, FanoutOneProducerManyConsumers) {
  const std::vector<int> cpus{0, 1, 2};
  const ChannelPlan p = PlanChannels(Workload::kFanout, cpus, 10, 0, 16);
  CheckConsistent(p, 10);
  EXPECT_EQ(p.threads[0].role, Role::kProducer);
  EXPECT_EQ(p.threads[0].slots.size(), 2U);
  EXPECT_EQ(p.threads[1].quota, 5U);
}

TEST(PlanChannels, ChannelsSpillIntoMoreSessions) {
  std::vector<int> cpus(6);
  std::iota(cpus.begin(), cpus.end(), 0);
  const ChannelPlan p = PlanChannels(Workload::kFanin, cpus, 50, 0, 2);
  CheckConsistent(p, 50);
  EXPECT_EQ(p.sessions, 3U) << "5 producers, 2 channels per session";
}

TEST(PlanChannels, PurgersAreExtraThreadsOnTheLastCpus) {
  const std::vector<int> cpus{0, 1, 2, 3};
  const ChannelPlan p = PlanChannels(Workload::kPurger, cpus, 400, 2, 16);
  CheckConsistent(p, 400);
  ASSERT_EQ(p.threads.size(), 6U);
  for (size_t i = 0; i < 4; i++) {
    EXPECT_EQ(p.threads[i].role, Role::kProducer);
    EXPECT_EQ(p.threads[i].cpu, cpus[i]);
  }
  EXPECT_EQ(p.threads[4].role, Role::kPurger);
  EXPECT_EQ(p.threads[4].cpu, 2);
  EXPECT_EQ(p.threads[5].cpu, 3);
  EXPECT_EQ(p.threads[4].quota, 200U);
  // More purgers than CPUs: one per CPU.
  EXPECT_EQ(PlanChannels(Workload::kPurger, cpus, 8, 9, 16).threads.size(), 8U);
}

uint64_t Allocated(const HandleThread& t) {
  uint64_t n = 0;
  for (const HandleChunk& c : t.allocs) {
    n += c.count;
  }
  return n;
}

TEST(PlanHandles, ExitSpreadsEveryonesBlocksOverTheFreers) {
  const std::vector<int> cpus{0, 1, 2};
  const HandlePlan p = PlanHandles(Workload::kExit, cpus, 10000, 2, 1000, 1);
  EXPECT_EQ(p.sessions, 2U);
  ASSERT_EQ(p.threads.size(), 3U);
  EXPECT_EQ(p.threads[0].frees_session, 0);
  EXPECT_EQ(p.threads[1].frees_session, 1);
  EXPECT_EQ(p.threads[2].frees_session, -1);
  EXPECT_EQ(p.threads[2].role, Role::kAllocator);
  std::map<size_t, uint64_t> per_session;
  uint64_t total = 0;
  for (const HandleThread& t : p.threads) {
    for (const HandleChunk& c : t.allocs) {
      EXPECT_LE(c.count, 1000U);
      per_session[c.session] += c.count;
    }
    total += Allocated(t);
  }
  EXPECT_EQ(total, 10000U);
  EXPECT_EQ(per_session[0], 5001U);
  EXPECT_EQ(per_session[1], 4999U);
  EXPECT_EQ(Allocated(p.threads[0]), 3334U);
}

TEST(PlanHandles, RandChunksGoToSeededRandomSessions) {
  const std::vector<int> cpus{0, 1, 2, 3};
  const HandlePlan a = PlanHandles(Workload::kRand, cpus, 4000, 0, 10, 42);
  const HandlePlan b = PlanHandles(Workload::kRand, cpus, 4000, 0, 10, 42);
  const HandlePlan c = PlanHandles(Workload::kRand, cpus, 4000, 0, 10, 43);
  EXPECT_EQ(a.sessions, 4U);
  std::set<size_t> used;
  bool same = true;
  bool differs = false;
  for (size_t i = 0; i < 4; i++) {
    EXPECT_EQ(a.threads[i].frees_session, static_cast<int>(i));
    EXPECT_EQ(Allocated(a.threads[i]), 1000U);
    ASSERT_EQ(a.threads[i].allocs.size(), 100U);
    for (size_t k = 0; k < 100; k++) {
      used.insert(a.threads[i].allocs[k].session);
      same = same && a.threads[i].allocs[k].session == b.threads[i].allocs[k].session;
      differs = differs || a.threads[i].allocs[k].session != c.threads[i].allocs[k].session;
    }
  }
  EXPECT_TRUE(same) << "the same seed gives the same plan";
  EXPECT_TRUE(differs) << "another seed gives another plan";
  EXPECT_EQ(used.size(), 4U) << "chunks reach every session";
}

}  // namespace
}  // namespace pcpool
