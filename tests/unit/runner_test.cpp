// SPDX-License-Identifier: GPL-2.0
// Workload scheduling of ExecuteRun against a fake session: shares,
// chunking, roles, channels, handle phases, overhead paths, pinning, error
// paths and counter deltas.
//
// The fake stays for what the real code cannot be told to do: fixed times
// per block (the exact ns and rate assertions), errors on demand, counter
// files rewritten per call. The same runner paths over the real module
// layer (cmd.c, session.c, chan.c, run.c in userspace) are
// tests/module/runner_module_test.cc.
#include "runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cpu.h"
#include "hist.h"

namespace pcpool {
namespace {

using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Pair;

// Process-wide state shared by the fake sessions of one test.
struct FakeKernel {
  uint64_t ns_per_block = 10;
  size_t chan_capacity = 100;
  // Allocations fail with -ENOMEM once this many blocks were allocated.
  uint64_t alloc_limit = UINT64_MAX;
  // RUN returns this error (after doing nothing) when non-zero.
  int run_error = 0;
  bool zone = false;          // FRAG answers (a zone backend), else -EOPNOTSUPP
  std::string counters_path;  // rewritten with "allocs N" after each call

  std::mutex lock;
  uint64_t allocs = 0;
  uint64_t frees = 0;
  uint64_t max_run_ops = 0;
  uint64_t run_calls = 0;
  uint64_t batch_calls = 0;
  std::vector<pcpool_run> runs;  // every RUN argument as passed
  std::vector<Submit> opened;    // submit mode of each session opened
  std::atomic<int> sessions_open{0};

  // Takes @n allocations if the limit allows; returns how many.
  uint64_t Take(uint64_t n) {
    const std::lock_guard<std::mutex> guard(lock);
    const uint64_t got = std::min(n, alloc_limit - std::min(alloc_limit, allocs));
    allocs += got;
    Write();
    return got;
  }
  void Give(uint64_t n) {
    const std::lock_guard<std::mutex> guard(lock);
    frees += n;
    Write();
  }
  void Write() const {
    if (!counters_path.empty()) {
      // A level (marked, and one the harness knows) that follows the
      // blocks live: it must come out as before/after, not as a delta.
      std::ofstream(counters_path)
          << "allocs " << allocs << "\nfrees " << frees << "\nzone_free_pages "
          << 100 - (allocs - frees) << "\nlive " << allocs - frees << " gauge\n";
    }
  }
};

class FakeSession : public Session {
 public:
  explicit FakeSession(FakeKernel* k) : k_(k) { k_->sessions_open++; }
  ~FakeSession() override { k_->sessions_open--; }
  FakeSession(const FakeSession&) = delete;
  FakeSession& operator=(const FakeSession&) = delete;
  FakeSession(FakeSession&&) = delete;
  FakeSession& operator=(FakeSession&&) = delete;

  Result<pcpool_run> Run(pcpool_run r, pcpool_hist* hist) const override {
    r.cpu = r.cpu_end = sched_getcpu();
    if (hist != nullptr) {  // as Device::Run does
      r.flags |= PCPOOL_RUN_HIST;
      r.hist = reinterpret_cast<uintptr_t>(hist);
    }
    {
      const std::lock_guard<std::mutex> guard(k_->lock);
      k_->run_calls++;
      k_->max_run_ops = std::max<uint64_t>(k_->max_run_ops, r.ops);
      k_->runs.push_back(r);
    }
    if (k_->run_error != 0) {
      return {k_->run_error, r};
    }
    if (r.workload == PCPOOL_WL_REPEAT && r.batch != 0) {
      return {-EINVAL, r};
    }
    r.done = k_->Take(r.ops);
    k_->Give(r.done);
    r.ns = r.done * k_->ns_per_block;
    if (r.workload == PCPOOL_WL_BULK) {
      r.alloc_ns = r.ns / 2;
      r.free_ns = r.ns / 4;
    }
    if (r.workload == PCPOOL_WL_CHURN) {
      r.backoffs = 1;
    }
    if ((r.flags & PCPOOL_RUN_FRAG) != 0) {
      // Taken with the call's set live: 1 block, r.ops pages out of it.
      auto* f = reinterpret_cast<pcpool_frag*>(r.frag);
      f->block_order = 9;
      f->zone.blocks_held = 1;
      f->zone.free_pages = 512 - r.ops;
    }
    if (hist != nullptr) {
      // One timed allocation and free per op, at 100 and 20 ns.
      *hist = pcpool_hist{};
      hist->alloc[LatencyHistogram::Bucket(100)] = r.done;
      hist->alloc_sum_ns = 100 * r.done;
      hist->alloc_max_ns = r.done != 0 ? 100 : 0;
      hist->free[LatencyHistogram::Bucket(20)] = r.done;
      hist->free_sum_ns = 20 * r.done;
      hist->free_max_ns = r.done != 0 ? 20 : 0;
    }
    return {r.done == r.ops ? 0 : -ENOMEM, r};
  }

