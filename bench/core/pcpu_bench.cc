// SPDX-License-Identifier: GPL-2.0
// pcpool-pcpu-bench: the per-CPU cache core (kmod/pcpu + the user shim) in
// the module's PCPU_LIFECYCLE workload (kmod/run_pcpu.c), each benchmark
// thread a "CPU" of a fixed set of possible CPUs (--pcpool_possible, 16 by
// default), so the thread count changes how many CPUs are busy, never how
// many copies an object has.  One iteration is one process:
//   words     an 8-byte object (one counter, like mm_cid) and a 32-byte one
//             (four s64 counters, like rss_stat); raw must zero every
//             possible CPU's copy first; each is updated on --pcpool_batch
//             CPUs (this one and the next possible ones: the harness's
//             default is every CPU); at exit each counter is summed over
//             every possible CPU; constructed then makes the parts cancel
//             with one write per counter; both are freed
//   counters  mm_struct's shape since 6.4: four dual-mode counters
//             (pcpool_pcpu_counter, lazily zeroed) and a 16-byte mm_cid
//             region; on each of the batch CPUs the cid slot is written and
//             every counter updated there (the thread switches its modelled
//             CPU, where the module uses smp_call_on_cpu()); at exit the
//             exact sums; all given back
// Modes: raw, zeroed, constructed (words), counters_raw, counters_zeroed
// (counters over a raw or a zeroed cache, as pcpu-raw and pcpu-zeroed
// make them) and null: words on objects no allocator hands out (two fixed
// slots per thread, a cache line apart from every other thread's), the
// workload's own per-CPU work alone.  The kernel's alloc_percpu() has no
// userspace model, so pcpu-kernel is not here.
// A wrong sum fails the benchmark.  bench/instr counts instructions per
// process (World::Process) under callgrind; --pcpool_iterations=N fixes
// the count.  With --pcpool_lines each run also reports shared_lines:
// cache lines of the per-CPU units that held objects of more than one
// thread, the false sharing an allocator can cause and an instruction
// count cannot see.  Recording them runs inside the timed loop (outside
// the counted call), so runs that are timed leave it off.
// --pcpool_pin runs thread t on the t-th CPU the process may use (common.h).
// Timings are of the shim, not of the kernel.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "common.h"

extern "C" {
#include "pcpool_pcpu.h"
}
#include "pcpool_pcpu_user.h"
#include "pcpool_user.h"

