// SPDX-License-Identifier: GPL-2.0
// One zone per node: each node's zone has its own lock, free lists, limit
// and counters; a page goes back to its node's zone whichever zone it is
// freed through; allocation walks the zonelist nearest node first.  And
// classic on it: a pageset per CPU per zone, as the kernel has, with
// numa_hit and numa_miss.
#include <vector>

#include "core_test.h"

namespace pcpool_test {
namespace {

class ZoneNumaTest : public CoreTest {};

uint64_t Acquisitions(pcpool_zone* z) {
  uint64_t sum = 0;
  for (unsigned cpu = 0; cpu < z->nr_cpus; cpu++) {
    sum += z->stats[cpu].lock_acquisitions;
  }
  return sum;
}

TEST_F(ZoneNumaTest, AZonePerNodeWithItsShareOfTheLimit) {
  ZoneParams p = TwoNodeParams();
  p.limit = 5;
  p.reserve = 3;
  World w(p);
  ASSERT_EQ(w.zone->nr_nodes, 2u);
  pcpool_zone* z0 = pcpool_zone_node(w.zone, 0);
  pcpool_zone* z1 = pcpool_zone_node(w.zone, 1);
  EXPECT_EQ(z0, w.zone) << "init hands back node 0's zone";
  EXPECT_NE(z0, z1);
  EXPECT_EQ(z0->nid, 0);
  EXPECT_EQ(z1->nid, 1);
  EXPECT_EQ(z0->limit, 3u) << "node 0 takes the remainder";
  EXPECT_EQ(z1->limit, 2u);
  EXPECT_EQ(z0->reserve, 2u);
  EXPECT_EQ(z1->reserve, 1u);
  EXPECT_EQ(pcpool_zone_limit_blocks(w.zone), 5u);
  EXPECT_EQ(pcpool_zone_node(w.zone, -1), w.zone);
  EXPECT_EQ(pcpool_zone_node(w.zone, 2), w.zone) << "a node it lacks";

  // node 1's zone grows on node 1 only, to its share
  EXPECT_EQ(pcpool_zone_grow_node(w.zone, 1), 0);
  EXPECT_EQ(pcpool_zone_grow_node(w.zone, 1), 0);
  EXPECT_EQ(pcpool_zone_grow_node(w.zone, 1), -ENOSPC);
  EXPECT_EQ(z1->nr_held, 2u);
  EXPECT_EQ(z0->nr_held, 0u);
  for (unsigned b = 0; b < 8; b++) {
    const pcpool_block& blk = w.zone->blocks[b];
    if (blk.state == PCPOOL_BLOCK_HELD) {
      EXPECT_EQ(blk.node, 1) << "block " << b;
      EXPECT_GE(b, 4u) << "a node-1 block";
    }
  }
  EXPECT_EQ(w.Totals().blocks_held, 2u) << "totals cover every node";
  EXPECT_EQ(pcpool_zone_shrink_count(w.zone), 2u * w.BlockPages());
  EXPECT_EQ(pcpool_zone_check(w.zone), 0u);
}

// Unequal nodes: 0-3 on node 0, 4-8 on node 1.  The limit follows the
// memory, as a zone's size is its node's.
TEST_F(ZoneNumaTest, TheLimitIsSplitByNodeSize) {
  {
    ZoneParams p = TwoNodeParams();
    p.mem_blocks = 9;
    p.limit = 9;
    p.reserve = 2;
    World w(p);
    EXPECT_EQ(pcpool_zone_node(w.zone, 0)->limit, 4u);
    EXPECT_EQ(pcpool_zone_node(w.zone, 1)->limit, 5u);
    EXPECT_EQ(pcpool_zone_node(w.zone, 0)->reserve, 1u);
    EXPECT_EQ(pcpool_zone_node(w.zone, 1)->reserve, 1u);
    EXPECT_EQ(pcpool_zone_limit_blocks(w.zone), 9u);
  }  // one modelled memory at a time
  // every node at least one block of limit, however small
  ZoneParams q = TwoNodeParams();
  q.limit = 1;
  World v(q);
  EXPECT_EQ(pcpool_zone_node(v.zone, 0)->limit, 1u);
  EXPECT_EQ(pcpool_zone_node(v.zone, 1)->limit, 1u);
}

TEST_F(ZoneNumaTest, NodesHaveTheirOwnLocks) {
  World w(TwoNodeParams());
  pcpool_zone* z0 = pcpool_zone_node(w.zone, 0);
  pcpool_zone* z1 = pcpool_zone_node(w.zone, 1);
  EXPECT_NE(&z0->lock, &z1->lock);
  ASSERT_EQ(pcpool_zone_grow_node(w.zone, 1), 0);
  pcpool_zone_reset_counters(w.zone);
  // allocating and freeing on node 1 never takes node 0's lock
  struct page* pg = pcpool_zone_alloc(z1, 0);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(NodeOfPage(TwoNodeParams(), pg), 1);
  pcpool_zone_free(z1, pg, 0);
  EXPECT_EQ(Acquisitions(z0), 0u);
  EXPECT_EQ(Acquisitions(z1), 2u);
  EXPECT_EQ(ZoneCounters(w.zone)["zone_lock_acquisitions"], 2u) << "the counters sum the nodes";
  pcpool_zone_node_state s0{}, s1{};
  ASSERT_EQ(pcpool_zone_get_node_state(w.zone, 0, &s0), 0);
  ASSERT_EQ(pcpool_zone_get_node_state(w.zone, 1, &s1), 0);
  EXPECT_EQ(pcpool_zone_get_node_state(w.zone, 2, &s1), -EINVAL);
  EXPECT_EQ(s0.lock_acquisitions, 0u);
  EXPECT_EQ(s1.lock_acquisitions, 2u);
  EXPECT_EQ(s1.blocks_held, 0u) << "no reserve: the whole block went back";
  EXPECT_EQ(s1.free_pages, 0u);
  EXPECT_EQ(s0.limit, 4u);
  EXPECT_EQ(s1.pages_moved, 2u);
}

TEST_F(ZoneNumaTest, AFreeGoesToThePagesNode) {
  ZoneParams p = TwoNodeParams();
  p.reserve = 8;
  World w(p);
  pcpool_zone* z0 = pcpool_zone_node(w.zone, 0);
  pcpool_zone* z1 = pcpool_zone_node(w.zone, 1);
  ASSERT_EQ(pcpool_zone_grow_node(w.zone, 1), 0);
  struct page* pg = pcpool_zone_alloc(z1, 2);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pcpool_zone_of_pfn(w.zone, Pfn(pg)), z1);
  // freed through node 0's zone, it lands in node 1's lists and merges
  pcpool_zone_free(z0, pg, 2);
  EXPECT_EQ(z0->free_pages, 0u);
  EXPECT_EQ(z1->free_pages, w.BlockPages());
  EXPECT_EQ(z1->area[p.order].nr_free, 1u);