  int RunBatch(std::span<pcpool_run> args, std::span<int> res) const override {
    {
      const std::lock_guard<std::mutex> guard(k_->lock);
      k_->batch_calls++;
    }
    return Session::RunBatch(args, res);
  }

  Result<pcpool_chan> ChanAlloc(uint32_t chan, uint32_t backend, uint32_t order,
                                uint64_t count) const override {
    pcpool_chan c{};
    c.chan = chan;
    c.backend = backend;
    c.order = order;
    c.cpu = sched_getcpu();
    const std::lock_guard<std::mutex> guard(lock_);
    std::deque<int>& fifo = fifos_[chan];
    const uint64_t room = std::min<uint64_t>(count, k_->chan_capacity - fifo.size());
    c.done = k_->Take(room);
    fifo.insert(fifo.end(), c.done, 1);
    c.ns = c.done * k_->ns_per_block;
    c.fill = fifo.size();
    return {c.done < room ? -ENOMEM : 0, c};
  }

  Result<pcpool_chan> ChanFree(uint32_t chan, uint64_t count) const override {
    pcpool_chan c{};
    c.chan = chan;
    c.cpu = sched_getcpu();
    const std::lock_guard<std::mutex> guard(lock_);
    std::deque<int>& fifo = fifos_[chan];
    while (c.done < count && !fifo.empty()) {
      fifo.pop_front();
      c.done++;
    }
    k_->Give(c.done);
    c.ns = c.done * 2 * k_->ns_per_block;
    c.fill = fifo.size();
    return {0, c};
  }

  Result<pcpool_alloc> Alloc(uint32_t backend, uint32_t order,
                             std::span<uint64_t> handles) const override {
    pcpool_alloc a{};
    a.backend = backend;
    a.order = order;
    a.count = handles.size();
    a.cpu = sched_getcpu();
    const uint64_t got = k_->Take(handles.size());
    if (got != handles.size()) {
      k_->Give(got);  // all or nothing
      return {-ENOMEM, a};
    }
    const std::lock_guard<std::mutex> guard(lock_);
    for (uint64_t& h : handles) {
      h = ++next_;
      live_.insert(h);
    }
    a.ns = got * k_->ns_per_block;
    return {0, a};
  }

  // Blocks live when asked, in zone.partial_blocks; the flags in drained.
  Result<pcpool_frag> Frag(uint32_t backend, uint32_t flags) const override {
    pcpool_frag f{};
    f.backend = backend;
    if (!k_->zone) {
      return {-EOPNOTSUPP, f};
    }
    const std::lock_guard<std::mutex> guard(k_->lock);
    f.zone.partial_blocks = k_->allocs - k_->frees;
    f.drained.blocks_held = flags;
    return {0, f};
  }

  Result<pcpool_free> Free(std::span<const uint64_t> handles,
                           std::span<int32_t> /*status*/) const override {
    pcpool_free f{};
    f.count = handles.size();
    f.cpu = sched_getcpu();
    const std::lock_guard<std::mutex> guard(lock_);
    for (const uint64_t h : handles) {
      f.freed += live_.erase(h);
    }
    k_->Give(f.freed);
    f.ns = f.freed * 3 * k_->ns_per_block;
    return {f.freed == f.count ? 0 : -ENOENT, f};
  }

 private:
  FakeKernel* k_;
  mutable std::mutex lock_;
  mutable std::map<uint32_t, std::deque<int>> fifos_;
  mutable std::set<uint64_t> live_;
  mutable uint64_t next_ = 0;
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.open_session = [this](Submit s) -> Result<std::unique_ptr<Session>> {
      kernel_.opened.push_back(s);
      return {0, std::make_unique<FakeSession>(&kernel_)};
    };
    cfg_.debugfs = "/nonexistent";
    allowed_ = AllowedCpus();
    ASSERT_FALSE(allowed_.empty());
  }

