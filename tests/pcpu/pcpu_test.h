// SPDX-License-Identifier: GPL-2.0
// Shared helpers for the userspace tests of the per-CPU cache core.
#ifndef PCPOOL_TESTS_PCPU_PCPU_TEST_H_
#define PCPOOL_TESTS_PCPU_PCPU_TEST_H_

#include <gtest/gtest.h>

#include <climits>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" {
#include "pcpool_pcpu.h"
}
#include "pcpool_pcpu_user.h"
#include "pcpool_user.h"

namespace pcpool_pcpu_test {

struct WorldParams {
  unsigned nr_cpus = 4;
  size_t unit = 8UL << 20;  // per-CPU arena bytes
  pcpool_pcpu_mode mode = PCPOOL_PCPU_RAW;
  bool verify = false;
  unsigned mag_size = 0;
  unsigned hash_bits = 0;
  unsigned long budget_max = ULONG_MAX;
  void (*ctor)(void __percpu* obj, unsigned int size, void* arg) = nullptr;
  bool (*check)(void __percpu* obj, unsigned int size, void* arg) = nullptr;
  void* arg = nullptr;
};

// One modelled per-CPU arena, a budget and a pool (a cache per class).
class World {
 public:
  explicit World(const WorldParams& p) : p_(p) {
    EXPECT_EQ(pcpool_pcpu_user_arena_init(&arena, p.nr_cpus, p.unit), 0);
    budget.max = p.budget_max;
    cfg.nr_cpus = p.nr_cpus;
    cfg.mode = p.mode;
    cfg.verify = p.verify;
    cfg.mag_size = p.mag_size;
    cfg.hash_bits = p.hash_bits;
    cfg.ctor = p.ctor;
    cfg.check = p.check;
    cfg.arg = p.arg;
    cfg.src = pcpool_pcpu_user_source(&arena);
    cfg.budget = &budget;
    size_t need = pcpool_pcpu_pool_meta_size(&cfg);
    EXPECT_GT(need, 0u);
    buf_.resize(need);
    EXPECT_EQ(pcpool_pcpu_pool_init(buf_.data(), need, &cfg, &pool), 0);
  }

  ~World() {
    if (pool && !finished_) Finish();
    pcpool_pcpu_user_arena_destroy(&arena);
  }

  World(const World&) = delete;
  World& operator=(const World&) = delete;

  pcpool_pcpu_cache* Cache(unsigned shift) { return pcpool_pcpu_pool_cache(pool, shift); }

  pcpool_pcpu_totals Totals(unsigned shift) {
    pcpool_pcpu_totals t;
    pcpool_pcpu_get_totals(Cache(shift), &t);
    return t;
  }

  long Cached() { return atomic_long_read(&budget.cached); }

  // Everything freed by the test: check, destroy, and prove every chunk
  // and every metadata block went back to the source.
  void Finish() {
    finished_ = true;
    for (unsigned s = PCPOOL_PCPU_MIN_SHIFT; s <= PCPOOL_PCPU_MAX_SHIFT; s++) {
      EXPECT_EQ(pcpool_pcpu_check(Cache(s)), 0u) << "shift " << s;
      EXPECT_EQ(pcpool_pcpu_in_use(Cache(s)), 0u) << "shift " << s;
    }
    EXPECT_EQ(pcpool_pcpu_pool_destroy(pool), 0u);
    EXPECT_EQ(pcpool_pcpu_user_chunks_out(&arena), 0u);
    EXPECT_EQ(pcpool_pcpu_user_meta_out(&arena), 0u);
    EXPECT_EQ(arena.chunk_bad_frees, 0u);
    EXPECT_EQ(Cached(), 0);
  }

  void MarkFinished() { finished_ = true; }

  pcpool_pcpu_user_arena arena{};
  pcpool_pcpu_budget budget{};
  pcpool_pcpu_cache_config cfg{};
  pcpool_pcpu_pool* pool = nullptr;

 private:
  WorldParams p_;
  std::vector<char> buf_;
  bool finished_ = false;
};

// A second cache of one class over a World's arena and budget, in a mode
// of its own (the lazy counter needs RAW or ZEROED storage).  Declare it
// after the World: it is destroyed first.
class SideCache {
 public:
  SideCache(World& w, unsigned shift, pcpool_pcpu_mode mode) : cfg_(w.cfg) {
    cfg_.shift = shift;
    cfg_.mode = mode;
    cfg_.verify = false;
    cfg_.ctor = nullptr;
    cfg_.check = nullptr;
    size_t need = pcpool_pcpu_cache_meta_size(&cfg_);
    EXPECT_GT(need, 0u);
    buf_.resize(need);
    EXPECT_EQ(pcpool_pcpu_cache_init(buf_.data(), need, &cfg_, &cache), 0);
  }
  ~SideCache() {
    if (!cache) return;
    EXPECT_EQ(pcpool_pcpu_check(cache), 0u);
    EXPECT_EQ(pcpool_pcpu_cache_destroy(cache), 0u);
  }
  SideCache(const SideCache&) = delete;
  SideCache& operator=(const SideCache&) = delete;

  pcpool_pcpu_cache* cache = nullptr;

 private:
  pcpool_pcpu_cache_config cfg_;
  std::vector<char> buf_;
};

// Fails the test if the core warned, unless the test said it expects to.
class PcpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pcpool_user_set_cpu(0);
    warnings_ = pcpool_user_warnings();
  }
  void TearDown() override {
    EXPECT_EQ(pcpool_user_warnings() - warnings_, expected_warnings_);
    pcpool_user_quiet_warnings(false);
    pcpool_user_set_cpu(0);
  }
  void ExpectWarnings(unsigned long n) {
    expected_warnings_ = n;
    pcpool_user_quiet_warnings(true);
  }

 private:
  unsigned long warnings_ = 0;
  unsigned long expected_warnings_ = 0;
};

// CPU @cpu's copy of @obj.
template <typename T = unsigned char>
T* Copy(void __percpu* obj, unsigned cpu) {
  return reinterpret_cast<T*>(per_cpu_ptr(static_cast<char*>(obj), cpu));
}

inline bool AllZero(void __percpu* obj, unsigned size) {
  for (unsigned cpu = 0; cpu < pcpool_pcpu_user_nr_cpus; cpu++)
    if (memchr_inv(Copy(obj, cpu), 0, size)) return false;
  return true;
}

inline uintptr_t Addr(void __percpu* obj) { return reinterpret_cast<uintptr_t>(obj); }

}  // namespace pcpool_pcpu_test

#endif  // PCPOOL_TESTS_PCPU_PCPU_TEST_H_
