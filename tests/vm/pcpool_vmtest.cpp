// SPDX-License-Identifier: GPL-2.0
// Integration tests for pcpool.ko: raw ioctls on /dev/pcpool and reads of
// /sys/kernel/debug/pcpool, no harness library in between. Runs in the guest
// (tests/vm/guest.sh) as root with the module loaded; skips without it.
//
// Every test ends by closing its sessions and checking that debugfs
// "outstanding" reads 0 for every backend, so any leak fails the test that
// caused it.
//
// Besides the tests, two helper modes for guest.sh's kill tests:
//   pcpool-vmtest --hold N   hold N order-0 kernel blocks as handles plus a
//                            full channel, print "ready", wait to be killed
//   pcpool-vmtest --spin     print "ready", run an endless in-kernel RUN
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/pcpool.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vmtest.h"

namespace {

using namespace vmtest;  // NOLINT(google-build-using-namespace): the shared helpers

int64_t Sessions() {
  std::ifstream in(std::string(kDebugfs) + "/sessions");
  int64_t n = -1;
  in >> n;
  return n;
}

// <backend>/percpu: header "cpu key...", then one row per CPU.
std::map<int, std::map<std::string, int64_t>> PerCpu(const std::string& backend) {
  std::map<int, std::map<std::string, int64_t>> out;
  std::ifstream in(std::string(kDebugfs) + "/" + backend + "/percpu");
  std::string line;
  std::vector<std::string> keys;
  if (std::getline(in, line)) {
    std::istringstream hdr(line);
    std::string k;
    hdr >> k;  // "cpu"
    while (hdr >> k) keys.push_back(k);
  }
  while (std::getline(in, line)) {
    std::istringstream row(line);
    int cpu;
    row >> cpu;
    for (const auto& k : keys) row >> out[cpu][k];
  }
  return out;
}

class PcpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = OpenDevice();
    if (fd_ < 0 && errno == ENOENT) GTEST_SKIP() << kDevice << " missing: module not loaded";
    if (fd_ < 0 && (errno == EACCES || errno == EPERM)) GTEST_SKIP() << "needs root";
    ASSERT_GE(fd_, 0) << kDevice << ": " << strerror(errno);
    version_ = Arg<pcpool_version>();
    ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, &version_), 0);
    ASSERT_EQ(version_.abi_version, PCPOOL_ABI_VERSION);
    // This suite checks page accounting; per-CPU object backends charge
    // differently and have their own suite (pcpu_vmtest.cpp).
    for (uint32_t id = 0; id < 64; id++)
      if ((version_.backends & (1ULL << id)) && CmdStats(fd_, id).kind == PCPOOL_KIND_PAGES)
        backends_.push_back(id);
  }

  void TearDown() override {
    if (fd_ < 0) return;
    SetFailNth(0);
    close(fd_);
    fd_ = -1;
    // Nothing may outlive the sessions of a test.
    for (const auto& [name, pages] : Outstanding())
      EXPECT_EQ(pages, 0) << "backend " << name << " leaked pages";
  }

  // Each absent backend id worth trying, including absurd ones.
  std::vector<uint32_t> AbsentBackends() const {
    std::vector<uint32_t> ids;
    for (uint32_t id : {2u, 3u, 4u, 31u, 32u, 63u, 64u, 255u, 256u, 0xffffffffu})
      if (id >= 64 || !(version_.backends & (1ULL << id))) ids.push_back(id);
    return ids;
  }

  void ExpectNothingHeld(int fd) {
    auto s = CmdStats(fd, PCPOOL_BACKEND_NULL);
    EXPECT_EQ(s.session_pages, 0u);
    EXPECT_EQ(s.session_handles, 0u);
    EXPECT_EQ(s.session_chan_blocks, 0u);
  }

  int fd_ = -1;
  pcpool_version version_{};
  std::vector<uint32_t> backends_;
};

TEST_F(PcpoolTest, VersionHandshake) {
  EXPECT_TRUE(version_.backends & (1ULL << PCPOOL_BACKEND_KERNEL));
  EXPECT_TRUE(version_.backends & (1ULL << PCPOOL_BACKEND_NULL));
  EXPECT_EQ(1UL << version_.page_shift, static_cast<unsigned long>(sysconf(_SC_PAGESIZE)));
  EXPECT_EQ(version_.max_batch, PCPOOL_MAX_BATCH);
  EXPECT_EQ(version_.nr_channels, PCPOOL_NR_CHANNELS);
  // 6.1: MAX_ORDER 11, pageblocks of 2 MiB on x86-64.
  EXPECT_GE(version_.max_order, version_.block_order);
  EXPECT_LT(version_.max_order, 64u);
  EXPECT_GT(version_.block_order, 0u);
  EXPECT_GT(version_.session_max_pages, 0u);
  EXPECT_GE(version_.nr_cpu_ids, static_cast<uint32_t>(sysconf(_SC_NPROCESSORS_ONLN)));
  for (auto r : version_.resv) EXPECT_EQ(r, 0u);

  // resv is out-only: whatever comes in, zeros go out.
  auto v = Arg<pcpool_version>();
  memset(v.resv, 0xa5, sizeof(v.resv));
  ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, &v), 0);
  for (auto r : v.resv) EXPECT_EQ(r, 0u);

  // Every present backend has its debugfs directory and counter keys.
  auto out = Outstanding();
  for (uint32_t id : backends_) {
    std::string name = BackendName(id);
    EXPECT_TRUE(out.count(name)) << name;
    auto c = Counters(name);
    for (const char* key : {"allocs", "frees", "alloc_failures", "pages_allocated", "pages_freed"})
      EXPECT_TRUE(c.count(key)) << name << "/counters lacks " << key;
  }
}