  RunSpec Spec(Workload w, unsigned threads, uint64_t ops, uint32_t batch) {
    RunSpec s;
    s.backend = PCPOOL_BACKEND_NULL;
    s.workload = w;
    s.order = 1;
    s.cpus = CpusForThreads(threads, allowed_);
    s.ops = ops;
    s.batch = batch;
    s.seed = 7;
    return s;
  }

  FakeKernel kernel_;
  RunnerConfig cfg_;
  std::vector<int> allowed_;
};

TEST_F(RunnerTest, RepeatSplitsOpsAndSumsKernelTime) {
  Progress progress;
  const RunResult r = ExecuteRun(Spec(Workload::kRepeat, 3, 1000, 0), cfg_, &progress);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.threads.size(), 3U);
  EXPECT_EQ(r.threads[0].ops, 334U);
  EXPECT_EQ(r.threads[1].ops, 333U);
  EXPECT_EQ(r.threads[2].ops, 333U);
  for (const ThreadResult& t : r.threads) {
    EXPECT_EQ(t.role, Role::kWorker);
    EXPECT_EQ(t.ns, t.ops * 10);
    EXPECT_EQ(t.cpu, allowed_[t.thread % allowed_.size()]);
    // The fake reports sched_getcpu(): proof the worker was pinned first.
    EXPECT_EQ(t.kernel_cpu, t.cpu);
    EXPECT_FALSE(t.migrated);
    EXPECT_EQ(t.error, "");
    EXPECT_GT(t.user_ns, 0U);
  }
  EXPECT_EQ(r.stats.ops, 1000U);
  EXPECT_EQ(r.stats.ns, 10000U);
  EXPECT_DOUBLE_EQ(*r.stats.ns_per_op, 10.0);
  EXPECT_DOUBLE_EQ(*r.stats.ops_per_sec, 3e8);
  EXPECT_EQ(progress.done.load(), 1000U);
  EXPECT_EQ(kernel_.allocs, 1000U);
  EXPECT_EQ(kernel_.sessions_open.load(), 0) << "sessions closed after the run";
  EXPECT_THAT(kernel_.opened, ElementsAre(Submit::kIoctl, Submit::kIoctl, Submit::kIoctl));
  EXPECT_GT(r.wall_ns, 0U);
  for (const pcpool_run& run : kernel_.runs) {
    EXPECT_EQ(run.workload, static_cast<uint32_t>(PCPOOL_WL_REPEAT));
    EXPECT_EQ(run.seed, 0U) << "repeat takes no seed";
    EXPECT_EQ(run.flags, 0U);
    EXPECT_EQ(run.order, 1U);
  }
}

TEST_F(RunnerTest, BulkCallsAreWholeBatchesOfAtMostAChunk) {
  cfg_.chunk_ops = 100;
  const RunResult r = ExecuteRun(Spec(Workload::kBulk, 1, 1000, 64), cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(kernel_.max_run_ops, 64U);
  EXPECT_EQ(kernel_.run_calls, 16U);  // 15 x 64 + 40
  EXPECT_EQ(r.threads[0].calls, 16U);
  EXPECT_EQ(r.stats.ops, 1000U);
  // The kernel's halves: alloc 5 ns, free 2.5 ns a block in the fake.
  EXPECT_DOUBLE_EQ(*r.stats.alloc_ns_per_block, 5.0);
  EXPECT_DOUBLE_EQ(*r.stats.free_ns_per_block, 2.5);
}

TEST_F(RunnerTest, LiveSetWorkloadsPassLiveAsBatchAndSeedEveryThreadApart) {
  cfg_.chunk_ops = 10;
  RunSpec spec = Spec(Workload::kBusy, 2, 2000, 64);
  spec.live = 50;
  const RunResult r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  // Calls of max(chunk, 16 x live) = 800 ops, so the untimed refill stays small.
  EXPECT_EQ(kernel_.max_run_ops, 800U);
  std::set<uint64_t> seeds;
  for (const pcpool_run& run : kernel_.runs) {
    EXPECT_EQ(run.workload, static_cast<uint32_t>(PCPOOL_WL_BUSY));
    EXPECT_EQ(run.batch, 50U);
    EXPECT_TRUE(seeds.insert(run.seed).second) << "a seed per thread and call";
  }
  EXPECT_EQ(seeds.size(), 4U);
  EXPECT_EQ(ThreadSeed(7, 0, 0), ThreadSeed(7, 0, 0));
  EXPECT_NE(ThreadSeed(7, 0, 0), ThreadSeed(7, 1, 0));
  EXPECT_NE(ThreadSeed(7, 0, 0), ThreadSeed(7, 0, 1));
}

TEST_F(RunnerTest, ChurnCountsBackoffs) {
  RunSpec spec = Spec(Workload::kChurn, 2, 100, 64);
  spec.live = 16;
  const RunResult r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.stats.backoffs, 2U) << "one per call in the fake";
}

