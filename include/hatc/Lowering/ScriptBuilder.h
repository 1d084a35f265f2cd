//===- ScriptBuilder.h - Transform scripts built as IR ----------*- C++ -*-===//
//
//   ScriptBuilder("comment") -> transform ops through mlir::OpBuilder and the
//   ops' C++ builders -> finish(): the module printed as text
//
// Every schedule hatc writes (the sketches, the default CPU and GPU
// schedules) is built here as IR, so a wrong op, operand or attribute is a
// compile error or a failed verification, not a script the interpreter
// rejects at run time. The text (a comment line, then a module holding
// `transform.named_sequence @__transform_main`) is what the database stores
// and what stock `mlir-opt-19 --transform-interpreter` takes.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_SCRIPTBUILDER_H
#define HATC_LOWERING_SCRIPTBUILDER_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"

#include <memory>
#include <string>
#include <utility>

namespace hatc {

/// One `@__transform_main(%root)` being written. Handles are mlir::Values of
/// type !transform.any_op; ops without a helper here are created with
/// builder() at loc() and the op's own C++ builder.
class ScriptBuilder {
public:
  /// How the entry sequence treats %root: only reads it, or consumes it
  /// (a script that bufferizes the whole module).
  enum class Root { ReadOnly, Consumed };

  explicit ScriptBuilder(std::string comment, Root root = Root::ReadOnly);
  ~ScriptBuilder();
  ScriptBuilder(const ScriptBuilder &) = delete;
  ScriptBuilder &operator=(const ScriptBuilder &) = delete;

  mlir::OpBuilder &builder() { return b; }
  mlir::Location loc() const { return location; }
  mlir::MLIRContext *context() { return context_.get(); }
  /// The payload module.
  mlir::Value root() const { return rootHandle; }
  /// !transform.any_op.
  mlir::Type anyOp();

  /// transform.structured.match ops{[names...]} in `in` (default %root).
  mlir::Value match(llvm::ArrayRef<llvm::StringRef> opNames,
                    mlir::Value in = {});
  /// The op named `opName` whose hatc.op_index is `index` (Workload.h).
  mlir::Value matchIndexed(llvm::StringRef opName, int64_t index);
  /// The ops named `opName` whose i64 attribute `attrName` is `value`.
  mlir::Value matchAttr(llvm::StringRef opName, llvm::StringRef attrName,
                        int64_t value);
  /// The func.func ops in %root, matched once and reused.
  mlir::Value func();

  /// scf.forall over `numThreads` threads per dim (0: not split); returns
  /// {tiled op, forall}.
  std::pair<mlir::Value, mlir::Value>
  tileForallThreads(mlir::Value op, llvm::ArrayRef<int64_t> numThreads,
                    mlir::ArrayAttr mapping = {});
  /// scf.forall over tiles of `sizes`; returns {tiled op, forall}.
  std::pair<mlir::Value, mlir::Value>
  tileForallSizes(mlir::Value op, llvm::ArrayRef<int64_t> sizes,
                  mlir::ArrayAttr mapping = {});
  /// scf.for loops over tiles of `sizes` (0: not tiled), in the order
  /// `interchange`; returns {tiled op, one handle per loop}.
  std::pair<mlir::Value, llvm::SmallVector<mlir::Value>>
  tileFor(mlir::Value op, llvm::ArrayRef<int64_t> sizes,
          llvm::ArrayRef<int64_t> interchange = {});
  /// fuse_into_containing_op; returns {fused producer, new containing op}.
  std::pair<mlir::Value, mlir::Value> fuseInto(mlir::Value producer,
                                               mlir::Value containing);
  mlir::Value producerOf(mlir::Value op, int64_t operand);
  mlir::Value consumersOf(mlir::Value op, int64_t result);
  void vectorize(mlir::Value op, bool vectorizeNdExtract = false);

  /// transform.apply_patterns to `target` { patterns }; the callback
  /// creates the pattern ops (transform.apply_patterns.*).
  void applyPatterns(mlir::Value target,
                     llvm::function_ref<void(mlir::OpBuilder &,
                                             mlir::Location)>
                         patterns);
  /// Canonicalization patterns, then CSE, on `target`.
  void cleanup(mlir::Value target);
  /// Vectorized contractions under `target` to vector.fma: to
  /// vector.contract, then outer products. Shared by the CPU sketches and
  /// the GPU schedule.
  void contractionsToFma(mlir::Value target);
  /// Its first half: reductions folded into vector.contract, transfers
  /// without permutations, leading unit dims dropped.
  void prepareContractions(mlir::Value target);
  /// transform.loop.hoist_loop_invariant_subsets.
  void hoistLoopInvariantSubsets(mlir::Value loop);
  /// transform.loop.unroll by `factor`.
  void unroll(mlir::Value loop, int64_t factor);
  /// transform.annotate `op` with `name` (= `param`, if given).
  void annotate(mlir::Value op, llvm::StringRef name,
                mlir::Value param = {});

  /// The script: the comment line, then the module, verified. An error
  /// here is a bug in the code that built the script; it aborts.
  std::string finish();

private:
  std::unique_ptr<mlir::MLIRContext> context_;
  mlir::OpBuilder b;
  mlir::Location location;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::Value rootHandle, funcHandle;
  std::string comment;
};

/// The GPU mapping attributes: [#gpu.block<y>, #gpu.block<x>] and the
/// thread equivalent.
mlir::ArrayAttr gpuBlockMappingYX(mlir::MLIRContext *context);
mlir::ArrayAttr gpuThreadMappingYX(mlir::MLIRContext *context);

} // namespace hatc

#endif // HATC_LOWERING_SCRIPTBUILDER_H
