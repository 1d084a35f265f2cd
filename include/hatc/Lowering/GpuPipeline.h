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
#include "hatc/Runtime/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/Error.h"

#include <string>

namespace hatc {

struct GpuOptions {
  std::string chip = "sm_90"; // the PTX target architecture
};

/// The target's "chip": "sm_NN", or "auto" (the default): the GPU here, or
/// sm_90 where there is none.
llvm::Error gpuOptionsFromTarget(const Target &target, GpuOptions &options);

/// Out-params, hatc's GPU passes, then MLIR's gpu-lower-to-nvvm-pipeline
/// (PTX for options.chip).
void buildGpuPipeline(mlir::OpPassManager &pm, const GpuOptions &options);
/// Registers buildGpuPipeline as hatc-gpu-lowering{chip=sm_NN}.
void registerGpuPipelines();

/// The knobs of a GPU schedule: blocks of blockM x blockN outputs, each
/// thread threadM x threadN of them; matmuls step k by blockK, optionally
/// with the A and B tiles of a step in shared memory, copied vectorWidth
/// elements at a time, and (registerTile) each thread's tile computed as
/// vectorized outer products with its C tile in registers across the step
/// (threadM + threadN operand loads per threadM x threadN FMAs, instead of
/// two loads and a C access per FMA).
struct GpuSchedule {
  int64_t blockM = 64, blockN = 64, threadM = 4, threadN = 4, blockK = 16;
  bool promote = true;
  int64_t vectorWidth = 4;
  bool registerTile = true;
};

/// The transform script of `schedule` for a workload of fills, 2-D
/// all-parallel generics and (withMatmul) one matmul: every op gets its own
/// gpu.launch of (blockN/threadN) x (blockM/threadM) threads per block.
/// Stock mlir-opt-19 --transform-interpreter accepts it.
std::string gpuScheduleText(const GpuSchedule &schedule, bool withMatmul,
                            const std::string &comment);

/// The default GPU schedule: the largest block tiles up to 64x64 and up to
/// 16x16 threads that divide the shape (more threads along N when that
/// leaves fewer than 32), k steps of 16, shared memory where 64x64 blocks
/// and the k step divide the shape, register tiles. Errors for ops it
/// cannot map.
llvm::Expected<std::string> defaultGpuScheduleText(const Workload &workload);

/// The PTX of every gpu.binary in `module` (after the pipeline).
llvm::Expected<std::string> extractPtx(mlir::ModuleOp module);

} // namespace hatc

#endif // HATC_LOWERING_GPUPIPELINE_H
