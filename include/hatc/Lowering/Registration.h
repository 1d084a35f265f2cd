//===- Registration.h - Dialects, passes and translations hatc uses -*- C++ -*-===//
//
// One place registers everything: the upstream dialects, their extensions and
// interfaces, every upstream pass, the LLVM IR translations, and all of
// hatc's own passes and pipelines. Only Registration.cpp includes the
// (slow to compile) mlir/InitAll*.h headers.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_REGISTRATION_H
#define HATC_LOWERING_REGISTRATION_H

namespace mlir {
class DialectRegistry;
class MLIRContext;
} // namespace mlir

namespace hatc {

/// Upstream dialects + extensions + LLVM IR translations + hatc dialects.
void registerAllDialects(mlir::DialectRegistry &registry);
/// Upstream passes + hatc's passes and named pipelines (idempotent).
void registerAllPasses();
/// A context with every dialect registered and loaded lazily, threading off
/// (hatc parallelises across processes, not inside one compile).
void initContext(mlir::MLIRContext &context);

} // namespace hatc

#endif // HATC_LOWERING_REGISTRATION_H
