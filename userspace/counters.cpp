// SPDX-License-Identifier: GPL-2.0
#include "counters.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

namespace pcpool {
namespace {

constexpr std::string_view kBlanks = " \t\r";

std::string_view Trim(std::string_view s) {
  const size_t first = s.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(kBlanks) - first + 1);
}

bool ParseLine(std::string_view line, std::string* key, uint64_t* value, std::string* marker) {
  const size_t gap = line.find_first_of(kBlanks);
  if (gap == std::string_view::npos) {
    return false;
  }
  std::string_view num = Trim(line.substr(gap));
  if (const size_t end = num.find_first_of(kBlanks); end != std::string_view::npos) {
    // A marker is one lower-case word, so "two 1 2" stays a bad line.
    const std::string_view word = Trim(num.substr(end));
    if (word.empty() ||
        word.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string_view::npos) {
      return false;
    }
    *marker = std::string(word);
    num = num.substr(0, end);
  }
  if (num.empty()) {
    return false;
  }
  const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), *value);
  if (ec != std::errc() || ptr != num.data() + num.size()) {
    return false;
  }
  *key = std::string(line.substr(0, gap));
  return true;
}

std::optional<ParsedCounters> ReadCounterFile(const std::string& path) {
  std::optional<std::string> text = ReadTextFile(path);
  if (!text) {
    return std::nullopt;
  }
  ParsedCounters parsed = ParseCounters(*text);
  if (!parsed.bad_lines.empty()) {
    static std::mutex lock;
    static std::set<std::string> warned;
    const std::lock_guard<std::mutex> guard(lock);
    if (warned.insert(path).second) {
      std::fprintf(stderr,
                   "pcpool-bench: %s: ignoring %zu line(s) not of the form 'key value', "
                   "first: '%s'\n",
                   path.c_str(), parsed.bad_lines.size(), parsed.bad_lines.front().c_str());
    }
  }
  return parsed;
}

// Levels the module prints without a marker (Documentation/abi.rst).
constexpr std::string_view kGaugeKeys[] = {
    "zone_blocks_held",
    "zone_free_pages",
    "classic_pcp_pages",
    "classic_high",
    "classic_batch",
    "pcpbuddy_pool_pages",
    "pcpbuddy_blocks_owned",
    "pcpbuddy_high",
    "pcpbuddy_batch",
    "pcpbuddy_reserve",
    "pcpbuddy_remote_pages",
    "pcpbuddy_remote_list",
    "pcpbuddy_front_pages",
    "pcpbuddy_front_high",
    "depot_full_mags",
    "depot_empty_mags",
    "chunks",
    "chunks_vmalloc",
    "bytes_chunks",
    "bytes_cached",
    "bytes_magazines",
    "budget_cached_bytes",
    "budget_max_bytes",
    "reclaimable_pages",
};
constexpr std::string_view kGaugePrefixes[] = {"zone_free_order_"};

// What the console shows by default: the keys that tell the designs apart.
// The per-order and per-size families have lines of their own where they
// matter (exit), the generic counts restate the operation count.
constexpr std::string_view kDefaultShown[] = {
    // every backend
    "alloc_failures",
    // the zone (classic, pcpbuddy)
    "zone_lock_acquisitions",
    "zone_lock_contended",
    "zone_lock_hold_ns",
    "zone_pages_moved",
    "zone_merges",
    "zone_blocks_obtained",
    "zone_blocks_returned",
    "zone_free_pages",
    "zone_blocks_held",
    // classic PCP
    "classic_refills",
    "classic_drains",
    "classic_direct_allocs",
    "classic_direct_frees",
    "classic_pcp_busy",
    "classic_drain_all_calls",
    "classic_pcp_pages",
    // pcpbuddy: routed frees, steals, refill phases
    "pcpbuddy_remote_frees",
    "pcpbuddy_loose_frees",
    "pcpbuddy_steal_pages",
    "pcpbuddy_refill_phase0",
    "pcpbuddy_refill_phase2",
    "pcpbuddy_refill_phase3",
    "pcpbuddy_front_allocs",
    "pcpbuddy_front_flushes",
    "pcpbuddy_drains",
    "pcpbuddy_drain_all_calls",
    "pcpbuddy_blocks_claimed",
    "pcpbuddy_blocks_returned",
    "pcpbuddy_pool_pages",
    "pcpbuddy_blocks_owned",
    // per-CPU object caches
    "alloc_hits",
    "alloc_misses",
    "free_hits",
    "free_misses",
    "chunk_grow",
    "chunk_refills",
    "chunk_flushes",
    "bytes_cached",
    "chunks",
    "chunks_vmalloc",
};

