//===- FeaturesTest.cpp - Tests of the cost-model features ----------------===//
//
// Known values for hand-made configs of each sketch (computed by hand in the
// comments), the fixed layout and its names, and robustness to missing
// knobs and odd inputs. The tuner's sketches describe their configs
// (Sketch::describe); here `describe` writes the same descriptions from
// the same JSON, so the known values read as configs.
//
//===----------------------------------------------------------------------===//

#include "hatc/CostModel/Features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

using namespace hatc::cost_model;
using json = nlohmann::json;

namespace {

int64_t intKnob(const json &c, const char *name) {
  if (!c.is_object() || !c.contains(name))
    return 0;
  const json &v = c.at(name);
  if (v.is_boolean())
    return v.get<bool>();
  return v.is_number() ? v.get<int64_t>() : 0;
}

bool knobIs(const json &c, const char *name, const char *value) {
  return c.is_object() && c.contains(name) && c.at(name).is_string() &&
         c.at(name).get<std::string>() == value;
}

/// As the sketches describe their configs.
SketchDescription describe(const json &c) {
  std::string sketch =
      c.is_object() && c.contains("sketch") ? c["sketch"].get<std::string>()
                                            : "";
  auto gemm = [&] {
    CpuGemmKnobs k;
    k.par = intKnob(c, "par"), k.mc = intKnob(c, "mc"), k.nc = intKnob(c, "nc");
    k.kc = intKnob(c, "kc"), k.mr = intKnob(c, "mr"), k.nr = intKnob(c, "nr");
    k.kUnroll = intKnob(c, "k_unroll"), k.orderNmk = knobIs(c, "order", "nmk");
    k.pack = intKnob(c, "pack"), k.fuse = intKnob(c, "fuse");
    k.copy = intKnob(c, "copy");
    k.panels = intKnob(c, "pack") == 2, k.splitN = intKnob(c, "split_n");
    k.dotGroup = std::max<int64_t>(1, intKnob(c, "dot_group"));
    k.amx = intKnob(c, "amx");
    return k;
  };
  if (sketch == "cpu_matmul")
    return {FSketchCpuMatmul, gemm()};
  if (sketch == "cpu_conv_im2col")
    return {FSketchCpuConvIm2col, gemm()};
  if (sketch == "cpu_conv")
    return {FSketchCpuConv,
            CpuConvKnobs{intKnob(c, "par"), intKnob(c, "ow_t"),
                         intKnob(c, "f_t"), intKnob(c, "c_t"),
                         intKnob(c, "hoist") != 0}};
  if (sketch == "cpu_elementwise")
    return {FSketchCpuElementwise,
            CpuElementwiseKnobs{intKnob(c, "par"), intKnob(c, "rows"),
                                intKnob(c, "cols")}};
  if (sketch == "hwacc_gemm")
    return {FSketchHwaccGemm,
            HwaccGemmKnobs{intKnob(c, "tm"), intKnob(c, "tn"),
                           intKnob(c, "tk"), knobIs(c, "loop_order", "nmk"),
                           intKnob(c, "double_buffer") != 0,
                           knobIs(c, "dataflow", "os")}};
  if (sketch == "gpu_matmul" || sketch == "gpu_elementwise")
    return {sketch == "gpu_matmul" ? FSketchGpuMatmul : FSketchGpuElementwise,
            GpuKernelKnobs{intKnob(c, "bm"), intKnob(c, "bn"),
                           intKnob(c, "tm"), intKnob(c, "tn"),
                           intKnob(c, "bk"), intKnob(c, "vec"),
                           intKnob(c, "promote") != 0,
                           intKnob(c, "reg") != 0}};
  return {};
}

/// A feature input with its config as JSON, described when extracted.
struct Input : FeatureInput {
  json config;
};

std::vector<float> features(const Input &in) {
  FeatureInput described = in;
  described.sketch = describe(in.config);
  return extractFeatures(described);
}

json cpuTarget() {
  return {{"kind", "cpu"},          {"vector_lanes", 16},
          {"vector_registers", 32}, {"l2_bytes", 1 << 20},
          {"cores", 2}};
}

json hwaccTarget() {
  return {{"kind", "hwacc"},
          {"array_dim", 16},
          {"scratchpad_rows", 4096},
          {"accumulator_rows", 1024},
          {"dma_bytes_per_cycle", 16}};
}

Input matmul1024() {
  Input in;
  in.opKind = "matmul";
  in.loopRanges = {1024, 1024, 1024};
  in.elemType = "f32";
  in.config = {{"sketch", "cpu_matmul"}, {"par", 2},    {"mc", 64},
               {"nc", 256},              {"kc", 128},   {"mr", 6},
               {"nr", 32},               {"k_unroll", 2}, {"order", "nmk"},
               {"pack", 0}};
  in.target = cpuTarget();
  return in;
}

Input hwaccOdd() {
  Input in;
  in.opKind = "matmul";
  in.loopRanges = {257, 128, 64};
  in.elemType = "f32";
  in.config = {{"sketch", "hwacc_gemm"}, {"tm", 64},
               {"tn", 128},              {"tk", 64},
               {"loop_order", "mnk"},    {"double_buffer", true},
               {"dataflow", "ws"}};
  in.target = hwaccTarget();
  return in;
}

void expectAllFinite(const std::vector<float> &f) {
  for (size_t i = 0; i < f.size(); ++i)
    EXPECT_TRUE(std::isfinite(f[i])) << featureNames()[i];
}

} // namespace

