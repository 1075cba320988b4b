// SPDX-License-Identifier: GPL-2.0
#include "context.h"

#include <sys/klog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "counters.h"
#include "cpu.h"

#ifndef PCPOOL_BUILD_TYPE
#define PCPOOL_BUILD_TYPE "unknown"
#endif

namespace pcpool {
namespace {

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kBlanks = " \t\r\n";
  const size_t first = s.find_first_not_of(kBlanks);
  if (first == std::string_view::npos) {
    return {};
  }
  return s.substr(first, s.find_last_not_of(kBlanks) - first + 1);
}

// Value of the first "key<blanks>: value" line of /proc/cpuinfo.
std::optional<std::string_view> CpuinfoField(std::string_view cpuinfo, std::string_view key) {
  while (!cpuinfo.empty()) {
    const size_t nl = cpuinfo.find('\n');
    const std::string_view line = cpuinfo.substr(0, nl);
    cpuinfo.remove_prefix(nl == std::string_view::npos ? cpuinfo.size() : nl + 1);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos && Trim(line.substr(0, colon)) == key) {
      return Trim(line.substr(colon + 1));
    }
  }
  return std::nullopt;
}

std::string IsoDate() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  std::array<char, 64> buf{};
  const size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%S%z", &tm);
  return {buf.data(), n};
}

// The kernel ring buffer (root, or dmesg_restrict off); "" if unreadable.
std::string ReadKernelLog() {
  constexpr int kSyslogActionReadAll = 3;
  constexpr int kSyslogActionSizeBuffer = 10;
  const int size = klogctl(kSyslogActionSizeBuffer, nullptr, 0);
  if (size <= 0) {
    return "";
  }
  std::string buf(static_cast<size_t>(size), '\0');
  const int n = klogctl(kSyslogActionReadAll, buf.data(), size);
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

// Boot log first; else the command line over the kernel's built-in default.
void CollectMemInit(Context* ctx) {
  if (const auto m = ParseMemAutoInit(ReadKernelLog())) {
    ctx->init_on_alloc = m->alloc;
    ctx->init_on_free = m->free;
    ctx->mem_init_source = "kernel log (mem auto-init)";
    return;
  }
  const std::string cmdline = ReadTextFile("/proc/cmdline").value_or("");
  const std::string config_path = "/boot/config-" + ctx->kernel_release;
  const std::string config = ReadTextFile(config_path).value_or("");
  std::vector<std::string> from;
  auto pick = [&](std::string_view key, std::string_view symbol, std::optional<bool>* out) {
    if ((*out = ParseCmdlineBool(cmdline, key))) {
      from.emplace_back("/proc/cmdline");
    } else if ((*out = ParseKconfigBool(config, symbol))) {
      from.push_back(config_path);
    }
  };
  pick("init_on_alloc", "CONFIG_INIT_ON_ALLOC_DEFAULT_ON", &ctx->init_on_alloc);
  pick("init_on_free", "CONFIG_INIT_ON_FREE_DEFAULT_ON", &ctx->init_on_free);
  for (const std::string& f : from) {
    if (ctx->mem_init_source.find(f) == std::string::npos) {
      ctx->mem_init_source += (ctx->mem_init_source.empty() ? "" : ", ") + f;
    }
  }
}

}  // namespace

