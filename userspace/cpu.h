// SPDX-License-Identifier: GPL-2.0
// CPU lists and thread pinning.
#ifndef PCPOOL_USERSPACE_CPU_H_
#define PCPOOL_USERSPACE_CPU_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pcpool {

// Highest CPU number a list may name; far above any real nr_cpu_ids.
inline constexpr int kMaxCpu = 65535;

// Parses a sysfs-style cpulist ("0-3,8", trailing newline allowed) into the
// CPUs in the order written. Rejects empty items, descending ranges,
// duplicates and numbers above kMaxCpu; @error says why.
std::optional<std::vector<int>> ParseCpuList(std::string_view text, std::string* error = nullptr);

// The inverse, for display: sorted, ranges collapsed ("0-3,8").
std::string FormatCpuList(std::span<const int> cpus);

// Pins the calling thread to @cpu; a no-op returning 0 for cpu < 0.
// Returns 0 or the error number from pthread_setaffinity_np, which it also
// prints with strerror on stderr. Call it first thing in a worker.
int PinThread(int cpu);

// CPUs the calling thread may run on (sched_getaffinity), ascending.
std::vector<int> AllowedCpus();

// The CPU for each of @threads threads: allowed[i % allowed.size()].
std::vector<int> CpusForThreads(unsigned threads, std::span<const int> allowed);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_CPU_H_