TEST_F(RunnerTest, LatencyHistogramsAreRequestedAndMerged) {
  RunSpec spec = Spec(Workload::kRepeat, 2, 500, 0);
  spec.latency = true;
  spec.sample_shift = 3;
  const RunResult r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  for (const pcpool_run& run : kernel_.runs) {
    EXPECT_EQ(run.flags, PCPOOL_RUN_HIST);
    EXPECT_NE(run.hist, 0U);
  }
  EXPECT_EQ(r.threads[0].latency.alloc.Count(), 250U);
  EXPECT_EQ(r.stats.latency.alloc.Count(), 500U);
  EXPECT_EQ(r.stats.latency.free.Max(), 20U);
  EXPECT_EQ(*r.stats.latency.alloc.Percentile(99), 100U);
}

// Channel and handle workloads time whole commands: with --latency every
// command adds its blocks at its mean, no RUN histogram involved.
TEST_F(RunnerTest, BatchedWorkloadsRecordEachCommandsMeanPerBlock) {
  for (const Workload w : {Workload::kCross, Workload::kExit}) {
    RunSpec spec = Spec(w, 2, 1000, 64);
    spec.latency = true;
    spec.freers = 1;
    const RunResult r = ExecuteRun(spec, cfg_, nullptr);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_TRUE(r.stats.latency.per_call);
    EXPECT_EQ(r.stats.latency.alloc.Count(), 1000U) << WorkloadName(w);
    EXPECT_EQ(r.stats.latency.free.Count(), 1000U) << WorkloadName(w);
    // The fake takes 10 ns a block to allocate, 20 (cross) or 30 (exit) to free.
    EXPECT_EQ(r.stats.latency.alloc.Max(), 10U);
    EXPECT_EQ(r.stats.latency.free.Sum(), r.stats.free_ns);
  }
  RunSpec plain = Spec(Workload::kCross, 2, 1000, 64);
  EXPECT_TRUE(ExecuteRun(plain, cfg_, nullptr).stats.latency.Empty()) << "only with --latency";
}

TEST_F(RunnerTest, PerCpuWorkloadsGetNoHistogram) {
  RunSpec spec = Spec(Workload::kLifecycle, 1, 10, 2);
  spec.latency = true;
  const RunResult r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(kernel_.runs.at(0).flags, 0U);
  EXPECT_EQ(kernel_.runs.at(0).workload, static_cast<uint32_t>(PCPOOL_WL_PCPU_LIFECYCLE));
  EXPECT_EQ(kernel_.runs.at(0).batch, 2U);
  EXPECT_TRUE(r.stats.latency.Empty());
}

TEST_F(RunnerTest, RepeatPassesBatchZero) {
  // The fake rejects REPEAT with a batch, as the module does.
  const RunResult r = ExecuteRun(Spec(Workload::kRepeat, 1, 10, 64), cfg_, nullptr);
  EXPECT_TRUE(r.ok()) << r.error;
}

