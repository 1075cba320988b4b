// SPDX-License-Identifier: GPL-2.0
// The dual-mode counter: single-word until a second CPU updates it, then
// per-CPU storage whose parts are zeroed and read only where a CPU
// touched them; exact sums throughout, CPUs coming and going included.
#include <atomic>
#include <thread>
#include <vector>

#include "pcpu_test.h"

namespace pcpool_pcpu_test {
namespace {

class PcpuCounter : public PcpuTest {
 protected:
  static WorldParams Params(unsigned nr_cpus = 8) {
    WorldParams p;
    p.nr_cpus = nr_cpus;
    p.mode = PCPOOL_PCPU_RAW;
    return p;
  }
};

TEST_F(PcpuCounter, InitTakesRawOrZeroedEightByteCachesOnly) {
  World w(Params());
  pcpool_pcpu_counter ctr{};
  EXPECT_EQ(pcpool_pcpu_counter_init(&ctr, nullptr), -EINVAL);
  EXPECT_EQ(pcpool_pcpu_counter_init(&ctr, w.Cache(4)), -EINVAL);
  {
    SideCache cons(w, 3, PCPOOL_PCPU_CONSTRUCTED);
    EXPECT_EQ(pcpool_pcpu_counter_init(&ctr, cons.cache), -EINVAL);
    SideCache zeroed(w, 3, PCPOOL_PCPU_ZEROED);
    EXPECT_EQ(pcpool_pcpu_counter_init(&ctr, zeroed.cache), 0);
  }
  EXPECT_EQ(pcpool_pcpu_counter_init(&ctr, w.Cache(3)), 0);
  EXPECT_EQ(ctr.gshift, 0u);
}

TEST_F(PcpuCounter, SingleCpuNeedsNoPerCpuStorage) {
  World w(Params());
  pcpool_pcpu_counter ctr{};
  ASSERT_EQ(pcpool_pcpu_counter_init(&ctr, w.Cache(3)), 0);
  pcpool_user_set_cpu(5);
  for (int i = 1; i <= 1000; i++) pcpool_pcpu_counter_add(&ctr, i % 2 ? i : -1);
  EXPECT_FALSE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), 250000 - 500);
  EXPECT_EQ(ctr.owner, 5);
  EXPECT_EQ(pcpool_pcpu_counter_nr_touched(&ctr), 0u);
  EXPECT_EQ(w.Totals(3).chunk_grow, 0u);
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&ctr), 249500);
  EXPECT_EQ(w.Totals(3).chunk_grow, 0u);
}

// Only touched parts are zeroed and summed: garbage in the others (RAW
// storage as its last user left it) never shows.
TEST_F(PcpuCounter, LazyInitTouchesOnlyCpusThatUpdated) {
  World w(Params());
  pcpool_pcpu_cache* c = w.Cache(3);
  // Leave garbage in every part of the object the upgrade will get.
  void __percpu* junk;
  pcpool_user_set_cpu(6);
  ASSERT_EQ(pcpool_pcpu_alloc(c, &junk), 0);
  for (unsigned cpu = 0; cpu < 8; cpu++) Copy<int64_t>(junk, cpu)[0] = 1000 + cpu;
  pcpool_pcpu_free(c, junk);

  pcpool_pcpu_counter ctr{};
  ASSERT_EQ(pcpool_pcpu_counter_init(&ctr, c), 0);
  int64_t want = 0;
  pcpool_user_set_cpu(2);
  for (int i = 0; i < 100; i++) {
    pcpool_pcpu_counter_add(&ctr, 3);
    want += 3;
  }
  pcpool_user_set_cpu(6);
  pcpool_pcpu_counter_add(&ctr, -7);
  want -= 7;
  ASSERT_TRUE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(static_cast<void*>(ctr.pcpu), junk);  // reused, not re-zeroed
  EXPECT_EQ(pcpool_pcpu_counter_nr_touched(&ctr), 1u);
  EXPECT_EQ(ctr.touched, 1UL << 6);
  EXPECT_EQ(Copy<int64_t>(ctr.pcpu, 6)[0], -7);
  EXPECT_EQ(Copy<int64_t>(ctr.pcpu, 3)[0], 1003);  // untouched: left alone
  EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), want);
  // The owner updates its part too after the upgrade.
  pcpool_user_set_cpu(2);
  pcpool_pcpu_counter_add(&ctr, 10);
  want += 10;
  EXPECT_EQ(Copy<int64_t>(ctr.pcpu, 2)[0], 10);
  EXPECT_EQ(local64_read(&ctr.local), 300);  // the owner's, unlocked
  EXPECT_EQ(atomic_long_read(&ctr.single), 0);
  EXPECT_EQ(pcpool_pcpu_counter_nr_touched(&ctr), 2u);
  EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), want);
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&ctr), want);
  EXPECT_FALSE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(ctr.touched, 0UL);
}

