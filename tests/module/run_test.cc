// SPDX-License-Identifier: GPL-2.0
// kmod/run.c and run_pcpu.c in userspace: every validation error of RUN
// through the real validator, every workload run, and the charges.
#include <memory>
#include <numeric>

#include "module_test.h"

namespace pcpool_test {
namespace {

class RunTest : public ModuleTest {
 protected:
  void SetUp() override {
    ModuleTest::SetUp();
    cap_ = pcpool_m_cap_create(kCap);
    ASSERT_NE(cap_, nullptr);
  }
  void TearDown() override {
    EXPECT_EQ(pcpool_m_cap_pages(cap_), 0);  // every run uncharges
    pcpool_m_cap_destroy(cap_);
    ModuleTest::TearDown();
  }

  static pcpool_run Valid(uint32_t backend, uint32_t workload) {
    pcpool_run r{};
    r.size = sizeof(r);
    r.backend = backend;
    r.workload = workload;
    r.ops = 10;
    return r;
  }

  // One field edited away from a valid request: what the engine says,
  // and the same through the ioctl path.
  template <typename Edit>
  long Try(pcpool_run r, Edit edit) {
    edit(r);
    pcpool_run copy = r;
    long direct = pcpool_m_run(cap_, &r);
    long ioctl = pcpool_m_ioctl(s_, PCPOOL_IOC_RUN, &copy);
    EXPECT_EQ(direct, ioctl);
    EXPECT_EQ(r.done, 0U);
    return direct;
  }

  // A wrong sum stops the run at the first process, nothing left behind.
  void ExpectWrongSumStops(pcpool_run r) {
    pcpool_m_counter_skew(1);
    EXPECT_EQ(pcpool_m_run(cap_, &r), -EIO);
    EXPECT_EQ(r.done, 0U);
    pcpool_m_counter_skew(0);
    EXPECT_EQ(pcpool_m_counters_live(), 0);
  }

  pcpool_cap* cap_ = nullptr;
};

TEST_F(RunTest, ValidRequestsRun) {
  pcpool_run r = Valid(kNull, PCPOOL_WL_REPEAT);
  ASSERT_EQ(pcpool_m_run(cap_, &r), 0);
  EXPECT_EQ(r.done, 10U);
  r = Valid(kNull, PCPOOL_WL_BULK);
  r.batch = 4;
  ASSERT_EQ(pcpool_m_run(cap_, &r), 0);
  EXPECT_EQ(r.done, 10U);
}

TEST_F(RunTest, ValidationFlagsAndReserved) {
  pcpool_run ok = Valid(kNull, PCPOOL_WL_REPEAT);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.flags = 8; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.flags = 1U << 31; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.resv[0] = 1; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.resv[1] = 1; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.frag = 1; }), -EINVAL);
}

TEST_F(RunTest, ValidationFrag) {
  pcpool_frag f{};
  f.size = sizeof(f);
  f.backend = kNull;
  const auto fp = reinterpret_cast<uintptr_t>(&f);
  pcpool_run ok = Valid(kNull, PCPOOL_WL_BUSY);
  ok.batch = 4;
  ASSERT_EQ(pcpool_m_run(cap_, &ok), 0);
  // The flag without the pointer, the pointer without the flag.
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.flags = PCPOOL_RUN_FRAG; }), -EINVAL);
  EXPECT_EQ(Try(ok, [&](pcpool_run& r) { r.frag = fp; }), -EINVAL);
  // Both, but null has no zone of its own; REPEAT holds no live set.
  auto both = [&](pcpool_run& r) {
    r.flags = PCPOOL_RUN_FRAG;
    r.frag = fp;
  };
  EXPECT_EQ(Try(ok, both), -EINVAL);
  EXPECT_EQ(Try(Valid(kNull, PCPOOL_WL_REPEAT), both), -EINVAL);
}

TEST_F(RunTest, ValidationUnknownBackendOrWorkload) {
  pcpool_run ok = Valid(kNull, PCPOOL_WL_REPEAT);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.backend = PCPOOL_BACKEND_CLASSIC; }), -ENOENT);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.backend = PCPOOL_NR_BACKENDS_MAX; }), -ENOENT);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.backend = ~0U; }), -ENOENT);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.workload = PCPOOL_NR_WORKLOADS; }), -ENOENT);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.workload = ~0U; }), -ENOENT);
}