TEST_F(PcpoolTest, StructSizes) {
  // Below SIZE_VER0: -EINVAL, for every command.
  struct Case {
    unsigned long cmd;
    uint32_t ver0;
  };
  const Case cases[] = {
      {PCPOOL_IOC_VERSION, PCPOOL_VERSION_SIZE_VER0}, {PCPOOL_IOC_ALLOC, PCPOOL_ALLOC_SIZE_VER0},
      {PCPOOL_IOC_FREE, PCPOOL_FREE_SIZE_VER0},       {PCPOOL_IOC_RUN, PCPOOL_RUN_SIZE_VER0},
      {PCPOOL_IOC_CHAN, PCPOOL_CHAN_SIZE_VER0},       {PCPOOL_IOC_STATS, PCPOOL_STATS_SIZE_VER0},
  };
  alignas(8) unsigned char buf[512];
  for (const auto& c : cases) {
    for (uint32_t size : {0u, 4u, c.ver0 - 8, c.ver0 - 1}) {
      memset(buf, 0, sizeof(buf));
      memcpy(buf, &size, sizeof(size));
      EXPECT_EQ(Ioctl(fd_, c.cmd, buf), -EINVAL) << "cmd " << c.cmd << " size " << size;
    }
  }

  // Larger than the module knows: zero tail accepted, written back only up
  // to the module's size; non-zero tail -E2BIG.
  memset(buf, 0, sizeof(buf));
  auto* v = reinterpret_cast<pcpool_version*>(buf);
  v->size = sizeof(*v) + 64;
  buf[sizeof(*v) + 32] = 0;
  ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, buf), 0);
  EXPECT_EQ(v->abi_version, PCPOOL_ABI_VERSION);
  EXPECT_EQ(v->size, sizeof(*v) + 64);
  buf[sizeof(*v) + 32] = 1;
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, buf), -E2BIG);
  buf[sizeof(*v) + 32] = 0;
  buf[sizeof(*v) + 63] = 0x80;
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, buf), -E2BIG);

  // Same for a command with inputs: STATS with a zero tail works.
  memset(buf, 0, sizeof(buf));
  auto* st = reinterpret_cast<pcpool_stats*>(buf);
  st->size = sizeof(*st) + 8;
  st->backend = PCPOOL_BACKEND_KERNEL;
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_STATS, buf), 0);
  buf[sizeof(*st) + 7] = 1;
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_STATS, buf), -E2BIG);

  // More than a page: -E2BIG whatever the tail.
  std::vector<uint64_t> big(8192 / 8, 0);
  reinterpret_cast<pcpool_version*>(big.data())->size = 8192;
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, big.data()), -E2BIG);

  // The size bits of the command number do not matter; the size field does.
  memset(buf, 0, sizeof(buf));
  v->size = sizeof(*v);
  unsigned long odd = _IOC(_IOC_READ | _IOC_WRITE, PCPOOL_IOC_MAGIC, 0x00, 200);
  EXPECT_EQ(Ioctl(fd_, odd, buf), 0);
  EXPECT_EQ(v->abi_version, PCPOOL_ABI_VERSION);
}

TEST_F(PcpoolTest, UnknownCommands) {
  alignas(8) unsigned char buf[256] = {};
  uint32_t size = sizeof(pcpool_version);
  memcpy(buf, &size, sizeof(size));
  const unsigned long bad[] = {
      _IOWR(PCPOOL_IOC_MAGIC, 0x0a, pcpool_version),
      _IOWR(PCPOOL_IOC_MAGIC, 0x40, pcpool_version),
      _IOWR(PCPOOL_IOC_MAGIC, 0xff, pcpool_version),
      _IOWR(PCPOOL_IOC_MAGIC + 1, 0x00, pcpool_version),
      _IOR(PCPOOL_IOC_MAGIC, 0x00, pcpool_version),
      _IOW(PCPOOL_IOC_MAGIC, 0x00, pcpool_version),
      _IO(PCPOOL_IOC_MAGIC, 0x00),
      0x5401 /* TCGETS */,
      0,
  };
  for (unsigned long cmd : bad) EXPECT_EQ(Ioctl(fd_, cmd, buf), -ENOTTY) << std::hex << cmd;
}

TEST_F(PcpoolTest, BadPointers) {
  void* unmapped = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(unmapped, MAP_FAILED);
  void* readonly = mmap(nullptr, 1 << 20, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(readonly, MAP_FAILED);

  // The argument struct itself.
  for (unsigned long cmd : {PCPOOL_IOC_VERSION, PCPOOL_IOC_ALLOC, PCPOOL_IOC_FREE, PCPOOL_IOC_RUN,
                            PCPOOL_IOC_CHAN, PCPOOL_IOC_STATS}) {
    EXPECT_EQ(Ioctl(fd_, cmd, nullptr), -EFAULT);
    EXPECT_EQ(Ioctl(fd_, cmd, unmapped), -EFAULT);
    EXPECT_EQ(Ioctl(fd_, cmd, reinterpret_cast<void*>(0xffff800000000000UL)), -EFAULT);
  }
  auto k = Counters("kernel");

  // ALLOC into a bad handle array: all or nothing, for every backend.
  for (uint32_t b : backends_) {
    for (uint64_t where : {uint64_t{0}, reinterpret_cast<uint64_t>(unmapped),
                           reinterpret_cast<uint64_t>(readonly), uint64_t{0xffff800000000000UL}}) {
      auto a = Arg<pcpool_alloc>();
      a.backend = b;
      a.count = 100;
      a.handles = where;
      EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_ALLOC, &a), -EFAULT) << BackendName(b);
      ExpectNothingHeld(fd_);
    }
  }
  auto k2 = Counters("kernel");
  EXPECT_EQ(k2["allocs"] - k["allocs"], k2["frees"] - k["frees"]);

  // FREE with a bad handle array frees nothing.
  std::vector<uint64_t> h(3, 0);
  ASSERT_EQ(CmdAlloc(fd_, PCPOOL_BACKEND_KERNEL, 0, &h), 0);
  auto f = Arg<pcpool_free>();
  f.count = 3;
  f.handles = reinterpret_cast<uint64_t>(unmapped);
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_FREE, &f), -EFAULT);
  EXPECT_EQ(f.freed, 0u);
  EXPECT_EQ(CmdStats(fd_, PCPOOL_BACKEND_KERNEL).session_handles, 3u);

  // A bad status array: the handles are freed, the write faults, freed says so.
  f = Arg<pcpool_free>();
  f.count = 3;
  f.handles = reinterpret_cast<uint64_t>(h.data());
  f.status = reinterpret_cast<uint64_t>(readonly);
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_FREE, &f), -EFAULT);
  EXPECT_EQ(f.freed, 3u);
  ExpectNothingHeld(fd_);

  munmap(unmapped, 4096);
  munmap(readonly, 1 << 20);
}

