// SPDX-License-Identifier: GPL-2.0
// Shared helpers for the userspace tests of the allocator core.
#ifndef PCPOOL_TESTS_CORE_CORE_TEST_H_
#define PCPOOL_TESTS_CORE_CORE_TEST_H_

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

extern "C" {
#include "pcpool_classic.h"
#include "pcpool_zone.h"
}
#include "pcpool_user.h"

namespace pcpool_test {

using Counters = std::map<std::string, uint64_t>;

inline void EmitInto(void* arg, const char* key, u64 val) {
  auto* m = static_cast<Counters*>(arg);
  EXPECT_EQ(m->count(key), 0u) << "duplicate key " << key;
  (*m)[key] = val;
}

inline Counters ZoneCounters(pcpool_zone* zone) {
  Counters c;
  pcpool_zone_counters(zone, EmitInto, &c);
  return c;
}

inline Counters ClassicCounters(pcpool_classic* classic) {
  Counters c;
  pcpool_classic_counters(classic, EmitInto, &c);
  return c;
}

struct ZoneParams {
  unsigned order = 4;        // block order
  uint64_t mem_blocks = 16;  // blocks the page source models
  uint64_t limit = 16;       // zone limit in blocks
  uint64_t reserve = 0;      // whole free blocks kept
  unsigned nr_cpus = 2;
  uint64_t base_pfn = 0x40000;  // not 0, to catch pfn arithmetic bugs
  uint64_t span_skip = 0;       // blocks at the start of memory outside the span
  unsigned nr_nodes = 0;        // NUMA nodes the memory is split over (0: none)
};

// Two nodes: 8 blocks, 0-3 on node 0 and 4-7 on node 1, 4 CPUs.
inline ZoneParams TwoNodeParams() {
  ZoneParams p;
  p.nr_cpus = 4;
  p.mem_blocks = 8;
  p.limit = 8;
  p.nr_nodes = 2;
  return p;
}

// The node of @pg's block when every node has @per_node blocks in a row.
inline int NodeOfPage(const ZoneParams& p, const struct page* pg, unsigned per_node = 4) {
  return static_cast<int>(((page_to_pfn(pg) - p.base_pfn) >> p.order) / per_node);
}

// One modelled memory + zone (+ optional classic) per test.
class World {
 public:
  explicit World(const ZoneParams& p) : p_(p) {
    EXPECT_EQ(pcpool_user_mem_init(&mem, p.base_pfn, p.mem_blocks, p.order), 0);
    cfg.start_pfn = p.base_pfn + (p.span_skip << p.order);
    cfg.end_pfn = p.base_pfn + (p.mem_blocks << p.order);
    cfg.block_order = p.order;
    cfg.nr_cpus = p.nr_cpus;
    cfg.limit_blocks = p.limit;
    cfg.reserve_blocks = p.reserve;
    cfg.nr_nodes = p.nr_nodes;
    pcpool_user_mem_set_nodes(&mem, p.nr_nodes);
    cfg.src = pcpool_user_mem_source(&mem);
    size_t need = pcpool_zone_meta_size(&cfg);
    EXPECT_GT(need, 0u);
    zone_buf_.resize(need);
    EXPECT_EQ(pcpool_zone_init(zone_buf_.data(), need, &cfg, &zone), 0);
  }

  ~World() {
    if (zone && !destroyed_) {
      Finish();
    }
    pcpool_user_mem_destroy(&mem);
  }

  World(const World&) = delete;
  World& operator=(const World&) = delete;

  pcpool_classic* AddClassic(unsigned nr_split_cpus = 0) {
    size_t need = pcpool_classic_meta_size(zone);
    classic_buf_.resize(need);
    EXPECT_EQ(pcpool_classic_init(classic_buf_.data(), need, zone, nr_split_cpus, &classic), 0);
    return classic;
  }

  [[nodiscard]] uint64_t BlockPages() const { return 1UL << p_.order; }
  uint64_t SourceHeld() { return pcpool_user_mem_outstanding(&mem); }

  [[nodiscard]] pcpool_zone_totals Totals() const {
    pcpool_zone_totals t{};
    pcpool_zone_get_totals(zone, &t);
    return t;
  }

