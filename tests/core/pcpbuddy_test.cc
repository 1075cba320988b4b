// SPDX-License-Identifier: GPL-2.0
// pcpbuddy: block claiming and ownership, routing of frees to the owner's
// pool, merging, the refill phases in order, stealing nearest-first,
// draining, drain-all, CPU hotplug, and exact accounting after each step.
#include "pcpbuddy_test.h"

#include <algorithm>
#include <random>
#include <set>
#include <vector>

namespace pcpool_test {
namespace {

class PcpbuddyTest : public CoreTest {};

TEST_F(PcpbuddyTest, InitDefaultsAndTunables) {
  PbWorld b(ZoneParams{}, 1);
  EXPECT_EQ(b.pb->high, 32u);
  EXPECT_EQ(b.pb->batch, 16u);
  EXPECT_EQ(b.pb->reserve, 1u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&b.pb->pool[1]) % PCPOOL_CACHE_BYTES, 0u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(&b.pb->stats[1]) % PCPOOL_CACHE_BYTES, 0u);
  EXPECT_EQ(pcpool_pcpbuddy_set_high_batch(b.pb, 10, 0), -EINVAL);
  EXPECT_EQ(pcpool_pcpbuddy_set_high_batch(b.pb, 10, 11), -EINVAL);
  EXPECT_EQ(pcpool_pcpbuddy_set_high_batch(b.pb, 16 * 16 + 1, 4), -EINVAL);
  EXPECT_EQ(pcpool_pcpbuddy_set_high_batch(b.pb, 40, 7), 0);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_high"], 40u);
  EXPECT_EQ(k["pcpbuddy_batch"], 7u);
  EXPECT_EQ(k.count("zone_lock_acquisitions"), 1u);
  EXPECT_EQ(k.count("zone_lock_contended"), 1u);
  EXPECT_EQ(k.count("zone_lock_hold_ns"), 1u);
  EXPECT_EQ(k.count("zone_pages_moved"), 1u);
  // small metadata buffers are refused
  std::vector<char> small(pcpool_pcpbuddy_meta_size(b.w.zone) - 1);
  pcpool_pcpbuddy* other = nullptr;
  EXPECT_EQ(pcpool_pcpbuddy_init(small.data(), small.size(), b.w.zone, 0, &other), -EINVAL);
  EXPECT_EQ(pcpool_pcpbuddy_meta_size(nullptr), 0u);
}

TEST_F(PcpbuddyTest, FirstAllocClaimsAndSplitsAWholeBlock) {
  PbWorld b(ZoneParams{}, 0);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), 0);
  EXPECT_EQ(page_private(pg), 0u);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_blocks_claimed"], 1u);
  EXPECT_EQ(k["pcpbuddy_refill_phase1"], 1u);
  EXPECT_EQ(k["pcpbuddy_grows"], 1u);
  EXPECT_EQ(k["pcpbuddy_pool_splits"], 4u);
  EXPECT_EQ(k["pcpbuddy_pool_pages"], 15u);
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 1u);
  EXPECT_EQ(b.w.Totals().free_pages, 0u);
  b.ExpectExact(1);
  // the next 15 come from the pool without the zone lock
  uint64_t acq = k["zone_lock_acquisitions"];
  std::vector<struct page*> pages{pg};
  for (int i = 0; i < 15; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
    ASSERT_NE(pages.back(), nullptr);
    EXPECT_EQ(Pfn(pages.back()) >> 4, Pfn(pg) >> 4) << "same block";
  }
  EXPECT_EQ(PbCounters(b.pb)["zone_lock_acquisitions"], acq);
  b.ExpectExact(16);
  for (struct page* p : pages) {
    pcpool_pcpbuddy_free(b.pb, p, 0);
  }
}

