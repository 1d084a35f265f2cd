//===- GpuPipeline.h - Scheduled linalg -> NVVM -> PTX ----------*- C++ -*-===//
//
//   linalg on tensors --GPU schedule (tile to blocks/threads, bufferize,
//   map scf.forall to gpu.launch)--> gpu.launch on memrefs
//     --gpu-lower-to-nvvm-pipeline (outline, NVVM, gpu-module-to-binary)-->
//   host LLVM dialect + gpu.binary holding PTX from LLVM's NVPTX backend
//
// No CUDA toolkit is needed to build: PTX is text the driver JIT-compiles.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_GPUPIPELINE_H
#define HATC_LOWERING_GPUPIPELINE_H

#include "hatc/Lowering/Workload.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <string>

namespace hatc {

struct GpuOptions {
  std::string chip = "sm_90"; // the PTX target architecture
};

llvm::Error buildGpuPipeline(mlir::OpPassManager &pm,
                             const GpuOptions &options);

/// A default GPU schedule: every matmul and 2-D all-parallel op tiled into
/// 64x64 blocks of 16x16 threads (4x4 outputs each; matmuls step k by 8),
/// bufferized and mapped to gpu.launch. Errors for ops it cannot map.
llvm::Expected<std::string> defaultGpuScheduleText(const Workload &workload);

/// The PTX of every gpu.binary in `module` (after the pipeline).
llvm::Expected<std::string> extractPtx(mlir::ModuleOp module);

} // namespace hatc

#endif // HATC_LOWERING_GPUPIPELINE_H
