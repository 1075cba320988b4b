// SPDX-License-Identifier: GPL-2.0
// pcpbuddy's interrupt-safe pair (pcpool_pcpbuddy_alloc_nowait/free_nowait):
// no lock waited on and the zone never touched, deferred frees absorbed by
// whoever takes the pool next, loose chunks kept loose, exact accounting,
// and both racing the process-context paths (TSan).
#include <atomic>
#include <thread>
#include <vector>

#include "pcpbuddy_test.h"

namespace pcpool_test {
namespace {

class PcpbuddyNowaitTest : public CoreTest {};

// Frees from "interrupt context" take no lock: the owner's pool lock and the
// zone lock are held by this thread while another CPU and this one free.
TEST_F(PcpbuddyNowaitTest, FreeQueuesOnTheOwnersListWithoutLocks) {
  PbWorld b(ZoneParams{}, 1);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 8);
  uint64_t acq = PbCounters(b.pb)["zone_lock_acquisitions"];
  spin_lock(&b.pb->pool[0].lock);
  pcpool_zone_lock(b.w.zone);
  std::thread t([&] {
    pcpool_user_set_cpu(1);
    for (int i = 0; i < 4; i++) {
      pcpool_pcpbuddy_free_nowait(b.pb, pages[i], 0);
    }
  });
  t.join();
  pcpool_user_set_cpu(0);
  for (int i = 4; i < 8; i++) {
    pcpool_pcpbuddy_free_nowait(b.pb, pages[i], 0);
  }
  pcpool_zone_unlock(b.w.zone);
  spin_unlock(&b.pb->pool[0].lock);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["zone_lock_acquisitions"], acq + 1) << "only this test's own";
  EXPECT_EQ(k["pcpbuddy_deferred_frees"], 8u);
  EXPECT_EQ(k["pcpbuddy_frees"], 8u);
  EXPECT_EQ(k["pcpbuddy_remote_pages"], 8u);
  EXPECT_EQ(b.pb->pool[0].free_pages, 8u) << "queued, not in the lists";
  EXPECT_EQ(PbCpuCounters(b.pb, 1)["pcpbuddy_remote_out_pages"], 4u);
  b.ExpectExact(0);
}

// The owner's next refill absorbs them, as remote-list frees.
TEST_F(PcpbuddyNowaitTest, DeferredFreesAreAbsorbedAtRefill) {
  PbWorld b(ZoneParams{}, 1);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  EXPECT_EQ(b.pb->pool[0].free_pages, 0u);
  for (struct page* pg : pages) {
    pcpool_pcpbuddy_free_nowait(b.pb, pg, 0);
  }
  struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_remote_absorbed"], 16u);
  EXPECT_EQ(k["pcpbuddy_remote_pages"], 0u);
  EXPECT_EQ(k["pcpbuddy_blocks_claimed"], 1u) << "the absorbed block served it";
  b.ExpectExact(1);
  pcpool_pcpbuddy_free(b.pb, pg, 0);
  b.ExpectExact(0);
}

// An empty pool set: NULL, counted, and the zone untouched (no growth).
TEST_F(PcpbuddyNowaitTest, AllocFailsWithoutTheZoneWhenPoolsAreEmpty) {
  PbWorld b(ZoneParams{}, 1);
  pcpool_user_set_cpu(0);
  EXPECT_EQ(pcpool_pcpbuddy_alloc_nowait(b.pb, 0), nullptr);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_alloc_failures"], 1u);
  EXPECT_EQ(k["zone_lock_acquisitions"], 0u);
  EXPECT_EQ(k["zone_blocks_obtained"], 0u);
  EXPECT_EQ(pcpool_pcpbuddy_alloc_nowait(b.pb, 5), nullptr) << "above the block order";
  b.ExpectExact(0);
}

// Served from this CPU's front cache and lists, then from the other pools;
// a held pool lock is skipped (counted busy), never waited on, and the zone
// lock held elsewhere does not matter.
TEST_F(PcpbuddyNowaitTest, AllocTakesPoolsUnderTrylockOnly) {
  PbWorld b(ZoneParams{}, 1);
  ASSERT_EQ(pcpool_pcpbuddy_set_front(b.pb, 4), 0);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 8);
  FreeOn(b.pb, 0, pages);  // 4 in the front, 4 on the lists
  pcpool_zone_lock(b.w.zone);
  std::vector<struct page*> got;
  for (int i = 0; i < 6; i++) {
    struct page* pg = pcpool_pcpbuddy_alloc_nowait(b.pb, 0);
    ASSERT_NE(pg, nullptr);
    got.push_back(pg);
  }
  pcpool_zone_unlock(b.w.zone);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_nowait_allocs"], 6u);
  EXPECT_GE(k["pcpbuddy_front_allocs"], 4u);
  // CPU 1, with its own pool empty, takes from CPU 0's; with CPU 0's lock
  // held it gets nothing and says busy.
  std::thread t([&] {
    pcpool_user_set_cpu(1);
    struct page* pg = pcpool_pcpbuddy_alloc_nowait(b.pb, 0);
    EXPECT_NE(pg, nullptr);
    EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), 0);
    got.push_back(pg);
  });
  t.join();
  EXPECT_EQ(PbCpuCounters(b.pb, 1)["pcpbuddy_refill_phase3"], 1u);
  spin_lock(&b.pb->pool[0].lock);
  std::thread t2([&] {
    pcpool_user_set_cpu(1);
    EXPECT_EQ(pcpool_pcpbuddy_alloc_nowait(b.pb, 0), nullptr);
  });
  t2.join();
  spin_unlock(&b.pb->pool[0].lock);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_nowait_busy"], 1u);
  b.ExpectExact(7);
  pcpool_user_set_cpu(1);
  for (struct page* pg : got) {
    pcpool_pcpbuddy_free_nowait(b.pb, pg, 0);
  }
  b.ExpectExact(0);
}

