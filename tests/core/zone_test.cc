// SPDX-License-Identifier: GPL-2.0
// The zone: split/merge, accounting, growth and give-back, fault injection,
// lock statistics, and random sequences checked against a reference model.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <random>
#include <set>
#include <thread>

#include "core_test.h"

namespace pcpool_test {
namespace {

class ZoneTest : public CoreTest {};

TEST_F(ZoneTest, RejectsBadConfig) {
  pcpool_user_mem mem{};
  ASSERT_EQ(pcpool_user_mem_init(&mem, 0, 4, 3), 0);
  pcpool_zone_config cfg{};
  cfg.start_pfn = 0;
  cfg.end_pfn = 32;
  cfg.block_order = 3;
  cfg.nr_cpus = 1;
  cfg.limit_blocks = 4;
  cfg.src = pcpool_user_mem_source(&mem);
  size_t need = pcpool_zone_meta_size(&cfg);
  ASSERT_GT(need, 0u);

  pcpool_zone_config bad = cfg;
  bad.block_order = PCPOOL_NR_ORDERS;
  EXPECT_EQ(pcpool_zone_meta_size(&bad), 0u);
  bad = cfg;
  bad.nr_cpus = 0;
  EXPECT_EQ(pcpool_zone_meta_size(&bad), 0u);
  bad = cfg;
  bad.limit_blocks = 0;
  EXPECT_EQ(pcpool_zone_meta_size(&bad), 0u);
  bad = cfg;
  bad.end_pfn = bad.start_pfn;
  EXPECT_EQ(pcpool_zone_meta_size(&bad), 0u);
  bad = cfg;
  bad.src.free_block = nullptr;
  EXPECT_EQ(pcpool_zone_meta_size(&bad), 0u);
  EXPECT_EQ(pcpool_zone_meta_size(nullptr), 0u);

  std::vector<char> buf(need);
  pcpool_zone* zone = nullptr;
  EXPECT_EQ(pcpool_zone_init(buf.data(), need - 1, &cfg, &zone), -EINVAL);
  EXPECT_EQ(pcpool_zone_init(nullptr, need, &cfg, &zone), -EINVAL);
  EXPECT_EQ(pcpool_zone_init(buf.data(), need, &bad, &zone), -EINVAL);
  EXPECT_EQ(zone, nullptr);
  // Any alignment of the caller's buffer works.
  std::vector<char> odd(need + 1);
  ASSERT_EQ(pcpool_zone_init(odd.data() + 1, need, &cfg, &zone), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(zone) % PCPOOL_CACHE_BYTES, 0u);
  EXPECT_EQ(pcpool_zone_destroy(zone), 0u);
  pcpool_user_mem_destroy(&mem);
}

TEST_F(ZoneTest, NoMemoryHeldUntilUsed) {
  World w(ZoneParams{});
  EXPECT_EQ(w.SourceHeld(), 0u);
  EXPECT_EQ(w.Totals().blocks_held, 0u);
}

TEST_F(ZoneTest, SplitThenMergeBack) {
  ZoneParams p;
  p.order = 3;
  p.reserve = 1;
  World w(p);
  pcpool_zone_reset_counters(w.zone);
  struct page* page = pcpool_zone_alloc(w.zone, 0);
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(w.SourceHeld(), 1u);
  // 8 -> 4+4 -> 2+2 -> 1+1: one free chunk of each lower order.
  pcpool_zone_totals t = w.Totals();
  EXPECT_EQ(t.nr_free[0], 1u);
  EXPECT_EQ(t.nr_free[1], 1u);
  EXPECT_EQ(t.nr_free[2], 1u);
  EXPECT_EQ(t.nr_free[3], 0u);
  EXPECT_EQ(t.free_pages, 7u);
  EXPECT_EQ(Pfn(page) % 8, 0u);
  EXPECT_EQ(pcpool_zone_owner(w.zone, Pfn(page)), PCPOOL_OWNER_NONE);
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_splits"], 3u);
  EXPECT_EQ(c["zone_merges"], 0u);

  pcpool_zone_free(w.zone, page, 0);
  t = w.Totals();
  EXPECT_EQ(t.nr_free[0] + t.nr_free[1] + t.nr_free[2], 0u);
  EXPECT_EQ(t.nr_free[3], 1u);
  EXPECT_EQ(t.free_pages, 8u);
  c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_merges"], 3u);
  EXPECT_EQ(pcpool_zone_check(w.zone), 0u);
}

TEST_F(ZoneTest, MergesOnlyWithFreeBuddyOfSameOrder) {
  ZoneParams p;
  p.order = 3;
  p.reserve = 1;
  World w(p);
  struct page* a = pcpool_zone_alloc(w.zone, 1);  // pfns 0,1
  struct page* b = pcpool_zone_alloc(w.zone, 0);  // pfn 2
  struct page* c = pcpool_zone_alloc(w.zone, 0);  // pfn 3
  ASSERT_TRUE(a && b && c);
  uint64_t base = Pfn(a);
  EXPECT_EQ(Pfn(b), base + 2);
  EXPECT_EQ(Pfn(c), base + 3);
  // Freeing pfn 2 must not merge with the allocated order-1 chunk at 0.
  pcpool_zone_free(w.zone, b, 0);
  pcpool_zone_totals t = w.Totals();
  EXPECT_EQ(t.nr_free[0], 1u);
  EXPECT_EQ(t.nr_free[2], 1u);
  pcpool_zone_free(w.zone, c, 0);  // 2+3 -> order 1; 0-1 still out
  t = w.Totals();
  EXPECT_EQ(t.nr_free[0], 0u);
  EXPECT_EQ(t.nr_free[1], 1u);
  pcpool_zone_free(w.zone, a, 1);  // -> order 2 -> order 3
  t = w.Totals();
  EXPECT_EQ(t.nr_free[3], 1u);
  EXPECT_EQ(t.free_pages, 8u);
}

TEST_F(ZoneTest, EveryPageAtMostOnceUpToTheLimit) {
  ZoneParams p;
  p.order = 4;
  p.mem_blocks = 8;
  p.limit = 6;
  p.reserve = 6;
  World w(p);
  std::set<uint64_t> seen;
  std::vector<struct page*> pages;
  for (;;) {
    struct page* page = pcpool_zone_alloc(w.zone, 0);
    if (!page) {
      break;
    }
    EXPECT_TRUE(seen.insert(Pfn(page)).second) << "pfn handed out twice " << Pfn(page);
    EXPECT_TRUE(page->flags & PCPOOL_USER_PAGE_HELD);
    pages.push_back(page);
  }
  EXPECT_EQ(pages.size(), 6u * 16);
  EXPECT_EQ(w.SourceHeld(), 6u);
  Counters c = ZoneCounters(w.zone);
  EXPECT_GE(c["zone_grow_limited"], 1u);
  EXPECT_EQ(c["zone_blocks_obtained"], 6u);
  EXPECT_EQ(w.Totals().free_pages, 0u);
  for (struct page* page : pages) {
    pcpool_zone_free(w.zone, page, 0);
  }
  pcpool_zone_totals t = w.Totals();
  EXPECT_EQ(t.nr_free[4], 6u);
  EXPECT_EQ(t.free_pages, 6u * 16);
}

TEST_F(ZoneTest, HighOrdersAreAligned) {
  ZoneParams p;
  p.order = 6;
  p.mem_blocks = 4;
  p.limit = 4;
  World w(p);
  std::vector<std::pair<struct page*, unsigned>> out;
  for (unsigned o = 0; o <= 6; o++) {
    struct page* page = pcpool_zone_alloc(w.zone, o);
    ASSERT_NE(page, nullptr);
    EXPECT_EQ(Pfn(page) & ((1UL << o) - 1), 0u) << "order " << o;
    out.emplace_back(page, o);
  }
  EXPECT_EQ(pcpool_zone_alloc(w.zone, 7), nullptr) << "above the block order";
  for (auto& [page, o] : out) {
    pcpool_zone_free(w.zone, page, o);
  }
}

TEST_F(ZoneTest, BulkAllocAndFreeUnderOneAcquisition) {
  ZoneParams p;
  p.reserve = 1;
  World w(p);
  ASSERT_EQ(pcpool_zone_grow(w.zone), 0);
  pcpool_zone_reset_counters(w.zone);
  PageList pl;
  struct list_head* list = &pl.head;
  EXPECT_EQ(pcpool_zone_alloc_bulk(w.zone, 0, PCPOOL_MT_DEFAULT, 8, list), 8u);
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_lock_acquisitions"], 1u);
  EXPECT_EQ(c["zone_pages_moved"], 8u);
  EXPECT_EQ(c["zone_moved_hist_8"], 1u);
  // LIFO free lists: pfns 0..7 come out in order with 4+1+2+1 splits.
  EXPECT_EQ(c["zone_splits"], 8u);
  uint64_t expect = 0x40000;
  for (struct page* page : pl.Pages()) {
    EXPECT_EQ(Pfn(page), expect++);
  }

  // Nine free chunks (8 pages + the order-3 half) become one: 8 merges.
  pcpool_zone_free_list(w.zone, list);
  EXPECT_TRUE(list_empty(list));
  c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_lock_acquisitions"], 2u);
  EXPECT_EQ(c["zone_pages_moved"], 16u);
  EXPECT_EQ(c["zone_merges"], 8u);
  EXPECT_EQ(c["zone_moved_hist_8"], 2u);
  // Short of pages, bulk returns what there is and does not grow.
  EXPECT_EQ(pcpool_zone_alloc_bulk(w.zone, 2, PCPOOL_MT_DEFAULT, 100, list), 4u);
  EXPECT_EQ(w.SourceHeld(), 1u);
  for (struct page* page : pl.Pages()) {
    EXPECT_EQ(page_private(page), 0u) << "handed out with private clear";
    set_page_private(page, 2);
  }
  pcpool_zone_free_list(w.zone, list);
  EXPECT_EQ(w.Totals().nr_free[4], 1u);
}

TEST_F(ZoneTest, CountersHaveRequiredKeysAndReset) {
  World w(ZoneParams{});
  struct page* page = pcpool_zone_alloc(w.zone, 0);
  ASSERT_NE(page, nullptr);
  Counters c = ZoneCounters(w.zone);
  for (const char* key :
       {"zone_lock_acquisitions", "zone_lock_contended", "zone_lock_hold_ns", "zone_pages_moved",
        "zone_merges", "zone_blocks_held", "zone_blocks_obtained", "zone_blocks_returned",
        "zone_free_pages", "zone_free_order_0", "zone_free_order_4", "zone_moved_hist_0",
        "zone_moved_hist_1024"}) {
    EXPECT_EQ(c.count(key), 1u) << key;
  }
  EXPECT_EQ(c.count("zone_free_order_5"), 0u) << "only orders up to the block order";
  // empty try, grow (reserve a slot, insert the block), retry
  EXPECT_EQ(c["zone_lock_acquisitions"], 4u);
  EXPECT_EQ(c["zone_moved_hist_0"], 3u);
  EXPECT_EQ(c["zone_moved_hist_1"], 1u);
  EXPECT_EQ(c["zone_blocks_held"], 1u);
  EXPECT_EQ(c["zone_free_pages"], 15u);
  pcpool_zone_reset_counters(w.zone);
  c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_lock_acquisitions"], 0u);
  EXPECT_EQ(c["zone_lock_hold_ns"], 0u);
  EXPECT_EQ(c["zone_blocks_held"], 1u) << "gauges survive a reset";
  pcpool_zone_free(w.zone, page, 0);
}

// zone_freed_order_N counts chunks as they are handed in, before merging:
// buddyinfo (zone_free_order_N) only shows what they merged into.
TEST_F(ZoneTest, FreedOrderCountsChunksHandedIn) {
  ZoneParams p;
  p.reserve = 1;  // keep the block when it is whole again
  World w(p);
  struct page* a = pcpool_zone_alloc(w.zone, 0);
  struct page* b = pcpool_zone_alloc(w.zone, 0);
  struct page* c2 = pcpool_zone_alloc(w.zone, 2);
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_NE(c2, nullptr);
  pcpool_zone_reset_counters(w.zone);
  pcpool_zone_free(w.zone, a, 0);
  pcpool_zone_free(w.zone, b, 0);
  pcpool_zone_free(w.zone, c2, 2);
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_freed_order_0"], 2u);
  EXPECT_EQ(c["zone_freed_order_1"], 0u) << "a merge is not a chunk handed in";
  EXPECT_EQ(c["zone_freed_order_2"], 1u);
  EXPECT_EQ(c.count("zone_freed_order_4"), 1u);
  EXPECT_EQ(c.count("zone_freed_order_5"), 0u) << "only orders up to the block order";
  EXPECT_EQ(c["zone_free_order_4"], 1u) << "all merged back into the block";
}

TEST_F(ZoneTest, ContendedAcquisitionIsCounted) {
  World w(ZoneParams{});
  ASSERT_EQ(pcpool_zone_grow(w.zone), 0);
  pcpool_zone_reset_counters(w.zone);
  std::atomic<bool> locked{false};
  std::thread holder([&] {
    pcpool_user_set_cpu(1);
    pcpool_zone_lock(w.zone);
    locked = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pcpool_zone_unlock(w.zone);
  });
  while (!locked) {
    std::this_thread::yield();
  }
  struct page* page = pcpool_zone_alloc(w.zone, 0);
  holder.join();
  ASSERT_NE(page, nullptr);
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_lock_acquisitions"], 2u);
  EXPECT_EQ(c["zone_lock_contended"], 1u);
  EXPECT_GE(c["zone_lock_hold_ns"], 50u * 1000 * 1000);
  EXPECT_EQ(w.zone->stats[1].lock_acquisitions, 1u) << "per-CPU slots";
  EXPECT_EQ(w.zone->stats[0].lock_contended, 1u);
  pcpool_zone_free(w.zone, page, 0);
}

TEST_F(ZoneTest, WholeBlocksBeyondReserveGoBack) {
  ZoneParams p;
  p.reserve = 1;
  World w(p);
  std::vector<struct page*> pages(size_t{3} * 16);
  for (struct page*& pg : pages) {
    pg = pcpool_zone_alloc(w.zone, 0);
  }
  ASSERT_EQ(w.SourceHeld(), 3u);
  for (struct page* page : pages) {
    pcpool_zone_free(w.zone, page, 0);
  }
  EXPECT_EQ(w.SourceHeld(), 1u);
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_blocks_returned"], 2u);
  EXPECT_EQ(c["zone_blocks_held"], 1u);
  EXPECT_EQ(pcpool_zone_shrink_count(w.zone), 16u);
}

TEST_F(ZoneTest, ShrinkGivesBackWholeBlocksOnly) {
  ZoneParams p;
  p.reserve = 8;
  World w(p);
  std::vector<struct page*> pages(size_t{5} * 16);
  for (struct page*& pg : pages) {
    pg = pcpool_zone_alloc(w.zone, 0);
  }
  struct page* keep = pages.back();  // block 5 stays partly used
  pages.pop_back();
  for (struct page* page : pages) {
    pcpool_zone_free(w.zone, page, 0);
  }
  EXPECT_EQ(w.SourceHeld(), 5u);
  EXPECT_EQ(pcpool_zone_shrink_count(w.zone), 4u * 16);
  EXPECT_EQ(pcpool_zone_shrink(w.zone, 20), 32u) << "whole blocks, rounded up";
  EXPECT_EQ(w.SourceHeld(), 3u);
  EXPECT_EQ(pcpool_zone_shrink(w.zone, ULONG_MAX), 32u);
  EXPECT_EQ(w.SourceHeld(), 1u) << "the partly used block stays";
  EXPECT_EQ(pcpool_zone_shrink(w.zone, ULONG_MAX), 0u);
  pcpool_zone_free(w.zone, keep, 0);
  EXPECT_EQ(pcpool_zone_shrink(w.zone, ULONG_MAX), 16u);
  EXPECT_EQ(w.SourceHeld(), 0u);
}

TEST_F(ZoneTest, SourceFailureLeavesZoneConsistent) {
  World w(ZoneParams{});
  pcpool_user_mem_fail_after(&w.mem, 0);
  EXPECT_EQ(pcpool_zone_alloc(w.zone, 0), nullptr);
  EXPECT_EQ(pcpool_zone_grow(w.zone), -ENOMEM);
  EXPECT_EQ(pcpool_zone_check(w.zone), 0u);
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_grow_failed"], 2u);
  EXPECT_EQ(c["zone_blocks_held"], 0u);
  EXPECT_EQ(w.zone->nr_reserved, 0u) << "failed growth gives its slot back";

  // One success, then failures: the first block is used up, then ENOMEM.
  pcpool_user_mem_fail_after(&w.mem, 1);
  std::vector<struct page*> pages;
  for (int i = 0; i < 20; i++) {
    struct page* page = pcpool_zone_alloc(w.zone, 0);
    if (page) {
      pages.push_back(page);
    }
  }
  EXPECT_EQ(pages.size(), 16u);
  EXPECT_EQ(pcpool_zone_check(w.zone), 0u);
  pcpool_user_mem_fail_after(&w.mem, -1);
  struct page* more = pcpool_zone_alloc(w.zone, 3);
  ASSERT_NE(more, nullptr) << "recovers once the source does";
  pages.push_back(more);
  pcpool_zone_free(w.zone, more, 3);
  pages.pop_back();
  for (struct page* page : pages) {
    pcpool_zone_free(w.zone, page, 0);
  }
}

TEST_F(ZoneTest, GrowAtLimitIsNoSpace) {
  ZoneParams p;
  p.limit = 1;
  World w(p);
  EXPECT_EQ(pcpool_zone_grow(w.zone), 0);
  EXPECT_EQ(pcpool_zone_grow(w.zone), -ENOSPC);
  EXPECT_EQ(ZoneCounters(w.zone)["zone_grow_limited"], 1u);
}

TEST_F(ZoneTest, BlockOutsideTheSpanGoesBack) {
  ZoneParams p;
  p.mem_blocks = 3;
  p.span_skip = 1;  // the source's first block is outside the zone's pfns
  World w(p);
  EXPECT_EQ(pcpool_zone_grow(w.zone), -ENOMEM);
  EXPECT_EQ(w.SourceHeld(), 0u);
  EXPECT_EQ(w.mem.frees, 1u);
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_blocks_rejected"], 1u);
  EXPECT_EQ(c["zone_blocks_held"], 0u);
  EXPECT_EQ(pcpool_zone_grow(w.zone), 0) << "the next block is inside";
  EXPECT_EQ(w.SourceHeld(), 1u);
}

TEST_F(ZoneTest, DestroyWithPagesOutWarnsAndLeaks) {
  ExpectWarnings(1);
  ZoneParams p;
  p.reserve = 2;
  World w(p);
  struct page* page = pcpool_zone_alloc(w.zone, 0);
  ASSERT_NE(page, nullptr);
  struct page* whole = pcpool_zone_alloc(w.zone, 4);  // a second, whole block
  ASSERT_NE(whole, nullptr);
  pcpool_zone_free(w.zone, whole, 4);
  EXPECT_EQ(w.SourceHeld(), 2u);
  EXPECT_EQ(pcpool_zone_destroy(w.zone), 1u);
  EXPECT_EQ(w.SourceHeld(), 1u) << "the whole block went back, the used one did not";
  w.MarkDestroyed();
}

TEST_F(ZoneTest, InvalidFreesAreRefused) {
  ExpectWarnings(4);
  World w(ZoneParams{});
  struct page* a = pcpool_zone_alloc(w.zone, 0);
  struct page* b = pcpool_zone_alloc(w.zone, 0);
  struct page* c = pcpool_zone_alloc(w.zone, 1);
  ASSERT_TRUE(a && b && c);
  pcpool_zone_free(w.zone, b, 0);
  pcpool_zone_free(w.zone, b, 0);      // double free of a free head
  pcpool_zone_free(w.zone, c + 1, 1);  // misaligned for its order
  pcpool_zone_free(w.zone, a, 5);      // above the block order
  // a block the zone does not hold
  pcpool_zone_free(w.zone, pfn_to_page(Pfn(a) + (5UL << 4)), 0);
  EXPECT_EQ(ZoneCounters(w.zone)["zone_bad_frees"], 4u);
  EXPECT_EQ(pcpool_zone_check(w.zone), 0u);
  pcpool_zone_free(w.zone, a, 0);
  pcpool_zone_free(w.zone, c, 1);
}

TEST_F(ZoneTest, ClaimReturnAndOwnership) {
  ZoneParams p;
  p.reserve = 4;
  World w(p);
  EXPECT_EQ(pcpool_zone_claim_block(w.zone, 1), nullptr) << "claim does not grow";
  ASSERT_EQ(pcpool_zone_grow(w.zone), 0);
  pcpool_zone_reset_counters(w.zone);
  struct page* blk = pcpool_zone_claim_block(w.zone, 1);
  ASSERT_NE(blk, nullptr);
  EXPECT_EQ(pcpool_zone_owner(w.zone, Pfn(blk) + 7), 1);
  EXPECT_EQ(w.Totals().free_pages, 0u);
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_blocks_claimed"], 1u);
  EXPECT_EQ(c["zone_pages_moved"], 16u);

  // The owner hands a fragment to the zone, then takes its fragments back.
  pcpool_zone_free(w.zone, blk + 8, 3);
  pcpool_zone_free(w.zone, blk + 4, 2);
  EXPECT_EQ(pcpool_zone_owner(w.zone, Pfn(blk)), 1) << "partial block stays owned";
  PageList frags;
  EXPECT_EQ(pcpool_zone_take_fragments(w.zone, Pfn(blk), &frags.head), 12u);
  EXPECT_EQ(w.Totals().free_pages, 0u);
  uint64_t pages = 0;
  for (struct page* page : frags.Pages()) {
    pages += 1UL << page_private(page);
  }
  EXPECT_EQ(pages, 12u);
  pcpool_zone_free_list(w.zone, &frags.head);  // orders are in page_private()
  EXPECT_EQ(w.Totals().free_pages, 12u);

  // Returning the rest makes it whole: ownership ends.
  pcpool_zone_free(w.zone, blk, 2);
  EXPECT_EQ(pcpool_zone_owner(w.zone, Pfn(blk)), PCPOOL_OWNER_NONE);
  EXPECT_EQ(w.Totals().nr_free[4], 1u);

  blk = pcpool_zone_claim_block(w.zone, 0);
  ASSERT_NE(blk, nullptr);
  EXPECT_EQ(pcpool_zone_owner(w.zone, Pfn(blk)), 0);
  pcpool_zone_return_block(w.zone, blk);
  EXPECT_EQ(pcpool_zone_owner(w.zone, Pfn(blk)), PCPOOL_OWNER_NONE);
}

TEST_F(ZoneTest, RmqueueLargestTakesBiggestChunkUnsplit) {
  World w(ZoneParams{});
  struct page* first = pcpool_zone_alloc(w.zone, 0);  // leaves 8+4+2+1
  ASSERT_NE(first, nullptr);
  unsigned int order = 99;
  pcpool_zone_lock(w.zone);
  struct page* big = __pcpool_zone_rmqueue_largest(w.zone, 1, 2, PCPOOL_MT_DEFAULT, &order);
  struct page* none = __pcpool_zone_rmqueue_largest(w.zone, 4, 4, PCPOOL_MT_DEFAULT, &order);
  pcpool_zone_unlock(w.zone);
  ASSERT_NE(big, nullptr);
  EXPECT_EQ(none, nullptr);
  EXPECT_EQ(order, 2u);
  EXPECT_EQ(Pfn(big), Pfn(first) + 4);
  pcpool_zone_free(w.zone, big, 2);
  pcpool_zone_free(w.zone, first, 0);
}

// Reference model: which pages are allocated, and which blocks the source
// has out.  The buddy invariant makes allocation predictable: an order-k
// request is met from what the zone holds iff some aligned 2^k run of a
// held block is entirely free, otherwise only by growing.
class Reference {
 public:
  Reference(World* w, unsigned order, uint64_t nr_blocks)
      : w_(w), order_(order), nr_blocks_(nr_blocks), used_(nr_blocks << order) {}

