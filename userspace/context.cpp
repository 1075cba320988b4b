// SPDX-License-Identifier: GPL-2.0
#include "context.h"

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

}  // namespace

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
