//===- GraphPipeline.h - Graph-level optimization of imported models -*- C++ -*-===//
//
//   imported module (linalg named ops + generics, weights as constants)
//     -> constants folded (BatchNormalization into convs, weight reshapes
//        and transposes) -> elementwise chains fused into their anchor's
//        consumer and into reductions -> [layout: NHWC convs, transposes
//        cancelled] -> dead code removed -> one accumulator
//        init per op -> one linalg op per result
//
// One function adds the passes; it is also the named pipeline
// `hatc-graph-optimize` (per-step options), so lit runs the same thing the
// CLI does.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_GRAPHPIPELINE_H
#define HATC_LOWERING_GRAPHPIPELINE_H

#include "hatc/Runtime/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace hatc {

/// The layout convolutions run in after the graph passes.
enum class GraphLayout {
  AsImported, // NCHW, as ONNX has it
  Cpu,        // NHWC convs (conv_2d_nhwc_hwcf, depthwise_conv_2d_nhwc_hwc)
  Hwacc,      // NHWC for the convs the array takes (hatc-conv-to-nhwc)
};

struct GraphPipelineOptions {
  /// hatc-fold-constants: weight reshapes/transposes/broadcasts.
  bool foldConstants = true;
  /// ... and per-channel affine consumers (BatchNormalization) into convs.
  bool foldIntoConv = true;
  /// hatc-fuse-elementwise.
  bool fuseElementwise = true;
  /// Recompute small multi-user producers into all their generic users
  /// (softmax's exp, layernorm's x - mean): measured slower on the CPU
  /// today (see hatc-fuse-elementwise), so off.
  bool recompute = false;
  /// Layout: convs rewritten, transposes pushed to the graph edges and
  /// cancelled, weight transposes folded.
  GraphLayout layout = GraphLayout::AsImported;
  /// canonicalize + cse + symbol-dce at the end.
  bool deadCode = true;
};

/// Adds the graph passes to `pm` (a module pass manager).
/// The graph options for code that runs on `kind`: the one place that picks
/// a target's layout. CPU: NHWC convs (the analytical default and the
/// sketches schedule NHWC convs as direct vectorized convs; NCHW ones only
/// get threads), e.g. a ResNet-50 stage 79 -> 22 ms at 2 threads. hwacc and
/// GPU: as imported (the hwacc pipeline moves the convs it takes to NHWC
/// itself).
GraphPipelineOptions graphOptionsFor(TargetKind kind);

void buildGraphPipeline(mlir::OpPassManager &pm,
                        const GraphPipelineOptions &options);

/// Runs buildGraphPipeline on `module`; failure is reported as a diagnostic.
mlir::LogicalResult runGraphPipeline(mlir::ModuleOp module,
                                     const GraphPipelineOptions &options);

/// Registers `hatc-graph-optimize`.
void registerGraphPipelines();

} // namespace hatc

#endif // HATC_LOWERING_GRAPHPIPELINE_H
