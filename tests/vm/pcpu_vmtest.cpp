// SPDX-License-Identifier: GPL-2.0
// Integration tests for the per-CPU memory backends of pcpool.ko (pcpu-kernel,
// pcpu-raw, pcpu-zeroed, pcpu-constructed) and their workloads, through raw
// ioctls and debugfs.  Part of pcpool-vmtest (run in the guest by
// tests/vm/guest.sh); skips without the module or without these backends.
//
// Every test ends by closing its session and checking that nothing is
// outstanding in any per-CPU backend.
//
// PcpuBench.DISABLED_Measure is the benchmark of bench/pcpu.sh: run with
// --gtest_also_run_disabled_tests --gtest_filter=PcpuBench.*; it prints one
// "pcpubench ..." line per measurement.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/pcpool.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vmtest.h"

namespace {

using namespace vmtest;  // NOLINT(google-build-using-namespace): the shared helpers

constexpr uint32_t kPcpuBackends[] = {PCPOOL_BACKEND_PCPU_KERNEL, PCPOOL_BACKEND_PCPU_RAW,
                                      PCPOOL_BACKEND_PCPU_ZEROED, PCPOOL_BACKEND_PCPU_CONSTRUCTED};
// alloc_percpu()'s largest size, 32 KiB: the per-CPU backends' last order.
constexpr uint32_t kPcpuMaxOrder = 15;
constexpr uint32_t kCacheBackends[] = {PCPOOL_BACKEND_PCPU_RAW, PCPOOL_BACKEND_PCPU_ZEROED,
                                       PCPOOL_BACKEND_PCPU_CONSTRUCTED};

std::map<std::string, int64_t> PcpuCounters(uint32_t id) { return Counters(BackendName(id)); }

int64_t PcpuOutstanding(uint32_t id) { return Outstanding()[BackendName(id)]; }

// Rows of a debugfs table with a header line, as maps.
std::vector<std::map<std::string, std::string>> Table(const std::string& path) {
  std::vector<std::map<std::string, std::string>> rows;
  std::istringstream in(ReadFile(path));
  std::string line;
  std::vector<std::string> keys;
  if (std::getline(in, line)) {
    std::istringstream hdr(line);
    std::string k;
    while (hdr >> k) keys.push_back(k);
  }
  while (std::getline(in, line)) {
    std::istringstream row(line);
    std::map<std::string, std::string> r;
    for (const auto& k : keys) row >> r[k];
    rows.push_back(r);
  }
  return rows;
}

// Parses "0-3,5" (a sysfs CPU list) into a count.
unsigned CountCpuList(const std::string& list) {
  unsigned n = 0;
  std::istringstream in(list);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (part.empty() || part == "\n") continue;
    auto dash = part.find('-');
    if (dash == std::string::npos) {
      n++;
    } else {
      n += std::stoul(part.substr(dash + 1)) - std::stoul(part.substr(0, dash)) + 1;
    }
  }
  return n;
}

unsigned PossibleCpus() { return CountCpuList(ReadFile("/sys/devices/system/cpu/possible")); }

// Sum of the request histogram (req_<size> keys).
int64_t Requests(const std::map<std::string, int64_t>& c) {
  int64_t n = 0;
  for (const auto& [k, v] : c)
    if (k.rfind("req_", 0) == 0) n += v;
  return n;
}

class PcpuVm : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = open(kDevice, O_RDWR | O_CLOEXEC);
    if (fd_ < 0 && errno == ENOENT) GTEST_SKIP() << kDevice << " missing: module not loaded";
    if (fd_ < 0 && (errno == EACCES || errno == EPERM)) GTEST_SKIP() << "needs root";
    ASSERT_GE(fd_, 0) << strerror(errno);
    version_ = Arg<pcpool_version>();
    ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, &version_), 0);
    for (uint32_t id : kPcpuBackends)
      if (!(version_.backends & (1ULL << id))) GTEST_SKIP() << "no per-CPU backends";
    nposs_ = PossibleCpus();
    ASSERT_GT(nposs_, 0u);
    page_ = 1UL << version_.page_shift;
    max_cached_ = ReadFile(std::string(kParams) + "/pcpu_max_cached_kb");
    verify_ = ReadFile(std::string(kParams) + "/pcpu_verify");
  }

  void TearDown() override {
    if (fd_ < 0) return;
    WriteFile(std::string(kDebugfs) + "/fail_nth", "0");
    WriteFile(std::string(kParams) + "/pcpu_max_cached_kb", max_cached_);
    WriteFile(std::string(kParams) + "/pcpu_verify", verify_);
    close(fd_);
    fd_ = -1;
    for (uint32_t id : kPcpuBackends) EXPECT_EQ(PcpuOutstanding(id), 0) << BackendName(id);
    if (HasNull()) {
      EXPECT_EQ(PcpuOutstanding(PCPOOL_BACKEND_PCPU_NULL), 0);
    }
  }

  [[nodiscard]] bool HasNull() const {
    return (version_.backends & (1ULL << PCPOOL_BACKEND_PCPU_NULL)) != 0;
  }

  // What one object of 2^order bytes is charged, in pages.
  [[nodiscard]] uint64_t ObjPages(uint32_t order) const {
    return ((uint64_t{1} << order) * nposs_ + page_ - 1) / page_;
  }

  int fd_ = -1;
  pcpool_version version_{};
  unsigned nposs_ = 0;
  uint64_t page_ = 4096;
  std::string max_cached_, verify_;
};

