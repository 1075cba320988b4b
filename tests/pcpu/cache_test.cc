// SPDX-License-Identifier: GPL-2.0
// The per-CPU cache core, single-threaded: size classes, layout, the
// magazine / depot / chunk paths, init modes, the budget, shrinking,
// failure injection and the consistency checker.
#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "pcpu_test.h"

namespace pcpool_pcpu_test {
namespace {

constexpr unsigned kMin = PCPOOL_PCPU_MIN_SHIFT;
constexpr unsigned kMax = PCPOOL_PCPU_MAX_SHIFT;

unsigned PerChunk(unsigned shift) {
  return static_cast<unsigned>(pcpool_pcpu_chunk_size(shift) >> shift);
}

// Objects are aligned to their size up to a page (chunks are page aligned).
uintptr_t ObjAlign(unsigned shift) { return std::min<uintptr_t>(uintptr_t{1} << shift, PAGE_SIZE); }

std::vector<void __percpu*> AllocN(pcpool_pcpu_cache* c, size_t n) {
  std::vector<void __percpu*> v(n);
  for (auto& o : v) EXPECT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  return v;
}

void FreeAll(pcpool_pcpu_cache* c, const std::vector<void __percpu*>& v) {
  for (auto* o : v) pcpool_pcpu_free(c, o);
}

// ---- size classes ----

TEST(PcpuClass, Examples) {
  EXPECT_EQ(pcpool_pcpu_class(1, 1), 3);
  EXPECT_EQ(pcpool_pcpu_class(8, 8), 3);
  EXPECT_EQ(pcpool_pcpu_class(9, 1), 4);
  EXPECT_EQ(pcpool_pcpu_class(8, 16), 4);
  EXPECT_EQ(pcpool_pcpu_class(3, 2048), 11);
  EXPECT_EQ(pcpool_pcpu_class(2048, 1), 11);
  EXPECT_EQ(pcpool_pcpu_class(1025, 2), 11);
  // Up to alloc_percpu()'s 32 KiB.
  EXPECT_EQ(pcpool_pcpu_class(8, 4096), 12);
  EXPECT_EQ(pcpool_pcpu_class(2049, 8), 12);
  EXPECT_EQ(pcpool_pcpu_class(4097, 4096), 13);
  EXPECT_EQ(pcpool_pcpu_class(16385, 8), 15);
  EXPECT_EQ(pcpool_pcpu_class(32768, 4096), 15);
}

TEST(PcpuClass, RejectsBadSizesAndAlignments) {
  EXPECT_EQ(pcpool_pcpu_class(0, 8), -EINVAL);
  EXPECT_EQ(pcpool_pcpu_class(32769, 8), -EINVAL);
  EXPECT_EQ(pcpool_pcpu_class(SIZE_MAX, 8), -EINVAL);
  EXPECT_EQ(pcpool_pcpu_class(8, 0), -EINVAL);
  EXPECT_EQ(pcpool_pcpu_class(8, 3), -EINVAL);
  EXPECT_EQ(pcpool_pcpu_class(8, 24), -EINVAL);
  // alloc_percpu() aligns to a page at most.
  EXPECT_EQ(pcpool_pcpu_class(8, 8192), -EINVAL);
  EXPECT_EQ(pcpool_pcpu_class(32768, 8192), -EINVAL);
}

// Every legal request gets the smallest class that fits it.
TEST(PcpuClass, SmallestFitExhaustive) {
  for (size_t size = 1; size <= 32768; size++) {
    for (size_t align = 1; align <= PAGE_SIZE; align <<= 1) {
      int s = pcpool_pcpu_class(size, align);
      ASSERT_GE(s, 3);
      size_t cls = size_t{1} << s;
      ASSERT_GE(cls, size);
      ASSERT_GE(cls, align);
      if (s > 3) {
        ASSERT_TRUE(cls / 2 < size || cls / 2 < align) << size << " " << align;
      }
    }
  }
}

// ---- configuration ----

class PcpuConfig : public PcpuTest {};

TEST_F(PcpuConfig, RejectsBadConfigs) {
  pcpool_pcpu_user_arena arena{};
  ASSERT_EQ(pcpool_pcpu_user_arena_init(&arena, 4, 1 << 20), 0);
  pcpool_pcpu_budget budget{};
  pcpool_pcpu_cache_config good{};
  good.shift = 6;
  good.nr_cpus = 4;
  good.src = pcpool_pcpu_user_source(&arena);
  good.budget = &budget;
  EXPECT_GT(pcpool_pcpu_cache_meta_size(&good), 0u);

  auto bad = [&](auto mutate) {
    pcpool_pcpu_cache_config c = good;
    mutate(c);
    EXPECT_EQ(pcpool_pcpu_cache_meta_size(&c), 0u);
    std::vector<char> buf(1 << 20);
    pcpool_pcpu_cache* cache = nullptr;
    EXPECT_EQ(pcpool_pcpu_cache_init(buf.data(), buf.size(), &c, &cache), -EINVAL);
  };
  bad([](auto& c) { c.shift = 2; });
  bad([](auto& c) { c.shift = PCPOOL_PCPU_MAX_SHIFT + 1; });
  bad([](auto& c) { c.nr_cpus = 3; });  // fewer than the possible CPUs
  bad([](auto& c) { c.nr_cpus = 0; });
  bad([](auto& c) { c.mode = PCPOOL_PCPU_NR_MODES; });
  bad([](auto& c) { c.mag_size = PCPOOL_PCPU_MAG_MAX + 1; });
  bad([](auto& c) { c.hash_bits = PCPOOL_PCPU_HASH_BITS_MAX + 1; });
  bad([](auto& c) { c.src.alloc_chunk = nullptr; });
  bad([](auto& c) { c.src.meta_free = nullptr; });
  bad([](auto& c) { c.budget = nullptr; });

  // Too small a buffer; any alignment of a big enough one works.
  size_t need = pcpool_pcpu_cache_meta_size(&good);
  std::vector<char> buf(need + 64);
  pcpool_pcpu_cache* cache = nullptr;
  EXPECT_EQ(pcpool_pcpu_cache_init(buf.data(), need - 1, &good, &cache), -EINVAL);
  EXPECT_EQ(pcpool_pcpu_cache_init(buf.data() + 3, need, &good, &cache), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(cache) % PCPOOL_CACHE_BYTES, 0u);
  EXPECT_EQ(cache->size, 64u);
  void __percpu* o = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(cache, &o), 0);
  pcpool_pcpu_free(cache, o);
  EXPECT_EQ(pcpool_pcpu_check(cache), 0u);
  EXPECT_EQ(pcpool_pcpu_cache_destroy(cache), 0u);
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&arena), 0u);
  EXPECT_EQ(pcpool_pcpu_user_meta_out(&arena), 0u);
  pcpool_pcpu_user_arena_destroy(&arena);
}

