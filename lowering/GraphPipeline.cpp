//===- GraphPipeline.cpp - Graph-level optimization as one pipeline -------===//
#include "hatc/Lowering/GraphPipeline.h"
#include "hatc/Lowering/Passes.h"

#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace hatc {

GraphPipelineOptions graphOptionsFor(TargetKind kind) {
  GraphPipelineOptions options;
  if (kind == TargetKind::Cpu)
    options.layout = GraphLayout::Cpu;
  return options;
}

void buildGraphPipeline(OpPassManager &pm,
                        const GraphPipelineOptions &options) {
  // Canonicalization first: reshape chains of the importer (collapse then
  // expand) compose, so the folds below see one reshape.
  pm.addPass(createCanonicalizerPass());
  if (options.foldConstants) {
    FoldConstantsOptions fold;
    fold.foldIntoConv = options.foldIntoConv;
    fold.padMatmulColumns = true;
    pm.addPass(createFoldConstants(fold));
  }
  if (options.fuseElementwise) {
    FuseElementwiseOptions fuse;
    fuse.recompute = options.recompute;
    pm.addPass(createFuseElementwise(fuse));
  }
  if (options.layout != GraphLayout::AsImported) {
    ConvToNhwcOptions nhwc;
    if (options.layout == GraphLayout::Cpu) {
      nhwc.depthwise = true;
      nhwc.pooling = true;
      nhwc.groupedNhwc = true;
      nhwc.anyType = true;
      nhwc.maxGroups = 0;
    }
    pm.addPass(createConvToNhwc(nhwc));
    pm.addPass(createPropagateTransposes());
    // The filters' transposes, and what the moved transposes exposed.
    if (options.foldConstants) {
      FoldConstantsOptions fold;
      fold.padConvFilters = options.layout == GraphLayout::Cpu;
      pm.addPass(createFoldConstants(fold));
    }
    if (options.fuseElementwise) {
      FuseElementwiseOptions fuse;
      fuse.recompute = options.recompute;
      pm.addPass(createFuseElementwise(fuse));
    }
  }
  if (options.deadCode) {
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    pm.addPass(createSymbolDCEPass());
  }
  // A reduction's kept unit dims would stop it fusing into its row's
  // consumers (a softmax, a layernorm: one task each).
  pm.addNestedPass<func::FuncOp>(createDropKeptDims());
  // After the last CSE, which merges identical accumulator fills.
  pm.addNestedPass<func::FuncOp>(createOwnInits());
  // Last: canonicalization erases the importer's identity copies.
  pm.addNestedPass<func::FuncOp>(createFreshResults());
}

LogicalResult runGraphPipeline(ModuleOp module,
                               const GraphPipelineOptions &options) {
  PassManager pm(module.getContext());
  buildGraphPipeline(pm, options);
  return pm.run(module);
}

namespace {
struct GraphPipelineCliOptions
    : public PassPipelineOptions<GraphPipelineCliOptions> {
  Option<bool> foldConstants{*this, "fold-constants",
                             llvm::cl::desc("run hatc-fold-constants"),
                             llvm::cl::init(true)};
  Option<bool> foldIntoConv{
      *this, "fold-into-conv",
      llvm::cl::desc("fold BatchNormalization-like consumers into convs"),
      llvm::cl::init(true)};
  Option<bool> fuseElementwise{*this, "fuse-elementwise",
                               llvm::cl::desc("run hatc-fuse-elementwise"),
                               llvm::cl::init(true)};
  Option<bool> recompute{
      *this, "recompute",
      llvm::cl::desc("recompute small producers into all their users"),
      llvm::cl::init(false)};
  Option<GraphLayout> layout{
      *this, "layout", llvm::cl::desc("convolution layout"),
      llvm::cl::init(GraphLayout::AsImported),
      llvm::cl::values(
          clEnumValN(GraphLayout::AsImported, "as-imported", "NCHW"),
          clEnumValN(GraphLayout::Cpu, "cpu",
                     "NHWC convs, transposes cancelled"),
          clEnumValN(GraphLayout::Hwacc, "hwacc",
                     "NHWC for the convs hwacc takes"))};
  Option<bool> deadCode{*this, "dead-code",
                        llvm::cl::desc("canonicalize, cse and symbol-dce"),
                        llvm::cl::init(true)};

  GraphPipelineOptions get() const {
    GraphPipelineOptions options;
    options.foldConstants = foldConstants;
    options.foldIntoConv = foldIntoConv;
    options.fuseElementwise = fuseElementwise;
    options.recompute = recompute;
    options.layout = layout;
    options.deadCode = deadCode;
    return options;
  }
};
} // namespace

void registerGraphPipelines() {
  PassPipelineRegistration<GraphPipelineCliOptions>(
      "hatc-graph-optimize",
      "hatc graph level: fold weight-only subgraphs, fuse elementwise "
      "chains, remove dead code (imported models, before scheduling)",
      [](OpPassManager &pm, const GraphPipelineCliOptions &options) {
        buildGraphPipeline(pm, options.get());
      });
}

} // namespace hatc
