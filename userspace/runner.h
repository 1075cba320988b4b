// SPDX-License-Identifier: GPL-2.0
// Runs one RunSpec: pinned threads, a start latch, the workload's commands.
#ifndef PCPOOL_USERSPACE_RUNNER_H_
#define PCPOOL_USERSPACE_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "device.h"
#include "options.h"
#include "stats.h"
#include "trace.h"

namespace pcpool {

struct RunnerConfig {
  std::string device = kDefaultDevicePath;
  // Opens a session that submits with @submit; unset: Device::Open(device,
  // submit). Tests pass fakes.
  std::function<Result<std::unique_ptr<Session>>(Submit submit)> open_session;
  std::string debugfs = kDefaultDebugfsDir;
  // Ops per PCPOOL_IOC_RUN call: a run is cut into calls this size (rounded
  // to the batch) so progress can be shown; timing is summed in-kernel time.
  uint64_t chunk_ops = 1 << 16;
  uint32_t nr_channels = PCPOOL_NR_CHANNELS;  // pcpool_version's
  uint32_t max_batch = PCPOOL_MAX_BATCH;      // pcpool_version's
  bool check = false;                         // accounting problems fail the run
  bool frag = false;                          // FRAG snapshots in busy/churn/exit/rand
  bool mt_mix = false;                        // PCPOOL_RUN_MT_MIX on page runs
  std::string buddyinfo = "/proc/buddyinfo";  // the kernel backend's rough signal
  std::shared_ptr<const Trace> trace;         // replay's, loaded once
};

// Ops (or blocks freed) completed so far by the running workload.
struct Progress {
  std::atomic<uint64_t> done{0};
};

// Opens the sessions the workload needs, pins one thread per CPU, releases
// them together, collects the kernel's figures, and reads the backend's
// debugfs counters before and after. Never throws for kernel errors: they
// end up in RunResult::error.
RunResult ExecuteRun(const RunSpec& spec, const RunnerConfig& cfg, Progress* progress);

// The seed a thread passes to seeded RUN workloads: the run's seed mixed
// with the thread's index and its call number, so every CPU draws its own
// sequence and the whole run is reproducible.
uint64_t ThreadSeed(uint64_t seed, size_t thread, uint64_t call);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_RUNNER_H_
