// SPDX-License-Identifier: GPL-2.0
// Where a run happened: the "context" block of the reports.
#ifndef PCPOOL_USERSPACE_CONTEXT_H_
#define PCPOOL_USERSPACE_CONTEXT_H_

#include <linux/pcpool.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pcpool {

struct Context {
  std::string date;  // ISO 8601, local time with offset
  std::string host_name;
  std::string executable;
  std::string kernel_release;                       // uname -r
  std::string machine;                              // uname -m
  int num_cpus = 0;                                 // online CPUs
  std::string allowed_cpus;                         // this process's affinity, cpulist
  std::string pinned_cpus;                          // union of the CPUs threads are pinned to
  std::optional<double> mhz_per_cpu;                // /proc/cpuinfo, first CPU
  std::optional<std::string> cpu_scaling_governor;  // cpu0 cpufreq
  std::vector<double> load_avg;
  std::string emulation;  // "" or what gave it away
  std::string library_build_type;
  // Page zeroing (init_on_alloc=, init_on_free=) as the running kernel has
  // it; nullopt when nothing says. @mem_init_source: where it was read.
  std::optional<bool> init_on_alloc;
  std::optional<bool> init_on_free;
  std::string mem_init_source;
  pcpool_version module{};                   // PCPOOL_IOC_VERSION as the module answered
  std::vector<std::string> module_backends;  // names of module.backends bits
  std::vector<std::string> warnings;         // noisy setup, see NoisySetupWarnings
  std::vector<std::string> plan_warnings;    // backends or runs skipped
};

// Non-empty when /proc/cpuinfo's flags include "hypervisor" or the DMI
// vendor names a known emulator or hypervisor: "QEMU (sys_vendor)", ...
std::string DetectEmulation(std::string_view cpuinfo, std::string_view sys_vendor);

// "cpu MHz" of the first processor in /proc/cpuinfo.
std::optional<double> ParseCpuMhz(std::string_view cpuinfo);

// The kernel's boot line "mem auto-init: stack:..., heap alloc:on, heap
// free:off" (init/main.c report_meminit()), the last one in @log: the
// zeroing in effect, after the command line and CONFIG_PAGE_POISONING.
struct MemAutoInit {
  bool alloc = false;
  bool free = false;
};
std::optional<MemAutoInit> ParseMemAutoInit(std::string_view log);

// The last "@key=value" of a kernel command line, read as kstrtobool()
// does; nullopt when absent or not a boolean (the kernel ignores those).
std::optional<bool> ParseCmdlineBool(std::string_view cmdline, std::string_view key);

// "CONFIG_X=y" true, "# CONFIG_X is not set" false, else nullopt.
std::optional<bool> ParseKconfigBool(std::string_view config, std::string_view symbol);

// Fills everything but module/module_backends/pinned_cpus/warnings.
Context CollectContext(const std::string& executable);

// Setup problems that make figures noisy: more threads than CPUs, an
// emulator, a power-saving governor, ... One line each, without prefix.
std::vector<std::string> NoisySetupWarnings(const Context& ctx, size_t max_threads,
                                            size_t distinct_cpus);

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_CONTEXT_H_