  // free_list splits a mixed list into a pass per node
  ASSERT_EQ(pcpool_zone_grow_node(w.zone, 0), 0);
  PageList list;
  struct page* a = pcpool_zone_alloc(z0, 0);
  struct page* b = pcpool_zone_alloc(z1, 1);
  struct page* c = pcpool_zone_alloc(z0, 3);
  ASSERT_TRUE(a && b && c);
  for (auto [page, order] : {std::pair{a, 0u}, {b, 1u}, {c, 3u}}) {
    set_page_private(page, order);
    list_add_tail(&page->lru, &list.head);
  }
  pcpool_zone_reset_counters(w.zone);
  pcpool_zone_free_list(w.zone, &list.head);
  EXPECT_TRUE(list_empty(&list.head));
  EXPECT_EQ(Acquisitions(z0), 1u);
  EXPECT_EQ(Acquisitions(z1), 1u);
  EXPECT_EQ(z0->area[p.order].nr_free, 1u) << "node 0's block whole again";
  EXPECT_EQ(z1->area[p.order].nr_free, 1u);
  EXPECT_EQ(pcpool_zone_check(w.zone), 0u);
}

TEST_F(ZoneNumaTest, ZonelistsAreNearestFirst) {
  // three nodes on a line: 0 - 1 - 2, distance 10 + 10 per hop
  ZoneParams p;
  p.mem_blocks = 6;
  p.limit = 6;
  p.nr_nodes = 3;
  World w(p);
  const int want[3][3] = {{0, 1, 2}, {1, 0, 2}, {2, 1, 0}};
  for (int node = 0; node < 3; node++) {
    for (unsigned i = 0; i < 3; i++) {
      EXPECT_EQ(pcpool_zone_nearest(w.zone, node, i)->nid, want[node][i])
          << "node " << node << " entry " << i;
    }
  }
  EXPECT_EQ(pcpool_zone_nearest(w.zone, PCPOOL_NO_NODE, 0), w.zone);
}

TEST_F(ZoneNumaTest, AllocWalksTheZonelistWhenANodeIsFull) {
  ZoneParams p;
  p.mem_blocks = 6;  // 0-1 node 0, 2-3 node 1, 4-5 node 2
  p.limit = 3;       // a block per node
  p.nr_nodes = 3;
  World w(p);
  pcpool_zone* z2 = pcpool_zone_node(w.zone, 2);
  std::vector<struct page*> got;
  // from node 2: its own block, then node 1's, then node 0's, then none
  for (int want : {2, 1, 0}) {
    got.push_back(pcpool_zone_alloc(z2, p.order));
    ASSERT_NE(got.back(), nullptr);
    EXPECT_EQ(NodeOfPage(p, got.back(), 2), want);
  }
  EXPECT_EQ(pcpool_zone_alloc(z2, 0), nullptr);
  EXPECT_EQ(pcpool_zone_grow(w.zone), -ENOSPC);
  EXPECT_EQ(pcpool_zone_grow_near(w.zone, 2), -ENOSPC);
  for (struct page* pg : got) {
    pcpool_zone_free(w.zone, pg, p.order);
  }
  EXPECT_EQ(w.SourceHeld(), 0u) << "no reserve: whole blocks go back";
}

TEST_F(ZoneNumaTest, ANodeOutOfMemoryIsENOMEMAndTheNextOneServes) {
  ZoneParams p = TwoNodeParams();
  p.limit = 10;  // 5 per node, 4 blocks of memory each
  World w(p);
  pcpool_zone* z1 = pcpool_zone_node(w.zone, 1);
  std::vector<struct page*> got;
  for (int i = 0; i < 4; i++) {
    ASSERT_EQ(pcpool_zone_grow_node(w.zone, 1), 0);
  }
  EXPECT_EQ(pcpool_zone_grow_node(w.zone, 1), -ENOMEM) << "node 1 is empty";
  EXPECT_TRUE(z1->exhausted);
  for (int i = 0; i < 5; i++) {
    got.push_back(pcpool_zone_alloc(z1, p.order));
    ASSERT_NE(got.back(), nullptr);
  }
  EXPECT_EQ(NodeOfPage(p, got.back()), 0) << "the fifth from node 0";
  for (struct page* pg : got) {
    pcpool_zone_free(w.zone, pg, p.order);
  }
}

TEST_F(ZoneNumaTest, FragSumsTheNodes) {
  World w(TwoNodeParams());
  ASSERT_EQ(pcpool_zone_grow_node(w.zone, 0), 0);
  ASSERT_EQ(pcpool_zone_grow_node(w.zone, 1), 0);
  pcpool_zone_totals t = w.Totals();
  EXPECT_EQ(t.blocks_held, 2u);
  EXPECT_EQ(t.nr_free[TwoNodeParams().order], 2u);
  EXPECT_EQ(pcpool_zone_shrink(w.zone, 100 * w.BlockPages()), 2 * w.BlockPages());
  EXPECT_EQ(w.SourceHeld(), 0u);
}

// classic: CPUs 0,1 on node 0 and 2,3 on node 1.
class ClassicNumaTest : public CoreTest {};

pcpool_classic* TwoNodeClassic(World* w, int high = 64, int batch = 8) {
  pcpool_classic* c = w->AddClassic();
  for (unsigned cpu = 0; cpu < 4; cpu++) {
    EXPECT_EQ(pcpool_classic_set_node(c, cpu, cpu < 2 ? 0 : 1), 0);
  }
  EXPECT_EQ(pcpool_classic_set_node(c, 4, 0), -EINVAL);
  EXPECT_EQ(pcpool_classic_set_high_batch(c, high, batch), 0);
  return c;
}

int PcpCount(pcpool_classic* c, unsigned nid, unsigned cpu) {
  return c->pcp[nid * c->nr_cpus + cpu].count;
}

TEST_F(ClassicNumaTest, APagesetPerZoneAndLocalAllocation) {
  ZoneParams p = TwoNodeParams();
  World w(p);
  pcpool_classic* c = TwoNodeClassic(&w);
  EXPECT_EQ(c->nr_nodes, 2u);
  pcpool_user_set_cpu(2);
  struct page* pg = pcpool_classic_alloc(c, 0);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(NodeOfPage(p, pg), 1);
  EXPECT_EQ(PcpCount(c, 1, 2), 7) << "a batch into CPU 2's node-1 pageset";
  EXPECT_EQ(PcpCount(c, 0, 2), 0);
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_numa_hit"], 1u);
  EXPECT_EQ(k["classic_numa_miss"], 0u);
  // CPU 0 frees the node-1 page: onto its pageset in node 1's zone
  pcpool_user_set_cpu(0);
  pcpool_classic_free(c, pg, 0);
  EXPECT_EQ(PcpCount(c, 1, 0), 1);
  EXPECT_EQ(PcpCount(c, 0, 0), 0);
  pcpool_classic_pcp_state s{};
  ASSERT_EQ(pcpool_classic_get_pcp_state(c, 0, &s), 0);
  EXPECT_EQ(s.count, 1) << "a CPU's state sums its pagesets";
  EXPECT_EQ(pcpool_classic_check(c), 0u);
  // CPU 0 allocates from node 0 first, though its node-1 pageset has one
  struct page* p0 = pcpool_classic_alloc(c, 0);
  ASSERT_NE(p0, nullptr);
  EXPECT_EQ(NodeOfPage(p, p0), 0);
  EXPECT_EQ(PcpCount(c, 1, 0), 1);
  pcpool_classic_free(c, p0, 0);
  pcpool_classic_drain_all(c, true);
  EXPECT_EQ(pcpool_classic_pcp_pages(c), 0u);
  EXPECT_EQ(pcpool_classic_check(c), 0u);
}

TEST_F(ClassicNumaTest, AFullNodeMissesToTheOther) {
  ZoneParams p = TwoNodeParams();
  p.limit = 2;  // a block per node
  World w(p);
  pcpool_classic* c = TwoNodeClassic(&w, 16, 4);
  pcpool_user_set_cpu(3);
  std::vector<struct page*> got;
  for (uint64_t i = 0; i < 2 * w.BlockPages(); i++) {
    got.push_back(pcpool_classic_alloc(c, 0));
    ASSERT_NE(got.back(), nullptr) << i;
  }
  EXPECT_EQ(pcpool_classic_alloc(c, 0), nullptr) << "both nodes full";
  int remote = 0;
  for (struct page* pg : got) {
    remote += NodeOfPage(p, pg) == 0;
  }
  EXPECT_EQ(remote, 16);
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_numa_hit"], 16u);
  EXPECT_EQ(k["classic_numa_miss"], 16u);
  EXPECT_EQ(k["classic_alloc_failures"], 1u);
  for (struct page* pg : got) {
    pcpool_classic_free(c, pg, 0);
  }
  EXPECT_EQ(pcpool_classic_check(c), 0u);
}

}  // namespace
}  // namespace pcpool_test
