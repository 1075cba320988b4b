// SPDX-License-Identifier: GPL-2.0
// The dual-mode counter: single-word until a second CPU updates it, then
// per-CPU storage from a CONSTRUCTED cache; exact sums throughout.
#include "pcpu_test.h"

namespace pcpool_pcpu_test {
namespace {

class PcpuCounter : public PcpuTest {
 protected:
  static WorldParams Params() {
    WorldParams p;
    p.nr_cpus = 8;
    p.mode = PCPOOL_PCPU_CONSTRUCTED;
    p.verify = true;  // storage must come back with its parts cancelling
    return p;
  }
};

TEST_F(PcpuCounter, SingleCpuNeedsNoPerCpuStorage) {
  World w(Params());
  pcpool_pcpu_cache* c = w.Cache(3);
  pcpool_pcpu_counter ctr{};
  pcpool_pcpu_counter_init(&ctr, c);
  pcpool_user_set_cpu(5);
  for (int i = 1; i <= 1000; i++) pcpool_pcpu_counter_add(&ctr, i % 2 ? i : -1);
  EXPECT_FALSE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), 250000 - 500);
  EXPECT_EQ(ctr.owner, 5);
  // Nothing was ever allocated.
  EXPECT_EQ(w.Totals(3).chunk_grow, 0u);
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&ctr), 249500);
  EXPECT_EQ(w.Totals(3).chunk_grow, 0u);
}

TEST_F(PcpuCounter, SecondCpuUpgradesAndSumsStayExact) {
  World w(Params());
  pcpool_pcpu_cache* c = w.Cache(3);
  pcpool_pcpu_counter ctr{};
  pcpool_pcpu_counter_init(&ctr, c);
  int64_t want = 0;
  pcpool_user_set_cpu(2);
  for (int i = 0; i < 100; i++) {
    pcpool_pcpu_counter_add(&ctr, 3);
    want += 3;
  }
  EXPECT_FALSE(pcpool_pcpu_counter_upgraded(&ctr));
  pcpool_user_set_cpu(6);
  pcpool_pcpu_counter_add(&ctr, -7);
  want -= 7;
  EXPECT_TRUE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), want);
  // After the upgrade every CPU, the owner too, updates its own part.
  EXPECT_EQ(Copy<int64_t>(ctr.pcpu, 6)[0], -7);
  pcpool_user_set_cpu(2);
  pcpool_pcpu_counter_add(&ctr, 10);
  want += 10;
  EXPECT_EQ(Copy<int64_t>(ctr.pcpu, 2)[0], 10);
  EXPECT_EQ(atomic_long_read(&ctr.single), 300);
  for (unsigned cpu = 0; cpu < 8; cpu++) {
    pcpool_user_set_cpu(cpu);
    pcpool_pcpu_counter_add(&ctr, int64_t{cpu} * 100);
    want += int64_t{cpu} * 100;
    EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), want);
  }
  // Destroyed on CPU 6, whose magazine the storage came from: it goes
  // back there, on top.
  void __percpu* storage = ctr.pcpu;
  pcpool_user_set_cpu(6);
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&ctr), want);
  EXPECT_FALSE(pcpool_pcpu_counter_upgraded(&ctr));
  // Verify (on) found the storage in its constructed state.
  EXPECT_EQ(w.Totals(3).st.verify_failures, 0u);

  // The next counter to upgrade on this CPU reuses the storage as it is:
  // parts that cancel, so it starts at exactly zero with no per-CPU write.
  pcpool_pcpu_counter_init(&ctr, c);
  pcpool_user_set_cpu(1);
  pcpool_pcpu_counter_add(&ctr, 1);
  pcpool_user_set_cpu(6);
  pcpool_pcpu_counter_add(&ctr, 1);
  EXPECT_EQ(static_cast<void*>(ctr.pcpu), storage);
  EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), 2);
  EXPECT_NE(Copy<int64_t>(ctr.pcpu, 2)[0], 0);  // old parts still there
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&ctr), 2);
  EXPECT_EQ(w.Totals(3).st.verify_failures, 0u);
}

// No storage to be had: the counter stays single-word and stays exact.
TEST_F(PcpuCounter, FailedUpgradeStaysExact) {
  World w(Params());
  pcpool_pcpu_cache* c = w.Cache(3);
  pcpool_pcpu_user_chunk_fail_after(&w.arena, 0);
  pcpool_pcpu_counter ctr{};
  pcpool_pcpu_counter_init(&ctr, c);
  int64_t want = 0;
  for (unsigned i = 0; i < 64; i++) {
    pcpool_user_set_cpu(i % 8);
    pcpool_pcpu_counter_add(&ctr, i);
    want += i;
  }
  EXPECT_FALSE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(pcpool_pcpu_counter_sum(&ctr), want);
  EXPECT_GT(w.Totals(3).chunk_grow_failed, 0u);
  pcpool_pcpu_user_chunk_fail_after(&w.arena, -1);
  // The source recovers: the next cross-CPU update upgrades.
  pcpool_user_set_cpu(7);
  pcpool_pcpu_counter_add(&ctr, 1);
  want += 1;
  EXPECT_TRUE(pcpool_pcpu_counter_upgraded(&ctr));
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&ctr), want);
}

}  // namespace
}  // namespace pcpool_pcpu_test
