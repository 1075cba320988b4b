// SPDX-License-Identifier: GPL-2.0
// pcpbuddy on modelled NUMA nodes: a pool claims and grows blocks on its
// CPU's node, takes another node's block only when its own node has none
// and then the nearest node's, steals from CPUs of its node before the
// others, and counts each.
#include <vector>

#include "pcpbuddy_test.h"

namespace pcpool_test {
namespace {

class PcpbuddyNumaTest : public CoreTest {};

// TwoNodeParams(); CPUs 0,1 on node 0, 2,3 on 1.
ZoneParams TwoNodes() {
  ZoneParams p = TwoNodeParams();
  p.reserve = 4;  // whole free blocks stay in the zone
  return p;
}

void SetNodes(pcpool_pcpbuddy* pb) {
  for (unsigned cpu = 0; cpu < 4; cpu++) {
    pcpool_pcpbuddy_set_node(pb, cpu, cpu < 2 ? 0 : 1);
  }
}

int NodeOf(const ZoneParams& p, struct page* pg) { return NodeOfPage(p, pg); }

TEST_F(PcpbuddyNumaTest, ClaimsAndGrowsOnTheOwnNode) {
  ZoneParams p = TwoNodes();
  PbWorld b(p, 0);
  SetNodes(b.pb);
  EXPECT_TRUE(b.pb->numa);
  std::vector<struct page*> on0 = AllocOn(b.pb, 0, 1);
  EXPECT_EQ(NodeOf(p, on0[0]), 0);
  FreeOn(b.pb, 0, on0);  // the block goes back whole, kept by the zone
  ASSERT_EQ(b.w.Totals().blocks_held, 1u);
  // a node-0 block is free in the zone, but node 1 grows its own
  std::vector<struct page*> on2 = AllocOn(b.pb, 2, 1);
  EXPECT_EQ(NodeOf(p, on2[0]), 1);
  EXPECT_EQ(b.w.Totals().blocks_held, 2u);
  Counters c2 = PbCpuCounters(b.pb, 2);
  EXPECT_EQ(c2["pcpbuddy_claims_local"], 1u);
  EXPECT_EQ(c2["pcpbuddy_claims_remote"], 0u);
  EXPECT_EQ(c2["pcpbuddy_grows"], 1u);
  // node 0 takes its free block back without growing
  std::vector<struct page*> on1 = AllocOn(b.pb, 1, 1);
  EXPECT_EQ(NodeOf(p, on1[0]), 0);
  EXPECT_EQ(PbCpuCounters(b.pb, 1)["pcpbuddy_grows"], 0u);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_claims_local"], 3u);
  EXPECT_EQ(k["pcpbuddy_claims_remote"], 0u);
  EXPECT_EQ(k["pcpbuddy_blocks_claimed"], 3u);
  FreeOn(b.pb, 2, on2);
  FreeOn(b.pb, 1, on1);
  b.ExpectExact(0);
}

TEST_F(PcpbuddyNumaTest, AnotherNodesBlockOnlyWhenTheOwnNodeHasNone) {
  ZoneParams p = TwoNodes();
  PbWorld b(p, 0);
  SetNodes(b.pb);
  // node 1's four blocks, whole, to CPU 2
  std::vector<Chunk> out;
  pcpool_user_set_cpu(2);
  for (int i = 0; i < 4; i++) {
    out.push_back({pcpool_pcpbuddy_alloc(b.pb, p.order), p.order});
    ASSERT_NE(out.back().page, nullptr);
    EXPECT_EQ(NodeOf(p, out.back().page), 1);
  }
  // node 1 has no memory left: the next block is grown on node 0
  out.push_back({pcpool_pcpbuddy_alloc(b.pb, 0), 0});
  ASSERT_NE(out.back().page, nullptr);
  EXPECT_EQ(NodeOf(p, out.back().page), 0);
  Counters c2 = PbCpuCounters(b.pb, 2);
  EXPECT_EQ(c2["pcpbuddy_claims_local"], 4u);
  EXPECT_EQ(c2["pcpbuddy_claims_remote"], 1u);
  b.ExpectExact(4 * 16 + 1);
  for (const Chunk& ch : out) {
    pcpool_pcpbuddy_free(b.pb, ch.page, ch.order);
  }
  b.ExpectExact(0);
}

// Three nodes on a line (distance 10 + 10 per hop), a block each per CPU.
// Node 0 runs out: its CPU claims node 1's free block, the nearer one,
// whichever of node 1's and node 2's stands first on the zone's list.
TEST_F(PcpbuddyNumaTest, AnotherNodesBlockIsTheNearestNodes) {
  for (unsigned first : {1u, 2u}) {
    SCOPED_TRACE(first);
    ZoneParams p;
    p.nr_cpus = 3;
    p.mem_blocks = 6;  // 0-1 node 0, 2-3 node 1, 4-5 node 2
    p.limit = 6;
    p.reserve = 6;  // whole free blocks stay in the zone
    p.nr_nodes = 3;
    PbWorld b(p, 0);
    for (unsigned cpu = 0; cpu < 3; cpu++) {
      pcpool_pcpbuddy_set_node(b.pb, cpu, static_cast<int>(cpu));
    }
    auto node_of = [&](struct page* pg) {
      return static_cast<int>(((Pfn(pg) - p.base_pfn) >> p.order) / 2);
    };
    auto whole = [&](unsigned cpu) {
      pcpool_user_set_cpu(cpu);
      struct page* pg = pcpool_pcpbuddy_alloc(b.pb, p.order);
      EXPECT_NE(pg, nullptr);
      return pg;
    };
    // node 0's two blocks held whole by CPU 0: node 0 has no memory left
    std::vector<Chunk> held = {{whole(0), p.order}, {whole(0), p.order}};
    // one free block each on nodes 1 and 2, @first freed last (list head)
    unsigned second = first == 1 ? 2 : 1;
    struct page* a = whole(first == 1 ? 2 : 1);
    struct page* c = whole(first);
    EXPECT_EQ(node_of(a), static_cast<int>(second));
    EXPECT_EQ(node_of(c), static_cast<int>(first));
    pcpool_pcpbuddy_free(b.pb, a, p.order);
    pcpool_pcpbuddy_free(b.pb, c, p.order);
    ASSERT_EQ(b.w.Totals().blocks_held, 4u);
    // CPU 0's next page: its node cannot grow, node 1 is one hop away
    pcpool_user_set_cpu(0);
    struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
    ASSERT_NE(pg, nullptr);
    EXPECT_EQ(node_of(pg), 1);
    Counters c0 = PbCpuCounters(b.pb, 0);
    EXPECT_EQ(c0["pcpbuddy_claims_remote"], 1u);
    EXPECT_EQ(c0["pcpbuddy_claims_local"], 2u);
    pcpool_pcpbuddy_free(b.pb, pg, 0);
    for (const Chunk& ch : held) {
      pcpool_pcpbuddy_free(b.pb, ch.page, ch.order);
    }
    b.ExpectExact(0);
  }
}

// An order-0 page allocated on @cpu, expected to come from @owner's block.
struct page* AllocFrom(pcpool_pcpbuddy* pb, unsigned cpu, int owner) {
  pcpool_user_set_cpu(cpu);
  struct page* pg = pcpool_pcpbuddy_alloc(pb, 0);
  EXPECT_NE(pg, nullptr);
  if (pg != nullptr) {
    EXPECT_EQ(pcpool_pcpbuddy_owner(pb, pg), owner);
  }
  return pg;
}

TEST_F(PcpbuddyNumaTest, StealsFromTheOwnNodeFirst) {
  ZoneParams p = TwoNodes();
  p.limit = 2;
  PbWorld b(p, 0);
  SetNodes(b.pb);
  // CPU 0 holds a node-0 block, CPU 2 a node-1 block: the zone is full
  std::vector<struct page*> held = AllocOn(b.pb, 0, 1);
  std::vector<struct page*> on2 = AllocOn(b.pb, 2, 1);
  // CPU 3 steals from CPU 2, its node, though CPU 0 is nearer by id
  struct page* s3 = AllocFrom(b.pb, 3, 2);
  Counters c3 = PbCpuCounters(b.pb, 3);
  EXPECT_EQ(c3["pcpbuddy_steals_same_node"], 1u);
  EXPECT_EQ(c3["pcpbuddy_steals_other_node"], 0u);
  // CPU 1 steals from CPU 0, its node, though CPU 2 is nearer by id
  struct page* s1 = AllocFrom(b.pb, 1, 0);
  EXPECT_EQ(PbCpuCounters(b.pb, 1)["pcpbuddy_steals_same_node"], 1u);
  // CPU 2's pool emptied: CPU 3 has to cross to node 0
  pcpool_user_set_cpu(2);
  while (b.pb->pool[2].free_pages != 0) {
    on2.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
    ASSERT_NE(on2.back(), nullptr);
  }
  struct page* x3 = AllocFrom(b.pb, 3, 0);
  c3 = PbCpuCounters(b.pb, 3);
  EXPECT_EQ(c3["pcpbuddy_steals_same_node"], 1u);
  EXPECT_EQ(c3["pcpbuddy_steals_other_node"], 1u);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_refill_phase3"], 3u);
  EXPECT_EQ(k["pcpbuddy_steals_same_node"], 2u);
  EXPECT_EQ(k["pcpbuddy_steals_other_node"], 1u);
  EXPECT_EQ(k["pcpbuddy_claims_remote"], 0u);
  FreeOn(b.pb, 3, {s3, x3});
  FreeOn(b.pb, 1, {s1});
  FreeOn(b.pb, 0, held);
  FreeOn(b.pb, 2, on2);
  b.ExpectExact(0);
}

// The interrupt-safe allocation never claims or grows: with its own pool
// empty it takes from the others in steal() order, its node first.
TEST_F(PcpbuddyNumaTest, NowaitStealsFromTheOwnNodeFirst) {
  ZoneParams p = TwoNodes();
  PbWorld b(p, 0);
  SetNodes(b.pb);
  std::vector<struct page*> on0 = AllocOn(b.pb, 0, 1);
  std::vector<struct page*> on2 = AllocOn(b.pb, 2, 1);
  // CPU 3 takes from CPU 2, its node, though CPU 0 comes first by id
  pcpool_user_set_cpu(3);
  struct page* s3 = pcpool_pcpbuddy_alloc_nowait(b.pb, 0);
  ASSERT_NE(s3, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, s3), 2);
  // CPU 1 takes from CPU 0, though CPU 2 comes first by id
  pcpool_user_set_cpu(1);
  struct page* s1 = pcpool_pcpbuddy_alloc_nowait(b.pb, 0);
  ASSERT_NE(s1, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, s1), 0);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_nowait_allocs"], 2u);
  EXPECT_EQ(k["pcpbuddy_steals_same_node"], 2u);
  EXPECT_EQ(k["pcpbuddy_steals_other_node"], 0u);
  EXPECT_EQ(k["pcpbuddy_blocks_claimed"], 2u) << "no claim of its own";
  // CPU 2's pool emptied: CPU 3 crosses to node 0
  pcpool_user_set_cpu(2);
  while (b.pb->pool[2].free_pages != 0) {
    on2.push_back(pcpool_pcpbuddy_alloc(b.pb, 0));
    ASSERT_NE(on2.back(), nullptr);
  }
  pcpool_user_set_cpu(3);
  struct page* x3 = pcpool_pcpbuddy_alloc_nowait(b.pb, 0);
  ASSERT_NE(x3, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, x3), 0);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_steals_other_node"], 1u);
  FreeOn(b.pb, 3, {s3, x3});
  FreeOn(b.pb, 1, {s1});
  FreeOn(b.pb, 0, on0);
  FreeOn(b.pb, 2, on2);
  b.ExpectExact(0);
}

