//===- Corpus.h - Synthetic tasks for the cross-task cost model -*- C++ -*-===//
//
// A cross-task cost model ranks the configs of a task it has never seen
// only as well as the tasks it was trained on cover that task's shape. A
// database holding one model's tasks covers a handful of shapes; the
// corpus adds a few dozen more of the same op classes, drawn at random from
// the dimensions DNN layers use (TenSet's idea, at a small scale and
// measured on this machine). `hatc model corpus` writes them as one module
// and tunes each into the database, where `hatc model train` finds them.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TUNER_CORPUS_H
#define HATC_TUNER_CORPUS_H

#include "hatc/Runtime/Target.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hatc::tuner {

/// The op classes a corpus task is drawn from: the anchors of the tasks a
/// CNN or transformer layer produces.
enum class CorpusClass { Matmul, BatchMatmul, Conv, Depthwise };

llvm::StringRef corpusClassName(CorpusClass opClass);
std::optional<CorpusClass> parseCorpusClass(llvm::StringRef name);
/// The classes that have a schedule space on a target kind (hwacc: GEMM
/// shapes; gpu: the matmul).
std::vector<CorpusClass> corpusClassesFor(TargetKind kind);

struct CorpusTask {
  std::string name; // the function's name, its shape spelled out
  CorpusClass opClass;
  double flops = 0; // of the anchor op
  std::string function; // `func.func @name(...)`, operands as arguments
};

/// Draws `count` tasks of `classes` with distinct shapes, the classes mixed
/// in fixed proportions (matmul 7 : batch matmul 3 : conv 6 : depthwise 3
/// among those given), each anchor between 2 MFLOP and 0.6 GFLOP so that a
/// trial takes milliseconds. The same seed draws the same tasks on every
/// machine. Fewer than `count` come back only when the classes run out of
/// distinct shapes.
std::vector<CorpusTask> drawCorpus(size_t count, uint64_t seed,
                                   llvm::ArrayRef<CorpusClass> classes);

/// One module holding every task's function.
std::string corpusModule(llvm::ArrayRef<CorpusTask> tasks);

} // namespace hatc::tuner

#endif // HATC_TUNER_CORPUS_H