TEST_F(PcpbuddyTest, FreesMergeAndAWholeBlockGoesBack) {
  PbWorld b(ZoneParams{}, 0);
  std::vector<struct page*> pages;
  for (int i = 0; i < 16; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
    ASSERT_NE(pages.back(), nullptr);
  }
  std::shuffle(pages.begin(), pages.end(), std::mt19937(7));
  for (size_t i = 0; i < pages.size(); i++) {
    pcpool_pcpbuddy_free(b.pb, pages[i], 0);
    b.ExpectExact(pages.size() - i - 1);
  }
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_pool_merges"], 15u);
  EXPECT_EQ(k["pcpbuddy_blocks_returned"], 1u);
  EXPECT_EQ(k["pcpbuddy_local_frees"], 16u);
  EXPECT_EQ(k["pcpbuddy_pool_pages"], 0u);
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 0u);
  EXPECT_EQ(k["zone_merges"], 0u) << "all merging under the pool lock";
  EXPECT_EQ(b.w.Totals().nr_free[4], b.w.Totals().blocks_held);
}

TEST_F(PcpbuddyTest, ReserveKeepsAWholeBlockOwned) {
  PbWorld b(ZoneParams{}, 1);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 2);
  ASSERT_NE(pg, nullptr);
  pcpool_pcpbuddy_free(b.pb, pg, 2);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_blocks_returned"], 0u);
  EXPECT_EQ(k["pcpbuddy_pool_pages"], 16u);
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 1u);
  EXPECT_EQ(b.pb->pool[0].nr_whole, 1u);
  // a second whole block is beyond the reserve
  std::vector<struct page*> pages;
  for (int i = 0; i < 17; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
  }
  for (struct page* p : pages) {
    pcpool_pcpbuddy_free(b.pb, p, 0);
  }
  k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_blocks_returned"], 1u);
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 1u);
  b.ExpectExact(0);
  EXPECT_EQ(pcpool_pcpbuddy_drain_all(b.pb), 16u);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_blocks_owned"], 0u);
}

TEST_F(PcpbuddyTest, RemoteFreeGoesToTheOwnerWithoutTheZoneLock) {
  PbWorld b(ZoneParams{}, 1);
  std::vector<struct page*> pages;
  for (int i = 0; i < 8; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
  }
  uint64_t acq = PbCounters(b.pb)["zone_lock_acquisitions"];
  pcpool_user_set_cpu(1);
  for (struct page* p : pages) {
    pcpool_pcpbuddy_free(b.pb, p, 0);
  }
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["zone_lock_acquisitions"], acq);
  EXPECT_EQ(k["pcpbuddy_remote_frees"], 8u);
  EXPECT_EQ(k["pcpbuddy_local_frees"], 0u);
  EXPECT_EQ(b.pb->pool[1].free_pages, 0u);
  EXPECT_EQ(b.pb->pool[0].free_pages, 16u);
  EXPECT_EQ(b.pb->pool[0].nr_whole, 1u) << "whole again in the owner's pool";
  Counters c1 = PbCpuCounters(b.pb, 1);
  EXPECT_EQ(c1["pcpbuddy_remote_frees"], 8u);
  // kept as the reserve, in pieces: merging is lazy
  EXPECT_EQ(c1["pcpbuddy_pool_merges"], 0u);
  // a drain merges bottom-up first: 7 merges rebuild pages 0..7, the 8th
  // joins the untouched order-3 half, and one whole block goes
  pcpool_user_set_cpu(0);
  EXPECT_EQ(pcpool_pcpbuddy_drain_all(b.pb), 16u);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_pool_merges"], 8u);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_blocks_returned"], 1u);
  EXPECT_EQ(PbCounters(b.pb)["zone_merges"], 0u);
  b.ExpectExact(0);
}

