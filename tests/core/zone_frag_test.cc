// SPDX-License-Identifier: GPL-2.0
// The fragmentation snapshot: exact levels on a zone state built by hand.
#include <vector>

#include "core_test.h"

extern "C" {
#include "pcpool_zone_frag.h"
}

namespace pcpool_test {
namespace {

class ZoneFragTest : public CoreTest {};

pcpool_zone_frag Frag(pcpool_zone* zone) {
  pcpool_zone_frag f{};
  pcpool_zone_get_frag(zone, &f);
  return f;
}

// The block counts, free pages and largest order, as one comparable row.
std::vector<long> Levels(const pcpool_zone_frag& f) {
  return {static_cast<long>(f.blocks_held),
          static_cast<long>(f.free_blocks),
          static_cast<long>(f.partial_blocks),
          static_cast<long>(f.used_blocks),
          static_cast<long>(f.owned_blocks),
          static_cast<long>(f.free_pages),
          f.largest_order};
}

TEST_F(ZoneFragTest, EmptyZone) {
  World w(ZoneParams{});
  pcpool_zone_frag f = Frag(w.zone);
  EXPECT_EQ(f.blocks_held, 0u);
  EXPECT_EQ(f.free_pages, 0u);
  EXPECT_EQ(f.largest_order, -1);
}

TEST_F(ZoneFragTest, FreePartialUsedAndOwnedBlocks) {
  ZoneParams p;
  p.order = 4;  // 16 pages a block
  World w(p);
  // Block A: one page out, 15 free as chunks of order 0, 1, 2, 3.
  struct page* a = pcpool_zone_alloc(w.zone, 0);
  ASSERT_NE(a, nullptr);
  // Block B: allocated whole.
  struct page* b = pcpool_zone_alloc(w.zone, 4);
  ASSERT_NE(b, nullptr);
  // Block C: held, whole and free.
  ASSERT_EQ(pcpool_zone_grow(w.zone), 0);

  // held, whole free, partial, used, owned, free pages, largest order
  pcpool_zone_frag f = Frag(w.zone);
  EXPECT_EQ(Levels(f), (std::vector<long>{3, 1, 1, 1, 0, 31, 4}));
  for (unsigned o = 0; o <= 4; o++) {
    EXPECT_EQ(f.nr_free[o], 1u) << "order " << o;
  }
  for (unsigned o = 5; o < PCPOOL_NR_ORDERS; o++) {
    EXPECT_EQ(f.nr_free[o], 0u) << "order " << o;
  }

  // A per-CPU owner takes C: out of the free lists, so allocated here.
  struct page* c = pcpool_zone_claim_block(w.zone, 1);
  ASSERT_NE(c, nullptr);
  f = Frag(w.zone);
  EXPECT_EQ(Levels(f), (std::vector<long>{3, 0, 1, 2, 1, 15, 3}));
  EXPECT_EQ(f.nr_free[4], 0u);

  // Freeing A's page merges it back: A whole and free again.
  pcpool_zone_return_block(w.zone, c);
  pcpool_zone_free(w.zone, a, 0);
  f = Frag(w.zone);
  EXPECT_EQ(f.partial_blocks, 0u);
  EXPECT_EQ(f.used_blocks, 1u);
  EXPECT_EQ(f.owned_blocks, 0u);
  EXPECT_EQ(f.free_blocks + f.used_blocks, f.blocks_held);
  EXPECT_EQ(f.free_pages, f.free_blocks * 16);
  EXPECT_EQ(f.nr_free[4], f.free_blocks);
  EXPECT_EQ(f.nr_free[0] + f.nr_free[1] + f.nr_free[2] + f.nr_free[3], 0u);
  pcpool_zone_free(w.zone, b, 4);
}

}  // namespace
}  // namespace pcpool_test
