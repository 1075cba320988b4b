// SPDX-License-Identifier: GPL-2.0
// kmod/session.c and cmd.c in userspace: handles, generations, the cap.
#include <set>
#include <thread>

#include "module_test.h"

namespace pcpool_test {
namespace {

using SessionTest = ModuleTest;

TEST_F(SessionTest, AllocFreeRoundTrip) {
  std::vector<uint64_t> h(10);
  ASSERT_EQ(Alloc(kKernel, 2, h), 0);
  EXPECT_EQ(pcpool_kshim_pages_live(), 40);
  EXPECT_EQ(pcpool_m_session_pages(s_), 40);
  EXPECT_EQ(pcpool_m_session_handles(s_), 10UL);
  EXPECT_EQ(std::set<uint64_t>(h.begin(), h.end()).size(), 10U);
  for (uint64_t x : h) EXPECT_NE(static_cast<uint32_t>(x), 0U);  // index part 0 never names a slot
  pcpool_stats st = Stats(kKernel);
  EXPECT_EQ(st.session_pages, 40U);
  EXPECT_EQ(st.session_handles, 10U);
  EXPECT_EQ(st.allocs, 10U);
  EXPECT_EQ(st.outstanding_pages, 40U);

  std::vector<int32_t> status;
  pcpool_free f{};
  ASSERT_EQ(Free(h, &status, &f), 0);
  EXPECT_EQ(f.freed, 10U);
  for (int32_t s : status) EXPECT_EQ(s, 0);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
  EXPECT_EQ(pcpool_m_session_handles(s_), 0UL);
  EXPECT_EQ(pcpool_kshim_pages_live(), 0);
}

TEST_F(SessionTest, StaleHandleIsENOENT) {
  std::vector<uint64_t> h(1);
  ASSERT_EQ(Alloc(kKernel, 0, h), 0);
  std::vector<uint64_t> stale = h;
  ASSERT_EQ(Free(h), 0);
  // The slot is reused by the next ALLOC, under a new generation.
  std::vector<uint64_t> h2(1);
  ASSERT_EQ(Alloc(kKernel, 0, h2), 0);
  EXPECT_EQ(static_cast<uint32_t>(h2[0]), static_cast<uint32_t>(stale[0]));
  EXPECT_NE(h2[0] >> 32, stale[0] >> 32);

  std::vector<int32_t> status;
  pcpool_free f{};
  EXPECT_EQ(Free(stale, &status, &f), -ENOENT);
  EXPECT_EQ(status[0], -ENOENT);
  EXPECT_EQ(f.freed, 0U);
  EXPECT_EQ(pcpool_m_session_handles(s_), 1UL);  // the live one is untouched
  ASSERT_EQ(Free(h2), 0);
  EXPECT_EQ(Free(h2), -ENOENT);  // a double free misses too
}

TEST_F(SessionTest, BogusHandlesAreENOENT) {
  std::vector<uint64_t> h(2);
  ASSERT_EQ(Alloc(kNull, 0, h), 0);
  std::vector<uint64_t> bad = {0, h[0] + 1000, h[0] ^ (1ULL << 40), ~0ULL, h[1]};
  std::vector<int32_t> status;
  pcpool_free f{};
  EXPECT_EQ(Free(bad, &status, &f), -ENOENT);
  EXPECT_EQ(f.freed, 1U);
  EXPECT_EQ(status, (std::vector<int32_t>{-ENOENT, -ENOENT, -ENOENT, -ENOENT, 0}));
  // The same handle twice in one call: the second misses.
  std::vector<uint64_t> twice = {h[0], h[0]};
  EXPECT_EQ(Free(twice, &status, &f), -ENOENT);
  EXPECT_EQ(status, (std::vector<int32_t>{0, -ENOENT}));
}

TEST_F(SessionTest, HandleTableGrows) {
  // Past the first table (64 slots) and its doubling, across FREE chunks.
  std::vector<uint64_t> all;
  for (int i = 0; i < 5; i++) {
    std::vector<uint64_t> h(100);
    ASSERT_EQ(Alloc(kNull, 0, h), 0);
    all.insert(all.end(), h.begin(), h.end());
  }
  EXPECT_EQ(std::set<uint64_t>(all.begin(), all.end()).size(), all.size());
  EXPECT_EQ(pcpool_m_session_handles(s_), 500UL);
  ASSERT_EQ(Free(all), 0);
  EXPECT_EQ(pcpool_m_session_handles(s_), 0UL);
}

TEST_F(SessionTest, CapIsExact) {
  EXPECT_EQ(pcpool_m_session_max(s_), kCap);
  std::vector<uint64_t> h(kCap / 4);
  ASSERT_EQ(Alloc(kNull, 2, h), 0);  // exactly the cap
  EXPECT_EQ(pcpool_m_session_pages(s_), static_cast<long>(kCap));
  std::vector<uint64_t> one(1);
  pcpool_stats before = Stats(kNull);
  EXPECT_EQ(Alloc(kNull, 0, one), -ENOMEM);
  // Refused before allocating: no attempt counted, nothing charged.
  EXPECT_EQ(Stats(kNull).allocs, before.allocs);
  EXPECT_EQ(Stats(kNull).alloc_failures, before.alloc_failures);
  EXPECT_EQ(pcpool_m_session_pages(s_), static_cast<long>(kCap));
  std::vector<uint64_t> first(h.begin(), h.begin() + 1);
  ASSERT_EQ(Free(first), 0);
  EXPECT_EQ(Alloc(kNull, 2, one), 0);
  EXPECT_EQ(Alloc(kNull, 0, one), -ENOMEM);
}

TEST_F(SessionTest, CapDefaultIsQuarterOfRam) {
  Close();
  ASSERT_EQ(pcpool_kshim_param_set("session_max_pages", "0"), 0);
  s_ = pcpool_m_open();
  ASSERT_NE(s_, nullptr);
  EXPECT_EQ(pcpool_m_session_max(s_), PCPOOL_KSHIM_TOTALRAM_PAGES / 4);
  EXPECT_EQ(pcpool_m_session_cap(), PCPOOL_KSHIM_TOTALRAM_PAGES / 4);
}

TEST_F(SessionTest, CapIsPerSession) {
  pcpool_session* other = pcpool_m_open();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(pcpool_m_nr_sessions(), 2);
  std::vector<uint64_t> h(kCap);
  ASSERT_EQ(Alloc(kNull, 0, h), 0);
  pcpool_alloc a{};
  a.size = sizeof(a);
  a.backend = kNull;
  a.count = h.size();
  std::vector<uint64_t> h2(kCap);
  a.handles = reinterpret_cast<uintptr_t>(h2.data());
  EXPECT_EQ(pcpool_m_ioctl(other, PCPOOL_IOC_ALLOC, &a), 0);
  EXPECT_EQ(pcpool_m_session_pages(other), static_cast<long>(kCap));
  pcpool_m_close(other);  // frees h2's blocks
  EXPECT_EQ(pcpool_m_session_pages(s_), static_cast<long>(kCap));
}

TEST_F(SessionTest, CloseReturnsEverything) {
  std::vector<uint64_t> h(50);
  ASSERT_EQ(Alloc(kKernel, 1, h), 0);
  std::vector<uint64_t> v(3);
  ASSERT_EQ(Alloc(kVmap, 3, v), 0);
  ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, 3, 20, kKernel, 0), 0);
  ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, 4, 5, kPcpu, 6), 0);
  EXPECT_GT(pcpool_kshim_pages_live(), 0);
  EXPECT_GT(pcpool_m_test_objs_live(), 0);
  Close();  // TearDown checks pages, objects, counters and warnings
  EXPECT_EQ(pcpool_kshim_pages_live(), 0);
  EXPECT_EQ(pcpool_m_test_objs_live(), 0);
}

