// SPDX-License-Identifier: GPL-2.0
// Thin wrappers around the /dev/pcpool ioctls (include/uapi/linux/pcpool.h).
#ifndef PCPOOL_USERSPACE_DEVICE_H_
#define PCPOOL_USERSPACE_DEVICE_H_

#include <linux/pcpool.h>

#include <cstdint>
#include <span>
#include <string>

#include "result.h"

namespace pcpool {

inline constexpr const char* kDefaultDevicePath = "/dev/" PCPOOL_DEVICE_NAME;

// What a workload needs from a session; Device is the real one, unit tests
// plug in fakes.
class Session {
 public:
  Session() = default;
  virtual ~Session() = default;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  Session(Session&&) = default;
  Session& operator=(Session&&) = default;

  // PCPOOL_IOC_RUN: @batch must be 0 for REPEAT.
  [[nodiscard]] virtual Result<pcpool_run> Run(uint32_t backend, uint32_t workload, uint32_t order,
                                               uint64_t ops, uint32_t batch) const = 0;
  // PCPOOL_CHAN_ALLOC: push up to @count new blocks into @chan.
  [[nodiscard]] virtual Result<pcpool_chan> ChanAlloc(uint32_t chan, uint32_t backend,
                                                      uint32_t order, uint64_t count) const = 0;
  // PCPOOL_CHAN_FREE: pop and free up to @count blocks from @chan.
  [[nodiscard]] virtual Result<pcpool_chan> ChanFree(uint32_t chan, uint64_t count) const = 0;
};

// One open file on /dev/pcpool, i.e. one kernel session: everything
// allocated through it is freed when it closes. Every method sets the
// struct's size field and returns the struct as the kernel left it, with
// -errno; the methods are const and may be called from several threads at
// once (the cross workload shares a session between producer and consumer).
class Device : public Session {
 public:
  Device() = default;
  ~Device() override;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  Device(Device&& other) noexcept;
  Device& operator=(Device&& other) noexcept;

  // O_RDWR | O_CLOEXEC; err is -ENOENT when the module is not loaded.
  static Result<Device> Open(const std::string& path = kDefaultDevicePath);

  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  [[nodiscard]] int fd() const { return fd_; }
  void Close();

  // Any ioctl with a caller-prepared argument: 0 or -errno, EINTR retried.
  // The typed wrappers below go through here.
  // ioctl(2)'s request type is unsigned long.
  int Ioctl(unsigned long request, void* arg) const;  // NOLINT(google-runtime-int)

  [[nodiscard]] Result<pcpool_version> Version() const;
  // Allocates handles.size() blocks; the handles land in @handles.
  [[nodiscard]] Result<pcpool_alloc> Alloc(uint32_t backend, uint32_t order,
                                           std::span<uint64_t> handles) const;
  // Frees @handles; @status (same length, or empty) gets per-handle codes.
  [[nodiscard]] Result<pcpool_free> Free(std::span<const uint64_t> handles,
                                         std::span<int32_t> status = {}) const;
  [[nodiscard]] Result<pcpool_run> Run(uint32_t backend, uint32_t workload, uint32_t order,
                                       uint64_t ops, uint32_t batch) const override;
  [[nodiscard]] Result<pcpool_chan> ChanAlloc(uint32_t chan, uint32_t backend, uint32_t order,
                                              uint64_t count) const override;
  [[nodiscard]] Result<pcpool_chan> ChanFree(uint32_t chan, uint64_t count) const override;
  [[nodiscard]] Result<pcpool_stats> Stats(uint32_t backend) const;

 private:
  explicit Device(int fd) : fd_(fd) {}

  template <typename T>
  Result<T> Call(unsigned long request, T arg) const;  // NOLINT(google-runtime-int)

  int fd_ = -1;
};

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_DEVICE_H_