TEST_F(PcpoolTest, AllocFreeCounts) {
  for (uint32_t b : backends_) {
    std::string name = BackendName(b);
    // Each backend has its own limit (classic stops at pageblock_order).
    const uint32_t top = CmdStats(fd_, b).max_order;
    EXPECT_LE(top, version_.max_order) << name;
    std::vector<uint64_t> no_handle(1, 0);
    EXPECT_EQ(CmdAlloc(fd_, b, top + 1, &no_handle), -EINVAL) << name;
    for (uint32_t order : {0u, 1u, 3u, std::min(version_.block_order, top), top}) {
      SCOPED_TRACE(name + " order " + std::to_string(order));
      const uint64_t count = order >= version_.block_order ? 4 : 300;
      const uint64_t pages = count << order;
      auto before = Counters(name);
      auto st0 = CmdStats(fd_, b);

      std::vector<uint64_t> h(count, 0);
      pcpool_alloc a{};
      ASSERT_EQ(CmdAlloc(fd_, b, order, &h, &a), 0);
      EXPECT_LT(a.cpu, version_.nr_cpu_ids);
      std::set<uint64_t> unique(h.begin(), h.end());
      EXPECT_EQ(unique.size(), count);
      EXPECT_FALSE(unique.count(0));

      auto st = CmdStats(fd_, b);
      EXPECT_EQ(st.session_pages, pages);
      EXPECT_EQ(st.session_handles, count);
      EXPECT_EQ(st.allocs - st0.allocs, count);
      EXPECT_EQ(st.outstanding_pages - st0.outstanding_pages, pages);
      EXPECT_EQ(Outstanding()[name], static_cast<int64_t>(pages));

      std::vector<int32_t> status;
      pcpool_free f{};
      ASSERT_EQ(CmdFree(fd_, h, &status, &f), 0);
      EXPECT_EQ(f.freed, count);
      for (int32_t s : status) EXPECT_EQ(s, 0);

      auto after = Counters(name);
      EXPECT_EQ(after["allocs"] - before["allocs"], static_cast<int64_t>(count));
      EXPECT_EQ(after["frees"] - before["frees"], static_cast<int64_t>(count));
      EXPECT_EQ(after["pages_allocated"] - before["pages_allocated"], static_cast<int64_t>(pages));
      EXPECT_EQ(after["pages_freed"] - before["pages_freed"], static_cast<int64_t>(pages));
      EXPECT_EQ(after["alloc_failures"], before["alloc_failures"]);
      EXPECT_EQ(Outstanding()[name], 0);
      ExpectNothingHeld(fd_);
    }
  }
  // A full batch (as far as the cap allows), in one call each way.
  const uint64_t n = std::min<uint64_t>(version_.max_batch, version_.session_max_pages);
  std::vector<uint64_t> h(n, 0);
  ASSERT_EQ(CmdAlloc(fd_, PCPOOL_BACKEND_NULL, 0, &h), 0);
  EXPECT_EQ(CmdStats(fd_, PCPOOL_BACKEND_NULL).session_handles, n);
  ASSERT_EQ(CmdFree(fd_, h), 0);
  ExpectNothingHeld(fd_);
}

TEST_F(PcpoolTest, BadHandles) {
  for (uint32_t b : backends_) {
    SCOPED_TRACE(BackendName(b));
    std::vector<uint64_t> h(4, 0);
    ASSERT_EQ(CmdAlloc(fd_, b, 0, &h), 0);
    std::mt19937_64 rng(42);

    // 0, random, a live handle with another generation, a live handle twice,
    // a handle past the table: only the two real ones go.
    std::vector<uint64_t> req = {0,    rng() | 1, h[0] ^ (1ULL << 32),
                                 h[0], h[0],      (h[1] & ~0xffffffffULL) | 0xfffffff0ULL,
                                 h[1]};
    std::vector<int32_t> status;
    pcpool_free f{};
    EXPECT_EQ(CmdFree(fd_, req, &status, &f), -ENOENT);
    EXPECT_EQ(f.freed, 2u);
    const std::vector<int32_t> want = {-ENOENT, -ENOENT, -ENOENT, 0, -ENOENT, -ENOENT, 0};
    EXPECT_EQ(status, want);
    auto st = CmdStats(fd_, b);
    EXPECT_EQ(st.session_handles, 2u);
    EXPECT_EQ(st.session_pages, 2u);

    // Double free (stale handle) is refused, the rest untouched.
    EXPECT_EQ(CmdFree(fd_, {h[0]}, &status), -ENOENT);
    EXPECT_EQ(status[0], -ENOENT);
    EXPECT_EQ(CmdStats(fd_, b).session_handles, 2u);

    // A reused slot gets a new handle; the old one stays dead.
    std::vector<uint64_t> again(1, 0);
    ASSERT_EQ(CmdAlloc(fd_, b, 0, &again), 0);
    EXPECT_NE(again[0], h[0]);
    EXPECT_NE(again[0], h[1]);
    EXPECT_EQ(CmdFree(fd_, {h[0], h[1]}, &status), -ENOENT);
    EXPECT_EQ(status, (std::vector<int32_t>{-ENOENT, -ENOENT}));
    EXPECT_EQ(CmdStats(fd_, b).session_handles, 3u);

    // Handles belong to their session.
    int other = OpenDevice();
    ASSERT_GE(other, 0);
    EXPECT_EQ(CmdFree(other, {h[2], h[3], again[0]}, &status), -ENOENT);
    EXPECT_EQ(status, (std::vector<int32_t>{-ENOENT, -ENOENT, -ENOENT}));
    close(other);

    EXPECT_EQ(CmdFree(fd_, {h[2], h[3], again[0]}, &status), 0);
    ExpectNothingHeld(fd_);
  }
}

// A migratetype per ALLOC, and PCPOOL_RUN_MT_MIX on page workloads of page
// backends only.
TEST_F(PcpoolTest, MigratetypeFlags) {
  std::vector<uint64_t> h(4, 0);
  uint64_t hp = reinterpret_cast<uintptr_t>(h.data());
  for (uint32_t b : {PCPOOL_BACKEND_KERNEL, PCPOOL_BACKEND_CLASSIC, PCPOOL_BACKEND_PCPBUDDY}) {
    if (!(version_.backends & (1ULL << b))) continue;
    for (uint32_t fl : {0U, PCPOOL_ALLOC_MOVABLE, PCPOOL_ALLOC_RECLAIMABLE}) {
      auto a = Arg<pcpool_alloc>();
      a.backend = b;
      a.count = h.size();
      a.handles = hp;
      a.flags = fl;
      ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_ALLOC, &a), 0) << b << " flags " << fl;
      auto f = Arg<pcpool_free>();
      f.count = h.size();
      f.handles = hp;
      ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_FREE, &f), 0) << b << " flags " << fl;
    }
    auto r = Arg<pcpool_run>();
    r.backend = b;
    r.workload = PCPOOL_WL_REPEAT;
    r.ops = 100;
    r.flags = PCPOOL_RUN_MT_MIX;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), 0) << b;
    EXPECT_EQ(r.done, 100u) << b;
  }
  if (version_.backends & (1ULL << PCPOOL_BACKEND_PCPU_RAW)) {
    auto r = Arg<pcpool_run>();
    r.backend = PCPOOL_BACKEND_PCPU_RAW;
    r.workload = PCPOOL_WL_REPEAT;
    r.ops = 100;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), 0);
    r.flags = PCPOOL_RUN_MT_MIX;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), -EINVAL) << "per-CPU objects have no type";
  }
  ExpectNothingHeld(fd_);
}