TEST_F(SessionTest, AllocValidation) {
  std::vector<uint64_t> h(1);
  pcpool_alloc a{};
  a.size = sizeof(a);
  a.backend = kKernel;
  a.count = 1;
  a.handles = reinterpret_cast<uintptr_t>(h.data());
  auto with = [&](auto edit) {
    pcpool_alloc x = a;
    edit(x);
    return pcpool_m_ioctl(s_, PCPOOL_IOC_ALLOC, &x);
  };
  // a migratetype each, not both, and no other bit
  EXPECT_EQ(
      with([](pcpool_alloc& x) { x.flags = PCPOOL_ALLOC_MOVABLE | PCPOOL_ALLOC_RECLAIMABLE; }),
      -EINVAL);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.flags = 4; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.flags = 1U << 31; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.resv = 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.backend = PCPOOL_BACKEND_CLASSIC; }), -ENOENT);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.backend = PCPOOL_NR_BACKENDS_MAX; }), -ENOENT);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.order = pcpool_m_max_order(kKernel) + 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.count = 0; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.count = PCPOOL_MAX_BATCH + 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.size = PCPOOL_ALLOC_SIZE_VER0 - 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_alloc& x) { x.size = 4097; }), -E2BIG);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
  EXPECT_EQ(pcpool_m_session_handles(s_), 0UL);
}

