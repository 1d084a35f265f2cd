//===- Reduction.cpp - ONNX Reduce*, Softmax, LayerNormalization, BatchNormalization, ArgMax ===//
#include "../Importer.h"

using namespace mlir;

namespace hatc::frontend {

void registerReductionOps(ConverterRegistry &r) {}

} // namespace hatc::frontend