// Merging is lazy: one page allocated and freed over and over is neither
// split nor merged again, and touches no zone lock.
TEST_F(PcpbuddyTest, RepeatedAllocFreeDoesNotResplit) {
  PbWorld b(ZoneParams{}, 1);
  struct page* first = pcpool_pcpbuddy_alloc(b.pb, 0);
  pcpool_pcpbuddy_free(b.pb, first, 0);
  Counters k0 = PbCounters(b.pb);
  for (int i = 0; i < 100; i++) {
    struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
    ASSERT_EQ(pg, first) << "hot page reused";
    pcpool_pcpbuddy_free(b.pb, pg, 0);
  }
  Counters k1 = PbCounters(b.pb);
  EXPECT_EQ(k1["pcpbuddy_pool_splits"], k0["pcpbuddy_pool_splits"]);
  EXPECT_EQ(k1["pcpbuddy_pool_merges"], k0["pcpbuddy_pool_merges"]);
  EXPECT_EQ(k1["zone_lock_acquisitions"], k0["zone_lock_acquisitions"]);
  b.ExpectExact(0);
}

// A larger order than any free chunk merges the pool bottom-up first.
TEST_F(PcpbuddyTest, LargerOrderMergesOnDemand) {
  ZoneParams p;
  p.limit = 1;
  PbWorld b(p, 0);
  std::vector<struct page*> pages;
  for (int i = 0; i < 16; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
  }
  std::sort(pages.begin(), pages.end());
  for (int i = 0; i < 4; i++) {
    pcpool_pcpbuddy_free(b.pb, pages[i], 0);
  }
  uint64_t merges = PbCounters(b.pb)["pcpbuddy_pool_merges"];
  struct page* big = pcpool_pcpbuddy_alloc(b.pb, 2);
  ASSERT_EQ(big, pages[0]);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_pool_merges"] - merges, 3u);
  b.ExpectExact(16);
  pcpool_pcpbuddy_free(b.pb, big, 2);
  for (int i = 4; i < 16; i++) {
    pcpool_pcpbuddy_free(b.pb, pages[i], 0);
  }
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_blocks_returned"], 1u);
}

// Phase 0 takes back an owned block's fragments a drain left in the zone.
TEST_F(PcpbuddyTest, Phase0RecoversOwnedFragments) {
  ZoneParams p;
  p.limit = 1;
  PbWorld b(p, 0);
  struct page* a = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_drain_all(b.pb), 15u);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, a), 0) << "still owned: a page is out";
  EXPECT_EQ(b.w.Totals().free_pages, 15u);
  b.ExpectExact(1);
  struct page* c = pcpool_pcpbuddy_alloc(b.pb, 1);
  ASSERT_NE(c, nullptr);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_refill_phase0"], 1u);
  EXPECT_EQ(k["pcpbuddy_refill_phase0_pages"], 15u);
  EXPECT_EQ(k["pcpbuddy_blocks_claimed"], 1u);
  EXPECT_EQ(b.w.Totals().free_pages, 0u);
  b.ExpectExact(3);
  pcpool_pcpbuddy_free(b.pb, a, 0);
  pcpool_pcpbuddy_free(b.pb, c, 1);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_blocks_returned"], 1u);
}

// A free that completes a block whose other parts were drained takes them
// back, so the block ends whole without a drain-all.
TEST_F(PcpbuddyTest, FreeCompletingADrainedBlockRecoversIt) {
  PbWorld b(ZoneParams{}, 0);
  std::vector<struct page*> pages;
  for (int i = 0; i < 4; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
  }
  pcpool_pcpbuddy_drain_all(b.pb);
  for (struct page* p : pages) {
    pcpool_pcpbuddy_free(b.pb, p, 0);
  }
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_recovers"], 1u);
  EXPECT_EQ(k["pcpbuddy_recover_pages"], 12u);
  EXPECT_EQ(k["pcpbuddy_blocks_returned"], 1u);
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 0u);
  pcpool_zone_totals t = b.w.Totals();
  EXPECT_EQ(t.nr_free[4], t.blocks_held);
  b.ExpectExact(0);
}

