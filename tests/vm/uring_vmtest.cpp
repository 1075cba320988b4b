// SPDX-License-Identifier: GPL-2.0
// Integration tests for the harness side of pcpool.ko, run in the guest
// (tests/vm/harness_vmtest.sh) as root with the module loaded:
//   - io_uring: IORING_OP_URING_CMD returns what ioctl() returns, runs on
//     the submitting CPU, survives a punt to io-wq (IOSQE_ASYNC) and an
//     SQE128 ring, and takes many commands per io_uring_enter;
//   - RUN since PCPOOL_RUN_SIZE_VER1: validation of the new fields, the
//     latency histogram, BULK's halves, BUSY, CHURN and its ENOMEM
//     back-off, and the vmalloc backend's test_vmalloc workloads.
// Raw ioctls and raw liburing, no harness library in between. Every test
// ends by checking that debugfs "outstanding" is 0 for every backend.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <liburing.h>
#include <linux/pcpool.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "vmtest.h"

namespace {

using namespace vmtest;  // NOLINT(google-build-using-namespace): the shared helpers

pcpool_run MakeRun(uint32_t backend, uint32_t workload, uint64_t ops, uint32_t batch,
                   uint64_t seed = 0) {
  pcpool_run r{};
  r.size = sizeof(r);
  r.backend = backend;
  r.workload = workload;
  r.ops = ops;
  r.batch = batch;
  r.seed = seed;
  return r;
}

uint64_t Sum(const __u64* b) { return std::accumulate(b, b + PCPOOL_HIST_BUCKETS, uint64_t{0}); }

class UringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = open(kDevice, O_RDWR | O_CLOEXEC);
    if (fd_ < 0 && errno == ENOENT) GTEST_SKIP() << "module not loaded";
    if (fd_ < 0 && errno == EACCES) GTEST_SKIP() << "run as root";
    ASSERT_GE(fd_, 0) << strerror(errno);
    version_.size = sizeof(version_);
    ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, &version_), 0);
    for (uint32_t id : {PCPOOL_BACKEND_KERNEL, PCPOOL_BACKEND_NULL, PCPOOL_BACKEND_VMALLOC})
      if (version_.backends & (1ULL << id)) backends_.push_back(id);
    const int ret = io_uring_queue_init(64, &ring_, 0);
    if (ret < 0) GTEST_SKIP() << "io_uring: " << strerror(-ret);
    have_ring_ = true;
  }

  void TearDown() override {
    SetFailNth(0);
    if (have_ring_) io_uring_queue_exit(&ring_);
    if (fd_ >= 0) close(fd_);
    for (const auto& [name, pages] : Outstanding())
      EXPECT_EQ(pages, 0) << "backend " << name << " leaked pages";
  }

  // Queues one command; @size is what goes into the payload's size (the
  // struct's own size field unless a test says otherwise).
  static void Prep(io_uring_sqe* sqe, int fd, uint32_t op, void* arg, uint32_t size,
                   uint32_t flags = 0) {
    io_uring_prep_rw(IORING_OP_URING_CMD, sqe, fd, nullptr, 0, 0);
    sqe->cmd_op = op;
    pcpool_uring_cmd pdu{};
    pdu.arg = reinterpret_cast<uintptr_t>(arg);
    pdu.size = size;
    pdu.flags = flags;
    memcpy(sqe->cmd, &pdu, sizeof(pdu));
  }

  // Submits the queued SQEs and returns the CQE results in user_data order.
  std::vector<int> SubmitAndReap(io_uring* ring, unsigned n) {
    std::vector<int> res(n, 12345);
    int ret = io_uring_submit_and_wait(ring, n);
    EXPECT_EQ(ret, static_cast<int>(n));
    for (unsigned i = 0; i < n; i++) {
      io_uring_cqe* cqe = nullptr;
      EXPECT_EQ(io_uring_wait_cqe(ring, &cqe), 0);
      if (!cqe) break;
      const uint64_t k = io_uring_cqe_get_data64(cqe);
      if (k < n) res[k] = cqe->res;
      io_uring_cqe_seen(ring, cqe);
    }
    return res;
  }

  int UringRaw(uint32_t op, void* arg, uint32_t size, uint8_t sqe_flags = 0, uint32_t flags = 0,
               io_uring* ring = nullptr) {
    if (!ring) ring = &ring_;
    io_uring_sqe* sqe = io_uring_get_sqe(ring);
    Prep(sqe, fd_, op, arg, size, flags);
    sqe->flags |= sqe_flags;
    io_uring_sqe_set_data64(sqe, 0);
    return SubmitAndReap(ring, 1)[0];
  }

  template <typename T>
  int Uring(uint32_t op, T* arg, uint8_t sqe_flags = 0) {
    return UringRaw(op, arg, arg->size, sqe_flags);
  }

  int fd_ = -1;
  pcpool_version version_{};
  std::vector<uint32_t> backends_;
  io_uring ring_{};
  bool have_ring_ = false;
};