TEST_F(PcpoolTest, InvalidArguments) {
  std::vector<uint64_t> h(4, 0);
  uint64_t hp = reinterpret_cast<uintptr_t>(h.data());
  auto alloc = [&](auto&& mutate) {
    auto a = Arg<pcpool_alloc>();
    a.backend = PCPOOL_BACKEND_KERNEL;
    a.count = h.size();
    a.handles = hp;
    mutate(a);
    return Ioctl(fd_, PCPOOL_IOC_ALLOC, &a);
  };
  EXPECT_EQ(alloc([](auto& a) { a.flags = PCPOOL_ALLOC_MOVABLE | PCPOOL_ALLOC_RECLAIMABLE; }),
            -EINVAL);
  EXPECT_EQ(alloc([](auto& a) { a.flags = 4; }), -EINVAL);
  EXPECT_EQ(alloc([](auto& a) { a.flags = 0x80000000; }), -EINVAL);
  EXPECT_EQ(alloc([](auto& a) { a.resv = 1; }), -EINVAL);
  EXPECT_EQ(alloc([](auto& a) { a.count = 0; }), -EINVAL);
  EXPECT_EQ(alloc([&](auto& a) { a.count = version_.max_batch + 1ULL; }), -EINVAL);
  EXPECT_EQ(alloc([](auto& a) { a.count = ~0ULL; }), -EINVAL);
  EXPECT_EQ(alloc([&](auto& a) { a.order = version_.max_order + 1; }), -EINVAL);
  EXPECT_EQ(alloc([](auto& a) { a.order = 255; }), -EINVAL);
  EXPECT_EQ(alloc([](auto& a) { a.order = ~0u; }), -EINVAL);
  for (uint32_t id : AbsentBackends())
    EXPECT_EQ(alloc([&](auto& a) { a.backend = id; }), -ENOENT) << id;

  auto free = [&](auto&& mutate) {
    auto f = Arg<pcpool_free>();
    f.count = 1;
    f.handles = hp;
    mutate(f);
    return Ioctl(fd_, PCPOOL_IOC_FREE, &f);
  };
  EXPECT_EQ(free([](auto& f) { f.flags = 2; }), -EINVAL);
  EXPECT_EQ(free([](auto& f) { f.resv = 1; }), -EINVAL);
  EXPECT_EQ(free([](auto& f) { f.count = 0; }), -EINVAL);
  EXPECT_EQ(free([&](auto& f) { f.count = version_.max_batch + 1ULL; }), -EINVAL);

  auto run = [&](auto&& mutate) {
    auto r = Arg<pcpool_run>();
    r.backend = PCPOOL_BACKEND_NULL;
    r.workload = PCPOOL_WL_REPEAT;
    r.ops = 10;
    mutate(r);
    return Ioctl(fd_, PCPOOL_IOC_RUN, &r);
  };
  EXPECT_EQ(run([](auto&) {}), 0);
  EXPECT_EQ(run([](auto& r) { r.flags = 1; }), -EINVAL);
  EXPECT_EQ(run([](auto& r) { r.resv[0] = 1; }), -EINVAL);
  EXPECT_EQ(run([](auto& r) { r.resv[1] = 1ULL << 63; }), -EINVAL);
  EXPECT_EQ(run([](auto& r) { r.ops = 0; }), -EINVAL);
  EXPECT_EQ(run([](auto& r) { r.ops = PCPOOL_MAX_RUN_OPS + 1; }), -EINVAL);
  EXPECT_EQ(run([](auto& r) { r.ops = ~0ULL; }), -EINVAL);
  EXPECT_EQ(run([&](auto& r) { r.order = version_.max_order + 1; }), -EINVAL);
  EXPECT_EQ(run([](auto& r) { r.batch = 1; }), -EINVAL);  // REPEAT takes no batch
  EXPECT_EQ(run([](auto& r) {
              r.workload = PCPOOL_WL_BULK;
              r.batch = 0;
            }),
            -EINVAL);
  EXPECT_EQ(run([&](auto& r) {
              r.workload = PCPOOL_WL_BULK;
              r.batch = version_.max_batch + 1;
            }),
            -EINVAL);
  for (uint32_t wl : {uint32_t{PCPOOL_NR_WORKLOADS}, 17u, ~0u})
    EXPECT_EQ(run([&](auto& r) { r.workload = wl; }), -ENOENT) << wl;
  for (uint32_t id : AbsentBackends())
    EXPECT_EQ(run([&](auto& r) { r.backend = id; }), -ENOENT) << id;

  auto chan = [&](auto&& mutate) {
    auto c = Arg<pcpool_chan>();
    c.op = PCPOOL_CHAN_ALLOC;
    c.backend = PCPOOL_BACKEND_NULL;
    c.count = 1;
    mutate(c);
    return Ioctl(fd_, PCPOOL_IOC_CHAN, &c);
  };
  EXPECT_EQ(chan([](auto& c) { c.flags = 1; }), -EINVAL);
  EXPECT_EQ(chan([](auto& c) { c.resv[1] = 1; }), -EINVAL);
  EXPECT_EQ(chan([](auto& c) { c.op = 2; }), -EINVAL);
  EXPECT_EQ(chan([](auto& c) { c.op = ~0u; }), -EINVAL);
  EXPECT_EQ(chan([&](auto& c) { c.chan = version_.nr_channels; }), -EINVAL);
  EXPECT_EQ(chan([](auto& c) { c.chan = ~0u; }), -EINVAL);
  EXPECT_EQ(chan([](auto& c) { c.count = 0; }), -EINVAL);
  EXPECT_EQ(chan([&](auto& c) { c.count = version_.max_batch + 1ULL; }), -EINVAL);
  EXPECT_EQ(chan([&](auto& c) { c.order = version_.max_order + 1; }), -EINVAL);
  for (uint32_t id : AbsentBackends())
    EXPECT_EQ(chan([&](auto& c) { c.backend = id; }), -ENOENT) << id;
  // CHAN_FREE takes backend and order from each block, so both must be 0.
  EXPECT_EQ(chan([](auto& c) {
              c.op = PCPOOL_CHAN_FREE;
              c.backend = PCPOOL_BACKEND_NULL;
            }),
            -EINVAL);
  EXPECT_EQ(chan([](auto& c) {
              c.op = PCPOOL_CHAN_FREE;
              c.backend = 0;
              c.order = 1;
            }),
            -EINVAL);

  for (uint32_t id : AbsentBackends()) {
    auto s = Arg<pcpool_stats>();
    s.backend = id;
    EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_STATS, &s), -ENOENT) << id;
  }
  ExpectNothingHeld(fd_);
}