// Phase 2: at the limit with no whole block, sub-block chunks of the zone
// are cached without ownership; frees still go to the block's owner.
TEST_F(PcpbuddyTest, Phase2TakesUnownedChunksAtTheLimit) {
  ZoneParams p;
  p.limit = 1;
  PbWorld b(p, 0);
  struct page* a = pcpool_pcpbuddy_alloc(b.pb, 0);
  pcpool_pcpbuddy_drain_all(b.pb);
  pcpool_user_set_cpu(1);
  struct page* c = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(c, nullptr);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_refill_phase2"], 1u);
  EXPECT_EQ(k["pcpbuddy_refill_phase2_pages"], 15u);
  EXPECT_EQ(k["zone_grow_limited"], 1u);
  EXPECT_EQ(b.pb->pool[1].free_pages, 14u);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, c), 0);
  b.ExpectExact(2);
  pcpool_pcpbuddy_free(b.pb, c, 0);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_remote_frees"], 1u);
  EXPECT_EQ(b.pb->pool[0].free_pages, 1u);
  pcpool_user_set_cpu(0);
  pcpool_pcpbuddy_free(b.pb, a, 0);
  b.ExpectExact(0);
  // merge completeness after a drain-all: loose chunks go back too
  pcpool_pcpbuddy_drain_all(b.pb);
  pcpool_zone_totals t = b.w.Totals();
  EXPECT_EQ(t.nr_free[4], t.blocks_held);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_blocks_owned"], 0u);
}

// Phase 3 takes only the request, from the nearest CPU: same node first,
// then by CPU distance.
// One CPU holds the memory: after one steal, the next goes straight to
// that CPU, though a nearer pool has pages again by then.
TEST_F(PcpbuddyTest, StealTriesTheLastVictimFirst) {
  ZoneParams p;
  p.nr_cpus = 4;
  p.limit = 2;
  PbWorld b(p, 0);
  std::vector<struct page*> on1 = AllocOn(b.pb, 1, 16);  // all of a block
  std::vector<struct page*> on3 = AllocOn(b.pb, 3, 1);
  // CPU 0: CPUs 1 and 2 have nothing free, CPU 3 has
  pcpool_user_set_cpu(0);
  struct page* a = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, a), 3);
  // CPU 1, nearer, has pages again (one kept: a whole block would go back)
  FreeOn(b.pb, 1, {on1.begin() + 1, on1.end()});
  pcpool_user_set_cpu(0);
  struct page* c = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, c), 3) << "the last victim first";
  EXPECT_EQ(PbCpuCounters(b.pb, 1)["pcpbuddy_stolen_pages"], 0u);
  EXPECT_EQ(PbCpuCounters(b.pb, 0)["pcpbuddy_refill_phase3"], 2u);
  EXPECT_EQ(PbCpuCounters(b.pb, 0)["pcpbuddy_steal_visits"], 3u + 1u)
      << "CPUs 1, 2 and 3, then 3 alone";
  FreeOn(b.pb, 0, {a, c});
  FreeOn(b.pb, 1, {on1[0]});
  FreeOn(b.pb, 3, on3);
  b.ExpectExact(0);
}