std::optional<MemAutoInit> ParseMemAutoInit(std::string_view log) {
  constexpr std::string_view kTag = "mem auto-init: stack:";
  const size_t at = log.rfind(kTag);
  if (at == std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view line = log.substr(at);
  line = line.substr(0, line.find('\n'));
  auto field = [&](std::string_view name) -> std::optional<bool> {
    const size_t p = line.find(name);
    if (p == std::string_view::npos) {
      return std::nullopt;
    }
    const std::string_view v = line.substr(p + name.size());
    if (v.starts_with("on")) {
      return true;
    }
    if (v.starts_with("off")) {
      return false;
    }
    return std::nullopt;
  };
  const std::optional<bool> alloc = field("heap alloc:");
  const std::optional<bool> free = field("heap free:");
  if (!alloc || !free) {
    return std::nullopt;
  }
  return MemAutoInit{*alloc, *free};
}

std::optional<bool> ParseCmdlineBool(std::string_view cmdline, std::string_view key) {
  std::optional<bool> value;
  std::istringstream words{std::string(cmdline)};
  std::string word;
  while (words >> word) {
    if (word.size() <= key.size() || !word.starts_with(key) || word[key.size()] != '=') {
      continue;
    }
    const std::string_view v = std::string_view{word}.substr(key.size() + 1);
    // lib/kstrtox.c kstrtobool(): the first character, "on"/"off" by the second.
    if (v.empty()) {
      continue;
    }
    switch (v[0]) {
      case '1':
      case 'y':
      case 'Y':
      case 't':
      case 'T':
        value = true;
        break;
      case '0':
      case 'n':
      case 'N':
      case 'f':
      case 'F':
        value = false;
        break;
      case 'o':
      case 'O':
        if (v.size() > 1 && (v[1] == 'n' || v[1] == 'N')) {
          value = true;
        } else if (v.size() > 1 && (v[1] == 'f' || v[1] == 'F')) {
          value = false;
        }
        break;
      default:
        break;
    }
  }
  return value;
}

std::optional<bool> ParseKconfigBool(std::string_view config, std::string_view symbol) {
  const std::string set = std::string(symbol) + "=y";
  const std::string unset = "# " + std::string(symbol) + " is not set";
  while (!config.empty()) {
    const size_t nl = config.find('\n');
    const std::string_view line = Trim(config.substr(0, nl));
    config.remove_prefix(nl == std::string_view::npos ? config.size() : nl + 1);
    if (line == set) {
      return true;
    }
    if (line == unset) {
      return false;
    }
  }
  return std::nullopt;
}

std::string DetectEmulation(std::string_view cpuinfo, std::string_view sys_vendor) {
  const std::string_view vendor = Trim(sys_vendor);
  static constexpr std::array<std::string_view, 5> kVendors = {"QEMU", "Bochs", "VMware", "innotek",
                                                               "Xen"};
  for (const std::string_view v : kVendors) {
    if (vendor.find(v) != std::string_view::npos) {
      return std::string(vendor) + " (sys_vendor)";
    }
  }
  if (const auto flags = CpuinfoField(cpuinfo, "flags")) {
    std::istringstream words{std::string(*flags)};
    std::string word;
    while (words >> word) {
      if (word == "hypervisor") {
        return "hypervisor flag in /proc/cpuinfo";
      }
    }
  }
  if (const auto model = CpuinfoField(cpuinfo, "model name")) {
    if (model->find("QEMU") != std::string_view::npos) {
      return std::string(*model) + " (model name)";
    }
  }
  return "";
}

std::optional<double> ParseCpuMhz(std::string_view cpuinfo) {
  const auto mhz = CpuinfoField(cpuinfo, "cpu MHz");
  if (!mhz) {
    return std::nullopt;
  }
  double v = 0;
  const auto [ptr, ec] = std::from_chars(mhz->data(), mhz->data() + mhz->size(), v);
  if (ec != std::errc() || ptr != mhz->data() + mhz->size()) {
    return std::nullopt;
  }
  return v;
}

Context CollectContext(const std::string& executable) {
  Context ctx;
  ctx.date = IsoDate();
  ctx.executable = executable;
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) == 0) {
    ctx.host_name = host.data();
  }
  struct utsname uts {};
  if (uname(&uts) == 0) {
    ctx.kernel_release = uts.release;
    ctx.machine = uts.machine;
  }
  ctx.num_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  ctx.allowed_cpus = FormatCpuList(AllowedCpus());
  const std::string cpuinfo = ReadTextFile("/proc/cpuinfo").value_or("");
  ctx.mhz_per_cpu = ParseCpuMhz(cpuinfo);
  if (auto gov = ReadTextFile("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")) {
    ctx.cpu_scaling_governor = std::string(Trim(*gov));
  }
  std::array<double, 3> load{};
  if (getloadavg(load.data(), 3) == 3) {
    ctx.load_avg.assign(load.begin(), load.end());
  }
  ctx.emulation =
      DetectEmulation(cpuinfo, ReadTextFile("/sys/class/dmi/id/sys_vendor").value_or(""));
  ctx.library_build_type = PCPOOL_BUILD_TYPE;
  CollectMemInit(&ctx);
  return ctx;
}

std::vector<std::string> NoisySetupWarnings(const Context& ctx, size_t max_threads,
                                            size_t distinct_cpus) {
  std::vector<std::string> w;
  if (!ctx.emulation.empty()) {
    w.push_back("Running under emulation or a hypervisor (" + ctx.emulation +
                "): compare ratios within this run, not absolute figures across runs.");
  }
  if (ctx.num_cpus > 0 && max_threads > static_cast<size_t>(ctx.num_cpus)) {
    w.push_back("More threads (" + std::to_string(max_threads) + ") than online CPUs (" +
                std::to_string(ctx.num_cpus) + "): threads share CPUs, figures include waiting.");
  } else if (max_threads > distinct_cpus) {
    w.push_back("More threads (" + std::to_string(max_threads) + ") than allowed CPUs (" +
                std::to_string(distinct_cpus) + "): threads share CPUs.");
  }
  if (ctx.cpu_scaling_governor && *ctx.cpu_scaling_governor != "performance") {
    w.push_back("CPU scaling governor is '" + *ctx.cpu_scaling_governor +
                "', not 'performance': frequency may change during runs.");
  }
  if (ctx.load_avg.size() == 3 && ctx.num_cpus > 0 &&
      ctx.load_avg[0] > 0.5 * static_cast<double>(ctx.num_cpus)) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%.2f", ctx.load_avg[0]);
    w.push_back(std::string("Load average ") + buf.data() +
                " is high for this machine: other work competes with the run.");
  }
  return w;
}

}  // namespace pcpool
