//===- CpuPipeline.h - Scheduled linalg on tensors -> LLVM dialect -*- C++ -*-===//
//
//   linalg/vector/scf.forall on tensors
//     -> one-shot bufferization, results as out-params, deallocation
//     -> loops; scf.forall -> OpenMP; vector/memref/arith/... -> LLVM dialect
//
// Each stage is a plain function that adds passes by their C++ constructors,
// and also a named pipeline built by the same function, so lit can run one
// stage at a time: hatc-cpu-bufferize, hatc-cpu-to-llvm, hatc-cpu-lowering
// (both).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_CPUPIPELINE_H
#define HATC_LOWERING_CPUPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace hatc {

struct CpuPipelineOptions {
  /// Free temporaries with the ownership-based deallocation passes.
  bool deallocate = true;
};

/// Tensors -> memrefs; function results become trailing out-params.
void buildCpuBufferizePipeline(mlir::OpPassManager &pm,
                               const CpuPipelineOptions &options);
/// Memrefs, vectors, loops (scf.forall included) -> LLVM dialect.
void buildCpuToLLVMPipeline(mlir::OpPassManager &pm);
void buildCpuLoweringPipeline(mlir::OpPassManager &pm,
                              const CpuPipelineOptions &options);

/// Registers the named pipelines above.
void registerCpuPipelines();

/// Marks the entry of a workload module for the CPU pipeline: arguments are
/// read-only (bufferization copies before writing) and a C interface is
/// emitted for it.
void prepareEntryForCpu(mlir::ModuleOp module, llvm::StringRef entryName);

} // namespace hatc

#endif // HATC_LOWERING_CPUPIPELINE_H