TEST_F(PcpuVm, BackendsAreListedApartFromPageOrders) {
  for (uint32_t id : kPcpuBackends) {
    auto c = PcpuCounters(id);
    for (const char* key :
         {"allocs", "frees", "pages_allocated", "pages_freed", "req_8", "req_2048"})
      EXPECT_TRUE(c.count(key)) << BackendName(id) << " lacks " << key;
  }
  for (uint32_t id : kCacheBackends) {
    auto c = PcpuCounters(id);
    for (const char* key :
         {"alloc_hits", "alloc_misses", "free_hits", "free_misses", "depot_full_get", "chunk_grow",
          "chunk_shrink", "bytes_cached", "bytes_magazines", "verify_failures", "chunks_vmalloc"})
      EXPECT_TRUE(c.count(key)) << BackendName(id) << " lacks " << key;
    EXPECT_GE(c["chunks_vmalloc"], 0) << BackendName(id);
    EXPECT_LE(c["chunks_vmalloc"], c["chunks"]) << BackendName(id);
  }
  // max_order stays the page backends' (per-CPU orders go up to kPcpuMaxOrder).
  EXPECT_LT(version_.max_order, version_.page_shift);
}

// Every size class through ALLOC/FREE: charged as the object on every
// possible CPU, counted, and given back.
TEST_F(PcpuVm, AllocFreeEveryClass) {
  for (uint32_t id : kPcpuBackends) {
    for (uint32_t order = 0; order <= kPcpuMaxOrder; order++) {
      SCOPED_TRACE(std::string(BackendName(id)) + " order " + std::to_string(order));
      auto before = PcpuCounters(id);
      // Fewer of the big ones: the session's page cap.
      const int n = order < version_.page_shift ? 300 : 30;
      std::vector<uint64_t> h(n, 0);
      ASSERT_EQ(CmdAlloc(fd_, id, order, &h), 0);
      EXPECT_EQ(std::set<uint64_t>(h.begin(), h.end()).size(), h.size());
      auto st = CmdStats(fd_, id);
      EXPECT_EQ(st.session_pages, n * ObjPages(order));
      EXPECT_EQ(PcpuOutstanding(id), static_cast<int64_t>(n * ObjPages(order)));
      ASSERT_EQ(CmdFree(fd_, h), 0);
      auto after = PcpuCounters(id);
      EXPECT_EQ(after["allocs"] - before["allocs"], n);
      EXPECT_EQ(after["frees"] - before["frees"], n);
      const std::string bucket = "req_" + std::to_string(1U << std::max<uint32_t>(order, 3));
      EXPECT_EQ(after[bucket] - before[bucket], n);
      EXPECT_EQ(PcpuOutstanding(id), 0);
    }
  }
}

TEST_F(PcpuVm, BadSizesAndWorkloadsAreRejected) {
  for (uint32_t id : kPcpuBackends) {
    SCOPED_TRACE(BackendName(id));
    std::vector<uint64_t> h(1, 0);
    // 64 KiB is above the largest class (alloc_percpu()'s 32 KiB).
    EXPECT_EQ(CmdAlloc(fd_, id, kPcpuMaxOrder + 1, &h), -EINVAL);
    EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_REPEAT, kPcpuMaxOrder + 1, 10, 0), -EINVAL);
    EXPECT_EQ(CmdChan(fd_, PCPOOL_CHAN_ALLOC, 0, id, kPcpuMaxOrder + 1, 1), -EINVAL);
    // The per-CPU workloads take their sizes themselves: order must be 0.
    EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_LIFECYCLE, 3, 10, 1), -EINVAL);
    EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_SIZES, 5, 10, 10), -EINVAL);
    EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_LIFECYCLE, 0, 10, 0), -EINVAL);
    EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_LIFECYCLE, 0, 10, version_.nr_cpu_ids + 1), -EINVAL);
    EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_SIZES, 0, 10, 0), -EINVAL);
    EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_SIZES, 0, 10, PCPOOL_MAX_BATCH + 1), -EINVAL);
    EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_SIZES, 0, 0, 10), -EINVAL);
    EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_SIZES, 0, PCPOOL_MAX_RUN_OPS + 1, 10), -EINVAL);
    auto r = Arg<pcpool_run>();
    r.backend = id;
    r.workload = PCPOOL_WL_PCPU_SIZES;
    r.ops = 10;
    r.batch = 10;
    r.resv[0] = 1;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), -EINVAL);
    r.resv[0] = 0;
    r.flags = 1;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), -EINVAL);
  }
  // Page backends have no per-CPU workloads.
  EXPECT_EQ(CmdRun(fd_, PCPOOL_BACKEND_KERNEL, PCPOOL_WL_PCPU_LIFECYCLE, 0, 10, 1), -EINVAL);
  EXPECT_EQ(CmdRun(fd_, PCPOOL_BACKEND_NULL, PCPOOL_WL_PCPU_SIZES, 0, 10, 10), -EINVAL);
  EXPECT_EQ(CmdRun(fd_, PCPOOL_BACKEND_PCPU_RAW, PCPOOL_NR_WORKLOADS, 0, 10, 1), -ENOENT);
  EXPECT_EQ(CmdStats(fd_, PCPOOL_BACKEND_PCPU_RAW).session_pages, 0u);
}