bool Matches(std::string_view pattern, std::string_view key) {
  if (pattern.ends_with('*')) {
    return key.starts_with(pattern.substr(0, pattern.size() - 1));
  }
  return key == pattern;
}

}  // namespace

ParsedCounters ParseCounters(std::string_view text) {
  ParsedCounters out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    const std::string_view line = Trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) {
      continue;
    }
    std::string key;
    std::string marker;
    uint64_t value = 0;
    if (ParseLine(line, &key, &value, &marker)) {
      out.values[key] = value;
      if (marker == "gauge") {
        out.gauges.insert(key);
      }
    } else {
      out.bad_lines.emplace_back(line);
    }
  }
  return out;
}

bool CounterFilter::Shows(const std::string& key) const {
  switch (mode) {
    case Mode::kAll:
      return true;
    case Mode::kNone:
      return false;
    case Mode::kDefault:
      return std::ranges::any_of(kDefaultShown,
                                 [&](std::string_view k) { return Matches(k, key); });
    case Mode::kList:
      return std::ranges::any_of(patterns, [&](const std::string& p) { return Matches(p, key); });
  }
  return false;
}

std::optional<CounterFilter> ParseCounterFilter(std::string_view text) {
  CounterFilter f;
  if (text == "default") {
    return f;
  }
  if (text == "all" || text == "none") {
    f.mode = text == "all" ? CounterFilter::Mode::kAll : CounterFilter::Mode::kNone;
    return f;
  }
  f.mode = CounterFilter::Mode::kList;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    if (item.empty() || item == "*") {
      return std::nullopt;
    }
    f.patterns.emplace_back(item);
    if (comma == std::string_view::npos) {
      return f;
    }
    text.remove_prefix(comma + 1);
  }
}

bool IsGauge(const std::string& key, const std::set<std::string>& marked) {
  return marked.contains(key) ||
         std::ranges::any_of(kGaugeKeys, [&](std::string_view g) { return key == g; }) ||
         std::ranges::any_of(kGaugePrefixes,
                             [&](std::string_view p) { return key.starts_with(p); });
}

Gauges GaugeChange(const Counters& before, const Counters& after,
                   const std::set<std::string>& marked) {
  Gauges out;
  for (const auto& [key, value] : after) {
    if (IsGauge(key, marked)) {
      const auto it = before.find(key);
      out[key] = GaugeValues{it == before.end() ? 0 : it->second, value};
    }
  }
  return out;
}

CounterDeltas CounterDelta(const Counters& before, const Counters& after,
                           const std::set<std::string>& skip) {
  CounterDeltas deltas;
  for (const auto& [key, value] : after) {
    if (skip.contains(key)) {
      continue;
    }
    const auto it = before.find(key);
    const uint64_t base = it == before.end() ? 0 : it->second;
    deltas[key] = static_cast<int64_t>(value - base);
  }
  return deltas;
}

std::optional<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return std::nullopt;
  }
  return std::move(text).str();
}

std::optional<ParsedCounters> ReadBackendCounters(const std::string& debugfs_dir,
                                                  const std::string& backend) {
  return ReadCounterFile(debugfs_dir + "/" + backend + "/counters");
}

std::optional<Counters> ReadOutstanding(const std::string& debugfs_dir) {
  std::optional<ParsedCounters> parsed = ReadCounterFile(debugfs_dir + "/outstanding");
  if (!parsed) {
    return std::nullopt;
  }
  return std::move(parsed->values);
}

}  // namespace pcpool