TEST_F(RunTest, ValidationWrongKind) {
  // per-CPU workloads on a page backend, vmap workloads on others
  pcpool_run lc = Valid(kPcpu, PCPOOL_WL_PCPU_LIFECYCLE);
  lc.batch = 1;
  EXPECT_EQ(Try(lc, [](pcpool_run& r) { r.backend = kKernel; }), -EINVAL);
  EXPECT_EQ(Try(lc, [](pcpool_run& r) { r.backend = kVmap; }), -EINVAL);
  pcpool_run sz = Valid(kPcpu, PCPOOL_WL_PCPU_SIZES);
  sz.batch = 1;
  EXPECT_EQ(Try(sz, [](pcpool_run& r) { r.backend = kNull; }), -EINVAL);
  pcpool_run vr = Valid(kVmap, PCPOOL_WL_VM_RANDOM);
  EXPECT_EQ(Try(vr, [](pcpool_run& r) { r.backend = kKernel; }), -EINVAL);
  EXPECT_EQ(Try(vr, [](pcpool_run& r) { r.backend = kPcpu; }), -EINVAL);
  pcpool_run vb = Valid(kVmap, PCPOOL_WL_VM_LONG_BUSY);
  vb.batch = 1;
  EXPECT_EQ(Try(vb, [](pcpool_run& r) { r.backend = kNull; }), -EINVAL);
}

// PCPU_COUNTER: the backend's counter through the real engine.  Every
// field validated; the share spread over processes; the exact sum checked.
TEST_F(RunTest, CounterValidationAndRun) {
  pcpool_run ok = Valid(kPcpu, PCPOOL_WL_PCPU_COUNTER);
  ok.batch = 8;
  pcpool_hist h{};
  h.size = PCPOOL_HIST_SIZE_VER0;
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.batch = 0; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.batch = PCPOOL_MAX_BATCH + 1; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.order = 1; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.seed = PCPOOL_COUNTER_SHARE_MAX + 1; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.seed = ~0ULL; }), -EINVAL);
  EXPECT_EQ(Try(ok,
                [&](pcpool_run& r) {
                  r.flags = PCPOOL_RUN_HIST;
                  r.hist = reinterpret_cast<uintptr_t>(&h);
                }),
            -EINVAL);
  // page and vmap backends have no per-CPU counter
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.backend = kKernel; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.backend = kNull; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.backend = kVmap; }), -EINVAL);
  EXPECT_EQ(pcpool_m_counters_live(), 0);

  // share 0: every update on this CPU
  (void)pcpool_m_counter_cpus();
  pcpool_run r = ok;
  ASSERT_EQ(pcpool_m_run(cap_, &r), 0);
  EXPECT_EQ(r.done, 10U);
  EXPECT_EQ(pcpool_m_counter_cpus(), 1U << r.cpu);
  EXPECT_EQ(pcpool_m_counters_live(), 0);
  // share 1000: every process also on the next CPU
  r = ok;
  r.seed = PCPOOL_COUNTER_SHARE_MAX;
  ASSERT_EQ(pcpool_m_run(cap_, &r), 0);
  EXPECT_EQ(r.done, 10U);
  EXPECT_EQ(pcpool_m_counter_cpus(), (1U << r.cpu) | (1U << (r.cpu + 1)));
  // one update per process: the middle half rounds to it, all remote
  r = ok;
  r.batch = 1;
  r.seed = 500;
  ASSERT_EQ(pcpool_m_run(cap_, &r), 0);
  EXPECT_EQ(r.done, 10U);
  EXPECT_EQ(pcpool_m_counter_cpus(), (1U << r.cpu) | (1U << (r.cpu + 1)));

  ExpectWrongSumStops(ok);
}

