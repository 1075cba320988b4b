// SPDX-License-Identifier: GPL-2.0
// pcpbuddy remote frees through the owner's lock-free list
// (PCPOOL_PCPBUDDY_REMOTE_LIST): routing without the owner's lock, absorbing
// at refill, drain above high, drain-all, steal and CPU offline, and exact
// accounting with chunks sitting on the lists.
#include <thread>
#include <vector>

#include "pcpbuddy_test.h"

namespace pcpool_test {
namespace {

class PcpbuddyRemoteTest : public CoreTest {};

// A World in list mode.
struct ListWorld : PbWorld {
  ListWorld(const ZoneParams& p, unsigned long reserve) : PbWorld(p, reserve) {
    EXPECT_EQ(pcpool_pcpbuddy_set_remote_free(pb, PCPOOL_PCPBUDDY_REMOTE_LIST), 0);
  }
};

TEST_F(PcpbuddyRemoteTest, ModeSwitchValidatesAndShows) {
  PbWorld b(ZoneParams{}, 1);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_remote_list"], 0u) << "the core defaults to lock";
  EXPECT_EQ(pcpool_pcpbuddy_set_remote_free(b.pb, static_cast<pcpool_pcpbuddy_remote>(2)), -EINVAL);
  EXPECT_EQ(pcpool_pcpbuddy_set_remote_free(b.pb, static_cast<pcpool_pcpbuddy_remote>(-1)),
            -EINVAL);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_remote_list"], 0u);
  EXPECT_EQ(pcpool_pcpbuddy_set_remote_free(b.pb, PCPOOL_PCPBUDDY_REMOTE_LIST), 0);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_remote_list"], 1u);
}

// The freeing CPU takes neither the zone lock nor the owner's pool lock:
// the owner's lock is held by this thread while another frees.
TEST_F(PcpbuddyRemoteTest, RemoteFreeQueuesWithoutTheOwnersLock) {
  ListWorld b(ZoneParams{}, 1);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 8);
  uint64_t acq = PbCounters(b.pb)["zone_lock_acquisitions"];
  spin_lock(&b.pb->pool[0].lock);
  std::thread t([&] { FreeOn(b.pb, 1, pages); });
  t.join();
  spin_unlock(&b.pb->pool[0].lock);
  pcpool_user_set_cpu(0);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["zone_lock_acquisitions"], acq);
  EXPECT_EQ(k["pcpbuddy_remote_frees"], 8u);
  EXPECT_EQ(k["pcpbuddy_remote_queued"], 8u);
  EXPECT_EQ(k["pcpbuddy_remote_absorbs"], 0u);
  EXPECT_EQ(k["pcpbuddy_remote_pages"], 8u);
  EXPECT_EQ(k["pcpbuddy_pool_pages"], 16u) << "8 in the pool + 8 queued";
  EXPECT_EQ(b.pb->pool[0].free_pages, 8u) << "not in the owner's lists yet";
  EXPECT_EQ(b.pb->pool[1].free_pages, 0u);
  Counters c1 = PbCpuCounters(b.pb, 1);
  EXPECT_EQ(c1["pcpbuddy_remote_out_pages"], 8u);
  b.ExpectExact(0);
  // a local free is still a plain pool free
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  pcpool_pcpbuddy_free(b.pb, pg, 0);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_local_frees"], 1u);
  b.ExpectExact(0);
}

// The owner absorbs when its pool runs dry, before claiming a new block.
TEST_F(PcpbuddyRemoteTest, OwnerAbsorbsAtRefill) {
  ListWorld b(ZoneParams{}, 1);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  EXPECT_EQ(b.pb->pool[0].free_pages, 0u);
  FreeOn(b.pb, 1, pages);
  b.ExpectExact(0);
  pcpool_user_set_cpu(0);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_remote_absorbs"], 1u);
  EXPECT_EQ(k["pcpbuddy_remote_absorbed"], 16u);
  EXPECT_EQ(k["pcpbuddy_remote_pages"], 0u);
  EXPECT_EQ(k["pcpbuddy_blocks_claimed"], 1u) << "the absorbed block served it";
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), 0);
  EXPECT_EQ(b.pb->pool[0].free_pages, 15u);
  EXPECT_EQ(PbCpuCounters(b.pb, 0)["pcpbuddy_remote_in_pages"], 16u);
  b.ExpectExact(1);
  pcpool_pcpbuddy_free(b.pb, pg, 0);
  b.ExpectExact(0);
}

// A drain above high absorbs first, so queued chunks drain with the rest.
TEST_F(PcpbuddyRemoteTest, DrainAboveHighAbsorbsFirst) {
  ListWorld b(ZoneParams{}, 1);
  ASSERT_EQ(pcpool_pcpbuddy_set_high_batch(b.pb, 8, 4), 0);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  FreeOn(b.pb, 1, {pages.begin(), pages.begin() + 4});
  FreeOn(b.pb, 0, {pages.begin() + 4, pages.begin() + 13});
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_drains"], 1u);
  EXPECT_EQ(k["pcpbuddy_remote_absorbs"], 1u);
  EXPECT_EQ(k["pcpbuddy_remote_absorbed"], 4u);
  EXPECT_EQ(k["pcpbuddy_remote_pages"], 0u);
  EXPECT_LE(b.pb->pool[0].free_pages, 4u) << "high - batch, coarsest first";
  b.ExpectExact(3);
  FreeOn(b.pb, 0, {pages.begin() + 13, pages.end()});
  b.ExpectExact(0);
}

