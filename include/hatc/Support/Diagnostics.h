//===- Diagnostics.h - Capture MLIR diagnostics as one-line errors -*- C++ -*-===//
//
// While a DiagnosticCapture is alive, MLIR diagnostics emitted on its context
// are collected instead of printed. takeError() turns the first error into a
// single line "file:line:col: message" that hatc's CLI prints as is.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_SUPPORT_DIAGNOSTICS_H
#define HATC_SUPPORT_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace hatc {

/// Formats a location as "file:line:col" (or the best MLIR can say).
std::string formatLocation(mlir::Location loc);

class DiagnosticCapture {
public:
  explicit DiagnosticCapture(mlir::MLIRContext *context);
  ~DiagnosticCapture();
  DiagnosticCapture(const DiagnosticCapture &) = delete;
  DiagnosticCapture &operator=(const DiagnosticCapture &) = delete;

  bool hasError() const { return !errors.empty(); }
  /// The first error as one line, prefixed by `context` (e.g. "schedule
  /// failed"); a generic message naming `context` when no diagnostic came.
  llvm::Error takeError(llvm::StringRef context);
  const std::vector<std::string> &allErrors() const { return errors; }

private:
  mlir::MLIRContext *context;
  mlir::DiagnosticEngine::HandlerID handlerId;
  std::vector<std::string> errors;
};

} // namespace hatc

#endif // HATC_SUPPORT_DIAGNOSTICS_H
