//===- Workload.h - A parsed, validated linalg workload --------*- C++ -*-===//
//
// A workload is a .mlir file whose entry function takes and returns ranked
// tensors of static shape and whose body is linalg structured ops (plus
// tensor.empty and arith.constant). Loading it checks all of that, with a
// one-line error naming the offending op and its location, and extracts one
// Task per compute op: a canonical key, a structural hash and a FLOP count.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_WORKLOAD_H
#define HATC_LOWERING_WORKLOAD_H

#include "hatc/Runtime/Buffer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace hatc {

/// One tunable op instance of a workload.
struct Task {
  std::string opName;      // "linalg.matmul"
  std::string key;         // "matmul_f32_M1024_N1024_K1024"
  std::string hash;        // 16 hex digits, structural hash of the op
  double flops = 0;        // arithmetic ops of the body x iteration points
  std::vector<int64_t> loopRanges;
  std::vector<std::string> iteratorTypes; // "parallel" | "reduction"
};

struct Workload {
  std::string path;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string entryName;
  std::vector<TensorSpec> inputs;  // entry arguments
  std::vector<TensorSpec> outputs; // entry results
  std::vector<Task> tasks;         // compute ops, in program order

  mlir::func::FuncOp entry();
  /// Keys of the tasks joined by '+': "matmul_f32_...+generic_f32_...".
  std::string key() const;
  /// Structural hash of the whole workload: of its tasks' hashes, in order.
  std::string hash() const;
  double flops() const;
};

/// Parses `path` and validates it. `entryName` empty: the only public
/// function (or an error listing them).
llvm::Expected<Workload> loadWorkload(mlir::MLIRContext &context,
                                      llvm::StringRef path,
                                      llvm::StringRef entryName = "");
/// Same, from text; `bufferName` is used in locations.
llvm::Expected<Workload> parseWorkload(mlir::MLIRContext &context,
                                       llvm::StringRef source,
                                       llvm::StringRef bufferName,
                                       llvm::StringRef entryName = "");

/// Task extraction for one op (exposed for tests and the tuner).
Task describeTask(mlir::Operation *linalgOp);

} // namespace hatc

#endif // HATC_LOWERING_WORKLOAD_H
