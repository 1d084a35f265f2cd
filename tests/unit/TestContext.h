//===- TestContext.h - An MLIR context for unit tests ----------*- C++ -*-===//
#ifndef HATC_TESTS_UNIT_TESTCONTEXT_H
#define HATC_TESTS_UNIT_TESTCONTEXT_H

#include "hatc/Lowering/Registration.h"

#include "mlir/IR/MLIRContext.h"

namespace hatc::test {

/// One fully registered context per test binary (registration is slow).
inline mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    auto *c = new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
    initContext(*c);
    return c;
  }();
  return *ctx;
}

} // namespace hatc::test

#endif // HATC_TESTS_UNIT_TESTCONTEXT_H