TEST_F(PcpoolTest, RunEveryWorkloadOnEveryBackend) {
  struct Wl {
    uint32_t id;
    uint32_t batch;
    uint64_t ops;
  };
  // ops not a multiple of batch: the last BULK round is short.
  const Wl wls[] = {{PCPOOL_WL_REPEAT, 0, 5000},
                    {PCPOOL_WL_BULK, 64, 5000},
                    {PCPOOL_WL_BULK, 1, 700},
                    {PCPOOL_WL_BULK, 4096, 10000}};
  for (uint32_t b : backends_) {
    std::string name = BackendName(b);
    for (uint32_t order : {0u, 2u, version_.block_order}) {
      for (const auto& wl : wls) {
        uint64_t ops = order >= version_.block_order ? 64 : wl.ops;
        uint32_t batch = wl.batch ? std::min<uint32_t>(wl.batch, order > 2 ? 16 : wl.batch) : 0;
        SCOPED_TRACE(name + " wl " + std::to_string(wl.id) + " order " + std::to_string(order) +
                     " batch " + std::to_string(batch));
        auto before = Counters(name);
        pcpool_run r{};
        ASSERT_EQ(CmdRun(fd_, b, wl.id, order, ops, batch, &r), 0);
        EXPECT_EQ(r.done, ops);
        EXPECT_GT(r.ns, 0u);
        EXPECT_LT(r.cpu, version_.nr_cpu_ids);
        EXPECT_LT(r.cpu_end, version_.nr_cpu_ids);
        auto after = Counters(name);
        EXPECT_EQ(after["allocs"] - before["allocs"], static_cast<int64_t>(ops));
        EXPECT_EQ(after["frees"] - before["frees"], static_cast<int64_t>(ops));
        EXPECT_EQ(after["pages_allocated"] - before["pages_allocated"],
                  static_cast<int64_t>(ops << order));
        EXPECT_EQ(after["pages_freed"] - before["pages_freed"], static_cast<int64_t>(ops << order));
        EXPECT_EQ(Outstanding()[name], 0);
        ExpectNothingHeld(fd_);
      }
    }
  }
}

TEST_F(PcpoolTest, RunHoldsNothingAndCountsPerCpu) {
  auto cpus = OnlineCpus();
  ASSERT_FALSE(cpus.empty());
  int cpu = cpus.back();
  auto before = PerCpu("null");
  std::thread t([&] {
    ASSERT_TRUE(PinSelf(cpu));
    pcpool_run r{};
    ASSERT_EQ(CmdRun(fd_, PCPOOL_BACKEND_NULL, PCPOOL_WL_BULK, 0, 10000, 100, &r), 0);
    EXPECT_EQ(r.cpu, static_cast<uint32_t>(cpu));
    EXPECT_EQ(r.cpu_end, static_cast<uint32_t>(cpu));
  });
  t.join();
  auto after = PerCpu("null");
  EXPECT_EQ(after[cpu]["allocs"] - before[cpu]["allocs"], 10000);
  EXPECT_EQ(after[cpu]["frees"] - before[cpu]["frees"], 10000);
}

// Pages the zone holds: in the free lists, in per-CPU lists, or handed out.
void ExpectFragAdds(const pcpool_frag& f, const pcpool_frag_view& v, uint64_t out,
                    const char* what) {
  EXPECT_EQ(v.free_blocks + v.partial_blocks + v.used_blocks, v.blocks_held) << what;
  EXPECT_EQ(v.blocks_held << f.block_order, v.free_pages + v.cached_pages + out) << what;
  EXPECT_EQ(v.resv, 0U) << what;
}

TEST_F(PcpoolTest, FragOfTheZoneBackends) {
  auto f = Arg<pcpool_frag>();
  f.backend = PCPOOL_BACKEND_KERNEL;
  EXPECT_EQ(Ioctl(fd_, PCPOOL_IOC_FRAG, &f), -EOPNOTSUPP);
  for (uint32_t b : {PCPOOL_BACKEND_CLASSIC, PCPOOL_BACKEND_PCPBUDDY}) {
    SCOPED_TRACE(BackendName(b));
    std::vector<uint64_t> h(1000);
    ASSERT_EQ(CmdAlloc(fd_, b, 0, &h), 0);
    f = Arg<pcpool_frag>();
    f.backend = b;
    f.flags = PCPOOL_FRAG_DRAIN;
    ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_FRAG, &f), 0);
    EXPECT_EQ(f.block_order, version_.block_order);
    ExpectFragAdds(f, f.zone, h.size(), "zone view");
    ExpectFragAdds(f, f.drained, h.size(), "drained");
    EXPECT_EQ(f.drained.cached_pages, 0U);
    EXPECT_GT(f.zone.blocks_held, 0U);
    ASSERT_EQ(CmdFree(fd_, h), 0);

    // CHURN's report, taken before its final drain: its set is out.
    auto r = Arg<pcpool_run>();
    r.backend = b;
    r.workload = PCPOOL_WL_CHURN;
    r.ops = 5000;
    r.batch = 1000;
    r.flags = PCPOOL_RUN_FRAG;
    f = Arg<pcpool_frag>();
    f.backend = b;
    r.frag = reinterpret_cast<uintptr_t>(&f);
    ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_RUN, &r), 0);
    const pcpool_frag_view& v = f.zone;
    EXPECT_GE((v.blocks_held << f.block_order) - v.free_pages - v.cached_pages, 500U);
    EXPECT_EQ(f.drained.blocks_held, 0U) << "no FRAG_DRAIN asked";
  }
}

TEST_F(PcpoolTest, Channels) {
  const uint32_t capacity = std::stoul(ReadParam("chan_capacity"));
  for (uint32_t b : backends_) {
    std::string name = BackendName(b);
    SCOPED_TRACE(name);
    auto before = Counters(name);
    pcpool_chan c{};
    ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_ALLOC, 3, b, 1, 100, &c), 0);
    EXPECT_EQ(c.done, 100u);
    EXPECT_EQ(c.fill, 100u);
    auto st = CmdStats(fd_, b);
    EXPECT_EQ(st.session_chan_blocks, 100u);
    EXPECT_EQ(st.session_pages, 200u);
    EXPECT_EQ(st.session_handles, 0u);
    EXPECT_EQ(Outstanding()[name], 200);

    ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_FREE, 3, 0, 0, 60, &c), 0);
    EXPECT_EQ(c.done, 60u);
    EXPECT_EQ(c.fill, 40u);
    // Another channel is independent.
    ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_FREE, 4, 0, 0, 10, &c), 0);
    EXPECT_EQ(c.done, 0u);
    EXPECT_EQ(c.fill, 0u);
    // Empty stops early with success.
    ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_FREE, 3, 0, 0, 1000, &c), 0);
    EXPECT_EQ(c.done, 40u);
    EXPECT_EQ(c.fill, 0u);
    ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_FREE, 3, 0, 0, 1000, &c), 0);
    EXPECT_EQ(c.done, 0u);

    auto after = Counters(name);
    EXPECT_EQ(after["allocs"] - before["allocs"], 100);
    EXPECT_EQ(after["frees"] - before["frees"], 100);
    ExpectNothingHeld(fd_);
  }

  // Full stops early with success; it is a FIFO that wraps around.
  pcpool_chan c{};
  ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_ALLOC, 0, PCPOOL_BACKEND_NULL, 0, capacity - 10, &c), 0);
  ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_FREE, 0, 0, 0, capacity - 20, &c), 0);
  EXPECT_EQ(c.fill, 10u);
  ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_ALLOC, 0, PCPOOL_BACKEND_NULL, 0, version_.max_batch, &c), 0);
  EXPECT_EQ(c.done, capacity - 10);
  EXPECT_EQ(c.fill, capacity);
  ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_ALLOC, 0, PCPOOL_BACKEND_NULL, 0, 1, &c), 0);
  EXPECT_EQ(c.done, 0u);
  EXPECT_EQ(CmdStats(fd_, PCPOOL_BACKEND_NULL).session_pages, capacity);

  // Mixed backends and orders in one channel: each block is freed with its
  // own.
  ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_FREE, 0, 0, 0, capacity, &c), 0);
  EXPECT_EQ(c.done, capacity);
  auto k0 = Counters("kernel");
  auto n0 = Counters("null");
  ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_ALLOC, 7, PCPOOL_BACKEND_KERNEL, 2, 5, &c), 0);
  ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_ALLOC, 7, PCPOOL_BACKEND_NULL, 3, 7, &c), 0);
  EXPECT_EQ(c.fill, 12u);
  EXPECT_EQ(CmdStats(fd_, PCPOOL_BACKEND_NULL).session_pages, 5u * 4 + 7u * 8);
  ASSERT_EQ(CmdChan(fd_, PCPOOL_CHAN_FREE, 7, 0, 0, 12, &c), 0);
  EXPECT_EQ(c.done, 12u);
  auto k1 = Counters("kernel");
  auto n1 = Counters("null");
  EXPECT_EQ(k1["pages_freed"] - k0["pages_freed"], 20);
  EXPECT_EQ(n1["pages_freed"] - n0["pages_freed"], 56);
  ExpectNothingHeld(fd_);
}

