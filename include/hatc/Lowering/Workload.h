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
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hatc {

/// What kind of op a task is: the one classification every stage uses
/// (which sketches apply, the cost model's op features, which ops the
/// coordinator may send to hwacc). GEMM-like means what the hwacc lowering
/// takes: matmul, batch_matmul, conv_2d_nhwc_hwcf, and conv_2d_nchw_fchw
/// (which the hwacc pipeline rewrites into conv_2d_nhwc_hwcf).
enum class OpClass { Matmul, BatchMatmul, Conv2D, Elementwise, Other };
/// "matmul", "batch_matmul", "conv2d", "elementwise", "other".
const char *opClassName(OpClass opClass);
OpClass classifyOp(mlir::Operation *linalgOp);
/// A scalar op of a linalg body that the reference interpreter
/// (measure/Reference.cpp) evaluates: the one list both use, so a task is
/// checked (and tuned) exactly when the reference can evaluate it.
bool referenceEvaluates(mlir::Operation *bodyOp);
inline bool isGemmLike(OpClass opClass) {
  return opClass == OpClass::Matmul || opClass == OpClass::BatchMatmul ||
         opClass == OpClass::Conv2D;
}

/// One tunable op instance of a workload.
struct Task {
  std::string opName;      // "linalg.matmul"
  std::string key;         // "matmul_f32_M1024_N1024_K1024"
  OpClass opClass = OpClass::Other;
  std::string hash;        // structuralHash(canonicalForm(op))
  double flops = 0;        // arithmetic ops of the body x iteration points
  std::vector<int64_t> loopRanges;
  std::vector<std::string> iteratorTypes; // "parallel" | "reduction"
};

struct Workload {
  std::string path;
  /// What measuring workers load when it is not `path`: a model task with
  /// the model's constant operands (its weights) in place of arguments,
  /// so a schedule is timed as the model runs it (a weight's packing
  /// folded at compile time). Records keep `path`'s form.
  std::string measurePath;
  /// The workload's own IR when it is not `path`'s text: the entry of a
  /// file of several functions, printed as loaded (the others erased), for
  /// records to keep (a database re-reads a task from its IR alone).
  std::string ownIr;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string entryName;
  std::vector<TensorSpec> inputs;  // entry arguments
  std::vector<TensorSpec> outputs; // entry results
  std::vector<Task> tasks;         // compute ops, in program order
  /// Valid but suspicious IR, one line each with its location (an op that
  /// accumulates into an uninitialized tensor.empty).
  std::vector<std::string> warnings;
  /// The first op the reference interpreter cannot evaluate (tensor data
  /// movement, math.erf, a gather, ...), with its location; empty when
  /// `--check` can check every output. Imported models are checked against
  /// expected outputs instead (`hatc run --expect`).
  std::string uncheckable;

  mlir::func::FuncOp entry();
  /// Keys of the tasks joined by '+': "matmul_f32_...+generic_f32_...".
  std::string key() const;
  /// Structural hash of the whole workload: of its tasks' hashes, in order.
  std::string hash() const;
  double flops() const;
};

/// On a linalg op whose name other ops of the workload share with different
/// loops: its position among the entry's linalg ops, for schedules to match
/// it alone (ScriptBuilder::matchIndexed).
inline constexpr const char *kOpIndexAttr = "hatc.op_index";

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

/// Validates a module built in memory (an imported model); `path` names it
/// in messages.
llvm::Expected<Workload> workloadFromModule(mlir::OwningOpRef<mlir::ModuleOp> module,
                                            llvm::StringRef path,
                                            llvm::StringRef entryName = "");
/// Task extraction for one op (exposed for tests and the tuner).
Task describeTask(mlir::Operation *linalgOp);

/// `value` with its dims permuted by `perm` (linalg.transpose's convention:
/// result dim i is input dim perm[i]), into a tensor.empty of the permuted
/// sizes, dynamic ones included. The loader's transposed-operand matmuls
/// and hatc-propagate-transposes build their transposes with it.
mlir::Value transposedTensor(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Value value, llvm::ArrayRef<int64_t> perm);

/// Workload hashes are persisted (databases, logs, deployed libraries), so
/// they are defined by text, not by in-memory hashing:
///
///   hash = "w1-" + hex(xxh3_128(canonicalForm(op)))   (32 hex digits)
///
/// The canonical form names what the op computes, one fact a line, in a
/// fixed order: the scheme ("w1"), the op name, each indexing map, the
/// iterator types, each operand's type, each body op with its attributes,
/// and the op's attributes (hatc's own `hatc.*` ones excluded). A workload
/// of several ops hashes the '+'-joined hashes of its ops the same way.
/// Changing any of this changes the scheme's number, and databases of an
/// older scheme are re-keyed when opened (see workloadRehasher).
inline constexpr const char *kWorkloadHashScheme = "w1";
std::string canonicalForm(mlir::Operation *linalgOp);
/// "w1-" and 32 hex digits of xxh3-128 of `canonicalText`.
std::string structuralHash(llvm::StringRef canonicalText);

/// The workload stored as `ir` (a workload file's text, a record's
/// workload_ir) whose key is `key`: its public function with that key. An
/// error saying why when the IR does not parse or no function of it has
/// that key.
llvm::Expected<Workload> storedWorkload(mlir::MLIRContext &context,
                                        llvm::StringRef key,
                                        llvm::StringRef ir);
/// storedWorkload's hash.
llvm::Expected<std::string> storedWorkloadHash(mlir::MLIRContext &context,
                                               llvm::StringRef key,
                                               llvm::StringRef ir);
/// Recomputes the hash of the workload stored as `ir` (a workload file's
/// text) whose key is `key`, for re-keying records of an older hash scheme:
/// the function the database's OpenOptions::rehash wants. Empty when the IR
/// is missing, does not parse, or has no entry with that key.
std::function<std::optional<std::string>(const std::string &key,
                                         const std::string &ir)>
workloadRehasher();

} // namespace hatc

#endif // HATC_LOWERING_WORKLOAD_H
