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
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hatc::cost_model {

/// Version of the feature layout; saved models carry it.
constexpr int kFeatureSchemaVersion = 5;

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
  // Shape-relative (schema 3): the same relative config means the same on
  // any shape of an op class, so one model can rank configs of a task it
  // has never measured (a cross-task model).
  FRelTileM,
  FRelTileN,
  FRelTileK,
  FRelRegM,
  FRelRegN,
  FL3Ratio,
  FLog2ProblemL3Ratio,
  FLog2ParItersPerThread,
  FThreadBalance,
  FLog2TilesPerThread,
  // Analytical estimates (schema 4): the time the schedule should take
  // from the target's cost terms, relative to the task's ideal time, so
  // that one number ranks configs of any shape.
  FLog2HwaccCyclesOverIdeal,
  FHwaccLoadShare,
  FHwaccExecShare,
  FHwaccStoreShare,
  FLog2CpuTimeOverIdeal,
  FCpuKernelEff,
  FCpuMemShare,
  // Schedule choices schema 4 could not tell apart (schema 5): B in
  // register-tile panels, threads over N, dot-product groups, AMX tiles;
  // and whether the weights are constants (a model's task).
  FPanels,
  FSplitN,
  FLog2DotGroup,
  FAmx,
  FConstantWeights,
  kFeatureCount
};

/// What a sketch says about one of its configs, for the features: the
/// sketch's own one-hot feature and its knobs as one of the schedule
/// families the estimates below understand. The tuner's sketches fill it
/// (Sketch::describe), so this library holds no list of sketch or knob
/// names; knobs a config leaves out stay 0.
struct CpuGemmKnobs {
  // Threads, cache tiles, register tile, k unrolling.
  int64_t par = 0, mc = 0, nc = 0, kc = 0, mr = 0, nr = 0, kUnroll = 0;
  bool orderNmk = false, pack = false, fuse = false;
  /// Elements per step of the im2col patch copy (a conv as a GEMM); 0: none.
  int64_t copy = 0;
  /// B packed into nr-wide panels (pack is then true too).
  bool panels = false;
  /// Threads split N rather than the rows (an in-place small-M matmul).
  bool splitN = false;
  /// k elements per dot-product step (VNNI 4, BF16 2, AMX); 1: FMAs.
  int64_t dotGroup = 1;
  /// mr x nr is an AMX micro-tile of tile registers, not vector FMAs.
  bool amx = false;
};
struct CpuConvKnobs {
  int64_t par = 0, owT = 0, fT = 0, cT = 0;
  bool hoist = false;
  /// k elements per dot-product step of the register tile; 1: FMAs.
  int64_t dotGroup = 1;
  /// An AMX micro-tile (cpu_conv_amx).
  bool amx = false;
};
struct CpuElementwiseKnobs {
  int64_t par = 0, rows = 0, cols = 0;
};
struct HwaccGemmKnobs {
  int64_t tm = 0, tn = 0, tk = 0;
  bool loopOrderNmk = false, doubleBuffer = false, dataflowOs = false;
};
struct GpuKernelKnobs {
  int64_t bm = 0, bn = 0, tm = 0, tn = 0, bk = 0, vec = 0;
  bool promote = false, registerTile = false;
};
using ScheduleKnobs =
    std::variant<std::monostate, CpuGemmKnobs, CpuConvKnobs,
                 CpuElementwiseKnobs, HwaccGemmKnobs, GpuKernelKnobs>;

struct SketchDescription {
  /// The sketch's one-hot feature (one of the FSketch... ids); none for a
  /// config no sketch knows.
  std::optional<FeatureId> sketchFeature;
  ScheduleKnobs knobs;
};

/// Everything the features are computed from.
struct FeatureInput {
  /// "matmul", "batch_matmul", "conv2d", "elementwise" or "other".
  std::string opKind;
  /// Loop ranges of the anchor op: matmul M,N,K; batch_matmul B,M,N,K;
  /// conv2d (nhwc_hwcf) N,OH,OW,F,KH,KW,C; elementwise its loops.
  std::vector<int64_t> loopRanges;
  /// Element type of the anchor's first input: "f32", "i8", ...
  std::string elemType;
  /// The candidate, as its sketch describes it.
  SketchDescription sketch;
  /// The weights are constants in the measured kernel (a model's task):
  /// packing them happens at compile time, not in every run.
  bool constantWeights = false;
  /// {"kind": "cpu"|"hwacc"|"gpu", "vector_lanes", "vector_registers",
  ///  "l2_bytes", "cores", "array_dim", "scratchpad_rows", "accumulator_rows",
  ///  "dma_bytes_per_cycle", "gpu_shared_bytes", "gpu_multiprocessors",
  ///  "dma_latency_cycles", "l1_bytes", "l3_bytes"};
  ///  missing fields take the tuner's defaults.
  nlohmann::json target;
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
