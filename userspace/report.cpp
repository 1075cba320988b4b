// SPDX-License-Identifier: GPL-2.0
#include "report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <span>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "cpu.h"
#include "options.h"

namespace pcpool {
namespace {

using Json = nlohmann::ordered_json;

std::string Format(const char* fmt, double v) {
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), fmt, v);
  return buf.data();
}

// @fmt applied to @v, or @none when there is no value.
std::string FormatOr(const char* fmt, const std::optional<double>& v, const char* none) {
  return v ? Format(fmt, *v) : none;
}

std::string CountersInline(const CounterDeltas& c) {
  std::string s;
  for (const auto& [key, delta] : c) {
    if (!s.empty()) {
      s += ';';
    }
    s += key + "=" + std::to_string(delta);
  }
  return s;
}

std::string GaugesInline(const Gauges& g) {
  std::string s;
  for (const auto& [key, v] : g) {
    if (!s.empty()) {
      s += ';';
    }
    s += key + "=" + std::to_string(v.after);
  }
  return s;
}

Json OptionalNumber(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

std::optional<double> Ratio(uint64_t num, uint64_t den) {
  if (den == 0 || num == 0) {
    return std::nullopt;
  }
  return static_cast<double>(num) / static_cast<double>(den);
}

Json ContextJson(const Context& c) {
  Json j;
  j["date"] = c.date;
  j["host_name"] = c.host_name;
  j["executable"] = c.executable;
  j["kernel_release"] = c.kernel_release;
  j["machine"] = c.machine;
  j["num_cpus"] = c.num_cpus;
  j["allowed_cpus"] = c.allowed_cpus;
  j["pinned_cpus"] = c.pinned_cpus;
  j["mhz_per_cpu"] = OptionalNumber(c.mhz_per_cpu);
  j["cpu_scaling_governor"] =
      c.cpu_scaling_governor ? Json(*c.cpu_scaling_governor) : Json(nullptr);
  j["load_avg"] = c.load_avg;
  j["emulation"] = c.emulation.empty() ? Json(nullptr) : Json(c.emulation);
  j["library_build_type"] = c.library_build_type;
  auto bit = [](const std::optional<bool>& b) { return b ? Json(*b ? 1 : 0) : Json(nullptr); };
  j["init_on_alloc"] = bit(c.init_on_alloc);
  j["init_on_free"] = bit(c.init_on_free);
  j["mem_init_source"] = c.mem_init_source.empty() ? Json(nullptr) : Json(c.mem_init_source);
  j["module_abi_version"] = c.module.abi_version;
  j["module_backends"] = c.module_backends;
  j["page_shift"] = c.module.page_shift;
  j["max_order"] = c.module.max_order;
  j["pageblock_order"] = c.module.block_order;
  j["max_batch"] = c.module.max_batch;
  j["nr_channels"] = c.module.nr_channels;
  j["session_max_pages"] = c.module.session_max_pages;
  j["nr_cpu_ids"] = c.module.nr_cpu_ids;
  j["warnings"] = c.warnings;
  j["plan_warnings"] = c.plan_warnings;
  return j;
}

Json SummaryJson(const LatencyHistogram& h) {
  const std::optional<LatencySummary> s = h.Summary();
  if (!s) {
    return nullptr;
  }
  Json j;
  j["samples"] = s->samples;
  j["mean"] = s->mean;
  j["p50"] = s->p50;
  j["p95"] = s->p95;
  j["p99"] = s->p99;
  j["max"] = s->max;
  return j;
}

// {"alloc": {...}, "free": {...}} or null.
Json LatencyJson(const OpLatency& l, bool buckets) {
  if (l.Empty()) {
    return nullptr;
  }
  Json j;
  for (const auto& [name, h] :
       {std::pair<const char*, const LatencyHistogram*>{"alloc", &l.alloc}, {"free", &l.free}}) {
    Json s = SummaryJson(*h);
    if (buckets && !s.is_null()) {
      // Non-empty buckets as [low ns, high ns, count], for plots.
      Json b = Json::array();
      for (size_t i = 0; i < LatencyHistogram::kBuckets; i++) {
        if (h->Buckets()[i] != 0) {
          b.push_back(
              {LatencyHistogram::BucketLow(i), LatencyHistogram::BucketHigh(i), h->Buckets()[i]});
        }
      }
      s["buckets"] = std::move(b);
    }
    j[name] = std::move(s);
  }
  // "op": timed operations; "call": each command's mean per block.
  j["basis"] = l.per_call ? "call" : "op";
  return j;
}

Json ThreadJson(const ThreadResult& t) {
  Json tj;
  tj["thread"] = t.thread;
  tj["cpu"] = t.cpu;
  tj["role"] = RoleName(t.role);
  tj["group"] = t.group;
  tj["ops"] = t.ops;
  tj["allocs"] = t.allocs;
  tj["frees"] = t.frees;
  tj["ns"] = t.ns;
  tj["alloc_ns"] = t.alloc_ns;
  tj["free_ns"] = t.free_ns;
  tj["user_ns"] = t.user_ns;
  tj["calls"] = t.calls;
  tj["backoffs"] = t.backoffs;
  tj["waits"] = t.waits;
  const uint64_t work = t.ops != 0 ? t.ops : t.frees != 0 ? t.frees : t.allocs;
  const std::optional<double> per = Ratio(t.ns, work);
  tj["ns_per_op"] = OptionalNumber(per);
  tj["ops_per_sec"] = per ? Json(1e9 / *per) : Json(nullptr);
  tj["kernel_cpu"] = t.kernel_cpu;
  tj["migrated"] = t.migrated;
  tj["latency"] = LatencyJson(t.latency, false);
  if (!t.error.empty()) {
    tj["error"] = t.error;
  }
  return tj;
}

// The fragmentation report (Documentation/replay.rst): the zone's view,
// PCP-held pages counted as allocated, then the same after a drain.
Json FragViewJson(const pcpool_frag_view& v) {
  Json j = Json::object();
  j["blocks_held"] = v.blocks_held;
  j["free_blocks"] = v.free_blocks;
  j["partial_blocks"] = v.partial_blocks;
  j["used_blocks"] = v.used_blocks;
  j["owned_blocks"] = v.owned_blocks;
  j["free_pages"] = v.free_pages;
  j["cached_pages"] = v.cached_pages;
  j["largest_order"] = v.largest_order;
  Json orders = Json::array();
  for (const uint64_t n : v.nr_free) {
    orders.push_back(n);
  }
  while (!orders.empty() && orders.back() == 0) {
    orders.erase(orders.size() - 1);
  }
  j["free_chunks_by_order"] = orders;
  return j;
}

Json FragJson(const RunResult& r) {
  Json j = Json::object();
  j["point"] = r.frag_point;
  if (r.frag) {
    j["block_order"] = r.frag->block_order;
    j["zone"] = FragViewJson(r.frag->zone);
    j["drained"] = FragViewJson(r.frag->drained);
  }
  if (!r.buddyinfo.empty()) {
    Json b = Json::object();
    for (const auto& [when, text] : r.buddyinfo) {
      b[when] = text;
    }
    j["buddyinfo"] = b;
  }
  return j;
}

std::string FragViewLine(const char* what, const pcpool_frag_view& v) {
  std::string s = std::string("    frag ") + what + ": blocks " + std::to_string(v.blocks_held) +
                  ", whole free " + std::to_string(v.free_blocks) + ", partial " +
                  std::to_string(v.partial_blocks) + ", no free page " +
                  std::to_string(v.used_blocks) + ", owned " + std::to_string(v.owned_blocks) +
                  ", largest free order " + std::to_string(v.largest_order) + ", free pages " +
                  std::to_string(v.free_pages) + " (+" + std::to_string(v.cached_pages) +
                  " per-CPU), chunks by order:";
  size_t last = 0;
  for (size_t o = 0; o < PCPOOL_FRAG_ORDERS; o++) {
    if (v.nr_free[o] != 0) {
      last = o + 1;
    }
  }
  for (size_t o = 0; o < last; o++) {
    s += " " + std::to_string(v.nr_free[o]);
  }
  return s + "\n";
}

// /proc/buddyinfo's DMA32 and Normal lines, compacted.
std::string BuddyLines(const std::string& text) {
  std::string out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t zone = line.find("zone");
    if (zone == std::string::npos) {
      continue;
    }
    std::istringstream f(line.substr(zone + 4));
    std::string name;
    f >> name;
    out += " " + name + ":";
    for (std::string n; f >> n;) {
      out += " " + n;
    }
    out += ";";
  }
  return out;
}