TEST(CostModelFeatures, FixedLengthForEverySketch) {
  std::vector<Input> inputs = {matmul1024(), hwaccOdd()};
  Input conv;
  conv.opKind = "conv2d";
  conv.loopRanges = {1, 56, 56, 64, 3, 3, 64};
  conv.elemType = "f32";
  conv.config = {{"sketch", "cpu_conv"}, {"par", 2}, {"ow_t", 8},
                 {"f_t", 32},            {"c_t", 16}, {"hoist", 1}};
  conv.target = cpuTarget();
  inputs.push_back(conv);
  Input ew;
  ew.opKind = "elementwise";
  ew.loopRanges = {128, 3072};
  ew.elemType = "f32";
  ew.config = {{"sketch", "cpu_elementwise"}, {"par", 2}, {"rows", 4},
               {"cols", 64}};
  ew.target = cpuTarget();
  inputs.push_back(ew);
  for (const Input &in : inputs) {
    std::vector<float> f = features(in);
    EXPECT_EQ(f.size(), size_t(kFeatureCount));
    EXPECT_EQ(f.size(), featureCount());
    expectAllFinite(f);
  }
}

TEST(CostModelFeatures, NamesMatchLayout) {
  const auto &names = featureNames();
  const auto &docs = featureDescriptions();
  ASSERT_EQ(names.size(), size_t(kFeatureCount));
  ASSERT_EQ(docs.size(), size_t(kFeatureCount));
  std::set<std::string> unique(names.begin(), names.end());
  EXPECT_EQ(unique.size(), names.size()) << "feature names must be unique";
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_FALSE(names[i].empty());
    EXPECT_FALSE(docs[i].empty()) << names[i];
    EXPECT_EQ(featureIndex(names[i]), int(i));
  }
  EXPECT_EQ(featureIndex("l2_ratio"), FL2Ratio);
  EXPECT_EQ(featureIndex("sketch_hwacc_gemm"), FSketchHwaccGemm);
  EXPECT_EQ(featureIndex("no_such_feature"), -1);
}

