// SPDX-License-Identifier: GPL-2.0
#include "stats.h"

#include <algorithm>
#include <array>
#include <span>
#include <string_view>
#include <vector>

namespace pcpool {

std::string_view RoleName(Role r) {
  static constexpr std::array<std::string_view, 4> kNames = {"worker", "producer", "consumer",
                                                             "idle"};
  return kNames.at(static_cast<size_t>(r));
}

std::vector<UnitTotals> SumUnits(std::span<const ThreadResult> threads) {
  std::vector<UnitTotals> units;
  for (const ThreadResult& t : threads) {
    if (t.role == Role::kIdle) {
      continue;
    }
    if (t.unit < 0) {
      continue;
    }
    if (static_cast<size_t>(t.unit) >= units.size()) {
      units.resize(t.unit + 1);
    }
    UnitTotals& u = units[t.unit];
    u.ns += t.ns;
    // A producer's blocks are not pairs until its consumer frees them.
    if (t.role != Role::kProducer) {
      u.ops += t.ops;
    }
  }
  return units;
}

RunStats ComputeStats(std::span<const UnitTotals> units) {
  RunStats s;
  double rate = 0;
  bool any_rate = false;
  for (const UnitTotals& u : units) {
    s.ops += u.ops;
    s.ns += u.ns;
    if (u.ops > 0 && u.ns > 0) {
      rate += static_cast<double>(u.ops) / static_cast<double>(u.ns) * 1e9;
      any_rate = true;
    }
  }
  if (s.ops > 0) {
    s.ns_per_op = static_cast<double>(s.ns) / static_cast<double>(s.ops);
  }
  if (any_rate) {
    s.ops_per_sec = rate;
  }
  return s;
}

size_t RunResult::active_threads() const {
  return std::count_if(threads.begin(), threads.end(),
                       [](const ThreadResult& t) { return t.role != Role::kIdle; });
}

}  // namespace pcpool
