//===- WriteAll.h - Every byte to a file descriptor, or the errno -*- C++ -*-===//
//
// The write loop the files hatc keeps share (tuning logs, cost-model files):
// short writes are continued, EINTR retried, and the first real failure is
// returned with how much went out before it. Header-only: db and cost_model
// depend on nothing else of hatc.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_SUPPORT_WRITEALL_H
#define HATC_SUPPORT_WRITEALL_H

#include <cerrno>
#include <cstddef>
#include <string_view>

#include <unistd.h>

namespace hatc {

/// Writes all of `bytes` to `fd`. Returns 0, or the errno of the write that
/// failed; `written` is how many bytes went out either way.
inline int writeAll(int fd, std::string_view bytes, size_t &written) {
  written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return errno;
    written += static_cast<size_t>(n);
  }
  return 0;
}

} // namespace hatc

#endif // HATC_SUPPORT_WRITEALL_H