TEST_F(SessionTest, AllocFaultUndoesEverything) {
  pcpool_alloc a{};
  a.size = sizeof(a);
  a.backend = kKernel;
  a.count = 8;
  a.handles = 16;  // below the shim's fault line
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_ALLOC, &a), -EFAULT);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
  EXPECT_EQ(pcpool_m_session_handles(s_), 0UL);
  EXPECT_EQ(pcpool_kshim_pages_live(), 0);
}

TEST_F(SessionTest, AllocFailureIsAllOrNothing) {
  std::vector<uint64_t> h(10);
  ASSERT_EQ(pcpool_m_fail_nth(6), 0);  // the 6th allocation fails
  EXPECT_EQ(Alloc(kKernel, 0, h), -ENOMEM);
  ASSERT_EQ(pcpool_m_fail_nth(0), 0);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
  EXPECT_EQ(pcpool_m_session_handles(s_), 0UL);
  EXPECT_EQ(pcpool_kshim_pages_live(), 0);
  EXPECT_EQ(Stats(kKernel).alloc_failures, 1U);
  // The handle table itself failing to grow is -ENOMEM too.
  std::vector<uint64_t> big(100);      // past the 64 slots reserved above
  pcpool_kshim_fail_kmalloc_after(1);  // handles[] goes, slots[] fails
  EXPECT_EQ(Alloc(kKernel, 0, big), -ENOMEM);
  pcpool_kshim_fail_kmalloc_after(-1);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
}

TEST_F(SessionTest, KilledTaskStopsAndUndoes) {
  std::vector<uint64_t> h(3000);  // past PCPOOL_YIELD_EVERY
  pcpool_kshim_set_killed(true);
  EXPECT_EQ(Alloc(kNull, 0, h), -EINTR);
  pcpool_kshim_set_killed(false);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
  EXPECT_EQ(pcpool_m_session_handles(s_), 0UL);
}

TEST_F(SessionTest, FreeValidation) {
  std::vector<uint64_t> h(1);
  ASSERT_EQ(Alloc(kNull, 0, h), 0);
  pcpool_free f{};
  f.size = sizeof(f);
  f.count = 1;
  f.handles = reinterpret_cast<uintptr_t>(h.data());
  auto with = [&](auto edit) {
    pcpool_free x = f;
    edit(x);
    return pcpool_m_ioctl(s_, PCPOOL_IOC_FREE, &x);
  };
  EXPECT_EQ(with([](pcpool_free& x) { x.flags = 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_free& x) { x.resv = 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_free& x) { x.count = 0; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_free& x) { x.count = PCPOOL_MAX_BATCH + 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_free& x) { x.handles = 8; }), -EFAULT);
  EXPECT_EQ(pcpool_m_session_handles(s_), 1UL);
  ASSERT_EQ(Free(h), 0);
}

