// SPDX-License-Identifier: GPL-2.0
#include "stats.h"

#include <algorithm>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace pcpool {

std::optional<double> SumRates(std::span<const ThreadResult> threads, uint64_t ThreadResult::*num,
                               uint64_t ThreadResult::*den) {
  double rate = 0;
  bool any = false;
  for (const ThreadResult& t : threads) {
    if (t.*num > 0 && t.*den > 0) {
      rate += static_cast<double>(t.*num) / static_cast<double>(t.*den) * 1e9;
      any = true;
    }
  }
  return any ? std::optional<double>(rate) : std::nullopt;
}

RunStats ComputeStats(const RunSpec& spec, std::span<const ThreadResult> threads) {
  RunStats s;
  const WorkloadKind kind = Info(spec.workload).kind;
  const bool by_ops = kind == WorkloadKind::kRun || kind == WorkloadKind::kOverhead ||
                      kind == WorkloadKind::kReplay;
  for (const ThreadResult& t : threads) {
    s.ops += by_ops ? t.ops : t.frees;
    s.ns += t.ns;
    s.alloc_ns += t.alloc_ns;
    s.free_ns += t.free_ns;
    s.user_ns += t.user_ns;
    s.backoffs += t.backoffs;
    s.waits += t.waits;
    s.latency.Merge(t.latency);
  }
  if (s.ops > 0) {
    s.ns_per_op = static_cast<double>(s.ns) / static_cast<double>(s.ops);
    if (s.user_ns > 0) {
      s.user_ns_per_op = static_cast<double>(s.user_ns) / static_cast<double>(s.ops);
    }
  }
  uint64_t timed_allocs = 0;
  uint64_t timed_frees = 0;
  for (const ThreadResult& t : threads) {
    timed_allocs += t.alloc_ns != 0 ? t.allocs : 0;
    timed_frees += t.free_ns != 0 ? t.frees : 0;
  }
  if (timed_allocs != 0) {
    s.alloc_ns_per_block = static_cast<double>(s.alloc_ns) / static_cast<double>(timed_allocs);
  }
  if (timed_frees != 0) {
    s.free_ns_per_block = static_cast<double>(s.free_ns) / static_cast<double>(timed_frees);
  }
  s.alloc_ops_per_sec = SumRates(threads, &ThreadResult::allocs, &ThreadResult::alloc_ns);
  s.free_ops_per_sec = SumRates(threads, &ThreadResult::frees, &ThreadResult::free_ns);
  switch (kind) {
    case WorkloadKind::kRun:
    case WorkloadKind::kReplay:
      s.ops_per_sec = SumRates(threads, &ThreadResult::ops, &ThreadResult::ns);
      break;
    case WorkloadKind::kOverhead:
      s.ops_per_sec = spec.loop ? SumRates(threads, &ThreadResult::ops, &ThreadResult::ns)
                                : SumRates(threads, &ThreadResult::ops, &ThreadResult::user_ns);
      break;
    case WorkloadKind::kChannel:
      if (s.alloc_ops_per_sec && s.free_ops_per_sec) {
        s.ops_per_sec = std::min(*s.alloc_ops_per_sec, *s.free_ops_per_sec);
      }
      break;
    case WorkloadKind::kHandles:
      if (s.alloc_ops_per_sec && s.free_ops_per_sec) {
        s.ops_per_sec = 1.0 / (1.0 / *s.alloc_ops_per_sec + 1.0 / *s.free_ops_per_sec);
      }
      break;
  }
  return s;
}

size_t RunResult::active_threads() const {
  return std::count_if(threads.begin(), threads.end(),
                       [](const ThreadResult& t) { return t.role != Role::kIdle; });
}

std::vector<std::pair<std::string, double>> CountersPer1000(const RunResult& r) {
  std::vector<std::pair<std::string, double>> out;
  if (!r.counters || r.stats.ops == 0) {
    return out;
  }
  for (const auto& [key, delta] : *r.counters) {
    out.emplace_back(key, static_cast<double>(delta) * 1000.0 / static_cast<double>(r.stats.ops));
  }
  return out;
}

namespace {

int64_t Delta(const CounterDeltas& c, const std::string& key) {
  const auto it = c.find(key);
  return it == c.end() ? 0 : it->second;
}

// Blocks the run must have allocated at least, when that is known.
uint64_t MinAllocs(const RunResult& r) {
  switch (r.spec.workload) {
    case Workload::kRepeat:
    case Workload::kBulk:
    case Workload::kRandomSize:
    case Workload::kChurn:
    case Workload::kFixSize:
    case Workload::kFullFit:
    case Workload::kFixAlign:
      return r.stats.ops;
    case Workload::kBusy:
      return r.stats.ops + (r.ok() ? r.spec.live : 0);
    case Workload::kLongBusy:
      return 2 * r.stats.ops;
    case Workload::kOverhead:
      return r.stats.ops;
    case Workload::kReplay:
      return 0;  // ops are allocations and frees
    default:
      // channel and handle workloads: ops are the blocks freed
      return Info(r.spec.workload).kind == WorkloadKind::kRun ? 0 : r.stats.ops;
  }
}

}  // namespace

std::vector<std::string> AccountingProblems(const RunResult& r) {
  std::vector<std::string> out;
  if (r.counters) {
    const CounterDeltas& c = *r.counters;
    const int64_t allocs = Delta(c, "allocs");
    const int64_t frees = Delta(c, "frees");
    if (allocs != frees) {
      out.push_back("allocs " + std::to_string(allocs) + " != frees " + std::to_string(frees));
    }
    const int64_t pa = Delta(c, "pages_allocated");
    const int64_t pf = Delta(c, "pages_freed");
    if (pa != pf) {
      out.push_back("pages_allocated " + std::to_string(pa) + " != pages_freed " +
                    std::to_string(pf));
    }
    const uint64_t want = MinAllocs(r);
    if (c.contains("allocs") && allocs >= 0 && static_cast<uint64_t>(allocs) < want) {
      out.push_back("allocs " + std::to_string(allocs) + " < " + std::to_string(want) +
                    " blocks the run allocated");
    }
  }
  if (r.outstanding_pages_after.value_or(0) != 0) {
    out.push_back(std::to_string(*r.outstanding_pages_after) + " pages outstanding after close");
  }
  return out;
}

}  // namespace pcpool