TEST(CostModelFeatures, CpuMatmulKnownValues) {
  std::vector<float> f = features(matmul1024());
  EXPECT_EQ(f[FSketchCpuMatmul], 1);
  EXPECT_EQ(f[FSketchHwaccGemm], 0);
  EXPECT_EQ(f[FOpMatmul], 1);
  EXPECT_EQ(f[FTargetIsHwacc], 0);
  EXPECT_FLOAT_EQ(f[FLog2ElemBytes], 2);
  EXPECT_FLOAT_EQ(f[FLog2Flops], 31); // 2 * 2^30
  EXPECT_FLOAT_EQ(f[FLog2GemmM], 10);
  // Knobs in log2 space, choices as 0/1.
  EXPECT_FLOAT_EQ(f[FLog2Par], 1);
  EXPECT_FLOAT_EQ(f[FLog2Mc], 6);
  EXPECT_FLOAT_EQ(f[FLog2Nc], 8);
  EXPECT_FLOAT_EQ(f[FLog2Kc], 7);
  EXPECT_FLOAT_EQ(f[FLog2Mr], std::log2(6.0f));
  EXPECT_FLOAT_EQ(f[FLog2Nr], 5);
  EXPECT_FLOAT_EQ(f[FLog2KUnroll], 1);
  EXPECT_EQ(f[FOrderNmk], 1);
  EXPECT_EQ(f[FPack], 0);
  // Two threads get 512 rows each: 512/64 = 8 row tiles, 1024/256 = 4
  // column tiles, 1024/128 = 8 k tiles.
  EXPECT_FLOAT_EQ(f[FLog2TilesM], 3);
  EXPECT_FLOAT_EQ(f[FLog2TilesN], 2);
  EXPECT_FLOAT_EQ(f[FLog2TilesK], 3);
  // B panel kc x nc = 128 x 256 x 4 B = 128 KiB = 1/8 of the 1 MiB L2.
  EXPECT_FLOAT_EQ(f[FL2Ratio], 0.125f);
  EXPECT_FLOAT_EQ(f[FLog2BTileBytes], 17);
  EXPECT_FLOAT_EQ(f[FLog2ATileBytes], 15); // 64 x 128 x 4
  EXPECT_FLOAT_EQ(f[FLog2CTileBytes], 16); // 64 x 256 x 4
  // 6 x 32 register tile: 6 rows x 2 vectors + 2 for B + 1 broadcast = 15
  // of 32 registers.
  EXPECT_FLOAT_EQ(f[FRegRatio], 15.0f / 32.0f);
  EXPECT_FLOAT_EQ(f[FLog2RegVectors], std::log2(12.0f));
  EXPECT_FLOAT_EQ(f[FLaneUtil], 1);
  EXPECT_FLOAT_EQ(f[FParImbalance], 0);
  EXPECT_FLOAT_EQ(f[FParPerCore], 1);
  EXPECT_FLOAT_EQ(f[FLog2WorkPerThread], 19); // 512 x 1024
  EXPECT_FLOAT_EQ(f[FPadWaste], 0);
  // Bytes: A 4 MiB x 4 column tiles + B 4 MiB x 16 row tiles + C 4 MiB x 2
  // x 8 k tiles = 144 MiB for 2^31 flops.
  EXPECT_NEAR(f[FLog2ArithIntensity], std::log2(2048.0 / 144.0), 1e-5);
  // hwacc features stay 0 on the CPU.
  EXPECT_EQ(f[FSpOccupancy], 0);
  EXPECT_EQ(f[FArrayUtil], 0);
}

TEST(CostModelFeatures, CpuMatmulPackedPaddingAndImbalance) {
  Input in;
  in.opKind = "matmul";
  in.loopRanges = {257, 129, 67};
  in.elemType = "f32";
  in.config = {{"sketch", "cpu_matmul"}, {"par", 1},  {"mc", 64},
               {"nc", 64},               {"kc", 64},  {"mr", 4},
               {"nr", 32},               {"k_unroll", 1}, {"order", "mnk"},
               {"pack", 1}};
  in.target = cpuTarget();
  std::vector<float> f = features(in);
  // Rows: 4 tiles of 64 + a 1-row tile padded to mr=4 -> 260. Columns: 2
  // tiles of 64 + 1 column padded to nr=32 -> 160.
  EXPECT_NEAR(f[FPadWaste], 260.0 * 160.0 / (257.0 * 129.0) - 1.0, 1e-6);
  EXPECT_FLOAT_EQ(f[FLog2TilesM], std::log2(5.0f));
  EXPECT_FLOAT_EQ(f[FLog2TilesK], std::log2(2.0f));
  EXPECT_NEAR(f[FLaneUtil], 129.0 / 144.0, 1e-6);

  // Two threads on 257 rows: the first gets 129, so 258 / 257 - 1.
  in.config["par"] = 2;
  f = features(in);
  EXPECT_NEAR(f[FParImbalance], 258.0 / 257.0 - 1.0, 1e-6);
  EXPECT_FLOAT_EQ(f[FLog2WorkPerThread], std::log2(129.0f * 129.0f));
}