// A steal tries the CPU it last stole from first only when that CPU is on
// its node: a last victim on another node never comes before its own node.
TEST_F(PcpbuddyNumaTest, TheLastVictimOnAnotherNodeIsNotTriedFirst) {
  ZoneParams p = TwoNodes();
  p.limit = 2;  // a block per node
  PbWorld b(p, 0);
  SetNodes(b.pb);
  std::vector<struct page*> on1 = AllocOn(b.pb, 1, 16);  // all of node 0's
  std::vector<struct page*> on2 = AllocOn(b.pb, 2, 1);
  // CPU 0: its node has nothing free, so it crosses to CPU 2
  struct page* a = AllocFrom(b.pb, 0, 2);
  EXPECT_EQ(b.pb->pool[0].steal_hint, 3u) << "CPU 2, + 1";
  // CPU 1's pages come back (one kept: a whole block would go back to the
  // zone): its own node beats the last victim
  FreeOn(b.pb, 1, {on1.begin() + 1, on1.end()});
  struct page* c = AllocFrom(b.pb, 0, 1);
  EXPECT_EQ(b.pb->pool[0].steal_hint, 2u);
  Counters c0 = PbCpuCounters(b.pb, 0);
  EXPECT_EQ(c0["pcpbuddy_steals_other_node"], 1u);
  EXPECT_EQ(c0["pcpbuddy_steals_same_node"], 1u);
  FreeOn(b.pb, 0, {a, c});
  FreeOn(b.pb, 1, {on1[0]});
  FreeOn(b.pb, 2, on2);
  b.ExpectExact(0);
}

// One node: no fallback order to take, everything as before.
TEST_F(PcpbuddyNumaTest, OneNodeClaimsLocalOnly) {
  ZoneParams p;
  p.nr_cpus = 2;
  p.nr_nodes = 1;
  PbWorld b(p, 0);
  EXPECT_FALSE(b.pb->numa);
  std::vector<struct page*> a = AllocOn(b.pb, 0, 20);
  std::vector<struct page*> c = AllocOn(b.pb, 1, 20);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_claims_local"], k["pcpbuddy_blocks_claimed"]);
  EXPECT_EQ(k["pcpbuddy_claims_remote"], 0u);
  FreeOn(b.pb, 0, a);
  FreeOn(b.pb, 1, c);
  b.ExpectExact(0);
}

}  // namespace
}  // namespace pcpool_test
