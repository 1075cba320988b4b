// SPDX-License-Identifier: GPL-2.0
// classic: 6.1's PCP model.  Defaults, refill and drain sizes (including
// the free_factor scaling), which CPU's list a free lands on, drain-all,
// fallbacks, ENOMEM, accounting, and the zone-lock traffic it causes.
#include <algorithm>
#include <climits>
#include <random>
#include <set>
#include <vector>

#include "core_test.h"

namespace pcpool_test {
namespace {

class ClassicTest : public CoreTest {};

// Values worked out by hand from mm/page_alloc.c (6.1) for a zone of this
// many managed pages: zone_batchsize(), and zone_highsize() from the low
// watermark of calculate_min_free_kbytes() + __setup_per_zone_wmarks().
TEST_F(ClassicTest, DefaultsFollowTheKernelFormulas) {
  // 1 GiB: batch min(256, 256)/4 = 64 -> 2^n-1 of 96 = 63.  min_free_kbytes
  // sqrt(1048576*16) = 4096 -> 1024 pages; low = 1024 + max(256, 262).
  EXPECT_EQ(pcpool_classic_default_batch(262144), 63);
  EXPECT_EQ(pcpool_classic_default_high(262144, 63, 1), 1286);
  EXPECT_EQ(pcpool_classic_default_high(262144, 63, 2), 643);
  // 4 MiB: batch 1; min_free_kbytes 256 -> 64 pages; low = 64 + 16.
  EXPECT_EQ(pcpool_classic_default_batch(1024), 1);
  EXPECT_EQ(pcpool_classic_default_high(1024, 1, 2), 40);
  // high is at least 4 batches
  EXPECT_EQ(pcpool_classic_default_high(1024, 15, 2), 60);
  // 16 GiB, 8 CPUs: low = 4096 + max(1024, 4194) = 8290.
  EXPECT_EQ(pcpool_classic_default_batch(4194304), 63);
  EXPECT_EQ(pcpool_classic_default_high(4194304, 63, 8), 8290 / 8);
  // 64 MiB: batch 16/4 = 4 -> 2^n-1 of 6 = 3.
  EXPECT_EQ(pcpool_classic_default_batch(16384), 3);
  // 16 TiB: min_free_kbytes clamps at 262144 -> 65536 pages.
  EXPECT_EQ(pcpool_classic_default_high(1UL << 32, 63, 1),
            65536 + static_cast<int>((1UL << 32) / 1000));
}

TEST_F(ClassicTest, InitDerivesFromTheZoneLimit) {
  ZoneParams p;
  p.order = 9;
  p.mem_blocks = 1;
  p.limit = 512;  // 1 GiB worth of 4 KiB pages
  p.nr_cpus = 4;
  World w(p);
  pcpool_classic* c = w.AddClassic(2);
  EXPECT_EQ(c->batch, 63);
  EXPECT_EQ(c->high, 643);
  EXPECT_EQ(c->max_order, 3u);
  for (unsigned cpu = 0; cpu < 4; cpu++) {
    EXPECT_EQ(c->pcp[cpu].batch, 63);
    EXPECT_EQ(c->pcp[cpu].high, 643);
  }
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&c->pcp[1]) % PCPOOL_CACHE_BYTES, 0u);
}

TEST_F(ClassicTest, TunablesAreValidated) {
  World w(ZoneParams{});
  pcpool_classic* c = w.AddClassic();
  EXPECT_EQ(pcpool_classic_set_high_batch(c, 10, 0), -EINVAL);
  EXPECT_EQ(pcpool_classic_set_high_batch(c, -1, 4), -EINVAL);
  EXPECT_EQ(pcpool_classic_set_high_batch(c, 10, 16 * 16 + 1), -EINVAL);
  EXPECT_EQ(pcpool_classic_set_high_batch(c, 16 * 16 + 1, 4), -EINVAL);
  EXPECT_EQ(pcpool_classic_set_high_batch(c, 0, 1), 0);
  EXPECT_EQ(pcpool_classic_set_high_batch(c, 40, 7), 0);
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_high"], 40u);
  EXPECT_EQ(k["classic_batch"], 7u);
}

