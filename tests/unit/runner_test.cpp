// SPDX-License-Identifier: GPL-2.0
// The workload scheduling of ExecuteRun against a fake session: shares,
// chunking, pairing, pinning, error paths and counter deltas.
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
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cpu.h"

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
  // CHAN_ALLOC fails with -ENOMEM once this many blocks were allocated.
  uint64_t alloc_limit = UINT64_MAX;
  // RUN returns this error (after doing nothing) when non-zero.
  int run_error = 0;
  std::string counters_path;  // rewritten with "allocs N" after each call

  std::mutex lock;
  uint64_t allocs = 0;
  uint64_t max_run_ops = 0;
  uint64_t run_calls = 0;
  std::atomic<int> sessions_open{0};

  void Account(uint64_t n) {
    const std::lock_guard<std::mutex> guard(lock);
    allocs += n;
    if (!counters_path.empty()) {
      std::ofstream(counters_path) << "allocs " << allocs << "\nfrees " << allocs << "\n";
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

  Result<pcpool_run> Run(uint32_t backend, uint32_t workload, uint32_t order, uint64_t ops,
                         uint32_t batch) const override {
    pcpool_run r{};
    r.backend = backend;
    r.workload = workload;
    r.order = order;
    r.batch = batch;
    r.cpu = r.cpu_end = sched_getcpu();
    if (k_->run_error != 0) {
      return {k_->run_error, r};
    }
    {
      const std::lock_guard<std::mutex> guard(k_->lock);
      k_->run_calls++;
      k_->max_run_ops = std::max(k_->max_run_ops, ops);
    }
    if (workload == PCPOOL_WL_REPEAT && batch != 0) {
      return {-EINVAL, r};
    }
    r.done = ops;
    r.ns = ops * k_->ns_per_block;
    k_->Account(ops);
    return {0, r};
  }

  Result<pcpool_chan> ChanAlloc(uint32_t chan, uint32_t backend, uint32_t order,
                                uint64_t count) const override {
    pcpool_chan c{};
    c.chan = chan;
    c.backend = backend;
    c.order = order;
    c.cpu = sched_getcpu();
    const std::lock_guard<std::mutex> guard(lock_);
    int err = 0;
    while (c.done < count && fifo_.size() < k_->chan_capacity) {
      {
        const std::lock_guard<std::mutex> kguard(k_->lock);
        if (k_->allocs >= k_->alloc_limit) {
          err = -ENOMEM;
          break;
        }
        k_->allocs++;
      }
      fifo_.push_back(1);
      c.done++;
    }
    c.ns = c.done * k_->ns_per_block;
    c.fill = fifo_.size();
    return {err, c};
  }

  Result<pcpool_chan> ChanFree(uint32_t chan, uint64_t count) const override {
    pcpool_chan c{};
    c.chan = chan;
    c.cpu = sched_getcpu();
    const std::lock_guard<std::mutex> guard(lock_);
    while (c.done < count && !fifo_.empty()) {
      fifo_.pop_front();
      c.done++;
    }
    c.ns = c.done * 2 * k_->ns_per_block;
    c.fill = fifo_.size();
    return {0, c};
  }

 private:
  FakeKernel* k_;
  mutable std::mutex lock_;
  mutable std::deque<int> fifo_;
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cfg_.open_session = [this]() -> Result<std::unique_ptr<Session>> {
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
    EXPECT_EQ(t.unit, t.thread);
    EXPECT_EQ(t.ns, t.ops * 10);
    EXPECT_EQ(t.cpu, allowed_[t.thread % allowed_.size()]);
    // The fake reports sched_getcpu(): proof the worker was pinned first.
    EXPECT_EQ(t.kernel_cpu, t.cpu);
    EXPECT_FALSE(t.migrated);
    EXPECT_EQ(t.error, "");
  }
  EXPECT_EQ(r.stats.ops, 1000U);
  EXPECT_EQ(r.stats.ns, 10000U);
  EXPECT_DOUBLE_EQ(*r.stats.ns_per_op, 10.0);
  EXPECT_DOUBLE_EQ(*r.stats.ops_per_sec, 3e8);
  EXPECT_EQ(progress.done.load(), 1000U);
  EXPECT_EQ(kernel_.allocs, 1000U);
  EXPECT_EQ(kernel_.sessions_open.load(), 0) << "sessions closed after the run";
  EXPECT_GT(r.wall_ns, 0U);
}

TEST_F(RunnerTest, BulkCallsAreWholeBatchesOfAtMostAChunk) {
  cfg_.chunk_ops = 100;
  const RunResult r = ExecuteRun(Spec(Workload::kBulk, 1, 1000, 64), cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(kernel_.max_run_ops, 64U);
  EXPECT_EQ(kernel_.run_calls, 16U);  // 15 x 64 + 40
  EXPECT_EQ(r.threads[0].calls, 16U);
  EXPECT_EQ(r.stats.ops, 1000U);
}

TEST_F(RunnerTest, RepeatPassesBatchZero) {
  // The fake rejects REPEAT with a batch, as the module does.
  const RunResult r = ExecuteRun(Spec(Workload::kRepeat, 1, 10, 0), cfg_, nullptr);
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
  EXPECT_EQ(r.threads[0].ops, 1000U);
  EXPECT_EQ(r.threads[1].ops, 1000U);
  EXPECT_EQ(r.threads[2].ops, 0U);
  EXPECT_EQ(r.active_threads(), 2U);
  EXPECT_EQ(r.threads[0].ns, 10000U);
  EXPECT_EQ(r.threads[1].ns, 20000U);
  EXPECT_EQ(r.stats.ops, 1000U);
  EXPECT_EQ(r.stats.ns, 30000U);  // both sides summed
  EXPECT_DOUBLE_EQ(*r.stats.ns_per_op, 30.0);
  EXPECT_EQ(progress.done.load(), 1000U);
}

TEST_F(RunnerTest, CrossWithTwoPairsUsesOneSessionEach) {
  const RunResult r = ExecuteRun(Spec(Workload::kCross, 4, 1001, 16), cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_THAT(r.threads, Each(Field(&ThreadResult::error, "")));
  EXPECT_EQ(r.threads[1].ops, 501U);
  EXPECT_EQ(r.threads[3].ops, 500U);
  EXPECT_EQ(r.threads[2].unit, 1);
  EXPECT_EQ(r.stats.ops, 1001U);
}

TEST_F(RunnerTest, CrossProducerFailureStopsTheConsumer) {
  kernel_.alloc_limit = 300;
  const RunResult r = ExecuteRun(Spec(Workload::kCross, 2, 1000, 64), cfg_, nullptr);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, AllOf(HasSubstr("thread 0"), HasSubstr("PCPOOL_CHAN_ALLOC: ENOMEM")));
  EXPECT_EQ(r.threads[0].ops, 300U);
  EXPECT_EQ(r.threads[1].ops, 300U) << "consumer drains what was pushed";
  EXPECT_THAT(r.threads[1].error, HasSubstr("stopped: producer failed"));
  EXPECT_EQ(r.stats.ops, 300U);
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
  cfg_.open_session = []() -> Result<std::unique_ptr<Session>> { return {-EACCES, nullptr}; };
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
  RunSpec spec = Spec(Workload::kCross, 2, 100, 8);
  spec.cpus[1] = kMaxCpu;
  ::testing::internal::CaptureStderr();
  const RunResult r = ExecuteRun(spec, cfg_, nullptr);
  ::testing::internal::GetCapturedStderr();
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, HasSubstr("cannot pin to CPU 65535"));
}

TEST_F(RunnerTest, CounterDeltasAndOutstandingFromDebugfs) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "pcpool-unit-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  const std::filesystem::path dir = tmpl;
  std::filesystem::create_directories(dir / "null");
  kernel_.allocs = 40;
  kernel_.counters_path = dir / "null" / "counters";
  std::ofstream(kernel_.counters_path) << "allocs 40\nfrees 40\nstale 7\n";
  std::ofstream(dir / "outstanding") << "kernel 5\nnull 0\n";
  cfg_.debugfs = dir;

  const RunResult r = ExecuteRun(Spec(Workload::kRepeat, 2, 500, 0), cfg_, nullptr);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_TRUE(r.counters.has_value());
  EXPECT_THAT(*r.counters, ElementsAre(Pair("allocs", 500), Pair("frees", 500)));
  EXPECT_EQ(r.outstanding_pages_after, 0U);
}

TEST_F(RunnerTest, NoDebugfsMeansNoCounters) {
  const RunResult r = ExecuteRun(Spec(Workload::kRepeat, 1, 10, 0), cfg_, nullptr);
  EXPECT_FALSE(r.counters.has_value());
  EXPECT_FALSE(r.outstanding_pages_after.has_value());
}

}  // namespace
}  // namespace pcpool
