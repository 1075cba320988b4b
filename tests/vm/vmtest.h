// SPDX-License-Identifier: GPL-2.0
// Helpers shared by the guest tests (pcpool_vmtest.cpp, pcpu_vmtest.cpp,
// uring_vmtest.cpp): raw ioctls on /dev/pcpool and reads of
// /sys/kernel/debug/pcpool, no harness library in between, so the tests
// check the ABI itself.
#ifndef PCPOOL_TESTS_VM_VMTEST_H_
#define PCPOOL_TESTS_VM_VMTEST_H_

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/pcpool.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace vmtest {

inline constexpr const char* kDevice = "/dev/" PCPOOL_DEVICE_NAME;
inline constexpr const char* kDebugfs = "/sys/kernel/debug/pcpool";
inline constexpr const char* kParams = "/sys/module/pcpool/parameters";

// 0 or -errno; EINTR retried here only.
inline int Ioctl(int fd, unsigned long request, void* arg) {
  int ret = 0;
  do {
    ret = ioctl(fd, request, arg);
  } while (ret < 0 && errno == EINTR);
  return ret < 0 ? -errno : ret;
}

// A command struct with its size set.
template <typename T>
T Arg() {
  T t{};
  t.size = sizeof(T);
  return t;
}

inline int OpenDevice() { return open(kDevice, O_RDWR | O_CLOEXEC); }

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool WriteFile(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value << std::flush;
  return out.good();
}

// "key value" lines (debugfs counters, outstanding) as a map. A line may
// carry a marker word after the value (Documentation/abi.rst); it is
// ignored here.
inline std::map<std::string, int64_t> ReadKeyValues(const std::string& path) {
  std::map<std::string, int64_t> out;
  std::istringstream in(ReadFile(path));
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    int64_t value = 0;
    if (fields >> key >> value) out[key] = value;
  }
  return out;
}

inline std::map<std::string, int64_t> Outstanding() {
  return ReadKeyValues(std::string(kDebugfs) + "/outstanding");
}

inline std::map<std::string, int64_t> Counters(const std::string& backend) {
  return ReadKeyValues(std::string(kDebugfs) + "/" + backend + "/counters");
}

// debugfs fail_nth: the n-th allocation from now fails; 0 disarms.
inline bool SetFailNth(int n) {
  return WriteFile(std::string(kDebugfs) + "/fail_nth", std::to_string(n));
}

inline std::string ReadParam(const std::string& name) {
  std::ifstream in(std::string(kParams) + "/" + name);
  std::string v;
  in >> v;
  return v;
}

inline bool WriteParam(const std::string& name, const std::string& value) {
  return WriteFile(std::string(kParams) + "/" + name, value);
}

inline bool PinSelf(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
}

inline std::vector<int> OnlineCpus() {
  cpu_set_t set;
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &set)) cpus.push_back(c);
  return cpus;
}

// The debugfs directory name of a backend.
inline const char* BackendName(uint32_t id) {
  switch (id) {
    case PCPOOL_BACKEND_KERNEL:
      return "kernel";
    case PCPOOL_BACKEND_NULL:
      return "null";
    case PCPOOL_BACKEND_CLASSIC:
      return "classic";
    case PCPOOL_BACKEND_PCPBUDDY:
      return "pcpbuddy";
    case PCPOOL_BACKEND_VMALLOC:
      return "vmalloc";
    case PCPOOL_BACKEND_VMAP_GLOBAL:
      return "vmap-global";
    case PCPOOL_BACKEND_VMAP_NODES:
      return "vmap-nodes";
    case PCPOOL_BACKEND_PCPU_KERNEL:
      return "pcpu-kernel";
    case PCPOOL_BACKEND_PCPU_RAW:
      return "pcpu-raw";
    case PCPOOL_BACKEND_PCPU_ZEROED:
      return "pcpu-zeroed";
    case PCPOOL_BACKEND_PCPU_CONSTRUCTED:
      return "pcpu-constructed";
    case PCPOOL_BACKEND_PCPU_NULL:
      return "pcpu-null";
    default:
      return "?";
  }
}

// Raw command wrappers: fill the struct, return 0 or -errno, leave the
// struct as the kernel wrote it in *out.
inline int CmdAlloc(int fd, uint32_t backend, uint32_t order, std::vector<uint64_t>* handles,
                    pcpool_alloc* out = nullptr) {
  auto a = Arg<pcpool_alloc>();
  a.backend = backend;
  a.order = order;
  a.count = handles->size();
  a.handles = reinterpret_cast<uintptr_t>(handles->data());
  const int ret = Ioctl(fd, PCPOOL_IOC_ALLOC, &a);
  if (out) *out = a;
  return ret;
}

// @status, if given, is filled with 12345 first so that slots the kernel
// did not write show.
inline int CmdFree(int fd, const std::vector<uint64_t>& handles,
                   std::vector<int32_t>* status = nullptr, pcpool_free* out = nullptr) {
  auto f = Arg<pcpool_free>();
  f.count = handles.size();
  f.handles = reinterpret_cast<uintptr_t>(handles.data());
  if (status) {
    status->assign(handles.size(), 12345);
    f.status = reinterpret_cast<uintptr_t>(status->data());
  }
  const int ret = Ioctl(fd, PCPOOL_IOC_FREE, &f);
  if (out) *out = f;
  return ret;
}

inline int CmdRun(int fd, uint32_t backend, uint32_t workload, uint32_t order, uint64_t ops,
                  uint32_t batch, pcpool_run* out = nullptr, uint64_t seed = 0) {
  auto r = Arg<pcpool_run>();
  r.backend = backend;
  r.workload = workload;
  r.order = order;
  r.ops = ops;
  r.batch = batch;
  r.seed = seed;
  const int ret = Ioctl(fd, PCPOOL_IOC_RUN, &r);
  if (out) *out = r;
  return ret;
}

inline int CmdChan(int fd, uint32_t op, uint32_t chan, uint32_t backend, uint32_t order,
                   uint64_t count, pcpool_chan* out = nullptr) {
  auto c = Arg<pcpool_chan>();
  c.op = op;
  c.chan = chan;
  c.backend = backend;
  c.order = order;
  c.count = count;
  const int ret = Ioctl(fd, PCPOOL_IOC_CHAN, &c);
  if (out) *out = c;
  return ret;
}

inline pcpool_stats CmdStats(int fd, uint32_t backend) {
  auto s = Arg<pcpool_stats>();
  s.backend = backend;
  EXPECT_EQ(Ioctl(fd, PCPOOL_IOC_STATS, &s), 0);
  return s;
}

}  // namespace vmtest

#endif  // PCPOOL_TESTS_VM_VMTEST_H_