TEST_F(UringTest, VersionMatchesIoctl) {
  pcpool_version a{}, b{};
  a.size = b.size = sizeof(a);
  ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, &a), 0);
  ASSERT_EQ(Uring(PCPOOL_IOC_VERSION, &b), 0);
  EXPECT_EQ(memcmp(&a, &b, sizeof(a)), 0);
}

// The same RUNs through both paths: same results, same counter deltas,
// on the submitting (pinned) CPU.
TEST_F(UringTest, RunGivesTheSameResultsAsIoctl) {
  const int cpu = sched_getcpu();
  ASSERT_TRUE(PinSelf(cpu));
  struct Case {
    uint32_t wl, batch;
    uint64_t ops, seed;
  };
  const Case cases[] = {{PCPOOL_WL_REPEAT, 0, 3000, 0},
                        {PCPOOL_WL_BULK, 64, 3000, 0},
                        {PCPOOL_WL_BUSY, 256, 3000, 11},
                        {PCPOOL_WL_CHURN, 128, 3000, 12}};
  for (uint32_t b : backends_) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(BackendName(b)) + " workload " + std::to_string(c.wl));
      std::map<std::string, int64_t> delta[2];
      pcpool_run out[2];
      for (int path = 0; path < 2; path++) {
        auto before = Counters(BackendName(b));
        out[path] = MakeRun(b, c.wl, c.ops, c.batch, c.seed);
        const int ret =
            path == 0 ? Ioctl(fd_, PCPOOL_IOC_RUN, &out[path]) : Uring(PCPOOL_IOC_RUN, &out[path]);
        ASSERT_EQ(ret, 0);
        auto after = Counters(BackendName(b));
        for (const auto& [k, v] : after) delta[path][k] = v - before[k];
        EXPECT_EQ(out[path].done, c.ops);
        EXPECT_GT(out[path].ns, 0U);
        EXPECT_EQ(out[path].cpu, static_cast<uint32_t>(cpu)) << "path " << path;
        EXPECT_EQ(out[path].cpu_end, static_cast<uint32_t>(cpu)) << "path " << path;
      }
      for (const char* k : {"allocs", "frees", "pages_allocated", "pages_freed"})
        EXPECT_EQ(delta[0][k], delta[1][k]) << k;
      EXPECT_EQ(delta[0]["allocs"], delta[0]["frees"]);
      EXPECT_EQ(out[0].backoffs, out[1].backoffs);
    }
  }
}

