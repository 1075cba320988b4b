// SPDX-License-Identifier: GPL-2.0
#include "options.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "cpu.h"

namespace pcpool {
namespace {

constexpr std::array<std::string_view, 4> kBackendNames = {"kernel", "null", "classic", "pcpbuddy"};
static_assert(PCPOOL_BACKEND_KERNEL == 0 && PCPOOL_BACKEND_NULL == 1 &&
              PCPOOL_BACKEND_CLASSIC == 2 && PCPOOL_BACKEND_PCPBUDDY == 3);

constexpr std::array<std::string_view, 3> kWorkloadNames = {"repeat", "bulk", "cross"};

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
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && *out >= min && *out <= max;
}

template <typename T>
bool ParseNumberList(std::string_view flag, std::string_view value, T min, T max,
                     std::vector<T>* out, std::string* error) {
  out->clear();
  for (const std::string_view item : SplitComma(value)) {
    T n{};
    if (!ParseNumber(item, min, max, &n)) {
      *error = "--" + std::string(flag) + ": '" + std::string(item) + "' is not a number in " +
               std::to_string(min) + ".." + std::to_string(max);
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

enum class Arg { kNone, kRequired };

struct Flag {
  std::string_view name;
  Arg arg;
};

constexpr std::array<Flag, 13> kFlags = {{
    {"backend", Arg::kRequired},
    {"workload", Arg::kRequired},
    {"order", Arg::kRequired},
    {"threads", Arg::kRequired},
    {"cpus", Arg::kRequired},
    {"ops", Arg::kRequired},
    {"batch", Arg::kRequired},
    {"json", Arg::kRequired},
    {"csv", Arg::kRequired},
    {"quiet", Arg::kNone},
    {"device", Arg::kRequired},
    {"debugfs", Arg::kRequired},
    {"help", Arg::kNone},
}};

std::string EnvName(std::string_view flag) {
  std::string name = "PCPOOL_";
  for (const char c : flag) {
    name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return name;
}

bool Apply(std::string_view flag, std::string_view value, Options* o, std::string* error) {
  if (flag == "backend") {
    o->backends.clear();
    for (const std::string_view name : SplitComma(value)) {
      if (!BackendId(name)) {
        *error = "--backend: unknown backend '" + std::string(name) +
                 "' (known: kernel, null, classic, pcpbuddy)";
        return false;
      }
      if (std::find(o->backends.begin(), o->backends.end(), name) == o->backends.end()) {
        o->backends.emplace_back(name);
      }
    }
  } else if (flag == "workload") {
    o->workloads.clear();
    for (const std::string_view name : SplitComma(value)) {
      const std::optional<Workload> w = WorkloadFromName(name);
      if (!w) {
        *error =
            "--workload: unknown workload '" + std::string(name) + "' (known: repeat, bulk, cross)";
        return false;
      }
      if (std::find(o->workloads.begin(), o->workloads.end(), *w) == o->workloads.end()) {
        o->workloads.push_back(*w);
      }
    }
  } else if (flag == "order") {
    return ParseNumberList<uint32_t>(flag, value, 0, 63, &o->orders, error);
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
    if (!ParseNumber<uint32_t>(value, 1, PCPOOL_MAX_BATCH, &o->batch)) {
      *error = "--batch: '" + std::string(value) + "' is not a number in 1.." +
               std::to_string(PCPOOL_MAX_BATCH);
      return false;
    }
  } else if (flag == "json") {
    o->json_path = value;
  } else if (flag == "csv") {
    o->csv_path = value;
  } else if (flag == "quiet") {
    return ParseBool(flag, value, &o->quiet, error);
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
  for (uint32_t id = 0; id < kBackendNames.size(); id++) {
    if (kBackendNames[id] == name) {
      return id;
    }
  }
  return std::nullopt;
}

std::string BackendName(uint32_t id) {
  if (id < kBackendNames.size()) {
    return std::string(kBackendNames[id]);
  }
  return "backend" + std::to_string(id);
}

std::optional<Workload> WorkloadFromName(std::string_view name) {
  for (size_t i = 0; i < kWorkloadNames.size(); i++) {
    if (kWorkloadNames[i] == name) {
      return static_cast<Workload>(i);
    }
  }
  return std::nullopt;
}

std::string_view WorkloadName(Workload w) { return kWorkloadNames.at(static_cast<size_t>(w)); }

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

  // Environment first, so the command line overrides it.
  for (const Flag& f : kFlags) {
    if (f.name == "help") {
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
    if (!Apply(flag->name, value.value_or(""), &o, &error)) {
      return fail();
    }
    seen.insert(flag->name);
  }
  if (seen.contains("threads") && seen.contains("cpus")) {
    error = "--threads and --cpus are exclusive";
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
  return R"(usage: pcpool-bench [options]

Runs allocation workloads in /dev/pcpool from pinned threads and reports
in-kernel ns per operation. Comma lists run every combination.

  --backend LIST    kernel,null,classic,pcpbuddy (default: all the module has)
  --workload LIST   repeat,bulk,cross (default: all)
  --order K[,K..]   allocation order (default 0)
  --threads N[,N..] threads, pinned to the first N allowed CPUs
                    (default: one per allowed CPU)
  --cpus LIST       one thread per CPU in a cpulist such as 0-3,8;
                    cross pairs them in order: producer, consumer, ...
  --ops N[,N..]     alloc+free pairs per run, split over threads (default 100000)
  --batch N         bulk batch and cross channel batch (default 64)
  --json FILE       write results as JSON ('-' = stdout; the table then
                    goes to stderr)
  --csv FILE        write results as CSV ('-' = stdout)
  --quiet           no progress and no table; warnings and errors still print
  --device PATH     default /dev/pcpool
  --debugfs DIR     default /sys/kernel/debug/pcpool
  -h, --help

Every option can also be set as PCPOOL_<OPTION> in the environment
(PCPOOL_OPS=1000000, PCPOOL_QUIET=1); the command line wins.
Exit status: 0 all runs passed, 1 a run failed, 2 usage or setup error.
See Documentation/harness.rst for the output fields.
)";
}

std::vector<uint64_t> SplitOps(uint64_t total, size_t units) {
  std::vector<uint64_t> shares(units, 0);
  if (units == 0) {
    return shares;
  }
  for (size_t i = 0; i < units; i++) {
    shares[i] = total / units + (i < total % units ? 1 : 0);
  }
  return shares;
}

RunPlan PlanRuns(const Options& opts, const pcpool_version& version,
                 std::span<const int> allowed_cpus) {
  RunPlan plan;
  std::vector<uint32_t> backends;
  if (opts.backends.empty()) {
    for (uint32_t id = 0; id < kBackendNames.size(); id++) {
      if ((version.backends & (1ULL << id)) != 0) {
        backends.push_back(id);
      }
    }
  } else {
    for (const std::string& name : opts.backends) {
      const uint32_t id = *BackendId(name);
      if ((version.backends & (1ULL << id)) == 0) {
        plan.warnings.push_back("backend '" + name + "' is not in this module; skipped");
      } else {
        backends.push_back(id);
      }
    }
  }
  if (backends.empty()) {
    plan.error = "no backend to run";
    return plan;
  }
  for (const uint32_t order : opts.orders) {
    if (order > version.max_order) {
      plan.error = "--order " + std::to_string(order) + " is above the module's max_order " +
                   std::to_string(version.max_order);
      return plan;
    }
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

  bool warned_cross_single = false;
  bool warned_cross_odd = false;
  for (const uint32_t backend : backends) {
    for (const Workload w : opts.workloads) {
      for (const uint32_t order : opts.orders) {
        for (const std::vector<int>& cpus : cpu_sets) {
          if (w == Workload::kCross && cpus.size() < 2) {
            if (!warned_cross_single) {
              plan.warnings.emplace_back("cross needs at least 2 threads; skipped for 1 thread");
              warned_cross_single = true;
            }
            continue;
          }
          if (w == Workload::kCross && cpus.size() % 2 != 0 && !warned_cross_odd) {
            plan.warnings.emplace_back(
                "cross pairs threads; with an odd count the last thread idles");
            warned_cross_odd = true;
          }
          for (const uint64_t ops : opts.ops) {
            RunSpec spec;
            spec.backend = backend;
            spec.workload = w;
            spec.order = order;
            spec.cpus = cpus;
            spec.ops = ops;
            spec.batch = w == Workload::kRepeat ? 0 : opts.batch;
            plan.runs.push_back(std::move(spec));
          }
        }
      }
    }
  }
  if (plan.runs.empty()) {
    plan.error = "nothing to run";
  }
  return plan;
}

}  // namespace pcpool
