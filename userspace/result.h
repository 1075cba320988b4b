// SPDX-License-Identifier: GPL-2.0
// Small result type for the harness: a value plus -errno.
#ifndef PCPOOL_USERSPACE_RESULT_H_
#define PCPOOL_USERSPACE_RESULT_H_

#include <string>
#include <utility>

namespace pcpool {

// "ENOMEM (Cannot allocate memory)" for 12 or -12.
std::string ErrnoString(int err);

// Value and status of one call. Unlike std::expected the value stays
// available on failure: ioctls write their out fields even when they fail
// part way (pcpool_free.freed, for instance).
template <typename T>
struct Result {
  int err = 0;  // 0 or -errno
  T value{};

  [[nodiscard]] bool ok() const { return err == 0; }
  [[nodiscard]] std::string ErrorString() const { return ErrnoString(err); }
};

template <typename T>
Result<T> MakeResult(int err, T value) {
  return Result<T>{err, std::move(value)};
}

}  // namespace pcpool

#endif  // PCPOOL_USERSPACE_RESULT_H_