TEST_F(RunnerTest, CrossPairsThreadsAndIdlesTheOddOne) {
  kernel_.chan_capacity = 10;  // forces the producer to wait on a full channel
  Progress progress;
  const RunResult r = ExecuteRun(Spec(Workload::kCross, 3, 1000, 64), cfg_, &progress);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.threads.size(), 3U);
  EXPECT_EQ(r.threads[0].role, Role::kProducer);
  EXPECT_EQ(r.threads[1].role, Role::kConsumer);
  EXPECT_EQ(r.threads[2].role, Role::kIdle);
  EXPECT_EQ(r.threads[0].allocs, 1000U);
  EXPECT_EQ(r.threads[1].frees, 1000U);
  EXPECT_EQ(r.threads[2].frees, 0U);
  EXPECT_EQ(r.active_threads(), 2U);
  EXPECT_EQ(r.threads[0].ns, 10000U);
  EXPECT_EQ(r.threads[1].ns, 20000U);
  EXPECT_EQ(r.stats.ops, 1000U);
  EXPECT_EQ(r.stats.ns, 30000U);  // both sides summed
  EXPECT_DOUBLE_EQ(*r.stats.ns_per_op, 30.0);
  // Producer 100M blocks/s, consumer 50M/s: the pipeline runs at 50M/s.
  EXPECT_DOUBLE_EQ(*r.stats.ops_per_sec, 5e7);
  EXPECT_EQ(progress.done.load(), 1000U);
  EXPECT_EQ(kernel_.sessions_open.load(), 0);
  EXPECT_EQ(kernel_.opened.size(), 1U) << "one session per pair";
}

TEST_F(RunnerTest, FaninAndFanoutMoveEveryBlock) {
  for (const Workload w : {Workload::kFanin, Workload::kFanout}) {
    kernel_.allocs = kernel_.frees = 0;
    kernel_.opened.clear();
    const RunResult r = ExecuteRun(Spec(w, 4, 999, 16), cfg_, nullptr);
    ASSERT_TRUE(r.ok()) << WorkloadName(w) << ": " << r.error;
    EXPECT_THAT(r.threads, Each(Field(&ThreadResult::error, "")));
    EXPECT_EQ(r.stats.ops, 999U);
    EXPECT_EQ(kernel_.allocs, 999U);
    EXPECT_EQ(kernel_.frees, 999U);
    EXPECT_EQ(kernel_.opened.size(), 1U);
    const size_t consumers = std::count_if(r.threads.begin(), r.threads.end(),
                                           [](const auto& t) { return t.role == Role::kConsumer; });
    EXPECT_EQ(consumers, w == Workload::kFanin ? 1U : 3U);
  }
}

TEST_F(RunnerTest, PurgersFreeInLargeBatches) {
  RunSpec spec = Spec(Workload::kPurger, 4, 4000, 16);
  spec.freers = 1;
  spec.purge_batch = 100;
  kernel_.chan_capacity = 1000;
  const RunResult r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.threads.size(), 5U);
  const ThreadResult& purger = r.threads[4];
  EXPECT_EQ(purger.role, Role::kPurger);
  EXPECT_EQ(purger.frees, 4000U);
  EXPECT_GE(purger.calls, 40U);
  EXPECT_EQ(r.stats.ops, 4000U);
}

TEST_F(RunnerTest, ProducerFailureStopsTheConsumer) {
  kernel_.alloc_limit = 300;
  const RunResult r = ExecuteRun(Spec(Workload::kCross, 2, 1000, 64), cfg_, nullptr);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, AllOf(HasSubstr("thread 0"), HasSubstr("PCPOOL_CHAN_ALLOC: ENOMEM")));
  EXPECT_EQ(r.threads[0].allocs, 300U);
  EXPECT_EQ(r.threads[1].frees, 300U) << "consumer drains what was pushed";
  EXPECT_THAT(r.threads[1].error, HasSubstr("stopped: a producer failed"));
  EXPECT_EQ(r.stats.ops, 300U);
}

TEST_F(RunnerTest, ExitAllocatesEverywhereThenFreesFromTheFreers) {
  RunSpec spec = Spec(Workload::kExit, 3, 3000, 256);
  spec.freers = 2;
  Progress progress;
  const RunResult r = ExecuteRun(spec, cfg_, &progress);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(kernel_.opened.size(), 2U) << "a session per freer";
  EXPECT_EQ(r.threads[0].role, Role::kFreer);
  EXPECT_EQ(r.threads[2].role, Role::kAllocator);
  EXPECT_EQ(r.threads[2].frees, 0U);
  EXPECT_EQ(r.threads[0].frees + r.threads[1].frees, 3000U);
  EXPECT_EQ(r.threads[0].allocs + r.threads[1].allocs + r.threads[2].allocs, 3000U);
  EXPECT_EQ(r.stats.ops, 3000U);
  EXPECT_EQ(r.stats.alloc_ns, 30000U);
  EXPECT_EQ(r.stats.free_ns, 90000U);
  EXPECT_EQ(progress.done.load(), 3000U);
  EXPECT_EQ(kernel_.frees, 3000U);
}

