// SPDX-License-Identifier: GPL-2.0
// io_uring submission of pcpool commands: IORING_OP_URING_CMD with
// sqe->cmd_op = PCPOOL_IOC_* and a struct pcpool_uring_cmd in the SQE's
// 16-byte command area (include/uapi/linux/pcpool.h). Debian's liburing 2.3
// has no io_uring_prep_uring_cmd(): the SQE is built by hand.
#ifndef PCPOOL_USERSPACE_URING_H_
#define PCPOOL_USERSPACE_URING_H_

#include <cstdint>
#include <memory>
#include <span>

namespace pcpool {

// One command: its ioctl number and argument struct (whose first field is
// the __u32 size).
struct UringCmd {
  int fd = -1;
  uint32_t op = 0;
  void* arg = nullptr;
};

// A ring owned by one thread (io_uring rings are not thread-safe).
class Uring {
 public:
  // The calling thread's ring, set up on first use with @entries slots.
  // nullptr with *err = -errno when io_uring is not available.
  static Uring* ForThisThread(int* err, unsigned entries = 64);

  Uring();
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;
  Uring(Uring&&) = delete;
  Uring& operator=(Uring&&) = delete;
  ~Uring();

  [[nodiscard]] unsigned Entries() const { return entries_; }

  // Queues all of @cmds (at most Entries() at a time, more go in rounds),
  // enters the kernel once per round, and waits for every completion.
  // @res[i] gets command i's result (0 or -errno, as ioctl() would
  // return). Returns 0, or -errno when the ring itself failed.
  int SubmitAndWait(std::span<const UringCmd> cmds, std::span<int> res);

  // One command; its result, or the ring's error.
  int Call(int fd, uint32_t op, void* arg);

 private:
  struct Ring;
  // 0 once set up, -errno if that failed, 1 before the first try.
  int Init(unsigned entries);

  std::unique_ptr<Ring> ring_;
  unsigned entries_ = 0;
  int state_ = 1;
};

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_URING_H_