// PCPU_LIFECYCLE with counter-shaped processes: four counters each, used
// on @batch CPUs, every sum checked; a wrong one stops the run.
TEST_F(RunTest, LifecycleCountersRun) {
  pcpool_run ok = Valid(kPcpu, PCPOOL_WL_PCPU_LIFECYCLE);
  ok.batch = 2;
  ok.seed = PCPOOL_LIFECYCLE_COUNTERS;
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.seed = PCPOOL_LIFECYCLE_COUNTERS + 1; }), -EINVAL);
  (void)pcpool_m_counter_cpus();
  pcpool_run r = ok;
  ASSERT_EQ(pcpool_m_run(cap_, &r), 0);
  EXPECT_EQ(r.done, 10U);
  EXPECT_EQ(pcpool_m_counter_cpus(), (1U << r.cpu) | (1U << (r.cpu + 1)));
  EXPECT_EQ(pcpool_m_counters_live(), 0);
  ExpectWrongSumStops(ok);
}

TEST_F(RunTest, ValidationOrder) {
  pcpool_run ok = Valid(kKernel, PCPOOL_WL_REPEAT);
  const uint32_t max = pcpool_m_max_order(kKernel);
  EXPECT_EQ(Try(ok, [&](pcpool_run& r) { r.order = max + 1; }), -EINVAL);
  EXPECT_EQ(Try(ok, [&](pcpool_run& r) { r.order = ~0U; }), -EINVAL);
  pcpool_run p = Valid(kPcpu, PCPOOL_WL_REPEAT);
  EXPECT_EQ(Try(p, [&](pcpool_run& r) { r.order = pcpool_m_max_order(kPcpu) + 1; }), -EINVAL);
  // Workloads that take no order: anything but 0.
  pcpool_run lc = Valid(kPcpu, PCPOOL_WL_PCPU_LIFECYCLE);
  lc.batch = 1;
  EXPECT_EQ(Try(lc, [](pcpool_run& r) { r.order = 1; }), -EINVAL);
  pcpool_run vr = Valid(kVmap, PCPOOL_WL_VM_RANDOM);
  EXPECT_EQ(Try(vr, [](pcpool_run& r) { r.order = 1; }), -EINVAL);
}

TEST_F(RunTest, ValidationSeedAndHistogram) {
  pcpool_hist h{};
  h.size = PCPOOL_HIST_SIZE_VER0;
  const uint64_t hp = reinterpret_cast<uintptr_t>(&h);
  pcpool_run rep = Valid(kNull, PCPOOL_WL_REPEAT);
  EXPECT_EQ(Try(rep, [](pcpool_run& r) { r.seed = 1; }), -EINVAL);
  pcpool_run bulk = Valid(kNull, PCPOOL_WL_BULK);
  bulk.batch = 2;
  EXPECT_EQ(Try(bulk, [](pcpool_run& r) { r.seed = 1; }), -EINVAL);
  pcpool_run lc = Valid(kPcpu, PCPOOL_WL_PCPU_LIFECYCLE);
  lc.batch = 1;
  EXPECT_EQ(Try(lc,
                [&](pcpool_run& r) {
                  r.flags = PCPOOL_RUN_HIST;
                  r.hist = hp;
                }),
            -EINVAL);
  // The seed picks the shape (words, counters), the sizes' mix: no more.
  EXPECT_EQ(Try(lc, [](pcpool_run& r) { r.seed = PCPOOL_LIFECYCLE_COUNTERS + 1; }), -EINVAL);
  pcpool_run sz = Valid(kPcpu, PCPOOL_WL_PCPU_SIZES);
  sz.batch = 1;
  EXPECT_EQ(Try(sz,
                [&](pcpool_run& r) {
                  r.flags = PCPOOL_RUN_HIST;
                  r.hist = hp;
                }),
            -EINVAL);
  EXPECT_EQ(Try(sz, [](pcpool_run& r) { r.seed = PCPOOL_SIZES_REAL + 1; }), -EINVAL);
  // The flag and the pointer go together.
  EXPECT_EQ(Try(rep, [](pcpool_run& r) { r.flags = PCPOOL_RUN_HIST; }), -EINVAL);
  EXPECT_EQ(Try(rep, [&](pcpool_run& r) { r.hist = hp; }), -EINVAL);
  // The histogram's own header.
  EXPECT_EQ(Try(rep,
                [&](pcpool_run& r) {
                  r.flags = PCPOOL_RUN_HIST;
                  r.hist = 64;  // faults
                }),
            -EFAULT);
  h.size = PCPOOL_HIST_SIZE_VER0 + 8;
  EXPECT_EQ(Try(rep,
                [&](pcpool_run& r) {
                  r.flags = PCPOOL_RUN_HIST;
                  r.hist = hp;
                }),
            -EINVAL);
  h.size = PCPOOL_HIST_SIZE_VER0;
  h.shift = PCPOOL_HIST_MAX_SHIFT + 1;
  EXPECT_EQ(Try(rep,
                [&](pcpool_run& r) {
                  r.flags = PCPOOL_RUN_HIST;
                  r.hist = hp;
                }),
            -EINVAL);
}