TEST_F(RunnerTest, RandFreesEveryBlockFromSomeThread) {
  const RunResult r = ExecuteRun(Spec(Workload::kRand, 3, 2000, 50), cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(kernel_.opened.size(), 3U);
  uint64_t freed = 0;
  for (const ThreadResult& t : r.threads) {
    EXPECT_EQ(t.role, Role::kFreer);
    freed += t.frees;
  }
  EXPECT_EQ(freed, 2000U);
  EXPECT_EQ(kernel_.allocs, 2000U);
  EXPECT_EQ(kernel_.frees, 2000U);
}

TEST_F(RunnerTest, FragOfRandIsTakenWithEveryBlockAllocatedAndDrained) {
  kernel_.zone = true;
  cfg_.frag = true;
  const RunResult r = ExecuteRun(Spec(Workload::kRand, 3, 2000, 50), cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(r.frag.has_value());
  EXPECT_EQ(r.frag->zone.partial_blocks, 2000U) << "before any free";
  EXPECT_EQ(r.frag->drained.blocks_held, PCPOOL_FRAG_DRAIN);
  EXPECT_EQ(r.frag_point, "all allocated, none freed");
  EXPECT_TRUE(r.buddyinfo.empty()) << "not the kernel backend";
}

TEST_F(RunnerTest, FragOfChurnIsAskedOfEachThreadsLastCall) {
  kernel_.zone = true;
  cfg_.frag = true;
  cfg_.chunk_ops = 1;
  RunSpec spec = Spec(Workload::kChurn, 2, 200, 64);
  spec.live = 4;  // calls of 64 ops: 100 per thread in 2 calls
  const RunResult r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  size_t asked = 0;
  for (const pcpool_run& run : kernel_.runs) {
    if ((run.flags & PCPOOL_RUN_FRAG) != 0) {
      asked++;
      EXPECT_EQ(run.ops, 36U) << "the last call of a thread";
    }
  }
  EXPECT_EQ(asked, 2U);
  ASSERT_TRUE(r.frag.has_value());
  EXPECT_EQ(r.frag->zone.free_pages, 512U - 36U);
  EXPECT_THAT(r.frag_point, HasSubstr("before the final drain"));
}

TEST_F(RunnerTest, NoFragWithoutTheOptionOrAZone) {
  kernel_.zone = true;
  RunSpec spec = Spec(Workload::kChurn, 2, 200, 64);
  spec.live = 4;
  RunResult r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.frag.has_value());
  kernel_.zone = false;
  cfg_.frag = true;
  r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.frag.has_value());
  for (const pcpool_run& run : kernel_.runs) {
    EXPECT_EQ(run.flags & PCPOOL_RUN_FRAG, 0U);
  }
}

TEST_F(RunnerTest, HandleAllocationFailureStillReleasesTheOthers) {
  kernel_.alloc_limit = 500;
  const RunResult r = ExecuteRun(Spec(Workload::kRand, 2, 2000, 100), cfg_, nullptr);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, HasSubstr("PCPOOL_IOC_ALLOC: ENOMEM"));
  EXPECT_EQ(kernel_.allocs, kernel_.frees) << "what was allocated was freed";
}

TEST_F(RunnerTest, OverheadPathsSubmitAsAsked) {
  RunSpec spec = Spec(Workload::kOverhead, 1, 100, 0);
  spec.submit = Submit::kUring;
  spec.uring_depth = 8;
  RunResult r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_THAT(kernel_.opened, ElementsAre(Submit::kUring));
  EXPECT_EQ(kernel_.batch_calls, 13U) << "100 commands, 8 per submission";
  EXPECT_EQ(kernel_.run_calls, 100U);
  EXPECT_EQ(kernel_.max_run_ops, 1U);
  EXPECT_EQ(r.stats.ops, 100U);
  EXPECT_TRUE(r.stats.user_ns_per_op.has_value());

  kernel_.opened.clear();
  kernel_.run_calls = 0;
  kernel_.max_run_ops = 0;
  spec.loop = true;
  r = ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_THAT(kernel_.opened, ElementsAre(Submit::kIoctl)) << "the loop is one ioctl";
  EXPECT_EQ(kernel_.run_calls, 1U);
  EXPECT_EQ(kernel_.max_run_ops, 100U);
  EXPECT_DOUBLE_EQ(*r.stats.ns_per_op, 10.0);
}