TEST_F(PcpbuddyTest, StealsNearestFirstOnlyWhatIsNeeded) {
  ZoneParams p;
  p.nr_cpus = 4;
  p.limit = 3;
  PbWorld b(p, 0);
  // cpu0 and cpu3 on node 0, cpu1 and cpu2 on node 1
  pcpool_pcpbuddy_set_node(b.pb, 1, 1);
  pcpool_pcpbuddy_set_node(b.pb, 2, 1);
  std::vector<Chunk> out;
  for (unsigned cpu : {1u, 2u, 3u}) {
    pcpool_user_set_cpu(cpu);
    out.push_back({pcpool_pcpbuddy_alloc(b.pb, 0), 0});
    ASSERT_NE(out.back().page, nullptr);
  }
  pcpool_user_set_cpu(0);
  struct page* s = pcpool_pcpbuddy_alloc(b.pb, 1);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, s), 3) << "same node beats CPU distance";
  EXPECT_EQ(PbCpuCounters(b.pb, 3)["pcpbuddy_stolen_pages"], 2u);
  EXPECT_EQ(PbCpuCounters(b.pb, 1)["pcpbuddy_stolen_pages"], 0u);
  Counters c0 = PbCpuCounters(b.pb, 0);
  EXPECT_EQ(c0["pcpbuddy_refill_phase3"], 1u);
  EXPECT_EQ(c0["pcpbuddy_steal_pages"], 2u);
  EXPECT_EQ(b.pb->pool[0].free_pages, 0u) << "nothing beyond the request";
  out.push_back({s, 1});
  // with cpu3 empty, the next node-1 CPU in order is cpu1
  while (b.pb->pool[3].free_pages != 0) {
    pcpool_user_set_cpu(3);
    out.push_back({pcpool_pcpbuddy_alloc(b.pb, 0), 0});
  }
  pcpool_user_set_cpu(0);
  struct page* s2 = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(s2, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, s2), 1);
  out.push_back({s2, 0});
  b.ExpectExact(16 * 3 - b.w.Totals().free_pages - pcpool_pcpbuddy_pool_pages(b.pb));
  for (const Chunk& ch : out) {
    pcpool_pcpbuddy_free(b.pb, ch.page, ch.order);
  }
  // cpu0 owns nothing: every free was routed to another pool
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_remote_frees"], out.size());
  b.ExpectExact(0);
}

TEST_F(PcpbuddyTest, OutOfMemoryFailsCleanly) {
  ZoneParams p;
  p.limit = 1;
  PbWorld b(p, 0);
  std::vector<struct page*> pages;
  for (int i = 0; i < 16; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
    ASSERT_NE(pages.back(), nullptr);
  }
  EXPECT_EQ(pcpool_pcpbuddy_alloc(b.pb, 0), nullptr);
  pcpool_user_set_cpu(1);
  EXPECT_EQ(pcpool_pcpbuddy_alloc(b.pb, 4), nullptr);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_alloc_failures"], 2u);
  EXPECT_EQ(pcpool_pcpbuddy_alloc(b.pb, 5), nullptr) << "above the block order";
  b.ExpectExact(16);
  for (struct page* pg : pages) {
    pcpool_pcpbuddy_free(b.pb, pg, 0);
  }
}

TEST_F(PcpbuddyTest, SourceFailureFallsThrough) {
  PbWorld b(ZoneParams{}, 0);
  pcpool_user_mem_fail_after(&b.w.mem, 0);
  EXPECT_EQ(pcpool_pcpbuddy_alloc(b.pb, 0), nullptr);
  EXPECT_EQ(PbCounters(b.pb)["zone_grow_failed"], 1u);
  pcpool_user_mem_fail_after(&b.w.mem, -1);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  pcpool_pcpbuddy_free(b.pb, pg, 0);
}

// Above high, a free drains down to high - batch, coarsest first, under one
// zone-lock acquisition.
TEST_F(PcpbuddyTest, DrainAboveHighCoarsestFirstInOneAcquisition) {
  ZoneParams p;
  p.limit = 4;
  PbWorld b(p, 0);
  ASSERT_EQ(pcpool_pcpbuddy_set_high_batch(b.pb, 20, 10), 0);
  std::vector<struct page*> pages;
  for (int i = 0; i < 64; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
    ASSERT_NE(pages.back(), nullptr);
  }
  // free even pages of each block: nothing merges
  std::vector<struct page*> evens, odds;
  for (struct page* pg : pages) {
    (Pfn(pg) % 2 == 0 ? evens : odds).push_back(pg);
  }
  for (int i = 0; i < 20; i++) {
    pcpool_pcpbuddy_free(b.pb, evens[i], 0);
  }
  Counters k0 = PbCounters(b.pb);
  EXPECT_EQ(k0["pcpbuddy_drains"], 0u);
  pcpool_pcpbuddy_free(b.pb, evens[20], 0);
  Counters k1 = PbCounters(b.pb);
  EXPECT_EQ(k1["pcpbuddy_drains"], 1u);
  EXPECT_EQ(k1["pcpbuddy_drain_pages"], 11u);
  EXPECT_EQ(k1["zone_lock_acquisitions"] - k0["zone_lock_acquisitions"], 1u);
  EXPECT_EQ(b.pb->pool[0].free_pages, 10u);
  b.ExpectExact(64 - 21);
  // a coarse chunk goes before order-0 ones
  for (int i = 21; i < 32; i++) {
    pcpool_pcpbuddy_free(b.pb, evens[i], 0);
  }
  for (struct page* pg : odds) {
    pcpool_pcpbuddy_free(b.pb, pg, 0);
  }
  b.ExpectExact(0);
  pcpool_pcpbuddy_drain_all(b.pb);
  pcpool_zone_totals t = b.w.Totals();
  EXPECT_EQ(t.nr_free[4], t.blocks_held);
}