// ---- layout: real, separate, aligned per-CPU memory ----

class PcpuLayout : public PcpuTest,
                   public ::testing::WithParamInterface<std::tuple<unsigned, pcpool_pcpu_mode>> {};

TEST_P(PcpuLayout, ObjectsAreAlignedDisjointPerCpuMemory) {
  auto [shift, mode] = GetParam();
  WorldParams p;
  p.mode = mode;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(shift);
  const unsigned size = 1U << shift;
  const size_t n = 3 * PerChunk(shift) + 1;  // several chunks

  auto objs = AllocN(c, n);
  std::set<uintptr_t> seen;
  for (auto* o : objs) {
    uintptr_t a = Addr(o);
    EXPECT_EQ(a % ObjAlign(shift), 0u);
    EXPECT_GE(a, reinterpret_cast<uintptr_t>(w.arena.base));
    EXPECT_LT(a + size, reinterpret_cast<uintptr_t>(w.arena.base) + w.arena.unit + 1);
    EXPECT_TRUE(seen.insert(a).second) << "handed out twice";
  }
  // Disjoint: consecutive addresses at least size apart.
  for (auto it = seen.begin(); std::next(it) != seen.end(); ++it)
    EXPECT_GE(*std::next(it) - *it, size);
  // Fresh objects are zero whatever the mode (the source zeroes chunks).
  for (auto* o : objs) EXPECT_TRUE(AllZero(o, size));

  // Every (object, CPU) copy is its own memory.
  for (size_t i = 0; i < n; i++)
    for (unsigned cpu = 0; cpu < p.nr_cpus; cpu++)
      memset(Copy(objs[i], cpu), static_cast<int>((i * 7 + cpu) & 0xff), size);
  for (size_t i = 0; i < n; i++)
    for (unsigned cpu = 0; cpu < p.nr_cpus; cpu++)
      EXPECT_EQ(memchr_inv(Copy(objs[i], cpu), static_cast<int>((i * 7 + cpu) & 0xff), size),
                nullptr);
  // Constructed objects must come back in their constructed state.
  for (auto* o : objs)
    for (unsigned cpu = 0; cpu < p.nr_cpus; cpu++) memset(Copy(o, cpu), 0, size);

  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  EXPECT_EQ(pcpool_pcpu_in_use(c), n);
  FreeAll(c, objs);
  EXPECT_EQ(pcpool_pcpu_in_use(c), 0u);
  auto t = w.Totals(shift);
  EXPECT_EQ(t.chunk_grow, 4u);
  EXPECT_EQ(t.nr_chunks, 4u);
}

// ---- the budget's reclaim hook ----

struct ReclaimState {
  pcpool_pcpu_cache* idle = nullptr;
  int calls = 0;
};
ReclaimState g_reclaim;

// An idle cache holds most of the budget; a second one grows a set of the
// same size.  The grower asks for room for all its chunks, so the idle
// one gives back and the grower keeps its whole set for the next burst.
// (Asking for one chunk's room missed it: the budget fills on free.)
class PcpuBudgetReclaim : public PcpuTest {};

TEST_F(PcpuBudgetReclaim, GrowerGetsRoomForItsWholeSet) {
  WorldParams p;
  const unsigned shift = 6;
  const unsigned long chunk = PCPOOL_PCPU_CHUNK_SIZE * p.nr_cpus;
  const size_t set = 6 * size_t{PerChunk(shift)};
  p.budget_max = 8 * chunk;
  World w(p);
  SideCache idle(w, shift, PCPOOL_PCPU_RAW);
  g_reclaim = {idle.cache, 0};
  w.budget.reclaim = [](pcpool_pcpu_budget*, pcpool_pcpu_cache*, unsigned long) {
    g_reclaim.calls++;
    pcpool_pcpu_shrink(g_reclaim.idle, false);
  };
  FreeAll(idle.cache, AllocN(idle.cache, set));  // idle now caches ~6 chunks

  pcpool_pcpu_cache* c = w.Cache(shift);
  for (int burst = 0; burst < 3; burst++) FreeAll(c, AllocN(c, set));
  EXPECT_GT(g_reclaim.calls, 0);
  // Grown once, kept: the later bursts obtained nothing.
  EXPECT_EQ(w.Totals(shift).chunk_grow, 6u);
  EXPECT_EQ(w.Totals(shift).chunk_shrink, 0u);
  EXPECT_LE(static_cast<unsigned long>(w.Cached()), p.budget_max);
  w.budget.reclaim = nullptr;
}

// ---- the classes of a page and more: chunks of several pages ----

class PcpuBig : public PcpuTest, public ::testing::WithParamInterface<unsigned> {};