// Deferred frees on the list are taken in by a _nowait allocation too,
// linked without giving a whole block back (that needs the zone lock).
TEST_F(PcpbuddyNowaitTest, AllocAbsorbsWithoutGivingBlocksBack) {
  PbWorld b(ZoneParams{}, 0);
  ASSERT_EQ(pcpool_pcpbuddy_set_front(b.pb, 0), 0);
  std::vector<struct page*> pages = AllocOn(b.pb, 0, 16);
  for (struct page* pg : pages) {
    pcpool_pcpbuddy_free_nowait(b.pb, pg, 0);
  }
  uint64_t acq = PbCounters(b.pb)["zone_lock_acquisitions"];
  struct page* pg = pcpool_pcpbuddy_alloc_nowait(b.pb, 0);
  ASSERT_NE(pg, nullptr);
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["zone_lock_acquisitions"], acq);
  EXPECT_EQ(k["pcpbuddy_remote_absorbed"], 16u);
  EXPECT_EQ(k["pcpbuddy_blocks_returned"], 0u);
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), 0);
  b.ExpectExact(1);
  // a process-context free gives the whole block back (no reserve)
  pcpool_pcpbuddy_free(b.pb, pg, 0);
  EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_blocks_returned"], 1u);
  b.ExpectExact(0);
}

// A chunk of an unowned block is queued on this CPU's list and cached loose.
TEST_F(PcpbuddyNowaitTest, UnownedChunkStaysLoose) {
  PbWorld b(ZoneParams{}, 1);
  pcpool_user_set_cpu(1);
  struct page* pg = pcpool_zone_alloc(b.w.zone, 2);
  ASSERT_NE(pg, nullptr);
  ASSERT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), PCPOOL_OWNER_NONE);
  pcpool_pcpbuddy_free_nowait(b.pb, pg, 2);
  EXPECT_EQ(PbCpuCounters(b.pb, 1)["pcpbuddy_remote_out_pages"], 4u);
  b.ExpectExact(0);
  struct page* again = pcpool_pcpbuddy_alloc_nowait(b.pb, 2);
  EXPECT_EQ(again, pg) << "absorbed as a loose order-2 chunk";
  EXPECT_EQ(pcpool_pcpbuddy_owner(b.pb, pg), PCPOOL_OWNER_NONE);
  b.ExpectExact(4);
  pcpool_pcpbuddy_free_nowait(b.pb, again, 2);
  EXPECT_EQ(pcpool_pcpbuddy_drain_all(b.pb), 4u);
  b.ExpectExact(0);
}

// Process-context traffic on every CPU with "interrupt" traffic interleaved:
// _nowait allocations and frees of pages allocated anywhere.  TSan checks
// the races; the accounting must come out exact.
TEST_F(PcpbuddyNowaitTest, RacesTheProcessPaths) {
  PbWorld b(ZoneParams{.mem_blocks = 32, .limit = 32, .nr_cpus = 3}, 1);
  ASSERT_EQ(pcpool_pcpbuddy_set_remote_free(b.pb, PCPOOL_PCPBUDDY_REMOTE_LIST), 0);
  constexpr int kIters = 3000;
  std::atomic<int> failed{0};
  // CPUs 0 and 1: process context; CPU 2: only _nowait, freeing what it
  // takes and what CPU 0 hands it.
  std::atomic<struct page*> handoff{nullptr};
  auto proc = [&](unsigned cpu) {
    pcpool_user_set_cpu(cpu);
    std::vector<struct page*> held;
    for (int i = 0; i < kIters; i++) {
      unsigned order = i % 3;
      struct page* pg = pcpool_pcpbuddy_alloc(b.pb, order);
      if (!pg) {
        failed++;
        continue;
      }
      if (cpu == 0 && !order && i % 4 == 0) {
        struct page* old = handoff.exchange(pg);
        if (old) {
          pcpool_pcpbuddy_free(b.pb, old, 0);
        }
        continue;
      }
      pcpool_pcpbuddy_free(b.pb, pg, order);
    }
  };
  std::atomic<bool> done{false};
  // Until the process side is done, and once more after: on a loaded host
  // this thread may get no CPU time before then.
  auto irq = [&] {
    pcpool_user_set_cpu(2);
    for (int i = 0;; i++) {
      bool last = done.load();
      unsigned order = i % 2;
      struct page* pg = pcpool_pcpbuddy_alloc_nowait(b.pb, order);
      if (pg) {
        pcpool_pcpbuddy_free_nowait(b.pb, pg, order);
      }
      struct page* h = handoff.exchange(nullptr);
      if (h) {
        pcpool_pcpbuddy_free_nowait(b.pb, h, 0);
      }
      if (last) {
        break;
      }
    }
  };
  std::thread t0(proc, 0), t1(proc, 1), t2(irq);
  t0.join();
  t1.join();
  done = true;
  t2.join();
  EXPECT_EQ(failed.load(), 0);
  pcpool_user_set_cpu(0);
  struct page* h = handoff.exchange(nullptr);
  if (h) {
    pcpool_pcpbuddy_free(b.pb, h, 0);
  }
  Counters k = PbCounters(b.pb);
  EXPECT_EQ(k["pcpbuddy_allocs"], k["pcpbuddy_frees"]);
  EXPECT_GT(k["pcpbuddy_deferred_frees"], 0u);
  b.ExpectExact(0);
}

}  // namespace
}  // namespace pcpool_test
