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
//   limit   the zone's limit is one block, so one CPU owns all the memory
//           and the others live off steals (pcpbuddy phase 3, classic's
//           drain_all): every thread allocates one page per iteration,
//           holds up to kLimitHold and then frees the oldest kLimitFree,
//           the rest in its last iteration
//   nowait  pcpbuddy and null only: CPU 0's pool is stocked with one block
//           before the loop and every thread allocates with
//           pcpool_pcpbuddy_alloc_nowait() and frees with _free_nowait();
//           every CPU but 0 finds its own pool empty and scans the others
//           (a NULL, a pool lock held, is retried after a yield, counted)
// purger and exit always run a fixed number of iterations per thread
// (they hold pages), and their timings miss the frees after the loop;
// --pcpool_iterations=N fixes the count for every benchmark, which
// bench/instr uses to count instructions per op (frees included) under
// callgrind.
// --pcpool_pin runs thread t on the t-th CPU the process may use (common.h).
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

#include "common.h"

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
constexpr unsigned long kLimitBlocks = 1;  // limit: the zone's block limit
// limit: pages a thread holds at most, and frees at once (oldest first).
// 16 threads hold at most 448 of the block's 512 pages: pcpbuddy never
// fails; classic's lists (4 pages a CPU at 16) take it to its limit there.
constexpr size_t kLimitHold = 28;
constexpr size_t kLimitFree = 14;
constexpr int kNowaitTries = 1000;  // nowait: retries of a NULL, then a failure

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
  World(int64_t mode, unsigned nr_cpus, size_t held_per_thread, unsigned long limit_blocks)
      : held(nr_cpus), mode_(mode), nr_cpus_(nr_cpus) {
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
    cfg_.limit_blocks = limit_blocks;
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
      // high: 8 blocks per pool, as the module gives a small machine;
      // never above the limit (limit: one block, high one block, batch a
      // quarter of it; no pool ever holds more than the block)
      const unsigned long high = std::min(8UL, limit_blocks) << kBlockOrder;
      const unsigned long batch = std::min(2UL << kBlockOrder, high / 4);
      ok_ = pcpool_pcpbuddy_init(buf_.data(), buf_.size(), zone_, 4, &pb_) == 0 &&
            pcpool_pcpbuddy_set_high_batch(pb_, high, batch) == 0 &&
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

  // The interrupt-safe pair (pcpbuddy; null as in Alloc/Free).  Named so
  // that bench/instr's '*World::Alloc*' and '*World::Free*' count them.
  [[gnu::__noinline__]] struct page* AllocNowait() {
    if (mode_ == kNull) {
      return reinterpret_cast<struct page*>(&g_null_page);
    }
    return pcpool_pcpbuddy_alloc_nowait(pb_, 0);
  }
  [[gnu::__noinline__]] void FreeNowait(struct page* p) {
    if (mode_ == kNull) {
      benchmark::DoNotOptimize(p);
      return;
    }
    pcpool_pcpbuddy_free_nowait(pb_, p, 0);
  }

  // Before the loop, uncounted: CPU @cpu allocates @pages order-0 pages
  // and frees them, so its pool owns and holds them (pcpbuddy keeps up to
  // reserve whole blocks; the front cache takes up to a block).
  bool Stock(unsigned cpu, unsigned long pages) {
    if (pb_ == nullptr) {
      return true;
    }
    pcpool_user_set_cpu(cpu);
    std::vector<struct page*> v;
    for (unsigned long i = 0; i < pages; i++) {
      struct page* p = pcpool_pcpbuddy_alloc(pb_, 0);
      if (p == nullptr) {
        break;
      }
      v.push_back(p);
    }
    for (struct page* p : v) {
      pcpool_pcpbuddy_free(pb_, p, 0);
    }
    return v.size() == pages;
  }

  // An allocator counter (pcpool_pcpbuddy_counters or
  // pcpool_classic_counters, summed over CPUs), or one CPU's; 0 if absent.
  uint64_t Counter(const char* key) { return Read(key, -1); }
  uint64_t CpuCounter(unsigned cpu, const char* key) { return Read(key, static_cast<int>(cpu)); }
  unsigned nr_cpus() const { return nr_cpus_; }
  bool pcpbuddy() const { return pb_ != nullptr; }
  bool classic() const { return classic_ != nullptr; }

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
  uint64_t Read(const char* key, int cpu) {
    struct Arg {
      const char* key;
      uint64_t val;
    } arg{key, 0};
    auto emit = [](void* a, const char* k, u64 v) {
      auto* x = static_cast<Arg*>(a);
      if (std::strcmp(k, x->key) == 0) {
        x->val = v;
      }
    };
    if (pb_ != nullptr) {
      if (cpu < 0) {
        pcpool_pcpbuddy_counters(pb_, emit, &arg);
      } else {
        pcpool_pcpbuddy_cpu_counters(pb_, static_cast<unsigned>(cpu), emit, &arg);
      }
    } else if (classic_ != nullptr) {
      if (cpu < 0) {
        pcpool_classic_counters(classic_, emit, &arg);
      } else {
        pcpool_classic_cpu_counters(classic_, static_cast<unsigned>(cpu), emit, &arg);
      }
    }
    return arg.val;
  }

  int64_t mode_;
  unsigned nr_cpus_;
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
bool g_pin = false;  // --pcpool_pin

// Thread 0 builds the world before, and tears it down after, the timing
// loop; the loop's start and end are barriers for all threads.
// limit: the zone's block limit; stock: pages CPU 0's pool holds before
// the loop (World::Stock).
bool Setup(benchmark::State& state, bool needs_held = false, unsigned long limit = kBlocks,
           unsigned long stock = 0) {
  if (state.thread_index() == 0) {
    const auto held = static_cast<size_t>(state.max_iterations);
    g_world = std::make_unique<World>(state.range(0), static_cast<unsigned>(state.threads()),
                                      needs_held ? held : 0, limit);
    if (!g_world->ok() || !g_world->Stock(0, stock)) {
      state.SkipWithError("world setup failed");
      return false;
    }
  }
  pcpool_user_set_cpu(static_cast<unsigned>(state.thread_index()));
  if (g_pin && !pcpool_bench::PinThread(static_cast<unsigned>(state.thread_index()))) {
    state.SkipWithError("cannot pin the thread");
    return false;
  }
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

// Other pools looked at per steal (pcpbuddy_steal_visits, counted by the
// core: every pool a phase-3 or _nowait scan tried, whether it found a
// page or not, per successful steal).  0 without steals.
double ScanPerSteal(World& w) {
  const auto steals = static_cast<double>(w.Counter("pcpbuddy_refill_phase3"));
  return steals > 0 ? static_cast<double>(w.Counter("pcpbuddy_steal_visits")) / steals : 0;
}

// limit, nowait: what the scans did, from the allocator's counters (thread
// 0, after the loop's closing barrier, before Teardown).
void ScanCounters(benchmark::State& state) {
  if (state.thread_index() != 0) {
    return;
  }
  World& w = *g_world;
  const double ops = static_cast<double>(state.iterations()) * state.threads();
  if (w.pcpbuddy()) {
    state.counters["steals_per_op"] =
        static_cast<double>(w.Counter("pcpbuddy_refill_phase3")) / ops;
    state.counters["scan_per_steal"] = ScanPerSteal(w);
    state.counters["nowait_busy_per_1k_ops"] =
        static_cast<double>(w.Counter("pcpbuddy_nowait_busy")) * 1000.0 / ops;
  }
  if (w.classic()) {
    const auto calls = static_cast<double>(w.Counter("classic_drain_all_calls"));
    state.counters["drain_all_per_1k_ops"] = calls * 1000.0 / ops;
    state.counters["drain_all_visited_per_call"] =
        calls > 0 ? static_cast<double>(w.Counter("classic_drain_all_visited")) / calls : 0;
  }
}

// A thread's pages, oldest first: the last kLimitHold allocated, the
// oldest kLimitFree freed when full, all of them in the last iteration
// (the loop's end is a barrier; after it thread 0 tears the world down).
void BM_Limit(benchmark::State& state) {
  if (!Setup(state, false, kLimitBlocks)) {
    return;
  }
  const uint64_t locks = LocksBefore(state);
  struct page* hold[kLimitHold];
  size_t nr = 0;
  int64_t i = 0;
  uint64_t failures = 0;
  for (auto _ : state) {
    // g_world exists once the loop runs (thread 0 made it before)
    struct page* p = g_world->Alloc();
    if (p != nullptr) {
      hold[nr++] = p;
    } else {
      failures++;
    }
    const bool last = ++i == state.max_iterations;
    if (nr == kLimitHold || last) {
      const size_t f = last ? nr : kLimitFree;
      for (size_t j = 0; j < f; j++) {
        g_world->Free(hold[j]);
      }
      std::copy(hold + f, hold + nr, hold);
      nr -= f;
    }
  }
  state.counters["alloc_failures"] = static_cast<double>(failures);
  ScanCounters(state);
  Teardown(state, locks);
}

void BM_Nowait(benchmark::State& state) {
  if (!Setup(state, false, kBlocks, 1UL << kBlockOrder)) {
    return;
  }
  const uint64_t locks = LocksBefore(state);
  uint64_t failures = 0;
  uint64_t retries = 0;
  for (auto _ : state) {
    struct page* p = g_world->AllocNowait();
    // NULL: a pool lock was held (under callgrind, by a thread descheduled
    // holding it); let it run, then try again
    for (int r = 0; p == nullptr && r < kNowaitTries; r++) {
      retries++;
      std::this_thread::yield();
      p = g_world->AllocNowait();
    }
    if (p != nullptr) {
      g_world->FreeNowait(p);
    } else {
      failures++;
    }
  }
  state.counters["alloc_failures"] = static_cast<double>(failures);
  state.counters["nowait_retries"] = static_cast<double>(retries);
  ScanCounters(state);
  Teardown(state, locks);
}

void Modes(benchmark::internal::Benchmark* b) {
  b->ArgName("mode");
  for (int64_t m : {kClassic, kPcpbuddyLock, kPcpbuddyList, kPcpbuddyFront, kNull}) {
    b->Arg(m);
  }
}

// nowait: classic has no _nowait allocation.
void NowaitModes(benchmark::internal::Benchmark* b) {
  b->ArgName("mode");
  for (int64_t m : {kPcpbuddyLock, kPcpbuddyList, kPcpbuddyFront, kNull}) {
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
    void (*modes)(benchmark::internal::Benchmark*) = Modes;
  };
  for (const Spec& s : {Spec{"BM_Repeat", BM_Repeat, 1, false},
                        Spec{"BM_Cross", BM_Cross, 2, false}, Spec{"BM_Purger", BM_Purger, 1, true},
                        Spec{"BM_Exit", BM_Exit, 1, true}, Spec{"BM_Limit", BM_Limit, 1, false},
                        Spec{"BM_Nowait", BM_Nowait, 1, false, NowaitModes}}) {
    auto* b = benchmark::RegisterBenchmark(s.name, s.fn)
                  ->Apply(s.modes)
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

// --pcpool_iterations=N and --pcpool_pin are ours; everything else goes to
// Google Benchmark.
int main(int argc, char** argv) {
  int64_t iterations = 0;
  int out = 1;
  bool bad = false;
  pcpool_bench::AllowedCpus();  // before any thread pins itself
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--pcpool_pin") == 0) {
      g_pin = true;
    } else if (!pcpool_bench::CountFlag(argv[i], "--pcpool_iterations=", 1, INT64_MAX, &iterations,
                                        &bad)) {
      argv[out++] = argv[i];
    }
  }
  if (bad) {
    return 2;
  }
  argc = out;
  Register(iterations);
  return pcpool_bench::RunBenchmarks(argc, argv);
}
