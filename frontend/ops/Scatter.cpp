//===- Scatter.cpp - ONNX CumSum, Scatter*, GridSample, ReverseSequence and other indexed ops ===//
#include "../Importer.h"

using namespace mlir;

namespace hatc::frontend {

void registerScatterOps(ConverterRegistry &r) {}

} // namespace hatc::frontend
