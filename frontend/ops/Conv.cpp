//===- Conv.cpp - ONNX Conv, ConvTranspose, pooling, Pad, Resize -> linalg convs and pools ===//
#include "../Importer.h"

using namespace mlir;

namespace hatc::frontend {

void registerConvOps(ConverterRegistry &r) {}

} // namespace hatc::frontend