TEST_F(PcpbuddyTest, DrainAllVisitsOnlyPoolsHoldingPages) {
  ZoneParams p;
  p.nr_cpus = 4;
  PbWorld b(p, 0);
  std::vector<Chunk> out;
  for (unsigned cpu : {1u, 2u}) {
    pcpool_user_set_cpu(cpu);
    out.push_back({pcpool_pcpbuddy_alloc(b.pb, 0), 0});
  }
  pcpool_user_set_cpu(0);
  EXPECT_EQ(pcpool_pcpbuddy_drain_all(b.pb), 30u);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_drain_all_calls"], 1u);
  EXPECT_EQ(k["pcpbuddy_drain_all_visited"], 2u);
  EXPECT_EQ(k["pcpbuddy_drain_all_skipped"], 2u);
  EXPECT_EQ(k["pcpbuddy_drain_all_pages"], 30u);
  EXPECT_EQ(pcpool_pcpbuddy_pool_pages(b.pb), 0u);
  EXPECT_EQ(pcpool_pcpbuddy_drain_all(b.pb), 0u);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_drain_all_skipped"], 6u);
  for (const Chunk& ch : out) {
    pcpool_pcpbuddy_free(b.pb, ch.page, ch.order);
  }
  b.ExpectExact(0);
}

// The debugfs view of a pool (pcpbuddy/pools) and the drain file's count.
TEST_F(PcpbuddyTest, PoolStateAndDrainCount) {
  ZoneParams p;
  p.nr_cpus = 3;
  PbWorld b(p, 0);
  ASSERT_EQ(pcpool_pcpbuddy_set_remote_free(b.pb, PCPOOL_PCPBUDDY_REMOTE_LIST), 0);
  std::vector<struct page*> on1 = AllocOn(b.pb, 1, 4);
  pcpool_pcpbuddy_pool_state s{};
  EXPECT_EQ(pcpool_pcpbuddy_get_pool_state(b.pb, 3, &s), -EINVAL);
  ASSERT_EQ(pcpool_pcpbuddy_get_pool_state(b.pb, 1, &s), 0);
  EXPECT_EQ(s.pages, 12u);
  EXPECT_EQ(s.owned_blocks, 1u);
  EXPECT_EQ(s.whole_blocks, 0u);
  EXPECT_EQ(s.remote_chunks, 0u);
  EXPECT_FALSE(s.dead);
  // three of cpu1's pages freed on cpu2 wait on cpu1's remote-free list
  FreeOn(b.pb, 2, {on1[0], on1[1], on1[2]});
  ASSERT_EQ(pcpool_pcpbuddy_get_pool_state(b.pb, 1, &s), 0);
  EXPECT_EQ(s.remote_chunks, 3u);
  EXPECT_EQ(s.remote_pages, 3u);
  EXPECT_EQ(s.pages, 12u) << "not absorbed yet";
  ASSERT_EQ(pcpool_pcpbuddy_get_pool_state(b.pb, 2, &s), 0);
  EXPECT_EQ(s.pages, 0u);
  EXPECT_EQ(s.owned_blocks, 0u);
  pcpool_drain_result r{};
  pcpool_user_set_cpu(0);
  pcpool_pcpbuddy_drain_all_count(b.pb, &r);
  EXPECT_EQ(r.visited, 1u);
  EXPECT_EQ(r.skipped, 2u);
  EXPECT_EQ(r.pages, 15u);
  ASSERT_EQ(pcpool_pcpbuddy_get_pool_state(b.pb, 1, &s), 0);
  EXPECT_EQ(s.pages, 0u);
  EXPECT_EQ(s.remote_chunks, 0u);
  EXPECT_EQ(s.owned_blocks, 1u) << "one page still out";
  pcpool_pcpbuddy_drain_all_count(b.pb, &r);
  EXPECT_EQ(r.visited, 0u);
  EXPECT_EQ(r.skipped, 3u);
  EXPECT_EQ(r.pages, 0u);
  b.ExpectExact(1);
  FreeOn(b.pb, 1, {on1[3]});
  b.ExpectExact(0);
}

