// SPDX-License-Identifier: GPL-2.0
#include "uring.h"

#include <liburing.h>
#include <linux/pcpool.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace pcpool {

struct Uring::Ring {
  io_uring ring{};
};

Uring::Uring() = default;

Uring::~Uring() {
  if (state_ == 0) {
    io_uring_queue_exit(&ring_->ring);
  }
}

int Uring::Init(unsigned entries) {
  if (state_ != 1) {
    return state_;
  }
  ring_ = std::make_unique<Ring>();
  state_ = io_uring_queue_init(entries, &ring_->ring, 0);
  if (state_ > 0) {
    state_ = 0;
  }
  entries_ = state_ == 0 ? entries : 0;
  return state_;
}

Uring* Uring::ForThisThread(int* err, unsigned entries) {
  thread_local Uring mine;
  *err = mine.Init(entries);
  return *err == 0 ? &mine : nullptr;
}

int Uring::SubmitAndWait(std::span<const UringCmd> cmds, std::span<int> res) {
  io_uring* r = &ring_->ring;
  size_t next = 0;
  while (next < cmds.size()) {
    unsigned queued = 0;
    while (next + queued < cmds.size() && queued < entries_) {
      const UringCmd& c = cmds[next + queued];
      io_uring_sqe* sqe = io_uring_get_sqe(r);
      if (sqe == nullptr) {
        break;
      }
      io_uring_prep_rw(IORING_OP_URING_CMD, sqe, c.fd, nullptr, 0, 0);
      sqe->cmd_op = c.op;
      pcpool_uring_cmd pdu{};
      pdu.arg = reinterpret_cast<uintptr_t>(c.arg);
      std::memcpy(&pdu.size, c.arg, sizeof(pdu.size));  // every struct starts with it
      static_assert(sizeof(pdu) == PCPOOL_URING_CMD_SIZE);
      std::memcpy(sqe->cmd, &pdu, sizeof(pdu));
      io_uring_sqe_set_data64(sqe, next + queued);
      queued++;
    }
    // Submit and wait in one io_uring_enter when nothing interrupts it.
    unsigned submitted = 0;
    while (submitted < queued) {
      const int ret = io_uring_submit_and_wait(r, queued - submitted);
      if (ret < 0 && ret != -EINTR) {
        return ret;
      }
      if (ret > 0) {
        submitted += static_cast<unsigned>(ret);
      }
    }
    for (unsigned done = 0; done < queued;) {
      io_uring_cqe* cqe = nullptr;
      const int ret = io_uring_wait_cqe(r, &cqe);
      if (ret == -EINTR) {
        continue;
      }
      if (ret < 0) {
        return ret;
      }
      const uint64_t i = io_uring_cqe_get_data64(cqe);
      if (i < res.size()) {
        res[i] = cqe->res;
      }
      io_uring_cqe_seen(r, cqe);
      done++;
    }
    next += queued;
  }
  return 0;
}

int Uring::Call(int fd, uint32_t op, void* arg) {
  const UringCmd cmd{fd, op, arg};
  int res = 0;
  const int err = SubmitAndWait(std::span<const UringCmd>(&cmd, 1), std::span<int>(&res, 1));
  return err != 0 ? err : res;
}

}  // namespace pcpool