TEST_F(UringTest, HandlesAndChannelsMixWithIoctl) {
  std::vector<uint64_t> h(100);
  pcpool_alloc a{};
  a.size = sizeof(a);
  a.backend = PCPOOL_BACKEND_NULL;
  a.count = h.size();
  a.handles = reinterpret_cast<uintptr_t>(h.data());
  ASSERT_EQ(Uring(PCPOOL_IOC_ALLOC, &a), 0);
  pcpool_stats st{};
  st.size = sizeof(st);
  st.backend = PCPOOL_BACKEND_NULL;
  ASSERT_EQ(Uring(PCPOOL_IOC_STATS, &st), 0);
  EXPECT_EQ(st.session_handles, 100U);
  // Handles from io_uring free through ioctl, and again: -ENOENT.
  pcpool_free f{};
  f.size = sizeof(f);
  f.count = 60;
  f.handles = reinterpret_cast<uintptr_t>(h.data());
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_FREE, &f), 0);
  EXPECT_EQ(Uring(PCPOOL_IOC_FREE, &f), -ENOENT);
  EXPECT_EQ(f.freed, 0U);
  f.count = 40;
  f.handles = reinterpret_cast<uintptr_t>(h.data() + 60);
  EXPECT_EQ(Uring(PCPOOL_IOC_FREE, &f), 0);
  EXPECT_EQ(f.freed, 40U);

  pcpool_chan c{};
  c.size = sizeof(c);
  c.op = PCPOOL_CHAN_ALLOC;
  c.chan = 3;
  c.backend = PCPOOL_BACKEND_NULL;
  c.count = 50;
  ASSERT_EQ(Uring(PCPOOL_IOC_CHAN, &c), 0);
  EXPECT_EQ(c.done, 50U);
  c = pcpool_chan{};
  c.size = sizeof(c);
  c.op = PCPOOL_CHAN_FREE;
  c.chan = 3;
  c.count = 64;
  ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_CHAN, &c), 0);
  EXPECT_EQ(c.done, 50U);
}

TEST_F(UringTest, ErrorsMatchIoctl) {
  // Same struct, same error, both paths.
  auto both = [&](pcpool_run r, int want, const char* what) {
    pcpool_run a = r, b = r;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &a), want) << what;
    EXPECT_EQ(Uring(PCPOOL_IOC_RUN, &b), want) << what;
  };
  pcpool_run r = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_REPEAT, 10, 0);
  both(r, 0, "valid");
  r.flags = 8;
  both(r, -EINVAL, "unknown flag");
  r = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_REPEAT, 10, 0);
  r.backend = 31;
  both(r, -ENOENT, "absent backend");
  r = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_REPEAT, 10, 0);
  r.size = 8;
  both(r, -EINVAL, "size below VER0");

  // A larger struct with a non-zero tail.
  alignas(8) unsigned char big[256] = {};
  r = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_REPEAT, 10, 0);
  r.size = sizeof(big);
  memcpy(big, &r, sizeof(r));
  big[200] = 1;
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, big), -E2BIG);
  EXPECT_EQ(UringRaw(PCPOOL_IOC_RUN, big, sizeof(big)), -E2BIG);

  // A bad argument pointer.
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, reinterpret_cast<void*>(8)), -EFAULT);
  EXPECT_EQ(UringRaw(PCPOOL_IOC_RUN, reinterpret_cast<void*>(8), sizeof(pcpool_run)), -EFAULT);

  // Unknown commands: -ENOTTY for ioctl, -EOPNOTSUPP for io_uring.
  pcpool_version v{};
  v.size = sizeof(v);
  for (uint32_t op : {static_cast<uint32_t>(_IOWR(PCPOOL_IOC_MAGIC, 0x40, pcpool_version)),
                      static_cast<uint32_t>(_IOR(PCPOOL_IOC_MAGIC, 0x00, pcpool_version)), 0U}) {
    EXPECT_EQ(Ioctl(fd_, op, &v), -ENOTTY) << std::hex << op;
    EXPECT_EQ(UringRaw(op, &v, v.size), -EOPNOTSUPP) << std::hex << op;
  }

  // io_uring only: the payload's own checks.
  r = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_REPEAT, 10, 0);
  EXPECT_EQ(UringRaw(PCPOOL_IOC_RUN, &r, r.size, 0, 1), -EINVAL) << "payload flags";
  EXPECT_EQ(UringRaw(PCPOOL_IOC_RUN, &r, 0), -EINVAL) << "payload size 0";
  EXPECT_EQ(UringRaw(PCPOOL_IOC_RUN, &r, PCPOOL_RUN_SIZE_VER0), -EINVAL)
      << "payload size differs from the struct's";
  // A caller built against the VER0 header, consistently: accepted.
  r.size = PCPOOL_RUN_SIZE_VER0;
  EXPECT_EQ(UringRaw(PCPOOL_IOC_RUN, &r, PCPOOL_RUN_SIZE_VER0), 0);
  EXPECT_EQ(r.done, 10U);
}