// A dead CPU's pool is emptied; frees to its blocks go to the zone; back
// online it works again.
TEST_F(PcpbuddyTest, HotplugDeadPoolIsEmptiedAndBypassed) {
  ZoneParams p;
  p.nr_cpus = 3;
  PbWorld b(p, 1);
  pcpool_user_set_cpu(1);
  std::vector<struct page*> pages;
  for (int i = 0; i < 6; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
  }
  pcpool_user_set_cpu(0);
  pcpool_pcpbuddy_cpu_dead(b.pb, 1);
  EXPECT_EQ(b.pb->pool[1].free_pages, 0u);
  b.ExpectExact(6);
  for (size_t i = 0; i < pages.size(); i++) {
    pcpool_pcpbuddy_free(b.pb, pages[i], 0);
    b.ExpectExact(pages.size() - i - 1);
  }
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_dead_frees"], 6u);
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 0u) << "whole in the zone: ownership ended";
  EXPECT_EQ(b.pb->pool[1].free_pages, 0u);
  // stealers skip a dead pool
  pcpool_pcpbuddy_cpu_online(b.pb, 1);
  pcpool_user_set_cpu(1);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), 1);
  pcpool_pcpbuddy_free(b.pb, pg, 0);
  b.ExpectExact(0);
}

TEST_F(PcpbuddyTest, InvalidFreesWarnAndChangeNothing) {
  PbWorld b(ZoneParams{}, 0);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 1);
  ExpectWarnings(2);
  pcpool_pcpbuddy_free(b.pb, pg + 1, 1);  // misaligned
  pcpool_pcpbuddy_free(b.pb, pg, 9);      // above the block order
  b.ExpectExact(2);
  pcpool_pcpbuddy_free(b.pb, pg, 1);
}

TEST_F(PcpbuddyTest, ShrinkDrainsThenGivesBackWholeBlocks) {
  ZoneParams p;
  p.reserve = 4;
  PbWorld b(p, 1);
  std::vector<struct page*> pages;
  for (int i = 0; i < 40; i++) {
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
  }
  for (struct page* pg : pages) {
    pcpool_pcpbuddy_free(b.pb, pg, 0);
  }
  EXPECT_EQ(pcpool_pcpbuddy_shrink_count(b.pb), 48u);
  EXPECT_EQ(pcpool_pcpbuddy_shrink(b.pb, 1000), 48u);
  EXPECT_EQ(b.w.SourceHeld(), 0u);
  b.ExpectExact(0);
}