TEST_F(ClassicTest, RefillTakesBatchScaledByOrder) {
  ZoneParams p;
  p.reserve = 16;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 200, 7), 0);
  for (int i = 0; i < 4; i++) {
    ASSERT_EQ(pcpool_zone_grow(w.zone), 0);
  }
  pcpool_classic_reset_counters(c);

  struct page* p0 = pcpool_classic_alloc(c, 0);
  ASSERT_NE(p0, nullptr);
  EXPECT_EQ(c->pcp[0].count, 6) << "7 refilled, 1 handed out";
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_refills"], 1u);
  EXPECT_EQ(k["classic_refill_pages"], 7u);
  EXPECT_EQ(k["zone_lock_acquisitions"], 1u);
  EXPECT_EQ(k["zone_pages_moved"], 7u);

  struct page* p1 = pcpool_classic_alloc(c, 1);  // 7 >> 1 = 3 chunks
  ASSERT_NE(p1, nullptr);
  EXPECT_EQ(c->pcp[0].count, 6 + 3 * 2 - 2);
  struct page* p3 = pcpool_classic_alloc(c, 3);  // 7 >> 3 = 0 -> at least 2
  ASSERT_NE(p3, nullptr);
  EXPECT_EQ(c->pcp[0].count, 10 + 2 * 8 - 8);
  k = ClassicCounters(c);
  EXPECT_EQ(k["classic_refills"], 3u);
  EXPECT_EQ(k["classic_refill_pages"], 7u + 6 + 16);
  EXPECT_EQ(k["zone_lock_acquisitions"], 3u);
  EXPECT_EQ(k["classic_allocs"], 3u);

  // batch 1 is not scaled up to 2 (6.1: only "if (batch > 1)")
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 200, 1), 0);
  struct page* p2 = pcpool_classic_alloc(c, 2);
  ASSERT_NE(p2, nullptr);
  EXPECT_EQ(ClassicCounters(c)["classic_refill_pages"], 7u + 6 + 16 + 4);
  EXPECT_EQ(c->pcp[0].count, 18);
  pcpool_classic_free(c, p0, 0);
  pcpool_classic_free(c, p1, 1);
  pcpool_classic_free(c, p2, 2);
  pcpool_classic_free(c, p3, 3);
  EXPECT_EQ(pcpool_classic_check(c), 0u);
}

// Drain sizes follow nr_pcp_free(): batch << free_factor, clamped to
// [batch, high - batch]; free_factor grows per drain and halves per alloc.
TEST_F(ClassicTest, DrainAtHighWithFreeFactorScaling) {
  ZoneParams p;
  p.reserve = 16;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 16, 4), 0);
  std::vector<struct page*> pages(60);
  for (struct page*& pg : pages) {
    pg = pcpool_classic_alloc(c, 0);
  }
  ASSERT_EQ(c->pcp[0].count, 0);
  pcpool_classic_reset_counters(c);

  auto drained = [&] { return ClassicCounters(c)["classic_drain_pages"]; };
  size_t next = 0;
  auto free_n = [&](int n) {
    for (int i = 0; i < n; i++) {
      pcpool_classic_free(c, pages[next++], 0);
    }
  };
  free_n(15);
  EXPECT_EQ(c->pcp[0].count, 15);
  EXPECT_EQ(drained(), 0u);
  free_n(1);  // count reaches high: drain batch
  EXPECT_EQ(drained(), 4u);
  EXPECT_EQ(c->pcp[0].count, 12);
  free_n(4);  // doubled
  EXPECT_EQ(drained(), 4u + 8);
  EXPECT_EQ(c->pcp[0].count, 8);
  free_n(8);  // 16, clamped to high - batch = 12
  EXPECT_EQ(drained(), 4u + 8 + 12);
  EXPECT_EQ(c->pcp[0].count, 4);
  EXPECT_EQ(c->pcp[0].free_factor, 2);
  free_n(12);
  EXPECT_EQ(drained(), 4u + 8 + 12 + 12);
  EXPECT_EQ(ClassicCounters(c)["classic_drains"], 4u);

  // An allocation halves the factor: the next drain is 4 << 1.
  struct page* again = pcpool_classic_alloc(c, 0);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(c->pcp[0].free_factor, 1);
  pages.push_back(again);
  free_n(13);
  EXPECT_EQ(c->pcp[0].count, 8);
  EXPECT_EQ(drained(), 36u + 8);
  free_n(static_cast<int>(pages.size() - next));
  EXPECT_EQ(pcpool_classic_check(c), 0u);
}

