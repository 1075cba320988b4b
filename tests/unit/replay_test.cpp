// SPDX-License-Identifier: GPL-2.0
// Replay through ExecuteRun against a fake session: causality across
// threads (run under TSan too), per-CPU order, the blocks left live, CPU
// folding and a failing allocation.
#include "replay.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cpu.h"
#include "runner.h"

namespace pcpool {
namespace {

using ::testing::HasSubstr;

// One kernel session that logs every call and refuses a free of a handle
// it does not hold.
class LogSession : public Session {
 public:
  struct Call {
    bool free;
    uint64_t handle;
    uint32_t order;
    std::thread::id thread;
  };

  mutable std::mutex lock;
  mutable std::vector<Call> log;
  mutable std::map<uint64_t, uint32_t> live;  // handle -> order
  mutable uint64_t next = 0;
  uint64_t alloc_limit = UINT64_MAX;

  Result<pcpool_alloc> Alloc(uint32_t backend, uint32_t order,
                             std::span<uint64_t> handles) const override {
    pcpool_alloc a{};
    a.backend = backend;
    a.order = order;
    a.cpu = static_cast<uint32_t>(sched_getcpu());
    const std::lock_guard<std::mutex> guard(lock);
    if (next >= alloc_limit) {
      return {-ENOMEM, a};
    }
    for (uint64_t& h : handles) {
      h = ++next;
      live[h] = order;
      log.push_back({false, h, order, std::this_thread::get_id()});
    }
    // Every few allocations the caller is slow, so a freeing thread that
    // did not wait would run ahead.
    if (next % 7 == 0) {
      std::this_thread::yield();
    }
    a.ns = 10;
    return {0, a};
  }

  Result<pcpool_free> Free(std::span<const uint64_t> handles,
                           std::span<int32_t> /*status*/) const override {
    pcpool_free f{};
    f.count = handles.size();
    f.cpu = static_cast<uint32_t>(sched_getcpu());
    const std::lock_guard<std::mutex> guard(lock);
    for (const uint64_t h : handles) {
      const auto it = live.find(h);
      if (it == live.end()) {
        return {-ENOENT, f};
      }
      log.push_back({true, h, it->second, std::this_thread::get_id()});
      live.erase(it);
      f.freed++;
    }
    f.ns = 20;
    return {0, f};
  }

  Result<pcpool_run> Run(pcpool_run arg, pcpool_hist* /*hist*/) const override {
    return {-EINVAL, arg};
  }
  Result<pcpool_chan> ChanAlloc(uint32_t /*chan*/, uint32_t /*backend*/, uint32_t /*order*/,
                                uint64_t /*count*/) const override {
    return {-EINVAL, {}};
  }
  Result<pcpool_chan> ChanFree(uint32_t /*chan*/, uint64_t /*count*/) const override {
    return {-EINVAL, {}};
  }
};

TraceEvent Ev(uint32_t seq, uint16_t cpu, uint64_t pfn, bool free, uint8_t order) {
  return TraceEvent{pfn, seq, cpu, order, 0, free};
}

// @n blocks allocated on CPU a and freed on CPU b right after, in both
// directions, orders cycling 0..3; every fifth block stays live.
Trace CrossTrace(uint32_t n, uint16_t a, uint16_t b) {
  std::vector<TraceEvent> ev;
  uint32_t seq = 0;
  for (uint32_t i = 0; i < n; i++) {
    const bool even = i % 2 == 0;
    const uint16_t from = even ? a : b;
    const uint16_t to = even ? b : a;
    const auto order = static_cast<uint8_t>(i % 4);
    const uint64_t pfn = uint64_t{i} << 4;
    ev.push_back(Ev(seq++, from, pfn, false, order));
    if (i % 5 != 4) {
      ev.push_back(Ev(seq++, to, pfn, true, order));
    }
  }
  std::string why;
  std::optional<Trace> t = BuildTrace(std::move(ev), &why);
  EXPECT_TRUE(t) << why;
  return t.value_or(Trace{});
}

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    allowed_ = AllowedCpus();
    ASSERT_FALSE(allowed_.empty());
    cfg_.debugfs = "/nonexistent";
    cfg_.open_session = [this](Submit /*s*/) -> Result<std::unique_ptr<Session>> {
      auto s = std::make_unique<LogSession>();
      s->alloc_limit = alloc_limit_;
      // The runner owns the session; Holder hands it to kept_ when the
      // runner closes it, so the test reads the log afterwards.
      return {0, std::make_unique<Holder>(std::move(s), &kept_)};
    };
  }

  // Hands the LogSession back to the test when the runner closes it.
  class Holder : public Session {
   public:
    Holder(std::unique_ptr<LogSession> s, std::unique_ptr<LogSession>* keep)
        : s_(std::move(s)), keep_(keep) {}
    ~Holder() override { *keep_ = std::move(s_); }
    Holder(const Holder&) = delete;
    Holder& operator=(const Holder&) = delete;
    Holder(Holder&&) = delete;
    Holder& operator=(Holder&&) = delete;
    Result<pcpool_alloc> Alloc(uint32_t b, uint32_t o, std::span<uint64_t> h) const override {
      return s_->Alloc(b, o, h);
    }
    Result<pcpool_free> Free(std::span<const uint64_t> h, std::span<int32_t> st) const override {
      return s_->Free(h, st);
    }
    Result<pcpool_run> Run(pcpool_run a, pcpool_hist* h) const override { return s_->Run(a, h); }
    Result<pcpool_chan> ChanAlloc(uint32_t c, uint32_t b, uint32_t o, uint64_t n) const override {
      return s_->ChanAlloc(c, b, o, n);
    }
    Result<pcpool_chan> ChanFree(uint32_t c, uint64_t n) const override {
      return s_->ChanFree(c, n);
    }

