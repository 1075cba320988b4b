// SPDX-License-Identifier: GPL-2.0
#include "device.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "uring.h"

namespace pcpool {

std::string_view SubmitName(Submit s) { return s == Submit::kUring ? "uring" : "ioctl"; }

std::optional<Submit> SubmitFromName(std::string_view name) {
  if (name == "ioctl") {
    return Submit::kIoctl;
  }
  if (name == "uring" || name == "io_uring") {
    return Submit::kUring;
  }
  return std::nullopt;
}

Result<pcpool_frag> Session::Frag(uint32_t /*backend*/, uint32_t /*flags*/) const {
  return MakeResult(-EOPNOTSUPP, pcpool_frag{});
}

int Session::RunBatch(std::span<pcpool_run> args, std::span<int> res) const {
  for (size_t i = 0; i < args.size(); i++) {
    const Result<pcpool_run> r = Run(args[i], nullptr);
    args[i] = r.value;
    res[i] = r.err;
  }
  return 0;
}

Device::~Device() { Close(); }

Device::Device(Device&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), submit_(other.submit_) {}

Device& Device::operator=(Device&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
    submit_ = other.submit_;
  }
  return *this;
}

Result<Device> Device::Open(const std::string& path, Submit submit) {
  int fd = -1;
  do {
    fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return {-errno, Device()};
  }
  return {0, Device(fd, submit)};
}

void Device::Close() {
  if (fd_ >= 0) {
    // Not retried on EINTR: Linux has released the descriptor either way.
    ::close(fd_);
    fd_ = -1;
  }
}

int Device::Command(unsigned long request, void* arg) const {  // NOLINT(google-runtime-int)
  if (submit_ == Submit::kUring) {
    if (fd_ < 0) {
      return -EBADF;
    }
    int err = 0;
    Uring* ring = Uring::ForThisThread(&err);
    if (ring == nullptr) {
      return err;
    }
    return ring->Call(fd_, static_cast<uint32_t>(request), arg);
  }
  int ret = 0;
  // The one place EINTR is retried. The module only returns EINTR for a
  // fatal signal, which ends the process before the retry matters.
  do {
    ret = ::ioctl(fd_, request, arg);
  } while (ret < 0 && errno == EINTR);
  return ret < 0 ? -errno : 0;
}

template <typename T>
Result<T> Device::Call(unsigned long request, T arg) const {  // NOLINT(google-runtime-int)
  arg.size = sizeof(arg);
  const int err = Command(request, &arg);
  return {err, arg};
}

Result<pcpool_version> Device::Version() const {
  return Call(PCPOOL_IOC_VERSION, pcpool_version{});
}

Result<pcpool_alloc> Device::Alloc(uint32_t backend, uint32_t order,
                                   std::span<uint64_t> handles) const {
  pcpool_alloc arg{};
  arg.backend = backend;
  arg.order = order;
  arg.count = handles.size();
  arg.handles = reinterpret_cast<uintptr_t>(handles.data());
  return Call(PCPOOL_IOC_ALLOC, arg);
}

Result<pcpool_free> Device::Free(std::span<const uint64_t> handles,
                                 std::span<int32_t> status) const {
  if (!status.empty() && status.size() != handles.size()) {
    return {-EINVAL, pcpool_free{}};
  }
  pcpool_free arg{};
  arg.count = handles.size();
  arg.handles = reinterpret_cast<uintptr_t>(handles.data());
  arg.status = status.empty() ? 0 : reinterpret_cast<uintptr_t>(status.data());
  return Call(PCPOOL_IOC_FREE, arg);
}

Result<pcpool_run> Device::Run(pcpool_run arg, pcpool_hist* hist) const {
  if (hist != nullptr) {
    hist->size = PCPOOL_HIST_SIZE_VER0;
    arg.flags |= PCPOOL_RUN_HIST;
    arg.hist = reinterpret_cast<uintptr_t>(hist);
  }
  return Call(PCPOOL_IOC_RUN, arg);
}

Result<pcpool_run> Device::Run(uint32_t backend, uint32_t workload, uint32_t order, uint64_t ops,
                               uint32_t batch) const {
  pcpool_run arg{};
  arg.backend = backend;
  arg.workload = workload;
  arg.order = order;
  arg.ops = ops;
  arg.batch = batch;
  return Run(arg, nullptr);
}

int Device::RunBatch(std::span<pcpool_run> args, std::span<int> res) const {
  if (submit_ != Submit::kUring) {
    return Session::RunBatch(args, res);
  }
  if (fd_ < 0) {
    return -EBADF;
  }
  int err = 0;
  // A thread's ring is set up by its first command: size it for batches.
  Uring* ring = Uring::ForThisThread(&err, std::max<unsigned>(64, args.size()));
  if (ring == nullptr) {
    return err;
  }
  std::vector<UringCmd> cmds(args.size());
  for (size_t i = 0; i < args.size(); i++) {
    args[i].size = sizeof(pcpool_run);
    cmds[i] = UringCmd{fd_, static_cast<uint32_t>(PCPOOL_IOC_RUN), &args[i]};
  }
  return ring->SubmitAndWait(cmds, res);
}

Result<pcpool_chan> Device::ChanAlloc(uint32_t chan, uint32_t backend, uint32_t order,
                                      uint64_t count) const {
  pcpool_chan arg{};
  arg.op = PCPOOL_CHAN_ALLOC;
  arg.chan = chan;
  arg.backend = backend;
  arg.order = order;
  arg.count = count;
  return Call(PCPOOL_IOC_CHAN, arg);
}

Result<pcpool_chan> Device::ChanFree(uint32_t chan, uint64_t count) const {
  pcpool_chan arg{};
  arg.op = PCPOOL_CHAN_FREE;
  arg.chan = chan;
  arg.count = count;
  return Call(PCPOOL_IOC_CHAN, arg);
}

Result<pcpool_stats> Device::Stats(uint32_t backend) const {
  pcpool_stats arg{};
  arg.backend = backend;
  return Call(PCPOOL_IOC_STATS, arg);
}

Result<pcpool_frag> Device::Frag(uint32_t backend, uint32_t flags) const {
  pcpool_frag arg{};
  arg.backend = backend;
  arg.flags = flags;
  return Call(PCPOOL_IOC_FRAG, arg);
}

}  // namespace pcpool
