//===- CpuPipeline.cpp - Scheduled tensors -> LLVM dialect for the CPU ----===//
//
//   tensors --one-shot-bufferize, results->out-params, dealloc--> memrefs
//   memrefs/vector/scf.forall --loops, OpenMP, *-to-llvm--> LLVM dialect
//
// Every pass is added by its C++ constructor with typed options, so a wrong
// pass or option name fails to compile. `hatc-opt --hatc-cpu-lowering
// --dump-pass-pipeline` prints the pipeline for stock mlir-opt-19, except
// that one-shot-bufferize and buffer-results-to-out-params print their
// textual defaults: they are configured through C++ option structs
// (OneShotBufferizationOptions, BufferResultsToOutParamsOpts), which their
// printers do not see. What they are given is said next to each below.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/CpuPipeline.h"
#include "hatc/Lowering/PadInPlace.h"
#include "hatc/Lowering/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace hatc {

/// What memref.copy lowers to a memcpy (MemRefToLLVM's test): an identity
/// layout or a static, row-major contiguous one.
static bool isContiguous(Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  return type.getLayout().isIdentity() ||
         memref::isStaticShapeAndContiguousRowMajor(type);
}

/// The bufferization's copies (its memcpy-op): memref.copy between
/// contiguous buffers, linalg.copy where a side is a strided view.
static LogicalResult createCopy(OpBuilder &b, Location loc, Value from,
                                Value to) {
  if (isContiguous(from) && isContiguous(to))
    b.create<memref::CopyOp>(loc, from, to);
  else
    b.create<linalg::CopyOp>(loc, from, to);
  return success();
}

void buildCpuBufferizePipeline(OpPassManager &pm,
                               const CpuPipelineOptions &options) {
  // one-shot-bufferize{bufferize-function-boundaries=1
  //                    function-boundary-type-conversion=identity-layout-map}
  // with a memcpy-op of its own (createCopy, below).
  // tensor.concat has no bufferization model: empty + insert_slices.
  pm.addPass(createDecomposeTensorOps());
  // i8 x i8 matmuls starting from a fill: A's row sums in C's initial
  // values, B's bytes shifted in the kernel (hatc-x86-dot-products then
  // needs no compensation per register tile).
  pm.addPass(createX86DotRowSums());
  // What a schedule left of a constant (cpu_matmul's B panels of a weight:
  // a reshape and a transpose) is computed here, once.
  pm.addPass(createFoldConstants());
  // A padded value's producer writes into the padded buffer (the border of
  // a 3x3 conv's input) instead of a copy.
  pm.addPass(createPadInPlacePass());
  bufferization::OneShotBufferizationOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  // memcpy-op: a copy between strided views (a padded tile's rows) as
  // linalg.copy, lowered to loops that LLVM vectorizes; memref.copy would
  // call the C runner's memrefCopy, which moves one element per memcpy.
  bufferize.memCpyFn = createCopy;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // A result written through views of its buffer (a packed matmul's
  // expand_shape, collapsed back) returns the allocation itself.
  pm.addPass(createCanonicalizerPass());
  // An input returned as an output, or a buffer returned twice, gets a copy
  // of its own (the out-param pass below crashes on either).
  pm.addNestedPass<func::FuncOp>(createDistinctResultBuffers());
  // buffer-results-to-out-params{hoist-static-allocs=1}
  bufferization::BufferResultsToOutParamsOpts outParams;
  outParams.hoistStaticAllocs = true;
  outParams.memCpyFn = createCopy; // a returned view copied out, as above
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // A buffer of static size allocated in a loop (a fused conv's tile of
  // accumulators) is allocated once before it: out of scf.for loops, not
  // out of an scf.forall (each thread keeps its own).
  pm.addNestedPass<func::FuncOp>(bufferization::createBufferLoopHoistingPass());
  if (!options.deallocate)
    return;

  pm.addNestedPass<func::FuncOp>(
      bufferization::createOwnershipBasedBufferDeallocationPass());
  pm.addPass(createCanonicalizerPass());
  OpPassManager &funcPm = pm.nest<func::FuncOp>();
  funcPm.addPass(bufferization::createBufferDeallocationSimplificationPass());
  funcPm.addPass(bufferization::createLowerDeallocationsPass());
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  // Each temporary allocated at its first use and freed after its last,
  // not at the function's ends: a model's temporaries then reuse each
  // other's cache-warm memory.
  pm.addNestedPass<func::FuncOp>(createShrinkLiveRanges());
}

