// SPDX-License-Identifier: GPL-2.0
#include "counters.h"

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

bool ParseLine(std::string_view line, std::string* key, uint64_t* value) {
  const size_t gap = line.find_first_of(kBlanks);
  if (gap == std::string_view::npos) {
    return false;
  }
  const std::string_view num = Trim(line.substr(gap));
  if (num.empty() || num.find_first_of(kBlanks) != std::string_view::npos) {
    return false;
  }
  const auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), *value);
  if (ec != std::errc() || ptr != num.data() + num.size()) {
    return false;
  }
  *key = std::string(line.substr(0, gap));
  return true;
}

std::optional<Counters> ReadCounterFile(const std::string& path) {
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
  return std::move(parsed.values);
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
    uint64_t value = 0;
    if (ParseLine(line, &key, &value)) {
      out.values[key] = value;
    } else {
      out.bad_lines.emplace_back(line);
    }
  }
  return out;
}

CounterDeltas CounterDelta(const Counters& before, const Counters& after) {
  CounterDeltas deltas;
  for (const auto& [key, value] : after) {
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

std::optional<Counters> ReadBackendCounters(const std::string& debugfs_dir,
                                            const std::string& backend) {
  return ReadCounterFile(debugfs_dir + "/" + backend + "/counters");
}

std::optional<Counters> ReadOutstanding(const std::string& debugfs_dir) {
  return ReadCounterFile(debugfs_dir + "/outstanding");
}

}  // namespace pcpool