std::string FragLines(const RunResult& r) {
  std::string s;
  if (r.frag) {
    s += "    fragmentation at " + r.frag_point + " (pageblock order " +
         std::to_string(r.frag->block_order) + "):\n";
    s += FragViewLine("zone view ", r.frag->zone);
    s += FragViewLine("after drain", r.frag->drained);
  }
  for (const auto& [when, text] : r.buddyinfo) {
    s += "    /proc/buddyinfo " + when + ":" + BuddyLines(text) + "\n";
  }
  return s;
}

Json RunJson(const RunResult& r) {
  Json j;
  j["name"] = RunName(r);
  j["backend"] = BackendName(r.spec.backend);
  j["workload"] = WorkloadName(r.spec.workload);
  j["order"] = r.spec.order;
  j["threads"] = r.spec.cpus.size();
  j["active_threads"] = r.active_threads();
  j["cpus"] = FormatCpuList(r.spec.cpus);
  j["submit"] = SubmitLabel(r.spec);
  j["repetition"] = r.spec.repetition;
  j["ops"] = r.spec.ops;
  j["ops_done"] = r.stats.ops;
  j["batch"] = r.spec.batch;
  j["live"] = r.spec.live;
  j["freers"] = r.spec.freers;
  j["share"] = r.spec.share;
  j["purge_batch"] = r.spec.purge_batch;
  j["uring_depth"] = r.spec.workload == Workload::kOverhead ? Json(r.spec.uring_depth) : Json(0);
  j["seed"] = r.spec.seed;
  j["ns"] = r.stats.ns;
  j["ns_per_op"] = OptionalNumber(r.stats.ns_per_op);
  j["ops_per_sec"] = OptionalNumber(r.stats.ops_per_sec);
  j["alloc_ns"] = r.stats.alloc_ns;
  j["free_ns"] = r.stats.free_ns;
  j["alloc_ns_per_block"] = OptionalNumber(r.stats.alloc_ns_per_block);
  j["free_ns_per_block"] = OptionalNumber(r.stats.free_ns_per_block);
  j["alloc_ops_per_sec"] = OptionalNumber(r.stats.alloc_ops_per_sec);
  j["free_ops_per_sec"] = OptionalNumber(r.stats.free_ops_per_sec);
  j["user_ns"] = r.stats.user_ns;
  j["user_ns_per_op"] = OptionalNumber(r.stats.user_ns_per_op);
  j["wall_ns"] = r.wall_ns;
  j["backoffs"] = r.stats.backoffs;
  if (r.spec.workload == Workload::kReplay) {
    j["trace"] = r.spec.trace;
    j["waits"] = r.stats.waits;
    if (r.at_trace_end) {
      // Levels at the end of the trace, live set held: the zone's free
      // chunks by order and the blocks it holds.
      Json frag = Json::object();
      for (const auto& [key, v] : *r.at_trace_end) {
        if (key.starts_with("zone_free_order_") || key == "zone_blocks_held" ||
            key == "zone_free_pages" || key == "pcpbuddy_pool_pages" ||
            key == "pcpbuddy_blocks_owned" || key == "classic_pcp_pages") {
          frag[key] = v;
        }
      }
      j["frag_at_trace_end"] = frag;
    }
  }
  if (r.frag || !r.buddyinfo.empty()) {
    j["frag"] = FragJson(r);
  }
  // Only timed operations have a sample shift (and cost clock reads).
  const bool timed = r.spec.latency && !r.stats.latency.per_call;
  j["sample_shift"] = timed ? Json(r.spec.sample_shift) : Json(nullptr);
  j["latency"] = LatencyJson(r.stats.latency, true);
  Json per_thread = Json::array();
  for (const ThreadResult& t : r.threads) {
    per_thread.push_back(ThreadJson(t));
  }
  j["per_thread"] = std::move(per_thread);
  if (r.counters) {
    Json cj = Json::object();
    for (const auto& [key, delta] : *r.counters) {
      cj[key] = delta;
    }
    j["counters"] = std::move(cj);
    Json pj = Json::object();
    for (const auto& [key, v] : CountersPer1000(r)) {
      pj[key] = v;
    }
    j["counters_per_1000_ops"] = std::move(pj);
    Json gj = Json::object();
    for (const auto& [key, v] : r.gauges) {
      gj[key] = {{"before", v.before}, {"after", v.after}};
    }
    j["gauges"] = std::move(gj);
  } else {
    j["counters"] = nullptr;
    j["counters_per_1000_ops"] = nullptr;
    j["gauges"] = nullptr;
  }
  j["outstanding_pages_after"] =
      r.outstanding_pages_after ? Json(*r.outstanding_pages_after) : Json(nullptr);
  j["accounting"] = r.accounting;
  if (!r.ok()) {
    j["error"] = r.error;
  }
  return j;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) {
    return s;
  }
  std::string q = "\"";
  for (const char c : s) {
    q += c;
    if (c == '"') {
      q += '"';
    }
  }
  return q + "\"";
}

