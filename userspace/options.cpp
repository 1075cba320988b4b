// SPDX-License-Identifier: GPL-2.0
#include "options.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cpu.h"

namespace pcpool {
namespace {

// Indexed by enum pcpool_backend_id; "" for ids without a backend.
constexpr std::array<std::string_view, 13> kBackendNames = {
    "kernel",     "null", "classic",     "pcpbuddy", "vmalloc",     "vmap-global",
    "vmap-nodes", "",     "pcpu-kernel", "pcpu-raw", "pcpu-zeroed", "pcpu-constructed",
    "pcpu-null"};
static_assert(PCPOOL_BACKEND_KERNEL == 0 && PCPOOL_BACKEND_NULL == 1 &&
              PCPOOL_BACKEND_CLASSIC == 2 && PCPOOL_BACKEND_PCPBUDDY == 3 &&
              PCPOOL_BACKEND_VMALLOC == 4 && PCPOOL_BACKEND_PCPU_KERNEL == 8 &&
              PCPOOL_BACKEND_PCPU_CONSTRUCTED == 11 && PCPOOL_BACKEND_PCPU_NULL == 12);

// The per-CPU backends without a counter (PCPU_COUNTER and counter-shaped
// lifecycle say -EINVAL): the cache whose objects must come back with
// their parts cancelling, which the lazy counter cannot promise, and the
// floor, which has no allocator to take storage from.
bool HasNoCounter(uint32_t backend) {
  return backend == PCPOOL_BACKEND_PCPU_CONSTRUCTED || backend == PCPOOL_BACKEND_PCPU_NULL;
}

std::vector<std::string_view> SplitComma(std::string_view s) {
  std::vector<std::string_view> items;
  while (true) {
    const size_t comma = s.find(',');
    items.push_back(s.substr(0, comma));
    if (comma == std::string_view::npos) {
      return items;
    }
    s.remove_prefix(comma + 1);
  }
}

template <typename T>
bool ParseNumber(std::string_view s, T min, T max, T* out) {
  if (s.empty()) {
    return false;
  }
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return ec == std::errc() && ptr == s.data() + s.size() && *out >= min && *out <= max;
}

std::string RangeError(std::string_view flag, std::string_view item, uint64_t min, uint64_t max) {
  return "--" + std::string(flag) + ": '" + std::string(item) + "' is not a number in " +
         std::to_string(min) + ".." + std::to_string(max);
}

template <typename T>
bool ParseOne(std::string_view flag, std::string_view value, T min, T max, T* out,
              std::string* error) {
  if (!ParseNumber(value, min, max, out)) {
    *error = RangeError(flag, value, min, max);
    return false;
  }
  return true;
}

// A comma list of names, stored as their indices in @names (the uapi
// values PCPOOL_SIZES_* and PCPOOL_LIFECYCLE_* follow that order).
bool ParseChoiceList(std::string_view flag, std::string_view value,
                     std::initializer_list<std::string_view> names, std::vector<uint32_t>* out,
                     std::string* error) {
  out->clear();
  for (const std::string_view item : SplitComma(value)) {
    const auto* const it = std::find(names.begin(), names.end(), item);
    if (it == names.end()) {
      std::string known;
      for (const std::string_view n : names) {
        known += (known.empty() ? "" : ", ") + std::string(n);
      }
      *error =
          "--" + std::string(flag) + ": unknown '" + std::string(item) + "' (known: " + known + ")";
      return false;
    }
    const auto v = static_cast<uint32_t>(it - names.begin());
    if (std::find(out->begin(), out->end(), v) == out->end()) {
      out->push_back(v);
    }
  }
  return true;
}

template <typename T>
bool ParseNumberList(std::string_view flag, std::string_view value, T min, T max,
                     std::vector<T>* out, std::string* error) {
  out->clear();
  for (const std::string_view item : SplitComma(value)) {
    T n{};
    if (!ParseNumber(item, min, max, &n)) {
      *error = RangeError(flag, item, min, max);
      return false;
    }
    if (std::find(out->begin(), out->end(), n) == out->end()) {
      out->push_back(n);
    }
  }
  return true;
}

bool ParseBool(std::string_view flag, std::string_view value, bool* out, std::string* error) {
  std::string v(value);
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  if (v.empty() || v == "1" || v == "true" || v == "yes" || v == "on") {
    *out = true;
  } else if (v == "0" || v == "false" || v == "no" || v == "off") {
    *out = false;
  } else {
    *error = "--" + std::string(flag) + ": '" + std::string(value) + "' is not a boolean";
    return false;
  }
  return true;
}

std::string WorkloadNames() {
  std::string s;
  for (const WorkloadInfo& i : AllWorkloads()) {
    s += (s.empty() ? "" : ", ") + std::string(i.name);
  }
  return s;
}

enum class Arg { kNone, kRequired };

struct Flag {
  std::string_view name;
  Arg arg;
};

// An odd count would make clang-format turn the two columns into one.
// clang-format off
constexpr std::array<Flag, 38> kFlags = {{
    {"backend", Arg::kRequired},            {"workload", Arg::kRequired},
    {"mask", Arg::kRequired},               {"order", Arg::kRequired},
    {"threads", Arg::kRequired},            {"cpus", Arg::kRequired},
    {"ops", Arg::kRequired},                {"batch", Arg::kRequired},
    {"live", Arg::kRequired},               {"purgers", Arg::kRequired},
    {"freers", Arg::kRequired},             {"purge-batch", Arg::kRequired},
    {"submit", Arg::kRequired},             {"uring-depth", Arg::kRequired},
    {"latency", Arg::kNone},                {"sample-shift", Arg::kRequired},
    {"repeat", Arg::kRequired},             {"shuffle", Arg::kNone},
    {"sequential", Arg::kNone},             {"seed", Arg::kRequired},
    {"check", Arg::kNone},                  {"frag", Arg::kNone},
    {"json", Arg::kRequired},               {"csv", Arg::kRequired},
    {"quiet", Arg::kNone},                  {"device", Arg::kRequired},
    {"debugfs", Arg::kRequired},            {"help", Arg::kNone},
    {"run-test-mask", Arg::kRequired},      {"nr-threads", Arg::kRequired},
    {"test-repeat-count", Arg::kRequired},  {"counters", Arg::kRequired},
    {"pcpu-workload", Arg::kRequired},      {"counter-share", Arg::kRequired},
    {"sizes-mix", Arg::kRequired},          {"lifecycle-shape", Arg::kRequired},
    {"trace", Arg::kRequired},              {"mt-mix", Arg::kNone},
}};
// clang-format on

// test_vmalloc's parameter names, for muscle memory.
std::string_view Canonical(std::string_view flag) {
  if (flag == "run-test-mask") {
    return "mask";
  }
  if (flag == "nr-threads") {
    return "threads";
  }
  if (flag == "test-repeat-count") {
    return "repeat";
  }
  return flag;
}

std::string EnvName(std::string_view flag) {
  std::string name = "PCPOOL_";
  for (const char c : flag) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

// --workload and --pcpu-workload: names into @out; "all" leaves it empty.
bool ApplyWorkloads(std::string_view flag, std::string_view value, std::vector<Workload>* out,
                    std::string* error) {
  out->clear();
  const std::vector<std::string_view> names = SplitComma(value);
  // "all": every workload where it applies, the default.
  if (std::find(names.begin(), names.end(), "all") != names.end()) {
    return true;
  }
  // NOLINTNEXTLINE(readability-use-anyofallof): it adds as it checks
  for (const std::string_view name : names) {
    const std::optional<Workload> w = WorkloadFromName(name);
    if (!w) {
      *error = "--" + std::string(flag) + ": unknown workload '" + std::string(name) +
               "' (known: " + WorkloadNames() + ", all)";
      return false;
    }
    if (std::find(out->begin(), out->end(), *w) == out->end()) {
      out->push_back(*w);
    }
  }
  return true;
}

bool Apply(std::string_view flag, std::string_view value, Options* o, std::string* error) {
  if (flag == "backend") {
    o->backends.clear();
    for (const std::string_view name : SplitComma(value)) {
      if (!BackendId(name)) {
        *error = "--backend: unknown backend '" + std::string(name) +
                 "' (known: " + BackendNames() + ")";
        return false;
      }
      if (std::find(o->backends.begin(), o->backends.end(), name) == o->backends.end()) {
        o->backends.emplace_back(name);
      }
    }
  } else if (flag == "workload") {
    return ApplyWorkloads(flag, value, &o->workloads, error);
  } else if (flag == "pcpu-workload") {
    return ApplyWorkloads(flag, value, &o->pcpu_workloads, error);
  } else if (flag == "mask") {
    uint64_t mask = 0;
    if (!ParseOne<uint64_t>(flag, value, 1, UINT64_MAX, &mask, error)) {
      return false;
    }
    std::optional<std::vector<Workload>> w = WorkloadsFromMask(mask, error);
    if (!w) {
      error->insert(0, "--mask: ");
      return false;
    }
    o->workloads = std::move(*w);
  } else if (flag == "order") {
    o->orders.clear();
    for (const std::string_view item : SplitComma(value)) {
      uint32_t n = 0;
      if (item == "pageblock") {
        n = kPageblockOrder;
      } else if (!ParseNumber<uint32_t>(item, 0, 63, &n)) {
        *error = "--order: '" + std::string(item) + "' is not 0..63 or 'pageblock'";
        return false;
      }
      if (std::find(o->orders.begin(), o->orders.end(), n) == o->orders.end()) {
        o->orders.push_back(n);
      }
    }
  } else if (flag == "threads") {
    return ParseNumberList<unsigned>(flag, value, 1, kMaxCpu + 1, &o->threads, error);
  } else if (flag == "cpus") {
    std::string why;
    std::optional<std::vector<int>> cpus = ParseCpuList(value, &why);
    if (!cpus) {
      *error = "--cpus: " + why;
      return false;
    }
    o->cpus = std::move(*cpus);
  } else if (flag == "ops") {
    return ParseNumberList<uint64_t>(flag, value, 1, UINT64_MAX / 2, &o->ops, error);
  } else if (flag == "batch") {
    return ParseOne<uint32_t>(flag, value, 1, PCPOOL_MAX_BATCH, &o->batch, error);
  } else if (flag == "live") {
    return ParseOne<uint32_t>(flag, value, 1, PCPOOL_MAX_BATCH, &o->live, error);
  } else if (flag == "purgers") {
    return ParseOne<unsigned>(flag, value, 1, kMaxCpu + 1, &o->purgers, error);
  } else if (flag == "counter-share") {
    return ParseNumberList<uint32_t>(flag, value, 0, PCPOOL_COUNTER_SHARE_MAX, &o->counter_shares,
                                     error);
  } else if (flag == "sizes-mix") {
    return ParseChoiceList(flag, value, {"uniform", "real"}, &o->sizes_mixes, error);
  } else if (flag == "lifecycle-shape") {
    return ParseChoiceList(flag, value, {"words", "counters"}, &o->lifecycle_shapes, error);
  } else if (flag == "freers") {
    return ParseNumberList<unsigned>(flag, value, 1, kMaxCpu + 1, &o->freers, error);
  } else if (flag == "purge-batch") {
    return ParseOne<uint32_t>(flag, value, 1, PCPOOL_MAX_BATCH, &o->purge_batch, error);
  } else if (flag == "submit") {
    o->submit.clear();
    for (const std::string_view item : SplitComma(value)) {
      const std::optional<Submit> s = SubmitFromName(item);
      if (!s) {
        *error = "--submit: unknown path '" + std::string(item) + "' (known: ioctl, uring)";
        return false;
      }
      if (std::find(o->submit.begin(), o->submit.end(), *s) == o->submit.end()) {
        o->submit.push_back(*s);
      }
    }
  } else if (flag == "uring-depth") {
    return ParseOne<uint32_t>(flag, value, 1, 4096, &o->uring_depth, error);
  } else if (flag == "latency") {
    return ParseBool(flag, value, &o->latency, error);
  } else if (flag == "sample-shift") {
    return ParseOne<uint32_t>(flag, value, 0, PCPOOL_HIST_MAX_SHIFT, &o->sample_shift, error);
  } else if (flag == "repeat") {
    return ParseOne<unsigned>(flag, value, 1, 1000000, &o->repeat, error);
  } else if (flag == "shuffle") {
    return ParseBool(flag, value, &o->shuffle, error);
  } else if (flag == "sequential") {
    bool seq = false;
    if (!ParseBool(flag, value, &seq, error)) {
      return false;
    }
    o->shuffle = !seq;
  } else if (flag == "seed") {
    return ParseOne<uint64_t>(flag, value, 0, UINT64_MAX, &o->seed, error);
  } else if (flag == "check") {
    return ParseBool(flag, value, &o->check, error);
  } else if (flag == "frag") {
    return ParseBool(flag, value, &o->frag, error);
  } else if (flag == "mt-mix") {
    return ParseBool(flag, value, &o->mt_mix, error);
  } else if (flag == "json") {
    o->json_path = value;
  } else if (flag == "trace") {
    o->trace_path = value;
  } else if (flag == "csv") {
    o->csv_path = value;
  } else if (flag == "quiet") {
    return ParseBool(flag, value, &o->quiet, error);
  } else if (flag == "counters") {
    const std::optional<CounterFilter> f = ParseCounterFilter(value);
    if (!f) {
      *error = "--counters: want default, all, none or a list of keys (key* for a prefix), got '" +
               std::string(value) + "'";
      return false;
    }
    o->counters = *f;
  } else if (flag == "help") {
    return ParseBool(flag, value, &o->help, error);
  } else if (flag == "device") {
    o->device = value;
  } else if (flag == "debugfs") {
    o->debugfs = value;
  }
  return true;
}

const Flag* FindFlag(std::string_view name) {
  for (const Flag& f : kFlags) {
    if (f.name == name) {
      return &f;
    }
  }
  return nullptr;
}

bool CheckOptions(const Options& o, std::string* error) {
  if (!o.threads.empty() && !o.cpus.empty()) {
    *error = "PCPOOL_THREADS and PCPOOL_CPUS are exclusive";
    return false;
  }
  if (!o.json_path.empty() && o.json_path == o.csv_path) {
    *error = "--json and --csv name the same file '" + o.json_path + "'";
    return false;
  }
  return true;
}

}  // namespace

std::optional<uint32_t> BackendId(std::string_view name) {
  if (name.empty()) {
    return std::nullopt;
  }
  for (uint32_t id = 0; id < kBackendNames.size(); id++) {
    if (kBackendNames[id] == name) {
      return id;
    }
  }
  return std::nullopt;
}

std::string BackendName(uint32_t id) {
  if (id < kBackendNames.size() && !kBackendNames[id].empty()) {
    return std::string(kBackendNames[id]);
  }
  return "backend" + std::to_string(id);
}

std::string BackendNames() {
  std::string s;
  for (const std::string_view n : kBackendNames) {
    if (!n.empty()) {
      s += (s.empty() ? "" : ", ") + std::string(n);
    }
  }
  return s;
}

BackendClass DefaultBackendClass(uint32_t id) {
  if (id == PCPOOL_BACKEND_VMALLOC || id == PCPOOL_BACKEND_VMAP_GLOBAL ||
      id == PCPOOL_BACKEND_VMAP_NODES) {
    return BackendClass::kVmalloc;
  }
  if (id >= PCPOOL_BACKEND_PCPU_KERNEL && id < 16) {
    return BackendClass::kPcpu;
  }
  return BackendClass::kPages;
}

std::string_view SubmitLabel(const RunSpec& s) { return s.loop ? "loop" : SubmitName(s.submit); }

std::optional<std::string> ProcessEnv(const std::string& name) {
  // Read once on the main thread before any worker starts.
  const char* v = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe)
  if (v == nullptr) {
    return std::nullopt;
  }
  return std::string(v);
}

ParsedOptions ParseOptions(std::span<const char* const> args, const EnvLookup& env) {
  Options o;
  std::string error;
  auto fail = [&error]() { return ParsedOptions{std::nullopt, std::move(error)}; };

  // Environment first, so the command line overrides it. Aliases and
  // --help have no environment variable.
  for (const Flag& f : kFlags) {
    if (f.name == "help" || Canonical(f.name) != f.name) {
      continue;
    }
    const std::string name = EnvName(f.name);
    if (std::optional<std::string> v = env(name)) {
      if (!Apply(f.name, *v, &o, &error)) {
        error.insert(0, name + "=" + *v + ": ");
        return fail();
      }
    }
  }

  std::set<std::string_view> seen;
  for (size_t i = 0; i < args.size(); i++) {
    std::string_view arg = args[i];
    if (arg == "-h") {
      arg = "--help";
    }
    if (!arg.starts_with("--")) {
      error = "unexpected argument '" + std::string(arg) + "'";
      return fail();
    }
    arg.remove_prefix(2);
    std::optional<std::string_view> value;
    if (const size_t eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const Flag* flag = FindFlag(arg);
    if (flag == nullptr) {
      error = "unknown option '--" + std::string(arg) + "'";
      return fail();
    }
    if (flag->arg == Arg::kRequired && !value) {
      if (i + 1 >= args.size()) {
        error = "--" + std::string(arg) + " needs a value";
        return fail();
      }
      value = args[++i];
    }
    if (flag->arg == Arg::kRequired && value->empty()) {
      error = "--" + std::string(arg) + " needs a non-empty value";
      return fail();
    }
    const std::string_view name = Canonical(flag->name);
    if (!Apply(name, value.value_or(""), &o, &error)) {
      return fail();
    }
    seen.insert(name);
  }
  if (seen.contains("threads") && seen.contains("cpus")) {
    error = "--threads and --cpus are exclusive";
    return fail();
  }
  if (seen.contains("workload") && seen.contains("mask")) {
    error = "--workload and --mask are exclusive";
    return fail();
  }
  // On the command line, either one replaces the other's environment value.
  if (seen.contains("cpus")) {
    o.threads.clear();
  } else if (seen.contains("threads")) {
    o.cpus.clear();
  }
  if (!CheckOptions(o, &error)) {
    return fail();
  }
  return {o, ""};
}

std::string UsageText() {
  std::string workloads;
  for (const WorkloadInfo& i : AllWorkloads()) {
    std::array<char, 160> line{};
    std::snprintf(line.data(), line.size(), "    %-6llu %-12s %s\n",
                  static_cast<unsigned long long>(WorkloadBit(i.id)),  // NOLINT(google-runtime-int)
                  std::string(i.name).c_str(), std::string(i.summary).c_str());
    workloads += line.data();
  }
  return R"(usage: pcpool-bench [options]
       pcpool-bench plot [--out DIR] [--format png|svg] RESULTS.json...

Runs allocation workloads in /dev/pcpool from pinned threads and reports
in-kernel ns per operation, latency percentiles and counter deltas. Comma
lists run every combination.

  --backend LIST      )" +
         BackendNames() +
         R"(
                      (default: all the module has)
  --workload LIST     workloads by name, or 'all' (default: every one that
                      applies to the backend)
  --pcpu-workload LIST  workloads for the per-CPU backends (default: as
                      --workload)
  --mask N            the same as a bitmask (test_vmalloc's run_test_mask;
                      alias --run-test-mask):
)" + workloads +
         R"(  --order K[,K..]     allocation order, or 'pageblock' (default 0)
  --threads N[,N..]   threads, pinned to the first N allowed CPUs; a list
                      is a sweep (alias --nr-threads; default: one per CPU)
  --cpus LIST         one thread per CPU in a cpulist such as 0-3,8
  --ops N[,N..]       operations per run, split over threads (default 100000)
  --batch N           bulk batch, blocks per channel call, rand chunk (64)
  --live N            busy live set, churn set-point, long-busy list
                      (default: 8192 / 2048 pages' worth, 15000)
  --purgers K         purger threads (default: a quarter of the threads)
  --purge-batch N     blocks per purger free (default 2048)
  --freers K[,K..]    exit: CPUs freeing at once (default: 1 and all)
  --counter-share P[,P..]  counter: processes per 1000 whose middle half of
                      updates runs on a second CPU (default 0); --batch
                      is the updates per process
  --sizes-mix LIST    sizes: uniform (test_vmalloc's, default) and/or real
                      (the guest kernel's own alloc_percpu() requests,
                      traces/percpu-sizes-smp2.txt)
  --lifecycle-shape LIST  lifecycle: words (an 8 and a 32-byte object,
                      default) and/or counters (mm_struct's: 4 rss
                      counters, a 16-byte mm_cid region; not
                      pcpu-constructed or pcpu-null)
  --submit LIST       ioctl,uring: how commands reach the module (ioctl)
  --uring-depth N     overhead: commands per io_uring_enter (default 32)
  --latency           per-operation latency histograms (in-kernel workloads)
  --sample-shift S    time one operation in 2^S (default 0: all)
  --repeat N          run each configuration N times in a row
                      (alias --test-repeat-count)
  --shuffle           shuffle the run order (--seed); --sequential undoes it
  --seed N            PRNG seed for shuffling and seeded workloads (1)
  --check             fail a run unless the backend's counters balance and
                      nothing is outstanding after it
  --frag              fragmentation of the zone backends' zones (PCPOOL_IOC_FRAG,
                      drained too) in busy, churn, exit and rand with their
                      live set held; /proc/buddyinfo for kernel (replay: always)
  --mt-mix            in-kernel page workloads on page backends allocate
                      unmovable, movable, movable, reclaimable in turn
                      (PCPOOL_RUN_MT_MIX): migratetypes mix in the zones
  --json FILE         write results as JSON ('-' = stdout; the table then
                      goes to stderr)
  --csv FILE          write results as CSV ('-' = stdout)
  --trace FILE        the page-allocation trace the replay workload replays
                      (traces/, Documentation/replay.rst); replay runs only
                      when named in --workload
  --quiet             no progress and no table; warnings and errors still print
  --counters LIST     counter keys in the table: default (those that matter
                      per backend), all, none, or keys (key* = prefix)
  --device PATH       default /dev/pcpool
  --debugfs DIR       default /sys/kernel/debug/pcpool
  -h, --help

Every option can also be set as PCPOOL_<OPTION> in the environment
(PCPOOL_OPS=1000000, PCPOOL_QUIET=1); the command line wins.
Exit status: 0 all runs passed, 1 a run failed, 2 usage or setup error.
See Documentation/harness.rst for the workloads and output fields.
)";
}