TEST_P(PcpuBig, MultiPageChunks) {
  const unsigned shift = GetParam();
  World w(WorldParams{});
  pcpool_pcpu_cache* c = w.Cache(shift);
  const unsigned size = 1U << shift;
  // 4 objects per chunk up to 32 KiB, what alloc_percpu() serves.
  const unsigned long chunk = std::min<unsigned long>(4UL << shift, 32768);
  EXPECT_EQ(pcpool_pcpu_chunk_size(shift), chunk);
  EXPECT_EQ(c->per_chunk, chunk >> shift);

  const size_t n = 2 * PerChunk(shift) + 1;
  auto objs = AllocN(c, n);
  EXPECT_EQ(w.Totals(shift).chunk_grow, 3u);
  EXPECT_EQ(w.arena.chunk_allocs, 3u);
  for (size_t i = 0; i < n; i++) {
    EXPECT_EQ(Addr(objs[i]) % PAGE_SIZE, 0u);
    // Whole copies writable: ASan catches a chunk shorter than its objects.
    for (unsigned cpu = 0; cpu < pcpool_pcpu_user_nr_cpus; cpu++)
      memset(Copy(objs[i], cpu), static_cast<int>(i + 1), size);
  }
  for (size_t i = 0; i < n; i++)
    for (unsigned cpu = 0; cpu < pcpool_pcpu_user_nr_cpus; cpu++)
      EXPECT_EQ(memchr_inv(Copy(objs[i], cpu), static_cast<int>(i + 1), size), nullptr);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  EXPECT_EQ(pcpool_pcpu_in_use(c), n);
  // Back to the right chunk from any slot: every chunk is whole again.
  FreeAll(c, objs);
  EXPECT_EQ(w.Totals(shift).nr_chunks, 3u);
  EXPECT_EQ(pcpool_pcpu_shrink(c, true), 3u);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  EXPECT_EQ(w.Totals(shift).nr_chunks, 0u);
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&w.arena), 0u);
}

// A pointer into the middle of a big object is not an object.
TEST_P(PcpuBig, InteriorPointerIsABadFree) {
  const unsigned shift = GetParam();
  ExpectWarnings(1);
  WorldParams p;
  p.mag_size = 1;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(shift);
  void __percpu* o = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  pcpool_pcpu_free(c, static_cast<char __percpu*>(o) + PAGE_SIZE / 2);
  pcpool_pcpu_drain_cpu(c, 0);
  EXPECT_EQ(w.Totals(shift).bad_frees, 1u);
  pcpool_pcpu_free(c, o);
}

INSTANTIATE_TEST_SUITE_P(PageAndUp, PcpuBig, ::testing::Range(unsigned{PAGE_SHIFT}, kMax + 1));

INSTANTIATE_TEST_SUITE_P(AllClasses, PcpuLayout,
                         ::testing::Combine(::testing::Range(kMin, kMax + 1),
                                            ::testing::Values(PCPOOL_PCPU_RAW, PCPOOL_PCPU_ZEROED,
                                                              PCPOOL_PCPU_CONSTRUCTED)));

// ---- the fast path ----

class PcpuPaths : public PcpuTest {};

// Once warm, alloc+free on one CPU never leaves its magazines: no depot,
// no chunk lock (both only counted under their locks).
TEST_F(PcpuPaths, WarmRepeatStaysInMagazines) {
  World w(WorldParams{});
  pcpool_pcpu_cache* c = w.Cache(3);
  void __percpu* o = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  pcpool_pcpu_free(c, o);
  auto t0 = w.Totals(3);
  for (int i = 0; i < 10000; i++) {
    ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
    pcpool_pcpu_free(c, o);
  }
  auto t1 = w.Totals(3);
  EXPECT_EQ(t1.st.alloc_hits - t0.st.alloc_hits, 10000u);
  EXPECT_EQ(t1.st.free_hits - t0.st.free_hits, 10000u);
  EXPECT_EQ(t1.chunk_refills, t0.chunk_refills);
  EXPECT_EQ(t1.chunk_flushes, t0.chunk_flushes);
  EXPECT_EQ(
      t1.depot_events[PCPOOL_PCPU_DEPOT_FULL_GET] + t1.depot_events[PCPOOL_PCPU_DEPOT_EMPTY_GET],
      t0.depot_events[PCPOOL_PCPU_DEPOT_FULL_GET] + t0.depot_events[PCPOOL_PCPU_DEPOT_EMPTY_GET]);
  EXPECT_EQ(
      t1.depot_events[PCPOOL_PCPU_DEPOT_FULL_PUT] + t1.depot_events[PCPOOL_PCPU_DEPOT_EMPTY_PUT],
      t0.depot_events[PCPOOL_PCPU_DEPOT_FULL_PUT] + t0.depot_events[PCPOOL_PCPU_DEPOT_EMPTY_PUT]);
}

// The first allocation refills a whole magazine from one chunk.
TEST_F(PcpuPaths, RefillTakesABatch) {
  WorldParams p;
  p.mag_size = 16;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(5);
  auto objs = AllocN(c, 16);
  auto t = w.Totals(5);
  EXPECT_EQ(t.st.alloc_refill, 1u);
  EXPECT_EQ(t.st.alloc_hits, 15u);
  EXPECT_EQ(t.chunk_refills, 1u);
  EXPECT_EQ(t.chunk_grow, 1u);
  FreeAll(c, objs);
}

