//===- HwaccPipeline.h - Scheduled linalg -> hwacc calls + host code -*- C++ -*-===//
//
//   linalg on tensors --hatc-cpu-bufferize--> linalg on memrefs
//     --hatc-lower-linalg-to-hwacc--> hwacc.matmul (+ host im2col, ReLU, ...)
//     --hatc-lower-hwacc--> hwacc.config/mvin/preload/compute/mvout/fence
//     --hatc-convert-hwacc-to-llvm--> llvm.call @hatc_hwacc_*
//     --hatc-cpu-to-llvm--> LLVM dialect
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_HWACCPIPELINE_H
#define HATC_LOWERING_HWACCPIPELINE_H

#include "hatc/Runtime/HwaccDevice.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

namespace hatc {

struct HwaccPipelineOptions {
  HwaccParams params;       // array and memories (the module's hwacc.target)
  std::string dataflow = "ws";
  std::string loopOrder = "mnk";
  bool doubleBuffer = true;
  std::vector<int64_t> tile; // empty: per-op attributes or defaults
};

/// Reads hwacc knobs from a config ({"knobs": {...}} or the knobs object
/// itself): "tile" [tm, tn, tk], "dataflow" "ws"|"os", "loop_order"
/// "mnk"|"nmk", "double_buffer" bool. Unknown knobs are errors.
llvm::Error applyHwaccKnobs(const nlohmann::json &config,
                            const std::string &origin,
                            HwaccPipelineOptions &options);

/// The CPU bufferization, the hwacc passes (options from `options`), then
/// the CPU lowering to the LLVM dialect for everything left on the host.
void buildHwaccPipeline(mlir::OpPassManager &pm,
                        const HwaccPipelineOptions &options);
void registerHwaccPipelines();

} // namespace hatc

#endif // HATC_LOWERING_HWACCPIPELINE_H
