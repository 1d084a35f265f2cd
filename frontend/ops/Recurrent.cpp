//===- Recurrent.cpp - ONNX RNN, GRU, LSTM unrolled over time ===//
#include "../Importer.h"

using namespace mlir;

namespace hatc::frontend {

void registerRecurrentOps(ConverterRegistry &r) {}

} // namespace hatc::frontend
