// SPDX-License-Identifier: GPL-2.0
// pcpool-core-bench: Google Benchmark of the userspace build of the
// allocator core (kmod/core + the user shim), each benchmark thread a
// "CPU".  classic vs pcpbuddy with remote frees under the owner's lock vs
// pushed on the owner's lock-free list, without and then with the order-0
// front cache (list + front is the module's default), and null (no
// allocator: the harness's own cost per op), on four patterns:
//   repeat  every thread allocates and frees one page per iteration
//   cross   threads in pairs: the even one allocates and hands the page
//           through a ring to the odd one, which frees it (remote frees)
//   purger  every thread allocates one page per iteration; the first
//           thread of every four frees its group's pages every 256 of its
//           iterations, thread 0 the rest after the loop (the jemalloc
//           pattern)
//   exit    every thread allocates one page per iteration and keeps it;
//           after the loop thread 0 frees them all (an exiting process)
// purger and exit always run a fixed number of iterations per thread
// (they hold pages), and their timings miss the frees after the loop;
// --pcpool_iterations=N fixes the count for every benchmark, which
// bench/instr uses to count instructions per op (frees included) under
// callgrind.
// Timings are of the shim (pthread mutexes as spin locks), not of the
// kernel; compare the allocators with each other within one run.
// Documentation/pcpbuddy.rst has how to run it.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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
constexpr size_t kRingSize = 1024;         // power of two
constexpr unsigned kPurgeGroup = 4;        // one purger per four threads
constexpr int64_t kPurgeEvery = 256;       // a purger's iterations between purges
constexpr int64_t kHeldIterations = 4096;  // purger, exit: pages per thread

enum Mode : int64_t { kClassic, kPcpbuddyLock, kPcpbuddyList, kPcpbuddyFront, kNull };