// A backend failing in the middle of a command: ALLOC undoes everything,
// RUN and CHAN stop where it failed and keep nothing they should not.
TEST_F(PcpoolTest, AllocFailureMidway) {
  if (!SetFailNth(0)) GTEST_SKIP() << "no debugfs fail_nth";
  for (uint32_t b : backends_) {
    std::string name = BackendName(b);
    SCOPED_TRACE(name);

    auto c0 = Counters(name);
    std::vector<uint64_t> h(100, 0);
    ASSERT_TRUE(SetFailNth(50));
    EXPECT_EQ(CmdAlloc(fd_, b, 1, &h), -ENOMEM);
    auto c1 = Counters(name);
    EXPECT_EQ(c1["allocs"] - c0["allocs"], 49);
    EXPECT_EQ(c1["frees"] - c0["frees"], 49);
    EXPECT_EQ(c1["alloc_failures"] - c0["alloc_failures"], 1);
    ExpectNothingHeld(fd_);
    EXPECT_EQ(Outstanding()[name], 0);
    // Disarmed after firing once: the same call now works.
    ASSERT_EQ(CmdAlloc(fd_, b, 1, &h), 0);
    ASSERT_EQ(CmdFree(fd_, h), 0);

    for (uint32_t batch : {0u, 1u, 64u}) {
      SCOPED_TRACE("batch " + std::to_string(batch));
      uint32_t wl = batch ? PCPOOL_WL_BULK : PCPOOL_WL_REPEAT;
      pcpool_run r{};
      ASSERT_TRUE(SetFailNth(1000));
      EXPECT_EQ(CmdRun(fd_, b, wl, 0, 5000, batch, &r), -ENOMEM);
      EXPECT_EQ(r.done, 999u);
      ExpectNothingHeld(fd_);
      EXPECT_EQ(Outstanding()[name], 0);
    }

    pcpool_chan c{};
    ASSERT_TRUE(SetFailNth(40));
    EXPECT_EQ(CmdChan(fd_, PCPOOL_CHAN_ALLOC, 9, b, 2, 100, &c), -ENOMEM);
    EXPECT_EQ(c.done, 39u);
    EXPECT_EQ(c.fill, 39u);
    auto st = CmdStats(fd_, b);
    EXPECT_EQ(st.session_chan_blocks, 39u);
    EXPECT_EQ(st.session_pages, 39u * 4);
    EXPECT_EQ(CmdChan(fd_, PCPOOL_CHAN_FREE, 9, 0, 0, 100, &c), 0);
    EXPECT_EQ(c.done, 39u);
    ExpectNothingHeld(fd_);
  }
  ASSERT_TRUE(SetFailNth(0));
}

// Blocks left in channels and handles left open go back on close.
TEST_F(PcpoolTest, CloseReleasesEverything) {
  const int64_t sessions = Sessions();
  int fd = OpenDevice();
  ASSERT_GE(fd, 0);
  EXPECT_EQ(Sessions(), sessions + 1);
  for (uint32_t b : backends_) {
    std::vector<uint64_t> h(1000, 0);
    ASSERT_EQ(CmdAlloc(fd, b, 0, &h), 0);
    std::vector<uint64_t> h2(3, 0);
    ASSERT_EQ(CmdAlloc(fd, b, version_.block_order, &h2), 0);
    for (uint32_t ch = 0; ch < version_.nr_channels; ch++)
      ASSERT_EQ(CmdChan(fd, PCPOOL_CHAN_ALLOC, ch, b, ch % 4, 50), 0);
  }
  auto held = Outstanding();
  for (uint32_t b : backends_) EXPECT_GT(held[BackendName(b)], 0) << BackendName(b);
  close(fd);
  EXPECT_EQ(Sessions(), sessions);
  for (const auto& [name, pages] : Outstanding()) EXPECT_EQ(pages, 0) << name;
}

TEST_F(PcpoolTest, SessionCapFromVersion) {
  // The null backend charges like the others without using memory, so the
  // reported cap can be filled exactly.
  const uint64_t cap = version_.session_max_pages;
  const uint32_t top = version_.max_order;
  std::vector<uint64_t> all;
  uint64_t left = cap;
  for (int order = static_cast<int>(top); order >= 0; order--) {
    uint64_t n = left >> order;
    while (n) {
      std::vector<uint64_t> h(std::min<uint64_t>(n, version_.max_batch), 0);
      ASSERT_EQ(CmdAlloc(fd_, PCPOOL_BACKEND_NULL, order, &h), 0) << "order " << order;
      all.insert(all.end(), h.begin(), h.end());
      n -= h.size();
      left -= h.size() << order;
    }
  }
  ASSERT_EQ(left, 0u);
  EXPECT_EQ(CmdStats(fd_, PCPOOL_BACKEND_NULL).session_pages, cap);

  // Full: every way of taking one more page says -ENOMEM and changes nothing.
  auto k = Counters("kernel");
  std::vector<uint64_t> one(1, 0);
  for (uint32_t b : backends_) {
    EXPECT_EQ(CmdAlloc(fd_, b, 0, &one), -ENOMEM);
    EXPECT_EQ(CmdRun(fd_, b, PCPOOL_WL_REPEAT, 0, 10, 0), -ENOMEM);
    EXPECT_EQ(CmdRun(fd_, b, PCPOOL_WL_BULK, 0, 10, 4), -ENOMEM);
    EXPECT_EQ(CmdChan(fd_, PCPOOL_CHAN_ALLOC, 1, b, 0, 1), -ENOMEM);
  }
  auto k2 = Counters("kernel");
  EXPECT_EQ(k2["allocs"], k["allocs"]);
  EXPECT_EQ(k2["alloc_failures"], k["alloc_failures"]);  // refused before allocating
  EXPECT_EQ(CmdStats(fd_, PCPOOL_BACKEND_NULL).session_pages, cap);

  // Another session has its own cap.
  int other = OpenDevice();
  ASSERT_GE(other, 0);
  EXPECT_EQ(CmdAlloc(other, PCPOOL_BACKEND_KERNEL, 0, &one), 0);
  close(other);

  // One page back: one page can be had again, in each way.
  std::vector<uint64_t> last = {all.back()};
  all.pop_back();
  ASSERT_EQ(CmdFree(fd_, last), 0);  // order 0 block (cap's lowest bit) or larger
  EXPECT_EQ(CmdRun(fd_, PCPOOL_BACKEND_KERNEL, PCPOOL_WL_REPEAT, 0, 10, 0), 0);
  EXPECT_EQ(CmdAlloc(fd_, PCPOOL_BACKEND_KERNEL, 0, &one), 0);
  EXPECT_EQ(CmdFree(fd_, one), 0);

  for (size_t i = 0; i < all.size(); i += version_.max_batch) {
    std::vector<uint64_t> part(all.begin() + i,
                               all.begin() + std::min<size_t>(all.size(), i + version_.max_batch));
    ASSERT_EQ(CmdFree(fd_, part), 0);
  }
  ExpectNothingHeld(fd_);
}

