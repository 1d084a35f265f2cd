//===- CpuPipeline.cpp - Scheduled tensors -> LLVM dialect for the CPU ----===//
//
//   tensors --one-shot-bufferize, results->out-params, dealloc--> memrefs
//   memrefs/vector/scf.forall --loops, OpenMP, *-to-llvm--> LLVM dialect
//
// The pipelines are written as pass-pipeline text so that the exact same
// string can be pasted into stock mlir-opt-19 to reproduce a stage.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/CpuPipeline.h"
#include "hatc/Support/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace hatc {

namespace {

constexpr const char *kBufferizePipeline =
    "one-shot-bufferize{bufferize-function-boundaries=1 "
    "function-boundary-type-conversion=identity-layout-map},"
    "buffer-results-to-out-params{hoist-static-allocs=1},"
    "canonicalize,cse";

constexpr const char *kDeallocationPipeline =
    "func.func(ownership-based-buffer-deallocation),canonicalize,"
    "func.func(buffer-deallocation-simplification,"
    "bufferization-lower-deallocations),cse,canonicalize";

// scf.forall -> scf.parallel -> omp.parallel/wsloop. finalize-memref-to-llvm
// runs before scf-to-cf so that memref.alloca_scope (around OpenMP bodies)
// still has a single block when it is lowered.
constexpr const char *kToLLVMPipeline =
    "func.func(convert-linalg-to-loops),convert-vector-to-scf{full-unroll=1},"
    "scf-forall-to-parallel,convert-scf-to-openmp,lower-affine,"
    "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
    "convert-scf-to-cf,convert-vector-to-llvm,finalize-memref-to-llvm,"
    "convert-openmp-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,"
    "convert-index-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
    "reconcile-unrealized-casts";

llvm::Error addPipeline(OpPassManager &pm, llvm::StringRef text) {
  std::string errors;
  llvm::raw_string_ostream os(errors);
  if (failed(parsePassPipeline(text, pm, os)))
    return makeError("internal error: bad pass pipeline: " + os.str());
  return llvm::Error::success();
}

} // namespace

llvm::Error buildCpuBufferizePipeline(OpPassManager &pm,
                                      const CpuPipelineOptions &options) {
  if (llvm::Error err = addPipeline(pm, kBufferizePipeline))
    return err;
  if (options.deallocate)
    return addPipeline(pm, kDeallocationPipeline);
  return llvm::Error::success();
}

llvm::Error buildCpuToLLVMPipeline(OpPassManager &pm) {
  return addPipeline(pm, kToLLVMPipeline);
}

llvm::Error buildCpuLoweringPipeline(OpPassManager &pm,
                                     const CpuPipelineOptions &options) {
  if (llvm::Error err = buildCpuBufferizePipeline(pm, options))
    return err;
  return buildCpuToLLVMPipeline(pm);
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

void reportInto(llvm::Error err) {
  llvm::errs() << "hatc: " << errorMessage(std::move(err)) << "\n";
}
} // namespace

void registerCpuPipelines() {
  PassPipelineRegistration<CpuPipelineCliOptions>(
      "hatc-cpu-bufferize",
      "hatc CPU stage 1: one-shot bufferization with results as out-params",
      [](OpPassManager &pm, const CpuPipelineCliOptions &options) {
        if (llvm::Error err = buildCpuBufferizePipeline(pm, options.get()))
          reportInto(std::move(err));
      });
  PassPipelineRegistration<>(
      "hatc-cpu-to-llvm",
      "hatc CPU stage 2: memrefs, vectors, loops and scf.forall (OpenMP) to "
      "the LLVM dialect",
      [](OpPassManager &pm) {
        if (llvm::Error err = buildCpuToLLVMPipeline(pm))
          reportInto(std::move(err));
      });
  PassPipelineRegistration<CpuPipelineCliOptions>(
      "hatc-cpu-lowering",
      "hatc CPU: scheduled linalg on tensors to the LLVM dialect",
      [](OpPassManager &pm, const CpuPipelineCliOptions &options) {
        if (llvm::Error err = buildCpuLoweringPipeline(pm, options.get()))
          reportInto(std::move(err));
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
