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
#include "hist.h"
#include "options.h"
#include "workloads.h"

namespace pcpool {

// One pinned thread.
struct ThreadResult {
  int thread = 0;  // index in the run
  int cpu = -1;    // CPU it was pinned to
  Role role = Role::kWorker;
  int group = 0;          // cross pair, else 0; -1 idle
  uint64_t ops = 0;       // worker: operations (overhead: commands)
  uint64_t allocs = 0;    // blocks it allocated
  uint64_t frees = 0;     // blocks it freed
  uint64_t ns = 0;        // in-kernel ns, summed over its calls
  uint64_t alloc_ns = 0;  // the part of ns spent allocating, where known
  uint64_t free_ns = 0;   // the part spent freeing, where known
  uint64_t user_ns = 0;   // its userspace clock over its timed part
  uint64_t calls = 0;     // calls that did work
  uint64_t backoffs = 0;  // churn: ENOMEM back-offs
  uint64_t waits = 0;     // replay: frees that waited for another thread's allocation
  int kernel_cpu = -1;    // CPU the kernel saw first
  bool migrated = false;  // kernel saw a CPU other than @cpu
  OpLatency latency;      // --latency, in-kernel workloads only
  std::string error;      // empty if the thread finished its share
};

struct RunStats {
  uint64_t ops = 0;  // operations completed: workers' ops, else blocks freed
  uint64_t ns = 0;   // in-kernel ns, all threads
  uint64_t alloc_ns = 0;
  uint64_t free_ns = 0;
  uint64_t user_ns = 0;
  uint64_t backoffs = 0;
  uint64_t waits = 0;
  std::optional<double> ns_per_op;          // ns / ops
  std::optional<double> ops_per_sec;        // see ComputeStats
  std::optional<double> alloc_ops_per_sec;  // sum of allocs / alloc_ns
  std::optional<double> free_ops_per_sec;   // sum of frees / free_ns
  std::optional<double> user_ns_per_op;     // user_ns / ops
  // alloc_ns / blocks allocated and free_ns / blocks freed, over the
  // threads that timed that side (bulk, churn, channel, handle workloads)
  std::optional<double> alloc_ns_per_block;
  std::optional<double> free_ns_per_block;
  OpLatency latency;  // all threads merged
};

// ns_per_op = total in-kernel ns / ops, whichever threads paid it.
// ops_per_sec is the throughput the threads reach together:
//   run:      sum over threads of ops / ns (each thread's rate, in parallel)
//   overhead: the same on the userspace clock (ioctl, uring) or in-kernel
//             time (loop)
//   channel:  min(allocation side, free side): a pipeline runs at the pace
//             of its slower stage; each side sums its threads' rates
//   handles:  1 / (1/alloc rate + 1/free rate): the phases run one after
//             the other, each at its threads' summed rate
std::optional<double> SumRates(std::span<const ThreadResult> threads, uint64_t ThreadResult::*num,
                               uint64_t ThreadResult::*den);
RunStats ComputeStats(const RunSpec& spec, std::span<const ThreadResult> threads);

struct RunResult {
  RunSpec spec;
  std::vector<ThreadResult> threads;
  RunStats stats;
  uint64_t wall_ns = 0;                   // start latch to last thread done, userspace clock
  std::optional<CounterDeltas> counters;  // nullopt: no counters file; no gauges
  Gauges gauges;                          // levels, before and after the run
  // replay: the backend's counters when the trace's events were done, its
  // live set still held (zone_free_order_*, zone_blocks_held: fragmentation)
  std::optional<Counters> at_trace_end;
  // Zone backends: PCPOOL_IOC_FRAG (with FRAG_DRAIN) where the live set is
  // still held, at @frag_point. Kernel: /proc/buddyinfo before the run, at
  // that point (replay, exit, rand) and after.
  std::optional<pcpool_frag> frag;
  std::string frag_point;
  std::vector<std::pair<std::string, std::string>> buddyinfo;
  std::optional<uint64_t> outstanding_pages_after;  // backend's, fds closed
  std::vector<std::string> accounting;              // counters that do not balance
  std::string error;                                // first thread error, or a setup failure

  [[nodiscard]] bool ok() const { return error.empty(); }
  [[nodiscard]] size_t active_threads() const;
};

// Per 1000 operations: each counter delta * 1000 / stats.ops. Empty when
// there are no counters or no operations.
std::vector<std::pair<std::string, double>> CountersPer1000(const RunResult& r);

// What does not add up after a run: allocs != frees, pages_allocated !=
// pages_freed, fewer allocations than blocks the run must have allocated,
// pages left outstanding. One line each.
std::vector<std::string> AccountingProblems(const RunResult& r);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_STATS_H_
