// SPDX-License-Identifier: GPL-2.0
// debugfs counters: /sys/kernel/debug/pcpool/<backend>/counters and
// /sys/kernel/debug/pcpool/outstanding, both "key value" lines.
#ifndef PCPOOL_USERSPACE_COUNTERS_H_
#define PCPOOL_USERSPACE_COUNTERS_H_

#include <cstdint>
#include <map>
#include <optional>
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
  std::vector<std::string> bad_lines;  // lines that are not "key value"
};

// One "key value" pair per line: key without blanks, value a decimal u64,
// separated by blanks. Blank lines are skipped; anything else lands in
// bad_lines and is otherwise ignored. A repeated key keeps its last value.
ParsedCounters ParseCounters(std::string_view text);

// after - before per key of @after, modulo 2^64 and read as signed, so a
// gauge that shrank shows a negative delta. A key missing from @before
// counts from 0; one missing from @after is dropped.
CounterDeltas CounterDelta(const Counters& before, const Counters& after);

// Whole file, or nullopt if it cannot be opened (no debugfs, old module).
std::optional<std::string> ReadTextFile(const std::string& path);

// Reads <dir>/<backend>/counters. nullopt when the file is missing; bad
// lines are reported once per path on stderr.
std::optional<Counters> ReadBackendCounters(const std::string& debugfs_dir,
                                            const std::string& backend);

// Reads <dir>/outstanding: backend name -> pages outstanding now.
std::optional<Counters> ReadOutstanding(const std::string& debugfs_dir);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_COUNTERS_H_