TEST_F(RunTest, ValidationOps) {
  pcpool_run ok = Valid(kNull, PCPOOL_WL_REPEAT);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.ops = 0; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.ops = PCPOOL_MAX_RUN_OPS + 1; }), -EINVAL);
  EXPECT_EQ(Try(ok, [](pcpool_run& r) { r.ops = ~0ULL; }), -EINVAL);
}

TEST_F(RunTest, ValidationBatch) {
  // batch must be 0
  pcpool_run rep = Valid(kNull, PCPOOL_WL_REPEAT);
  EXPECT_EQ(Try(rep, [](pcpool_run& r) { r.batch = 1; }), -EINVAL);
  pcpool_run vr = Valid(kVmap, PCPOOL_WL_VM_RANDOM);
  EXPECT_EQ(Try(vr, [](pcpool_run& r) { r.batch = 1; }), -EINVAL);
  // 1..PCPOOL_MAX_BATCH
  for (uint32_t wl : {PCPOOL_WL_BULK, PCPOOL_WL_BUSY, PCPOOL_WL_CHURN}) {
    pcpool_run r = Valid(kNull, wl);
    EXPECT_EQ(Try(r, [](pcpool_run& x) { x.batch = 0; }), -EINVAL) << wl;
    EXPECT_EQ(Try(r, [](pcpool_run& x) { x.batch = PCPOOL_MAX_BATCH + 1; }), -EINVAL) << wl;
  }
  pcpool_run sz = Valid(kPcpu, PCPOOL_WL_PCPU_SIZES);
  EXPECT_EQ(Try(sz, [](pcpool_run& x) { x.batch = 0; }), -EINVAL);
  EXPECT_EQ(Try(sz, [](pcpool_run& x) { x.batch = PCPOOL_MAX_BATCH + 1; }), -EINVAL);
  pcpool_run vb = Valid(kVmap, PCPOOL_WL_VM_LONG_BUSY);
  EXPECT_EQ(Try(vb, [](pcpool_run& x) { x.batch = 0; }), -EINVAL);
  // 1..the possible CPUs
  pcpool_run lc = Valid(kPcpu, PCPOOL_WL_PCPU_LIFECYCLE);
  EXPECT_EQ(Try(lc, [](pcpool_run& x) { x.batch = 0; }), -EINVAL);
  EXPECT_EQ(Try(lc, [](pcpool_run& x) { x.batch = 5; }), -EINVAL);  // 4 possible
}

TEST_F(RunTest, ValidationStructSize) {
  pcpool_run r = Valid(kNull, PCPOOL_WL_REPEAT);
  r.size = PCPOOL_RUN_SIZE_VER0 - 8;
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_RUN, &r), -EINVAL);
  // A VER0 caller: the fields past it read as zero.
  r = Valid(kNull, PCPOOL_WL_REPEAT);
  r.size = PCPOOL_RUN_SIZE_VER0;
  r.seed = 7;  // beyond VER0: never seen
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_RUN, &r), 0);
  EXPECT_EQ(r.done, 10U);
}