TEST(CostModelFeatures, CpuMatmulThreadsOverNPanelsAndDots) {
  // A batch-32 layer: with threads over N each gets all 32 rows and half of
  // the 512 columns.
  Input in;
  in.opKind = "matmul";
  in.loopRanges = {32, 512, 784};
  in.elemType = "f32";
  in.config = {{"sketch", "cpu_matmul"}, {"par", 2},   {"mc", 32},
               {"nc", 512},              {"kc", 784},  {"mr", 4},
               {"nr", 64},               {"k_unroll", 1}, {"order", "mnk"},
               {"pack", 0}};
  in.target = cpuTarget();
  std::vector<float> rows = features(in);
  EXPECT_EQ(rows[FSplitN], 0);
  EXPECT_FLOAT_EQ(rows[FLog2WorkPerThread], std::log2(16.0f * 512.0f));
  EXPECT_FLOAT_EQ(rows[FRelTileN], 1);
  in.config["split_n"] = 1;
  std::vector<float> cols = features(in);
  EXPECT_EQ(cols[FSplitN], 1);
  EXPECT_FLOAT_EQ(cols[FLog2WorkPerThread], std::log2(32.0f * 256.0f));
  // nc 512 is clamped to a thread's 256 columns; the parallel loop is N.
  EXPECT_FLOAT_EQ(cols[FRelTileN], 1);
  EXPECT_FLOAT_EQ(cols[FLog2TilesN], 0);
  EXPECT_FLOAT_EQ(cols[FLog2ParItersPerThread], 8);
  EXPECT_EQ(cols[FPanels], 0);

  in.config["split_n"] = 0;
  in.config["pack"] = 2;
  std::vector<float> panels = features(in);
  EXPECT_EQ(panels[FPanels], 1);
  EXPECT_EQ(panels[FPack], 1);

  // i8 on VNNI: a step takes 4 k elements, so the same tile is estimated 4x
  // faster than on FMAs of widened values (and beats the FMA ideal).
  in.elemType = "i8";
  in.config["pack"] = 1;
  std::vector<float> fmas = features(in);
  in.config["dot_group"] = 4;
  std::vector<float> dots = features(in);
  EXPECT_FLOAT_EQ(dots[FLog2DotGroup], 2);
  EXPECT_EQ(fmas[FLog2DotGroup], 0);
  EXPECT_LT(dots[FLog2CpuTimeOverIdeal], fmas[FLog2CpuTimeOverIdeal]);
  EXPECT_EQ(dots[FAmx], 0);
  in.config["amx"] = 1;
  EXPECT_EQ(features(in)[FAmx], 1);
  EXPECT_EQ(features(in)[FConstantWeights], 0);
  in.constantWeights = true;
  EXPECT_EQ(features(in)[FConstantWeights], 1);
}

TEST(CostModelFeatures, HwaccGemmKnownValues) {
  std::vector<float> f = features(hwaccOdd());
  EXPECT_EQ(f[FSketchHwaccGemm], 1);
  EXPECT_EQ(f[FTargetIsHwacc], 1);
  EXPECT_FLOAT_EQ(f[FLog2Tm], 6);
  EXPECT_FLOAT_EQ(f[FLog2Tn], 7);
  EXPECT_FLOAT_EQ(f[FLog2Tk], 6);
  EXPECT_EQ(f[FDoubleBuffer], 1);
  EXPECT_EQ(f[FDataflowOs], 0);
  EXPECT_EQ(f[FLoopOrderNmk], 0);
  // 257 rows in tiles of 64: 5 tiles, 320 rows' worth.
  EXPECT_FLOAT_EQ(f[FLog2TilesM], std::log2(5.0f));
  EXPECT_FLOAT_EQ(f[FLog2TilesN], 0);
  EXPECT_FLOAT_EQ(f[FLog2TilesK], 0);
  EXPECT_NEAR(f[FTileEff], 257.0 / 320.0, 1e-6);
  EXPECT_NEAR(f[FPadWaste], 320.0 / 257.0 - 1.0, 1e-6);
  // The array only wastes the last 16-row block: 257 / 272.
  EXPECT_NEAR(f[FArrayUtil], 257.0 / 272.0, 1e-6);
  // Scratchpad: 2 buffers x (64x64 + 64x128) / 16 = 1536 of 4096 rows.
  EXPECT_NEAR(f[FSpOccupancy], 1536.0 / 4096.0, 1e-6);
  // Accumulator: 64 x 128 / 16 = 512 of 1024 rows.
  EXPECT_NEAR(f[FAccOccupancy], 0.5, 1e-6);
  // DMA: A 257x64x4 once (one column tile), B 64x128x4 per row tile (5), C
  // 257x128x4 out once.
  double bytes = 257 * 64 * 4 + 5 * 64 * 128 * 4 + 257 * 128 * 4;
  double macs = 257.0 * 128 * 64;
  EXPECT_NEAR(f[FDmaBytesPerMac], bytes / macs, 1e-6);
  double compute = macs / 256 / (257.0 / 272.0);
  EXPECT_NEAR(f[FDmaComputeRatio], bytes / 16 / compute, 1e-5);
  EXPECT_FLOAT_EQ(f[FLog2BlocksPerTile], 7); // 4 x 8 x 4 blocks
  // No CPU knobs.
  EXPECT_EQ(f[FLog2Par], 0);
  EXPECT_EQ(f[FRegRatio], 0);
}

