// SPDX-License-Identifier: GPL-2.0
// pcpool-bench: drives /dev/pcpool from pinned threads and reports.
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "context.h"
#include "cpu.h"
#include "device.h"
#include "options.h"
#include "plot.h"
#include "replay.h"
#include "report.h"
#include "runner.h"
#include "summary.h"

namespace pcpool {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

void Warn(const std::string& msg) { std::cerr << "pcpool-bench: warning: " << msg << "\n"; }

int Die(const std::string& msg) {
  std::cerr << "pcpool-bench: " << msg << "\n";
  return kExitUsage;
}

std::string SpecName(const RunSpec& s) {
  RunResult r;
  r.spec = s;
  return RunName(r);
}

// A refreshing progress line only on an interactive terminal: not on a
// serial or system console (the QEMU guest's), whose log it would clutter.
bool ProgressRefreshes() {
  if (isatty(STDERR_FILENO) == 0) {
    return false;
  }
  const char* term = std::getenv("TERM");  // NOLINT(concurrency-mt-unsafe): main thread
  if (term == nullptr || std::string_view(term).empty() || std::string_view(term) == "dumb") {
    return false;
  }
  std::array<char, 256> name{};
  if (ttyname_r(STDERR_FILENO, name.data(), name.size()) != 0) {
    return false;
  }
  const std::string_view tty(name.data());
  return !tty.starts_with("/dev/console") && !tty.starts_with("/dev/ttyS");
}

// Runs @spec on a helper thread while this one shows progress on stderr:
// a refreshed line on a terminal, a line every 10 s otherwise.
RunResult RunWithProgress(const RunSpec& spec, const RunnerConfig& cfg, size_t index, size_t total,
                          bool quiet, bool tty) {
  Progress progress;
  auto fut = std::async(std::launch::async, [&] { return ExecuteRun(spec, cfg, &progress); });
  const std::string label =
      "[" + std::to_string(index + 1) + "/" + std::to_string(total) + "] " + SpecName(spec);
  if (quiet) {
    return fut.get();
  }
  if (!tty) {
    std::cerr << "pcpool-bench: " << label << "\n";
  }
  const auto start = std::chrono::steady_clock::now();
  auto next_line = start + std::chrono::seconds(10);
  const auto tick = tty ? std::chrono::milliseconds(200) : std::chrono::milliseconds(1000);
  while (fut.wait_for(tick) != std::future_status::ready) {
    const double pct =
        100.0 * static_cast<double>(progress.done.load()) / static_cast<double>(spec.ops);
    if (tty) {
      std::fprintf(stderr, "\r\033[Kpcpool-bench: %s %.0f%%", label.c_str(), pct);
    } else if (std::chrono::steady_clock::now() >= next_line) {
      std::fprintf(stderr, "pcpool-bench: %s %.0f%%\n", label.c_str(), pct);
      next_line += std::chrono::seconds(10);
    }
  }
  if (tty) {
    std::fprintf(stderr, "\r\033[K");
  }
  return fut.get();
}

// What each backend is and the orders it takes, from PCPOOL_IOC_STATS;
// the id's usual class and the module-wide max_order if the module does
// not say.
BackendCaps QueryCaps(const Device& dev, const pcpool_version& v) {
  BackendCaps caps;
  for (uint32_t id = 0; id < 64; id++) {
    if ((v.backends & (1ULL << id)) == 0) {
      continue;
    }
    BackendCap cap{DefaultBackendClass(id), v.max_order};
    const Result<pcpool_stats> st = dev.Stats(id);
    if (st.ok() && st.value.max_order != 0) {
      cap.max_order = st.value.max_order;
      if (st.value.kind == PCPOOL_KIND_PCPU) {
        cap.cls = BackendClass::kPcpu;
      } else if (cap.cls == BackendClass::kPcpu) {
        cap.cls = BackendClass::kPages;
      }
    }
    caps[id] = cap;
  }
  return caps;
}

int Main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "plot") {
    return PlotMain(std::span<const char* const>(argv + 2, static_cast<size_t>(argc - 2)));
  }
  const ParsedOptions parsed =
      ParseOptions(std::span<const char* const>(argv + 1, static_cast<size_t>(argc - 1)));
  if (!parsed.options) {
    std::cerr << "pcpool-bench: " << parsed.error << "\n(pcpool-bench --help for usage)\n";
    return kExitUsage;
  }
  const Options& opts = *parsed.options;
  if (opts.help) {
    std::cout << UsageText();
    return 0;
  }

  Result<Device> dev = Device::Open(opts.device);
  if (!dev.ok()) {
    std::string hint;
    if (dev.err == -ENOENT) {
      hint = " (is the module loaded? insmod kmod/pcpool.ko)";
    } else if (dev.err == -EACCES || dev.err == -EPERM) {
      hint = " (run as root)";
    }
    return Die("open " + opts.device + ": " + dev.ErrorString() + hint);
  }
  const Result<pcpool_version> version = dev.value.Version();
  if (!version.ok()) {
    return Die("PCPOOL_IOC_VERSION: " + version.ErrorString());
  }
  if (version.value.abi_version != PCPOOL_ABI_VERSION) {
    return Die("module ABI version " + std::to_string(version.value.abi_version) +
               ", this harness speaks " + std::to_string(PCPOOL_ABI_VERSION));
  }
  const BackendCaps caps = QueryCaps(dev.value, version.value);
  dev.value.Close();

  const std::vector<int> allowed = AllowedCpus();
  RunPlan plan = PlanRuns(opts, version.value, caps, allowed);
  for (const std::string& w : plan.warnings) {
    Warn(w);
  }
  if (!plan.error.empty()) {
    return Die(plan.error);
  }
  std::shared_ptr<const Trace> trace;
  if (!opts.trace_path.empty()) {
    std::string why;
    std::optional<Trace> t = ReadTrace(opts.trace_path, &why);
    if (!t) {
      return Die("--trace: " + why);
    }
    if (t->events.empty()) {
      return Die("--trace: " + opts.trace_path + " has no events");
    }
    trace = std::make_shared<const Trace>(std::move(*t));
    for (RunSpec& s : plan.runs) {
      if (s.workload != Workload::kReplay) {
        continue;
      }
      const auto cap = caps.find(s.backend);
      if (cap != caps.end() && trace->max_order > cap->second.max_order) {
        return Die("--trace: order " + std::to_string(trace->max_order) + " events, above " +
                   BackendName(s.backend) + "'s max_order " +
                   std::to_string(cap->second.max_order));
      }
      PinReplay(*trace, &s);
    }
  }

  // Outputs. A '-' file takes stdout, and the table moves to stderr.
  std::vector<std::unique_ptr<std::ofstream>> files;
  std::vector<std::unique_ptr<Reporter>> reporters;
  bool stdout_taken = false;
  auto open_output = [&](const std::string& path) -> std::ostream* {
    if (path == "-") {
      stdout_taken = true;
      return &std::cout;
    }
    files.push_back(std::make_unique<std::ofstream>(path));
    if (!*files.back()) {
      return nullptr;
    }
    return files.back().get();
  };
  if (!opts.json_path.empty()) {
    std::ostream* out = open_output(opts.json_path);
    if (out == nullptr) {
      return Die("cannot write " + opts.json_path);
    }
    reporters.push_back(std::make_unique<JsonReporter>(*out));
  }
  if (!opts.csv_path.empty()) {
    std::ostream* out = open_output(opts.csv_path);
    if (out == nullptr) {
      return Die("cannot write " + opts.csv_path);
    }
    reporters.push_back(std::make_unique<CsvReporter>(*out));
  }
  if (!opts.quiet) {
    reporters.push_back(
        std::make_unique<ConsoleReporter>(stdout_taken ? std::cerr : std::cout, opts.counters));
  }

  Context ctx = CollectContext(argc > 0 ? argv[0] : "pcpool-bench");
  ctx.module = version.value;
  for (uint32_t id = 0; id < 64; id++) {
    if ((version.value.backends & (1ULL << id)) != 0) {
      ctx.module_backends.push_back(BackendName(id));
    }
  }
  std::set<int> pinned;
  size_t max_threads = 0;
  size_t max_threads_distinct = 0;
  for (const RunSpec& s : plan.runs) {
    pinned.insert(s.cpus.begin(), s.cpus.end());
    if (s.cpus.size() > max_threads) {
      max_threads = s.cpus.size();
      max_threads_distinct = std::set<int>(s.cpus.begin(), s.cpus.end()).size();
    }
  }
  ctx.pinned_cpus = FormatCpuList(std::vector<int>(pinned.begin(), pinned.end()));
  ctx.warnings = NoisySetupWarnings(ctx, max_threads, max_threads_distinct);
  ctx.plan_warnings = plan.warnings;
  for (auto& r : reporters) {
    r->ReportContext(ctx);
  }

  RunnerConfig cfg;
  cfg.device = opts.device;
  cfg.debugfs = opts.debugfs;
  cfg.nr_channels = version.value.nr_channels;
  cfg.max_batch = version.value.max_batch;
  cfg.check = opts.check;
  cfg.frag = opts.frag;
  cfg.mt_mix = opts.mt_mix;
  cfg.trace = trace;
  int status = 0;
  const bool tty = ProgressRefreshes();
  std::vector<RunResult> done;
  done.reserve(plan.runs.size());
  for (size_t i = 0; i < plan.runs.size(); i++) {
    const RunResult result =
        RunWithProgress(plan.runs[i], cfg, i, plan.runs.size(), opts.quiet, tty);
    if (!result.ok()) {
      std::cerr << "pcpool-bench: " << SpecName(result.spec) << " failed: " << result.error << "\n";
      status = kExitFailed;
    }
    for (auto& r : reporters) {
      r->ReportRuns(std::span<const RunResult>(&result, 1));
    }
    done.push_back(result);
  }
  const Summary summary = Summarize(done);
  for (auto& r : reporters) {
    if (!summary.Empty()) {
      r->ReportSummary(summary);
    }
    r->Finalize();
  }
  for (auto& f : files) {
    f->close();
    if (!*f) {
      std::cerr << "pcpool-bench: error writing an output file\n";
      status = kExitFailed;
    }
  }
  if (!std::cout.flush()) {
    status = kExitFailed;
  }
  return status;
}

}  // namespace
}  // namespace pcpool

int main(int argc, char** argv) { return pcpool::Main(argc, argv); }
