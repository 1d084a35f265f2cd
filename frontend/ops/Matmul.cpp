//===- Matmul.cpp - ONNX MatMul, Gemm, Einsum -> linalg.matmul / batch_matmul ===//
#include "../Importer.h"

using namespace mlir;

namespace hatc::frontend {

void registerMatmulOps(ConverterRegistry &r) {}

} // namespace hatc::frontend