Input hwaccGemm(int64_t m, int64_t n, int64_t k, int64_t tm, int64_t tn,
                int64_t tk, bool doubleBuffer, const char *dataflow) {
  Input in;
  in.opKind = "matmul";
  in.loopRanges = {m, n, k};
  in.elemType = "f32";
  in.config = {{"sketch", "hwacc_gemm"}, {"tm", tm},
               {"tn", tn},               {"tk", tk},
               {"loop_order", "mnk"},    {"double_buffer", doubleBuffer},
               {"dataflow", dataflow}};
  in.target = hwaccTarget();
  in.target["dma_latency_cycles"] = 64;
  return in;
}

TEST(CostModelFeatures, HwaccCycleEstimateOfOneBlock) {
  // One 16x16x16 block, weight-stationary, one buffer, 16 B/cycle, 64
  // cycles DMA latency: the A and B mvin take 64 cycles each, B's lands
  // 64 later (192); the compute (32 with the preload) overlaps what a next
  // k step would load; the partial sums drain (30), the C mvout (64) and
  // its latency (64): 350 cycles for 16 ideal (the device says 382: the
  // last step's compute is not overlapped).
  std::vector<float> f = features(hwaccGemm(16, 16, 16, 16, 16, 16, false, "ws"));
  EXPECT_NEAR(f[FLog2HwaccCyclesOverIdeal], std::log2(350.0 / 16.0), 1e-5);
  EXPECT_NEAR(f[FHwaccLoadShare], 128.0 / 350.0, 1e-6);
  EXPECT_NEAR(f[FHwaccExecShare], 32.0 / 350.0, 1e-6);
  EXPECT_NEAR(f[FHwaccStoreShare], 64.0 / 350.0, 1e-6);
  // No CPU estimate on the accelerator.
  EXPECT_EQ(f[FLog2CpuTimeOverIdeal], 0);
}

TEST(CostModelFeatures, HwaccCycleEstimateOfATiledGemm) {
  // 64x64x64 in 32x32x32 tiles, ws, single-buffered: 4 C tiles of 2 k
  // steps. A k step loads 4 A then 4 B blocks (256 + 256 cycles) and runs
  // 2 x 2 weight groups of 16 + 32 cycles (192); the first column's groups
  // wait for their B blocks (the second lands 3 x 64 after B starts), so
  // the step's computes span 240 + 96, of which the last column (96)
  // overlaps the next A loads: max(512 + 64, 256 + 64 + 336 - 96) = 576.
  // Two a tile, 4 tiles (the C mvout hides under the next tile), then the
  // drain (30), the last C mvout (256) and its latency (64): 4958 cycles;
  // ideal 64^3 / 16^2 = 1024.
  std::vector<float> f = features(hwaccGemm(64, 64, 64, 32, 32, 32, false, "ws"));
  EXPECT_NEAR(f[FLog2HwaccCyclesOverIdeal], std::log2(4958.0 / 1024.0), 1e-5);
  EXPECT_NEAR(f[FHwaccLoadShare], 4 * 2 * 512.0 / 4958.0, 1e-6);
  // Double-buffered: an even number of k steps keeps the pipeline full
  // across tiles, so each step costs max(512, 192) and the first tile's
  // fill min(512, 192) + 64 once: 4 x 1024 + 256 + 350 = 4702.
  std::vector<float> db = features(hwaccGemm(64, 64, 64, 32, 32, 32, true, "ws"));
  EXPECT_NEAR(db[FLog2HwaccCyclesOverIdeal], std::log2(4702.0 / 1024.0), 1e-5);
  // One 64^3 tile, double-buffered (one k step: nothing to overlap, the
  // fill counts): loads 2048; ws computes 4 x 4 x (16 + 64) = 1280, os
  // 4 x 4 x 4 x (16 + 16) = 2048 (a dim-cycle preload per block). Then
  // drain, 16 C blocks out (1024) and latency: ws 2048 + 1280 + 64 + 1118,
  // os 2048 + 2048 + 64 + 1118.
  std::vector<float> ws1 = features(hwaccGemm(64, 64, 64, 64, 64, 64, true, "ws"));
  std::vector<float> os1 = features(hwaccGemm(64, 64, 64, 64, 64, 64, true, "os"));
  EXPECT_NEAR(ws1[FLog2HwaccCyclesOverIdeal], std::log2(4510.0 / 1024.0), 1e-5);
  EXPECT_NEAR(os1[FLog2HwaccCyclesOverIdeal], std::log2(5278.0 / 1024.0), 1e-5);
  EXPECT_NEAR(os1[FHwaccExecShare], 2048.0 / 5278.0, 1e-6);
  // Edge tiles: 48 rows in 32-row tiles are one full and one 16-row tile;
  // the 16-row tile uses the array less well.
  std::vector<float> edge = features(hwaccGemm(48, 64, 64, 32, 32, 32, false, "ws"));
  EXPECT_GT(edge[FLog2HwaccCyclesOverIdeal], f[FLog2HwaccCyclesOverIdeal]);
}

