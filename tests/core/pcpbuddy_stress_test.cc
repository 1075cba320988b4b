// SPDX-License-Identifier: GPL-2.0
// pcpbuddy under concurrency: one thread per "CPU", more CPUs than host
// cores, local, remote (routed to the owner) and cross frees, drain-all,
// shrink, hotplug and counter reads racing the allocations.  TSan is the
// point: pool locks taken by other CPUs, unlocked counters, racy reads.
#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "pcpbuddy_test.h"

namespace pcpool_test {
namespace {

#if defined(PCPOOL_SANITIZER_tsan)
constexpr int kOps = 8000;
#else
constexpr int kOps = 30000;
#endif

struct PbStressCase {
  unsigned nr_cpus;
  unsigned order;
  uint64_t limit;
  uint64_t high;
  uint64_t batch;
  pcpool_pcpbuddy_remote remote;
  uint64_t front;  // front cache pages per pool, 0: off
};

class PcpbuddyStress : public CoreTest, public ::testing::WithParamInterface<PbStressCase> {};

TEST_P(PcpbuddyStress, LocalRemoteAndCrossFrees) {
  const PbStressCase sc = GetParam();
  ZoneParams p;
  p.order = sc.order;
  p.mem_blocks = sc.limit + 2;
  p.limit = sc.limit;
  p.reserve = 1;
  p.nr_cpus = sc.nr_cpus + 1;  // the last "CPU" observes
  PbWorld b(p, 1);
  ASSERT_EQ(pcpool_pcpbuddy_set_high_batch(b.pb, sc.high, sc.batch), 0);
  ASSERT_EQ(pcpool_pcpbuddy_set_remote_free(b.pb, sc.remote), 0);
  ASSERT_EQ(pcpool_pcpbuddy_set_front(b.pb, sc.front), 0);
  for (unsigned cpu = 0; cpu < p.nr_cpus; cpu++) {
    pcpool_pcpbuddy_set_node(b.pb, cpu, static_cast<int>(cpu % 2));
  }
  Ownership own(&b.w);
  std::atomic<uint64_t> allocs{0};
  std::atomic<uint64_t> frees{0};
  std::atomic<uint64_t> failures{0};
  std::vector<Mailbox> mail(sc.nr_cpus);
  std::atomic<bool> stop{false};

  auto free_chunk = [&](const Chunk& ch) {
    own.Give(ch);
    pcpool_pcpbuddy_free(b.pb, ch.page, ch.order);
    frees++;
  };

  // Start together, so owners absorb while others still queue.
  std::atomic<unsigned> ready{0};
  auto worker = [&](unsigned cpu) {
    pcpool_user_set_cpu(cpu);
    ready++;
    while (ready.load() < sc.nr_cpus) {
      std::this_thread::yield();
    }
    std::mt19937 rng(77 + cpu);
    std::vector<Chunk> mine;
    for (int op = 0; op < kOps; op++) {
      unsigned r = rng() % 100;
      if (r < 50 || mine.empty()) {
        unsigned o = (rng() % 8) != 0u ? 0 : rng() % (sc.order + 1);
        struct page* pg = pcpool_pcpbuddy_alloc(b.pb, o);
        if (pg == nullptr) {
          failures++;
          continue;
        }
        Chunk ch{pg, o};
        own.Take(ch);
        allocs++;
        mine.push_back(ch);
      } else if (r < 72) {
        size_t i = rng() % mine.size();
        Chunk ch = mine[i];
        mine[i] = mine.back();
        mine.pop_back();
        free_chunk(ch);
      } else if (r < 90) {
        size_t i = rng() % mine.size();
        Chunk ch = mine[i];
        mine[i] = mine.back();
        mine.pop_back();
        unsigned to = (cpu + 1 + rng() % (sc.nr_cpus - 1)) % sc.nr_cpus;
        std::lock_guard<std::mutex> g(mail[to].lock);
        mail[to].chunks.push_back(ch);
      } else {
        std::vector<Chunk> got;
        {
          std::lock_guard<std::mutex> g(mail[cpu].lock);
          got.swap(mail[cpu].chunks);
        }
        for (const Chunk& ch : got) {
          free_chunk(ch);
        }
      }
    }
    for (const Chunk& ch : mine) {
      free_chunk(ch);
    }
  };

  // Drain-all, shrink, a hotplug cycle of the observer's own "CPU" and
  // counter reads, racing the workers.
  std::thread observer([&] {
    unsigned me = sc.nr_cpus;
    pcpool_user_set_cpu(me);
    unsigned n = 0;
    while (!stop.load()) {
      Counters k = PbCounters(b.pb);
      EXPECT_LE(k["pcpbuddy_pool_pages"], (sc.limit + 1) << sc.order);
      EXPECT_LE(b.w.Totals().blocks_held, sc.limit);
      switch (n++ % 4) {
        case 0:
          pcpool_pcpbuddy_drain_all(b.pb);
          break;
        case 1:
          pcpool_pcpbuddy_shrink(b.pb, 1UL << sc.order);
          break;
        case 2: {
          struct page* pg = pcpool_pcpbuddy_alloc(b.pb, 0);
          pcpool_pcpbuddy_cpu_dead(b.pb, me);
          if (pg != nullptr) {
            pcpool_pcpbuddy_free(b.pb, pg, 0);  // lands in the zone
          }
          pcpool_pcpbuddy_cpu_online(b.pb, me);
          break;
        }
        default:
          // The racy read the module's shrinker does (whole free blocks
          // in the zone plus the pools' pages): never more than the zone
          // holds, one block of slack for a block moving from the zone
          // into a pool between the two reads, as for the classic PCP.
          EXPECT_LE(pcpool_pcpbuddy_shrink_count(b.pb), (sc.limit + 1) << sc.order);
          break;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  });

  std::vector<std::thread> threads;
  for (unsigned cpu = 0; cpu < sc.nr_cpus; cpu++) {
    threads.emplace_back(worker, cpu);
  }
  for (auto& t : threads) {
    t.join();
  }
  stop = true;
  observer.join();
  for (unsigned cpu = 0; cpu < sc.nr_cpus; cpu++) {
    pcpool_user_set_cpu(cpu);
    for (const Chunk& ch : mail[cpu].chunks) {
      free_chunk(ch);
    }
  }
  pcpool_user_set_cpu(0);

  EXPECT_EQ(own.errors.load(), 0u);
  b.ExpectExact(0);
  Counters k = PbCounters(b.pb);
  // the observer's allocations are counted too; it frees what it took
  EXPECT_GE(k["pcpbuddy_allocs"], allocs.load());
  EXPECT_EQ(k["pcpbuddy_allocs"], k["pcpbuddy_frees"]);
  EXPECT_EQ(k["pcpbuddy_frees"], k["pcpbuddy_local_frees"] + k["pcpbuddy_remote_frees"] +
                                     k["pcpbuddy_loose_frees"] + k["pcpbuddy_dead_frees"]);
  EXPECT_GT(k["pcpbuddy_remote_frees"], 0u);
  if (sc.remote == PCPOOL_PCPBUDDY_REMOTE_LIST) {
    EXPECT_GT(k["pcpbuddy_remote_queued"], 0u);
    // every queued chunk is absorbed exactly once, at the latest by a
    // drain-all
    pcpool_pcpbuddy_drain_all(b.pb);
    k = PbCounters(b.pb);
    EXPECT_EQ(k["pcpbuddy_remote_absorbed"], k["pcpbuddy_remote_queued"]);
    EXPECT_EQ(k["pcpbuddy_remote_pages"], 0u);
    b.ExpectExact(0);
  } else {
    EXPECT_EQ(k["pcpbuddy_remote_queued"], 0u);
  }
  if (sc.front != 0u) {
    EXPECT_GT(k["pcpbuddy_front_frees"], 0u);
    EXPECT_GT(k["pcpbuddy_front_allocs"], 0u);
    pcpool_pcpbuddy_drain_all(b.pb);
    EXPECT_EQ(PbCounters(b.pb)["pcpbuddy_front_pages"], 0u) << "drain-all empties front caches";
    b.ExpectExact(0);
  } else {
    EXPECT_EQ(k["pcpbuddy_front_frees"], 0u);
  }
  EXPECT_GE(k["pcpbuddy_alloc_failures"], failures.load());
  // Nothing is out: once the pools are drained every held page is free
  // and merged, so the shrinker counts exactly what the zone holds.
  pcpool_pcpbuddy_drain_all(b.pb);
  EXPECT_EQ(pcpool_pcpbuddy_shrink_count(b.pb), b.w.Totals().blocks_held << sc.order);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PcpbuddyStress,
    ::testing::Values(
        // roomy, at the limit, bigger blocks; each with
        // remote frees under the owner's lock and
        // queued, without and with a front cache (the
        // module's default: list, one block)
        PbStressCase{8, 4, 24, 32, 16, PCPOOL_PCPBUDDY_REMOTE_LOCK, 0},
        PbStressCase{12, 3, 6, 16, 8, PCPOOL_PCPBUDDY_REMOTE_LOCK, 0},
        PbStressCase{6, 5, 40, 96, 48, PCPOOL_PCPBUDDY_REMOTE_LOCK, 0},
        PbStressCase{8, 4, 24, 32, 16, PCPOOL_PCPBUDDY_REMOTE_LIST, 0},
        PbStressCase{12, 3, 6, 16, 8, PCPOOL_PCPBUDDY_REMOTE_LIST, 0},
        PbStressCase{6, 5, 40, 96, 48, PCPOOL_PCPBUDDY_REMOTE_LIST, 0},
        PbStressCase{8, 4, 24, 32, 16, PCPOOL_PCPBUDDY_REMOTE_LOCK, 16},
        PbStressCase{8, 4, 24, 32, 16, PCPOOL_PCPBUDDY_REMOTE_LIST, 16},
        PbStressCase{12, 3, 6, 16, 8, PCPOOL_PCPBUDDY_REMOTE_LIST, 8},
        PbStressCase{6, 5, 40, 96, 48, PCPOOL_PCPBUDDY_REMOTE_LIST, 32}),
    [](const auto& info) {
      return "cpus" + std::to_string(info.param.nr_cpus) + "_order" +
             std::to_string(info.param.order) + "_limit" + std::to_string(info.param.limit) +
             (info.param.remote == PCPOOL_PCPBUDDY_REMOTE_LIST ? "_list" : "_lock") +
             (info.param.front != 0u ? "_front" + std::to_string(info.param.front) : "");
    });

}  // namespace
}  // namespace pcpool_test
