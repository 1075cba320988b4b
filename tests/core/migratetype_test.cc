// SPDX-License-Identifier: GPL-2.0
// Migratetypes in the zone, classic and pcpbuddy: blocks are tagged, a
// type takes its own lists and whole blocks first, and falls back into
// another type's partial block (counted) only when nothing else is left,
// as 6.1's __rmqueue() and __rmqueue_fallback() do.
#include <random>
#include <vector>

#include "pcpbuddy_test.h"

namespace pcpool_test {
namespace {

class MigratetypeTest : public CoreTest {};

unsigned BlockMt(pcpool_zone* zone, struct page* pg) { return pcpool_zone_pfn_mt(zone, Pfn(pg)); }

uint64_t BlockOf(const ZoneParams& p, struct page* pg) { return (Pfn(pg) - p.base_pfn) >> p.order; }

TEST_F(MigratetypeTest, ZoneTypesTakeSeparateBlocksWhileItCanGrow) {
  ZoneParams p;
  World w(p);
  struct page* u = pcpool_zone_alloc_mt(w.zone, 0, PCPOOL_MT_UNMOVABLE);
  struct page* m = pcpool_zone_alloc_mt(w.zone, 0, PCPOOL_MT_MOVABLE);
  struct page* r = pcpool_zone_alloc_mt(w.zone, 0, PCPOOL_MT_RECLAIMABLE);
  ASSERT_NE(u, nullptr);
  ASSERT_NE(m, nullptr);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(BlockMt(w.zone, u), unsigned{PCPOOL_MT_UNMOVABLE});
  EXPECT_EQ(BlockMt(w.zone, m), unsigned{PCPOOL_MT_MOVABLE});
  EXPECT_EQ(BlockMt(w.zone, r), unsigned{PCPOOL_MT_RECLAIMABLE});
  EXPECT_NE(BlockOf(p, u), BlockOf(p, m));
  EXPECT_NE(BlockOf(p, m), BlockOf(p, r));
  EXPECT_NE(BlockOf(p, u), BlockOf(p, r));
  Counters c = ZoneCounters(w.zone);
  // grown blocks start movable: the other two claimed theirs whole
  EXPECT_EQ(c["zone_mt_claims"], 2u);
  EXPECT_EQ(c["zone_mt_fallbacks"], 0u);
  EXPECT_EQ(pcpool_zone_check(w.zone), 0u);
  pcpool_zone_free(w.zone, u, 0);
  pcpool_zone_free(w.zone, m, 0);
  pcpool_zone_free(w.zone, r, 0);
}

TEST_F(MigratetypeTest, ZoneFallsBackIntoAPartialBlockOnlyAtTheLimit) {
  ZoneParams p;
  p.limit = 1;
  World w(p);
  // 12 of the one block's 16 pages unmovable: 4 left, under half
  std::vector<struct page*> u;
  for (int i = 0; i < 12; i++) {
    u.push_back(pcpool_zone_alloc_mt(w.zone, 0, PCPOOL_MT_UNMOVABLE));
    ASSERT_NE(u.back(), nullptr);
  }
  struct page* m = pcpool_zone_alloc_mt(w.zone, 0, PCPOOL_MT_MOVABLE);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(BlockOf(p, m), BlockOf(p, u[0]));
  // too little of the block free to claim it: it stays unmovable, mixed
  EXPECT_EQ(BlockMt(w.zone, m), unsigned{PCPOOL_MT_UNMOVABLE});
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_mt_fallbacks"], 1u);
  EXPECT_EQ(c["zone_mt_claims"], 1u);  // the unmovable claim of the grown block
  EXPECT_EQ(pcpool_zone_check(w.zone), 0u);
  pcpool_zone_free(w.zone, m, 0);
  for (struct page* pg : u) {
    pcpool_zone_free(w.zone, pg, 0);
  }
}

TEST_F(MigratetypeTest, ZoneClaimsAMostlyFreeBlockWithItsChunks) {
  ZoneParams p;
  p.limit = 1;
  World w(p);
  struct page* u = pcpool_zone_alloc_mt(w.zone, 0, PCPOOL_MT_UNMOVABLE);
  ASSERT_NE(u, nullptr);
  // 15 pages free, more than half: a reclaimable request claims the block
  struct page* r = pcpool_zone_alloc_mt(w.zone, 0, PCPOOL_MT_RECLAIMABLE);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(BlockMt(w.zone, r), unsigned{PCPOOL_MT_RECLAIMABLE});
  Counters c = ZoneCounters(w.zone);
  EXPECT_EQ(c["zone_mt_claims"], 2u);
  // the free chunks moved with it (zone_check: each on its block's list)
  EXPECT_EQ(pcpool_zone_check(w.zone), 0u);
  // and now serve reclaimable without another fallback
  struct page* r2 = pcpool_zone_alloc_mt(w.zone, 0, PCPOOL_MT_RECLAIMABLE);
  ASSERT_NE(r2, nullptr);
  EXPECT_EQ(ZoneCounters(w.zone)["zone_mt_claims"], 2u);
  pcpool_zone_free(w.zone, u, 0);
  pcpool_zone_free(w.zone, r, 0);
  pcpool_zone_free(w.zone, r2, 0);
}

TEST_F(MigratetypeTest, ClassicListsAreKeptPerType) {
  ZoneParams p;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  struct page* u = pcpool_classic_alloc_mt(c, 0, PCPOOL_MT_UNMOVABLE);
  struct page* m = pcpool_classic_alloc_mt(c, 0, PCPOOL_MT_MOVABLE);
  ASSERT_NE(u, nullptr);
  ASSERT_NE(m, nullptr);
  EXPECT_NE(BlockOf(p, u), BlockOf(p, m));
  EXPECT_EQ(BlockMt(w.zone, u), unsigned{PCPOOL_MT_UNMOVABLE});
  EXPECT_EQ(BlockMt(w.zone, m), unsigned{PCPOOL_MT_MOVABLE});
  // a free goes on its block's type's list and comes back for that type
  pcpool_classic_free(c, m, 0);
  struct page* m2 = pcpool_classic_alloc_mt(c, 0, PCPOOL_MT_MOVABLE);
  EXPECT_EQ(m2, m);
  EXPECT_EQ(ZoneCounters(w.zone)["zone_mt_fallbacks"], 0u);
  EXPECT_EQ(pcpool_classic_check(c), 0u);
  pcpool_classic_free(c, u, 0);
  pcpool_classic_free(c, m2, 0);
}

TEST_F(MigratetypeTest, ClassicFallsBackAtTheLimit) {
  ZoneParams p;
  p.limit = 1;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  // a one-block zone is too small for the default batch (0)
  ASSERT_EQ(pcpool_classic_set_high_batch(c, 4, 1), 0);
  // the whole block, unmovable, in use
  std::vector<struct page*> u;
  for (int i = 0; i < 16; i++) {
    u.push_back(pcpool_classic_alloc_mt(c, 0, PCPOOL_MT_UNMOVABLE));
    ASSERT_NE(u.back(), nullptr) << i;
  }
  pcpool_classic_free(c, u.back(), 0);  // one unmovable page on the pcp list
  u.pop_back();
  // no movable page anywhere: 6.1 drains the pcp lists, then falls back
  struct page* m = pcpool_classic_alloc_mt(c, 0, PCPOOL_MT_MOVABLE);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(BlockMt(w.zone, m), unsigned{PCPOOL_MT_UNMOVABLE});
  EXPECT_EQ(ZoneCounters(w.zone)["zone_mt_fallbacks"], 1u);
  EXPECT_EQ(pcpool_classic_check(c), 0u);
  pcpool_classic_free(c, m, 0);
  for (struct page* pg : u) {
    pcpool_classic_free(c, pg, 0);
  }
}

TEST_F(MigratetypeTest, PcpbuddyTagsBlocksAtClaimAndKeepsTypesApart) {
  ZoneParams p;
  PbWorld b(p, 0);
  pcpool_user_set_cpu(0);
  struct page* u = pcpool_pcpbuddy_alloc_mt(b.pb, 0, PCPOOL_MT_UNMOVABLE);
  struct page* m = pcpool_pcpbuddy_alloc_mt(b.pb, 0, PCPOOL_MT_MOVABLE);
  struct page* r = pcpool_pcpbuddy_alloc_mt(b.pb, 1, PCPOOL_MT_RECLAIMABLE);
  ASSERT_NE(u, nullptr);
  ASSERT_NE(m, nullptr);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(BlockMt(b.w.zone, u), unsigned{PCPOOL_MT_UNMOVABLE});
  EXPECT_EQ(BlockMt(b.w.zone, m), unsigned{PCPOOL_MT_MOVABLE});
  EXPECT_EQ(BlockMt(b.w.zone, r), unsigned{PCPOOL_MT_RECLAIMABLE});
  EXPECT_NE(BlockOf(p, u), BlockOf(p, m));
  EXPECT_NE(BlockOf(p, m), BlockOf(p, r));
  Counters c = PbCounters(b.pb);
  EXPECT_EQ(c["pcpbuddy_refill_phase1"], 3u);
  EXPECT_EQ(c["pcpbuddy_mt_fallbacks"], 0u);
  b.ExpectExact(4);
  // a remote free lands on the owner's list of the block's type
  struct page* keep = pcpool_pcpbuddy_alloc_mt(b.pb, 0, PCPOOL_MT_MOVABLE);
  ASSERT_NE(keep, nullptr);
  pcpool_user_set_cpu(1);
  pcpool_pcpbuddy_free(b.pb, m, 0);
  pcpool_user_set_cpu(0);
  EXPECT_EQ(pcpool_pcpbuddy_alloc_mt(b.pb, 0, PCPOOL_MT_MOVABLE), m);
  b.ExpectExact(5);
  pcpool_pcpbuddy_free(b.pb, u, 0);
  pcpool_pcpbuddy_free(b.pb, m, 0);
  pcpool_pcpbuddy_free(b.pb, keep, 0);
  pcpool_pcpbuddy_free(b.pb, r, 1);
}

TEST_F(MigratetypeTest, PcpbuddyRetagsItsOwnWholeBlockInsteadOfClaiming) {
  ZoneParams p;
  PbWorld b(p, 1);  // a pool keeps one whole block
  pcpool_user_set_cpu(0);
  std::vector<struct page*> u = AllocOn(b.pb, 0, 3);
  FreeOn(b.pb, 0, u);  // the block is whole again, kept in pieces
  struct page* m = pcpool_pcpbuddy_alloc_mt(b.pb, 0, PCPOOL_MT_MOVABLE);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(BlockOf(p, m), BlockOf(p, u[0]));
  EXPECT_EQ(BlockMt(b.w.zone, m), unsigned{PCPOOL_MT_MOVABLE});
  Counters c = PbCounters(b.pb);
  EXPECT_EQ(c["pcpbuddy_mt_retags"], 1u);
  EXPECT_EQ(c["pcpbuddy_blocks_claimed"], 1u);
  EXPECT_EQ(c["pcpbuddy_mt_fallbacks"], 0u);
  b.ExpectExact(1);
  pcpool_pcpbuddy_free(b.pb, m, 0);
}

TEST_F(MigratetypeTest, PcpbuddyFallsBackOnlyWhenTheTypeHasNothingLeft) {
  ZoneParams p;
  p.limit = 2;
  PbWorld b(p, 0);
  // CPU 0: an unmovable block; CPU 1: a movable one.  The limit is reached.
  std::vector<struct page*> u = AllocOn(b.pb, 0, 1);
  pcpool_user_set_cpu(1);
  struct page* m = pcpool_pcpbuddy_alloc_mt(b.pb, 0, PCPOOL_MT_MOVABLE);
  ASSERT_NE(m, nullptr);
  // CPU 0 wants movable: it steals CPU 1's movable page, no fallback
  pcpool_user_set_cpu(0);
  struct page* m2 = pcpool_pcpbuddy_alloc_mt(b.pb, 0, PCPOOL_MT_MOVABLE);
  ASSERT_NE(m2, nullptr);
  EXPECT_EQ(BlockOf(p, m2), BlockOf(p, m));
  Counters c = PbCounters(b.pb);
  EXPECT_EQ(c["pcpbuddy_refill_phase3"], 1u);
  EXPECT_EQ(c["pcpbuddy_mt_fallbacks"], 0u);
  // the movable block used up: the next movable page is an unmovable one's
  std::vector<struct page*> rest;
  for (int i = 0; i < 14; i++) {
    rest.push_back(pcpool_pcpbuddy_alloc_mt(b.pb, 0, PCPOOL_MT_MOVABLE));
    ASSERT_NE(rest.back(), nullptr);
    EXPECT_EQ(BlockOf(p, rest.back()), BlockOf(p, m));
  }
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_mt_fallbacks"], 0u);
  struct page* f = pcpool_pcpbuddy_alloc_mt(b.pb, 0, PCPOOL_MT_MOVABLE);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(BlockOf(p, f), BlockOf(p, u[0]));
  EXPECT_EQ(BlockMt(b.w.zone, f), unsigned{PCPOOL_MT_UNMOVABLE});
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_mt_fallbacks"], 1u);
  b.ExpectExact(4 + 14);  // u, m, m2, f and the rest
  rest.push_back(f);
  rest.push_back(m2);
  FreeOn(b.pb, 0, rest);
  FreeOn(b.pb, 1, {m});
  FreeOn(b.pb, 0, u);
}

TEST_F(MigratetypeTest, PcpbuddyNowaitFallsBackInsideAPool) {
  ZoneParams p;
  PbWorld b(p, 0);
  std::vector<struct page*> u = AllocOn(b.pb, 0, 1);  // 15 unmovable pages left
  struct page* m = pcpool_pcpbuddy_alloc_nowait_mt(b.pb, 0, PCPOOL_MT_MOVABLE);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(BlockOf(p, m), BlockOf(p, u[0]));
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_mt_fallbacks"], 1u);
  b.ExpectExact(2);
  pcpool_pcpbuddy_free(b.pb, m, 0);
  FreeOn(b.pb, 0, u);
}

// Random mixed-type traffic over CPUs and orders at a tight limit, with
// remote frees and drains: every list, map, tag and count stays exact.
TEST_F(MigratetypeTest, MixedTrafficKeepsEveryInvariant) {
  ZoneParams p;
  p.nr_cpus = 4;
  p.limit = 6;
  p.mem_blocks = 8;
  for (int remote = 0; remote < 2; remote++) {
    PbWorld b(p, 1);
    pcpool_pcpbuddy_set_remote_free(
        b.pb, remote ? PCPOOL_PCPBUDDY_REMOTE_LIST : PCPOOL_PCPBUDDY_REMOTE_LOCK);
    pcpool_pcpbuddy_set_front(b.pb, 4);
    std::mt19937 rng(17 + remote);
    std::vector<Chunk> live;
    uint64_t out = 0;
    for (int i = 0; i < 20000; i++) {
      pcpool_user_set_cpu(rng() % p.nr_cpus);
      if (live.empty() || rng() % 100 < 52) {
        unsigned order = rng() % 4 == 0 ? rng() % 3 : 0;
        struct page* pg = pcpool_pcpbuddy_alloc_mt(b.pb, order, rng() % PCPOOL_MT_TYPES);
        if (pg) {
          live.push_back({pg, order});
          out += 1UL << order;
        }
      } else {
        size_t k = rng() % live.size();
        pcpool_pcpbuddy_free(b.pb, live[k].page, live[k].order);
        out -= 1UL << live[k].order;
        live[k] = live.back();
        live.pop_back();
      }
      if (i % 2500 == 0) {
        b.ExpectExact(out);
        pcpool_pcpbuddy_drain_all(b.pb);
        b.ExpectExact(out);
      }
    }
    Counters c = PbCounters(b.pb);
    EXPECT_GT(c["pcpbuddy_mt_fallbacks"], 0u) << "the limit forces fallbacks";
    for (const Chunk& ch : live) {
      pcpool_pcpbuddy_free(b.pb, ch.page, ch.order);
    }
    b.ExpectExact(0);
  }
}

}  // namespace
}  // namespace pcpool_test