// pcpu-null, the per-CPU floor: every class through ALLOC/FREE, charged
// and counted as the others; LIFECYCLE exact on 1, 2 and every possible
// CPU, and from two CPUs at once (each CPU's objects are its own); no
// counter; nothing above the last class.
TEST_F(PcpuVm, NullIsTheFloor) {
  if (!HasNull()) GTEST_SKIP() << "no pcpu-null";
  const uint32_t id = PCPOOL_BACKEND_PCPU_NULL;
  const pcpool_stats st = CmdStats(fd_, id);
  EXPECT_EQ(st.kind, PCPOOL_KIND_PCPU);
  EXPECT_EQ(st.max_order, kPcpuMaxOrder);
  for (uint32_t order = 0; order <= kPcpuMaxOrder; order++) {
    SCOPED_TRACE("order " + std::to_string(order));
    auto before = PcpuCounters(id);
    const int n = order < version_.page_shift ? 300 : 30;
    std::vector<uint64_t> h(n, 0);
    ASSERT_EQ(CmdAlloc(fd_, id, order, &h), 0);
    EXPECT_EQ(CmdStats(fd_, id).session_pages, n * ObjPages(order));
    ASSERT_EQ(CmdFree(fd_, h), 0);
    auto after = PcpuCounters(id);
    EXPECT_EQ(after["allocs"] - before["allocs"], n);
    EXPECT_EQ(after["frees"] - before["frees"], n);
    EXPECT_EQ(PcpuOutstanding(id), 0);
  }
  for (uint32_t cpus : {1u, 2u, nposs_}) {
    if (cpus > nposs_) continue;
    SCOPED_TRACE("cpus " + std::to_string(cpus));
    pcpool_run r{};
    ASSERT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_LIFECYCLE, 0, 3000, cpus, &r), 0);
    EXPECT_EQ(r.done, 3000u);
  }
  const std::vector<int> online = OnlineCpus();
  if (online.size() >= 2) {
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 2; k++) {
      threads.emplace_back([&, cpu = online[k]] {
        const int fd = open(kDevice, O_RDWR | O_CLOEXEC);
        if (fd < 0 || !PinSelf(cpu) ||
            CmdRun(fd, PCPOOL_BACKEND_PCPU_NULL, PCPOOL_WL_PCPU_LIFECYCLE, 0, 20000, 2) != 0) {
          failed++;
        }
        if (fd >= 0) close(fd);
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(failed.load(), 0) << "a concurrent lifecycle on pcpu-null failed";
  }
  EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_COUNTER, 0, 10, 4), -EINVAL);
  EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_LIFECYCLE, 0, 10, 1, nullptr, PCPOOL_LIFECYCLE_COUNTERS),
            -EINVAL);
  std::vector<uint64_t> h(1, 0);
  EXPECT_EQ(CmdAlloc(fd_, id, kPcpuMaxOrder + 1, &h), -EINVAL);
  EXPECT_EQ(CmdRun(fd_, id, PCPOOL_WL_REPEAT, kPcpuMaxOrder + 1, 10, 0), -EINVAL);
}

// REPEAT on a cache: after the first refill everything is a magazine hit
// and the kernel's allocator is not called again.
TEST_F(PcpuVm, RepeatHitsMagazinesAndLeavesTheKernelAlone) {
  for (uint32_t id : kCacheBackends) {
    for (uint32_t order : {3u, 6u, 11u}) {
      SCOPED_TRACE(std::string(BackendName(id)) + " order " + std::to_string(order));
      ASSERT_EQ(CmdRun(fd_, id, PCPOOL_WL_REPEAT, order, 1000, 0), 0);  // warm
      auto before = PcpuCounters(id);
      pcpool_run r{};
      ASSERT_EQ(CmdRun(fd_, id, PCPOOL_WL_REPEAT, order, 100000, 0, &r), 0);
      EXPECT_EQ(r.done, 100000u);
      auto after = PcpuCounters(id);
      EXPECT_EQ(after["chunk_grow"], before["chunk_grow"]);
      // A migration may cost a refill on the new CPU; nearly all are hits.
      EXPECT_GE(after["alloc_hits"] - before["alloc_hits"], 99000);
      EXPECT_GE(after["free_hits"] - before["free_hits"], 99000);
    }
  }
}

