//===- Features.h - Cost-model features of (task, config, target) -*- C++ -*-===//
//
// Turns one candidate schedule into a fixed-length float vector for the cost
// model. The inputs are plain data (strings, sizes, JSON) rather than tuner
// types, so this library knows nothing of the tuner (docs/design.md: arrows point
// one way) and a test can build inputs by hand.
//
// Every sketch uses the same layout; features that do not apply to a sketch
// are 0. Sizes are in log2 space (tile sizes and trip counts vary over orders
// of magnitude, and trees split better on evenly spread values); ratios and
// efficiencies are plain. Bump kFeatureSchemaVersion whenever the layout or
// the meaning of a feature changes: saved models of another version are then
// refused and retrained from the database.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COSTMODEL_FEATURES_H
#define HATC_COSTMODEL_FEATURES_H

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace hatc::cost_model {

/// Everything the features are computed from.
struct FeatureInput {
  /// "matmul", "batch_matmul", "conv2d", "elementwise" or "other".
  std::string opKind;
  /// Loop ranges of the anchor op: matmul M,N,K; batch_matmul B,M,N,K;
  /// conv2d (nhwc_hwcf) N,OH,OW,F,KH,KW,C; elementwise its loops.
  std::vector<int64_t> loopRanges;
  /// Element type of the anchor's first input: "f32", "i8", ...
  std::string elemType;
  /// {"sketch": "cpu_matmul"|"cpu_conv"|"cpu_conv_im2col"|"cpu_elementwise"|
  ///  "hwacc_gemm"|"gpu_matmul"|"gpu_elementwise", knobs...}, as the tuner's
  /// sketches write it. Missing or mistyped knobs read as 0.
  nlohmann::json config;
  /// {"kind": "cpu"|"hwacc"|"gpu", "vector_lanes", "vector_registers",
  ///  "l2_bytes", "cores", "array_dim", "scratchpad_rows", "accumulator_rows",
  ///  "dma_bytes_per_cycle", "gpu_shared_bytes", "gpu_multiprocessors"};
  ///  missing fields take the tuner's defaults.
  nlohmann::json target;
};

/// Version of the feature layout; saved models carry it.
constexpr int kFeatureSchemaVersion = 2;

/// Positions in the feature vector. featureDescriptions() says what each
/// one measures; the names are the enumerators without the F, in snake case.
enum FeatureId : int {
  // What is being scheduled, and where.
  FSketchCpuMatmul,
  FSketchCpuConv,
  FSketchCpuElementwise,
  FSketchHwaccGemm,
  FSketchCpuConvIm2col,
  FSketchGpuMatmul,
  FSketchGpuElementwise,
  FOpMatmul,
  FOpBatchMatmul,
  FOpConv2d,
  FOpElementwise,
  FLog2ElemBytes,
  FElemIsFloat,
  FTargetIsHwacc,
  FTargetIsGpu,
  // Problem size (the GEMM view: conv through im2col).
  FLog2Flops,
  FLog2GemmM,
  FLog2GemmN,
  FLog2GemmK,
  FLog2Batch,
  // Knobs, log2 for sizes, 0/1 for choices.
  FLog2Par,
  FLog2Mc,
  FLog2Nc,
  FLog2Kc,
  FLog2Mr,
  FLog2Nr,
  FLog2KUnroll,
  FOrderNmk,
  FPack,
  FFuse,
  FLog2OwT,
  FLog2FT,
  FLog2CT,
  FHoist,
  FLog2Rows,
  FLog2Cols,
  FLog2Tm,
  FLog2Tn,
  FLog2Tk,
  FLoopOrderNmk,
  FDoubleBuffer,
  FDataflowOs,
  FLog2Copy,
  FLog2GpuBm,
  FLog2GpuBn,
  FLog2GpuTm,
  FLog2GpuTn,
  FLog2GpuBk,
  FGpuPromote,
  FLog2GpuVec,
  FGpuRegTile,
  // Derived from the tiling.
  FLog2TilesM,
  FLog2TilesN,
  FLog2TilesK,
  FLog2ATileBytes,
  FLog2BTileBytes,
  FLog2CTileBytes,
  FL1Ratio,
  FL2Ratio,
  FTileWsL2Ratio,
  FRegRatio,
  FLog2RegVectors,
  FLaneUtil,
  FLog2ArithIntensity,
  FLog2WorkPerThread,
  FParImbalance,
  FParPerCore,
  FPadWaste,
  // hwacc only.
  FSpOccupancy,
  FAccOccupancy,
  FArrayUtil,
  FTileEff,
  FDmaBytesPerMac,
  FDmaComputeRatio,
  FLog2BlocksPerTile,
  // GPU only.
  FLog2GpuThreads,
  FLog2GpuBlocks,
  FGpuWaveEff,
  FGpuSharedRatio,
  FGpuCoalescing,
  kFeatureCount
};

/// Length of every vector extractFeatures returns (kFeatureCount).
size_t featureCount();

/// The features of one candidate: featureCount() values, never NaN or inf.
std::vector<float> extractFeatures(const FeatureInput &input);

/// Short names, one per feature, in layout order (for debugging, reports
/// and XGBoost feature importance).
const std::vector<std::string> &featureNames();
/// One line each saying what the feature measures, in layout order.
const std::vector<std::string> &featureDescriptions();
/// Index of the feature called `name`, or -1.
int featureIndex(const std::string &name);

} // namespace hatc::cost_model

#endif // HATC_COSTMODEL_FEATURES_H