TEST_F(PcpoolTest, SessionCapParameter) {
  const std::string saved = ReadParam("session_max_pages");
  ASSERT_FALSE(saved.empty());
  ASSERT_TRUE(WriteParam("session_max_pages", "100"));
  int fd = OpenDevice();
  ASSERT_TRUE(WriteParam("session_max_pages", saved));
  ASSERT_GE(fd, 0);

  auto v = Arg<pcpool_version>();
  ASSERT_EQ(Ioctl(fd, PCPOOL_IOC_VERSION, &v), 0);
  EXPECT_EQ(v.session_max_pages, 100u);
  // The open sessions keep their own cap.
  auto mine = Arg<pcpool_version>();
  ASSERT_EQ(Ioctl(fd_, PCPOOL_IOC_VERSION, &mine), 0);
  EXPECT_EQ(mine.session_max_pages, version_.session_max_pages);

  std::vector<uint64_t> h101(101, 0), h100(100, 0), h1(1, 0);
  EXPECT_EQ(CmdAlloc(fd, PCPOOL_BACKEND_KERNEL, 0, &h101), -ENOMEM);
  EXPECT_EQ(CmdRun(fd, PCPOOL_BACKEND_KERNEL, PCPOOL_WL_BULK, 0, 1000, 101), -ENOMEM);
  EXPECT_EQ(CmdRun(fd, PCPOOL_BACKEND_KERNEL, PCPOOL_WL_BULK, 0, 1000, 100), 0);
  EXPECT_EQ(CmdRun(fd, PCPOOL_BACKEND_KERNEL, PCPOOL_WL_REPEAT, 7, 10, 0), -ENOMEM);  // 128 pages
  EXPECT_EQ(CmdRun(fd, PCPOOL_BACKEND_KERNEL, PCPOOL_WL_REPEAT, 6, 10, 0), 0);        // 64 pages
  ASSERT_EQ(CmdAlloc(fd, PCPOOL_BACKEND_KERNEL, 0, &h100), 0);
  EXPECT_EQ(CmdAlloc(fd, PCPOOL_BACKEND_NULL, 0, &h1), -ENOMEM);
  EXPECT_EQ(CmdChan(fd, PCPOOL_CHAN_ALLOC, 0, PCPOOL_BACKEND_KERNEL, 0, 1), -ENOMEM);
  ASSERT_EQ(CmdFree(fd, std::vector<uint64_t>(h100.begin(), h100.begin() + 50)), 0);
  // 50 pages free: a channel takes exactly that many, no more.
  pcpool_chan c{};
  EXPECT_EQ(CmdChan(fd, PCPOOL_CHAN_ALLOC, 0, PCPOOL_BACKEND_KERNEL, 0, 50, &c), 0);
  EXPECT_EQ(c.done, 50u);
  EXPECT_EQ(CmdChan(fd, PCPOOL_CHAN_ALLOC, 0, PCPOOL_BACKEND_KERNEL, 0, 1), -ENOMEM);
  close(fd);

  // The parameter is back; a new session sees the old cap.
  int fd2 = OpenDevice();
  ASSERT_GE(fd2, 0);
  auto v2 = Arg<pcpool_version>();
  ASSERT_EQ(Ioctl(fd2, PCPOOL_IOC_VERSION, &v2), 0);
  EXPECT_EQ(v2.session_max_pages, version_.session_max_pages);
  close(fd2);
}

// Producer and consumer pinned to different CPUs share one channel of one
// session; the channel lock is all they share.
TEST_F(PcpoolTest, CrossCpuChannel) {
  auto cpus = OnlineCpus();
  if (cpus.size() < 2) GTEST_SKIP() << "needs 2 CPUs";
  const int pcpu = cpus[0], ccpu = cpus[1];
  for (uint32_t b : backends_) {
    std::string name = BackendName(b);
    SCOPED_TRACE(name);
    const uint64_t total = b == PCPOOL_BACKEND_NULL ? 200000 : 50000;
    auto before = PerCpu(name);
    auto cbefore = Counters(name);
    std::atomic<bool> failed{false};

    std::thread producer([&] {
      if (!PinSelf(pcpu)) return failed.store(true);
      uint64_t pushed = 0;
      while (pushed < total && !failed) {
        pcpool_chan c{};
        int ret =
            CmdChan(fd_, PCPOOL_CHAN_ALLOC, 5, b, 0, std::min<uint64_t>(256, total - pushed), &c);
        if (ret || c.cpu != static_cast<uint32_t>(pcpu)) return failed.store(true);
        pushed += c.done;
        if (!c.done) sched_yield();
      }
    });
    std::thread consumer([&] {
      if (!PinSelf(ccpu)) return failed.store(true);
      uint64_t freed = 0;
      while (freed < total && !failed) {
        pcpool_chan c{};
        int ret = CmdChan(fd_, PCPOOL_CHAN_FREE, 5, 0, 0, 256, &c);
        if (ret || c.cpu != static_cast<uint32_t>(ccpu)) return failed.store(true);
        freed += c.done;
        if (!c.done) sched_yield();
      }
    });
    producer.join();
    consumer.join();
    ASSERT_FALSE(failed);

    auto after = PerCpu(name);
    auto cafter = Counters(name);
    EXPECT_EQ(after[pcpu]["allocs"] - before[pcpu]["allocs"], static_cast<int64_t>(total));
    EXPECT_EQ(after[ccpu]["frees"] - before[ccpu]["frees"], static_cast<int64_t>(total));
    EXPECT_EQ(cafter["allocs"] - cbefore["allocs"], static_cast<int64_t>(total));
    EXPECT_EQ(cafter["frees"] - cbefore["frees"], static_cast<int64_t>(total));
    ExpectNothingHeld(fd_);
  }
}