// Drain-all visits a pool whose only pages are queued, and empties it.
TEST_F(PcpbuddyRemoteTest, DrainAllAbsorbsQueuedOnlyPools) {
  ZoneParams p;
  p.nr_cpus = 3;
  ListWorld b(p, 0);
  std::vector<struct page*> pages = AllocOn(b.pb, 1, 16);
  FreeOn(b.pb, 2, pages);
  EXPECT_EQ(b.pb->pool[1].free_pages, 0u);
  b.ExpectExact(0);
  pcpool_user_set_cpu(0);
  EXPECT_EQ(pcpool_pcpbuddy_drain_all(b.pb), 0u) << "the whole block went back at absorb";
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_drain_all_visited"], 1u);
  EXPECT_EQ(k["pcpbuddy_drain_all_skipped"], 2u);
  EXPECT_EQ(k["pcpbuddy_remote_absorbed"], 16u);
  EXPECT_EQ(k["pcpbuddy_remote_pages"], 0u);
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 0u);
  EXPECT_EQ(pcpool_pcpbuddy_pool_pages(b.pb), 0u);
  b.ExpectExact(0);
}

// CPU offline absorbs the dead pool's list to the zone; later frees of its
// blocks bypass the list; online again, it queues again.
TEST_F(PcpbuddyRemoteTest, HotplugAbsorbsAndBypasses) {
  ZoneParams p;
  p.nr_cpus = 3;
  ListWorld b(p, 1);
  std::vector<struct page*> pages = AllocOn(b.pb, 1, 6);
  FreeOn(b.pb, 0, {pages.begin(), pages.begin() + 3});
  b.ExpectExact(3);
  pcpool_pcpbuddy_cpu_dead(b.pb, 1);
  EXPECT_EQ(b.pb->pool[1].free_pages, 0u);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_remote_absorbed"], 3u);
  EXPECT_EQ(k["pcpbuddy_remote_pages"], 0u);
  b.ExpectExact(3);
  FreeOn(b.pb, 2, {pages.begin() + 3, pages.end()});
  k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_dead_frees"], 3u);
  EXPECT_EQ(k["pcpbuddy_remote_queued"], 3u) << "none queued to the dead pool";
  EXPECT_EQ(k["pcpbuddy_blocks_owned"], 0u);
  b.ExpectExact(0);
  pcpool_pcpbuddy_cpu_online(b.pb, 1);
  pages = AllocOn(b.pb, 1, 2);
  FreeOn(b.pb, 0, pages);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_remote_queued"], 5u);
  b.ExpectExact(0);
}

// At the limit a stealer absorbs the victim's list to find the pages; the
// stolen chunk keeps its owner.
TEST_F(PcpbuddyRemoteTest, StealAbsorbsTheVictimsList) {
  ZoneParams p;
  p.limit = 1;
  ListWorld b(p, 1);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  FreeOn(b.pb, 1, pages);
  EXPECT_EQ(b.pb->pool[0].free_pages, 0u);
  pcpool_user_set_cpu(1);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), 0);
  Counters c1 = PbCpuCounters(b.pb, 1);
  EXPECT_EQ(c1["pcpbuddy_refill_phase3"], 1u);
  EXPECT_EQ(c1["pcpbuddy_remote_absorbed"], 16u);
  b.ExpectExact(1);
  pcpool_pcpbuddy_free(b.pb, pg, 0);  // queued back to cpu0
  b.ExpectExact(0);
}

// Without a reserve, the absorbed block is whole and goes back: the
// stealer then claims it itself.
TEST_F(PcpbuddyRemoteTest, AbsorbedWholeBlockIsClaimedAfterAFailedSteal) {
  ZoneParams p;
  p.limit = 1;
  ListWorld b(p, 0);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  FreeOn(b.pb, 1, pages);
  pcpool_user_set_cpu(1);
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), 1);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_remote_absorbed"], 16u);
  EXPECT_EQ(k["pcpbuddy_blocks_returned"], 1u);
  EXPECT_EQ(k["pcpbuddy_alloc_failures"], 0u);
  b.ExpectExact(1);
  pcpool_pcpbuddy_free(b.pb, pg, 0);
  b.ExpectExact(0);
}

// Switching back to lock mode strands nothing: lists are absorbed anyway.
TEST_F(PcpbuddyRemoteTest, SwitchToLockWithQueuedChunks) {
  ListWorld b(ZoneParams{}, 1);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 10);
  FreeOn(b.pb, 1, {pages.begin(), pages.begin() + 5});
  ASSERT_EQ(pcpool_pcpbuddy_set_remote_free(b.pb, PCPOOL_PCPBUDDY_REMOTE_LOCK), 0);
  FreeOn(b.pb, 1, {pages.begin() + 5, pages.end()});
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_remote_queued"], 5u);
  EXPECT_EQ(k["pcpbuddy_remote_frees"], 10u);
  EXPECT_EQ(k["pcpbuddy_remote_pages"], 5u);
  b.ExpectExact(0);
  pcpool_user_set_cpu(0);
  pcpool_pcpbuddy_drain_all(b.pb);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_remote_pages"], 0u);
  b.ExpectExact(0);
}

// Reset leaves the accounting (queued vs absorbed pages) alone.
TEST_F(PcpbuddyRemoteTest, ResetKeepsQueuedPagesCounted) {
  ListWorld b(ZoneParams{}, 1);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 4);
  FreeOn(b.pb, 1, pages);
  pcpool_pcpbuddy_reset_counters(b.pb);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_remote_queued"], 0u);
  EXPECT_EQ(k["pcpbuddy_remote_pages"], 4u);
  b.ExpectExact(0);
}

}  // namespace
}  // namespace pcpool_test