TEST(CostModelFeatures, HwaccCycleEstimateOfABatch) {
  // A batch_matmul is a loop of hwacc.matmul ops, each ending in a fence:
  // three 16x16x16 blocks cost three times the 350 cycles of one (fill,
  // drain, C mvout and latency each time), not 3 x 32 computes + 350.
  Input in = hwaccGemm(16, 16, 16, 16, 16, 16, false, "ws");
  in.opKind = "batch_matmul";
  in.loopRanges = {3, 16, 16, 16};
  std::vector<float> f = features(in);
  EXPECT_NEAR(f[FLog2HwaccCyclesOverIdeal], std::log2(3 * 350.0 / (3 * 16.0)),
              1e-5);
  EXPECT_NEAR(f[FHwaccLoadShare], 128.0 / 350.0, 1e-6);
}

TEST(CostModelFeatures, HwaccInt8ScratchpadHoldsFourTimesMore) {
  Input in = hwaccOdd();
  in.elemType = "i8";
  std::vector<float> f = features(in);
  EXPECT_NEAR(f[FSpOccupancy], 1536.0 / (4 * 4096.0), 1e-6);
  EXPECT_EQ(f[FElemIsFloat], 0);
  EXPECT_FLOAT_EQ(f[FLog2ElemBytes], 0);
}

TEST(CostModelFeatures, CpuKernelEfficiencyEstimate) {
  // 6 x 32 register tile at 16 lanes: 12 accumulators (enough for two
  // 4-cycle FMA pipes), 8 loads per 12 FMAs, all lanes used, 15 of 32
  // registers: full efficiency.
  Input in = matmul1024();
  EXPECT_FLOAT_EQ(features(in)[FCpuKernelEff], 1.0f);
  // 1 x 16: one accumulator, latency-bound at 1/8.
  in.config["mr"] = 1;
  in.config["nr"] = 16;
  EXPECT_FLOAT_EQ(features(in)[FCpuKernelEff], 0.125f);
  // 8 x 64: 32 accumulators + 4 + 1 registers of 32: spills, (32/37)^2.
  in.config["mr"] = 8;
  in.config["nr"] = 64;
  EXPECT_NEAR(features(in)[FCpuKernelEff], (32.0 / 37) * (32.0 / 37), 1e-6);
  // 4 x 24: 2 vectors of which 24 of 32 lanes are used.
  in.config["mr"] = 4;
  in.config["nr"] = 24;
  std::vector<float> f = features(in);
  EXPECT_NEAR(f[FCpuKernelEff], 0.75, 1e-6);
  // Time over the ideal: compute-bound here, so 1 / efficiency (2 threads
  // on 2 cores, balanced, no padding).
  EXPECT_GT(f[FCpuMemShare], 0);
  EXPECT_LT(f[FCpuMemShare], 0.5);
  EXPECT_NEAR(f[FLog2CpuTimeOverIdeal], std::log2(1 / 0.75), 1e-5);
  EXPECT_EQ(f[FLog2HwaccCyclesOverIdeal], 0);
}

TEST(CostModelFeatures, ConvKnownValues) {
  Input in;
  in.opKind = "conv2d";
  in.loopRanges = {1, 56, 56, 64, 3, 3, 64};
  in.elemType = "f32";
  in.config = {{"sketch", "cpu_conv"}, {"par", 2}, {"ow_t", 8},
               {"f_t", 32},            {"c_t", 16}, {"hoist", 1}};
  in.target = cpuTarget();
  std::vector<float> f = features(in);
  EXPECT_EQ(f[FSketchCpuConv], 1);
  EXPECT_EQ(f[FOpConv2d], 1);
  EXPECT_EQ(f[FHoist], 1);
  EXPECT_FLOAT_EQ(f[FLog2GemmM], std::log2(56.0f * 56.0f));
  EXPECT_FLOAT_EQ(f[FLog2GemmK], std::log2(576.0f));
  EXPECT_FLOAT_EQ(f[FLog2TilesM], std::log2(7.0f));
  EXPECT_FLOAT_EQ(f[FLog2TilesN], 1);
  EXPECT_FLOAT_EQ(f[FLog2TilesK], std::log2(36.0f)); // 3 x 3 x 64/16
  EXPECT_FLOAT_EQ(f[FRegRatio], 19.0f / 32.0f);    // 8 x 2 + 2 + 1
  EXPECT_FLOAT_EQ(f[FL2Ratio], 3 * 3 * 64 * 32 * 4 / float(1 << 20));
  EXPECT_FLOAT_EQ(f[FLog2WorkPerThread], std::log2(28.0f * 56 * 64));
}