std::string CsvNumber(const std::optional<double>& v) { return FormatOr("%.3f", v, ""); }

std::string CsvLatency(const LatencyHistogram& h) {
  const std::optional<LatencySummary> s = h.Summary();
  if (!s) {
    return ",,,";
  }
  return std::to_string(s->p50) + "," + std::to_string(s->p95) + "," + std::to_string(s->p99) +
         "," + std::to_string(s->max);
}

// Generic counters every backend has; the console's per-1000 line leaves
// them out (they only restate the operation count).
bool GenericCounter(const std::string& key) {
  return key == "allocs" || key == "frees" || key == "alloc_failures" || key == "pages_allocated" ||
         key == "pages_freed";
}

}  // namespace

std::string HumanCount(double v) {
  if (!std::isfinite(v)) {
    return "-";
  }
  if (v >= 1e9) {
    return Format("%.2fG", v / 1e9);
  }
  if (v >= 1e6) {
    return Format("%.2fM", v / 1e6);
  }
  if (v >= 1e4) {
    return Format("%.1fk", v / 1e3);
  }
  return Format("%.0f", v);
}

std::string RunName(const RunResult& r) {
  std::string name =
      BackendName(r.spec.backend) + "/" + std::string(WorkloadName(r.spec.workload)) +
      "/order:" + std::to_string(r.spec.order) + "/threads:" + std::to_string(r.spec.cpus.size()) +
      "/ops:" + std::to_string(r.spec.ops);
  if (r.spec.loop || r.spec.submit != Submit::kIoctl) {
    name += "/submit:" + std::string(SubmitLabel(r.spec));
  }
  if (r.spec.workload == Workload::kExit || r.spec.workload == Workload::kPurger) {
    name += "/freers:" + std::to_string(r.spec.freers);
  }
  if (r.spec.workload == Workload::kCounter) {
    name += "/share:" + std::to_string(r.spec.share);
  } else if (r.spec.workload == Workload::kSizes && r.spec.share == PCPOOL_SIZES_REAL) {
    name += "/mix:real";
  } else if (r.spec.workload == Workload::kLifecycle && r.spec.share == PCPOOL_LIFECYCLE_COUNTERS) {
    name += "/shape:counters";
  }
  if (r.spec.repetition > 0) {
    name += "/rep:" + std::to_string(r.spec.repetition);
  }
  return name;
}

