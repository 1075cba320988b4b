// SPDX-License-Identifier: GPL-2.0
// Runs one RunSpec: pinned threads, a start barrier, the workload's ioctls.
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

namespace pcpool {

struct RunnerConfig {
  std::string device = kDefaultDevicePath;
  // Opens a session; unset: Device::Open(device). Tests pass fakes.
  std::function<Result<std::unique_ptr<Session>>()> open_session;
  std::string debugfs = kDefaultDebugfsDir;
  // Ops per PCPOOL_IOC_RUN call: a run is cut into calls this size (rounded
  // to the batch) so progress can be shown; timing is summed in-kernel time.
  uint64_t chunk_ops = 1 << 16;
};

// Ops completed so far by the running workload, for progress display.
struct Progress {
  std::atomic<uint64_t> done{0};
};

// Opens one session per worker (per pair for cross), pins, releases all
// threads together, collects in-kernel times, and reads the backend's
// debugfs counters before and after. Never throws for kernel errors: they
// end up in RunResult::error.
RunResult ExecuteRun(const RunSpec& spec, const RunnerConfig& cfg, Progress* progress);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_RUNNER_H_