TEST_F(PcpuVm, BulkOnEveryBackend) {
  for (uint32_t id : kPcpuBackends) {
    for (uint32_t batch : {1u, 64u, 5000u}) {
      SCOPED_TRACE(std::string(BackendName(id)) + " batch " + std::to_string(batch));
      auto before = PcpuCounters(id);
      pcpool_run r{};
      ASSERT_EQ(CmdRun(fd_, id, PCPOOL_WL_BULK, 4, 20000, batch, &r), 0);
      EXPECT_EQ(r.done, 20000u);
      auto after = PcpuCounters(id);
      EXPECT_EQ(after["allocs"] - before["allocs"], 20000);
      EXPECT_EQ(after["pages_allocated"] - before["pages_allocated"],
                static_cast<int64_t>(20000 * ObjPages(4)));
      EXPECT_EQ(PcpuOutstanding(id), 0);
    }
  }
}

// PCPU_COUNTER: the kernel checks every process's sum (-EIO on a wrong
// one), on one CPU and with a share crossing to a second; pcpu-constructed
// has no counter; nothing stays allocated.
TEST_F(PcpuVm, CounterSumsAreExact) {
  for (uint32_t id : kPcpuBackends) {
    for (uint64_t share : {uint64_t{0}, uint64_t{250}, uint64_t{PCPOOL_COUNTER_SHARE_MAX}}) {
      SCOPED_TRACE(std::string(BackendName(id)) + " share " + std::to_string(share));
      pcpool_run r{};
      const int ret = CmdRun(fd_, id, PCPOOL_WL_PCPU_COUNTER, 0, 400, 16, &r, share);
      if (id == PCPOOL_BACKEND_PCPU_CONSTRUCTED) {
        EXPECT_EQ(ret, -EINVAL);
        continue;
      }
      if (share && version_.nr_cpu_ids < 2) {
        EXPECT_EQ(ret, -EINVAL);
        continue;
      }
      ASSERT_EQ(ret, 0);
      EXPECT_EQ(r.done, 400u);
      EXPECT_GT(r.ns, 0u);
    }
    EXPECT_EQ(PcpuOutstanding(id), 0) << BackendName(id);
  }
  auto r = Arg<pcpool_run>();
  r.backend = PCPOOL_BACKEND_PCPU_RAW;
  r.workload = PCPOOL_WL_PCPU_COUNTER;
  r.ops = 1;
  r.batch = 1;
  r.seed = PCPOOL_COUNTER_SHARE_MAX + 1;
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), -EINVAL);
}

// Fork-like lifecycle: the kernel checks the per-process sums itself
// (-EIO on a wrong one), on one CPU, two, and every possible one.
TEST_F(PcpuVm, LifecycleSumsAreExact) {
  ASSERT_TRUE(WriteFile(std::string(kParams) + "/pcpu_verify", "1"));
  auto c0 = PcpuCounters(PCPOOL_BACKEND_PCPU_CONSTRUCTED);
  for (uint32_t id : kPcpuBackends) {
    for (uint32_t cpus : {1u, 2u, nposs_}) {
      if (cpus > nposs_) continue;
      SCOPED_TRACE(std::string(BackendName(id)) + " cpus " + std::to_string(cpus));
      auto before = PcpuCounters(id);
      pcpool_run r{};
      ASSERT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_LIFECYCLE, 0, 3000, cpus, &r), 0);
      EXPECT_EQ(r.done, 3000u);
      EXPECT_GT(r.ns, 0u);
      auto after = PcpuCounters(id);
      EXPECT_EQ(after["allocs"] - before["allocs"], 6000);
      EXPECT_EQ(after["req_8"] - before["req_8"], 3000);
      EXPECT_EQ(after["req_32"] - before["req_32"], 3000);
    }
  }
  // The constructed objects came back in their constructed state.
  auto c1 = PcpuCounters(PCPOOL_BACKEND_PCPU_CONSTRUCTED);
  EXPECT_EQ(c1["verify_failures"], c0["verify_failures"]);
  // ZEROED writes back only the copies a process dirtied.
  auto z = PcpuCounters(PCPOOL_BACKEND_PCPU_ZEROED);
  EXPECT_GT(z["zeroed_copies"], 0);
}