  uint64_t Index(struct page* page) const { return page - w_->mem.pages; }

  [[nodiscard]] bool RunFree(uint64_t idx, unsigned o) const {
    for (uint64_t i = idx; i < idx + (1UL << o); i++) {
      if (used_[i]) {
        return false;
      }
    }
    return true;
  }

  [[nodiscard]] bool HasFreeRun(unsigned o) const {
    for (uint64_t b = 0; b < nr_blocks_; b++) {
      if (w_->mem.taken[b] == 0u) {
        continue;
      }
      for (uint64_t off = 0; off < (1UL << order_); off += 1UL << o) {
        if (RunFree((b << order_) + off, o)) {
          return true;
        }
      }
    }
    return false;
  }

  [[nodiscard]] uint64_t WholeFreeBlocks() const {
    uint64_t n = 0;
    for (uint64_t b = 0; b < nr_blocks_; b++) {
      if (w_->mem.taken[b] != 0 && RunFree(b << order_, order_)) {
        n++;
      }
    }
    return n;
  }

  void Mark(struct page* page, unsigned o, bool used) {
    for (uint64_t i = Index(page); i < Index(page) + (1UL << o); i++) {
      used_[i] = used;
    }
    allocated_ += used ? (1UL << o) : -(1UL << o);
  }

