// SPDX-License-Identifier: GPL-2.0
// debugfs counters: /sys/kernel/debug/pcpool/<backend>/counters and
// /sys/kernel/debug/pcpool/outstanding, both "key value" lines.
#ifndef PCPOOL_USERSPACE_COUNTERS_H_
#define PCPOOL_USERSPACE_COUNTERS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace pcpool {

inline constexpr const char* kDefaultDebugfsDir = "/sys/kernel/debug/pcpool";

// Key order is the file's sorted order, so reports are stable.
using Counters = std::map<std::string, uint64_t>;
using CounterDeltas = std::map<std::string, int64_t>;

struct ParsedCounters {
  Counters values;
  std::set<std::string> gauges;        // keys whose line carried "gauge"
  std::vector<std::string> bad_lines;  // lines that are not "key value"
};

// One "key value [marker]" line per counter: key without blanks, value a
// decimal u64, an optional marker word, separated by blanks. The marker
// "gauge" puts the key in @gauges; other marker words are ignored, so a
// newer module's markers do not break this parser. Blank lines are
// skipped; anything else lands in bad_lines and is otherwise ignored. A
// repeated key keeps its last value.
ParsedCounters ParseCounters(std::string_view text);

// A level (state such as pages free now), not a monotonic count: its value
// before and after a run is reported, not a delta. Marked by the file, or
// one of the levels Documentation/abi.rst lists, which the module prints
// without the marker.
bool IsGauge(const std::string& key, const std::set<std::string>& marked);

// Before and after values of one gauge.
struct GaugeValues {
  uint64_t before = 0;
  uint64_t after = 0;
};
using Gauges = std::map<std::string, GaugeValues>;

// The gauges of @after (a key missing from @before reads 0 there).
Gauges GaugeChange(const Counters& before, const Counters& after,
                   const std::set<std::string>& marked);

// after - before per key of @after, modulo 2^64 and read as signed. A key
// missing from @before counts from 0; one missing from @after is dropped;
// keys in @skip (the gauges) are left out.
CounterDeltas CounterDelta(const Counters& before, const Counters& after,
                           const std::set<std::string>& skip = {});

// Which counter keys the console table shows (JSON and CSV have them all).
// "default": the keys that matter for each backend kind (zone lock, PCP
// refills and drains, routed frees and steals, cache hits and misses,
// failures); "all"; "none"; or a comma list of keys, each ending in '*'
// to match a prefix.
struct CounterFilter {
  enum class Mode { kDefault, kAll, kNone, kList };
  Mode mode = Mode::kDefault;
  std::vector<std::string> patterns;  // kList

  [[nodiscard]] bool Shows(const std::string& key) const;
};
// nullopt on an empty list or an empty key.
std::optional<CounterFilter> ParseCounterFilter(std::string_view text);

// Whole file, or nullopt if it cannot be opened (no debugfs, old module).
std::optional<std::string> ReadTextFile(const std::string& path);

// Reads <dir>/<backend>/counters. nullopt when the file is missing; bad
// lines are reported once per path on stderr.
std::optional<ParsedCounters> ReadBackendCounters(const std::string& debugfs_dir,
                                                  const std::string& backend);

// Reads <dir>/outstanding: backend name -> pages outstanding now.
std::optional<Counters> ReadOutstanding(const std::string& debugfs_dir);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_COUNTERS_H_
