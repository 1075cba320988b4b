// SPDX-License-Identifier: GPL-2.0
// The harness's runner (userspace/runner.cpp) driving the real module
// layer: each session ExecuteRun opens is a real struct pcpool_session,
// each command goes through the real command table.  tests/unit's
// runner_test keeps its fake for what real code cannot be told to do
// (fixed per-block times, errors on demand); these check the same paths
// end to end, and that every block comes back.
#include <sched.h>

#include <memory>
#include <span>

#include "cpu.h"
#include "device.h"
#include "module_test.h"
#include "runner.h"

namespace pcpool_test {
namespace {

using pcpool::Result;

// A Session over the module layer in this process: /dev/pcpool without
// the device.  The shim's "CPU" follows the thread's real one.
class ModuleSession : public pcpool::Session {
 public:
  ModuleSession() : s_(pcpool_m_open()) {}
  ~ModuleSession() override {
    if (s_ != nullptr) pcpool_m_close(s_);
  }
  ModuleSession(const ModuleSession&) = delete;
  ModuleSession& operator=(const ModuleSession&) = delete;
  ModuleSession(ModuleSession&&) = delete;
  ModuleSession& operator=(ModuleSession&&) = delete;

  [[nodiscard]] bool ok() const { return s_ != nullptr; }

  Result<pcpool_run> Run(pcpool_run r, pcpool_hist* hist) const override {
    r.size = sizeof(r);
    if (hist != nullptr) {
      r.flags |= PCPOOL_RUN_HIST;
      r.hist = reinterpret_cast<uintptr_t>(hist);
      hist->size = PCPOOL_HIST_SIZE_VER0;
    }
    return Call(PCPOOL_IOC_RUN, r);
  }
  Result<pcpool_chan> ChanAlloc(uint32_t chan, uint32_t backend, uint32_t order,
                                uint64_t count) const override {
    pcpool_chan c{};
    c.op = PCPOOL_CHAN_ALLOC;
    c.chan = chan;
    c.backend = backend;
    c.order = order;
    c.count = count;
    return Call(PCPOOL_IOC_CHAN, c);
  }
  Result<pcpool_chan> ChanFree(uint32_t chan, uint64_t count) const override {
    pcpool_chan c{};
    c.op = PCPOOL_CHAN_FREE;
    c.chan = chan;
    c.count = count;
    return Call(PCPOOL_IOC_CHAN, c);
  }
  Result<pcpool_alloc> Alloc(uint32_t backend, uint32_t order,
                             std::span<uint64_t> handles) const override {
    pcpool_alloc a{};
    a.backend = backend;
    a.order = order;
    a.count = handles.size();
    a.handles = reinterpret_cast<uintptr_t>(handles.data());
    return Call(PCPOOL_IOC_ALLOC, a);
  }
  Result<pcpool_free> Free(std::span<const uint64_t> handles,
                           std::span<int32_t> status) const override {
    pcpool_free f{};
    f.count = handles.size();
    f.handles = reinterpret_cast<uintptr_t>(handles.data());
    f.status = status.empty() ? 0 : reinterpret_cast<uintptr_t>(status.data());
    return Call(PCPOOL_IOC_FREE, f);
  }

 private:
  template <typename T>
  Result<T> Call(unsigned int cmd, T arg) const {
    arg.size = sizeof(arg);
    const int cpu = sched_getcpu();
    pcpool_kshim_set_cpu(cpu < 0 ? 0 : static_cast<unsigned int>(cpu) % 4);
    const long ret = pcpool_m_ioctl(s_, cmd, &arg);
    return {static_cast<int>(ret), arg};
  }

  pcpool_session* s_;
};

class RunnerModuleTest : public ModuleTest {
 protected:
  void SetUp() override {
    ModuleTest::SetUp();
    Close();  // the runner opens its own sessions
    cfg_.open_session = [](pcpool::Submit) -> Result<std::unique_ptr<pcpool::Session>> {
      auto s = std::make_unique<ModuleSession>();
      if (!s->ok()) return {-ENOMEM, nullptr};
      return {0, std::move(s)};
    };
    cfg_.debugfs = "/nonexistent";
    allowed_ = pcpool::AllowedCpus();
    ASSERT_FALSE(allowed_.empty());
  }

