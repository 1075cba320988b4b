// SPDX-License-Identifier: GPL-2.0
// Helpers for the pcpbuddy tests: a World with a pcpbuddy on its zone.
#ifndef PCPOOL_TESTS_CORE_PCPBUDDY_TEST_H_
#define PCPOOL_TESTS_CORE_PCPBUDDY_TEST_H_

#include <vector>

#include "core_test.h"

extern "C" {
#include "pcpool_pcpbuddy.h"
}

namespace pcpool_test {

inline Counters PbCounters(pcpool_pcpbuddy* pb) {
  Counters c;
  pcpool_pcpbuddy_counters(pb, EmitInto, &c);
  return c;
}

inline Counters PbCpuCounters(pcpool_pcpbuddy* pb, unsigned cpu) {
  Counters c;
  pcpool_pcpbuddy_cpu_counters(pb, cpu, EmitInto, &c);
  return c;
}

// @n order-0 pages allocated on @cpu (which stays current).
inline std::vector<struct page*> AllocOn(pcpool_pcpbuddy* pb, unsigned cpu, int n) {
  std::vector<struct page*> v;
  pcpool_user_set_cpu(cpu);
  for (int i = 0; i < n; i++) {
    struct page* pg = pcpool_pcpbuddy_alloc(pb, 0);
    EXPECT_NE(pg, nullptr);
    v.push_back(pg);
  }
  return v;
}

// Order-0 pages freed on @cpu (which stays current).
inline void FreeOn(pcpool_pcpbuddy* pb, unsigned cpu, const std::vector<struct page*>& v) {
  pcpool_user_set_cpu(cpu);
  for (struct page* pg : v) {
    pcpool_pcpbuddy_free(pb, pg, 0);
  }
}

// A World whose zone carries a pcpbuddy; Finish() drains it first.
class PbWorld {
 public:
  PbWorld(const ZoneParams& p, unsigned long pool_reserve) : w(p), p_(p) {
    size_t need = pcpool_pcpbuddy_meta_size(w.zone);
    EXPECT_GT(need, 0u);
    buf_.resize(need);
    EXPECT_EQ(pcpool_pcpbuddy_init(buf_.data(), need, w.zone, pool_reserve, &pb), 0);
  }
  ~PbWorld() {
    if (!finished_) {
      Finish();
    }
  }
  PbWorld(const PbWorld&) = delete;
  PbWorld& operator=(const PbWorld&) = delete;

  // Exact accounting: held blocks = zone free + pool free + @out pages.
  void ExpectExact(uint64_t out) {
    EXPECT_EQ(pcpool_pcpbuddy_check(pb), 0u);
    pcpool_zone_totals t = w.Totals();
    EXPECT_EQ(t.blocks_held << p_.order, t.free_pages + pcpool_pcpbuddy_pool_pages(pb) + out);
  }

  void Finish() {
    finished_ = true;
    ExpectExact(0);
    pcpool_pcpbuddy_destroy(pb);
    EXPECT_EQ(pcpool_pcpbuddy_pool_pages(pb), 0u);
    EXPECT_EQ(pcpool_pcpbuddy_check(pb), 0u);
    EXPECT_EQ(PbCounters(pb)["pcpbuddy_blocks_owned"], 0u);
    w.Finish();
  }

  World w;
  pcpool_pcpbuddy* pb = nullptr;

 private:
  ZoneParams p_;
  std::vector<char> buf_;
  bool finished_ = false;
};

}  // namespace pcpool_test

#endif  // PCPOOL_TESTS_CORE_PCPBUDDY_TEST_H_
