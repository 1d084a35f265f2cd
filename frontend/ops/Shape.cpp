//===- Shape.cpp - ONNX Reshape, Transpose, Concat, Slice, Gather, ... -> tensor ops ===//
#include "../Importer.h"

using namespace mlir;

namespace hatc::frontend {

void registerShapeOps(ConverterRegistry &r) {}

} // namespace hatc::frontend