// mm_struct's shape: four rss counters (the backend's counter) and a
// 16-byte mm_cid region per process, used on 1 and 2 online CPUs; the
// kernel checks every sum.  pcpu-constructed has no counter.
TEST_F(PcpuVm, LifecycleCountersAreExact) {
  const auto online = static_cast<uint32_t>(OnlineCpus().size());
  for (uint32_t id : kPcpuBackends) {
    auto r = Arg<pcpool_run>();
    for (uint32_t cpus : {1u, 2u}) {
      if (cpus > online) continue;
      SCOPED_TRACE(std::string(BackendName(id)) + " cpus " + std::to_string(cpus));
      auto before = PcpuCounters(id);
      const int ret =
          CmdRun(fd_, id, PCPOOL_WL_PCPU_LIFECYCLE, 0, 1000, cpus, &r, PCPOOL_LIFECYCLE_COUNTERS);
      if (id == PCPOOL_BACKEND_PCPU_CONSTRUCTED) {
        EXPECT_EQ(ret, -EINVAL);
        continue;
      }
      ASSERT_EQ(ret, 0);
      EXPECT_EQ(r.done, 1000u);
      EXPECT_GT(r.ns, 0u);
      auto after = PcpuCounters(id);
      EXPECT_EQ(after["allocs"] - before["allocs"], 1000);  // the mm_cid regions
      EXPECT_EQ(after["req_16"] - before["req_16"], 1000);
      EXPECT_EQ(PcpuOutstanding(id), 0);
    }
    r.batch = 1;
    r.seed = PCPOOL_LIFECYCLE_COUNTERS + 1;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), -EINVAL);
    r.seed = PCPOOL_LIFECYCLE_COUNTERS;
    r.batch = online + 1;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), -EINVAL);
  }
}

// test_vmalloc's pcpu test: 35000 objects of random size and alignment.
TEST_F(PcpuVm, SizesLikeTestVmalloc) {
  for (uint32_t id : kPcpuBackends) {
    SCOPED_TRACE(BackendName(id));
    auto before = PcpuCounters(id);
    pcpool_run r{};
    ASSERT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_SIZES, 0, 35000, 35000, &r), 0);
    EXPECT_EQ(r.done, 35000u);
    auto after = PcpuCounters(id);
    EXPECT_EQ(after["allocs"] - before["allocs"], 35000);
    EXPECT_EQ(after["frees"] - before["frees"], 35000);
    EXPECT_EQ(Requests(after) - Requests(before), 35000);
    // Alignment 2048 is drawn one time in 11.
    EXPECT_GT(after["req_2048"] - before["req_2048"], 2000);
    EXPECT_EQ(PcpuOutstanding(id), 0);
  }
  // Short rounds too (the last one partial).
  ASSERT_EQ(CmdRun(fd_, PCPOOL_BACKEND_PCPU_RAW, PCPOOL_WL_PCPU_SIZES, 0, 2500, 1000), 0);
}

// The guest kernel's own mix (traces/percpu-sizes-smp2.txt): nothing
// above 2 KiB, most of it 8 B; an unknown mix is refused.
TEST_F(PcpuVm, SizesRealMix) {
  for (uint32_t id : kPcpuBackends) {
    SCOPED_TRACE(BackendName(id));
    auto before = PcpuCounters(id);
    pcpool_run r{};
    ASSERT_EQ(CmdRun(fd_, id, PCPOOL_WL_PCPU_SIZES, 0, 20000, 5000, &r, PCPOOL_SIZES_REAL), 0);
    EXPECT_EQ(r.done, 20000u);
    auto after = PcpuCounters(id);
    EXPECT_EQ(Requests(after) - Requests(before), 20000);
    EXPECT_EQ(after["req_4096"] - before["req_4096"], 0);
    EXPECT_GT(after["req_8"] - before["req_8"], 20000 / 4);
    EXPECT_GT(after["req_2048"] - before["req_2048"], 0);
    EXPECT_EQ(PcpuOutstanding(id), 0);
    r.seed = PCPOOL_SIZES_REAL + 1;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), -EINVAL);
  }
}

// Free on another CPU through a channel: the consumer's frees land in its
// own magazines and the depot, the producer refills from the depot.
TEST_F(PcpuVm, CrossCpuThroughChannels) {
  auto cpus = OnlineCpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs 2 CPUs";
  for (uint32_t id : kPcpuBackends) {
    SCOPED_TRACE(BackendName(id));
    const uint64_t total = 20000;
    auto before = PcpuCounters(id);
    std::atomic<bool> failed{false};
    std::thread producer([&] {
      if (!PinSelf(cpus[0])) return failed.store(true);
      uint64_t pushed = 0;
      while (pushed < total && !failed) {
        pcpool_chan c{};
        if (CmdChan(fd_, PCPOOL_CHAN_ALLOC, 2, id, 3, std::min<uint64_t>(256, total - pushed), &c))
          return failed.store(true);
        pushed += c.done;
        if (!c.done) sched_yield();
      }
    });
    std::thread consumer([&] {
      if (!PinSelf(cpus[1])) return failed.store(true);
      uint64_t freed = 0;
      while (freed < total && !failed) {
        pcpool_chan c{};
        if (CmdChan(fd_, PCPOOL_CHAN_FREE, 2, 0, 0, 256, &c)) return failed.store(true);
        freed += c.done;
        if (!c.done) sched_yield();
      }
    });
    producer.join();
    consumer.join();
    ASSERT_FALSE(failed);
    auto after = PcpuCounters(id);
    EXPECT_EQ(after["allocs"] - before["allocs"], static_cast<int64_t>(total));
    EXPECT_EQ(after["frees"] - before["frees"], static_cast<int64_t>(total));
    if (id != PCPOOL_BACKEND_PCPU_KERNEL) {
      EXPECT_GT(after["depot_full_get"] - before["depot_full_get"], 0);
    }
  }
  // Per-CPU hit/miss rows exist for every CPU of every cache.
  auto rows = Table(std::string(kDebugfs) + "/pcpu/cpus");
  EXPECT_EQ(rows.size(), 3u * nposs_);
}

