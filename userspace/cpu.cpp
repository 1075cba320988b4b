// SPDX-License-Identifier: GPL-2.0
#include "cpu.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace pcpool {
namespace {

bool ParseCpu(std::string_view s, int* cpu) {
  if (s.empty()) {
    return false;
  }
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *cpu);
  return ec == std::errc() && ptr == s.data() + s.size() && *cpu >= 0 && *cpu <= kMaxCpu;
}

bool Fail(std::string* error, std::string msg) {
  if (error != nullptr) {
    *error = std::move(msg);
  }
  return false;
}

bool ParseItem(std::string_view item, std::vector<int>* out, std::set<int>* seen,
               std::string* error) {
  int first = 0;
  int last = 0;
  const size_t dash = item.find('-');
  if (dash == std::string_view::npos) {
    if (!ParseCpu(item, &first)) {
      return Fail(error, "bad CPU number '" + std::string(item) + "'");
    }
    last = first;
  } else if (!ParseCpu(item.substr(0, dash), &first) || !ParseCpu(item.substr(dash + 1), &last)) {
    return Fail(error, "bad CPU range '" + std::string(item) + "'");
  } else if (last < first) {
    return Fail(error, "descending CPU range '" + std::string(item) + "'");
  }
  for (int cpu = first; cpu <= last; cpu++) {
    if (!seen->insert(cpu).second) {
      return Fail(error, "CPU " + std::to_string(cpu) + " listed twice");
    }
    out->push_back(cpu);
  }
  return true;
}

struct CpuSetFree {
  void operator()(cpu_set_t* set) const { CPU_FREE(set); }
};
using CpuSetPtr = std::unique_ptr<cpu_set_t, CpuSetFree>;

}  // namespace

std::optional<std::vector<int>> ParseCpuList(std::string_view text, std::string* error) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    Fail(error, "empty CPU list");
    return std::nullopt;
  }
  std::vector<int> cpus;
  std::set<int> seen;
  while (true) {
    const size_t comma = text.find(',');
    if (!ParseItem(text.substr(0, comma), &cpus, &seen, error)) {
      return std::nullopt;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    text.remove_prefix(comma + 1);
  }
  return cpus;
}

std::string FormatCpuList(std::span<const int> cpus) {
  std::vector<int> sorted(cpus.begin(), cpus.end());
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) {
      j++;
    }
    if (!out.empty()) {
      out += ',';
    }
    out += std::to_string(sorted[i]);
    if (j > i) {
      out += '-' + std::to_string(sorted[j]);
    }
    i = j + 1;
  }
  return out;
}

int PinThread(int cpu) {
  if (cpu < 0) {
    return 0;
  }
  // CPU_ALLOC rather than a fixed cpu_set_t: no 1024-CPU ceiling.
  const CpuSetPtr set(CPU_ALLOC(cpu + 1));
  if (!set) {
    return ENOMEM;
  }
  const size_t size = CPU_ALLOC_SIZE(cpu + 1);
  CPU_ZERO_S(size, set.get());
  CPU_SET_S(cpu, size, set.get());
  const int ret = pthread_setaffinity_np(pthread_self(), size, set.get());
  if (ret != 0) {
    std::fprintf(stderr, "pcpool-bench: pthread_setaffinity_np(cpu %d): %s\n", cpu,
                 std::error_code(ret, std::generic_category()).message().c_str());
  }
  return ret;
}

std::vector<int> AllowedCpus() {
  std::vector<int> cpus;
  // Grow the mask until the kernel's cpumask fits (EINVAL means too small).
  for (int n = 1024; n <= kMaxCpu + 1; n *= 2) {
    const CpuSetPtr set(CPU_ALLOC(n));
    if (!set) {
      break;
    }
    const size_t size = CPU_ALLOC_SIZE(n);
    CPU_ZERO_S(size, set.get());
    if (sched_getaffinity(0, size, set.get()) == 0) {
      for (int cpu = 0; cpu < n; cpu++) {
        if (CPU_ISSET_S(cpu, size, set.get())) {
          cpus.push_back(cpu);
        }
      }
      break;
    }
    if (errno != EINVAL) {
      break;
    }
  }
  return cpus;
}

std::vector<int> CpusForThreads(unsigned threads, std::span<const int> allowed) {
  std::vector<int> cpus;
  if (allowed.empty()) {
    return cpus;
  }
  cpus.reserve(threads);
  for (unsigned i = 0; i < threads; i++) {
    cpus.push_back(allowed[i % allowed.size()]);
  }
  return cpus;
}

}  // namespace pcpool