TEST_F(RunTest, ChargedAgainstTheCap) {
  pcpool_run r = Valid(kNull, PCPOOL_WL_BULK);
  r.order = 2;
  r.batch = kCap / 4;
  r.ops = kCap / 4;
  EXPECT_EQ(pcpool_m_run(cap_, &r), 0);  // exactly the cap
  r.batch = kCap / 4 + 1;
  r.ops = kCap / 4 + 1;
  EXPECT_EQ(pcpool_m_run(cap_, &r), -ENOMEM);
  EXPECT_EQ(r.done, 0U);
  // BULK charges min(batch, ops) blocks: fewer ops fit again.
  r.ops = kCap / 4;
  EXPECT_EQ(pcpool_m_run(cap_, &r), 0);
  // What a session holds counts against its RUNs.
  std::vector<uint64_t> h(kCap - 99);
  ASSERT_EQ(Alloc(kNull, 0, h), 0);
  pcpool_run vr = Valid(kVmap, PCPOOL_WL_VM_RANDOM);  // charges 100 pages
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_RUN, &vr), -ENOMEM);
  ASSERT_EQ(Free(std::vector<uint64_t>(h.begin(), h.begin() + 1)), 0);
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_RUN, &vr), 0);
  EXPECT_EQ(pcpool_m_session_pages(s_), static_cast<long>(kCap - 100));
}

TEST_F(RunTest, CapChargeUncharge) {
  pcpool_cap* cap = pcpool_m_cap_create(10);
  EXPECT_EQ(pcpool_m_charge(cap, 11), -ENOMEM);
  EXPECT_EQ(pcpool_m_cap_pages(cap), 0);
  EXPECT_EQ(pcpool_m_charge(cap, 10), 0);
  EXPECT_EQ(pcpool_m_charge(cap, 1), -ENOMEM);
  EXPECT_EQ(pcpool_m_charge(cap, 0), 0);
  pcpool_m_uncharge(cap, 4);
  EXPECT_EQ(pcpool_m_charge(cap, ~0UL), -ENOMEM);  // no wrap-around
  EXPECT_EQ(pcpool_m_charge(cap, 4), 0);
  EXPECT_EQ(pcpool_m_cap_pages(cap), 10);
  pcpool_m_uncharge(cap, 10);
  pcpool_m_cap_destroy(cap);
}

TEST_F(RunTest, CapConcurrentChargesNeverPassTheMax) {
  pcpool_cap* cap = pcpool_m_cap_create(1000);
  std::atomic<long> held{0};
  std::vector<std::thread> t;
  for (int i = 0; i < 4; i++)
    t.emplace_back([&] {
      for (int n = 0; n < 20000; n++) {
        if (pcpool_m_charge(cap, 3) == 0) {
          long now = held += 3;
          EXPECT_LE(now, 1000);
          held -= 3;
          pcpool_m_uncharge(cap, 3);
        }
      }
    });
  for (auto& th : t) th.join();
  EXPECT_EQ(pcpool_m_cap_pages(cap), 0);
  pcpool_m_cap_destroy(cap);
}

struct Case {
  uint32_t backend, workload, order, batch;
  uint64_t ops, seed;
};

TEST_F(RunTest, EveryWorkloadRuns) {
  const Case cases[] = {
      {kKernel, PCPOOL_WL_REPEAT, 0, 0, 100, 0},      {kKernel, PCPOOL_WL_BULK, 3, 7, 100, 0},
      {kKernel, PCPOOL_WL_BUSY, 1, 16, 200, 1},       {kKernel, PCPOOL_WL_CHURN, 0, 32, 500, 2},
      {kPcpu, PCPOOL_WL_REPEAT, 5, 0, 100, 0},        {kPcpu, PCPOOL_WL_CHURN, 3, 8, 100, 3},
      {kPcpu, PCPOOL_WL_PCPU_LIFECYCLE, 0, 4, 50, 0}, {kPcpu, PCPOOL_WL_PCPU_SIZES, 0, 16, 100, 0},
      {kVmap, PCPOOL_WL_REPEAT, 2, 0, 50, 0},         {kVmap, PCPOOL_WL_VM_RANDOM, 0, 0, 50, 4},
      {kVmap, PCPOOL_WL_VM_LONG_BUSY, 0, 10, 20, 5},
  };
  for (const Case& c : cases) {
    pcpool_run r{};
    r.size = sizeof(r);
    r.backend = c.backend;
    r.workload = c.workload;
    r.order = c.order;
    r.batch = c.batch;
    r.ops = c.ops;
    r.seed = c.seed;
    EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_RUN, &r), 0) << c.backend << "/" << c.workload;
    EXPECT_EQ(r.done, c.ops) << c.backend << "/" << c.workload;
    EXPECT_EQ(pcpool_m_session_pages(s_), 0);
    EXPECT_EQ(pcpool_m_test_objs_live(), 0);
    EXPECT_EQ(pcpool_kshim_pages_live(), 0);
  }
}