  [[nodiscard]] uint64_t Allocated() const { return allocated_; }

 private:
  World* w_;
  unsigned order_;
  uint64_t nr_blocks_;
  std::vector<bool> used_;
  uint64_t allocated_ = 0;
};

struct RandomCase {
  unsigned order;
  uint64_t limit;
  uint64_t reserve;
  unsigned seed;
};

class ZoneRandomTest : public CoreTest, public ::testing::WithParamInterface<RandomCase> {};

TEST_P(ZoneRandomTest, MatchesReferenceModel) {
  const RandomCase rc = GetParam();
  ZoneParams p;
  p.order = rc.order;
  p.mem_blocks = rc.limit + 2;
  p.limit = rc.limit;
  p.reserve = rc.reserve;
  World w(p);
  Reference ref(&w, rc.order, p.mem_blocks);
  std::mt19937 rng(rc.seed);
  std::vector<std::pair<struct page*, unsigned>> live;
  const uint64_t bp = 1UL << rc.order;

  for (int step = 0; step < 3000; step++) {
    bool do_alloc = live.empty() || rng() % 100 < 55;
    if (do_alloc) {
      // mostly small orders, sometimes up to the whole block
      unsigned o = (rng() % 4) != 0u ? rng() % 3 : rng() % (rc.order + 1);
      o = std::min(o, rc.order);
      bool run = ref.HasFreeRun(o);
      uint64_t held = w.SourceHeld();
      struct page* page = pcpool_zone_alloc(w.zone, o);
      if (run || held < rc.limit) {
        ASSERT_NE(page, nullptr) << "step " << step << " order " << o;
      } else {
        ASSERT_EQ(page, nullptr) << "step " << step << " order " << o;
      }
      if (page) {
        if (run) {
          ASSERT_EQ(w.SourceHeld(), held) << "grew although a run was free";
        }
        uint64_t idx = ref.Index(page);
        ASSERT_LT(idx, w.mem.nr_pages);
        ASSERT_EQ(idx & ((1UL << o) - 1), 0u);
        ASSERT_TRUE(w.mem.taken[idx >> rc.order]);
        ASSERT_TRUE(ref.RunFree(idx, o)) << "page handed out twice";
        ref.Mark(page, o, true);
        live.emplace_back(page, o);
      }
    } else {
      size_t i = rng() % live.size();
      auto [page, o] = live[i];
      live[i] = live.back();
      live.pop_back();
      ref.Mark(page, o, false);
      pcpool_zone_free(w.zone, page, o);
    }
    pcpool_zone_totals t = w.Totals();
    ASSERT_EQ(t.blocks_held, w.SourceHeld());
    ASSERT_EQ(t.free_pages + ref.Allocated(), t.blocks_held * bp) << "step " << step;
    ASSERT_EQ(t.nr_free[rc.order], ref.WholeFreeBlocks());
    ASSERT_LE(t.nr_free[rc.order], rc.reserve) << "whole free blocks beyond the reserve";
    if (step % 16 == 0) {
      ASSERT_EQ(pcpool_zone_check(w.zone), 0u) << "step " << step;
    }
  }
  for (auto& [page, o] : live) {
    ref.Mark(page, o, false);
    pcpool_zone_free(w.zone, page, o);
  }
  EXPECT_LE(w.Totals().blocks_held, rc.reserve);
}

INSTANTIATE_TEST_SUITE_P(Seeds, ZoneRandomTest,
                         ::testing::Values(RandomCase{3, 4, 0, 1}, RandomCase{4, 6, 1, 2},
                                           RandomCase{5, 3, 2, 3}, RandomCase{6, 8, 1, 4},
                                           RandomCase{9, 2, 1, 5}, RandomCase{2, 16, 3, 6}));

}  // namespace
}  // namespace pcpool_test