// The bound: with pcpu_max_cached_kb=0 nothing is kept beyond the per-CPU
// magazines, so after a big run only chunks holding magazine objects stay.
TEST_F(PcpuVm, ZeroBudgetKeepsNothingBeyondMagazines) {
  ASSERT_TRUE(WriteFile(std::string(kDebugfs) + "/pcpu/drain", "1"));
  ASSERT_TRUE(WriteFile(std::string(kParams) + "/pcpu_max_cached_kb", "0"));
  ASSERT_EQ(CmdRun(fd_, PCPOOL_BACKEND_PCPU_ZEROED, PCPOOL_WL_PCPU_SIZES, 0, 35000, 35000), 0);
  for (const auto& row : Table(std::string(kDebugfs) + "/pcpu/classes")) {
    if (row.at("backend") != "pcpu-zeroed") continue;
    SCOPED_TRACE("size " + row.at("size"));
    EXPECT_EQ(std::stoul(row.at("depot_objs")), 0u);
    EXPECT_EQ(std::stoul(row.at("empty_chunks")), 0u);
    EXPECT_LE(std::stoul(row.at("chunks")), std::stoul(row.at("mag_objs")));
  }
  EXPECT_GT(PcpuCounters(PCPOOL_BACKEND_PCPU_ZEROED)["chunk_shrink"], 0);
}

// Memory pressure reaches the cache through its shrinker: drop_caches=2
// runs every shrinker (drop_slab()), which must give back free chunks and
// depot magazines.
TEST_F(PcpuVm, ShrinkerGivesMemoryBack) {
  ASSERT_TRUE(WriteFile(std::string(kParams) + "/pcpu_max_cached_kb", "1048576"));
  ASSERT_EQ(CmdRun(fd_, PCPOOL_BACKEND_PCPU_RAW, PCPOOL_WL_PCPU_SIZES, 0, 35000, 35000), 0);
  auto before = ReadKeyValues(std::string(kDebugfs) + "/pcpu/shrinker");
  auto c0 = PcpuCounters(PCPOOL_BACKEND_PCPU_RAW);
  ASSERT_GT(before["reclaimable_pages"], 0);
  ASSERT_GT(c0["bytes_cached"], 1 << 20);
  ASSERT_TRUE(WriteFile("/proc/sys/vm/drop_caches", "2"));
  auto after = ReadKeyValues(std::string(kDebugfs) + "/pcpu/shrinker");
  auto c1 = PcpuCounters(PCPOOL_BACKEND_PCPU_RAW);
  EXPECT_GT(after["scans"], before["scans"]);
  EXPECT_GT(after["pages_freed"], before["pages_freed"]);
  EXPECT_LT(c1["chunks"], c0["chunks"]);
  EXPECT_GT(c1["chunk_shrink"], c0["chunk_shrink"]);
  EXPECT_EQ(c1["depot_full_mags"], 0);
  EXPECT_LT(c1["bytes_cached"], c0["bytes_cached"]);
}

// Killed in the middle of a long SIZES run: every object goes back.
TEST_F(PcpuVm, KilledSizesRunLeavesNothing) {
  const int64_t a0 = PcpuCounters(PCPOOL_BACKEND_PCPU_KERNEL)["allocs"];
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    int fd = open(kDevice, O_RDWR | O_CLOEXEC);
    if (fd < 0) _exit(2);
    CmdRun(fd, PCPOOL_BACKEND_PCPU_KERNEL, PCPOOL_WL_PCPU_SIZES, 0, PCPOOL_MAX_RUN_OPS, 20000);
    _exit(3);
  }
  bool running = false;
  for (int i = 0; i < 600 && !running; i++) {
    usleep(50000);
    running = PcpuCounters(PCPOOL_BACKEND_PCPU_KERNEL)["allocs"] - a0 > 30000;
  }
  EXPECT_TRUE(running);
  kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