TEST_F(ClassicTest, HighOrderFreesAfterDrainsEmptyTheLists) {
  ZoneParams p;
  p.reserve = 16;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 16, 4), 0);
  struct page* big = pcpool_classic_alloc(c, 1);
  ASSERT_NE(big, nullptr);
  std::vector<struct page*> small(16);
  for (struct page*& pg : small) {
    pg = pcpool_classic_alloc(c, 0);
  }
  for (struct page* page : small) {
    pcpool_classic_free(c, page, 0);
  }
  ASSERT_EQ(c->pcp[0].free_factor, 1) << "one drain happened";
  EXPECT_EQ(c->pcp[0].count, 14);
  // free_high: factor set and order > 0 => high 0, drain everything.
  pcpool_classic_free(c, big, 1);
  EXPECT_EQ(c->pcp[0].count, 0);
  EXPECT_EQ(pcpool_classic_check(c), 0u);
}

TEST_F(ClassicTest, RepeatOnOneCpuTouchesTheZoneOnce) {
  World w(ZoneParams{});
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 60, 15), 0);
  struct page* page = pcpool_classic_alloc(c, 0);  // warm: grow + refill
  pcpool_classic_free(c, page, 0);
  pcpool_classic_reset_counters(c);
  for (int i = 0; i < 10000; i++) {
    page = pcpool_classic_alloc(c, 0);
    ASSERT_NE(page, nullptr);
    pcpool_classic_free(c, page, 0);
  }
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["zone_lock_acquisitions"], 0u);
  EXPECT_EQ(k["classic_allocs"], 10000u);
  EXPECT_EQ(k["classic_frees"], 10000u);
}

// alloc 200 then free 200 on one CPU, batch 15, high 60: 14 refills of 15;
// frees start at count 10 and drain 15, 30, 45, 45, 45 (free_factor
// doubling, clamped to high - batch), ending at count 30.
TEST_F(ClassicTest, BulkTakesTheZoneLockAboutOncePerBatch) {
  ZoneParams p;
  p.reserve = 16;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 60, 15), 0);
  for (int i = 0; i < 14; i++) {
    ASSERT_EQ(pcpool_zone_grow(w.zone), 0);
  }
  pcpool_classic_reset_counters(c);
  std::vector<struct page*> pages(200);
  for (struct page*& pg : pages) {
    pg = pcpool_classic_alloc(c, 0);
  }
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_refills"], 14u);
  EXPECT_EQ(k["zone_lock_acquisitions"], 14u);
  EXPECT_EQ(c->pcp[0].count, 10);
  for (struct page* page : pages) {
    pcpool_classic_free(c, page, 0);
  }
  k = ClassicCounters(c);
  EXPECT_EQ(k["classic_drains"], 5u);
  EXPECT_EQ(k["classic_drain_pages"], 15u + 30 + 45 + 45 + 45);
  EXPECT_EQ(c->pcp[0].count, 30);
  EXPECT_EQ(k["zone_lock_acquisitions"], 19u);
  EXPECT_EQ(k["zone_pages_moved"], 210u + 180);
  EXPECT_EQ(k["zone_lock_contended"], 0u);
}

TEST_F(ClassicTest, FreeGoesToTheFreeingCpu) {
  ZoneParams p;
  p.nr_cpus = 3;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 100, 8), 0);
  std::vector<struct page*> pages(10);
  for (struct page*& pg : pages) {
    pg = pcpool_classic_alloc(c, 0);
  }
  int cpu0 = c->pcp[0].count;
  pcpool_user_set_cpu(2);
  for (struct page* page : pages) {
    pcpool_classic_free(c, page, 0);
  }
  EXPECT_EQ(c->pcp[0].count, cpu0);
  EXPECT_EQ(c->pcp[2].count, 10);
  EXPECT_EQ(c->pcp[1].count, 0);
  Counters per;
  pcpool_classic_cpu_counters(c, 2, EmitInto, &per);
  EXPECT_EQ(per["classic_frees"], 10u);
  EXPECT_EQ(per["classic_allocs"], 0u);
  EXPECT_EQ(per["classic_pcp_pages"], 10u);
  // and CPU 2 allocates from its own list without the zone
  pcpool_classic_reset_counters(c);
  struct page* page = pcpool_classic_alloc(c, 0);
  EXPECT_EQ(ClassicCounters(c)["zone_lock_acquisitions"], 0u);
  pcpool_classic_free(c, page, 0);
}

TEST_F(ClassicTest, OrdersAboveCostlyGoToTheZone) {
  ZoneParams p;
  p.order = 6;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  struct page* page = pcpool_classic_alloc(c, 4);
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(Pfn(page) % 16, 0u);
  EXPECT_EQ(pcpool_classic_pcp_pages(c), 0u);
  pcpool_classic_free(c, page, 4);
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_direct_allocs"], 1u);
  EXPECT_EQ(k["classic_direct_frees"], 1u);
  EXPECT_EQ(k["classic_allocs"], 0u);
  EXPECT_EQ(pcpool_classic_alloc(c, 7), nullptr);
}

