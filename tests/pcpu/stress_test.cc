// SPDX-License-Identifier: GPL-2.0
// Concurrent stress: one thread per "CPU" (more CPUs than host cores),
// local and cross-CPU frees, a reclaimer shrinking, draining, trimming
// and changing the budget and its slack while they run, and a shared
// dual-mode counter upgraded under contention.  Built plain, under
// ASan/UBSan and under TSan; TSan is the point (lock order, racy
// statistics, the counter's publication).
#include <atomic>
#include <mutex>
#include <random>
#include <thread>

#include "pcpu_test.h"

namespace pcpool_pcpu_test {
namespace {

#if defined(PCPOOL_SANITIZER_tsan)
constexpr int kOpsPerThread = 15000;
#else
constexpr int kOpsPerThread = 60000;
#endif
constexpr unsigned kShifts[] = {3, 5, 8, 11};
constexpr size_t kMaxLive = 96;

// Object ownership, independent of the allocator: every 8-byte granule of
// the arena is out at most once.
class Ownership {
 public:
  explicit Ownership(const pcpool_pcpu_user_arena& a)
      : base_(reinterpret_cast<uintptr_t>(a.base)), owned_(a.unit / 8) {}

  void Take(void __percpu* o, unsigned size) {
    for (size_t g = Granule(o); g < Granule(o) + size / 8; g++)
      if (owned_[g].exchange(1) != 0) errors++;
  }
  void Give(void __percpu* o, unsigned size) {
    for (size_t g = Granule(o); g < Granule(o) + size / 8; g++)
      if (owned_[g].exchange(0) != 1) errors++;
  }

  std::atomic<unsigned long> errors{0};

 private:
  size_t Granule(void __percpu* o) const { return (Addr(o) - base_) / 8; }