// Bulk: frees overflow into the depot as full magazines, and the next
// bulk allocation is served from them without touching the chunks.
TEST_F(PcpuPaths, BulkGoesThroughTheDepot) {
  WorldParams p;
  p.mag_size = 8;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(4);
  auto objs = AllocN(c, 80);
  FreeAll(c, objs);
  auto t0 = w.Totals(4);
  EXPECT_GT(t0.depot_events[PCPOOL_PCPU_DEPOT_FULL_PUT], 0u);
  EXPECT_EQ(t0.mag_objs + t0.depot_objs, 80u);
  objs = AllocN(c, 80);
  auto t1 = w.Totals(4);
  EXPECT_EQ(t1.chunk_refills, t0.chunk_refills);
  EXPECT_GT(t1.st.alloc_depot, t0.st.alloc_depot);
  EXPECT_EQ(t1.depot_objs, 0u);
  FreeAll(c, objs);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
}

// One CPU allocates, another frees: after a warm-up the magazines circulate
// through the depot (full ones to the allocator, empty ones to the freer)
// and the chunks are no longer touched.
TEST_F(PcpuPaths, CrossCpuFreesCirculateMagazines) {
  WorldParams p;
  p.mag_size = 8;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(3);
  std::vector<void __percpu*> objs;
  auto round = [&] {
    pcpool_user_set_cpu(0);
    objs = AllocN(c, 64);
    pcpool_user_set_cpu(1);
    FreeAll(c, objs);
  };
  for (int i = 0; i < 20; i++) round();
  auto t0 = w.Totals(3);
  for (int i = 0; i < 20; i++) round();
  auto t1 = w.Totals(3);
  EXPECT_EQ(t1.chunk_refills, t0.chunk_refills);
  EXPECT_EQ(t1.chunk_flushes, t0.chunk_flushes);
  EXPECT_EQ(t1.chunk_grow, t0.chunk_grow);
  EXPECT_GT(t1.st.alloc_depot, t0.st.alloc_depot);
  EXPECT_GT(t1.st.free_depot, t0.st.free_depot);
  pcpool_user_set_cpu(0);
}

// Free never allocates: with every metadata allocation failing, frees of
// objects allocated elsewhere still work (by flushing to the chunks).
TEST_F(PcpuPaths, FreeNeverAllocates) {
  WorldParams p;
  p.mag_size = 4;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(6);
  auto objs = AllocN(c, 200);
  pcpool_pcpu_user_meta_fail_after(&w.arena, 0);
  unsigned long attempts = w.arena.meta_attempts;
  pcpool_user_set_cpu(2);
  FreeAll(c, objs);
  EXPECT_EQ(w.arena.meta_attempts, attempts);
  auto t = w.Totals(6);
  EXPECT_GT(t.st.free_flush + t.st.free_direct, 0u);
  EXPECT_EQ(pcpool_pcpu_in_use(c), 0u);
  pcpool_pcpu_user_meta_fail_after(&w.arena, -1);
  pcpool_user_set_cpu(0);
}

// ---- init modes ----

class PcpuModes : public PcpuTest {};

TEST_F(PcpuModes, ZeroedZeroesOnlyDirtyCopiesOnFree) {
  WorldParams p;
  p.mode = PCPOOL_PCPU_ZEROED;
  p.nr_cpus = 8;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(7);
  void __percpu* o = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  memset(Copy(o, 1), 0xaa, 128);
  Copy<uint64_t>(o, 5)[15] = 1;
  pcpool_pcpu_free(c, o);
  EXPECT_EQ(w.Totals(7).st.zeroed_copies, 2u);
  void __percpu* again = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &again), 0);
  EXPECT_EQ(again, o);  // LIFO magazine
  EXPECT_TRUE(AllZero(again, 128));
  // Allocation itself does no per-CPU work.
  EXPECT_EQ(w.Totals(7).st.zeroed_copies, 2u);
  pcpool_pcpu_free(c, again);
  EXPECT_EQ(w.Totals(7).st.zeroed_copies, 2u);
}

// Constructed: state survives free/alloc untouched; verify catches a
// broken promise, counts it and repairs the object.
TEST_F(PcpuModes, ConstructedKeepsStateAndVerifies) {
  WorldParams p;
  p.mode = PCPOOL_PCPU_CONSTRUCTED;
  p.verify = true;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(5);
  void __percpu* o = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  // A counter whose parts cancel: constructed state.
  Copy<int64_t>(o, 0)[1] = 5;
  Copy<int64_t>(o, 2)[1] = -5;
  pcpool_pcpu_free(c, o);
  EXPECT_EQ(w.Totals(5).st.verify_failures, 0u);
  void __percpu* again = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &again), 0);
  ASSERT_EQ(again, o);
  EXPECT_EQ(Copy<int64_t>(again, 0)[1], 5);  // not re-initialised
  EXPECT_EQ(Copy<int64_t>(again, 2)[1], -5);

  // Broken promise: caught, counted, repaired to zero.
  Copy<int64_t>(again, 3)[0] = 1;
  pcpool_pcpu_free(c, again);
  EXPECT_EQ(w.Totals(5).st.verify_failures, 1u);
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  EXPECT_TRUE(AllZero(o, 32));

  // With verify off nothing reads the object on free.
  pcpool_pcpu_set_verify(c, false);
  Copy<int64_t>(o, 1)[3] = 9;
  pcpool_pcpu_free(c, o);
  EXPECT_EQ(w.Totals(5).st.verify_failures, 1u);
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  Copy<int64_t>(o, 1)[3] = 0;
  pcpool_pcpu_free(c, o);

  // Verify back on: the inline free path must notice and check again.
  pcpool_pcpu_set_verify(c, true);
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  Copy<int64_t>(o, 0)[0] = 1;
  pcpool_pcpu_free(c, o);
  EXPECT_EQ(w.Totals(5).st.verify_failures, 2u);
}

struct CtorStats {
  int ctor_calls = 0;
  int check_calls = 0;
};

void MarkCtor(void __percpu* obj, unsigned int size, void* arg) {
  static_cast<CtorStats*>(arg)->ctor_calls++;
  for (unsigned cpu = 0; cpu < pcpool_pcpu_user_nr_cpus; cpu++)
    memset(Copy(obj, cpu), static_cast<int>(0x40 + cpu), size);
}

