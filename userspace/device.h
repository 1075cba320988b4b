// SPDX-License-Identifier: GPL-2.0
// Thin wrappers around the /dev/pcpool commands (include/uapi/linux/pcpool.h),
// issued with ioctl() or through io_uring.
#ifndef PCPOOL_USERSPACE_DEVICE_H_
#define PCPOOL_USERSPACE_DEVICE_H_

#include <linux/pcpool.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "result.h"

namespace pcpool {

inline constexpr const char* kDefaultDevicePath = "/dev/" PCPOOL_DEVICE_NAME;

// How commands reach the module.
enum class Submit {
  kIoctl,  // ioctl(2), one command per syscall
  kUring,  // IORING_OP_URING_CMD on the calling thread's ring
};
std::string_view SubmitName(Submit s);
std::optional<Submit> SubmitFromName(std::string_view name);

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

  // PCPOOL_IOC_RUN with @arg as given (size is set here). With @hist, the
  // run asks for a latency histogram: flags |= PCPOOL_RUN_HIST and
  // arg.hist = @hist, whose size is set here too (shift is the caller's).
  [[nodiscard]] virtual Result<pcpool_run> Run(pcpool_run arg, pcpool_hist* hist) const = 0;
  // PCPOOL_CHAN_ALLOC: push up to @count new blocks into @chan.
  [[nodiscard]] virtual Result<pcpool_chan> ChanAlloc(uint32_t chan, uint32_t backend,
                                                      uint32_t order, uint64_t count) const = 0;
  // PCPOOL_CHAN_FREE: pop and free up to @count blocks from @chan.
  [[nodiscard]] virtual Result<pcpool_chan> ChanFree(uint32_t chan, uint64_t count) const = 0;
  // PCPOOL_IOC_ALLOC: handles.size() blocks; the handles land in @handles.
  [[nodiscard]] virtual Result<pcpool_alloc> Alloc(uint32_t backend, uint32_t order,
                                                   std::span<uint64_t> handles) const = 0;
  // PCPOOL_IOC_FREE of @handles; @status (same length, or empty) gets
  // per-handle codes.
  [[nodiscard]] virtual Result<pcpool_free> Free(std::span<const uint64_t> handles,
                                                 std::span<int32_t> status) const = 0;
  // Many PCPOOL_IOC_RUN commands (sizes set here, no histograms): through
  // io_uring all in one io_uring_enter, else one after the other.
  // @res[i] gets command i's 0 or -errno. Returns 0, or -errno when the
  // submission itself failed.
  [[nodiscard]] virtual int RunBatch(std::span<pcpool_run> args, std::span<int> res) const;
  // PCPOOL_IOC_FRAG of @backend's zone; fakes without one: -EOPNOTSUPP.
  [[nodiscard]] virtual Result<pcpool_frag> Frag(uint32_t backend, uint32_t flags) const;
};

// One open file on /dev/pcpool, i.e. one kernel session: everything
// allocated through it is freed when it closes. Every method sets the
// struct's size field and returns the struct as the kernel left it, with
// -errno; the methods are const and may be called from several threads at
// once (channel workloads share a session between their threads). With
// Submit::kUring each calling thread uses its own ring.
class Device : public Session {
 public:
  Device() = default;
  ~Device() override;
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;
  Device(Device&& other) noexcept;
  Device& operator=(Device&& other) noexcept;

  // O_RDWR | O_CLOEXEC; err is -ENOENT when the module is not loaded.
  static Result<Device> Open(const std::string& path = kDefaultDevicePath,
                             Submit submit = Submit::kIoctl);

  [[nodiscard]] bool is_open() const { return fd_ >= 0; }
  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] Submit SubmitMode() const { return submit_; }
  void Close();

  // Any command with a caller-prepared argument (size already set): 0 or
  // -errno. ioctl: EINTR retried (the one place); io_uring: through the
  // thread's ring. The typed wrappers below go through here.
  // ioctl(2)'s request type is unsigned long.
  int Command(unsigned long request, void* arg) const;  // NOLINT(google-runtime-int)

  [[nodiscard]] Result<pcpool_version> Version() const;
  [[nodiscard]] Result<pcpool_alloc> Alloc(uint32_t backend, uint32_t order,
                                           std::span<uint64_t> handles) const override;
  [[nodiscard]] Result<pcpool_free> Free(std::span<const uint64_t> handles,
                                         std::span<int32_t> status) const override;
  [[nodiscard]] Result<pcpool_free> Free(std::span<const uint64_t> handles) const {
    return Free(handles, {});
  }
  [[nodiscard]] Result<pcpool_run> Run(pcpool_run arg, pcpool_hist* hist) const override;
  // The plain form: no histogram, no seed.
  [[nodiscard]] Result<pcpool_run> Run(uint32_t backend, uint32_t workload, uint32_t order,
                                       uint64_t ops, uint32_t batch) const;
  [[nodiscard]] Result<pcpool_chan> ChanAlloc(uint32_t chan, uint32_t backend, uint32_t order,
                                              uint64_t count) const override;
  [[nodiscard]] Result<pcpool_chan> ChanFree(uint32_t chan, uint64_t count) const override;
  [[nodiscard]] Result<pcpool_stats> Stats(uint32_t backend) const;
  [[nodiscard]] int RunBatch(std::span<pcpool_run> args, std::span<int> res) const override;
  [[nodiscard]] Result<pcpool_frag> Frag(uint32_t backend, uint32_t flags) const override;

 private:
  Device(int fd, Submit submit) : fd_(fd), submit_(submit) {}

  template <typename T>
  Result<T> Call(unsigned long request, T arg) const;  // NOLINT(google-runtime-int)

  int fd_ = -1;
  Submit submit_ = Submit::kIoctl;
};

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_DEVICE_H_