  uintptr_t base_;
  std::vector<std::atomic<uint8_t>> owned_;
};

// An object in use.  Its owner adds +token to word 0 of CPU @cpu's copy
// and -token to the next CPU's, so the parts keep cancelling (what a
// CONSTRUCTED cache's default check wants), and expects to find exactly
// that on free: anyone else writing it shows.
struct Live {
  unsigned shift;
  void __percpu* obj;
  unsigned cpu;
  int64_t token;
  int64_t base_cpu;   // word 0 of @cpu's copy before the token
  int64_t base_next;  // and of the next CPU's
};

struct Mailbox {
  std::mutex lock;
  std::vector<Live> items;
};

class PcpuStress : public PcpuTest, public ::testing::WithParamInterface<pcpool_pcpu_mode> {};

TEST_P(PcpuStress, ManyCpusLocalCrossAndReclaim) {
  constexpr unsigned kCpus = 8;
  WorldParams p;
  p.nr_cpus = kCpus;
  p.unit = 16UL << 20;
  p.mode = GetParam();
  p.verify = true;
  p.mag_size = 6;  // small: lots of depot and chunk traffic
  p.budget_max = 256UL << 10;
  World w(p);
  Ownership own(w.arena);
  std::vector<Mailbox> mail(kCpus);
  std::atomic<bool> stop{false};
  std::atomic<unsigned long> token_errors{0};
  std::atomic<unsigned long> alloc_failures{0};

  // The lazy counter takes RAW or ZEROED storage: class 3 of the pool in
  // those modes, shared with the workers, else a RAW cache beside it.
  SideCache side(w, 3, PCPOOL_PCPU_RAW);
  pcpool_pcpu_counter shared{};
  ASSERT_EQ(pcpool_pcpu_counter_init(&shared,
                                     p.mode == PCPOOL_PCPU_CONSTRUCTED ? side.cache : w.Cache(3)),
            0);

  auto release = [&](const Live& l) {
    const unsigned next = (l.cpu + 1) % kCpus;
    if (Copy<int64_t>(l.obj, l.cpu)[0] != l.base_cpu + l.token ||
        Copy<int64_t>(l.obj, next)[0] != l.base_next - l.token)
      token_errors++;
    own.Give(l.obj, 1U << l.shift);
    pcpool_pcpu_free(w.Cache(l.shift), l.obj);
  };

  auto worker = [&](unsigned cpu) {
    pcpool_user_set_cpu(cpu);
    std::mt19937 rng(cpu * 7919 + 1);
    std::vector<Live> live;
    int64_t next_token = (static_cast<int64_t>(cpu) << 40) + 1;
    for (int i = 0; i < kOpsPerThread; i++) {
      pcpool_pcpu_counter_add(&shared, 1);
      unsigned r = rng() % 8;
      if (r < 4 && live.size() < kMaxLive) {
        Live l{};
        l.shift = kShifts[rng() % std::size(kShifts)];
        if (pcpool_pcpu_alloc(w.Cache(l.shift), &l.obj)) {
          alloc_failures++;
          continue;
        }
        own.Take(l.obj, 1U << l.shift);
        if (p.mode == PCPOOL_PCPU_ZEROED && !AllZero(l.obj, 1U << l.shift)) token_errors++;
        l.cpu = cpu;
        l.token = next_token++;
        l.base_cpu = Copy<int64_t>(l.obj, cpu)[0];
        l.base_next = Copy<int64_t>(l.obj, (cpu + 1) % kCpus)[0];
        Copy<int64_t>(l.obj, cpu)[0] += l.token;
        Copy<int64_t>(l.obj, (cpu + 1) % kCpus)[0] -= l.token;
        live.push_back(l);
      } else if (r < 6 && !live.empty()) {
        size_t k = rng() % live.size();
        release(live[k]);
        live[k] = live.back();
        live.pop_back();
      } else if (r < 7 && !live.empty()) {
        // free it on another CPU
        Mailbox& m = mail[(cpu + 1 + rng() % (kCpus - 1)) % kCpus];
        std::lock_guard<std::mutex> g(m.lock);
        m.items.push_back(live.back());
        live.pop_back();
      } else {
        std::vector<Live> mine;
        {
          std::lock_guard<std::mutex> g(mail[cpu].lock);
          mine.swap(mail[cpu].items);
        }
        for (const Live& l : mine) release(l);
      }
    }
    for (const Live& l : live) release(l);
  };

  auto reclaimer = [&] {
    pcpool_user_set_cpu(0);
    std::mt19937 rng(99);
    while (!stop.load()) {
      unsigned shift = kShifts[rng() % std::size(kShifts)];
      switch (rng() % 5) {
        case 0:
          if (rng() % 2)
            pcpool_pcpu_shrink(w.Cache(shift), rng() % 2);
          else
            pcpool_pcpu_shrink_nr(w.Cache(shift), rng() % 4);  // the shrinker's
          break;
        case 1:
          pcpool_pcpu_drain_cpu(w.Cache(shift), rng() % kCpus);
          break;
        case 2: {
          pcpool_pcpu_totals t{};
          pcpool_pcpu_get_totals(w.Cache(shift), &t);
          (void)pcpool_pcpu_shrink_count(w.Cache(shift));
          (void)pcpool_pcpu_counter_sum(&shared);
          break;
        }
        case 3:
          // the decay's background trim, the free path's slack changing
          pcpool_pcpu_trim(w.Cache(shift));
          __atomic_store_n(&w.budget.slack_pct, rng() % 2 ? 0U : 100U, __ATOMIC_RELAXED);
          break;
        default:
          __atomic_store_n(&w.budget.max, rng() % 2 ? 0UL : 1UL << 20, __ATOMIC_RELAXED);
          break;
      }
      std::this_thread::yield();
    }
  };

  std::vector<std::thread> threads;
  for (unsigned cpu = 0; cpu < kCpus; cpu++) threads.emplace_back(worker, cpu);
  std::thread rec(reclaimer);
  for (auto& t : threads) t.join();
  stop = true;
  rec.join();
  for (unsigned cpu = 0; cpu < kCpus; cpu++) {
    pcpool_user_set_cpu(cpu);
    for (const Live& l : mail[cpu].items) release(l);
  }
  pcpool_user_set_cpu(0);

  EXPECT_EQ(own.errors.load(), 0u);
  EXPECT_EQ(token_errors.load(), 0u);
  EXPECT_EQ(alloc_failures.load(), 0u);
  EXPECT_EQ(pcpool_pcpu_counter_sum(&shared), int64_t{kCpus} * kOpsPerThread);
  EXPECT_TRUE(pcpool_pcpu_counter_upgraded(&shared));
  EXPECT_EQ(pcpool_pcpu_counter_destroy(&shared), int64_t{kCpus} * kOpsPerThread);
  for (unsigned s : kShifts) {
    pcpool_pcpu_totals t{};
    pcpool_pcpu_get_totals(w.Cache(s), &t);
    EXPECT_EQ(t.st.verify_failures, 0u) << "shift " << s;
    EXPECT_EQ(t.bad_frees, 0u);
    EXPECT_GT(t.st.alloc_depot + t.st.free_depot, 0u) << "shift " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, PcpuStress,
                         ::testing::Values(PCPOOL_PCPU_RAW, PCPOOL_PCPU_ZEROED,
                                           PCPOOL_PCPU_CONSTRUCTED));

}  // namespace
}  // namespace pcpool_pcpu_test
