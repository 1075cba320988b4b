// SPDX-License-Identifier: GPL-2.0
// pcpool-bench command line: flags, PCPOOL_<FLAG> environment fallbacks,
// and the expansion of comma lists into the runs to do.
#ifndef PCPOOL_USERSPACE_OPTIONS_H_
#define PCPOOL_USERSPACE_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "counters.h"
#include "device.h"

namespace pcpool {

// Backend names, indexed by enum pcpool_backend_id.
std::optional<uint32_t> BackendId(std::string_view name);
// "kernel", ..., or "backend<id>" for an id this harness has no name for.
std::string BackendName(uint32_t id);

// Harness workloads. repeat and bulk map to PCPOOL_IOC_RUN workloads;
// cross is driven from userspace through PCPOOL_IOC_CHAN.
enum class Workload { kRepeat, kBulk, kCross };
std::optional<Workload> WorkloadFromName(std::string_view name);
std::string_view WorkloadName(Workload w);

inline constexpr uint32_t kDefaultBatch = 64;
inline constexpr uint64_t kDefaultOps = 100000;

struct Options {
  std::vector<std::string> backends;  // empty: every backend the module has
  std::vector<Workload> workloads{Workload::kRepeat, Workload::kBulk, Workload::kCross};
  std::vector<uint32_t> orders{0};
  std::vector<unsigned> threads;  // empty and no cpus: one per allowed CPU
  std::vector<int> cpus;          // --cpus: one thread per listed CPU
  std::vector<uint64_t> ops{kDefaultOps};
  uint32_t batch = kDefaultBatch;
  std::string json_path;  // "" none, "-" stdout
  std::string csv_path;
  bool quiet = false;
  bool help = false;
  std::string device = kDefaultDevicePath;
  std::string debugfs = kDefaultDebugfsDir;
};

// Environment lookup, replaceable in tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
std::optional<std::string> ProcessEnv(const std::string& name);

struct ParsedOptions {
  std::optional<Options> options;  // nullopt on error
  std::string error;
};

// Parses argv[1..]. Every flag "--name VALUE" or "--name=VALUE" may also
// come from PCPOOL_<NAME> (upper case, '-' as '_'); the command line wins.
ParsedOptions ParseOptions(std::span<const char* const> args, const EnvLookup& env = ProcessEnv);

std::string UsageText();

// One benchmark run: a point in the backend x workload x order x threads x
// ops product.
struct RunSpec {
  uint32_t backend = 0;
  Workload workload = Workload::kRepeat;
  uint32_t order = 0;
  std::vector<int> cpus;  // one pinned thread per entry
  uint64_t ops = 0;       // total for the run, split across threads
  uint32_t batch = 0;     // bulk and cross; 0 for repeat
};

struct RunPlan {
  std::vector<RunSpec> runs;
  std::vector<std::string> warnings;  // skipped backends, odd cross threads
  std::string error;                  // non-empty: nothing to run
};

// Expands @opts into runs in the order backend, workload, order, threads,
// ops (outermost first). @module_backends is pcpool_version.backends;
// @allowed_cpus is where threads may be pinned.
RunPlan PlanRuns(const Options& opts, const pcpool_version& version,
                 std::span<const int> allowed_cpus);

// Splits @total ops over @units workers: the first total % units get one more.
std::vector<uint64_t> SplitOps(uint64_t total, size_t units);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_OPTIONS_H_
