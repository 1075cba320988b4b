// SPDX-License-Identifier: GPL-2.0
// pcpool-core-bench: Google Benchmark of the userspace build of the
// allocator core (kmod/core + the user shim), each benchmark thread a
// "CPU".  classic vs pcpbuddy with remote frees under the owner's lock vs
// pushed on the owner's lock-free list, without and then with the order-0
// front cache (list + front is the module's default), on two patterns:
//   repeat  every thread allocates and frees one page per iteration
//   cross   threads in pairs: the even one allocates and hands the page
//           through a ring to the odd one, which frees it (remote frees)
// Timings are of the shim (pthread mutexes as spin locks), not of the
// kernel; compare the allocators with each other within one run.
// Documentation/pcpbuddy.rst has how to run it.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

extern "C" {
#include "pcpool_classic.h"
#include "pcpool_pcpbuddy.h"
#include "pcpool_user.h"
}

namespace {

constexpr unsigned kMaxCpus = 64;
constexpr unsigned kBlockOrder = 9;  // x86-64 pageblock_order
constexpr unsigned long kBlocks = 1024;
constexpr size_t kRingSize = 1024;  // power of two

enum Mode : int64_t { kClassic, kPcpbuddyLock, kPcpbuddyList, kPcpbuddyFront };

const char* ModeName(int64_t m) {
  switch (m) {
    case kClassic:
      return "classic";
    case kPcpbuddyLock:
      return "pcpbuddy_lock";
    case kPcpbuddyList:
      return "pcpbuddy_list";
    default:
      return "pcpbuddy_list_front";
  }
}

// Single producer, single consumer: the allocating thread of a pair pushes,
// the freeing thread pops.
struct alignas(64) Ring {
  std::atomic<size_t> head{0};
  alignas(64) std::atomic<size_t> tail{0};
  alignas(64) struct page* slot[kRingSize] = {};

  void Push(struct page* p) {
    size_t h = head.load(std::memory_order_relaxed);
    while (h - tail.load(std::memory_order_acquire) == kRingSize) {
      std::this_thread::yield();
    }
    slot[h % kRingSize] = p;
    head.store(h + 1, std::memory_order_release);
  }
  struct page* Pop() {
    size_t t = tail.load(std::memory_order_relaxed);
    while (head.load(std::memory_order_acquire) == t) {
      std::this_thread::yield();
    }
    struct page* p = slot[t % kRingSize];
    tail.store(t + 1, std::memory_order_release);
    return p;
  }
};

// One modelled memory, zone and allocator for one benchmark run; made by
// thread 0 before the timing loop (its start is a barrier for all threads).
class World {
 public:
  World(int64_t mode, unsigned nr_cpus) : mode_(mode) {
    pcpool_user_quiet_warnings(true);
    ok_ = pcpool_user_mem_init(&mem_, 0x40000, kBlocks, kBlockOrder) == 0;
    cfg_.start_pfn = 0x40000;
    cfg_.end_pfn = 0x40000 + (kBlocks << kBlockOrder);
    cfg_.block_order = kBlockOrder;
    cfg_.nr_cpus = nr_cpus;
    cfg_.limit_blocks = kBlocks;
    cfg_.reserve_blocks = 4;
    cfg_.src = pcpool_user_mem_source(&mem_);
    zone_buf_.resize(pcpool_zone_meta_size(&cfg_));
    ok_ = ok_ && pcpool_zone_init(zone_buf_.data(), zone_buf_.size(), &cfg_, &zone_) == 0;
    if (!ok_) {
      return;
    }
    if (mode == kClassic) {
      buf_.resize(pcpool_classic_meta_size(zone_));
      ok_ = pcpool_classic_init(buf_.data(), buf_.size(), zone_, 0, &classic_) == 0;
    } else {
      buf_.resize(pcpool_pcpbuddy_meta_size(zone_));
      // high: 8 blocks per pool, as the module gives a small machine
      ok_ = pcpool_pcpbuddy_init(buf_.data(), buf_.size(), zone_, 4, &pb_) == 0 &&
            pcpool_pcpbuddy_set_high_batch(pb_, 8UL << kBlockOrder, 2UL << kBlockOrder) == 0 &&
            pcpool_pcpbuddy_set_remote_free(pb_, mode == kPcpbuddyLock
                                                     ? PCPOOL_PCPBUDDY_REMOTE_LOCK
                                                     : PCPOOL_PCPBUDDY_REMOTE_LIST) == 0 &&
            // the module's default: one pageblock
            pcpool_pcpbuddy_set_front(pb_, mode == kPcpbuddyFront ? 1UL << kBlockOrder : 0) == 0;
    }
  }
  ~World() {
    if (classic_ != nullptr) {
      pcpool_classic_destroy(classic_);
    }
    if (pb_ != nullptr) {
      pcpool_pcpbuddy_destroy(pb_);
    }
    if (zone_ != nullptr) {
      pcpool_zone_destroy(zone_);
    }
    pcpool_user_mem_destroy(&mem_);
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }

  struct page* Alloc() {
    return mode_ == kClassic ? pcpool_classic_alloc(classic_, 0) : pcpool_pcpbuddy_alloc(pb_, 0);
  }
  void Free(struct page* p) {
    if (mode_ == kClassic) {
      pcpool_classic_free(classic_, p, 0);
    } else {
      pcpool_pcpbuddy_free(pb_, p, 0);
    }
  }

  uint64_t ZoneLocks() {
    uint64_t v = 0;
    pcpool_zone_counters(
        zone_,
        [](void* arg, const char* key, u64 val) {
          if (std::string(key) == "zone_lock_acquisitions") {
            *static_cast<uint64_t*>(arg) = val;
          }
        },
        &v);
    return v;
  }

  Ring ring[kMaxCpus / 2];

 private:
  int64_t mode_;
  bool ok_ = false;
  pcpool_user_mem mem_{};
  pcpool_zone_config cfg_{};
  pcpool_zone* zone_ = nullptr;
  std::vector<char> zone_buf_;
  std::vector<char> buf_;
  pcpool_classic* classic_ = nullptr;
  pcpool_pcpbuddy* pb_ = nullptr;
};

std::unique_ptr<World> g_world;

// Thread 0 builds the world before, and tears it down after, the timing
// loop; the loop's start and end are barriers for all threads.
bool Setup(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_world = std::make_unique<World>(state.range(0), static_cast<unsigned>(state.threads()));
    if (!g_world->ok()) {
      state.SkipWithError("world setup failed");
      return false;
    }
  }
  pcpool_user_set_cpu(static_cast<unsigned>(state.thread_index()));
  return true;
}

// Before the loop: thread 0's read happens while the others wait for it.
uint64_t LocksBefore(benchmark::State& state) {
  return state.thread_index() == 0 ? g_world->ZoneLocks() : 0;
}

void Teardown(benchmark::State& state, uint64_t locks_before) {
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(ModeName(state.range(0)));
  if (state.thread_index() != 0) {
    return;
  }
  state.counters["zone_locks_per_1k_ops"] =
      benchmark::Counter(static_cast<double>(g_world->ZoneLocks() - locks_before) * 1000.0 /
                         (static_cast<double>(state.iterations()) * state.threads()));
  g_world.reset();
}

void BM_Repeat(benchmark::State& state) {
  if (!Setup(state)) {
    return;
  }
  const uint64_t locks = LocksBefore(state);
  uint64_t failures = 0;
  for (auto _ : state) {
    struct page* p = g_world->Alloc();
    benchmark::DoNotOptimize(p);
    if (p != nullptr) {
      g_world->Free(p);
    } else {
      failures++;
    }
  }
  state.counters["alloc_failures"] = static_cast<double>(failures);
  Teardown(state, locks);
}

// Every thread does the same number of iterations, so each pair's
// allocator pushes exactly what its freer pops.
void BM_Cross(benchmark::State& state) {
  if (!Setup(state)) {
    return;
  }
  const uint64_t locks = LocksBefore(state);
  const bool allocator = state.thread_index() % 2 == 0;
  uint64_t failures = 0;
  for (auto _ : state) {
    // g_world exists once the loop runs (thread 0 made it before)
    Ring& r = g_world->ring[state.thread_index() / 2];
    if (allocator) {
      // a failure still pushes, so the freer's count matches
      struct page* p = g_world->Alloc();
      failures += p == nullptr;
      r.Push(p);
    } else {
      struct page* p = r.Pop();
      if (p != nullptr) {
        g_world->Free(p);
      }
    }
  }
  state.counters["alloc_failures"] = static_cast<double>(failures);
  Teardown(state, locks);
}

void Modes(benchmark::internal::Benchmark* b) {
  b->ArgName("mode");
  for (int64_t m : {kClassic, kPcpbuddyLock, kPcpbuddyList, kPcpbuddyFront}) {
    b->Arg(m);
  }
}

BENCHMARK(BM_Repeat)->Apply(Modes)->ThreadRange(1, 16)->UseRealTime();
BENCHMARK(BM_Cross)->Apply(Modes)->ThreadRange(2, 16)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