bool MarkCheck(void __percpu* obj, unsigned int size, void* arg) {
  static_cast<CtorStats*>(arg)->check_calls++;
  for (unsigned cpu = 0; cpu < pcpool_pcpu_user_nr_cpus; cpu++)
    if (memchr_inv(Copy(obj, cpu), static_cast<int>(0x40 + cpu), size)) return false;
  return true;
}

// The constructor runs once per object when its chunk arrives, never on
// allocation; the check runs on free only when verify is on.
TEST_F(PcpuModes, CustomConstructorRunsOncePerObject) {
  CtorStats st;
  WorldParams p;
  p.mode = PCPOOL_PCPU_CONSTRUCTED;
  p.ctor = MarkCtor;
  p.check = MarkCheck;
  p.arg = &st;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(9);
  auto objs = AllocN(c, 3);
  EXPECT_EQ(st.ctor_calls, static_cast<int>(PerChunk(9)));
  for (auto* o : objs) EXPECT_TRUE(MarkCheck(o, 512, &st));
  st.check_calls = 0;
  FreeAll(c, objs);
  EXPECT_EQ(st.check_calls, 0);
  for (int i = 0; i < 100; i++) {
    objs = AllocN(c, 3);
    FreeAll(c, objs);
  }
  EXPECT_EQ(st.ctor_calls, static_cast<int>(PerChunk(9)));

  pcpool_pcpu_set_verify(c, true);
  objs = AllocN(c, 2);
  Copy(objs[0], 2)[100] = 0;  // break one
  FreeAll(c, objs);
  EXPECT_EQ(st.check_calls, 2);
  EXPECT_EQ(w.Totals(9).st.verify_failures, 1u);
  EXPECT_EQ(st.ctor_calls, static_cast<int>(PerChunk(9)) + 1);  // repaired by the ctor
}

TEST_F(PcpuModes, RawLeavesContents) {
  World w(WorldParams{});
  pcpool_pcpu_cache* c = w.Cache(4);
  void __percpu* o = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  Copy<uint64_t>(o, 3)[1] = 0x1234;
  pcpool_pcpu_free(c, o);
  void __percpu* again = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &again), 0);
  ASSERT_EQ(again, o);
  EXPECT_EQ(Copy<uint64_t>(again, 3)[1], 0x1234u);
  pcpool_pcpu_free(c, again);
  EXPECT_EQ(w.Totals(4).st.zeroed_copies, 0u);
}

// ---- budget, shrink, destroy ----

class PcpuReclaim : public PcpuTest {};

// A zero budget caches nothing beyond the per-CPU magazines: the depot
// takes no full magazine and free chunks go back at once.
TEST_F(PcpuReclaim, ZeroBudgetCachesOnlyMagazines) {
  WorldParams p;
  p.budget_max = 0;
  p.mag_size = 8;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(10);  // 4 per chunk
  auto objs = AllocN(c, 100);
  FreeAll(c, objs);
  auto t = w.Totals(10);
  EXPECT_EQ(t.depot_objs, 0u);
  EXPECT_LE(t.mag_objs, 16u);
  // Only chunks pinned by magazine objects may remain.
  EXPECT_LE(t.nr_chunks, t.mag_objs);
  EXPECT_EQ(w.Cached(), static_cast<long>(t.chunk_free_objs * 1024 * 4));
  EXPECT_EQ(pcpool_pcpu_drain_cpu(c, 0), t.mag_objs);
  t = w.Totals(10);
  EXPECT_EQ(t.nr_chunks, 0u);
  EXPECT_EQ(w.Cached(), 0);
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&w.arena), 0u);
}

// With a budget of N bytes, the depot and the entirely free chunks kept
// stay within N; only chunks pinned by cached objects add to it.
TEST_F(PcpuReclaim, BudgetBoundsDepotAndFreeChunks) {
  WorldParams p;
  p.mag_size = 8;
  const unsigned long obj_bytes = 256UL * p.nr_cpus;
  const unsigned long chunk_bytes = PCPOOL_PCPU_CHUNK_SIZE * p.nr_cpus;
  p.budget_max = 3 * chunk_bytes;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(8);
  auto objs = AllocN(c, 20 * size_t{PerChunk(8)});
  FreeAll(c, objs);
  pcpool_pcpu_drain_cpu(c, 0);
  auto t = w.Totals(8);
  EXPECT_LE(t.depot_objs * obj_bytes, p.budget_max);
  EXPECT_LE(t.nr_empty_chunks * chunk_bytes, p.budget_max);
  EXPECT_LE(t.nr_chunks, t.depot_objs + t.nr_empty_chunks);
  EXPECT_GE(t.chunk_shrink, 20u - t.nr_chunks);
  EXPECT_LT(t.nr_chunks, 20u);
  // Raising the bound later is honoured too.
  w.budget.max = ULONG_MAX;
  objs = AllocN(c, 20 * size_t{PerChunk(8)});
  FreeAll(c, objs);
  EXPECT_GE(w.Totals(8).nr_chunks, 20u);
}

// Small magazines, so that most of ten chunks' objects reach the depot.
WorldParams SmallMags() {
  WorldParams p;
  p.mag_size = 4;
  return p;
}

std::vector<void __percpu*> TenChunks(pcpool_pcpu_cache* c) {
  return AllocN(c, 10 * size_t{PerChunk(c->shift)});
}

