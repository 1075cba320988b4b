// SPDX-License-Identifier: GPL-2.0
// Concurrent stress: one thread per "CPU", more CPUs than host cores, local
// and cross-CPU frees, drains, shrinks and counter reads racing the
// allocations.  Built plain, under ASan/UBSan and under TSan; TSan is the
// point (lock discipline, unlocked counters, racy reads).
#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core_test.h"

namespace pcpool_test {
namespace {

#if defined(PCPOOL_SANITIZER_tsan)
constexpr int kOpsPerThread = 10000;
#else
constexpr int kOpsPerThread = 40000;
#endif

struct StressCase {
  unsigned nr_cpus;
  unsigned order;
  uint64_t limit;
  int high;
  int batch;
};

class ClassicStress : public CoreTest, public ::testing::WithParamInterface<StressCase> {};

TEST_P(ClassicStress, ManyCpusLocalAndCrossFrees) {
  const StressCase sc = GetParam();
  ZoneParams p;
  p.order = sc.order;
  p.mem_blocks = sc.limit + 4;
  p.limit = sc.limit;
  p.reserve = 2;
  p.nr_cpus = sc.nr_cpus;
  World w(p);
  pcpool_classic* c = w.AddClassic();
  if (sc.batch != 0) {
    ASSERT_EQ(pcpool_classic_set_high_batch(c, sc.high, sc.batch), 0);
  }
  Ownership own(&w);
  std::vector<Mailbox> mail(sc.nr_cpus);
  std::atomic<uint64_t> allocs{0};
  std::atomic<uint64_t> frees{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<bool> stop_observer{false};

  auto free_chunk = [&](const Chunk& ch) {
    own.Give(ch);
    pcpool_classic_free(c, ch.page, ch.order);
    frees++;
  };

  auto worker = [&](unsigned cpu) {
    pcpool_user_set_cpu(cpu);
    std::mt19937 rng(1000 + cpu);
    std::vector<Chunk> mine;
    for (int op = 0; op < kOpsPerThread; op++) {
      unsigned r = rng() % 100;
      if (r < 50 || mine.empty()) {
        unsigned o = (rng() % 8) != 0u ? 0 : rng() % (sc.order + 1);
        struct page* page = pcpool_classic_alloc(c, o);
        if (!page) {
          failures++;
          continue;
        }
        Chunk ch{page, o};
        own.Take(ch);
        allocs++;
        mine.push_back(ch);
      } else if (r < 75) {  // local free
        size_t i = rng() % mine.size();
        Chunk ch = mine[i];
        mine[i] = mine.back();
        mine.pop_back();
        free_chunk(ch);
      } else if (r < 90) {  // hand to another CPU
        size_t i = rng() % mine.size();
        Chunk ch = mine[i];
        mine[i] = mine.back();
        mine.pop_back();
        unsigned to = (cpu + 1 + rng() % (sc.nr_cpus - 1)) % sc.nr_cpus;
        std::lock_guard<std::mutex> g(mail[to].lock);
        mail[to].chunks.push_back(ch);
      } else {  // free what others sent here
        std::vector<Chunk> got;
        {
          std::lock_guard<std::mutex> g(mail[cpu].lock);
          got.swap(mail[cpu].chunks);
        }
        for (const Chunk& ch : got) {
          free_chunk(ch);
        }
      }
      if (cpu == 0 && op % 997 == 0) {
        pcpool_classic_drain_all(c, false);
      }
      if (cpu == 1 && op % 1499 == 0) {
        pcpool_classic_shrink(c, 1UL << sc.order);
      }
    }
    for (const Chunk& ch : mine) {
      free_chunk(ch);
    }
  };

  // Reads counters and checks consistency while the workers run.
  std::thread observer([&] {
    pcpool_user_set_cpu(sc.nr_cpus - 1);
    while (!stop_observer.load()) {
      Counters k = ClassicCounters(c);
      EXPECT_LE(k["zone_lock_contended"], k["zone_lock_acquisitions"] + 64);
      EXPECT_EQ(pcpool_classic_check(c), 0u);
      // racy reads the module's shrinker and debugfs do
      EXPECT_LE(pcpool_classic_shrink_count(c), (sc.limit + 1) << sc.order);
      EXPECT_LE(w.Totals().blocks_held, sc.limit);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  std::vector<std::thread> threads;
  for (unsigned cpu = 0; cpu < sc.nr_cpus; cpu++) {
    threads.emplace_back(worker, cpu);
  }
  for (auto& t : threads) {
    t.join();
  }
  stop_observer = true;
  observer.join();

  // Leftover mail is freed by the addressee.
  for (unsigned cpu = 0; cpu < sc.nr_cpus; cpu++) {
    pcpool_user_set_cpu(cpu);
    for (const Chunk& ch : mail[cpu].chunks) {
      free_chunk(ch);
    }
  }
  pcpool_user_set_cpu(0);

  EXPECT_EQ(own.errors.load(), 0u);
  EXPECT_EQ(own.Out(), 0u);
  Counters k = ClassicCounters(c);
  EXPECT_EQ(k["classic_allocs"] + k["classic_direct_allocs"], allocs.load());
  EXPECT_EQ(k["classic_frees"] + k["classic_direct_frees"], frees.load());
  EXPECT_EQ(k["classic_alloc_failures"], failures.load());
  EXPECT_GT(k["zone_lock_acquisitions"], 0u);
  pcpool_zone_totals t = w.Totals();
  EXPECT_EQ(t.blocks_held << sc.order, t.free_pages + pcpool_classic_pcp_pages(c));
  EXPECT_EQ(pcpool_classic_check(c), 0u);
  // World::Finish: drain all, only whole blocks left, all go back clean.
}

INSTANTIATE_TEST_SUITE_P(Cpus, ClassicStress,
                         ::testing::Values(
                             // 8 "CPUs" on a 2-core host, small lists: many drains
                             StressCase{8, 5, 24, 32, 4},
                             // 16 CPUs, tight limit: ENOMEM, drain-all, give-back
                             StressCase{16, 4, 12, 0, 0},
                             // the kernel's block order, derived high/batch
                             StressCase{6, 9, 8, 0, 0}));

// The zone alone, hammered by many CPUs with owners claiming and returning
// whole blocks and taking their fragments back.
TEST_F(CoreTest, ZoneConcurrentAllocFreeClaim) {
  constexpr unsigned kCpus = 12;
  ZoneParams p;
  p.order = 5;
  p.mem_blocks = 24;
  p.limit = 20;
  p.reserve = 1;
  p.nr_cpus = kCpus;
  World w(p);
  Ownership own(&w);
  std::vector<Mailbox> mail(kCpus);

  auto worker = [&](unsigned cpu) {
    pcpool_user_set_cpu(cpu);
    std::mt19937 rng(77 + cpu);
    std::vector<Chunk> mine;
    for (int op = 0; op < kOpsPerThread / 2; op++) {
      unsigned r = rng() % 100;
      if (r < 45 || mine.empty()) {
        unsigned o = (rng() % 4) != 0u ? rng() % 3 : rng() % 6;
        struct page* page = pcpool_zone_alloc(w.zone, o);
        if (page) {
          own.Take({page, o});
          mine.push_back({page, o});
        }
      } else if (r < 50) {
        struct page* blk = pcpool_zone_claim_block(w.zone, static_cast<int>(cpu));
        if (blk) {
          EXPECT_EQ(pcpool_zone_owner(w.zone, Pfn(blk)), static_cast<int>(cpu));
          // a racy owner read of some other block, as routing would do
          (void)pcpool_zone_owner(w.zone, Pfn(blk) ^ (1UL << 5));
          own.Take({blk, 5});
          if ((op % 2) != 0) {
            own.Give({blk, 5});
            pcpool_zone_return_block(w.zone, blk);
          } else {
            // Hand half to the zone, take back whatever of it nobody else
            // took meanwhile, then free both halves' pieces.
            own.Give({blk + 16, 4});
            pcpool_zone_free(w.zone, blk + 16, 4);
            PageList frags;
            uint64_t got = pcpool_zone_take_fragments(w.zone, Pfn(blk), &frags.head);
            EXPECT_LE(got, 16u);
            EXPECT_EQ(pcpool_zone_owner(w.zone, Pfn(blk)), static_cast<int>(cpu));
            for (struct page* f : frags.Pages()) {
              own.Take({f, static_cast<unsigned>(page_private(f))});
            }
            for (struct page* f : frags.Pages()) {
              own.Give({f, static_cast<unsigned>(page_private(f))});
            }
            pcpool_zone_free_list(w.zone, &frags.head);
            own.Give({blk, 4});
            pcpool_zone_free(w.zone, blk, 4);
          }
        }
      } else if (r < 85) {
        size_t i = rng() % mine.size();
        Chunk ch = mine[i];
        mine[i] = mine.back();
        mine.pop_back();
        own.Give(ch);
        pcpool_zone_free(w.zone, ch.page, ch.order);
      } else if (r < 93) {
        size_t i = rng() % mine.size();
        Chunk ch = mine[i];
        mine[i] = mine.back();
        mine.pop_back();
        std::lock_guard<std::mutex> g(mail[(cpu + 1) % kCpus].lock);
        mail[(cpu + 1) % kCpus].chunks.push_back(ch);
      } else {
        std::vector<Chunk> got;
        {
          std::lock_guard<std::mutex> g(mail[cpu].lock);
          got.swap(mail[cpu].chunks);
        }
        for (const Chunk& ch : got) {
          own.Give(ch);
          pcpool_zone_free(w.zone, ch.page, ch.order);
        }
      }
      if (op % 701 == 0) {
        pcpool_zone_shrink(w.zone, 1UL << 5);
      }
    }
    for (const Chunk& ch : mine) {
      own.Give(ch);
      pcpool_zone_free(w.zone, ch.page, ch.order);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned cpu = 0; cpu < kCpus; cpu++) {
    threads.emplace_back(worker, cpu);
  }
  for (auto& t : threads) {
    t.join();
  }
  for (auto& m : mail) {
    for (const Chunk& ch : m.chunks) {
      own.Give(ch);
      pcpool_zone_free(w.zone, ch.page, ch.order);
    }
  }
  EXPECT_EQ(own.errors.load(), 0u);
  EXPECT_EQ(own.Out(), 0u);
  EXPECT_LE(w.Totals().blocks_held, 1u) << "whole blocks beyond the reserve went back";
  Counters k = ZoneCounters(w.zone);
  EXPECT_EQ(k["zone_blocks_obtained"] - k["zone_blocks_returned"], k["zone_blocks_held"]);
}

}  // namespace
}  // namespace pcpool_test