namespace {

constexpr unsigned kMaxThreads = 16;
constexpr size_t kUnit = 1UL << 20;  // per-CPU arena bytes per unit
constexpr unsigned kLine = 64;
// PCPU_LIFECYCLE's sizes (kmod/run_pcpu.c)
constexpr unsigned kSmall = 8;
constexpr unsigned kLarge = 32;
constexpr unsigned kWords = kLarge / sizeof(s64);
constexpr unsigned kRss = 4;
constexpr unsigned kCid = 16;

enum Mode : int64_t { kRaw, kZeroed, kConstructed, kCountersRaw, kCountersZeroed, kNull };

const char* ModeName(int64_t m) {
  static constexpr std::array<const char*, 6> kNames = {
      "raw", "zeroed", "constructed", "counters_raw", "counters_zeroed", "null"};
  return kNames.at(static_cast<size_t>(m));
}

bool Counters(int64_t m) { return m == kCountersRaw || m == kCountersZeroed; }

pcpool_pcpu_mode CacheMode(int64_t m) {
  switch (m) {
    case kZeroed:
    case kCountersZeroed:
      return PCPOOL_PCPU_ZEROED;
    case kConstructed:
      return PCPOOL_PCPU_CONSTRUCTED;
    default:
      return PCPOOL_PCPU_RAW;
  }
}

struct Flags {
  int64_t iterations = 0;  // 0: Google Benchmark decides
  unsigned possible = 16;
  unsigned batch = 0;  // 0: every possible CPU, as the harness's default
  bool pin = false;
  bool lines = false;  // record the objects' lines (shared_lines)
};
Flags g_flags;

// The objects one process used (a few stores inside the counted call;
// their lines are recorded outside it).
struct Objs {
  static constexpr unsigned kMax = 1 + kRss;
  std::array<const void*, kMax> p{};
  std::array<unsigned, kMax> size{};
  unsigned nr = 0;
  void Add(const void* obj, unsigned sz) {
    p[nr] = obj;
    size[nr++] = sz;
  }
};

// The unit-0 cache lines one thread's objects sat on; written by that
// thread inside the loop, read by thread 0 after the loop's closing barrier.
struct alignas(64) Lines {
  std::vector<uintptr_t> v;
  void Add(const void* obj, unsigned size) {
    const auto a = reinterpret_cast<uintptr_t>(obj);
    for (uintptr_t l = a / kLine; l <= (a + size - 1) / kLine; l++) {
      if (std::find(v.begin(), v.end(), l) == v.end()) {
        v.push_back(l);
      }
    }
  }
  void Add(const Objs& o) {
    for (unsigned i = 0; i < o.nr; i++) {
      Add(o.p[i], o.size[i]);
    }
  }
};

// One modelled per-CPU arena and pool for one benchmark run; made by
// thread 0 before the loop (its start is a barrier for all threads).
class World {
 public:
  World(int64_t mode, unsigned threads) : lines(threads), mode_(mode) {
    pcpool_user_quiet_warnings(true);
    ok_ = pcpool_pcpu_user_arena_init(&arena_, g_flags.possible, kUnit) == 0;
    if (!ok_) {
      return;
    }
    arena_ok_ = true;
    budget_.max = ULONG_MAX;
    if (mode == kNull) {
      // a line per thread: the 8-byte object, then the 32-byte one
      struct pcpool_pcpu_source src = pcpool_pcpu_user_source(&arena_);
      null_chunk_ = static_cast<char*>(src.alloc_chunk(src.ctx, PAGE_SIZE, false));
      ok_ = null_chunk_ != nullptr;
      return;
    }
    cfg_.nr_cpus = g_flags.possible;
    cfg_.mode = CacheMode(mode);
    cfg_.src = pcpool_pcpu_user_source(&arena_);
    cfg_.budget = &budget_;
    buf_.resize(pcpool_pcpu_pool_meta_size(&cfg_));
    ok_ = !buf_.empty() && pcpool_pcpu_pool_init(buf_.data(), buf_.size(), &cfg_, &pool_) == 0;
  }
  ~World() {
    if (pool_ != nullptr) {
      pcpool_pcpu_pool_destroy(pool_);
    }
    if (null_chunk_ != nullptr) {
      struct pcpool_pcpu_source src = pcpool_pcpu_user_source(&arena_);
      src.free_chunk(src.ctx, null_chunk_);
    }
    if (arena_ok_) {
      pcpool_pcpu_user_arena_destroy(&arena_);
    }
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  [[nodiscard]] bool ok() const { return ok_; }

  // Never inlined: bench/instr counts instructions only inside it
  // (callgrind --toggle-collect), one process per call.  0, -ENOMEM or,
  // for a wrong sum, -EIO.
  [[gnu::__noinline__]] int Process(const unsigned* cpus, unsigned n, Objs* o) {
    return Run(cpus, n, o);
  }
  // The same, uncounted: a warm-up before the loop, so the count leaves
  // out a thread's first magazine refill and the chunks grown for it.
  int Run(const unsigned* cpus, unsigned n, Objs* o) {
    o->nr = 0;
    return Counters(mode_) ? CountersOne(cpus, n, o) : WordsOne(cpus, n, o);
  }

  // Objects still out of the caches (must be 0 after a run) and the
  // check of every cache's structure.
  unsigned long Leaks() {
    unsigned long n = 0;
    for (unsigned s = PCPOOL_PCPU_MIN_SHIFT; pool_ != nullptr && s <= PCPOOL_PCPU_MAX_SHIFT; s++) {
      n += pcpool_pcpu_in_use(pcpool_pcpu_pool_cache(pool_, s)) +
           pcpool_pcpu_check(pcpool_pcpu_pool_cache(pool_, s));
    }
    return n;
  }

  std::vector<Lines> lines;

 private:
  int Get(unsigned size, void __percpu** obj) {
    if (mode_ == kNull) {
      // the thread's own line of the null chunk
      *obj = null_chunk_ + static_cast<size_t>(pcpool_user_cpu) * kLine +
             (size == kSmall ? 0 : kSmall);
      return 0;
    }
    return pcpool_pcpu_alloc(
        pcpool_pcpu_pool_cache(pool_, static_cast<unsigned>(__builtin_ctz(size))), obj);
  }
  void Put(unsigned size, void __percpu* obj) {
    if (mode_ != kNull) {
      pcpool_pcpu_free(pcpool_pcpu_pool_cache(pool_, static_cast<unsigned>(__builtin_ctz(size))),
                       obj);
    }
  }

  // kmod/run_pcpu.c's pcpool_lifecycle_one().
  int WordsOne(const unsigned* cpus, unsigned n, Objs* l) {
    void __percpu* a = nullptr;
    void __percpu* m = nullptr;
    if (Get(kSmall, &a) != 0) {
      return -ENOMEM;
    }
    if (Get(kLarge, &m) != 0) {
      Put(kSmall, a);
      return -ENOMEM;
    }
    l->Add(a, kSmall);
    l->Add(m, kLarge);
    auto* pa = static_cast<s64*>(a);
    auto* pm0 = static_cast<s64*>(m);
    int cpu = 0;
    if (mode_ == kRaw) {
      for_each_possible_cpu(cpu) {
        std::memset(per_cpu_ptr(pa, cpu), 0, kSmall);
        std::memset(per_cpu_ptr(pm0, cpu), 0, kLarge);
      }
    }
    for (unsigned i = 0; i < n; i++) {
      s64* pm = per_cpu_ptr(pm0, cpus[i]);
      (*per_cpu_ptr(pa, cpus[i]))++;
      for (unsigned w = 0; w < kWords; w++) {
        pm[w] += w + 1;
      }
    }
    s64 sa = 0;
    std::array<s64, kWords> sm{};
    for_each_possible_cpu(cpu) {
      const s64* pm = per_cpu_ptr(pm0, cpu);
      sa += *per_cpu_ptr(pa, cpu);
      for (unsigned w = 0; w < kWords; w++) {
        sm[w] += pm[w];
      }
    }
    bool bad = sa != n;
    for (unsigned w = 0; w < kWords; w++) {
      bad |= sm[w] != static_cast<s64>(n) * (w + 1);
    }
    if (mode_ == kConstructed || mode_ == kNull) {
      // the destructor: one write per counter makes the parts cancel
      s64* pm = per_cpu_ptr(pm0, cpus[0]);
      *per_cpu_ptr(pa, cpus[0]) -= sa;
      for (unsigned w = 0; w < kWords; w++) {
        pm[w] -= sm[w];
      }
    }
    Put(kLarge, m);
    Put(kSmall, a);
    return bad ? -EIO : 0;
  }

  // kmod/run_pcpu.c's pcpool_lc_counters_one() over the dual-mode counter.
  int CountersOne(const unsigned* cpus, unsigned n, Objs* l) {
    void __percpu* cid = nullptr;
    if (Get(kCid, &cid) != 0) {
      return -ENOMEM;
    }
    l->Add(cid, kCid);
    auto* pc = static_cast<s64*>(cid);
    int cpu = 0;
    if (mode_ == kCountersRaw) {
      for_each_possible_cpu(cpu) { std::memset(per_cpu_ptr(pc, cpu), 0, kCid); }
    }
    std::array<pcpool_pcpu_counter, kRss> rss{};
    for (pcpool_pcpu_counter& c : rss) {
      if (pcpool_pcpu_counter_init(&c, pcpool_pcpu_pool_cache(pool_, PCPOOL_PCPU_MIN_SHIFT)) != 0) {
        std::abort();  // a raw or zeroed 8-byte cache: cannot fail
      }
    }
    const unsigned home = pcpool_user_cpu;
    for (unsigned i = 0; i < n; i++) {
      pcpool_user_set_cpu(cpus[i]);  // the process runs there now
      s64* slot = per_cpu_ptr(pc, cpus[i]);
      slot[0] = i + 1;        // mm_cid.time
      slot[1] = cpus[i] + 1;  // mm_cid.cid, 0 is unset
      for (unsigned w = 0; w < kRss; w++) {
        pcpool_pcpu_counter_add(&rss[w], w + 1);
      }
    }
    pcpool_user_set_cpu(home);
    bool bad = false;
    for (unsigned w = 0; w < kRss; w++) {
      bad |= pcpool_pcpu_counter_sum(&rss[w]) != static_cast<s64>(n) * (w + 1);
      if (rss[w].pcpu != nullptr) {
        l->Add(rss[w].pcpu, kSmall);
      }
    }
    for (unsigned i = 0; i < n; i++) {
      bad |= per_cpu_ptr(pc, cpus[i])[1] != cpus[i] + 1;
    }
    for (pcpool_pcpu_counter& c : rss) {
      pcpool_pcpu_counter_destroy(&c);
    }
    Put(kCid, cid);
    return bad ? -EIO : 0;
  }

  int64_t mode_;
  bool ok_ = false;
  bool arena_ok_ = false;
  pcpool_pcpu_user_arena arena_{};
  pcpool_pcpu_budget budget_{};
  pcpool_pcpu_cache_config cfg_{};
  std::vector<char> buf_;
  pcpool_pcpu_pool* pool_ = nullptr;
  char* null_chunk_ = nullptr;
};

std::unique_ptr<World> g_world;

// Lines that held objects of more than one thread.
size_t SharedLines(const World& w) {
  std::map<uintptr_t, std::set<size_t>> owners;
  for (size_t t = 0; t < w.lines.size(); t++) {
    for (uintptr_t l : w.lines[t].v) {
      owners[l].insert(t);
    }
  }
  return static_cast<size_t>(std::count_if(owners.begin(), owners.end(),
                                           [](const auto& o) { return o.second.size() > 1; }));
}

// The CPUs CPU @t's processes run on: its own, then the next ones.
std::vector<unsigned> CpusOf(unsigned t, unsigned batch, unsigned possible) {
  std::vector<unsigned> cpus(batch);
  for (unsigned i = 0; i < batch; i++) {
    cpus[i] = (t + i) % possible;
  }
  return cpus;
}

// Thread 0, before the loop (nothing else touches the world yet): one
// uncounted process as each CPU, so the count leaves out every CPU's first
// magazine refill and the chunks grown for it.
bool WarmUp(World& w, unsigned threads, unsigned batch, unsigned possible) {
  Objs objs;
  bool ok = true;
  for (unsigned t = 0; t < threads && ok; t++) {
    pcpool_user_set_cpu(t);
    const std::vector<unsigned> cpus = CpusOf(t, batch, possible);
    ok = w.Run(cpus.data(), batch, &objs) == 0;
  }
  return ok;
}

void BM_Lifecycle(benchmark::State& state) {
  const auto t = static_cast<unsigned>(state.thread_index());
  const auto threads = static_cast<unsigned>(state.threads());
  const unsigned possible = g_flags.possible;
  const unsigned batch = g_flags.batch == 0 ? possible : g_flags.batch;
  if (t == 0) {
    g_world.reset();
    if (threads <= possible && batch <= possible) {
      g_world = std::make_unique<World>(state.range(0), threads);
    }
    if (g_world == nullptr || !g_world->ok() || !WarmUp(*g_world, threads, batch, possible)) {
      state.SkipWithError("world setup failed (threads and batch must fit the possible CPUs)");
    }
  }
  const std::vector<unsigned> cpus = CpusOf(t, batch, possible);
  pcpool_user_set_cpu(t);
  if (g_flags.pin && !pcpool_bench::PinThread(t)) {
    state.SkipWithError("cannot pin the thread");
  }
  uint64_t failures = 0;
  uint64_t bad = 0;
  Objs objs;
  for (auto _ : state) {
    // g_world exists once the loop runs (thread 0 made it before)
    const int ret = g_world->Process(cpus.data(), batch, &objs);
    failures += ret == -ENOMEM;
    bad += ret == -EIO;
    if (g_flags.lines) {
      g_world->lines[t].Add(objs);
    }
  }
  state.counters["alloc_failures"] = static_cast<double>(failures);
  state.counters["wrong_sums"] = static_cast<double>(bad);
  if (failures + bad != 0) {
    state.SkipWithError("a process failed");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetLabel(ModeName(state.range(0)));
  if (t != 0) {
    return;
  }
  // after the loop's closing barrier: every thread is done
  state.counters["possible"] = possible;
  state.counters["batch"] = batch;
  if (g_flags.lines) {
    state.counters["shared_lines"] = static_cast<double>(SharedLines(*g_world));
  }
  if (g_world->Leaks() != 0) {
    state.SkipWithError("objects left out of the caches, or a cache check failed");
  }
  g_world.reset();
}

void Register() {
  auto* b = benchmark::RegisterBenchmark("BM_Lifecycle", BM_Lifecycle)->ArgName("mode");
  for (int64_t m : {kRaw, kZeroed, kConstructed, kCountersRaw, kCountersZeroed, kNull}) {
    b->Arg(m);
  }
  b->ThreadRange(1, static_cast<int>(kMaxThreads))->UseRealTime();
  if (g_flags.iterations > 0) {
    b->Iterations(g_flags.iterations);
  }
}

}  // namespace

// --pcpool_iterations, --pcpool_possible, --pcpool_batch, --pcpool_pin and
// --pcpool_lines are ours; everything else goes to Google Benchmark.
int main(int argc, char** argv) {
  int out = 1;
  bool bad = false;
  pcpool_bench::AllowedCpus();  // before any thread pins itself
  for (int i = 1; i < argc; i++) {
    int64_t v = 0;
    if (std::strcmp(argv[i], "--pcpool_pin") == 0) {
      g_flags.pin = true;
    } else if (std::strcmp(argv[i], "--pcpool_lines") == 0) {
      g_flags.lines = true;
    } else if (pcpool_bench::CountFlag(argv[i], "--pcpool_iterations=", 1, INT64_MAX, &v, &bad)) {
      g_flags.iterations = v;
    } else if (pcpool_bench::CountFlag(argv[i], "--pcpool_possible=", kMaxThreads,
                                       PCPOOL_PCPU_USER_MAX_CPUS, &v, &bad)) {
      g_flags.possible = static_cast<unsigned>(v);
    } else if (pcpool_bench::CountFlag(argv[i], "--pcpool_batch=", 1, PCPOOL_PCPU_USER_MAX_CPUS, &v,
                                       &bad)) {
      g_flags.batch = static_cast<unsigned>(v);
    } else {
      argv[out++] = argv[i];
    }
  }
  if (!bad && g_flags.batch > g_flags.possible) {
    std::fprintf(stderr, "--pcpool_batch is at most --pcpool_possible (%u)\n", g_flags.possible);
    bad = true;
  }
  if (bad) {
    return 2;
  }
  argc = out;
  Register();
  return pcpool_bench::RunBenchmarks(argc, argv);
}