  // Everything freed by the test: drain, check, destroy, and prove every
  // block went back to the source clean.
  void Finish() {
    destroyed_ = true;
    if (classic) {
      pcpool_classic_destroy(classic);
      EXPECT_EQ(pcpool_classic_pcp_pages(classic), 0u);
      EXPECT_EQ(pcpool_classic_check(classic), 0u);
    }
    EXPECT_EQ(pcpool_zone_check(zone), 0u);
    pcpool_zone_totals t = Totals();
    for (unsigned o = 0; o < p_.order; o++) {
      EXPECT_EQ(t.nr_free[o], 0u) << "order " << o;
    }
    EXPECT_EQ(t.nr_free[p_.order], t.blocks_held) << "only whole blocks left";
    EXPECT_EQ(pcpool_zone_destroy(zone), 0u);
    EXPECT_EQ(pcpool_user_mem_outstanding(&mem), 0u);
    EXPECT_EQ(mem.dirty_frees, 0u);
    EXPECT_EQ(mem.bad_frees, 0u);
  }

  void MarkDestroyed() { destroyed_ = true; }

  pcpool_user_mem mem{};
  pcpool_zone_config cfg{};
  pcpool_zone* zone = nullptr;
  pcpool_classic* classic = nullptr;

 private:
  ZoneParams p_;
  std::vector<char> zone_buf_;
  std::vector<char> classic_buf_;
  bool destroyed_ = false;
};

// Fails the test if the core warned, unless the test said it expects to.
class CoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pcpool_user_set_cpu(0);
    warnings_ = pcpool_user_warnings();
  }
  void TearDown() override {
    EXPECT_EQ(pcpool_user_warnings() - warnings_, expected_warnings_);
    pcpool_user_quiet_warnings(false);
  }
  void ExpectWarnings(uint64_t n) {
    expected_warnings_ = n;
    pcpool_user_quiet_warnings(true);
  }

 private:
  uint64_t warnings_ = 0;
  uint64_t expected_warnings_ = 0;
};

inline uint64_t Pfn(const struct page* page) { return page_to_pfn(page); }

// An empty list head on the stack (the shim has no LIST_HEAD()).
struct PageList {
  PageList() { INIT_LIST_HEAD(&head); }
  PageList(const PageList&) = delete;
  PageList& operator=(const PageList&) = delete;

  // The pages on the list, in order.
  std::vector<struct page*> Pages() {
    std::vector<struct page*> v;
    for (struct list_head* pos = head.next; pos != &head; pos = pos->next) {
      v.push_back(list_entry(pos, struct page, lru));
    }
    return v;
  }

  struct list_head head {};
};

struct Chunk {
  struct page* page;
  unsigned order;
};

// Page ownership, independent of the allocator: every page is out at most
// once, and only what was handed out comes back.
class Ownership {
 public:
  explicit Ownership(World* w) : w_(w), owned_(w->mem.nr_pages) {}

  void Take(const Chunk& c) {
    uint64_t idx = c.page - w_->mem.pages;
    for (uint64_t i = idx; i < idx + (1UL << c.order); i++) {
      if (owned_[i].exchange(1) != 0) {
        errors++;
      }
    }
  }
  void Give(const Chunk& c) {
    uint64_t idx = c.page - w_->mem.pages;
    for (uint64_t i = idx; i < idx + (1UL << c.order); i++) {
      if (owned_[i].exchange(0) != 1) {
        errors++;
      }
    }
  }
  [[nodiscard]] uint64_t Out() const {
    uint64_t n = 0;
    for (const auto& o : owned_) {
      n += o.load();
    }
    return n;
  }

  std::atomic<uint64_t> errors{0};

 private:
  World* w_;
  std::vector<std::atomic<uint8_t>> owned_;
};

// A chunk travelling from the allocating CPU to another one that frees it.
struct Mailbox {
  std::mutex lock;
  std::vector<Chunk> chunks;
};

}  // namespace pcpool_test

#endif  // PCPOOL_TESTS_CORE_CORE_TEST_H_