// Many commands per io_uring_enter, on an SQE128 ring too.
TEST_F(UringTest, ManyCommandsPerEnter) {
  for (const unsigned flags : {0U, static_cast<unsigned>(IORING_SETUP_SQE128)}) {
    io_uring ring{};
    ASSERT_EQ(io_uring_queue_init(64, &ring, flags), 0);
    constexpr unsigned kN = 48;
    std::vector<pcpool_run> runs(kN);
    auto before = Counters("null");
    for (unsigned i = 0; i < kN; i++) {
      runs[i] = MakeRun(PCPOOL_BACKEND_NULL, i % 2 ? PCPOOL_WL_BULK : PCPOOL_WL_REPEAT, 100 + i,
                        i % 2 ? 16 : 0);
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      ASSERT_NE(sqe, nullptr);
      Prep(sqe, fd_, PCPOOL_IOC_RUN, &runs[i], runs[i].size);
      io_uring_sqe_set_data64(sqe, i);
    }
    const std::vector<int> res = SubmitAndReap(&ring, kN);
    uint64_t total = 0;
    for (unsigned i = 0; i < kN; i++) {
      EXPECT_EQ(res[i], 0) << i;
      EXPECT_EQ(runs[i].done, 100U + i) << i;
      total += 100 + i;
    }
    auto after = Counters("null");
    EXPECT_EQ(after["allocs"] - before["allocs"], static_cast<int64_t>(total));
    io_uring_queue_exit(&ring);
  }
}

// IOSQE_ASYNC makes io_uring copy the 16-byte command area and run the
// command from an io-wq worker: the payload must still be read right.
TEST_F(UringTest, PuntedToIoWqStillCorrect) {
  pcpool_run r = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_BULK, 5000, 50);
  ASSERT_EQ(Uring(PCPOOL_IOC_RUN, &r, IOSQE_ASYNC), 0);
  EXPECT_EQ(r.done, 5000U);
  std::vector<uint64_t> h(10);
  pcpool_alloc a{};
  a.size = sizeof(a);
  a.backend = PCPOOL_BACKEND_KERNEL;
  a.count = h.size();
  a.handles = reinterpret_cast<uintptr_t>(h.data());
  ASSERT_EQ(Uring(PCPOOL_IOC_ALLOC, &a, IOSQE_ASYNC), 0);
  pcpool_free f{};
  f.size = sizeof(f);
  f.count = h.size();
  f.handles = reinterpret_cast<uintptr_t>(h.data());
  ASSERT_EQ(Uring(PCPOOL_IOC_FREE, &f, IOSQE_ASYNC), 0);
  EXPECT_EQ(f.freed, 10U);
}

// The other thread's ring, the other CPU: each command runs where it was
// submitted.
TEST_F(UringTest, RunsOnTheSubmittingCpu) {
  cpu_set_t set;
  ASSERT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &set)) continue;
    std::thread t([&, cpu] {
      ASSERT_TRUE(PinSelf(cpu));
      io_uring ring{};
      ASSERT_EQ(io_uring_queue_init(8, &ring, 0), 0);
      pcpool_run r = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_REPEAT, 1000, 0);
      EXPECT_EQ(UringRaw(PCPOOL_IOC_RUN, &r, r.size, 0, 0, &ring), 0);
      EXPECT_EQ(r.cpu, static_cast<uint32_t>(cpu));
      EXPECT_EQ(r.cpu_end, static_cast<uint32_t>(cpu));
      io_uring_queue_exit(&ring);
    });
    t.join();
  }
}

class RunV1Test : public UringTest {};