std::vector<OverheadSummary> SummarizeOverhead(std::span<const RunResult> runs) {
  using Key = std::tuple<uint32_t, uint32_t, size_t, uint64_t, unsigned>;
  std::map<Key, OverheadSummary> by;
  std::vector<Key> order;
  for (const RunResult& r : runs) {
    if (r.spec.workload != Workload::kOverhead || !r.ok()) {
      continue;
    }
    const Key k{r.spec.backend, r.spec.order, r.spec.cpus.size(), r.spec.ops, r.spec.repetition};
    auto [it, added] = by.try_emplace(k);
    if (added) {
      order.push_back(k);
      it->second.name = BackendName(r.spec.backend) + "/order:" + std::to_string(r.spec.order) +
                        "/threads:" + std::to_string(r.spec.cpus.size()) +
                        "/ops:" + std::to_string(r.spec.ops);
    }
    OverheadSummary& s = it->second;
    if (r.spec.loop) {
      s.loop_ns = r.stats.ns_per_op;
    } else if (r.spec.submit == Submit::kUring) {
      s.uring_ns = r.stats.user_ns_per_op;
      s.uring_depth = r.spec.uring_depth;
    } else {
      s.ioctl_ns = r.stats.user_ns_per_op;
    }
  }
  std::vector<OverheadSummary> out;
  out.reserve(order.size());
  for (const Key& k : order) {
    out.push_back(by[k]);
  }
  return out;
}