   private:
    std::unique_ptr<LogSession> s_;
    std::unique_ptr<LogSession>* keep_;
  };

  RunResult Replay(const Trace& t) {
    cfg_.trace = std::make_shared<const Trace>(t);
    RunSpec spec;
    spec.backend = PCPOOL_BACKEND_NULL;
    spec.workload = Workload::kReplay;
    spec.cpus = allowed_;
    PinReplay(t, &spec);
    Progress progress;
    RunResult r = ExecuteRun(spec, cfg_, &progress);
    if (r.ok()) {
      EXPECT_EQ(progress.done.load(), t.events.size());
    }
    return r;
  }

  std::vector<int> allowed_;
  RunnerConfig cfg_;
  uint64_t alloc_limit_ = UINT64_MAX;
  std::unique_ptr<LogSession> kept_;
};

TEST_F(ReplayTest, FreesWaitForTheirAllocationOnAnotherThread) {
  const Trace t = CrossTrace(4000, 0, 1);
  const RunResult r = Replay(t);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.threads.size(), 2U);
  EXPECT_EQ(r.stats.ops, t.events.size());
  ASSERT_TRUE(kept_);
  const LogSession& s = *kept_;
  EXPECT_TRUE(s.live.empty());  // the blocks left live were freed at the end
  // Each handle: allocated once, freed once, the free after the allocation.
  std::map<uint64_t, size_t> alloc_at;
  size_t frees = 0;
  for (size_t i = 0; i < s.log.size(); i++) {
    const LogSession::Call& c = s.log[i];
    if (!c.free) {
      EXPECT_TRUE(alloc_at.emplace(c.handle, i).second);
    } else {
      ASSERT_TRUE(alloc_at.contains(c.handle));
      EXPECT_LT(alloc_at[c.handle], i);
      frees++;
    }
  }
  EXPECT_EQ(alloc_at.size(), t.allocs);
  EXPECT_EQ(frees, t.allocs);
  uint64_t allocs = 0;
  uint64_t freed = 0;
  for (const ThreadResult& th : r.threads) {
    allocs += th.allocs;
    freed += th.frees;
    EXPECT_TRUE(th.error.empty()) << th.error;
  }
  EXPECT_EQ(allocs, t.allocs);
  EXPECT_EQ(freed, t.allocs);
  EXPECT_EQ(r.stats.alloc_ns, 10 * t.allocs);
  EXPECT_EQ(r.stats.free_ns, 20 * t.frees);  // the frees at the end are not timed
}

TEST_F(ReplayTest, EachThreadKeepsItsCpusOrder) {
  const Trace t = CrossTrace(1000, 2, 5);
  const RunResult r = Replay(t);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.threads.size(), 2U);
  // The allocations' orders, as each thread issued them, are its traced
  // CPU's in trace order.
  std::map<std::thread::id, std::vector<uint32_t>> by_thread;
  for (const LogSession::Call& c : kept_->log) {
    if (!c.free) {
      by_thread[c.thread].push_back(c.order);
    }
  }
  std::map<uint16_t, std::vector<uint32_t>> by_cpu;
  for (const TraceEvent& e : t.events) {
    if (!e.free) {
      by_cpu[e.cpu].push_back(e.order);
    }
  }
  ASSERT_EQ(by_thread.size(), 2U);
  std::vector<std::vector<uint32_t>> got;
  for (const auto& [id, orders] : by_thread) {
    got.push_back(orders);
  }
  EXPECT_THAT(got, ::testing::UnorderedElementsAre(by_cpu[2], by_cpu[5]));
}

TEST_F(ReplayTest, MoreTracedCpusThanGuestCpusFold) {
  std::vector<TraceEvent> ev;
  uint32_t seq = 0;
  for (uint16_t cpu = 0; cpu < 6; cpu++) {
    ev.push_back(Ev(seq++, cpu, 0x100U * cpu, false, 0));
  }
  for (uint16_t cpu = 0; cpu < 6; cpu++) {
    ev.push_back(Ev(seq++, static_cast<uint16_t>(5 - cpu), 0x100U * cpu, true, 0));
  }
  std::string why;
  const std::optional<Trace> t = BuildTrace(ev, &why);
  ASSERT_TRUE(t) << why;
  const std::vector<int> one{allowed_.front()};
  EXPECT_EQ(FoldCpus(*t, one), std::vector<int>(6, allowed_.front()));
  allowed_ = one;
  const RunResult r = Replay(*t);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.threads.size(), 6U);
  EXPECT_EQ(r.stats.ops, 12U);
}

TEST_F(ReplayTest, FailedAllocationStopsEveryThread) {
  alloc_limit_ = 100;
  const Trace t = CrossTrace(1000, 0, 1);
  const RunResult r = Replay(t);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, HasSubstr("PCPOOL_IOC_ALLOC"));
  EXPECT_LT(r.stats.ops, t.events.size());
}

TEST_F(ReplayTest, NoTraceIsAnError) {
  RunSpec spec;
  spec.workload = Workload::kReplay;
  spec.cpus = allowed_;
  const RunResult r = ExecuteRun(spec, cfg_, nullptr);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.error, HasSubstr("replay"));
}

}  // namespace
}  // namespace pcpool