TEST_F(RunV1Test, NewFieldsAreValidated) {
  auto hist = std::make_unique<pcpool_hist>();
  hist->size = sizeof(*hist);
  auto run = [&](auto edit) {
    pcpool_run r = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_REPEAT, 10, 0);
    edit(r);
    return Ioctl(fd_, PCPOOL_IOC_RUN, &r);
  };
  const uintptr_t hp = reinterpret_cast<uintptr_t>(hist.get());
  EXPECT_EQ(run([&](pcpool_run& r) {
              r.flags = PCPOOL_RUN_HIST;
              r.hist = hp;
            }),
            0);
  EXPECT_EQ(run([](pcpool_run& r) { r.flags = PCPOOL_RUN_HIST; }), -EINVAL);
  EXPECT_EQ(run([&](pcpool_run& r) { r.hist = hp; }), -EINVAL);
  EXPECT_EQ(run([](pcpool_run& r) { r.flags = 8; }), -EINVAL);
  EXPECT_EQ(run([](pcpool_run& r) { r.frag = 1; }), -EINVAL);
  EXPECT_EQ(run([](pcpool_run& r) { r.seed = 3; }), -EINVAL) << "REPEAT takes no seed";
  EXPECT_EQ(run([](pcpool_run& r) {
              r.flags = PCPOOL_RUN_HIST;
              r.hist = 8;
            }),
            -EFAULT);
  hist->size = sizeof(*hist) - 8;
  EXPECT_EQ(run([&](pcpool_run& r) {
              r.flags = PCPOOL_RUN_HIST;
              r.hist = hp;
            }),
            -EINVAL);
  hist->size = sizeof(*hist);
  hist->shift = PCPOOL_HIST_MAX_SHIFT + 1;
  EXPECT_EQ(run([&](pcpool_run& r) {
              r.flags = PCPOOL_RUN_HIST;
              r.hist = hp;
            }),
            -EINVAL);
  hist->shift = 0;

  // Per-workload arguments.
  auto wl = [&](uint32_t backend, uint32_t w, uint32_t batch, uint32_t order = 0) {
    pcpool_run r = MakeRun(backend, w, 10, batch, 1);
    r.order = order;
    return Ioctl(fd_, PCPOOL_IOC_RUN, &r);
  };
  EXPECT_EQ(wl(PCPOOL_BACKEND_NULL, PCPOOL_WL_BUSY, 0), -EINVAL);
  EXPECT_EQ(wl(PCPOOL_BACKEND_NULL, PCPOOL_WL_CHURN, PCPOOL_MAX_BATCH + 1), -EINVAL);
  EXPECT_EQ(wl(PCPOOL_BACKEND_NULL, PCPOOL_WL_BUSY, 8, version_.max_order + 1), -EINVAL);
  EXPECT_EQ(wl(PCPOOL_BACKEND_KERNEL, PCPOOL_WL_VM_RANDOM, 0), -EINVAL) << "vmalloc only";
  EXPECT_EQ(wl(PCPOOL_BACKEND_NULL, PCPOOL_WL_VM_LONG_BUSY, 10), -EINVAL) << "vmalloc only";
  if (version_.backends & (1ULL << PCPOOL_BACKEND_VMALLOC)) {
    EXPECT_EQ(wl(PCPOOL_BACKEND_VMALLOC, PCPOOL_WL_VM_RANDOM, 1), -EINVAL) << "batch must be 0";
    EXPECT_EQ(wl(PCPOOL_BACKEND_VMALLOC, PCPOOL_WL_VM_RANDOM, 0, 1), -EINVAL) << "order 0 only";
    EXPECT_EQ(wl(PCPOOL_BACKEND_VMALLOC, PCPOOL_WL_VM_LONG_BUSY, 0), -EINVAL);
    EXPECT_EQ(wl(PCPOOL_BACKEND_VMALLOC, PCPOOL_WL_VM_RANDOM, 0), 0);
  }
  // The per-CPU workloads take no histogram.
  if (version_.backends & (1ULL << PCPOOL_BACKEND_PCPU_KERNEL)) {
    pcpool_run r = MakeRun(PCPOOL_BACKEND_PCPU_KERNEL, PCPOOL_WL_PCPU_SIZES, 10, 4);
    r.flags = PCPOOL_RUN_HIST;
    r.hist = hp;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), -EINVAL);
  }
}