void buildCpuToLLVMPipeline(OpPassManager &pm) {
  // Register tiles start from zero, their C lines prefetched; C's old
  // values are added after the k loop, so its reads overlap the arithmetic.
  pm.addPass(createDeferAccumulatorReads());
  // math ops without an LLVM 19 lowering (tanh, erf, atan, ...): exp and
  // arithmetic, a polynomial or libm calls instead.
  pm.addPass(createExpandMath());
  // i8 and bf16 micro-kernels (a k group per step) to the dot products of
  // the host, which the code is compiled for.
  pm.addPass(createX86DotProducts());
  // cpu_matmul_amx's micro-tiles to AMX tile ops.
  pm.addPass(createX86Amx());
  // The next block of the weights arrives while a micro-kernel computes
  // (after the two above, which match the micro-kernels' loops as written).
  pm.addPass(createPrefetchWeights());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  // scf.forall -> scf.parallel -> omp.parallel/wsloop.
  pm.addPass(createForallToParallelLoopPass());
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // finalize-memref-to-llvm runs before scf-to-cf so that
  // memref.alloca_scope (around OpenMP bodies) still has a single block when
  // it is lowered; it runs again for what vector-to-llvm leaves.
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertSCFToCFPass());
  // Vector reductions (a row of a softmax or a layernorm, cpu_rows) may
  // reassociate: a tree of vector adds instead of one scalar add per lane in
  // order (measured: 128 vaddss a softmax row before). The results differ in
  // rounding only, well inside the 1e-3 models are checked to.
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.reassociateFPReductions = true;
  vectorToLLVM.amx = true; // the tile ops hatc-x86-amx writes
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  // Vectors of i1 would be stored bit-packed; bool buffers hold bytes.
  pm.addPass(createWidenI1VectorMemory());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void buildCpuLoweringPipeline(OpPassManager &pm,
                              const CpuPipelineOptions &options) {
  buildCpuBufferizePipeline(pm, options);
  buildCpuToLLVMPipeline(pm);
}

namespace {
struct CpuPipelineCliOptions
    : public PassPipelineOptions<CpuPipelineCliOptions> {
  Option<bool> deallocate{*this, "deallocate",
                          llvm::cl::desc("Free temporaries (ownership-based "
                                         "deallocation)"),
                          llvm::cl::init(true)};
  CpuPipelineOptions get() const {
    CpuPipelineOptions options;
    options.deallocate = deallocate;
    return options;
  }
};
} // namespace

void registerCpuPipelines() {
  registerPadInPlacePass();
  PassPipelineRegistration<CpuPipelineCliOptions>(
      "hatc-cpu-bufferize",
      "hatc CPU stage 1: one-shot bufferization with results as out-params",
      [](OpPassManager &pm, const CpuPipelineCliOptions &options) {
        buildCpuBufferizePipeline(pm, options.get());
      });
  PassPipelineRegistration<>(
      "hatc-cpu-to-llvm",
      "hatc CPU stage 2: memrefs, vectors, loops and scf.forall (OpenMP) to "
      "the LLVM dialect",
      buildCpuToLLVMPipeline);
  PassPipelineRegistration<CpuPipelineCliOptions>(
      "hatc-cpu-lowering",
      "hatc CPU: scheduled linalg on tensors to the LLVM dialect",
      [](OpPassManager &pm, const CpuPipelineCliOptions &options) {
        buildCpuLoweringPipeline(pm, options.get());
      });
}

void prepareEntryForCpu(ModuleOp module, llvm::StringRef entryName) {
  auto entry = module.lookupSymbol<func::FuncOp>(entryName);
  if (!entry)
    return;
  MLIRContext *context = module.getContext();
  entry->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                 UnitAttr::get(context));
  for (unsigned i = 0, e = entry.getNumArguments(); i < e; ++i)
    entry.setArgAttr(i, "bufferization.writable", BoolAttr::get(context, false));
}

} // namespace hatc