TEST_F(ClassicTest, BusyPcpFallsBackToTheZone) {
  World w(ZoneParams{});
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_zone_grow(w.zone), 0);
  spin_lock(&c->pcp[0].lock);  // as a remote drain would hold it
  struct page* page = pcpool_classic_alloc(c, 0);
  ASSERT_NE(page, nullptr);
  pcpool_classic_free(c, page, 0);
  spin_unlock(&c->pcp[0].lock);
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_pcp_busy"], 2u);
  EXPECT_EQ(k["classic_direct_allocs"], 1u);
  EXPECT_EQ(k["classic_direct_frees"], 1u);
  EXPECT_EQ(pcpool_classic_pcp_pages(c), 0u);
}

TEST_F(ClassicTest, AtTheLimitDrainAllFeedsTheNeedyCpu) {
  ZoneParams p;
  p.limit = 1;
  p.nr_cpus = 4;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 16, 4), 0);
  std::vector<struct page*> pages(16);
  for (struct page*& pg : pages) {
    pg = pcpool_classic_alloc(c, 0);
  }
  for (int i = 0; i < 12; i++) {
    pcpool_classic_free(c, pages[i], 0);
  }
  ASSERT_EQ(c->pcp[0].count, 12);
  pcpool_user_set_cpu(3);
  struct page* page = pcpool_classic_alloc(c, 0);
  ASSERT_NE(page, nullptr);
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_drain_all_calls"], 1u);
  EXPECT_EQ(k["classic_drain_all_visited"], 1u);
  EXPECT_EQ(k["classic_drain_all_skipped"], 3u);
  EXPECT_EQ(k["classic_drained_by_all"], 12u);
  EXPECT_EQ(c->pcp[0].count, 0);
  EXPECT_EQ(k["zone_grow_limited"], 1u);
  pcpool_classic_free(c, page, 0);
  for (int i = 12; i < 16; i++) {
    pcpool_classic_free(c, pages[i], 0);
  }
}

// The debugfs view of a CPU's lists (classic/pools) and the drain count.
TEST_F(ClassicTest, PcpStateAndDrainCount) {
  ZoneParams p;
  p.nr_cpus = 3;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 64, 4), 0);
  pcpool_user_set_cpu(2);
  struct page* a = pcpool_classic_alloc(c, 0);
  struct page* b = pcpool_classic_alloc(c, 1);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  pcpool_classic_pcp_state s{};
  EXPECT_EQ(pcpool_classic_get_pcp_state(c, 3, &s), -EINVAL);
  ASSERT_EQ(pcpool_classic_get_pcp_state(c, 2, &s), 0);
  EXPECT_EQ(s.high, 64);
  EXPECT_EQ(s.batch, 4);
  // refills of batch pages per order, less what was handed out
  EXPECT_EQ(s.chunks[0], 3u);
  EXPECT_EQ(s.chunks[1], 1u);
  EXPECT_EQ(s.count, 5);
  ASSERT_EQ(pcpool_classic_get_pcp_state(c, 0, &s), 0);
  EXPECT_EQ(s.count, 0);
  pcpool_drain_result r{};
  pcpool_user_set_cpu(0);
  pcpool_classic_drain_all_count(c, false, &r);
  EXPECT_EQ(r.visited, 1u);
  EXPECT_EQ(r.skipped, 2u);
  EXPECT_EQ(r.pages, 5u);
  pcpool_classic_drain_all_count(c, true, &r);
  EXPECT_EQ(r.visited, 3u) << "force visits every CPU";
  EXPECT_EQ(r.pages, 0u);
  pcpool_classic_free(c, a, 0);
  pcpool_classic_free(c, b, 1);
}

