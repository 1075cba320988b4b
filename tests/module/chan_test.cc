// SPDX-License-Identifier: GPL-2.0
// kmod/chan.c in userspace: validation, capacity, charges, and producers
// and consumers racing on one channel (run under TSan too).
#include <atomic>
#include <thread>

#include "module_test.h"

namespace pcpool_test {
namespace {

using ChanTest = ModuleTest;

TEST_F(ChanTest, PushPop) {
  pcpool_chan c{};
  ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, 0, 100, kKernel, 1, &c), 0);
  EXPECT_EQ(c.done, 100U);
  EXPECT_EQ(c.fill, 100U);
  EXPECT_EQ(pcpool_m_session_pages(s_), 200);
  EXPECT_EQ(pcpool_m_session_chan_blocks(s_), 100UL);
  EXPECT_EQ(Stats(kKernel).session_chan_blocks, 100U);
  ASSERT_EQ(Chan(PCPOOL_CHAN_FREE, 0, 60, 0, 0, &c), 0);
  EXPECT_EQ(c.done, 60U);
  EXPECT_EQ(c.fill, 40U);
  EXPECT_EQ(pcpool_m_session_pages(s_), 80);
  // Asking for more than is there frees what is there.
  ASSERT_EQ(Chan(PCPOOL_CHAN_FREE, 0, 1000, 0, 0, &c), 0);
  EXPECT_EQ(c.done, 40U);
  EXPECT_EQ(c.fill, 0U);
  ASSERT_EQ(Chan(PCPOOL_CHAN_FREE, 0, 1, 0, 0, &c), 0);
  EXPECT_EQ(c.done, 0U);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
}

TEST_F(ChanTest, MixedBackendsOneChannel) {
  ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, 2, 10, kKernel, 0), 0);
  ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, 2, 10, kPcpu, 3), 0);
  ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, 2, 10, kVmap, 2), 0);
  // Each block is freed by the backend and order it came from.
  pcpool_chan c{};
  ASSERT_EQ(Chan(PCPOOL_CHAN_FREE, 2, 30, 0, 0, &c), 0);
  EXPECT_EQ(c.done, 30U);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
}

TEST_F(ChanTest, Validation) {
  auto with = [&](auto edit) {
    pcpool_chan c{};
    c.size = sizeof(c);
    c.op = PCPOOL_CHAN_ALLOC;
    c.backend = kNull;
    c.count = 1;
    edit(c);
    return pcpool_m_ioctl(s_, PCPOOL_IOC_CHAN, &c);
  };
  EXPECT_EQ(with([](pcpool_chan& c) { c.flags = 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_chan& c) { c.resv[0] = 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_chan& c) { c.resv[1] = 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_chan& c) { c.op = 2; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_chan& c) { c.chan = PCPOOL_NR_CHANNELS; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_chan& c) { c.count = 0; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_chan& c) { c.count = PCPOOL_MAX_BATCH + 1; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_chan& c) { c.backend = PCPOOL_BACKEND_CLASSIC; }), -ENOENT);
  EXPECT_EQ(with([](pcpool_chan& c) { c.order = pcpool_m_max_order(kNull) + 1; }), -EINVAL);
  // CHAN_FREE takes neither backend nor order.
  EXPECT_EQ(with([](pcpool_chan& c) { c.op = PCPOOL_CHAN_FREE; }), -EINVAL);
  EXPECT_EQ(with([](pcpool_chan& c) {
              c.op = PCPOOL_CHAN_FREE;
              c.backend = 0;
              c.order = 1;
            }),
            -EINVAL);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
}

TEST_F(ChanTest, CapacityBoundsPushes) {
  ASSERT_EQ(pcpool_kshim_param_set("chan_capacity", "0"), -EINVAL);
  ASSERT_EQ(pcpool_kshim_param_set("chan_capacity", "1048577"), -EINVAL);
  ASSERT_EQ(pcpool_kshim_param_set("chan_capacity", "50"), 0);
  pcpool_chan c{};
  ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, 1, 80, kNull, 0, &c), 0);
  EXPECT_EQ(c.done, 50U);
  EXPECT_EQ(c.fill, 50U);
  // Only what went in stays charged.
  EXPECT_EQ(pcpool_m_session_pages(s_), 50);
  ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, 1, 1, kNull, 0, &c), 0);
  EXPECT_EQ(c.done, 0U);
  EXPECT_EQ(pcpool_m_session_pages(s_), 50);
}

TEST_F(ChanTest, ChargedAgainstTheCap) {
  std::vector<uint64_t> h(kCap - 10);
  ASSERT_EQ(Alloc(kNull, 0, h), 0);
  EXPECT_EQ(Chan(PCPOOL_CHAN_ALLOC, 0, 11, kNull, 0), -ENOMEM);
  EXPECT_EQ(pcpool_m_session_pages(s_), static_cast<long>(kCap - 10));
  pcpool_chan c{};
  ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, 0, 10, kNull, 0, &c), 0);
  EXPECT_EQ(c.done, 10U);
  EXPECT_EQ(pcpool_m_session_pages(s_), static_cast<long>(kCap));
}