const char* ModeName(int64_t m) {
  switch (m) {
    case kClassic:
      return "classic";
    case kPcpbuddyLock:
      return "pcpbuddy_lock";
    case kPcpbuddyList:
      return "pcpbuddy_list";
    case kNull:
      return "null";
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

// One thread's pages in allocation order, written by that thread only and
// read by its purger up to head (purger) or after the loop (exit).
struct alignas(64) Held {
  std::atomic<size_t> head{0};
  size_t tail = 0;  // the purger's
  std::vector<struct page*> slot;

  // The owning thread appends; release publishes the slot to the purger.
  void Push(struct page* p) {
    const size_t h = head.load(std::memory_order_relaxed);
    slot[h] = p;
    head.store(h + 1, std::memory_order_release);
  }
};

// null's page: never dereferenced, only handed back.
char g_null_page;

// One modelled memory, zone and allocator for one benchmark run; made by
// thread 0 before the timing loop (its start is a barrier for all threads).
class World {
 public:
  World(int64_t mode, unsigned nr_cpus, size_t held_per_thread) : held(nr_cpus), mode_(mode) {
    for (Held& h : held) {
      h.slot.resize(held_per_thread);
    }
    if (mode == kNull) {
      ok_ = true;
      return;
    }
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

  // Never inlined: bench/instr counts instructions only inside these two
  // (callgrind --toggle-collect), so the count is the allocator's work per
  // op plus this dispatch, without the loop, the rings or the barriers.
  // (__noinline__: the kernel shim defines noinline as a macro.)
  [[gnu::__noinline__]] struct page* Alloc() {
    switch (mode_) {
      case kClassic:
        return pcpool_classic_alloc(classic_, 0);
      case kNull:
        return reinterpret_cast<struct page*>(&g_null_page);
      default:
        return pcpool_pcpbuddy_alloc(pb_, 0);
    }
  }
  [[gnu::__noinline__]] void Free(struct page* p) {
    switch (mode_) {
      case kClassic:
        pcpool_classic_free(classic_, p, 0);
        break;
      case kNull:
        benchmark::DoNotOptimize(p);
        break;
      default:
        pcpool_pcpbuddy_free(pb_, p, 0);
        break;
    }
  }

  uint64_t ZoneLocks() {
    if (zone_ == nullptr) {
      return 0;
    }
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
  std::vector<Held> held;

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
bool Setup(benchmark::State& state, bool needs_held = false) {
  if (state.thread_index() == 0) {
    const auto held = static_cast<size_t>(state.max_iterations);
    g_world = std::make_unique<World>(state.range(0), static_cast<unsigned>(state.threads()),
                                      needs_held ? held : 0);
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

// Frees what thread t's producer has published since the last purge.
void Purge(Held& h) {
  const size_t head = h.head.load(std::memory_order_acquire);
  for (; h.tail < head; h.tail++) {
    if (h.slot[h.tail] != nullptr) {
      g_world->Free(h.slot[h.tail]);
    }
  }
}

void BM_Purger(benchmark::State& state) {
  if (!Setup(state, true)) {
    return;
  }
  const uint64_t locks = LocksBefore(state);
  const auto t = static_cast<unsigned>(state.thread_index());
  const auto n = static_cast<unsigned>(state.threads());
  const bool purger = t % kPurgeGroup == 0;
  const unsigned group_end = std::min(t + kPurgeGroup, n);
  uint64_t failures = 0;
  int64_t i = 0;
  for (auto _ : state) {
    // g_world exists once the loop runs (thread 0 made it before)
    struct page* p = g_world->Alloc();
    failures += p == nullptr;
    g_world->held[t].Push(p);
    if (purger && ++i % kPurgeEvery == 0) {
      for (unsigned j = t; j < group_end; j++) {
        Purge(g_world->held[j]);
      }
    }
  }
  // The loop's end is a barrier: every producer and purger is done, and
  // thread 0 frees what is left before it tears the world down.
  if (t == 0) {
    for (Held& h : g_world->held) {
      Purge(h);
    }
  }
  state.counters["alloc_failures"] = static_cast<double>(failures);
  Teardown(state, locks);
}

void BM_Exit(benchmark::State& state) {
  if (!Setup(state, true)) {
    return;
  }
  const uint64_t locks = LocksBefore(state);
  const auto t = static_cast<size_t>(state.thread_index());
  uint64_t failures = 0;
  for (auto _ : state) {
    struct page* p = g_world->Alloc();
    failures += p == nullptr;
    g_world->held[t].Push(p);
  }
  // The loop's end is a barrier: every thread's pages are held.
  if (t == 0) {
    for (Held& h : g_world->held) {
      Purge(h);
    }
  }
  state.counters["alloc_failures"] = static_cast<double>(failures);
  Teardown(state, locks);
}

void Modes(benchmark::internal::Benchmark* b) {
  b->ArgName("mode");
  for (int64_t m : {kClassic, kPcpbuddyLock, kPcpbuddyList, kPcpbuddyFront, kNull}) {
    b->Arg(m);
  }
}

// iterations > 0: every benchmark runs exactly that many per thread.
void Register(int64_t iterations) {
  struct Spec {
    const char* name;
    void (*fn)(benchmark::State&);
    int min_threads;
    bool held;
  };
  for (const Spec& s :
       {Spec{"BM_Repeat", BM_Repeat, 1, false}, Spec{"BM_Cross", BM_Cross, 2, false},
        Spec{"BM_Purger", BM_Purger, 1, true}, Spec{"BM_Exit", BM_Exit, 1, true}}) {
    auto* b = benchmark::RegisterBenchmark(s.name, s.fn)
                  ->Apply(Modes)
                  ->ThreadRange(s.min_threads, 16)
                  ->UseRealTime();
    if (iterations > 0) {
      b->Iterations(iterations);
    } else if (s.held) {
      b->Iterations(kHeldIterations);
    }
  }
}

}  // namespace

// --pcpool_iterations=N is ours; everything else goes to Google Benchmark.
int main(int argc, char** argv) {
  constexpr const char* kFlag = "--pcpool_iterations=";
  int64_t iterations = 0;
  int out = 1;
  for (int i = 1; i < argc; i++) {
    if (std::strncmp(argv[i], kFlag, std::strlen(kFlag)) == 0) {
      char* end = nullptr;
      iterations = std::strtoll(argv[i] + std::strlen(kFlag), &end, 10);
      if (*end != '\0' || iterations <= 0) {
        std::fprintf(stderr, "%s wants a positive count\n", kFlag);
        return 2;
      }
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
  Register(iterations);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