TEST_F(PcpuReclaim, ShrinkGivesBackDepotAndFreeChunks) {
  World w(SmallMags());
  pcpool_pcpu_cache* c = w.Cache(6);
  auto objs = TenChunks(c);
  // Keep one object: its chunk must stay.
  void __percpu* keep = objs.back();
  objs.pop_back();
  FreeAll(c, objs);
  auto t = w.Totals(6);
  EXPECT_EQ(t.nr_chunks, 10u);
  EXPECT_GT(t.nr_full_mags, 0u);
  EXPECT_GT(pcpool_pcpu_shrink_count(c), 0u);

  unsigned long freed = pcpool_pcpu_shrink(c, false);
  t = w.Totals(6);
  EXPECT_EQ(t.nr_full_mags + t.nr_empty_mags, 0u);
  EXPECT_EQ(t.depot_objs, 0u);
  EXPECT_EQ(freed, 10u - t.nr_chunks);
  EXPECT_GE(t.nr_chunks, 1u);  // the kept object's, and those pinned by CPU 0's magazines
  EXPECT_LE(t.nr_chunks, 1u + t.mag_objs);

  freed += pcpool_pcpu_shrink(c, true);
  t = w.Totals(6);
  EXPECT_EQ(t.nr_chunks, 1u);
  EXPECT_EQ(freed, 9u);
  EXPECT_EQ(t.mag_objs, 0u);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  pcpool_pcpu_free(c, keep);
  EXPECT_EQ(pcpool_pcpu_shrink(c, true), 1u);
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&w.arena), 0u);
  // Only the metadata of nothing is left: magazines freed too.
  EXPECT_EQ(pcpool_pcpu_user_meta_out(&w.arena), 0u);
}

// The shrinker's bounded shrink gives back what it is asked for, free
// chunks first, then depot magazines' objects, and no more.
TEST_F(PcpuReclaim, ShrinkNrGivesBackAtMostNr) {
  World w(SmallMags());
  pcpool_pcpu_cache* c = w.Cache(6);
  FreeAll(c, TenChunks(c));
  auto t = w.Totals(6);
  ASSERT_EQ(t.nr_chunks, 10u);
  EXPECT_EQ(pcpool_pcpu_shrink_nr(c, 0), 0u);
  EXPECT_EQ(pcpool_pcpu_shrink_nr(c, 1), 1u);
  EXPECT_EQ(w.Totals(6).nr_chunks, 9u);
  EXPECT_EQ(pcpool_pcpu_shrink_nr(c, 3), 3u);
  EXPECT_EQ(w.Totals(6).nr_chunks, 6u);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  // asked for more than it holds: everything but the CPU's magazines
  unsigned long rest = pcpool_pcpu_shrink_nr(c, 1000);
  t = w.Totals(6);
  EXPECT_EQ(rest, 6u - t.nr_chunks);
  EXPECT_EQ(t.nr_full_mags, 0u);
  EXPECT_LE(t.nr_chunks, t.mag_objs);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
}

// Draining visits one CPU and moves exactly what its magazines held.
TEST_F(PcpuReclaim, DrainCpuMovesItsMagazines) {
  WorldParams p;
  p.mag_size = 8;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(3);
  pcpool_user_set_cpu(1);
  auto objs = AllocN(c, 5);
  FreeAll(c, objs);
  pcpool_user_set_cpu(0);
  EXPECT_EQ(pcpool_pcpu_drain_cpu(c, 0), 0u);
  auto t = w.Totals(3);
  unsigned long before = t.mag_objs;
  EXPECT_EQ(pcpool_pcpu_drain_cpu(c, 1), before);
  EXPECT_EQ(w.Totals(3).mag_objs, 0u);
}

// CPU hotplug: a dead CPU's magazines go to the depot, where another CPU
// allocates from them without growing; nothing is lost or counted twice,
// and the CPU starts afresh when it comes back.
TEST_F(PcpuReclaim, DeadCpuMagazinesGoToTheDepot) {
  WorldParams p;
  p.mag_size = 8;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(4);
  pcpool_user_set_cpu(1);
  auto objs = AllocN(c, 40);
  std::vector<void __percpu*> keep(objs.begin(), objs.begin() + 10);
  objs.erase(objs.begin(), objs.begin() + 10);
  FreeAll(c, objs);
  pcpool_user_set_cpu(0);
  auto t0 = w.Totals(4);
  const unsigned long held = t0.mag_objs;
  ASSERT_GT(held, 0u);
  const unsigned long in_use = pcpool_pcpu_in_use(c);
  EXPECT_EQ(in_use, 10u);

  EXPECT_EQ(pcpool_pcpu_cpu_dead(c, 1), held);
  auto t1 = w.Totals(4);
  EXPECT_EQ(t1.mag_objs, 0u);
  EXPECT_EQ(t1.depot_objs + t1.chunk_free_objs, t0.depot_objs + t0.chunk_free_objs + held);
  EXPECT_EQ(t1.st.dead_objs, held);
  EXPECT_EQ(pcpool_pcpu_in_use(c), in_use);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  EXPECT_EQ(w.Cached(), static_cast<long>((t1.depot_objs + t1.chunk_free_objs) * 16 * p.nr_cpus));
  // Nothing left there: a second call, or a drain, moves nothing.
  EXPECT_EQ(pcpool_pcpu_cpu_dead(c, 1), 0u);
  EXPECT_EQ(pcpool_pcpu_drain_cpu(c, 1), 0u);

  // CPU 0 is served from the dead CPU's magazines: no chunk traffic.
  auto more = AllocN(c, held);
  auto t2 = w.Totals(4);
  EXPECT_EQ(t2.chunk_grow, t1.chunk_grow);
  EXPECT_GT(t2.st.alloc_depot, t1.st.alloc_depot);

  // Back online, CPU 1 frees what it kept and what CPU 0 took.
  pcpool_user_set_cpu(1);
  FreeAll(c, keep);
  FreeAll(c, more);
  pcpool_user_set_cpu(0);
  EXPECT_EQ(pcpool_pcpu_in_use(c), 0u);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  pcpool_pcpu_shrink(c, true);
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&w.arena), 0u);
}

