// SPDX-License-Identifier: GPL-2.0
// The closing summary of a run: ratios between backends from this run's
// own rows, so a reader need not compare the table line by line.
#ifndef PCPOOL_USERSPACE_SUMMARY_H_
#define PCPOOL_USERSPACE_SUMMARY_H_

#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "stats.h"

namespace pcpool {

// One page workload configuration (workload/order/threads[/freers]).
// Speed-up = the other backend's ns/op over pcpbuddy's; nullopt where a
// backend did not run it (or failed).
struct WorkloadSummary {
  std::string name;
  std::optional<double> pcpbuddy_over_kernel;
  std::optional<double> pcpbuddy_over_classic;
  std::optional<double> classic_zone_locks_per_1000;  // zone_lock_acquisitions per 1000 ops
  std::optional<double> pcpbuddy_zone_locks_per_1000;
};

// A per-CPU cache against alloc_percpu (pcpu-kernel) in one configuration.
struct PcpuSummary {
  std::string name;
  std::string backend;
  double over_pcpu_kernel = 0;  // pcpu-kernel's ns/op over the cache's
};

struct Summary {
  std::vector<WorkloadSummary> workloads;
  std::vector<PcpuSummary> pcpu;

  [[nodiscard]] bool Empty() const { return workloads.empty() && pcpu.empty(); }
};

// Over the successful runs; repetitions of one configuration pooled (sum
// of ns over sum of ops). Rows in the order the runs came.
Summary Summarize(std::span<const RunResult> runs);

// The console form: a few lines, nothing when @s is empty.
void PrintSummary(std::ostream& out, const Summary& s);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_SUMMARY_H_
