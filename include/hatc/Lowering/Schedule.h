//===- Schedule.h - Transform-dialect schedules --------------*- C++ -*-===//
//
// A schedule is a module holding `transform.named_sequence @__transform_main`
// — the same file stock `mlir-opt-19 --transform-interpreter` accepts. hatc
// applies it in-process to the workload module with the transform
// interpreter; a failure becomes one line naming the transform op.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_SCHEDULE_H
#define HATC_LOWERING_SCHEDULE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <string>

namespace hatc {

llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
loadSchedule(mlir::MLIRContext &context, llvm::StringRef path);
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
parseSchedule(mlir::MLIRContext &context, llvm::StringRef source,
              llvm::StringRef bufferName);

/// Applies `schedule`'s @__transform_main to `payload`, then verifies it.
llvm::Error applySchedule(mlir::ModuleOp payload, mlir::ModuleOp schedule);

} // namespace hatc

#endif // HATC_LOWERING_SCHEDULE_H