// Console.

namespace {
constexpr const char* kRowFormat = "%-16s %-11s %5s %7s %-5s %10s %9s %9s %9s  %s";

std::string Row(const std::string& backend, std::string_view workload, const std::string& order,
                const std::string& threads, std::string_view submit, const std::string& ops,
                const std::string& ns_per_op, const std::string& ops_per_sec,
                const std::string& user_ns, const std::string& note) {
  std::array<char, 512> buf{};
  std::snprintf(buf.data(), buf.size(), kRowFormat, backend.c_str(), std::string(workload).c_str(),
                order.c_str(), threads.c_str(), std::string(submit).c_str(), ops.c_str(),
                ns_per_op.c_str(), ops_per_sec.c_str(), user_ns.c_str(), note.c_str());
  std::string line = buf.data();
  while (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  return line;
}

// "<title> k=delta ..." for the non-zero deltas of keys <prefix>k, in
// numeric order of k, and a newline; "<title> none" when the keys are
// there but did not move; "" when there are no such keys.
std::string PrefixedDeltas(const CounterDeltas& c, const std::string& prefix,
                           const std::string& title) {
  std::vector<std::pair<uint64_t, int64_t>> items;
  bool present = false;
  for (const auto& [key, delta] : c) {
    const std::string k = key.starts_with(prefix) ? key.substr(prefix.size()) : "";
    if (k.empty() || k.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    present = true;
    if (delta != 0) {
      items.emplace_back(std::stoull(k), delta);
    }
  }
  if (!present) {
    return "";
  }
  std::sort(items.begin(), items.end());
  std::string line = title;
  for (const auto& [k, delta] : items) {
    line += " " + std::to_string(k) + "=" + (delta > 0 ? "+" : "") + std::to_string(delta);
  }
  return line + (items.empty() ? " none\n" : "\n");
}

// The counter deltas, their rates per 1000 operations and the levels
// before and after, for the keys @filter shows; for exit, the chunks handed
// back to the zone by order and the zone-lock acquisitions by pages moved.
std::string CounterLines(const RunResult& r, const CounterFilter& filter) {
  if (!r.counters) {
    return "";
  }
  std::string deltas;
  for (const auto& [key, delta] : *r.counters) {
    if (delta != 0 && filter.Shows(key)) {
      deltas += " " + key + "=" + std::to_string(delta);
    }
  }
  std::string per;
  for (const auto& [key, v] : CountersPer1000(r)) {
    // Only what shows at one decimal: no "0.0" or "-0.0" entries.
    if (!GenericCounter(key) && std::fabs(v) >= 0.05 && filter.Shows(key)) {
      per += " " + key + "=" + Format("%.1f", v);
    }
  }
  std::string levels;
  for (const auto& [key, v] : r.gauges) {
    if (filter.Shows(key) && (v.before != 0 || v.after != 0)) {
      levels += " " + key + "=" + std::to_string(v.before) + "->" + std::to_string(v.after);
    }
  }
  std::string out;
  for (const auto& [title, line] :
       {std::pair<const char*, const std::string*>{"counters:", &deltas},
        {"per 1000 ops:", &per},
        {"levels before->after:", &levels}}) {
    if (!line->empty()) {
      out += std::string("    ") + title + *line + "\n";
    }
  }
  if (r.spec.workload == Workload::kExit) {
    out += PrefixedDeltas(*r.counters, "zone_freed_order_",
                          "    chunks handed back to the zone by order:") +
           PrefixedDeltas(*r.counters, "zone_moved_hist_",
                          "    zone-lock acquisitions by pages moved:");
  }
  return out;
}

std::string LatencyLine(const char* what, const LatencyHistogram& h) {
  const std::optional<LatencySummary> s = h.Summary();
  if (!s) {
    return "";
  }
  std::array<char, 256> buf{};
  std::snprintf(buf.data(), buf.size(), "%s n=%llu mean=%.1f p50=%llu p95=%llu p99=%llu max=%llu",
                what,
                static_cast<unsigned long long>(s->samples),  // NOLINT(google-runtime-int)
                s->mean,
                static_cast<unsigned long long>(s->p50),   // NOLINT(google-runtime-int)
                static_cast<unsigned long long>(s->p95),   // NOLINT(google-runtime-int)
                static_cast<unsigned long long>(s->p99),   // NOLINT(google-runtime-int)
                static_cast<unsigned long long>(s->max));  // NOLINT(google-runtime-int)
  return buf.data();
}
}  // namespace

void ConsoleReporter::ReportContext(const Context& c) {
  out_ << "pcpool-bench " << c.date << " on " << c.host_name << ", Linux " << c.kernel_release
       << " " << c.machine << "\n";
  out_ << "module ABI " << c.module.abi_version << ", backends ";
  for (size_t i = 0; i < c.module_backends.size(); i++) {
    out_ << (i != 0 ? "," : "") << c.module_backends[i];
  }
  out_ << "; " << c.num_cpus << " CPUs online, pinned " << c.pinned_cpus << "; harness build "
       << c.library_build_type << "\n";
  auto bit = [](const std::optional<bool>& b) { return b ? (*b ? "1" : "0") : "unknown"; };
  out_ << "page zeroing: init_on_alloc=" << bit(c.init_on_alloc)
       << " init_on_free=" << bit(c.init_on_free);
  if (!c.mem_init_source.empty()) {
    out_ << " (" << c.mem_init_source << ")";
  }
  out_ << "; the pool backends zero when the kernel would\n";
  for (const std::string& w : c.warnings) {
    out_ << "***WARNING*** " << w << "\n";
  }
  out_.flush();
}

void ConsoleReporter::ReportRuns(std::span<const RunResult> runs) {
  if (!header_done_) {
    out_ << Row("backend", "workload", "order", "threads", "path", "ops", "ns/op", "ops/s",
                "user ns/op", "")
         << "\n";
    header_done_ = true;
  }
  for (const RunResult& r : runs) {
    std::string note;
    if (!r.ok()) {
      note = "FAILED: " + r.error;
    } else {
      size_t migrated = 0;
      for (const ThreadResult& t : r.threads) {
        migrated += t.migrated ? 1 : 0;
      }
      if (migrated != 0) {
        note = std::to_string(migrated) + " thread(s) not on their pinned CPU";
      }
      for (const std::string& a : r.accounting) {
        note += (note.empty() ? "" : "; ") + a;
      }
    }
    std::string workload(WorkloadName(r.spec.workload));
    if (r.spec.workload == Workload::kExit || r.spec.workload == Workload::kPurger) {
      workload += "/" + std::to_string(r.spec.freers);
    } else if (r.spec.workload == Workload::kCounter) {
      workload += "/" + std::to_string(r.spec.share);
    } else if (r.spec.workload == Workload::kSizes && r.spec.share == PCPOOL_SIZES_REAL) {
      workload += "/real";
    } else if (r.spec.workload == Workload::kLifecycle &&
               r.spec.share == PCPOOL_LIFECYCLE_COUNTERS) {
      workload += "/counters";
    }
    out_ << Row(BackendName(r.spec.backend), workload, std::to_string(r.spec.order),
                std::to_string(r.spec.cpus.size()), SubmitLabel(r.spec), std::to_string(r.spec.ops),
                FormatOr("%.1f", r.stats.ns_per_op, "-"),
                r.stats.ops_per_sec ? HumanCount(*r.stats.ops_per_sec) : "-",
                FormatOr("%.1f", r.stats.user_ns_per_op, "-"), note)
         << "\n";
    if (r.stats.alloc_ns_per_block || r.stats.free_ns_per_block) {
      out_ << "    alloc/free: " << FormatOr("%.1f", r.stats.alloc_ns_per_block, "-") << " / "
           << FormatOr("%.1f", r.stats.free_ns_per_block, "-") << " ns per block";
      if (r.stats.alloc_ops_per_sec) {
        out_ << ", alloc " << HumanCount(*r.stats.alloc_ops_per_sec) << "/s";
      }
      if (r.stats.free_ops_per_sec) {
        out_ << ", free " << HumanCount(*r.stats.free_ops_per_sec) << "/s";
      }
      if (r.stats.backoffs != 0) {
        out_ << ", " << r.stats.backoffs << " ENOMEM back-offs";
      }
      if (r.spec.workload == Workload::kReplay) {
        out_ << ", " << r.stats.waits << " frees waited for another CPU's allocation";
      }
      out_ << "\n";
      if (r.at_trace_end && r.at_trace_end->contains("zone_blocks_held")) {
        out_ << "    at trace end (live set held): zone blocks held "
             << r.at_trace_end->at("zone_blocks_held") << ", zone free chunks by order:";
        for (const auto& [key, v] : *r.at_trace_end) {
          if (key.starts_with("zone_free_order_")) {
            out_ << " " << key.substr(16) << ":" << v;
          }
        }
        out_ << "\n";
      }
    }
    // Batched commands give a mean per block per command, not one op.
    const char* basis = r.stats.latency.per_call ? "latency per call, ns/block " : "latency ";
    for (const auto& [what, h] :
         {std::pair<const char*, const LatencyHistogram*>{"alloc ns:", &r.stats.latency.alloc},
          {"free ns: ", &r.stats.latency.free}}) {
      const std::string line = LatencyLine(what, *h);
      if (!line.empty()) {
        out_ << "    " << basis << line << "\n";
      }
    }
    out_ << FragLines(r);
    out_ << CounterLines(r, filter_);
    if (r.spec.workload == Workload::kOverhead) {
      overhead_.push_back(r);
    }
  }
  out_.flush();
}

void ConsoleReporter::ReportSummary(const Summary& summary) { PrintSummary(out_, summary); }

void ConsoleReporter::Finalize() {
  const std::vector<OverheadSummary> sums = SummarizeOverhead(overhead_);
  if (!sums.empty()) {
    out_ << "submission overhead per command, over the in-kernel loop's ns/op:\n";
  }
  for (const OverheadSummary& s : sums) {
    out_ << "  " << s.name << ": loop " << FormatOr("%.1f", s.loop_ns, "-");
    auto extra = [&](const char* what, const std::optional<double>& v) {
      out_ << ", " << what << " " << FormatOr("%.1f", v, "-");
      if (v && s.loop_ns) {
        out_ << " (" << Format("%+.1f", *v - *s.loop_ns) << ")";
      }
    };
    extra("ioctl", s.ioctl_ns);
    extra(("io_uring/" + std::to_string(s.uring_depth)).c_str(), s.uring_ns);
    out_ << " ns\n";
  }
  out_.flush();
}

// JSON.

struct JsonReporter::State {
  Json context = Json::object();
  Json results = Json::array();
  std::optional<Json> summary;
};

JsonReporter::JsonReporter(std::ostream& out) : out_(out), state_(std::make_unique<State>()) {}
JsonReporter::~JsonReporter() = default;

void JsonReporter::ReportContext(const Context& ctx) { state_->context = ContextJson(ctx); }

void JsonReporter::ReportRuns(std::span<const RunResult> runs) {
  for (const RunResult& r : runs) {
    state_->results.push_back(RunJson(r));
  }
}

void JsonReporter::ReportSummary(const Summary& summary) {
  auto number = [](const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); };
  Json workloads = Json::array();
  for (const WorkloadSummary& w : summary.workloads) {
    Json j;
    j["name"] = w.name;
    j["pcpbuddy_speedup_over_kernel"] = number(w.pcpbuddy_over_kernel);
    j["pcpbuddy_speedup_over_classic"] = number(w.pcpbuddy_over_classic);
    j["zone_lock_acquisitions_per_1000_ops"] = {
        {"classic", number(w.classic_zone_locks_per_1000)},
        {"pcpbuddy", number(w.pcpbuddy_zone_locks_per_1000)}};
    workloads.push_back(j);
  }
  Json pcpu = Json::array();
  for (const PcpuSummary& p : summary.pcpu) {
    pcpu.push_back({{"name", p.name},
                    {"backend", p.backend},
                    {"speedup_over_pcpu_kernel", p.over_pcpu_kernel}});
  }
  state_->summary = Json{{"workloads", workloads}, {"pcpu", pcpu}};
}

void JsonReporter::Finalize() {
  Json doc;
  doc["context"] = state_->context;
  doc["results"] = state_->results;
  if (state_->summary) {
    doc["summary"] = *state_->summary;
  }
  out_ << doc.dump(2) << "\n";
  out_.flush();
}

// CSV.

void CsvReporter::ReportContext(const Context& /*ctx*/) {
  out_ << "name,backend,workload,order,threads,active_threads,cpus,submit,repetition,ops,"
          "ops_done,batch,live,freers,ns,ns_per_op,ops_per_sec,alloc_ns,free_ns,"
          "alloc_ops_per_sec,free_ops_per_sec,user_ns_per_op,wall_ns,backoffs,"
          "alloc_p50,alloc_p95,alloc_p99,alloc_max,free_p50,free_p95,free_p99,free_max,"
          "outstanding_pages_after,counters,gauges,error\n";
}

void CsvReporter::ReportRuns(std::span<const RunResult> runs) {
  for (const RunResult& r : runs) {
    out_ << CsvField(RunName(r)) << ',' << BackendName(r.spec.backend) << ','
         << WorkloadName(r.spec.workload) << ',' << r.spec.order << ',' << r.spec.cpus.size() << ','
         << r.active_threads() << ',' << CsvField(FormatCpuList(r.spec.cpus)) << ','
         << SubmitLabel(r.spec) << ',' << r.spec.repetition << ',' << r.spec.ops << ','
         << r.stats.ops << ',' << r.spec.batch << ',' << r.spec.live << ',' << r.spec.freers << ','
         << r.stats.ns << ',' << CsvNumber(r.stats.ns_per_op) << ','
         << CsvNumber(r.stats.ops_per_sec) << ',' << r.stats.alloc_ns << ',' << r.stats.free_ns
         << ',' << CsvNumber(r.stats.alloc_ops_per_sec) << ','
         << CsvNumber(r.stats.free_ops_per_sec) << ',' << CsvNumber(r.stats.user_ns_per_op) << ','
         << r.wall_ns << ',' << r.stats.backoffs << ',' << CsvLatency(r.stats.latency.alloc) << ','
         << CsvLatency(r.stats.latency.free) << ','
         << (r.outstanding_pages_after ? std::to_string(*r.outstanding_pages_after) : "") << ','
         << CsvField(r.counters ? CountersInline(*r.counters) : "") << ','
         << CsvField(GaugesInline(r.gauges)) << ',' << CsvField(r.error) << "\n";
  }
  out_.flush();
}

void CsvReporter::Finalize() { out_.flush(); }

}  // namespace pcpool