// Over budget, a dead CPU's objects go straight back to their chunks.
TEST_F(PcpuReclaim, DeadCpuOverBudgetFlushesToChunks) {
  WorldParams p;
  p.mag_size = 8;
  p.budget_max = 0;
  World w(p);
  pcpool_pcpu_cache* c = w.Cache(10);  // 4 per chunk
  pcpool_user_set_cpu(2);
  auto objs = AllocN(c, 12);
  FreeAll(c, objs);
  pcpool_user_set_cpu(0);
  const unsigned long held = w.Totals(10).mag_objs;
  ASSERT_GT(held, 0u);
  EXPECT_EQ(pcpool_pcpu_cpu_dead(c, 2), held);
  auto t = w.Totals(10);
  EXPECT_EQ(t.depot_objs, 0u);
  EXPECT_EQ(t.nr_chunks, 0u);
  EXPECT_EQ(w.Cached(), 0);
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&w.arena), 0u);
}

TEST_F(PcpuReclaim, DestroyReportsLeaksAndStillReturnsChunks) {
  ExpectWarnings(1);
  World w(WorldParams{});
  pcpool_pcpu_cache* c = w.Cache(5);
  auto objs = AllocN(c, 3);
  (void)objs;
  w.MarkFinished();
  EXPECT_EQ(pcpool_pcpu_pool_destroy(w.pool), 3u);
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&w.arena), 0u);
  EXPECT_EQ(pcpool_pcpu_user_meta_out(&w.arena), 0u);
  EXPECT_EQ(w.Cached(), 0);
}

// ---- failures ----

class PcpuFailures : public PcpuTest {};

TEST_F(PcpuFailures, ChunkSourceSaysNo) {
  World w(WorldParams{});
  pcpool_pcpu_cache* c = w.Cache(4);
  pcpool_pcpu_user_chunk_fail_after(&w.arena, 0);
  void __percpu* o = nullptr;
  EXPECT_EQ(pcpool_pcpu_alloc(c, &o), -ENOMEM);
  EXPECT_EQ(w.Totals(4).chunk_grow_failed, 1u);
  EXPECT_EQ(w.Totals(4).st.alloc_failed, 1u);
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&w.arena), 0u);
  pcpool_pcpu_user_chunk_fail_after(&w.arena, -1);
  EXPECT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  pcpool_pcpu_free(c, o);
}

// GFP_NOWAIT: grows without taking a path that may sleep (might_sleep()
// warns inside the pinned section), and a refusal is a clean -ENOMEM:
// counted, nothing held, the cache consistent, sleeping allocation fine.
TEST_F(PcpuFailures, NowaitNeverSleepsAndFailsCleanly) {
  World w(WorldParams{});
  pcpool_pcpu_cache* c = w.Cache(5);
  std::vector<void __percpu*> objs;
  void __percpu* o;
  pcpool_pcpu_user_atomic++;
  for (int i = 0; i < 300; i++) {  // 300 x 32 B: several chunks
    ASSERT_EQ(pcpool_pcpu_alloc_nowait(c, &o), 0);
    objs.push_back(o);
  }
  EXPECT_GT(w.arena.chunk_nowait, 2u);
  EXPECT_GT(w.arena.meta_nowait, 0u);
  w.arena.nowait_fail = true;
  int ret;
  while ((ret = pcpool_pcpu_alloc_nowait(c, &o)) == 0) objs.push_back(o);
  pcpool_pcpu_user_atomic--;
  EXPECT_EQ(ret, -ENOMEM);
  EXPECT_GT(w.Totals(5).st.alloc_failed, 0u);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  EXPECT_EQ(pcpool_pcpu_in_use(c), objs.size());
  w.arena.nowait_fail = false;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  objs.push_back(o);
  for (void __percpu* x : objs) pcpool_pcpu_free(c, x);
}

TEST_F(PcpuFailures, MetadataSaysNo) {
  World w(WorldParams{});
  pcpool_pcpu_cache* c = w.Cache(4);
  void __percpu* o = nullptr;
  // No magazine and no chunk descriptor: nothing can be had.
  pcpool_pcpu_user_meta_fail_after(&w.arena, 0);
  EXPECT_EQ(pcpool_pcpu_alloc(c, &o), -ENOMEM);
  pcpool_pcpu_user_meta_fail_after(&w.arena, -1);
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&w.arena), 0u);
  // Only the next attempt (the magazine) fails; the chunk descriptor
  // works: one object, nothing cached.
  pcpool_pcpu_user_meta_fail_every(&w.arena, w.arena.meta_attempts + 1);
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  pcpool_pcpu_user_meta_fail_every(&w.arena, 0);
  auto t = w.Totals(4);
  EXPECT_EQ(t.mag_objs, 0u);
  EXPECT_EQ(t.nr_chunks, 1u);
  pcpool_pcpu_free(c, o);  // no magazine anywhere: straight to the chunk
  EXPECT_EQ(w.Totals(4).st.free_direct, 1u);
}

