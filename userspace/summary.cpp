// SPDX-License-Identifier: GPL-2.0
#include "summary.h"

#include <linux/pcpool.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "options.h"
#include "workloads.h"

namespace pcpool {
namespace {

constexpr std::string_view kZoneLocks = "zone_lock_acquisitions";

// One backend's runs of one configuration, repetitions pooled.
struct Pool {
  uint64_t ns = 0;
  uint64_t ops = 0;
  int64_t zone_locks = 0;
  bool has_zone_locks = false;

  [[nodiscard]] std::optional<double> NsPerOp() const {
    if (ops == 0 || ns == 0) {
      return std::nullopt;
    }
    return static_cast<double>(ns) / static_cast<double>(ops);
  }
  [[nodiscard]] std::optional<double> ZoneLocksPer1000() const {
    if (ops == 0 || !has_zone_locks) {
      return std::nullopt;
    }
    return static_cast<double>(zone_locks) * 1000.0 / static_cast<double>(ops);
  }
};

// What must match for two backends' runs to be compared, and the row's
// name: RunName() without the backend. Batch and live set follow from the
// options, the same for every backend of one invocation.
std::string ConfigName(const RunSpec& s) {
  std::string name = std::string(WorkloadName(s.workload));
  if (s.workload == Workload::kExit) {
    name += "/freers:" + std::to_string(s.freers);
  } else if (s.workload == Workload::kPurger) {
    name += "/purgers:" + std::to_string(s.freers);
  } else if (s.workload == Workload::kCounter) {
    name += "/share:" + std::to_string(s.share);
  } else if (s.workload == Workload::kSizes && s.share == PCPOOL_SIZES_REAL) {
    name += "/mix:real";
  } else if (s.workload == Workload::kLifecycle && s.share == PCPOOL_LIFECYCLE_COUNTERS) {
    name += "/shape:counters";
  }
  name += "/order:" + std::to_string(s.order) + "/threads:" + std::to_string(s.cpus.size()) +
          "/ops:" + std::to_string(s.ops);
  const std::string_view submit = SubmitLabel(s);
  if (submit != "ioctl") {
    name += "/submit:" + std::string(submit);
  }
  return name;
}

std::optional<double> Ratio(const std::optional<double>& num, const std::optional<double>& den) {
  if (!num || !den || *den <= 0) {
    return std::nullopt;
  }
  return *num / *den;
}

std::string Fixed(const char* fmt, const std::optional<double>& v) {
  if (!v) {
    return "-";
  }
  std::array<char, 32> buf{};
  std::snprintf(buf.data(), buf.size(), fmt, *v);
  return buf.data();
}

}  // namespace

Summary Summarize(std::span<const RunResult> runs) {
  std::vector<std::string> order;
  std::map<std::string, std::map<uint32_t, Pool>> by;
  for (const RunResult& r : runs) {
    if (!r.ok() || r.spec.workload == Workload::kOverhead) {
      continue;
    }
    const std::string name = ConfigName(r.spec);
    auto [it, added] = by.try_emplace(name);
    if (added) {
      order.push_back(name);
    }
    Pool& p = it->second[r.spec.backend];
    p.ns += r.stats.ns;
    p.ops += r.stats.ops;
    if (r.counters) {
      const auto c = r.counters->find(std::string(kZoneLocks));
      if (c != r.counters->end()) {
        p.zone_locks += c->second;
        p.has_zone_locks = true;
      }
    }
  }

  Summary s;
  for (const std::string& name : order) {
    const std::map<uint32_t, Pool>& pools = by[name];
    auto get = [&](uint32_t id) -> const Pool* {
      const auto it = pools.find(id);
      return it == pools.end() ? nullptr : &it->second;
    };
    const Pool* pcpbuddy = get(PCPOOL_BACKEND_PCPBUDDY);
    if (pcpbuddy != nullptr) {
      const Pool* kernel = get(PCPOOL_BACKEND_KERNEL);
      const Pool* classic = get(PCPOOL_BACKEND_CLASSIC);
      WorkloadSummary w;
      w.name = name;
      w.pcpbuddy_over_kernel =
          kernel != nullptr ? Ratio(kernel->NsPerOp(), pcpbuddy->NsPerOp()) : std::nullopt;
      w.pcpbuddy_over_classic =
          classic != nullptr ? Ratio(classic->NsPerOp(), pcpbuddy->NsPerOp()) : std::nullopt;
      w.classic_zone_locks_per_1000 =
          classic != nullptr ? classic->ZoneLocksPer1000() : std::nullopt;
      w.pcpbuddy_zone_locks_per_1000 = pcpbuddy->ZoneLocksPer1000();
      s.workloads.push_back(w);
    }
    const Pool* percpu = get(PCPOOL_BACKEND_PCPU_KERNEL);
    if (percpu == nullptr) {
      continue;
    }
    for (const auto& [id, pool] : pools) {
      if (id == PCPOOL_BACKEND_PCPU_KERNEL || DefaultBackendClass(id) != BackendClass::kPcpu) {
        continue;
      }
      if (const auto ratio = Ratio(percpu->NsPerOp(), pool.NsPerOp())) {
        s.pcpu.push_back({name, BackendName(id), *ratio});
      }
    }
  }
  return s;
}

void PrintSummary(std::ostream& out, const Summary& s) {
  if (!s.workloads.empty()) {
    out << "summary: pcpbuddy's speed-up (the other's ns/op over pcpbuddy's) and zone-lock\n"
           "acquisitions per 1000 ops, this run only:\n";
    std::array<char, 256> line{};
    std::snprintf(line.data(), line.size(), "  %-46s %9s %10s %14s %15s\n", "configuration",
                  "vs kernel", "vs classic", "locks classic", "locks pcpbuddy");
    out << line.data();
    for (const WorkloadSummary& w : s.workloads) {
      std::snprintf(line.data(), line.size(), "  %-46s %9s %10s %14s %15s\n", w.name.c_str(),
                    Fixed("%.2fx", w.pcpbuddy_over_kernel).c_str(),
                    Fixed("%.2fx", w.pcpbuddy_over_classic).c_str(),
                    Fixed("%.1f", w.classic_zone_locks_per_1000).c_str(),
                    Fixed("%.1f", w.pcpbuddy_zone_locks_per_1000).c_str());
      out << line.data();
    }
  }
  if (!s.pcpu.empty()) {
    out << "summary: per-CPU caches' speed-up over alloc_percpu (pcpu-kernel's ns/op over "
           "theirs):\n";
    for (const PcpuSummary& p : s.pcpu) {
      // pcpu-null is no cache: its ratio is the most any cache could reach
      out << "  " << p.name << " " << p.backend << " " << Fixed("%.2fx", p.over_pcpu_kernel)
          << (p.backend == BackendName(PCPOOL_BACKEND_PCPU_NULL) ? " (the floor: no allocator)"
                                                                 : "")
          << "\n";
    }
  }
  out.flush();
}

}  // namespace pcpool
