//===- Onnx.h - ONNX models in: import to MLIR, tensor files ---*- C++ -*-===//
//
// `importOnnxModel` turns an ONNX model (a protobuf file, with its external
// data beside it) into one MLIR module: a public function `@main` from the
// graph inputs to the graph outputs, on static-shaped tensors, in upstream
// dialects (linalg, tensor, arith, math). Dynamic dims are fixed by
// ImportOptions::inputShapes; shape arithmetic is folded to constants while
// importing; large weights become `dense_resource` blobs.
//
// Tensor files (a model's inputs and expected outputs): TensorFiles.h.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_FRONTEND_ONNX_H
#define HATC_FRONTEND_ONNX_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace hatc::frontend {

/// Default-domain opsets the importer handles.
inline constexpr int64_t kMinOnnxOpset = 1;
inline constexpr int64_t kMaxOnnxOpset = 17;

struct ImportOptions {
  /// `--input-shape NAME=D0,D1,...`: the full shape of a graph input.
  std::vector<std::pair<std::string, std::vector<int64_t>>> inputShapes;
  /// The name of the function the graph becomes.
  std::string entryName = "main";
  /// Initializers with more elements than this become dense_resource blobs
  /// (kept out of the printed IR by --elide-weights); smaller ones are
  /// inline `dense<...>` attributes that MLIR can fold.
  int64_t resourceThreshold = 64;
  /// Graph inputs to specialize the model for: NAME -> a tensor file
  /// (.pb/.npy) whose value becomes an import-time constant (they leave the
  /// function's signature). For inputs an op needs at import time (a Pad's
  /// pads, a Resize's sizes), see NeedsInputValues.
  std::vector<std::pair<std::string, std::string>> inputValues;
  /// The graph's inputs' tensor files (.pb/.npy), in order (`hatc run
  /// --inputs DIR`): an input whose shape the model leaves open, and that
  /// inputShapes does not name, takes its file's shape.
  std::vector<std::string> inputFiles;
};

/// The import failed because an op needs the value of a graph input at
/// import time (shapes, pads, scales fed as inputs). `inputs` names them
/// with their position among the graph's inputs; importing again with their
/// values in ImportOptions::inputValues specializes the model for them.
class NeedsInputValues : public llvm::ErrorInfo<NeedsInputValues> {
public:
  static char ID;
  NeedsInputValues(std::vector<std::pair<std::string, size_t>> inputs,
                   std::string message)
      : inputs(std::move(inputs)), message(std::move(message)) {}
  void log(llvm::raw_ostream &os) const override { os << message; }
  std::error_code convertToErrorCode() const override {
    return llvm::inconvertibleErrorCode();
  }
  std::vector<std::pair<std::string, size_t>> inputs;
  std::string message;
};

/// True for a path the CLI should import rather than parse as MLIR (".onnx").
bool isOnnxModelPath(llvm::StringRef path);

/// Parses "NAME=1,3,224,224" (dims > 0; "NAME=" is a scalar).
llvm::Expected<std::pair<std::string, std::vector<int64_t>>>
parseInputShape(llvm::StringRef text);

/// One op type the importer converts, with the default-domain opsets.
struct SupportedOp {
  std::string opType;
  int64_t minOpset, maxOpset;
};
/// Every op type the importer converts, sorted by name.
std::vector<SupportedOp> supportedOps();

/// The dialects an imported module uses.
void registerFrontendDialects(mlir::DialectRegistry &registry);

/// Imports the model at `path`. Every failure is one message naming the
/// file and, for a node, its name, op type and opset; a model with
/// unsupported ops lists all of them at once.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>>
importOnnxModel(mlir::MLIRContext &context, llvm::StringRef path,
                const ImportOptions &options = {});

} // namespace hatc::frontend

#endif // HATC_FRONTEND_ONNX_H
