//===- Registration.cpp - Everything hatc registers, in one place ---------===//
//
// The only file that includes mlir/InitAll*.h: each takes about a minute to
// compile here.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Registration.h"
#include "hatc/IR/Hwacc.h"
#include "hatc/Lowering/CpuPipeline.h"
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/GraphPipeline.h"
#include "hatc/Lowering/HwaccPipeline.h"
#include "hatc/Lowering/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

namespace hatc {

void registerAllDialects(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  registry.insert<hwacc::HwaccDialect>();
}

void registerAllPasses() {
  static bool done = [] {
    mlir::registerAllPasses();
    registerCpuPipelines();
    registerGpuPipelines();
    registerGraphPipelines();
    registerHatcPasses();
    registerHwaccPipelines();
    return true;
  }();
  (void)done;
}

void initContext(mlir::MLIRContext &context) {
  // hatc's pipelines are built from pass constructors and need no registry;
  // a schedule may still name a pass (transform.apply_registered_pass) and
  // tests look pipelines up by name, so everything stays registered.
  registerAllPasses();
  mlir::DialectRegistry registry;
  hatc::registerAllDialects(registry);
  context.appendDialectRegistry(registry);
  // Schedules and pipelines create ops of many dialects; loading them all up
  // front (tens of milliseconds) beats chasing missing dependent dialects.
  context.loadAllAvailableDialects();
  context.disableMultithreading();
}

} // namespace hatc
