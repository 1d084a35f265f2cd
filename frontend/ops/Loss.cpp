//===- Loss.cpp - ONNX NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss ===//
#include "../Importer.h"

using namespace mlir;

namespace hatc::frontend {

void registerLossOps(ConverterRegistry &r) {}

} // namespace hatc::frontend
