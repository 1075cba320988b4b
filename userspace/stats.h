// SPDX-License-Identifier: GPL-2.0
// Results of a run and the figures derived from them.
#ifndef PCPOOL_USERSPACE_STATS_H_
#define PCPOOL_USERSPACE_STATS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "counters.h"
#include "options.h"

namespace pcpool {

enum class Role { kWorker, kProducer, kConsumer, kIdle };
std::string_view RoleName(Role r);

// One pinned thread.
struct ThreadResult {
  int thread = 0;  // index in the run
  int cpu = -1;    // CPU it was pinned to
  Role role = Role::kWorker;
  int unit = 0;           // timing unit: the thread itself, or its cross pair
  uint64_t ops = 0;       // worker: alloc+free pairs; producer: blocks
                          // allocated; consumer: blocks freed
  uint64_t ns = 0;        // in-kernel ns, summed over its ioctls
  uint64_t calls = 0;     // ioctls that did work
  int kernel_cpu = -1;    // CPU the kernel saw first
  bool migrated = false;  // kernel saw a CPU other than @cpu
  std::string error;      // empty if the thread finished its share
};

// One unit of work for the aggregate figures: a worker thread, or a cross
// pair whose producer and consumer times are summed.
struct UnitTotals {
  uint64_t ops = 0;
  uint64_t ns = 0;
};

struct RunStats {
  uint64_t ops = 0;                   // alloc+free pairs completed, all units
  uint64_t ns = 0;                    // in-kernel ns, all threads
  std::optional<double> ns_per_op;    // ns / ops; nullopt when ops == 0
  std::optional<double> ops_per_sec;  // sum of unit ops / unit ns * 1e9
};

// Per unit: ops are the unit's pairs (for a cross pair, the blocks its
// consumer freed), ns the sum of its threads' ns.
std::vector<UnitTotals> SumUnits(std::span<const ThreadResult> threads);

// ns_per_op = total ns / total ops; ops_per_sec sums each unit's rate, so it
// is the throughput all units reach together running in parallel. Units
// with no ops or no measured time add nothing to the rate.
RunStats ComputeStats(std::span<const UnitTotals> units);

struct RunResult {
  RunSpec spec;
  std::vector<ThreadResult> threads;
  RunStats stats;
  uint64_t wall_ns = 0;                   // start barrier to last thread done, userspace clock
  std::optional<CounterDeltas> counters;  // nullopt: no counters file
  std::optional<uint64_t> outstanding_pages_after;  // backend's, fds closed
  std::string error;                                // first thread error, or a setup failure

  [[nodiscard]] bool ok() const { return error.empty(); }
  [[nodiscard]] size_t active_threads() const;
};

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_STATS_H_