namespace {

struct Planner {
  const Options& opts;
  const pcpool_version& version;
  RunPlan* plan;
  std::set<std::string> warned;

  void Warn(const std::string& w) {
    if (warned.insert(w).second) {
      plan->warnings.push_back(w);
    }
  }

  [[nodiscard]] uint32_t DefaultLive(Workload w, BackendClass cls, uint32_t order) const {
    if (opts.live != 0) {
      return opts.live;
    }
    if (w == Workload::kLongBusy) {
      return kLongBusyList;
    }
    const uint32_t pages = w == Workload::kBusy ? kDefaultBusyPages : kDefaultChurnPages;
    if (cls == BackendClass::kPcpu) {
      return pages;
    }
    return std::max<uint32_t>(16, order < 32 ? pages >> order : 0);
  }

  // The runs of one backend x workload x order x cpus x ops point.
  void Expand(uint32_t backend, BackendClass cls, Workload w, uint32_t order,
              const std::vector<int>& cpus, uint64_t ops) {
    RunSpec base;
    base.backend = backend;
    base.workload = w;
    base.order = order;
    base.cpus = cpus;
    base.ops = ops;
    base.seed = opts.seed;
    base.latency = opts.latency;
    base.sample_shift = opts.sample_shift;
    base.uring_depth = opts.uring_depth;
    if (w == Workload::kReplay) {
      base.trace = opts.trace_path;
    }
    const size_t n = cpus.size();
    switch (w) {
      case Workload::kRepeat:
      case Workload::kRandomSize:
      case Workload::kFixSize:
      case Workload::kFullFit:
      case Workload::kFixAlign:
        break;
      case Workload::kBusy:
      case Workload::kChurn:
      case Workload::kLongBusy:
        base.live = DefaultLive(w, cls, order);
        break;
      case Workload::kLifecycle:
        base.batch = std::min(opts.batch, std::max<uint32_t>(version.nr_cpu_ids, 1));
        break;
      case Workload::kPurger:
        base.batch = opts.batch;
        base.freers = opts.purgers != 0 ? opts.purgers : std::max<unsigned>(1, n / 4);
        base.purge_batch = opts.purge_batch;
        break;
      case Workload::kExit:
        base.batch = static_cast<uint32_t>(
            std::min<uint64_t>(std::max<uint64_t>(opts.batch, kExitAllocChunk), version.max_batch));
        break;
      default:
        base.batch = opts.batch;
        break;
    }

    std::vector<RunSpec> variants;
    if (w == Workload::kOverhead) {
      for (const Submit s : {Submit::kIoctl, Submit::kUring}) {
        RunSpec r = base;
        r.submit = s;
        variants.push_back(r);
      }
      RunSpec r = base;
      r.loop = true;
      variants.push_back(r);
    } else {
      for (const Submit s : opts.submit) {
        RunSpec r = base;
        r.submit = s;
        if (w == Workload::kCounter || w == Workload::kSizes || w == Workload::kLifecycle) {
          const std::vector<uint32_t>& list = w == Workload::kCounter ? opts.counter_shares
                                              : w == Workload::kSizes ? opts.sizes_mixes
                                                                      : opts.lifecycle_shapes;
          for (const uint32_t share : list) {
            if (w == Workload::kLifecycle && share == PCPOOL_LIFECYCLE_COUNTERS &&
                HasNoCounter(backend)) {
              Warn("lifecycle counters do not apply to " + BackendName(backend) + "; skipped");
              continue;
            }
            r.share = share;
            variants.push_back(r);
          }
          continue;
        }
        if (w != Workload::kExit) {
          variants.push_back(r);
          continue;
        }
        std::vector<unsigned> freers = opts.freers;
        if (freers.empty()) {
          freers = {1, static_cast<unsigned>(n)};
        }
        std::set<unsigned> done;
        for (const unsigned f : freers) {
          const unsigned k = std::min<unsigned>(f, n);
          if (done.insert(k).second) {
            r.freers = k;
            variants.push_back(r);
          }
        }
      }
    }
    for (const RunSpec& v : variants) {
      for (unsigned rep = 0; rep < opts.repeat; rep++) {
        RunSpec r = v;
        r.repetition = rep;
        // Seeded workloads differ per repetition, reproducibly.
        r.seed = opts.seed + rep;
        plan->runs.push_back(std::move(r));
      }
    }
  }
};

}  // namespace