// Several threads on one fd at once: the handle table, RUN and channels.
TEST_F(PcpoolTest, ConcurrentCommandsOnOneFd) {
  const int nthreads = 4;
  std::atomic<int> errors{0};
  auto before = Counters("kernel");
  std::vector<std::thread> threads;
  for (int t = 0; t < nthreads; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; i++) {
        std::vector<uint64_t> h(64, 0);
        if (CmdAlloc(fd_, PCPOOL_BACKEND_KERNEL, t % 2, &h)) errors++;
        if (CmdRun(fd_, PCPOOL_BACKEND_NULL, PCPOOL_WL_BULK, 0, 100, 10)) errors++;
        if (CmdChan(fd_, PCPOOL_CHAN_ALLOC, t, PCPOOL_BACKEND_KERNEL, 0, 8)) errors++;
        if (CmdFree(fd_, h)) errors++;
        pcpool_chan c{};
        if (CmdChan(fd_, PCPOOL_CHAN_FREE, t, 0, 0, 8, &c) || c.done != 8) errors++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors, 0);
  auto after = Counters("kernel");
  EXPECT_EQ(after["allocs"] - before["allocs"], nthreads * 100 * (64 + 8));
  EXPECT_EQ(after["frees"] - before["frees"], nthreads * 100 * (64 + 8));
  ExpectNothingHeld(fd_);
}

// Wait up to @seconds for @pid; true when it was killed by SIGKILL.
bool WaitKilled(pid_t pid, int seconds) {
  for (int i = 0; i < seconds * 10; i++) {
    int status;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    usleep(100000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return false;
}

TEST_F(PcpoolTest, KilledHolderLeavesNothing) {
  const int64_t sessions = Sessions();
  // Handles well inside the cap, whatever the guest's memory.
  const uint64_t n = std::min<uint64_t>(20000, version_.session_max_pages / 8);
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(pipefd[0]);
    int fd = OpenDevice();
    std::vector<uint64_t> h(n, 0);
    pcpool_chan c{};
    bool ok = fd >= 0 && CmdAlloc(fd, PCPOOL_BACKEND_KERNEL, 0, &h) == 0 &&
              CmdAlloc(fd, PCPOOL_BACKEND_NULL, 1, &h) == 0 &&
              CmdChan(fd, PCPOOL_CHAN_ALLOC, 2, PCPOOL_BACKEND_KERNEL, 1, 3000, &c) == 0;
    // Blocks in the channel (chan_capacity may be below 3000), or ~0.
    uint64_t pushed = ok ? c.done : ~0ULL;
    if (write(pipefd[1], &pushed, sizeof(pushed)) != sizeof(pushed)) _exit(2);
    for (;;) pause();
  }
  close(pipefd[1]);
  uint64_t pushed = ~0ULL;
  ASSERT_EQ(read(pipefd[0], &pushed, sizeof(pushed)), static_cast<ssize_t>(sizeof(pushed)));
  close(pipefd[0]);
  EXPECT_EQ(pushed, std::min<uint64_t>(3000, std::stoul(ReadParam("chan_capacity"))));
  EXPECT_EQ(Sessions(), sessions + 1);
  EXPECT_EQ(Outstanding()["kernel"], static_cast<int64_t>(n + pushed * 2));
  EXPECT_EQ(Outstanding()["null"], static_cast<int64_t>(n * 2));
  kill(pid, SIGKILL);
  EXPECT_TRUE(WaitKilled(pid, 60));
  EXPECT_EQ(Sessions(), sessions);
  for (const auto& [name, pages] : Outstanding()) EXPECT_EQ(pages, 0) << name;
}

TEST_F(PcpoolTest, KilledRunLeavesNothing) {
  const uint32_t batch =
      static_cast<uint32_t>(std::min<uint64_t>(PCPOOL_MAX_BATCH, version_.session_max_pages / 2));
  for (uint32_t wl : {PCPOOL_WL_REPEAT, PCPOOL_WL_BULK}) {
    SCOPED_TRACE("workload " + std::to_string(wl));
    const int64_t sessions = Sessions();
    const int64_t allocs0 = Counters("kernel")["allocs"];
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int fd = OpenDevice();
      if (fd < 0) _exit(2);
      CmdRun(fd, PCPOOL_BACKEND_KERNEL, wl, 0, PCPOOL_MAX_RUN_OPS,
             wl == PCPOOL_WL_BULK ? batch : 0);
      _exit(3);  // the run cannot finish before the kill
    }
    // Kill it once the loop is visibly running in the kernel.
    bool running = false;
    for (int i = 0; i < 600 && !running; i++) {
      usleep(50000);
      running = Counters("kernel")["allocs"] - allocs0 > 20000;
    }
    EXPECT_TRUE(running);
    kill(pid, SIGKILL);
    EXPECT_TRUE(WaitKilled(pid, 60));
    EXPECT_EQ(Sessions(), sessions);
    for (const auto& [name, pages] : Outstanding()) EXPECT_EQ(pages, 0) << name;
  }
}

// guest.sh helpers: the process is killed from outside while it holds.
int HoldMode(uint64_t blocks) {
  int fd = OpenDevice();
  if (fd < 0) {
    perror(kDevice);
    return 1;
  }
  for (uint64_t done = 0; done < blocks;) {
    std::vector<uint64_t> h(std::min<uint64_t>(blocks - done, PCPOOL_MAX_BATCH), 0);
    int ret = CmdAlloc(fd, PCPOOL_BACKEND_KERNEL, 0, &h);
    if (ret) {
      fprintf(stderr, "hold: ALLOC: %s\n", strerror(-ret));
      return 1;
    }
    done += h.size();
  }
  pcpool_chan c{};
  int ret = CmdChan(fd, PCPOOL_CHAN_ALLOC, 0, PCPOOL_BACKEND_KERNEL, 0, PCPOOL_MAX_BATCH, &c);
  if (ret) {
    fprintf(stderr, "hold: CHAN_ALLOC: %s\n", strerror(-ret));
    return 1;
  }
  printf("ready: %llu handles, %llu channel blocks\n", static_cast<unsigned long long>(blocks),
         static_cast<unsigned long long>(c.done));
  fflush(stdout);
  for (;;) pause();
}

int SpinMode() {
  int fd = OpenDevice();
  if (fd < 0) {
    perror(kDevice);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  int ret = CmdRun(fd, PCPOOL_BACKEND_KERNEL, PCPOOL_WL_BULK, 0, PCPOOL_MAX_RUN_OPS, 1024);
  fprintf(stderr, "spin: RUN returned %d\n", ret);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--hold") return HoldMode(std::stoull(argv[2]));
  if (argc == 2 && std::string(argv[1]) == "--spin") return SpinMode();
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