TEST(CostModelFeatures, ConvIm2colIsTheGemmOfThePatchMatrix) {
  Input in;
  in.opKind = "conv2d";
  in.loopRanges = {1, 56, 56, 64, 3, 3, 64};
  in.elemType = "f32";
  in.config = {{"sketch", "cpu_conv_im2col"}, {"par", 2},  {"mc", 56},
               {"nc", 64},                    {"kc", 64},  {"mr", 7},
               {"nr", 32},                    {"k_unroll", 2},
               {"copy", 64}};
  in.target = cpuTarget();
  std::vector<float> f = features(in);
  EXPECT_EQ(f[FSketchCpuConvIm2col], 1);
  EXPECT_EQ(f[FSketchCpuConv], 0);
  EXPECT_FLOAT_EQ(f[FLog2Copy], 6);
  EXPECT_FLOAT_EQ(f[FLog2Mc], std::log2(56.0f));
  EXPECT_FLOAT_EQ(f[FLog2TilesM], std::log2(28.0f)); // 1568 rows / 56
  EXPECT_FLOAT_EQ(f[FLog2TilesN], 0);                // 64 / 64
  EXPECT_FLOAT_EQ(f[FLog2TilesK], std::log2(9.0f));  // 576 / 64
  EXPECT_FLOAT_EQ(f[FRegRatio], 17.0f / 32.0f);      // 7 x 2 + 2 + 1
  EXPECT_FLOAT_EQ(f[FLog2WorkPerThread], std::log2(1568.0f * 64));
}

TEST(CostModelFeatures, GpuKnownValues) {
  Input in = matmul1024();
  in.config = {{"sketch", "gpu_matmul"}, {"bm", 64}, {"bn", 128},
               {"tm", 4},  {"tn", 8},    {"bk", 16},
               {"promote", true}, {"vec", 4}, {"reg", true}};
  in.target = {{"kind", "gpu"},
               {"gpu_shared_bytes", 48 * 1024},
               {"gpu_multiprocessors", 132}};
  std::vector<float> f = features(in);
  EXPECT_EQ(f[FSketchGpuMatmul], 1);
  EXPECT_EQ(f[FTargetIsGpu], 1);
  EXPECT_EQ(f[FTargetIsHwacc], 0);
  EXPECT_FLOAT_EQ(f[FLog2GpuThreads], 8);          // 16 x 16
  EXPECT_FLOAT_EQ(f[FLog2GpuBlocks], 7);           // 16 x 8
  EXPECT_FLOAT_EQ(f[FGpuWaveEff], 128.0f / 132);   // one wave, 4 SMs idle
  EXPECT_FLOAT_EQ(f[FGpuCoalescing], 1.0f / 8);
  EXPECT_FLOAT_EQ(f[FLog2GpuBk], 4);
  EXPECT_EQ(f[FGpuPromote], 1);
  EXPECT_FLOAT_EQ(f[FLog2GpuVec], 2);
  EXPECT_EQ(f[FGpuRegTile], 1);
  // (64 x 16 + 16 x 128) floats of 48 KiB.
  EXPECT_FLOAT_EQ(f[FGpuSharedRatio], 3072.0f * 4 / (48 * 1024));
  EXPECT_FLOAT_EQ(f[FLog2TilesK], 6); // 1024 / 16
  EXPECT_FLOAT_EQ(f[FLog2WorkPerThread], 5);

  // Without promotion no shared memory, and each thread reads its own
  // operands: lower arithmetic intensity.
  Input direct = in;
  direct.config["promote"] = false;
  direct.config["vec"] = 1;
  std::vector<float> g = features(direct);
  EXPECT_EQ(g[FGpuSharedRatio], 0);
  EXPECT_LT(g[FLog2ArithIntensity], f[FLog2ArithIntensity]);

  Input ew;
  ew.opKind = "elementwise";
  ew.loopRanges = {128, 3072};
  ew.elemType = "f32";
  ew.config = {{"sketch", "gpu_elementwise"}, {"bm", 4}, {"bn", 128},
               {"tm", 1}, {"tn", 4}};
  ew.target = in.target;
  std::vector<float> e = features(ew);
  EXPECT_EQ(e[FSketchGpuElementwise], 1);
  EXPECT_FLOAT_EQ(e[FLog2GpuThreads], 7);                // 4 x 32
  EXPECT_FLOAT_EQ(e[FLog2GpuBlocks], std::log2(768.0f)); // 32 x 24
  expectAllFinite(e);
}

