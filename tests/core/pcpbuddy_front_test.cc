// SPDX-License-Identifier: GPL-2.0
// The pcpbuddy front cache: order-0 pages of owned blocks kept ahead of the
// buddy lists, outside the maps.  LIFO hits, its bound, and every place it
// must be emptied into the lists first: a higher-order allocation that
// needs a merge, a drain above high, drain-all, CPU offline; absorbs of
// remote frees and steals going through it; exact accounting throughout.
#include <vector>

#include "pcpbuddy_test.h"

namespace pcpool_test {
namespace {

class PcpbuddyFrontTest : public CoreTest {};

// A World with a front cache of @front pages.
struct FrontWorld : PbWorld {
  FrontWorld(const ZoneParams& p, unsigned long reserve, unsigned long front)
      : PbWorld(p, reserve) {
    EXPECT_EQ(pcpool_pcpbuddy_set_front(pb, front), 0);
  }
};

ZoneParams OneBlock() {
  ZoneParams p;
  p.mem_blocks = 1;
  p.limit = 1;
  return p;
}

TEST_F(PcpbuddyFrontTest, SetFrontValidatesAndShows) {
  PbWorld b(ZoneParams{}, 1);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_front_high"], 0u) << "the core defaults to off";
  uint64_t high = PbCounters(b.pb)["pcpbuddy_high"];
  EXPECT_EQ(pcpool_pcpbuddy_set_front(b.pb, high + 1), -EINVAL);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_front_high"], 0u);
  EXPECT_EQ(pcpool_pcpbuddy_set_front(b.pb, high), 0);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_front_high"], high);
  // off: frees go straight into the lists
  ASSERT_EQ(pcpool_pcpbuddy_set_front(b.pb, 0), 0);
  FreeOn(b.pb, 0, AllocOn(b.pb, 0, 3));
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_front_frees"], 0u);
  EXPECT_EQ(b.pb->pool[0].front_pages, 0u);
  b.ExpectExact(0);
}

// A local order-0 free is a front push; the next allocation pops it.
TEST_F(PcpbuddyFrontTest, LocalFreeAndAllocHitTheFrontLifo) {
  FrontWorld b(ZoneParams{}, 1, 16);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 4);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_front_allocs"], 0u) << "the first ones split the block";
  FreeOn(b.pb, 0, {pages[1], pages[3]});
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_front_frees"], 2u);
  EXPECT_EQ(k["pcpbuddy_front_pages"], 2u);
  EXPECT_EQ(k["pcpbuddy_local_frees"], 2u);
  EXPECT_EQ(PbCpuCounters(b.pb, 0)["pcpbuddy_front_pages"], 2u);
  b.ExpectExact(2);  // check(): front pages are outside the block's map
  uint64_t splits = k["pcpbuddy_pool_splits"];
  pcpool_user_set_cpu(0);
  EXPECT_EQ(pcpool_pcpbuddy_alloc(b.pb, 0), pages[3]);
  EXPECT_EQ(pcpool_pcpbuddy_alloc(b.pb, 0), pages[1]);
  k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_front_allocs"], 2u);
  EXPECT_EQ(k["pcpbuddy_pool_splits"], splits) << "no split for a front hit";
  b.ExpectExact(4);
  FreeOn(b.pb, 0, pages);
  b.ExpectExact(0);
}

// The front holds at most front_high pages; the rest go to the lists, and
// a block with pages in the front is not whole until they come out.
TEST_F(PcpbuddyFrontTest, BoundedAndEmptiedByDrainAll) {
  FrontWorld b(ZoneParams{}, 0, 4);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  FreeOn(b.pb, 0, pages);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_front_pages"], 4u);
  EXPECT_EQ(k["pcpbuddy_front_frees"], 4u);
  EXPECT_EQ(k["pcpbuddy_blocks_returned"], 0u) << "4 pages of it are in the front";
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 1u);
  EXPECT_EQ(b.pb->pool[0].free_pages, 16u);
  b.ExpectExact(0);
  EXPECT_EQ(pcpool_pcpbuddy_drain_all(b.pb), 16u);
  k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_front_flushes"], 1u);
  EXPECT_EQ(k["pcpbuddy_front_flush_pages"], 4u);
  EXPECT_EQ(k["pcpbuddy_front_pages"], 0u);
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 0u);
  b.ExpectExact(0);
}

// A higher-order allocation with the pages all in the front: the front
// goes into the lists, they merge, and the same block serves it.
TEST_F(PcpbuddyFrontTest, HigherOrderFlushesThenMerges) {
  ZoneParams p = OneBlock();
  FrontWorld b(p, 1, 16);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  FreeOn(b.pb, 0, pages);
  EXPECT_EQ(b.pb->pool[0].front_pages, 16u);
  struct page* big = pcpool_pcpbuddy_alloc(b.pb, p.order);
  ASSERT_NE(big, nullptr);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_front_flushes"], 1u);
  EXPECT_EQ(k["pcpbuddy_front_flush_pages"], 16u);
  EXPECT_EQ(k["pcpbuddy_pool_merges"], 15u);
  EXPECT_EQ(k["pcpbuddy_blocks_claimed"], 1u);
  EXPECT_EQ(k["pcpbuddy_alloc_failures"], 0u);
  b.ExpectExact(16);
  pcpool_pcpbuddy_free(b.pb, big, p.order);
  EXPECT_EQ(b.pb->pool[0].front_pages, 0u) << "only order 0 goes in the front";
  b.ExpectExact(0);
}