// An allocation failing midway (debugfs fail_nth): ALLOC undoes all, RUN
// stops where it failed, and nothing stays held, in every per-CPU backend.
TEST_F(PcpuVm, AllocFailureMidway) {
  const std::string fail = std::string(kDebugfs) + "/fail_nth";
  if (!WriteFile(fail, "0")) GTEST_SKIP() << "no debugfs fail_nth";
  struct Wl {
    uint32_t id;
    uint32_t order;
    uint32_t batch;
    uint64_t want_done;  // what a failure at the 1000th allocation leaves done
  };
  const Wl wls[] = {{PCPOOL_WL_REPEAT, 3, 0, 999},
                    {PCPOOL_WL_BULK, 5, 64, 999},
                    {PCPOOL_WL_PCPU_LIFECYCLE, 0, 2, 499},  // two objects per process
                    {PCPOOL_WL_PCPU_SIZES, 0, 700, 999}};
  for (uint32_t id : kPcpuBackends) {
    SCOPED_TRACE(BackendName(id));
    auto c0 = PcpuCounters(id);
    std::vector<uint64_t> h(100, 0);
    ASSERT_TRUE(WriteFile(fail, "50"));
    EXPECT_EQ(CmdAlloc(fd_, id, 4, &h), -ENOMEM);
    auto c1 = PcpuCounters(id);
    EXPECT_EQ(c1["allocs"] - c0["allocs"], 49);
    EXPECT_EQ(c1["frees"] - c0["frees"], 49);
    EXPECT_EQ(c1["alloc_failures"] - c0["alloc_failures"], 1);
    EXPECT_EQ(CmdStats(fd_, id).session_pages, 0u);
    EXPECT_EQ(PcpuOutstanding(id), 0);
    for (const Wl& wl : wls) {
      SCOPED_TRACE("workload " + std::to_string(wl.id));
      pcpool_run r{};
      ASSERT_TRUE(WriteFile(fail, "1000"));
      EXPECT_EQ(CmdRun(fd_, id, wl.id, wl.order, 5000, wl.batch, &r), -ENOMEM);
      EXPECT_EQ(r.done, wl.want_done);
      EXPECT_EQ(CmdStats(fd_, id).session_pages, 0u);
      EXPECT_EQ(PcpuOutstanding(id), 0);
    }
  }
}

// Bad, stale and repeated handles of per-CPU objects change nothing.
TEST_F(PcpuVm, BadHandles) {
  for (uint32_t id : kPcpuBackends) {
    SCOPED_TRACE(BackendName(id));
    std::vector<uint64_t> h(3, 0);
    ASSERT_EQ(CmdAlloc(fd_, id, 6, &h), 0);
    ASSERT_EQ(CmdFree(fd_, {h[0]}), 0);
    EXPECT_EQ(CmdFree(fd_, {h[0]}), -ENOENT);
    EXPECT_EQ(CmdFree(fd_, {h[1] ^ (1ULL << 32)}), -ENOENT);
    EXPECT_EQ(CmdStats(fd_, id).session_handles, 2u);
    EXPECT_EQ(CmdStats(fd_, id).session_pages, 2 * ObjPages(6));
    EXPECT_EQ(CmdFree(fd_, {h[1], h[2]}), 0);
    EXPECT_EQ(PcpuOutstanding(id), 0);
  }
}

// Handles and channel blocks left open go back when the session closes.
TEST_F(PcpuVm, CloseReleasesEverything) {
  struct Fd {
    int fd;
    ~Fd() {
      if (fd >= 0) close(fd);
    }
  } s{open(kDevice, O_RDWR | O_CLOEXEC)};
  ASSERT_GE(s.fd, 0);
  for (uint32_t id : kPcpuBackends) {
    std::vector<uint64_t> h(2000, 0);
    ASSERT_EQ(CmdAlloc(s.fd, id, 3, &h), 0);
    for (uint32_t ch = 0; ch < 4; ch++)
      ASSERT_EQ(CmdChan(s.fd, PCPOOL_CHAN_ALLOC, ch, id, 3 + ch, 100), 0);
    EXPECT_GT(PcpuOutstanding(id), 0) << BackendName(id);
  }
  close(s.fd);
  s.fd = -1;
  for (uint32_t id : kPcpuBackends) EXPECT_EQ(PcpuOutstanding(id), 0) << BackendName(id);
}

// The module's own checks of the dual-mode counter, run on real CPUs.
TEST_F(PcpuVm, SelfTest) {
  std::string out = ReadFile(std::string(kDebugfs) + "/pcpu/selftest");
  EXPECT_NE(out.find(" 0 failed"), std::string::npos) << out;
  EXPECT_EQ(out.find("FAIL"), std::string::npos) << out;
  if (OnlineCpus().size() >= 2) {
    EXPECT_NE(out.find("ok counter: a second CPU upgrades it"), std::string::npos) << out;
  }
}