// Random traffic with both sources failing now and then: every call either
// works or says -ENOMEM, and nothing leaks or goes inconsistent.
TEST_F(PcpuFailures, RandomFailuresNeverLeak) {
  WorldParams p;
  p.mag_size = 4;
  p.budget_max = 64UL << 10;
  World w(p);
  pcpool_pcpu_user_chunk_fail_every(&w.arena, 3);
  pcpool_pcpu_user_meta_fail_every(&w.arena, 5);
  std::mt19937 rng(42);
  std::vector<std::pair<unsigned, void __percpu*>> live;
  unsigned long failures = 0, allocs_freed = 0;
  for (int i = 0; i < 20000; i++) {
    pcpool_user_set_cpu(rng() % p.nr_cpus);
    if (live.empty() || rng() % 3 != 0) {
      unsigned shift = kMin + rng() % (kMax - kMin + 1);
      void __percpu* o = nullptr;
      int ret = pcpool_pcpu_alloc(w.Cache(shift), &o);
      if (ret) {
        ASSERT_EQ(ret, -ENOMEM);
        failures++;
      } else {
        live.emplace_back(shift, o);
      }
    } else {
      size_t k = rng() % live.size();
      pcpool_pcpu_free(w.Cache(live[k].first), live[k].second);
      allocs_freed++;
      live[k] = live.back();
      live.pop_back();
    }
    if (i % 5000 == 4999)
      for (unsigned s = kMin; s <= kMax; s++) pcpool_pcpu_shrink(w.Cache(s), (i / 5000) % 2);
  }
  EXPECT_GT(failures, 0u);
  // Every call is a hit, a miss or a failure: the module's request counts.
  unsigned long failed = 0, requests = 0;
  for (unsigned s = kMin; s <= kMax; s++) {
    auto t = w.Totals(s);
    failed += t.st.alloc_failed;
    requests += t.st.alloc_hits + t.st.alloc_depot + t.st.alloc_refill + t.st.alloc_failed;
  }
  EXPECT_EQ(failed, failures);
  EXPECT_EQ(requests, live.size() + failures + allocs_freed);
  for (auto& [shift, o] : live) pcpool_pcpu_free(w.Cache(shift), o);
  pcpool_pcpu_user_chunk_fail_every(&w.arena, 0);
  pcpool_pcpu_user_meta_fail_every(&w.arena, 0);
}

// ---- caller bugs are caught at the chunk layer ----

class PcpuBugs : public PcpuTest {};

TEST_F(PcpuBugs, ForeignObjectIsRefused) {
  ExpectWarnings(2);  // the refused free, and cache 5's "leak" at destroy
  World w(WorldParams{});
  void __percpu* mine = nullptr;
  void __percpu* foreign = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(w.Cache(4), &mine), 0);
  ASSERT_EQ(pcpool_pcpu_alloc(w.Cache(5), &foreign), 0);
  pcpool_pcpu_free(w.Cache(4), foreign);  // wrong cache
  pcpool_pcpu_free(w.Cache(4), mine);
  pcpool_pcpu_drain_cpu(w.Cache(4), 0);  // the flush finds it
  EXPECT_EQ(w.Totals(4).bad_frees, 1u);
  // The foreign object is lost to its cache; account for it by hand.
  w.MarkFinished();
  EXPECT_EQ(pcpool_pcpu_cache_destroy(w.Cache(4)), 0u);
  EXPECT_EQ(pcpool_pcpu_cache_destroy(w.Cache(5)), 1u);
  for (unsigned s = kMin; s <= kMax; s++)
    if (s != 4 && s != 5) {
      EXPECT_EQ(pcpool_pcpu_cache_destroy(w.Cache(s)), 0u);
    }
  EXPECT_EQ(pcpool_pcpu_user_chunks_out(&w.arena), 0u);
}

TEST_F(PcpuBugs, DoubleFreeIsRefusedAtFlush) {
  ExpectWarnings(1);
  World w(WorldParams{});
  pcpool_pcpu_cache* c = w.Cache(3);
  void __percpu* o = nullptr;
  void __percpu* other = nullptr;
  ASSERT_EQ(pcpool_pcpu_alloc(c, &o), 0);
  ASSERT_EQ(pcpool_pcpu_alloc(c, &other), 0);
  pcpool_pcpu_free(c, o);
  pcpool_pcpu_free(c, o);
  EXPECT_GT(pcpool_pcpu_check(c), 0u);  // the checker sees the duplicate
  pcpool_pcpu_drain_cpu(c, 0);
  EXPECT_EQ(w.Totals(3).bad_frees, 1u);
  pcpool_pcpu_free(c, other);
}

TEST_F(PcpuBugs, CheckerSeesCorruption) {
  World w(WorldParams{});
  pcpool_pcpu_cache* c = w.Cache(6);
  auto objs = AllocN(c, 10);
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  c->chunk_free_objs++;
  EXPECT_GT(pcpool_pcpu_check(c), 0u);
  c->chunk_free_objs--;
  EXPECT_EQ(pcpool_pcpu_check(c), 0u);
  FreeAll(c, objs);
}

// ---- pools ----

TEST_F(PcpuPaths, PoolServesEveryClass) {
  World w(WorldParams{});
  std::map<unsigned, std::vector<void __percpu*>> by;
  std::mt19937 rng(7);
  for (int i = 0; i < 3000; i++) {
    size_t size = 1 + rng() % 1024;
    size_t align = size_t{2} << (rng() % 11);
    int shift = pcpool_pcpu_class(size, align);
    ASSERT_GE(shift, 3);
    void __percpu* o = nullptr;
    ASSERT_EQ(pcpool_pcpu_alloc(pcpool_pcpu_pool_cache(w.pool, shift), &o), 0);
    EXPECT_EQ(Addr(o) % align, 0u);
    by[shift].push_back(o);
  }
  for (auto& [shift, v] : by) FreeAll(w.Cache(shift), v);
}

#if defined(PCPOOL_SANITIZER_asan)
// The core poisons what it caches: touching a freed object is reported.
TEST(PcpuAsanDeathTest, TouchingACachedObjectIsReported) {
  EXPECT_DEATH(
      {
        World w(WorldParams{});
        void __percpu* o = nullptr;
        if (pcpool_pcpu_alloc(w.Cache(5), &o) == 0) {
          pcpool_pcpu_free(w.Cache(5), o);
          Copy<int64_t>(o, 2)[1] = 1;
        }
      },
      "use-after-poison");
}
#endif

}  // namespace
}  // namespace pcpool_pcpu_test
