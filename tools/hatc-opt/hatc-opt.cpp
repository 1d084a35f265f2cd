//===- hatc-opt.cpp - mlir-opt with everything hatc uses registered -------===//
//
// Upstream dialects, extensions and passes plus hatc's own passes and named
// pipelines (hatc-cpu-bufferize, hatc-cpu-to-llvm, hatc-cpu-lowering). lit
// tests run through it.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Registration.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  hatc::registerAllDialects(registry);
  hatc::registerAllPasses();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "hatc optimizer driver\n", registry));
}