TEST_F(ChanTest, AllocFailureRefundsTheRest) {
  ASSERT_EQ(pcpool_m_fail_nth(21), 0);
  pcpool_chan c{};
  EXPECT_EQ(Chan(PCPOOL_CHAN_ALLOC, 0, 40, kKernel, 0, &c), -ENOMEM);
  ASSERT_EQ(pcpool_m_fail_nth(0), 0);
  EXPECT_EQ(c.done, 20U);
  EXPECT_EQ(c.fill, 20U);
  EXPECT_EQ(pcpool_m_session_pages(s_), 20);
  EXPECT_EQ(pcpool_kshim_pages_live(), 20);
}

TEST_F(ChanTest, RingAllocationFailure) {
  pcpool_kshim_fail_kmalloc_after(0);
  EXPECT_EQ(Chan(PCPOOL_CHAN_ALLOC, 0, 1, kNull, 0), -ENOMEM);
  pcpool_kshim_fail_kmalloc_after(-1);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
  EXPECT_EQ(Chan(PCPOOL_CHAN_ALLOC, 0, 1, kNull, 0), 0);
}

// Producers and consumers on one channel, each thread its own "CPU": every
// block pushed is popped exactly once, and the charges balance.
TEST_F(ChanTest, ConcurrentProducersConsumers) {
  constexpr int kProducers = 2, kConsumers = 2;
  constexpr uint64_t kPerProducer = 3000;
  std::atomic<uint64_t> pushed{0}, popped{0};
  std::atomic<int> producing{kProducers};
  std::vector<std::thread> t;
  for (int i = 0; i < kProducers; i++)
    t.emplace_back([&, i] {
      pcpool_kshim_set_cpu(i);
      uint64_t mine = 0;
      while (mine < kPerProducer) {
        pcpool_chan c{};
        long ret = Chan(PCPOOL_CHAN_ALLOC, 5, 16, i ? kKernel : kNull, 0, &c);
        // -ENOMEM: the session's page cap (kCap) is reached, which happens
        // when the consumers fall behind (a loaded host); like a full ring
        // it means wait for them, not a failure.
        ASSERT_TRUE(ret == 0 || ret == -ENOMEM) << ret;
        if (ret == 0) mine += c.done;
        if (ret != 0 || !c.done) std::this_thread::yield();  // let the consumers in
      }
      pushed += mine;
      producing--;
    });
  for (int i = 0; i < kConsumers; i++)
    t.emplace_back([&, i] {
      pcpool_kshim_set_cpu(kProducers + i);
      for (;;) {
        bool last = producing.load() == 0;
        pcpool_chan c{};
        ASSERT_EQ(Chan(PCPOOL_CHAN_FREE, 5, 7, 0, 0, &c), 0);
        popped += c.done;
        if (!c.done && last) break;
      }
    });
  for (auto& th : t) th.join();
  EXPECT_EQ(popped.load(), pushed.load());
  EXPECT_EQ(pcpool_m_session_chan_blocks(s_), 0UL);
  EXPECT_EQ(pcpool_m_session_pages(s_), 0);
  pcpool_stats n = Stats(kNull), k = Stats(kKernel);
  EXPECT_EQ(n.allocs + k.allocs, pushed.load());
  EXPECT_EQ(n.frees + k.frees, popped.load());
}

// Many channels and threads at once, then close with blocks still queued.
TEST_F(ChanTest, ConcurrentChannelsThenClose) {
  std::vector<std::thread> t;
  for (int i = 0; i < 4; i++)
    t.emplace_back([&, i] {
      pcpool_kshim_set_cpu(i);
      for (int round = 0; round < 100; round++) {
        ASSERT_EQ(Chan(PCPOOL_CHAN_ALLOC, (i + round) % PCPOOL_NR_CHANNELS, 5, kKernel, 0), 0);
        ASSERT_EQ(Chan(PCPOOL_CHAN_FREE, (i + round + 1) % PCPOOL_NR_CHANNELS, 3), 0);
        pcpool_stats st{};
        st.size = sizeof(st);
        ASSERT_EQ(pcpool_m_ioctl(s_, PCPOOL_IOC_STATS, &st), 0);  // reads fills racily
      }
    });
  for (auto& th : t) th.join();
  EXPECT_EQ(pcpool_m_session_pages(s_), static_cast<long>(pcpool_m_session_chan_blocks(s_)));
  Close();  // TearDown: every page back
}

}  // namespace
}  // namespace pcpool_test