TEST_F(RunTest, HistogramCountsEveryOp) {
  auto h = std::make_unique<pcpool_hist>();
  h->size = PCPOOL_HIST_SIZE_VER0;
  h->shift = 0;
  pcpool_run r = Valid(kNull, PCPOOL_WL_REPEAT);
  r.ops = 300;
  r.flags = PCPOOL_RUN_HIST;
  r.hist = reinterpret_cast<uintptr_t>(h.get());
  ASSERT_EQ(pcpool_m_run(cap_, &r), 0);
  EXPECT_EQ(std::accumulate(std::begin(h->alloc), std::end(h->alloc), uint64_t{0}), 300U);
  EXPECT_EQ(std::accumulate(std::begin(h->free), std::end(h->free), uint64_t{0}), 300U);
  EXPECT_EQ(h->size, static_cast<uint32_t>(PCPOOL_HIST_SIZE_VER0));
  // One op in 2^shift is timed.
  h = std::make_unique<pcpool_hist>();
  h->size = PCPOOL_HIST_SIZE_VER0;
  h->shift = 2;
  r.hist = reinterpret_cast<uintptr_t>(h.get());
  ASSERT_EQ(pcpool_m_run(cap_, &r), 0);
  EXPECT_EQ(std::accumulate(std::begin(h->alloc), std::end(h->alloc), uint64_t{0}), 75U);
  EXPECT_EQ(pcpool_m_lat_bucket(0), 0U);
  EXPECT_EQ(pcpool_m_lat_bucket(~0ULL), PCPOOL_HIST_BUCKETS - 1U);
}

TEST_F(RunTest, FailureMidRunUndoes) {
  pcpool_run r = Valid(kKernel, PCPOOL_WL_BULK);
  r.batch = 10;
  r.ops = 100;
  ASSERT_EQ(pcpool_m_fail_nth(25), 0);
  EXPECT_EQ(pcpool_m_run(cap_, &r), -ENOMEM);
  EXPECT_EQ(r.done, 24U);
  EXPECT_EQ(pcpool_kshim_pages_live(), 0);
  // CHURN backs off on -ENOMEM instead of failing.
  r = Valid(kKernel, PCPOOL_WL_CHURN);
  r.batch = 20;
  r.ops = 200;
  ASSERT_EQ(pcpool_m_fail_nth(30), 0);
  EXPECT_EQ(pcpool_m_run(cap_, &r), 0);
  EXPECT_EQ(r.done, 200U);
  EXPECT_GE(r.backoffs, 1U);
  ASSERT_EQ(pcpool_m_fail_nth(0), 0);
}

TEST_F(RunTest, KilledTaskStops) {
  pcpool_run r = Valid(kNull, PCPOOL_WL_REPEAT);
  r.ops = 5000;
  pcpool_kshim_set_killed(true);
  EXPECT_EQ(pcpool_m_run(cap_, &r), -EINTR);
  pcpool_kshim_set_killed(false);
  EXPECT_EQ(r.done, 1024U);  // stops at the first yield point
}

TEST_F(RunTest, ConcurrentRunsOneSession) {
  std::vector<std::thread> t;
  for (int i = 0; i < 4; i++)
    t.emplace_back([&, i] {
      pcpool_kshim_set_cpu(i);
      pcpool_run r = Valid(i % 2 ? kKernel : kPcpu, PCPOOL_WL_BUSY);
      r.batch = 8;
      r.ops = 300;
      r.seed = i;
      EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_RUN, &r), 0);
      EXPECT_EQ(r.cpu, static_cast<uint32_t>(i));
    });
  for (auto& th : t) th.join();
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
}

}  // namespace
}  // namespace pcpool_test