// Drained, the caches hold no chunk, and every chunk obtained from
// alloc_percpu() has been returned: the counters prove it.
TEST_F(PcpuVm, DrainReturnsEveryChunk) {
  ASSERT_EQ(CmdRun(fd_, PCPOOL_BACKEND_PCPU_CONSTRUCTED, PCPOOL_WL_BULK, 7, 10000, 1000), 0);
  ASSERT_TRUE(WriteFile(std::string(kDebugfs) + "/pcpu/drain", "1"));
  for (uint32_t id : kCacheBackends) {
    SCOPED_TRACE(BackendName(id));
    auto c = PcpuCounters(id);
    EXPECT_EQ(c["chunks"], 0);
    EXPECT_EQ(c["chunk_grow"], c["chunk_shrink"]);
    EXPECT_EQ(c["bytes_cached"], 0);
    EXPECT_EQ(c["bytes_magazines"], 0);
    EXPECT_EQ(c["bad_frees"], 0);
  }
  EXPECT_EQ(PcpuCounters(PCPOOL_BACKEND_PCPU_RAW)["budget_cached_bytes"], 0);
}

// ---- benchmark (bench/pcpu.sh) ----

uint64_t Median(std::vector<uint64_t> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One line per (workload, backend): median of seven timed runs after a
// warm-up run, all pinned to the first online CPU.  The null backend (no
// memory, same bookkeeping) is the floor of REPEAT and BULK.  "sizes-1g"
// is pcpu-sizes with pcpu_max_cached_kb=1048576, so that the cache may keep
// what the 35000 objects need from one run to the next.
TEST_F(PcpuVm, DISABLED_Bench) {
  auto cpus = OnlineCpus();
  ASSERT_FALSE(cpus.empty());
  ASSERT_TRUE(PinSelf(cpus[0]));
  struct Case {
    const char* name;
    uint32_t workload;
    uint32_t order;
    uint64_t ops;
    uint32_t batch;
    const char* max_cached_kb;  // nullptr: leave the parameter alone
  };
  const Case cases[] = {
      {"pcpu-repeat", PCPOOL_WL_REPEAT, 3, 100000, 0, nullptr},
      {"pcpu-repeat", PCPOOL_WL_REPEAT, 7, 100000, 0, nullptr},
      {"pcpu-repeat", PCPOOL_WL_REPEAT, 11, 100000, 0, nullptr},
      {"pcpu-bulk", PCPOOL_WL_BULK, 3, 100000, 1000, nullptr},
      {"pcpu-lifecycle", PCPOOL_WL_PCPU_LIFECYCLE, 0, 50000, 2, nullptr},
      {"pcpu-sizes", PCPOOL_WL_PCPU_SIZES, 0, 35000, 35000, nullptr},
      {"pcpu-sizes-1g", PCPOOL_WL_PCPU_SIZES, 0, 35000, 35000, "1048576"},
  };
  const std::string param = std::string(kParams) + "/pcpu_max_cached_kb";
  for (const Case& c : cases) {
    std::vector<uint32_t> ids(std::begin(kPcpuBackends), std::end(kPcpuBackends));
    if ((c.workload == PCPOOL_WL_REPEAT || c.workload == PCPOOL_WL_BULK) &&
        c.order <= version_.max_order)
      ids.push_back(PCPOOL_BACKEND_NULL);
    if (c.max_cached_kb) {
      ASSERT_TRUE(WriteFile(param, c.max_cached_kb));
    }
    for (uint32_t id : ids) {
      // The kernel's allocator is slow in the emulator: fewer ops for it.
      uint64_t ops = id == PCPOOL_BACKEND_PCPU_KERNEL && c.workload != PCPOOL_WL_PCPU_SIZES
                         ? c.ops / 10
                         : c.ops;
      ASSERT_EQ(CmdRun(fd_, id, c.workload, c.order, std::min<uint64_t>(ops, 35000), c.batch), 0);
      std::vector<uint64_t> ns;
      for (int i = 0; i < 7; i++) {
        pcpool_run r{};
        ASSERT_EQ(CmdRun(fd_, id, c.workload, c.order, ops, c.batch, &r), 0);
        ASSERT_EQ(r.done, ops);
        ns.push_back(r.ns);
      }
      uint64_t med = Median(ns);
      printf(
          "pcpubench workload=%s backend=%s order=%u batch=%u possible_cpus=%u ops=%llu "
          "ns=%llu ns_per_op=%.1f\n",
          c.name, id == PCPOOL_BACKEND_NULL ? "null" : BackendName(id), c.order, c.batch, nposs_,
          static_cast<unsigned long long>(ops), static_cast<unsigned long long>(med),
          static_cast<double>(med) / static_cast<double>(ops));
      fflush(stdout);
    }
    if (c.max_cached_kb) {
      ASSERT_TRUE(WriteFile(param, max_cached_));
    }
  }
}

}  // namespace