// More CPUs than bits in a word: a bit per group of neighbours, the whole
// group zeroed by its first update.
TEST_F(PcpuCounter, GroupsBeyondSixtyFourCpus) {
  WorldParams p = Params(130);
  p.unit = 1UL << 20;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(3);
  void __percpu* junk;
  pcpool_user_set_cpu(9);
  ASSERT_EQ(pcpool_pcpu_alloc(c, &junk), 0);
  for (unsigned cpu = 0; cpu < 130; cpu++) Copy<int64_t>(junk, cpu)[0] = -1;
  pcpool_pcpu_free(c, junk);

  pcpool_pcpu_counter ctr{};
  ASSERT_EQ(pcpool_pcpu_counter_init(&ctr, c), 0);
  EXPECT_EQ(ctr.gshift, 2u);  // 130 CPUs in 33 groups of 4
  pcpool_user_set_cpu(0);
  pcpool_pcpu_counter_add(&ctr, 1);
  pcpool_user_set_cpu(9);
  pcpool_pcpu_counter_add(&ctr, 2);
  ASSERT_TRUE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(ctr.touched, 1UL << 2);
  EXPECT_EQ(pcpool_pcpu_counter_nr_touched(&ctr), 4u);
  EXPECT_EQ(Copy<int64_t>(ctr.pcpu, 8)[0], 0);    // zeroed with its group
  EXPECT_EQ(Copy<int64_t>(ctr.pcpu, 12)[0], -1);  // the next group: not
  pcpool_user_set_cpu(129);                       // the last group has two CPUs
  pcpool_pcpu_counter_add(&ctr, 4);
  pcpool_user_set_cpu(11);
  pcpool_pcpu_counter_add(&ctr, 8);
  EXPECT_EQ(pcpool_pcpu_counter_nr_touched(&ctr), 6u);
  EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), 15);
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&ctr), 15);
}

// The sum and the touched count walk the set bits only: the word's last
// bit (CPU 63 with a bit per CPU, CPUs 252-255 with groups of four) and
// the first are read like any other, and nothing between them is.
TEST_F(PcpuCounter, SumReadsTheFirstAndLastBits) {
  for (unsigned nr : {64u, 256u}) {
    WorldParams p = Params(nr);
    p.unit = 1UL << 20;
    World w(p);
    pcpool_pcpu_cache* c = w.Cache(3);
    pcpool_pcpu_counter ctr{};
    ASSERT_EQ(pcpool_pcpu_counter_init(&ctr, c), 0);
    int64_t want = 0;
    for (unsigned cpu : {5u, 0u, nr - 1, nr / 2}) {
      pcpool_user_set_cpu(cpu);
      pcpool_pcpu_counter_add(&ctr, cpu + 1);
      want += cpu + 1;
      EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), want) << nr << " CPUs, after " << cpu;
    }
    const unsigned group = 1U << ctr.gshift;
    EXPECT_EQ(ctr.touched, 1UL | 1UL << (BITS_PER_LONG - 1) | 1UL << (nr / 2 / group)) << nr;
    EXPECT_EQ(pcpool_pcpu_counter_nr_touched(&ctr), 3 * group) << nr;
    EXPECT_EQ(pcpool_pcpu_counter_destroy(&ctr), want) << nr;
  }
}