TEST_F(RunV1Test, HistogramCountsTimedOperations) {
  auto hist = std::make_unique<pcpool_hist>();
  struct Case {
    uint32_t wl, batch, shift;
    uint64_t ops, seed;
  };
  for (const Case& c :
       {Case{PCPOOL_WL_REPEAT, 0, 0, 1000, 0}, Case{PCPOOL_WL_REPEAT, 0, 3, 1000, 0},
        Case{PCPOOL_WL_BULK, 32, 0, 1000, 0}, Case{PCPOOL_WL_BUSY, 64, 0, 1000, 5},
        Case{PCPOOL_WL_CHURN, 64, 0, 1000, 6}}) {
    for (uint32_t b : backends_) {
      SCOPED_TRACE(std::string(BackendName(b)) + " wl " + std::to_string(c.wl) + " shift " +
                   std::to_string(c.shift));
      memset(hist.get(), 0xa5, sizeof(*hist));  // the kernel zeroes its out fields
      hist->size = sizeof(*hist);
      hist->shift = c.shift;
      pcpool_run r = MakeRun(b, c.wl, c.ops, c.batch, c.seed);
      r.flags = PCPOOL_RUN_HIST;
      r.hist = reinterpret_cast<uintptr_t>(hist.get());
      ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), 0);
      ASSERT_EQ(r.done, c.ops);
      const uint64_t allocs = Sum(hist->alloc), frees = Sum(hist->free);
      const uint64_t every = uint64_t{1} << c.shift;
      if (c.wl == PCPOOL_WL_CHURN) {
        EXPECT_EQ(allocs, c.ops);  // allocations in bursts; frees vary
        EXPECT_GT(frees, 0U);
      } else {
        EXPECT_EQ(allocs, (c.ops + every - 1) / every);
        EXPECT_EQ(frees, (c.ops + every - 1) / every);
      }
      EXPECT_EQ(hist->size, sizeof(*hist));
      EXPECT_EQ(hist->shift, c.shift);
      EXPECT_GT(hist->alloc_max_ns, 0U);
      EXPECT_LE(hist->alloc_max_ns, hist->alloc_sum_ns);
      EXPECT_LE(hist->alloc_sum_ns + hist->free_sum_ns, r.ns) << "timed parts of the loop";
      // The slowest sample sits in the highest non-empty bucket.
      int top = PCPOOL_HIST_BUCKETS - 1;
      while (top > 0 && !hist->alloc[top]) top--;
      const uint64_t v = hist->alloc_max_ns;
      unsigned e = 63;
      while (e && !(v >> e)) e--;
      const int want =
          v < 8 ? static_cast<int>(v) : static_cast<int>((e - 2) * 8 + (v >> (e - 3)) - 8);
      EXPECT_EQ(top, want);
    }
  }
}

TEST_F(RunV1Test, BulkAndChurnTimeTheirHalves) {
  for (uint32_t b : backends_) {
    SCOPED_TRACE(BackendName(b));
    pcpool_run r = MakeRun(b, PCPOOL_WL_BULK, 4096, 64);
    ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), 0);
    EXPECT_GT(r.alloc_ns, 0U);
    EXPECT_GT(r.free_ns, 0U);
    EXPECT_LE(r.alloc_ns + r.free_ns, r.ns);
    r = MakeRun(b, PCPOOL_WL_REPEAT, 100, 0);
    ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), 0);
    EXPECT_EQ(r.alloc_ns, 0U);
    EXPECT_EQ(r.backoffs, 0U);
  }
}