TEST(CostModelFeatures, ElementwiseKnownValues) {
  Input in;
  in.opKind = "elementwise";
  in.loopRanges = {128, 3072};
  in.elemType = "f32";
  in.config = {{"sketch", "cpu_elementwise"}, {"par", 2}, {"rows", 4},
               {"cols", 64}};
  in.target = cpuTarget();
  std::vector<float> f = features(in);
  EXPECT_EQ(f[FSketchCpuElementwise], 1);
  EXPECT_FLOAT_EQ(f[FLog2Flops], std::log2(128.0f * 3072));
  EXPECT_FLOAT_EQ(f[FLog2TilesM], 4);                  // 64 rows / 4
  EXPECT_FLOAT_EQ(f[FLog2TilesN], std::log2(48.0f)); // 3072 / 64
  EXPECT_FLOAT_EQ(f[FRegRatio], 16.0f / 32.0f);      // 4 x 4 vectors
}

TEST(CostModelFeatures, DifferentConfigsGiveDifferentVectors) {
  std::vector<json> configs;
  for (int mc : {32, 64})
    for (int nr : {16, 32})
      for (const char *order : {"mnk", "nmk"})
        for (int pack : {0, 1})
          configs.push_back({{"sketch", "cpu_matmul"}, {"par", 2},
                             {"mc", mc}, {"nc", 256}, {"kc", 128},
                             {"mr", 4}, {"nr", nr}, {"k_unroll", 1},
                             {"order", order}, {"pack", pack}});
  for (int tm : {16, 64})
    for (bool db : {false, true})
      for (const char *flow : {"ws", "os"})
        configs.push_back({{"sketch", "hwacc_gemm"}, {"tm", tm}, {"tn", 64},
                           {"tk", 64}, {"loop_order", "mnk"},
                           {"double_buffer", db}, {"dataflow", flow}});
  std::set<std::vector<float>> seen;
  for (const json &config : configs) {
    Input in = matmul1024();
    in.config = config;
    if (config["sketch"] == "hwacc_gemm")
      in.target = hwaccTarget();
    EXPECT_TRUE(seen.insert(features(in)).second)
        << "same features as another config: " << config.dump();
  }
}

TEST(CostModelFeatures, MissingKnobsReadAsZero) {
  Input in = matmul1024();
  in.config = {{"sketch", "cpu_matmul"}};
  in.target = json::object();
  std::vector<float> f = features(in);
  ASSERT_EQ(f.size(), size_t(kFeatureCount));
  expectAllFinite(f);
  EXPECT_EQ(f[FSketchCpuMatmul], 1);
  EXPECT_EQ(f[FLog2Mc], 0);
  EXPECT_EQ(f[FLog2Nr], 0);
  EXPECT_EQ(f[FOrderNmk], 0);

  // Mistyped knobs, no loops, unknown sketch, non-object JSON: still a
  // full vector of finite values.
  in.config = {{"sketch", "hwacc_gemm"}, {"tm", "big"}, {"double_buffer", nullptr}};
  in.loopRanges = {};
  f = features(in);
  ASSERT_EQ(f.size(), size_t(kFeatureCount));
  expectAllFinite(f);
  EXPECT_EQ(f[FLog2Tm], 0);

  for (const char *sketch : {"cpu_conv", "cpu_conv_im2col", "cpu_elementwise",
                             "gpu_matmul", "gpu_elementwise", "nonsense"}) {
    in.config = {{"sketch", sketch}};
    in.loopRanges = {0, 0, 0, 0, 0, 0, 0};
    f = features(in);
    ASSERT_EQ(f.size(), size_t(kFeatureCount));
    expectAllFinite(f);
  }
  in.config = json();
  in.target = json::array();
  f = features(in);
  ASSERT_EQ(f.size(), size_t(kFeatureCount));
  expectAllFinite(f);
}
