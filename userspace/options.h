// SPDX-License-Identifier: GPL-2.0
// pcpool-bench command line: flags, PCPOOL_<FLAG> environment fallbacks,
// and the expansion of comma lists into the runs to do.
#ifndef PCPOOL_USERSPACE_OPTIONS_H_
#define PCPOOL_USERSPACE_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "counters.h"
#include "device.h"
#include "workloads.h"

namespace pcpool {

// Backend names, indexed by enum pcpool_backend_id.
std::optional<uint32_t> BackendId(std::string_view name);
// "kernel", ..., or "backend<id>" for an id this harness has no name for.
std::string BackendName(uint32_t id);
// Known names, comma separated, for messages.
std::string BackendNames();

inline constexpr uint32_t kDefaultBatch = 64;
inline constexpr uint64_t kDefaultOps = 100000;
inline constexpr uint32_t kPageblockOrder = UINT32_MAX;  // --order pageblock
inline constexpr uint32_t kDefaultPurgeBatch = 2048;
inline constexpr uint32_t kDefaultUringDepth = 32;
inline constexpr uint32_t kLongBusyList = 15000;  // test_vmalloc's
// Default live sets, in pages (page backends) or objects (per-CPU ones).
inline constexpr uint32_t kDefaultBusyPages = 8192;
inline constexpr uint32_t kDefaultChurnPages = 2048;
// exit allocates in ALLOC calls of at least this many blocks.
inline constexpr uint64_t kExitAllocChunk = 4096;

struct Options {
  std::vector<std::string> backends;  // empty: every backend the module has
  std::vector<Workload> workloads;    // empty: every workload that applies
  // Per-CPU backends' workloads (--pcpu-workload); empty: as workloads.
  std::vector<Workload> pcpu_workloads;
  std::vector<uint32_t> orders{0};  // kPageblockOrder for "pageblock"
  std::vector<unsigned> threads;    // empty and no cpus: one per allowed CPU
  std::vector<int> cpus;            // --cpus: one thread per listed CPU
  std::vector<uint64_t> ops{kDefaultOps};
  uint32_t batch = kDefaultBatch;
  uint32_t live = 0;             // busy/churn/long-busy; 0: per workload
  unsigned purgers = 0;          // 0: max(1, threads / 4)
  std::vector<unsigned> freers;  // exit; empty: 1 and every thread
  // counter: processes per 1000 whose updates also run on a second CPU
  std::vector<uint32_t> counter_shares{0};
  // sizes: PCPOOL_SIZES_UNIFORM (test_vmalloc's) and/or PCPOOL_SIZES_REAL
  std::vector<uint32_t> sizes_mixes{PCPOOL_SIZES_UNIFORM};
  // lifecycle: PCPOOL_LIFECYCLE_WORDS (default) and/or _COUNTERS
  std::vector<uint32_t> lifecycle_shapes{PCPOOL_LIFECYCLE_WORDS};
  uint32_t purge_batch = kDefaultPurgeBatch;
  std::vector<Submit> submit{Submit::kIoctl};
  uint32_t uring_depth = kDefaultUringDepth;
  bool latency = false;
  uint32_t sample_shift = 0;
  unsigned repeat = 1;
  bool shuffle = false;
  uint64_t seed = 1;
  bool check = false;
  bool frag = false;      // fragmentation of busy/churn/exit/rand runs too
  bool mt_mix = false;    // in-kernel page workloads cycle the migratetypes
  std::string json_path;  // "" none, "-" stdout
  std::string csv_path;
  std::string trace_path;  // replay's trace
  CounterFilter counters;  // console table only
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
// ops x submit product.
struct RunSpec {
  uint32_t backend = 0;
  Workload workload = Workload::kRepeat;
  uint32_t order = 0;
  std::vector<int> cpus;  // one pinned thread per entry (purger adds its purgers)
  uint64_t ops = 0;       // total for the run, split across threads
  uint32_t batch = 0;     // RUN @batch (bulk, lifecycle, sizes); blocks per
                          // CHAN call; ALLOC chunk (exit, rand); 0 for repeat
  uint32_t live = 0;      // RUN @batch of busy, churn, long-busy
  unsigned freers = 0;    // exit: CPUs that free; purger: purger threads
  uint32_t share = 0;     // counter: processes per 1000 also on a second CPU;
                          // sizes: the mix (PCPOOL_SIZES_*); lifecycle: the
                          // shape (PCPOOL_LIFECYCLE_*); RUN's @seed
  uint32_t purge_batch = 0;
  Submit submit = Submit::kIoctl;
  bool loop = false;  // overhead: the in-kernel loop reference
  uint32_t uring_depth = kDefaultUringDepth;
  bool latency = false;
  uint32_t sample_shift = 0;
  uint64_t seed = 0;
  unsigned repetition = 0;
  // replay: the trace file; the runner gets it loaded (RunnerConfig), and
  // cpus and ops follow from it (PinReplay).
  std::string trace;
};

// "ioctl", "uring" or, for the overhead reference, "loop".
std::string_view SubmitLabel(const RunSpec& s);

// What the planner knows of a backend (from PCPOOL_IOC_STATS).
struct BackendCap {
  BackendClass cls = BackendClass::kPages;
  uint32_t max_order = 0;
};
using BackendCaps = std::map<uint32_t, BackendCap>;

// The class a backend id has when the module does not say.
BackendClass DefaultBackendClass(uint32_t id);

struct RunPlan {
  std::vector<RunSpec> runs;
  std::vector<std::string> warnings;  // skipped backends and runs
  std::string error;                  // non-empty: nothing to run
};

// Expands @opts into runs in the order backend, workload, order, threads,
// ops, submit (outermost first); each run --repeat times in a row; the
// runs (with their repetitions) shuffled with --seed if --shuffle.
// @caps has an entry for every backend of the module; @allowed_cpus is
// where threads may be pinned.
RunPlan PlanRuns(const Options& opts, const pcpool_version& version, const BackendCaps& caps,
                 std::span<const int> allowed_cpus);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_OPTIONS_H_