TEST_F(RunnerTest, RunErrorIsReported) {
  kernel_.run_error = -ENOENT;
  const RunResult r = ExecuteRun(Spec(Workload::kBulk, 2, 100, 8), cfg_, nullptr);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, HasSubstr("PCPOOL_IOC_RUN: ENOENT"));
  EXPECT_EQ(r.stats.ops, 0U);
  EXPECT_FALSE(r.stats.ns_per_op.has_value());
}

TEST_F(RunnerTest, OpenFailureIsReported) {
  cfg_.open_session = [](Submit) -> Result<std::unique_ptr<Session>> { return {-EACCES, nullptr}; };
  const RunResult r = ExecuteRun(Spec(Workload::kRepeat, 1, 10, 0), cfg_, nullptr);
  EXPECT_THAT(r.error, HasSubstr("EACCES"));
}

TEST_F(RunnerTest, RealOpenOfAMissingDevice) {
  cfg_.open_session = nullptr;
  cfg_.device = "/nonexistent/pcpool";
  const RunResult r = ExecuteRun(Spec(Workload::kRepeat, 1, 10, 0), cfg_, nullptr);
  EXPECT_THAT(r.error, HasSubstr("open /nonexistent/pcpool: ENOENT"));
}

TEST_F(RunnerTest, UnpinnableCpuFailsTheRunWithoutHanging) {
  for (const Workload w : {Workload::kCross, Workload::kExit, Workload::kRepeat}) {
    RunSpec spec = Spec(w, 2, 100, 8);
    spec.freers = 1;
    spec.cpus[1] = kMaxCpu;
    ::testing::internal::CaptureStderr();
    const RunResult r = ExecuteRun(spec, cfg_, nullptr);
    ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(r.ok()) << WorkloadName(w);
    EXPECT_THAT(r.error, HasSubstr("cannot pin to CPU 65535")) << WorkloadName(w);
  }
}

class DebugfsTest : public RunnerTest {
 protected:
  void SetUp() override {
    RunnerTest::SetUp();
    std::string tmpl = (std::filesystem::temp_directory_path() / "pcpool-unit-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "null");
    kernel_.allocs = kernel_.frees = 40;
    kernel_.counters_path = dir_ / "null" / "counters";
    std::ofstream(kernel_.counters_path) << "allocs 40\nfrees 40\nstale 7\n";
    std::ofstream(dir_ / "outstanding") << "kernel 5\nnull 0\n";
    cfg_.debugfs = dir_;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

TEST_F(DebugfsTest, CounterDeltasAndOutstanding) {
  const RunResult r = ExecuteRun(Spec(Workload::kRepeat, 2, 500, 0), cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(r.counters.has_value());
  EXPECT_THAT(*r.counters, ElementsAre(Pair("allocs", 500), Pair("frees", 500)));
  ASSERT_EQ(r.gauges.size(), 2U) << "levels are not deltas";
  EXPECT_EQ(r.gauges.at("live").after, 0U);
  EXPECT_EQ(r.gauges.at("zone_free_pages").after, 100U);
  EXPECT_EQ(r.outstanding_pages_after, 0U);
  EXPECT_THAT(r.accounting, ::testing::IsEmpty());
}

TEST_F(DebugfsTest, CheckFailsARunWhoseCountersDoNotBalance) {
  std::ofstream(dir_ / "outstanding") << "null 3\n";
  cfg_.check = true;
  RunResult r = ExecuteRun(Spec(Workload::kRepeat, 1, 100, 0), cfg_, nullptr);
  EXPECT_THAT(r.error, HasSubstr("accounting: 3 pages outstanding"));
  cfg_.check = false;
  r = ExecuteRun(Spec(Workload::kRepeat, 1, 100, 0), cfg_, nullptr);
  EXPECT_TRUE(r.ok());
  EXPECT_THAT(r.accounting, ElementsAre(HasSubstr("3 pages outstanding")));
}

TEST_F(RunnerTest, NoDebugfsMeansNoCounters) {
  const RunResult r = ExecuteRun(Spec(Workload::kRepeat, 1, 10, 0), cfg_, nullptr);
  EXPECT_FALSE(r.counters.has_value());
  EXPECT_FALSE(r.outstanding_pages_after.has_value());
}

}  // namespace
}  // namespace pcpool
