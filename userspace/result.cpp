// SPDX-License-Identifier: GPL-2.0
#include "result.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

namespace pcpool {

std::string ErrnoString(int err) {
  const int e = std::abs(err);
  // error_code::message() is thread-safe, unlike strerror().
  std::string desc = std::error_code(e, std::generic_category()).message();
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* name = strerrorname_np(e)) {
    return std::string(name) + " (" + desc + ")";
  }
#endif
  return "errno " + std::to_string(e) + " (" + desc + ")";
}

}  // namespace pcpool
