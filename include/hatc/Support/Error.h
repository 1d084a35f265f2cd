//===- Error.h - Small helpers for user-facing errors ----------*- C++ -*-===//
//
// hatc reports every user error as one line that names what and where. These
// helpers build such errors as llvm::Error values and capture MLIR
// diagnostics into them, so library code never prints and never exits.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_SUPPORT_ERROR_H
#define HATC_SUPPORT_ERROR_H

#include "llvm/ADT/Twine.h"
#include "llvm/Support/Error.h"

#include <string>

namespace hatc {

/// An error carrying a one-line, user-facing message.
inline llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Consumes `err` and returns its message (all messages joined by "; ").
inline std::string errorMessage(llvm::Error err) {
  std::string text;
  llvm::handleAllErrors(std::move(err), [&](const llvm::ErrorInfoBase &info) {
    if (!text.empty())
      text += "; ";
    text += info.message();
  });
  return text;
}

} // namespace hatc

#endif // HATC_SUPPORT_ERROR_H