// A drain above high empties the front first, then drains coarsest first.
TEST_F(PcpbuddyFrontTest, DrainAboveHighFlushesTheFront) {
  FrontWorld b(ZoneParams{}, 1, 8);
  ASSERT_EQ(pcpool_pcpbuddy_set_high_batch(b.pb, 8, 4), 0);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  FreeOn(b.pb, 0, {pages.begin(), pages.begin() + 8});
  EXPECT_EQ(b.pb->pool[0].front_pages, 8u);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_drains"], 0u);
  FreeOn(b.pb, 0, {pages.begin() + 8, pages.begin() + 9});
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_drains"], 1u);
  EXPECT_EQ(k["pcpbuddy_front_flush_pages"], 8u);
  EXPECT_EQ(k["pcpbuddy_front_pages"], 0u);
  EXPECT_LE(b.pb->pool[0].free_pages, 4u);
  b.ExpectExact(7);
  FreeOn(b.pb, 0, {pages.begin() + 9, pages.end()});
  b.ExpectExact(0);
}

// Lowering front_high leaves cached pages where they are; hits still take
// them.
TEST_F(PcpbuddyFrontTest, LoweredBoundKeepsWhatIsCached) {
  FrontWorld b(ZoneParams{}, 1, 8);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 6);
  FreeOn(b.pb, 0, {pages.begin(), pages.begin() + 3});
  ASSERT_EQ(pcpool_pcpbuddy_set_front(b.pb, 0), 0);
  FreeOn(b.pb, 0, {pages.begin() + 3, pages.end()});
  EXPECT_EQ(b.pb->pool[0].front_pages, 3u);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_front_frees"], 3u);
  b.ExpectExact(0);
  pcpool_user_set_cpu(0);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  EXPECT_EQ(pg, pages[2]);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_front_allocs"], 1u);
  pcpool_pcpbuddy_free(b.pb, pg, 0);
  b.ExpectExact(0);
}

// Remote frees queued for the owner are absorbed into its front.
TEST_F(PcpbuddyFrontTest, AbsorbedRemoteFreesFillTheFront) {
  FrontWorld b(ZoneParams{}, 1, 16);
  ASSERT_EQ(pcpool_pcpbuddy_set_remote_free(b.pb, PCPOOL_PCPBUDDY_REMOTE_LIST), 0);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  FreeOn(b.pb, 1, pages);
  EXPECT_EQ(b.pb->pool[0].front_pages, 0u) << "queued, not absorbed yet";
  b.ExpectExact(0);
  pcpool_user_set_cpu(0);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_remote_absorbed"], 16u);
  EXPECT_EQ(k["pcpbuddy_front_frees"], 16u);
  EXPECT_EQ(k["pcpbuddy_front_allocs"], 1u);
  EXPECT_EQ(k["pcpbuddy_front_pages"], 15u);
  EXPECT_EQ(k["pcpbuddy_blocks_claimed"], 1u);
  b.ExpectExact(1);
  pcpool_pcpbuddy_free(b.pb, pg, 0);
  b.ExpectExact(0);
}

// Under the owner's lock (lock mode), a remote free goes in its front too.
TEST_F(PcpbuddyFrontTest, LockedRemoteFreeGoesInTheOwnersFront) {
  FrontWorld b(ZoneParams{}, 1, 16);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 4);
  FreeOn(b.pb, 1, pages);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_remote_frees"], 4u);
  EXPECT_EQ(b.pb->pool[0].front_pages, 4u);
  EXPECT_EQ(b.pb->pool[1].front_pages, 0u);
  b.ExpectExact(0);
}

// At the zone limit another CPU steals from the front, one page.
TEST_F(PcpbuddyFrontTest, StealTakesFromTheFront) {
  FrontWorld b(OneBlock(), 1, 16);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  FreeOn(b.pb, 0, {pages.begin(), pages.begin() + 4});
  pcpool_user_set_cpu(1);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pg, pages[3]);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_refill_phase3"], 1u);
  EXPECT_EQ(k["pcpbuddy_steal_pages"], 1u);
  EXPECT_EQ(k["pcpbuddy_front_allocs"], 1u);
  EXPECT_EQ(b.pb->pool[0].front_pages, 3u);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), 0);
  b.ExpectExact(13);
  pcpool_pcpbuddy_free(b.pb, pg, 0);  // routed back to the owner
  FreeOn(b.pb, 0, {pages.begin() + 4, pages.end()});
  b.ExpectExact(0);
}

// A CPU going offline empties its front with the rest of its pool; frees
// to its blocks then go to the zone.
TEST_F(PcpbuddyFrontTest, CpuDeadEmptiesTheFront) {
  FrontWorld b(ZoneParams{}, 1, 16);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  FreeOn(b.pb, 0, {pages.begin(), pages.begin() + 8});
  EXPECT_EQ(b.pb->pool[0].front_pages, 8u);
  pcpool_user_set_cpu(1);
  pcpool_pcpbuddy_cpu_dead(b.pb, 0);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_front_pages"], 0u);
  EXPECT_EQ(k["pcpbuddy_front_flush_pages"], 8u);
  EXPECT_EQ(b.pb->pool[0].free_pages, 0u);
  b.ExpectExact(8);
  FreeOn(b.pb, 1, {pages.begin() + 8, pages.end()});
  k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_dead_frees"], 8u);
  EXPECT_EQ(k["pcpbuddy_front_frees"], 8u) << "only the 8 before offline";
  b.ExpectExact(0);
  pcpool_pcpbuddy_cpu_online(b.pb, 0);
  FreeOn(b.pb, 0, AllocOn(b.pb, 0, 2));
  EXPECT_EQ(b.pb->pool[0].front_pages, 2u);
  b.ExpectExact(0);
}

}  // namespace
}  // namespace pcpool_test