  pcpool::RunSpec Spec(uint32_t backend, pcpool::Workload w, unsigned threads, uint64_t ops,
                       uint32_t batch) {
    pcpool::RunSpec s;
    s.backend = backend;
    s.workload = w;
    s.order = 0;
    s.cpus = pcpool::CpusForThreads(threads, allowed_);
    s.ops = ops;
    s.batch = batch;
    s.seed = 7;
    return s;
  }

  pcpool::RunnerConfig cfg_;
  std::vector<int> allowed_;
};

TEST_F(RunnerModuleTest, RunWorkloadsDoEveryOp) {
  struct {
    pcpool::Workload w;
    uint32_t backend, batch, live;
  } cases[] = {
      {pcpool::Workload::kRepeat, kKernel, 0, 0}, {pcpool::Workload::kBulk, kKernel, 16, 0},
      {pcpool::Workload::kBusy, kNull, 0, 8},     {pcpool::Workload::kChurn, kKernel, 0, 16},
      {pcpool::Workload::kSizes, kPcpu, 8, 0},    {pcpool::Workload::kRandomSize, kVmap, 0, 0},
  };
  for (const auto& c : cases) {
    pcpool::RunSpec spec = Spec(c.backend, c.w, 2, 400, c.batch);
    spec.live = c.live;
    const pcpool::RunResult r = pcpool::ExecuteRun(spec, cfg_, nullptr);
    ASSERT_TRUE(r.ok()) << static_cast<int>(c.w) << ": " << r.error;
    EXPECT_EQ(r.stats.ops, 400U) << static_cast<int>(c.w);
    EXPECT_EQ(pcpool_m_nr_sessions(), 0);
    EXPECT_EQ(pcpool_kshim_pages_live(), 0);
  }
}

TEST_F(RunnerModuleTest, RunLatencyHistogramsFromTheRealEngine) {
  pcpool::RunSpec spec = Spec(kNull, pcpool::Workload::kRepeat, 2, 512, 0);
  spec.latency = true;
  spec.sample_shift = 1;
  const pcpool::RunResult r = pcpool::ExecuteRun(spec, cfg_, nullptr);
  ASSERT_TRUE(r.ok()) << r.error;
  uint64_t timed = 0;
  for (const pcpool::ThreadResult& t : r.threads) timed += t.latency.alloc.Count();
  EXPECT_EQ(timed, 256U);  // one op in 2^1
}

TEST_F(RunnerModuleTest, RunChannelWorkloadsReturnEveryBlock) {
  for (pcpool::Workload w :
       {pcpool::Workload::kCross, pcpool::Workload::kFanin, pcpool::Workload::kFanout}) {
    const pcpool::RunResult r = pcpool::ExecuteRun(Spec(kKernel, w, 2, 2000, 16), cfg_, nullptr);
    ASSERT_TRUE(r.ok()) << static_cast<int>(w) << ": " << r.error;
    EXPECT_GE(r.stats.ops, 2000U) << static_cast<int>(w);
    EXPECT_EQ(pcpool_kshim_pages_live(), 0);
    EXPECT_EQ(pcpool_m_outstanding(kKernel), 0);
  }
}

TEST_F(RunnerModuleTest, RunHandleWorkloadsFreeEverything) {
  for (pcpool::Workload w : {pcpool::Workload::kExit, pcpool::Workload::kRand}) {
    pcpool::RunSpec spec = Spec(kKernel, w, 2, 1000, 50);
    spec.freers = 1;
    const pcpool::RunResult r = pcpool::ExecuteRun(spec, cfg_, nullptr);
    ASSERT_TRUE(r.ok()) << static_cast<int>(w) << ": " << r.error;
    EXPECT_EQ(pcpool_kshim_pages_live(), 0);
  }
}

TEST_F(RunnerModuleTest, RunErrorsComeFromTheRealValidator) {
  // A backend the table does not hold: the engine's -ENOENT reaches the result.
  pcpool::RunResult r = pcpool::ExecuteRun(
      Spec(PCPOOL_BACKEND_CLASSIC, pcpool::Workload::kRepeat, 1, 10, 0), cfg_, nullptr);
  EXPECT_FALSE(r.ok());
  // The session cap: a BULK batch larger than the cap is -ENOMEM.
  r = pcpool::ExecuteRun(Spec(kNull, pcpool::Workload::kBulk, 1, 10000, 8192), cfg_, nullptr);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(pcpool_m_nr_sessions(), 0);
}

}  // namespace
}  // namespace pcpool_test