TEST_F(SessionTest, CommandTable) {
  pcpool_version v{};
  v.size = sizeof(v);
  ASSERT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_VERSION, &v), 0);
  EXPECT_EQ(v.abi_version, static_cast<uint32_t>(PCPOOL_ABI_VERSION));
  EXPECT_EQ(v.backends, (1ULL << kKernel) | (1ULL << kNull) | (1ULL << kVmap) | (1ULL << kPcpu));
  EXPECT_EQ(v.max_order, 10U);
  EXPECT_EQ(v.session_max_pages, kCap);
  EXPECT_EQ(v.max_batch, PCPOOL_MAX_BATCH);
  EXPECT_EQ(v.nr_channels, PCPOOL_NR_CHANNELS);
  // Unknown numbers, a wrong type or direction: not ours.
  EXPECT_EQ(pcpool_m_ioctl(s_, _IOWR(PCPOOL_IOC_MAGIC, 0x0a, pcpool_stats), &v), -ENOTTY);
  // FRAG: every in field checked; only a zone backend has a zone to count.
  pcpool_frag f{};
  f.size = sizeof(f);
  f.backend = kKernel;
  f.zone.free_pages = 7;  // out fields are cleared whatever happens
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_FRAG, &f), -EOPNOTSUPP);
  EXPECT_EQ(f.zone.free_pages, 0U);
  f.backend = PCPOOL_NR_BACKENDS_MAX;
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_FRAG, &f), -ENOENT);
  f.backend = kKernel;
  f.flags = 2;
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_FRAG, &f), -EINVAL);
  f.flags = 0;
  f.resv[1] = 1;
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_FRAG, &f), -EINVAL);
  EXPECT_EQ(pcpool_m_ioctl(s_, _IOWR('x', 0x00, pcpool_version), &v), -ENOTTY);
  EXPECT_EQ(pcpool_m_ioctl(s_, _IOR(PCPOOL_IOC_MAGIC, 0x00, pcpool_version), &v), -ENOTTY);
  // A longer struct with a non-zero tail is -E2BIG; a zero tail is fine.
  struct {
    pcpool_version v;
    uint64_t tail;
  } big{};
  big.v.size = sizeof(big);
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_VERSION, &big), 0);
  big.tail = 1;
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_VERSION, &big), -E2BIG);
  // io_uring's path: the size it passes must match the struct's.
  v.size = sizeof(v);
  EXPECT_EQ(pcpool_m_uring(s_, PCPOOL_IOC_VERSION, &v, sizeof(v)), 0);
  EXPECT_EQ(pcpool_m_uring(s_, PCPOOL_IOC_VERSION, &v, sizeof(v) + 8), -EINVAL);
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_VERSION, reinterpret_cast<void*>(8)), -EFAULT);
  pcpool_stats st{};
  st.size = sizeof(st);
  st.backend = PCPOOL_BACKEND_CLASSIC;
  EXPECT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_STATS, &st), -ENOENT);
  st.backend = kPcpu;
  ASSERT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_STATS, &st), 0);
  EXPECT_EQ(st.kind, static_cast<uint32_t>(PCPOOL_KIND_PCPU));
}

TEST_F(SessionTest, ConcurrentAllocFreeOneSession) {
  constexpr int kThreads = 4;
  std::vector<std::thread> t;
  for (int i = 0; i < kThreads; i++)
    t.emplace_back([this, i] {
      pcpool_kshim_set_cpu(i);
      for (int round = 0; round < 50; round++) {
        std::vector<uint64_t> h(16);
        ASSERT_EQ(Alloc(i % 2 ? kKernel : kNull, 0, h), 0);
        ASSERT_EQ(Free(h), 0);
      }
    });
  for (auto& th : t) th.join();
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
  EXPECT_EQ(pcpool_m_session_handles(s_), 0UL);
  EXPECT_EQ(Stats(kNull).allocs, 2U * 50 * 16);
  EXPECT_EQ(Stats(kKernel).frees, 2U * 50 * 16);
}

}  // namespace
}  // namespace pcpool_test
