// SPDX-License-Identifier: GPL-2.0
// What the core benches share: --pcpool_pin (benchmark thread t runs on the
// t-th CPU the process was allowed at start, wrapping, so "CPU t" of the
// model is one real CPU, as the harness pins its threads in the guest),
// and Google Benchmark's main once our flags are taken out.
#ifndef PCPOOL_BENCH_CORE_COMMON_H_
#define PCPOOL_BENCH_CORE_COMMON_H_

#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sched.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace pcpool_bench {

// The CPUs the process may run on, read once before any thread pins
// itself (Google Benchmark runs thread 0 on the main thread, whose mask
// every later benchmark's threads would inherit).
inline const std::vector<int>& AllowedCpus() {
  static const std::vector<int> cpus = [] {
    std::vector<int> v;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
      for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set)) {
          v.push_back(c);
        }
      }
    }
    return v;
  }();
  return cpus;
}

// Pin the calling thread to the @index-th allowed CPU; false if it could
// not be done.
inline bool PinThread(unsigned index) {
  const std::vector<int>& cpus = AllowedCpus();
  if (cpus.empty()) {
    return false;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpus[index % cpus.size()], &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

// One of our --pcpool_NAME=N flags: true when @arg is it (*@v set, or
// *@bad set and a line on stderr when N is not a count in [lo, hi]).
inline bool CountFlag(const char* arg, const char* name, int64_t lo, int64_t hi, int64_t* v,
                      bool* bad) {
  const size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0) {
    return false;
  }
  char* end = nullptr;
  *v = std::strtoll(arg + n, &end, 10);
  if (*end != '\0' || arg[n] == '\0' || *v < lo || *v > hi) {
    std::fprintf(stderr, "%s wants a count from %lld to %lld\n", name, static_cast<long long>(lo),
                 static_cast<long long>(hi));
    *bad = true;
  }
  return true;
}

// Google Benchmark on what is left of argv; the benchmarks are registered.
inline int RunBenchmarks(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace pcpool_bench

#endif  // PCPOOL_BENCH_CORE_COMMON_H_