TEST_F(ClassicTest, SourceFailureIsEnomemAndLosesNothing) {
  ZoneParams p;
  p.nr_cpus = 3;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  pcpool_user_mem_fail_after(&w.mem, 0);
  EXPECT_EQ(pcpool_classic_alloc(c, 0), nullptr);
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_alloc_failures"], 1u);
  EXPECT_EQ(k["classic_drain_all_calls"], 1u);
  EXPECT_GE(k["zone_grow_failed"], 1u);
  EXPECT_EQ(pcpool_classic_check(c), 0u);

  // Every third block request fails: what was handed out is unique and
  // the books balance.
  pcpool_user_mem_fail_after(&w.mem, -1);
  pcpool_user_mem_fail_every(&w.mem, 3);
  std::mt19937 rng(7);
  std::set<uint64_t> out_pfns;
  std::vector<std::pair<struct page*, unsigned>> out;
  uint64_t failures = 0;
  for (int i = 0; i < 400; i++) {
    pcpool_user_set_cpu(rng() % 3);
    unsigned o = rng() % 5;
    struct page* page = pcpool_classic_alloc(c, o);
    if (!page) {
      failures++;
      continue;
    }
    for (uint64_t j = 0; j < (1UL << o); j++) {
      EXPECT_TRUE(out_pfns.insert(Pfn(page) + j).second);
    }
    out.emplace_back(page, o);
    if (rng() % 3 == 0) {
      size_t victim = rng() % out.size();
      auto [freed, freed_order] = out[victim];
      for (uint64_t j = 0; j < (1UL << freed_order); j++) {
        out_pfns.erase(Pfn(freed) + j);
      }
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(victim));
      pcpool_user_set_cpu(rng() % 3);
      pcpool_classic_free(c, freed, freed_order);
    }
  }
  EXPECT_GT(w.mem.failures, 1u);
  pcpool_zone_totals t = w.Totals();
  EXPECT_EQ(t.blocks_held * 16, t.free_pages + pcpool_classic_pcp_pages(c) + out_pfns.size());
  // single source failures are retried; what fails is the limit
  EXPECT_EQ(failures + 1, ClassicCounters(c)["classic_alloc_failures"]);
  EXPECT_EQ(pcpool_classic_check(c), 0u);
  for (auto& [page, o] : out) {
    pcpool_classic_free(c, page, o);
  }
}

TEST_F(ClassicTest, ShrinkDrainsListsAndGivesBlocksBack) {
  ZoneParams p;
  p.reserve = 4;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 100, 8), 0);
  std::vector<struct page*> pages(40);
  for (struct page*& pg : pages) {
    pg = pcpool_classic_alloc(c, 0);
  }
  for (struct page* page : pages) {
    pcpool_classic_free(c, page, 0);
  }
  EXPECT_GT(pcpool_classic_pcp_pages(c), 0u);
  EXPECT_EQ(w.SourceHeld(), 3u);
  EXPECT_EQ(pcpool_classic_pcp_pages(c), 40u);
  EXPECT_EQ(w.Totals().free_pages, 8u);
  EXPECT_EQ(pcpool_classic_shrink_count(c), 40u) << "pcp pages + whole free blocks";
  EXPECT_EQ(pcpool_classic_shrink(c, ULONG_MAX), 48u);
  EXPECT_EQ(w.SourceHeld(), 0u);
  EXPECT_EQ(pcpool_classic_pcp_pages(c), 0u);
}

TEST_F(ClassicTest, CountersCarryClassicAndZoneKeys) {
  World w(ZoneParams{});
  pcpool_classic* c = w.AddClassic();
  struct page* page = pcpool_classic_alloc(c, 0);
  pcpool_classic_free(c, page, 0);
  Counters k = ClassicCounters(c);
  for (const char* key :
       {"classic_allocs", "classic_frees", "classic_refills", "classic_drains", "classic_pcp_pages",
        "classic_drain_all_visited", "classic_drain_all_skipped", "zone_lock_acquisitions",
        "zone_lock_contended", "zone_lock_hold_ns", "zone_pages_moved"}) {
    EXPECT_EQ(k.count(key), 1u) << key;
  }
  EXPECT_EQ(k["classic_allocs"], 1u);
  pcpool_classic_reset_counters(c);
  k = ClassicCounters(c);
  EXPECT_EQ(k["classic_allocs"], 0u);
  EXPECT_EQ(k["zone_lock_acquisitions"], 0u);
  EXPECT_GT(k["classic_pcp_pages"], 0u) << "a gauge, not reset";
}

TEST_F(ClassicTest, DrainCpuEmptiesOneList) {
  ZoneParams p;
  p.nr_cpus = 2;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 100, 8), 0);
  struct page* a = pcpool_classic_alloc(c, 0);
  pcpool_user_set_cpu(1);
  struct page* b = pcpool_classic_alloc(c, 0);
  ASSERT_GT(c->pcp[0].count, 0);
  ASSERT_GT(c->pcp[1].count, 0);
  pcpool_classic_drain_cpu(c, 1);
  EXPECT_EQ(c->pcp[1].count, 0);
  EXPECT_GT(c->pcp[0].count, 0);
  pcpool_classic_free(c, a, 0);
  pcpool_classic_free(c, b, 0);
}

}  // namespace
}  // namespace pcpool_test