// No storage to be had without sleeping: the counter stays single-word and
// exact, and no update ever took a path that may sleep.
TEST_F(PcpuCounter, FailedUpgradeStaysExactAndNeverSleeps) {
  World w(Params());
  pcpool_pcpu_cache* c = w.Cache(3);
  w.arena.nowait_fail = true;
  pcpool_pcpu_counter ctr{};
  ASSERT_EQ(pcpool_pcpu_counter_init(&ctr, c), 0);
  int64_t want = 0;
  for (unsigned i = 0; i < 64; i++) {
    pcpool_user_set_cpu(i % 8);
    pcpool_pcpu_user_atomic++;  // as under a spinlock: might_sleep() warns
    pcpool_pcpu_counter_add(&ctr, i);
    pcpool_pcpu_user_atomic--;
    want += i;
  }
  EXPECT_FALSE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), want);
  EXPECT_GT(w.Totals(3).chunk_grow_failed, 0u);
  EXPECT_GT(w.Totals(3).st.alloc_failed, 0u);
  EXPECT_GT(w.arena.meta_nowait + w.arena.chunk_nowait, 0u);
  w.arena.nowait_fail = false;
  // The source recovers: the next cross-CPU update upgrades.
  pcpool_user_set_cpu(7);
  pcpool_pcpu_counter_add(&ctr, 1);
  want += 1;
  EXPECT_TRUE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&ctr), want);
}

// CPUs come and go while others update: a thread is a CPU while it runs,
// and a CPU that leaves has the cache's hotplug callback run for it (its
// magazines go to the depot) before it may come back as a new thread.
// Counters are created and destroyed all along, so storage is reused with
// whatever its last user left.  A reader sums the shared counter
// throughout: with only increments the sum never goes down and never
// passes what was added; at the end it is exact.  TSan checks the
// publication of the storage and of the touched bits.
TEST_F(PcpuCounter, ExactUnderHotplugAndConcurrentReads) {
  constexpr unsigned kCpus = 6;
#if defined(PCPOOL_SANITIZER_tsan)
  constexpr int kRounds = 6, kOps = 1500;
#else
  constexpr int kRounds = 12, kOps = 6000;
#endif
  WorldParams p = Params(kCpus);
  p.mag_size = 4;  // small: depot and chunk traffic
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(3);
  pcpool_pcpu_counter shared{};
  ASSERT_EQ(pcpool_pcpu_counter_init(&shared, c), 0);
  std::atomic<int64_t> added{0};
  std::atomic<bool> stop{false};
  std::atomic<unsigned long> errors{0};

  auto cpu_thread = [&](unsigned cpu) {
    pcpool_user_set_cpu(cpu);
    for (int i = 0; i < kOps; i++) {
      added.fetch_add(1);  // first: a read never sees more than this
      pcpool_pcpu_counter_add(&shared, 1);
      if (i % 64 == 0) {
        // a short-lived counter of this CPU and the next
        pcpool_pcpu_counter mine{};
        if (pcpool_pcpu_counter_init(&mine, c)) errors++;
        pcpool_pcpu_counter_add(&mine, 5);
        pcpool_user_set_cpu((cpu + 1) % kCpus);
        pcpool_pcpu_counter_add(&mine, 6);
        pcpool_user_set_cpu(cpu);
        if (pcpool_pcpu_counter_destroy(&mine) != 11) errors++;
      }
    }
  };
  auto reader = [&] {
    pcpool_user_set_cpu(kCpus - 1);
    int64_t last = 0;
    while (!stop.load()) {
      int64_t s = pcpool_pcpu_counter_sum(&shared);
      int64_t hi = added.load();
      if (s < last || s > hi) errors++;
      last = s;
      std::this_thread::yield();
    }
  };

  std::thread rd(reader);
  for (int round = 0; round < kRounds; round++) {
    // CPUs round % kCpus .. + 2 are offline this round
    std::vector<std::thread> ts;
    std::vector<unsigned> online;
    for (unsigned cpu = 0; cpu < kCpus - 1; cpu++)
      if ((cpu + kCpus - round % kCpus) % kCpus >= 3) online.push_back(cpu);
    for (unsigned cpu : online) ts.emplace_back(cpu_thread, cpu);
    for (auto& t : ts) t.join();
    // they all go away: the hotplug callback for each
    for (unsigned cpu : online) pcpool_pcpu_cpu_dead(c, cpu);
  }
  stop = true;
  rd.join();
  EXPECT_EQ(errors.load(), 0u);
  EXPECT_EQ(pcpool_pcpu_counter_sum(&shared), added.load());
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&shared), added.load());
}

}  // namespace
}  // namespace pcpool_pcpu_test