RunPlan PlanRuns(const Options& opts, const pcpool_version& version, const BackendCaps& caps,
                 std::span<const int> allowed_cpus) {
  RunPlan plan;
  Planner p{opts, version, &plan, {}};

  std::vector<uint32_t> backends;
  if (opts.backends.empty()) {
    for (uint32_t id = 0; id < 64; id++) {
      if ((version.backends & (1ULL << id)) != 0) {
        backends.push_back(id);
      }
    }
  } else {
    for (const std::string& name : opts.backends) {
      const uint32_t id = *BackendId(name);
      if ((version.backends & (1ULL << id)) == 0) {
        p.Warn("backend '" + name + "' is not in this module; skipped");
      } else {
        backends.push_back(id);
      }
    }
  }
  if (backends.empty()) {
    plan.error = "no backend to run";
    return plan;
  }
  if (opts.batch > version.max_batch) {
    plan.error = "--batch " + std::to_string(opts.batch) + " is above the module's max_batch " +
                 std::to_string(version.max_batch);
    return plan;
  }

  std::vector<std::vector<int>> cpu_sets;
  if (!opts.cpus.empty()) {
    for (const int cpu : opts.cpus) {
      if (std::find(allowed_cpus.begin(), allowed_cpus.end(), cpu) == allowed_cpus.end()) {
        plan.error = "--cpus: CPU " + std::to_string(cpu) + " is not in this process's " +
                     "affinity mask (" + FormatCpuList(allowed_cpus) + ")";
        return plan;
      }
    }
    cpu_sets.push_back(opts.cpus);
  } else if (allowed_cpus.empty()) {
    plan.error = "cannot read this process's CPU affinity";
    return plan;
  } else if (opts.threads.empty()) {
    cpu_sets.emplace_back(allowed_cpus.begin(), allowed_cpus.end());
  } else {
    for (const unsigned n : opts.threads) {
      cpu_sets.push_back(CpusForThreads(n, allowed_cpus));
    }
  }

  std::vector<Workload> all_workloads;
  for (const WorkloadInfo& i : AllWorkloads()) {
    // replay needs a trace: only where asked for.
    if (i.id != Workload::kReplay) {
      all_workloads.push_back(i.id);
    }
  }
  const bool replay = std::find(opts.workloads.begin(), opts.workloads.end(), Workload::kReplay) !=
                      opts.workloads.end();
  if (replay && opts.trace_path.empty()) {
    plan.error = "the replay workload needs --trace FILE";
    return plan;
  }

  for (const uint32_t backend : backends) {
    const auto cap_it = caps.find(backend);
    const BackendCap cap = cap_it != caps.end()
                               ? cap_it->second
                               : BackendCap{DefaultBackendClass(backend), version.max_order};
    const std::string bname = BackendName(backend);
    // --pcpu-workload, where given, replaces --workload for per-CPU backends.
    const std::vector<Workload>& chosen =
        cap.cls == BackendClass::kPcpu && !opts.pcpu_workloads.empty() ? opts.pcpu_workloads
                                                                       : opts.workloads;
    const bool explicit_workloads = !chosen.empty();
    for (const Workload w : explicit_workloads ? chosen : all_workloads) {
      const WorkloadInfo& info = Info(w);
      // PCPU_COUNTER says -EINVAL on a backend without a counter
      if (!Applies(w, cap.cls) || (w == Workload::kCounter && HasNoCounter(backend))) {
        if (explicit_workloads) {
          p.Warn(std::string(info.name) + " does not apply to " + bname + "; skipped");
        }
        continue;
      }
      if (w == Workload::kReplay) {
        // The trace has its own orders, threads and ops: one run.
        p.Expand(backend, cap.cls, w, 0, cpu_sets.front(), opts.ops.front());
        continue;
      }
      for (const uint32_t order_opt : opts.orders) {
        const uint32_t order = order_opt == kPageblockOrder ? version.block_order : order_opt;
        if (order > cap.max_order) {
          p.Warn("order " + std::to_string(order) + " is above " + bname + "'s max_order " +
                 std::to_string(cap.max_order) + "; skipped");
          continue;
        }
        if (order != 0 && (info.vmalloc_only || w == Workload::kLifecycle ||
                           w == Workload::kSizes || w == Workload::kCounter)) {
          p.Warn(std::string(info.name) + " runs at order 0 only; skipped at order " +
                 std::to_string(order));
          continue;
        }
        for (const std::vector<int>& cpus : cpu_sets) {
          if (cpus.size() < info.min_threads) {
            p.Warn(std::string(info.name) + " needs at least " + std::to_string(info.min_threads) +
                   " threads; skipped for " + std::to_string(cpus.size()));
            continue;
          }
          if (w == Workload::kCross && cpus.size() % 2 != 0) {
            p.Warn("cross pairs threads; with an odd count the last thread idles");
          }
          for (const uint64_t ops : opts.ops) {
            p.Expand(backend, cap.cls, w, order, cpus, ops);
          }
        }
      }
    }
  }
  if (plan.runs.empty()) {
    plan.error = "nothing to run";
    return plan;
  }
  if (opts.shuffle) {
    // Shuffle configurations, keeping each one's repetitions together.
    std::vector<std::vector<RunSpec>> groups;
    for (RunSpec& r : plan.runs) {
      if (r.repetition == 0) {
        groups.emplace_back();
      }
      groups.back().push_back(std::move(r));
    }
    std::mt19937_64 rng(opts.seed);
    std::shuffle(groups.begin(), groups.end(), rng);
    plan.runs.clear();
    for (std::vector<RunSpec>& g : groups) {
      for (RunSpec& r : g) {
        plan.runs.push_back(std::move(r));
      }
    }
  }
  return plan;
}

}  // namespace pcpool