// Random orders, random allocating and freeing CPUs, single-threaded so
// the check runs after every step; then merge completeness.
TEST_F(PcpbuddyTest, RandomMixStaysExactAndMergesCompletely) {
  ZoneParams p;
  p.nr_cpus = 4;
  p.mem_blocks = 256;
  p.limit = 256;
  p.reserve = 1;
  PbWorld b(p, 1);
  ASSERT_EQ(pcpool_pcpbuddy_set_high_batch(b.pb, 40, 20), 0);
  std::mt19937 rng(42);
  std::vector<Chunk> out;
  uint64_t out_pages = 0;
  for (int step = 0; step < 6000; step++) {
    pcpool_user_set_cpu(rng() % 4);
    if (rng() % 100 < 55 || out.empty()) {
      unsigned o = rng() % 4 != 0 ? 0 : rng() % 5;
      struct page* pg = pcpool_pcpbuddy_alloc(b.pb, o);
      ASSERT_NE(pg, nullptr);
      ASSERT_EQ(Pfn(pg) % (1UL << o), 0u);
      out.push_back({pg, o});
      out_pages += 1UL << o;
    } else {
      size_t i = rng() % out.size();
      pcpool_pcpbuddy_free(b.pb, out[i].page, out[i].order);
      out_pages -= 1UL << out[i].order;
      out[i] = out.back();
      out.pop_back();
    }
    if (step % 50 == 0) {
      b.ExpectExact(out_pages);
    }
    if (step % 1500 == 0) {
      pcpool_pcpbuddy_drain_all(b.pb);
    }
  }
  std::shuffle(out.begin(), out.end(), rng);
  for (const Chunk& ch : out) {
    pcpool_user_set_cpu(rng() % 4);
    pcpool_pcpbuddy_free(b.pb, ch.page, ch.order);
  }
  b.ExpectExact(0);
  // Without a drain-all: every pool holds only owned blocks that are
  // entirely free, at most its reserve, and the zone only whole blocks.
  for (unsigned cpu = 0; cpu < 4; cpu++) {
    const pcpool_pcpbuddy_pool& pool = b.pb->pool[cpu];
    EXPECT_LE(pool.nr_whole, 1u) << "cpu " << cpu;
    EXPECT_EQ(pool.free_pages, pool.nr_whole * 16) << "cpu " << cpu;
  }
  pcpool_zone_totals t = b.w.Totals();
  for (unsigned o = 0; o < 4; o++) {
    EXPECT_EQ(t.nr_free[o], 0u) << "zone order " << o;
  }
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_allocs"], k["pcpbuddy_frees"]);
  EXPECT_EQ(k["pcpbuddy_frees"], k["pcpbuddy_local_frees"] + k["pcpbuddy_remote_frees"] +
                                     k["pcpbuddy_loose_frees"] + k["pcpbuddy_dead_frees"]);
  EXPECT_GT(k["pcpbuddy_remote_frees"], 0u);
}

TEST_F(PcpbuddyTest, CountersResetAndPerCpuSumsMatch) {
  ZoneParams p;
  p.nr_cpus = 3;
  PbWorld b(p, 0);
  std::vector<struct page*> pages;
  for (unsigned cpu = 0; cpu < 3; cpu++) {
    pcpool_user_set_cpu(cpu);
    pages.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
  }
  Counters sum = PbCounters(b.pb);
  uint64_t allocs = 0;
  uint64_t pool_pages = 0;
  for (unsigned cpu = 0; cpu < 3; cpu++) {
    Counters c = PbCpuCounters(b.pb, cpu);
    allocs += c["pcpbuddy_allocs"];
    pool_pages += c["pcpbuddy_pool_pages"];
  }
  EXPECT_EQ(sum["pcpbuddy_allocs"], allocs);
  EXPECT_EQ(sum["pcpbuddy_pool_pages"], pool_pages);
  pcpool_pcpbuddy_reset_counters(b.pb);
  Counters z = PbCounters(b.pb);
  EXPECT_EQ(z["pcpbuddy_allocs"], 0u);
  EXPECT_EQ(z["zone_lock_acquisitions"], 0u);
  EXPECT_EQ(z["pcpbuddy_pool_pages"], 45u) << "state, not a counter";
  for (size_t i = 0; i < pages.size(); i++) {
    pcpool_user_set_cpu(i);
    pcpool_pcpbuddy_free(b.pb, pages[i], 0);
  }
}

}  // namespace
}  // namespace pcpool_test