TEST_F(RunV1Test, BusyKeepsItsLiveSetAndReleasesIt) {
  for (uint32_t b : backends_) {
    SCOPED_TRACE(BackendName(b));
    auto before = Counters(BackendName(b));
    pcpool_run r = MakeRun(b, PCPOOL_WL_BUSY, 2000, 500, 9);
    ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), 0);
    EXPECT_EQ(r.done, 2000U);
    auto after = Counters(BackendName(b));
    EXPECT_EQ(after["allocs"] - before["allocs"], 2500);
    EXPECT_EQ(after["frees"] - before["frees"], 2500);
  }
}

TEST_F(RunV1Test, ChurnIsSeededAndBacksOffOnEnomem) {
  auto hist = std::make_unique<pcpool_hist>();
  // Timed frees: what the bursts freed, which the seed decides.
  auto churn = [&](uint64_t seed, pcpool_run* out) {
    auto before = Counters("null");
    hist->size = sizeof(*hist);
    hist->shift = 0;
    *out = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_CHURN, 5000, 100, seed);
    out->flags = PCPOOL_RUN_HIST;
    out->hist = reinterpret_cast<uintptr_t>(hist.get());
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, out), 0);
    auto after = Counters("null");
    EXPECT_EQ(after["allocs"] - before["allocs"], after["frees"] - before["frees"]);
    EXPECT_EQ(after["allocs"] - before["allocs"], 5000 + 100) << "bursts plus the ramp";
    return Sum(hist->free);
  };
  pcpool_run r{};
  const uint64_t a = churn(42, &r);
  EXPECT_EQ(churn(42, &r), a) << "the same seed, the same bursts";
  EXPECT_NE(churn(4242, &r), a) << "another seed, other bursts";
  EXPECT_EQ(r.done, 5000U);
  EXPECT_EQ(r.backoffs, 0U);
  EXPECT_GT(r.alloc_ns, 0U);
  EXPECT_GT(r.free_ns, 0U);

  if (!SetFailNth(0)) GTEST_SKIP() << "no debugfs fail_nth";
  // Fail one allocation in the middle: one back-off, the run completes.
  ASSERT_TRUE(SetFailNth(1000));
  churn(43, &r);
  EXPECT_EQ(r.done, 5000U);
  EXPECT_EQ(r.backoffs, 1U);
  // BUSY has no back-off: -ENOMEM, done says how far, nothing held.
  ASSERT_TRUE(SetFailNth(700));
  r = MakeRun(PCPOOL_BACKEND_NULL, PCPOOL_WL_BUSY, 2000, 500, 1);
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), -ENOMEM);
  EXPECT_EQ(r.done, 199U);
}

TEST_F(RunV1Test, VmallocWorkloadsCountTheirPages) {
  if (!(version_.backends & (1ULL << PCPOOL_BACKEND_VMALLOC))) GTEST_SKIP() << "no vmalloc";
  auto before = Counters("vmalloc");
  pcpool_run r = MakeRun(PCPOOL_BACKEND_VMALLOC, PCPOOL_WL_VM_RANDOM, 300, 0, 2);
  ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), 0);
  auto after = Counters("vmalloc");
  EXPECT_EQ(after["allocs"] - before["allocs"], 300);
  const int64_t pages = after["pages_allocated"] - before["pages_allocated"];
  EXPECT_GE(pages, 300);
  EXPECT_LE(pages, 300 * 100);
  EXPECT_GT(pages, 300 * 20) << "1..100 pages, uniformly";
  EXPECT_EQ(after["pages_freed"] - before["pages_freed"], pages);

  before = after;
  r = MakeRun(PCPOOL_BACKEND_VMALLOC, PCPOOL_WL_VM_LONG_BUSY, 200, 1000, 0);
  ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), 0);
  after = Counters("vmalloc");
  EXPECT_EQ(after["allocs"] - before["allocs"], 1000 + 2 * 200);
  EXPECT_EQ(after["pages_allocated"] - before["pages_allocated"], 1000 + 101 * 200);
  EXPECT_EQ(after["frees"] - before["frees"], 1000 + 2 * 200);
}

}  // namespace
