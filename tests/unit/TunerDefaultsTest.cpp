//===- TunerDefaultsTest.cpp - Analytical default configs -----------------===//
//
// The default schedule's parameters (lowering/CpuSchedules.cpp) follow the
// target's facts and are always valid configs of the tuner's sketches, for
// every shape: round, odd, tiny, batched.
//
//===----------------------------------------------------------------------===//
#include "TestContext.h"
#include "hatc/Config.h"
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Sketch.h"

#include <array>
#include <gtest/gtest.h>

#include <set>

using namespace hatc;
using namespace hatc::tuner;

namespace {

TargetFacts facts(int64_t lanes, int64_t registers, int64_t l1, int64_t l2,
                  int64_t threads) {
  TargetFacts f;
  f.kind = TargetKind::Cpu;
  f.vectorLanes = lanes;
  f.vectorRegisters = registers;
  f.l1Bytes = l1;
  f.l2Bytes = l2;
  f.cores = threads;
  f.threads = threads;
  return f;
}

TargetFacts avx512() { return facts(16, 32, 48 << 10, 2 << 20, 2); }
TargetFacts avx2() { return facts(8, 16, 32 << 10, 256 << 10, 4); }

WorkloadShape shape(OpClass anchor, std::string op,
                    std::vector<int64_t> ranges, std::string elem = "f32",
                    std::string acc = "f32", bool consumer = false) {
  WorkloadShape s;
  s.anchor = anchor;
  s.anchorOp = std::move(op);
  s.loopRanges = std::move(ranges);
  s.elemType = std::move(elem);
  s.accType = std::move(acc);
  s.hasElementwiseConsumer = consumer;
  s.gemmOps = isGemmLike(anchor) ? 1 : 0;
  return s;
}

WorkloadShape matmul(int64_t m, int64_t n, int64_t k) {
  return shape(OpClass::Matmul, "linalg.matmul", {m, n, k});
}

/// A row op (cpu_rows): outer loops parallel, the innermost a reduction
/// or not.
WorkloadShape rowOp(std::vector<int64_t> ranges, bool reduction) {
  WorkloadShape s = shape(reduction ? OpClass::Other : OpClass::Elementwise,
                          "linalg.generic", ranges);
  s.anchorLoops = s.loopRanges;
  s.anchorIterators.assign(ranges.size(), "parallel");
  if (reduction)
    s.anchorIterators.back() = "reduction";
  return s;
}

Config matmulDefault(const WorkloadShape &s, const TargetFacts &f) {
  SearchSpace space(s, f);
  const Sketch *sketch = space.find("cpu_matmul");
  EXPECT_NE(sketch, nullptr);
  auto config = sketch ? sketch->analyticalDefault() : std::nullopt;
  EXPECT_TRUE(config.has_value());
  return config.value_or(Config());
}

/// Shapes of every CPU family: the examples' and odd, tiny, batched ones.
std::vector<WorkloadShape> shapes() {
  using A = OpClass;
  std::vector<WorkloadShape> out = {
      matmul(1024, 1024, 1024), matmul(128, 3072, 768), matmul(257, 129, 67),
      matmul(7, 13, 5), matmul(1, 1, 1), matmul(1, 1000, 2048),
      matmul(1, 1024, 1280), matmul(49, 256, 512),
      matmul(3, 17, 4096), matmul(100, 8, 9), matmul(64, 64, 768),
      matmul(49, 2048, 1024), matmul(8, 3072, 1024), matmul(10, 96, 40),
      shape(A::Matmul, "linalg.matmul", {256, 512, 256}, "i8", "i32"),
      shape(A::Matmul, "linalg.matmul", {1024, 1024, 1024}, "f32", "f32",
            /*consumer=*/true),
      shape(A::Matmul, "linalg.matmul", {33, 50, 7}, "f32", "f32", true),
      shape(A::BatchMatmul, "linalg.batch_matmul", {12, 128, 128, 64}),
      shape(A::BatchMatmul, "linalg.batch_matmul", {3, 17, 33, 9}),
      shape(A::BatchMatmul, "linalg.batch_matmul", {1, 5, 5, 5}),
      // n, oh, ow, f, kh, kw, c
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {1, 56, 56, 64, 3, 3, 64}),
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {1, 28, 28, 128, 3, 3, 64}),
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {2, 7, 7, 48, 1, 1, 3}),
      // 7 rows: the threads split the filters (par_f).
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {1, 7, 7, 512, 3, 3, 512}),
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {1, 5, 3, 16, 3, 3, 5}),
      // An RGB stem (a whole filter row a step) and a late ResNet stage
      // (filter tiles outermost).
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {1, 112, 112, 64, 7, 7, 3}),
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {1, 14, 14, 256, 3, 3, 256}),
      // MobileNetV2's 1x1 convs: 24 -> 144 and 144 -> 24 filters.
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {1, 56, 56, 144, 1, 1, 24}),
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {1, 56, 56, 24, 1, 1, 144}),
      shape(A::Conv2D, "linalg.conv_2d_nhwc_hwcf", {1, 14, 14, 12, 1, 1, 20}),
      shape(A::Elementwise, "linalg.generic", {128, 3072}),
      shape(A::Elementwise, "linalg.generic", {1, 128, 768}),
      shape(A::Elementwise, "linalg.generic", {7, 33}),
      shape(A::Elementwise, "linalg.generic", {4096, 64}),
      // Softmax's and layernorm's rows; odd rows; one row.
      rowOp({1, 12, 128, 128}, true), rowOp({1, 128, 768}, true),
      rowOp({1, 12, 128, 128}, false), rowOp({7, 48}, true),
      rowOp({3, 100}, true), rowOp({1, 4096}, true),
  };
  return out;
}

std::vector<TargetFacts> allFacts() {
  std::vector<TargetFacts> out;
  for (int64_t lanes : {4, 8, 16})
    for (int64_t registers : {16, 32})
      for (int64_t l1 : {32 << 10, 48 << 10})
        for (int64_t l2 : {256 << 10, 1 << 20, 2 << 20})
          for (int64_t threads : {1, 2, 3, 8})
            out.push_back(facts(lanes, registers, l1, l2, threads));
  return out;
}

} // namespace

TEST(TunerDefaults, RegisterTileFollowsTheVectorUnit) {
  Config wide = matmulDefault(matmul(1024, 1024, 1024), avx512());
  Config narrow = matmulDefault(matmul(1024, 1024, 1024), avx2());
  // B panels (AVX-512): 4 rows x 4 vectors. Padded tiles (AVX2): two
  // vectors wide (one B load per FMA port) and as many rows as the
  // register file holds, 6x16 on 16 ymm registers (the classic Haswell
  // kernel).
  EXPECT_EQ(wide.at("nr"), 64);
  EXPECT_EQ(wide.at("mr"), 4);
  EXPECT_EQ(narrow.at("nr"), 16);
  EXPECT_EQ(narrow.at("mr"), 6);
  // Threads over rows: as many as the target runs.
  EXPECT_EQ(wide.at("par"), 2);
  EXPECT_EQ(narrow.at("par"), 4);
  // B in panels where the register tile divides the rows (AVX-512 here);
  // 6 rows do not divide a thread's 256, so AVX2 keeps padded tiles.
  EXPECT_EQ(wide.at("pack"), 2);
  EXPECT_EQ(narrow.at("pack"), 1);
}

TEST(TunerDefaults, PinnedFactsReplaceTheVectorUnitAndCaches) {
  CpuFacts facts; // an AVX2 host with VNNI
  facts.vectorLanes = 8;
  facts.vectorRegisters = 16;
  facts.vnni = true;
  ASSERT_FALSE(llvm::errorToBool(
      pinFacts(facts, "lanes=16, registers=32,l1=48K,l2=1M")));
  EXPECT_EQ(facts.vectorLanes, 16);
  EXPECT_EQ(facts.vectorRegisters, 32);
  EXPECT_EQ(facts.l1Bytes, 48 << 10);
  EXPECT_EQ(facts.l2Bytes, 1 << 20);
  EXPECT_TRUE(facts.vnni); // the host's instructions stay the host's
  ASSERT_FALSE(llvm::errorToBool(pinFacts(facts, "l2=524288")));
  EXPECT_EQ(facts.l2Bytes, 512 << 10);
  // Each bad pin names the variable, the pin and what is wrong.
  for (auto [pin, why] :
       {std::pair{"lanes=12", "lanes is 4, 8 or 16"},
        {"registers=8", "registers is 16 or 32"},
        {"l1=48Q", "l1 is a size in bytes"},
        {"l2=0", "l2 is a size in bytes"},
        {"cache=1M", "unknown key 'cache'"},
        {"lanes", "lanes is 4, 8 or 16"}}) {
    std::string message = llvm::toString(pinFacts(facts, pin));
    EXPECT_NE(message.find(std::string("HATC_CPU_FACTS=\"") + pin + "\""),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(why), std::string::npos) << message;
  }
}

TEST(TunerDefaults, PacksOnlyWhereTilesCannotDivide) {
  // The MLP's first layer: a thread's 16 rows reuse a packed B panel too
  // little; kc = 16 is the one panel tile dividing K = 784.
  Config mlp = matmulDefault(matmul(32, 512, 784), avx512());
  EXPECT_EQ(mlp.at("pack"), 0) << mlp.dump();
  EXPECT_EQ(mlp.at("kc"), 16) << mlp.dump();
  EXPECT_EQ(mlp.at("par"), 2) << mlp.dump();
  EXPECT_EQ(mlp.at("mr"), 8) << mlp.dump();
  EXPECT_EQ(mlp.at("nr"), 32) << mlp.dump();
  // On 16 registers (AVX2, 4 threads here: 8 rows each) in place too, at
  // 4x16, not packed at 6x16 (1.5-1.9x slower measured on one thread).
  for (int64_t threads : {1, 4}) {
    TargetFacts avx2Threads = avx2();
    avx2Threads.threads = threads;
    Config narrow = matmulDefault(matmul(32, 512, 784), avx2Threads);
    EXPECT_EQ(narrow.at("pack"), 0) << narrow.dump();
    EXPECT_EQ(narrow.at("mr"), 4) << narrow.dump();
    EXPECT_EQ(narrow.at("nr"), 16) << narrow.dump();
  }
  // Prime M and K, N = 129: only padding makes tiles of them.
  EXPECT_EQ(matmulDefault(matmul(257, 129, 67), avx512()).at("pack"), 1);
  // N = 10 is less than a vector: padded.
  EXPECT_EQ(matmulDefault(matmul(32, 10, 512), avx512()).at("pack"), 1);
  // 100 rows: 4-row tiles divide them, 4 vectors wide (as many FMAs per
  // load as 8 x 2 vectors): B panels, no padding.
  Config rows = matmulDefault(matmul(100, 64, 64), avx512());
  EXPECT_EQ(rows.at("pack"), 2) << rows.dump();
  EXPECT_EQ(rows.at("mr"), 4) << rows.dump();
  EXPECT_EQ(rows.at("nr"), 64) << rows.dump();
  // 100 rows, N = 32: no 4-vector tile; 4 x 32 does half the FMAs per
  // load of the padded 8 x 32.
  Config narrowN = matmulDefault(matmul(100, 32, 64), avx512());
  EXPECT_EQ(narrowN.at("pack"), 1) << narrowN.dump();
  EXPECT_EQ(narrowN.at("mr"), 8) << narrowN.dump();
  // 48 rows on one thread: 8-row tiles divide them.
  EXPECT_EQ(matmulDefault(matmul(48, 64, 64), avx512()).at("pack"), 0);
  // 512 rows a thread reuse the packed panels enough. K = 784 takes the
  // dividing k tile (16), so no panel is partial and packing stays: on
  // 1024x512x784 at 2 threads, packed kc = 16 ran at 135 GFLOP/s, in place
  // at 124, packed kc = 256 (a partial tile) at 62.
  // Where the tiles divide, B goes in panels.
  EXPECT_EQ(matmulDefault(matmul(1024, 512, 512), avx512()).at("pack"), 2);
  // K = 784: the panels' k tile would be 16 deep, too shallow.
  Config k784 = matmulDefault(matmul(1024, 512, 784), avx512());
  EXPECT_EQ(k784.at("pack"), 1) << k784.dump();
  EXPECT_EQ(k784.at("kc"), 16) << k784.dump();
}

TEST(TunerDefaults, ConstantWeightsTakePanelsOnSixteenRegisters) {
  // BERT's FFN output layer on 2 threads, 64 rows each: 6 rows do not
  // divide them. With B an argument (packed at run time) the padded 6x16
  // tiles; with B a model's weight (packed at compile time) 4x16 panels.
  TargetFacts twoThreads = avx2();
  twoThreads.threads = twoThreads.cores = 2;
  WorkloadShape ffn = matmul(128, 768, 3072);
  Config argument = matmulDefault(ffn, twoThreads);
  EXPECT_EQ(argument.at("pack"), 1) << argument.dump();
  EXPECT_EQ(argument.at("mr"), 6) << argument.dump();
  EXPECT_EQ(argument.at("nr"), 16) << argument.dump();
  ffn.constantWeights = true;
  Config weights = matmulDefault(ffn, twoThreads);
  EXPECT_EQ(weights.at("pack"), 2) << weights.dump();
  EXPECT_EQ(weights.at("mr"), 4) << weights.dump();
  EXPECT_EQ(weights.at("nr"), 16) << weights.dump();
  // With 32 registers the weights change nothing.
  ffn.constantWeights = false;
  Config wide = matmulDefault(ffn, avx512());
  ffn.constantWeights = true;
  EXPECT_EQ(matmulDefault(ffn, avx512()), wide);
  EXPECT_EQ(wide.at("pack"), 2) << wide.dump();
}

namespace {

CpuOpShape cpuShape(const char *op, std::vector<int64_t> ranges,
                    std::vector<bool> parallel) {
  CpuOpShape s;
  s.opClass = std::string(op) == "linalg.conv_2d_nhwc_hwcf"
                  ? OpClass::Conv2D
                  : OpClass::Other;
  s.opName = op;
  s.loopRanges = std::move(ranges);
  s.parallel = std::move(parallel);
  s.elemType = s.accType = "f32";
  return s;
}

CpuFacts cpuFacts(int64_t lanes, int64_t registers) {
  CpuFacts f;
  f.vectorLanes = lanes;
  f.vectorRegisters = registers;
  f.threads = f.cores = 2;
  return f;
}

} // namespace

TEST(TunerDefaults, OddRowsTakeATallRegisterTile) {
  // 49 rows (a 7x7 grid) over 2 threads: 25 a thread, which only 1-row
  // tiles divide. 6 rows padded to 30 keep 12 accumulators in flight
  // (1 row: 2, latency-bound; measured 4.5x slower on 49x2048x1024).
  Config grid = matmulDefault(matmul(49, 2048, 1024), avx512());
  EXPECT_EQ(grid.at("pack"), 1) << grid.dump();
  EXPECT_EQ(grid.at("par"), 2) << grid.dump();
  EXPECT_EQ(grid.at("mr"), 6) << grid.dump();
  EXPECT_EQ(grid.at("nr"), 32) << grid.dump();
  // A batch of 49-row matmuls: the same rule on each batch's rows.
  WorkloadShape heads =
      shape(OpClass::BatchMatmul, "linalg.batch_matmul", {16, 49, 64, 32});
  EXPECT_EQ(matmulDefault(heads, avx512()).at("mr"), 6);
  // AVX2's 16 registers: 6 x 2 vectors is the tallest tile, 25 rows pad
  // to 30 (not 1-row tiles either).
  EXPECT_EQ(matmulDefault(matmul(50, 256, 256), avx2()).at("mr"), 6);
  // Rows a tall tile pads little keep it: 98 a thread, 8 rows pad 6.
  EXPECT_EQ(matmulDefault(matmul(196, 768, 576), avx512()).at("mr"), 8);
  // Rows a 6-row tile divides take it whole (66 on one thread: 8 rows
  // would pad 6).
  TargetFacts one = facts(16, 32, 48 << 10, 2 << 20, 1);
  Config six = matmulDefault(matmul(66, 512, 512), one);
  EXPECT_EQ(six.at("pack"), 1) << six.dump();
  EXPECT_EQ(six.at("mr"), 6) << six.dump();
}

TEST(TunerDefaults, BatchesWhoseBFitsInL2RunInPlace) {
  // Attention's heads: a batch's 32x128 B (16 KiB) is read from L2 as it
  // is (measured 69 -> 38 us against packing it).
  WorkloadShape heads =
      shape(OpClass::BatchMatmul, "linalg.batch_matmul", {16, 128, 128, 32});
  Config inPlace = matmulDefault(heads, avx512());
  EXPECT_EQ(inPlace.at("pack"), 0) << inPlace.dump();
  EXPECT_EQ(inPlace.at("par"), 2) << inPlace.dump();
  // A batch of 1024^2 B panels (4 MiB each) is packed as before.
  WorkloadShape big = shape(OpClass::BatchMatmul, "linalg.batch_matmul",
                            {2, 1024, 1024, 1024});
  EXPECT_EQ(matmulDefault(big, avx512()).at("pack"), 1);
}

TEST(TunerDefaults, OnePanelWideBIsReadInPlace) {
  // N = 16 on 16 lanes: B's rows are the packed panel's rows, so the
  // default reads B as it is (measured 37 -> 31 us on 384x16x1024).
  Config narrow = matmulDefault(matmul(384, 16, 1024), avx512());
  EXPECT_EQ(narrow.at("pack"), 0) << narrow.dump();
  EXPECT_EQ(narrow.at("nr"), 16) << narrow.dump();
  EXPECT_EQ(narrow.at("par"), 2) << narrow.dump();
  EXPECT_EQ(matmulDefault(matmul(512, 32, 512), avx512()).at("pack"), 0);
  // Wider than one register tile, and as many rows: packed (in B's
  // panels) as before.
  EXPECT_NE(matmulDefault(matmul(384, 768, 1024), avx512()).at("pack"), 0);
}

TEST(TunerDefaults, FewRowsSplitColumnsOverTheThreads) {
  // 8 rows fill one thread's register tile: the 2 threads split N in
  // place, 1536 columns each (measured 1.9x faster than 1 thread).
  Config wide = matmulDefault(matmul(8, 3072, 1024), avx512());
  EXPECT_EQ(wide.at("par"), 2) << wide.dump();
  EXPECT_EQ(wide.at("pack"), 0) << wide.dump();
  EXPECT_EQ(wide.at("mr"), 8) << wide.dump();
  CpuMatmulParams p;
  p.par = 2, p.pack = false, p.nr = wide.at("nr");
  CpuOpShape mm = cpuShape("linalg.matmul", {8, 3072, 1024},
                           {true, true, false});
  mm.opClass = OpClass::Matmul;
  EXPECT_TRUE(p.splitsN(mm));
  // N that no thread count splits into whole register tiles: 1 thread.
  EXPECT_EQ(matmulDefault(matmul(8, 1000, 2048), avx512()).at("par"), 1);
}

TEST(TunerDefaults, OneRowTakesAWideRegisterTile) {
  // A matrix-vector product (a classifier head): B in place, 8 vectors a
  // row (two would keep two accumulators waiting on each FMA; measured
  // 1x1024x1280, 1 thread: 135 -> 56 us), the 2 threads splitting N.
  Config gemv = matmulDefault(matmul(1, 1024, 1280), avx512());
  EXPECT_EQ(gemv.at("pack"), 0) << gemv.dump();
  EXPECT_EQ(gemv.at("mr"), 1) << gemv.dump();
  EXPECT_EQ(gemv.at("nr"), 128) << gemv.dump();
  EXPECT_EQ(gemv.at("par"), 2) << gemv.dump();
  // Two rows keep the two-vector tile.
  EXPECT_LT(matmulDefault(matmul(2, 1024, 1280), avx512()).at("nr"), 128);
}

TEST(TunerDefaults, ConvFiltersNeedNotFillAVector) {
  std::vector<bool> conv = {true, true, true, true, false, false, false};
  // 144 -> 24 filters on 16 lanes: tiles of 8 (a half vector), not the
  // generic schedule, and not 24 (a vector and a half).
  auto project = deriveCpuConv(
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 56, 56, 24, 1, 1, 144}, conv),
      cpuFacts(16, 32));
  ASSERT_TRUE(project.has_value());
  EXPECT_EQ(project->fT, 8);
  EXPECT_EQ(project->owT, 14);
  EXPECT_EQ(project->cT, 8); // 8 channels a step (FmaConvsKeep...)
  EXPECT_TRUE(project->hoist);
  // On 8 lanes 24 filters are three whole vectors: 8 is still the tile.
  auto narrow = deriveCpuConv(
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 56, 56, 24, 1, 1, 144}, conv),
      cpuFacts(8, 16));
  ASSERT_TRUE(narrow.has_value());
  EXPECT_EQ(narrow->fT, 8);
  // 12 filters: a quarter of a 16-lane vector divides them.
  auto twelve = deriveCpuConv(
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 14, 14, 12, 1, 1, 20}, conv),
      cpuFacts(16, 32));
  ASSERT_TRUE(twelve.has_value());
  EXPECT_EQ(twelve->fT, 4);
  // 6 filters: no part of a vector divides them.
  EXPECT_FALSE(deriveCpuConv(
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 14, 14, 6, 1, 1, 20}, conv),
      cpuFacts(16, 32)));
  EXPECT_TRUE(fitsConvRegisters(14, 8, cpuFacts(16, 32)));
  EXPECT_FALSE(fitsConvRegisters(1, 24, cpuFacts(16, 32)));
  EXPECT_FALSE(fitsConvRegisters(8, 32, cpuFacts(8, 16)));
}

TEST(TunerDefaults, OddRowsSplitFiltersOverTheThreads) {
  std::vector<bool> conv = {true, true, true, true, false, false, false};
  // ResNet's last stage: 7 output rows do not split over 2 threads, the
  // 512 filters do (measured 1105 -> 627 us on ResNet-18's 3x3).
  auto last = deriveCpuConv(
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 7, 7, 512, 3, 3, 512}, conv),
      cpuFacts(16, 32));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->par, 2);
  EXPECT_TRUE(last->parF);
  EXPECT_EQ(512 % (last->par * last->fT), 0);
  // Rows that split keep splitting rows.
  auto even = deriveCpuConv(
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 14, 14, 256, 3, 3, 256}, conv),
      cpuFacts(16, 32));
  ASSERT_TRUE(even.has_value());
  EXPECT_EQ(even->par, 2);
  EXPECT_FALSE(even->parF);
  // Depthwise: 7 rows, 2048 channels split instead (MobileNetV2's 7x7 x
  // 960 is small enough for one thread).
  std::vector<bool> dw = {true, true, true, true, false, false};
  auto depthwise = deriveCpuDepthwiseConv(
      cpuShape("linalg.depthwise_conv_2d_nhwc_hwc", {1, 7, 7, 2048, 3, 3}, dw),
      cpuFacts(16, 32));
  ASSERT_TRUE(depthwise.has_value());
  EXPECT_EQ(depthwise->par, 2);
  EXPECT_TRUE(depthwise->parC);
}

TEST(TunerDefaults, FewChannelsTakeAWholeFilterRowAStep) {
  std::vector<bool> conv = {true, true, true, true, false, false, false};
  // ResNet-18's stem, 7x7/2 3 -> 64 at 112x112: a step of one filter
  // column is 3 channels long; a whole row a step, over 16 accumulators
  // (measured 800-940 us with 14 x 32 a column a step, 520 with 8 x 32 a
  // row, 2 threads).
  auto stem = deriveCpuConv(
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 112, 112, 64, 7, 7, 3}, conv),
      cpuFacts(16, 32));
  ASSERT_TRUE(stem.has_value());
  EXPECT_TRUE(stem->wholeKw);
  EXPECT_EQ(stem->cT, 3);
  EXPECT_EQ(stem->owT * (stem->fT / 16), 16);
  EXPECT_TRUE(stem->hoist);
  // Channels in steps of 4 keep one column a step; so does a 1x1 conv.
  for (std::vector<int64_t> ranges :
       {std::vector<int64_t>{1, 56, 56, 64, 3, 3, 64},
        std::vector<int64_t>{2, 7, 7, 48, 1, 1, 3}}) {
    auto p = deriveCpuConv(cpuShape("linalg.conv_2d_nhwc_hwcf", ranges, conv),
                           cpuFacts(16, 32));
    ASSERT_TRUE(p.has_value());
    EXPECT_FALSE(p->wholeKw) << ranges[6] << " channels";
  }
}

TEST(TunerDefaults, FiltersThatOutweighTheirInputAreReadOnce) {
  std::vector<bool> conv = {true, true, true, true, false, false, false};
  struct Case {
    const char *why;
    std::vector<int64_t> ranges; // n, oh, ow, f, kh, kw, c
    bool fOuter;
  };
  const Case cases[] = {
      // 2.3 MB of filters against 9 x 16 x 256 floats of input a thread.
      {"14x14 256 -> 256", {1, 14, 14, 256, 3, 3, 256}, true},
      // Split over the filters: half of 9.4 MB a thread, all of the input.
      {"7x7 512 -> 512", {1, 7, 7, 512, 3, 3, 512}, true},
      // 147 KB of filters against 430 KB of input rows: rows outermost.
      {"56x56 64 -> 64", {1, 56, 56, 64, 3, 3, 64}, false},
      // Filters small beside any input.
      {"RGB stem", {1, 112, 112, 64, 7, 7, 3}, false},
  };
  for (const Case &c : cases) {
    auto p = deriveCpuConv(cpuShape("linalg.conv_2d_nhwc_hwcf", c.ranges, conv),
                           cpuFacts(16, 32));
    ASSERT_TRUE(p.has_value()) << c.why;
    EXPECT_EQ(p->fOuter, c.fOuter) << c.why;
  }
}

TEST(TunerDefaults, FmaConvsKeepTheFilterTileInRegisters) {
  std::vector<bool> conv = {true, true, true, true, false, false, false};
  struct Case {
    const char *why;
    std::vector<int64_t> ranges; // n, oh, ow, f, kh, kw, c
    int64_t lanes, registers, owT, cT;
  };
  const Case cases[] = {
      // conv3x3_stride2's 57x57x64 -> 28x28x128 (or a 28x28x128 3x3): 7
      // positions and 8 channels (14 x 2 accumulators + 8 x 2 filter
      // vectors + 1 fit in 32). Measured on Zen 5, 2 threads: stride 2
      // 250 us (676 with all 64 channels), stride 1 500-520 (800).
      {"28 wide", {1, 28, 28, 128, 3, 3, 64}, 16, 32, 7, 8},
      // 14 positions fit beside no filter tile; 8 positions beside 4
      // channels (8 would need 33 registers).
      {"56 wide", {1, 56, 56, 64, 3, 3, 64}, 16, 32, 8, 4},
      // One filter vector: 14 positions and 8 channels (14 + 8 + 1).
      {"16 filters", {1, 56, 56, 16, 1, 1, 64}, 16, 32, 14, 8},
      // AVX2's 16 registers hold no filter tile beside the accumulators:
      // the whole channel tile, not hoisted.
      {"AVX2", {1, 56, 56, 64, 3, 3, 64}, 8, 16, 2, 64},
  };
  for (const Case &c : cases) {
    auto p = deriveCpuConv(
        cpuShape("linalg.conv_2d_nhwc_hwcf", c.ranges, conv),
        cpuFacts(c.lanes, c.registers));
    ASSERT_TRUE(p.has_value()) << c.why;
    EXPECT_EQ(p->owT, c.owT) << c.why;
    EXPECT_EQ(p->cT, c.cT) << c.why;
    EXPECT_EQ(p->hoist, c.cT < c.ranges[6]) << c.why;
  }
}

TEST(TunerDefaults, NarrowConvsTakeDotProductsWhereTheHostHasThem) {
  std::vector<bool> conv = {true, true, true, true, false, false, false};
  CpuOpShape i8 =
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 56, 56, 64, 3, 3, 64}, conv);
  i8.elemType = "i8", i8.accType = "i32";
  CpuFacts vnni = cpuFacts(16, 32);
  vnni.vnni = true;
  // On VNNI: k groups of 4 over 64-channel tiles, and 8 rows of 2 filter
  // vectors (14 rows and the running compensation would spill).
  auto dots = deriveCpuConv(i8, vnni);
  ASSERT_TRUE(dots.has_value());
  EXPECT_EQ(dots->dotGroup, 4);
  EXPECT_EQ(dots->fT, 32);
  EXPECT_EQ(dots->owT, 8);
  EXPECT_TRUE(dots->usesDots());
  // Without it: widened FMAs, the f32 tile (8 positions and 4 channels
  // a step, as FmaConvsKeepTheFilterTileInRegisters).
  auto fmas = deriveCpuConv(i8, cpuFacts(16, 32));
  ASSERT_TRUE(fmas.has_value());
  EXPECT_EQ(fmas->dotGroup, 1);
  EXPECT_EQ(fmas->owT, 8);
  EXPECT_FALSE(fmas->usesDots());
  // A tile whose channels or filters do not split into groups or whole
  // vectors stays on FMAs.
  CpuConvParams odd = *dots;
  odd.cT = 3;
  EXPECT_FALSE(odd.usesDots());
  odd = *dots;
  odd.fT = 8;
  EXPECT_FALSE(odd.usesDots());
  EXPECT_TRUE(fitsConvRegisters(14, 32, cpuFacts(16, 32)));
  EXPECT_FALSE(fitsConvRegisters(14, 32, cpuFacts(16, 32), /*dots=*/true));
  EXPECT_TRUE(fitsConvRegisters(8, 32, cpuFacts(16, 32), /*dots=*/true));
}

TEST(TunerDefaults, NarrowConvsTakeAmxWhereTheHostHasIt) {
  std::vector<bool> conv = {true, true, true, true, false, false, false};
  CpuOpShape i8 =
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 56, 56, 64, 3, 3, 64}, conv);
  i8.elemType = "i8", i8.accType = "i32";
  CpuFacts amx = cpuFacts(16, 32);
  amx.vnni = amx.amxInt8 = true;
  amx.threads = 2;
  // 64 i8 channels are one tile row: AMX, 2 x 2 accumulators, a row of 56
  // positions in two micro-tiles of 28 (16 + 12 rows), threads over rows.
  CpuSchedule schedule = deriveCpuSchedule(i8, amx);
  auto *p = std::get_if<CpuAmxConvParams>(&schedule);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->fT, 32);
  EXPECT_EQ(p->owT, 28);
  EXPECT_EQ(p->par, 2);
  EXPECT_FALSE(amxConvReason(i8, *p, amx));
  // Without AMX int8: VNNI dots. bf16 AMX does not take i8.
  CpuFacts vnni = amx;
  vnni.amxInt8 = false, vnni.amxBf16 = true;
  EXPECT_TRUE(std::holds_alternative<CpuConvParams>(deriveCpuSchedule(i8, vnni)));
  EXPECT_TRUE(amxConvReason(i8, *p, vnni));
  // 32 i8 channels are half a row: VNNI dots; 32 bf16 channels a whole one.
  CpuOpShape half =
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 8, 8, 32, 3, 3, 32}, conv);
  half.elemType = "i8", half.accType = "i32";
  EXPECT_TRUE(std::holds_alternative<CpuConvParams>(deriveCpuSchedule(half, amx)));
  half.elemType = "bf16", half.accType = "f32";
  EXPECT_TRUE(std::holds_alternative<CpuConvParams>(deriveCpuSchedule(half, amx)));
  CpuFacts amxBf16 = amx;
  amxBf16.amxBf16 = true;
  ASSERT_TRUE(std::holds_alternative<CpuAmxConvParams>(
      deriveCpuSchedule(half, amxBf16)));
  EXPECT_EQ(std::get<CpuAmxConvParams>(deriveCpuSchedule(half, amxBf16)).owT, 8);
  // f32 never.
  CpuOpShape f32 =
      cpuShape("linalg.conv_2d_nhwc_hwcf", {1, 56, 56, 64, 3, 3, 64}, conv);
  EXPECT_TRUE(std::holds_alternative<CpuConvParams>(deriveCpuSchedule(f32, amx)));
  // What a config may not be: a one-row tile (17 = 16 + 1), a width that
  // does not divide, 48 filters at once, an odd thread split.
  CpuAmxConvParams bad = *p;
  for (auto [ow, f, par] : std::vector<std::array<int64_t, 3>>{
           {17, 32, 2}, {24, 32, 2}, {28, 48, 2}, {28, 32, 3}, {1, 16, 2}}) {
    bad.owT = ow, bad.fT = f, bad.par = par;
    EXPECT_TRUE(amxConvReason(i8, bad, amx)) << ow << " " << f << " " << par;
  }
  // 7 rows x 16 filters and 14 x 32 fit the 8 tile registers.
  bad.par = 2, bad.owT = 7, bad.fT = 16;
  EXPECT_FALSE(amxConvReason(i8, bad, amx));
  bad.owT = 14, bad.fT = 32;
  EXPECT_FALSE(amxConvReason(i8, bad, amx));
}

TEST(TunerDefaults, DepthwiseChannelsNeedNotFillAVector) {
  std::vector<bool> dw = {true, true, true, true, false, false};
  auto round = deriveCpuDepthwiseConv(
      cpuShape("linalg.depthwise_conv_2d_nhwc_hwc", {1, 56, 56, 144, 3, 3}, dw),
      cpuFacts(16, 32));
  ASSERT_TRUE(round.has_value());
  EXPECT_EQ(round->cT, 16);
  auto half = deriveCpuDepthwiseConv(
      cpuShape("linalg.depthwise_conv_2d_nhwc_hwc", {1, 28, 28, 24, 3, 3}, dw),
      cpuFacts(16, 32));
  ASSERT_TRUE(half.has_value());
  EXPECT_EQ(half->cT, 8);
  EXPECT_FALSE(deriveCpuDepthwiseConv(
      cpuShape("linalg.depthwise_conv_2d_nhwc_hwc", {1, 28, 28, 6, 3, 3}, dw),
      cpuFacts(16, 32)));
}

TEST(TunerDefaults, CacheBlockingFollowsTheCaches) {
  TargetFacts bigCaches = avx512();
  TargetFacts smallCaches = facts(16, 32, 16 << 10, 256 << 10, 2);
  Config big = matmulDefault(matmul(1024, 1024, 1024), bigCaches);
  Config small = matmulDefault(matmul(1024, 1024, 1024), smallCaches);
  // kc: the A and B micro-panels in L1 (and no larger power of two would
  // be); mc x kc and kc x nc in half of L2.
  for (const auto &[config, f] :
       {std::pair{big, bigCaches}, {small, smallCaches}}) {
    int64_t kc = config.at("kc"), mc = config.at("mc"), nc = config.at("nc"),
            nr = config.at("nr");
    if (config.at("pack") == 2) {
      // B panels: one kc x nr panel in 1/32 of L2 (no larger power of two
      // would be); the rows' A block in a quarter of L2.
      EXPECT_LE(kc * nr * 4, f.l2Bytes / 32) << config.dump();
      EXPECT_GT(2 * kc * nr * 4, f.l2Bytes / 32) << "kc could double: "
                                                 << config.dump();
      EXPECT_LE(mc * kc * 4, f.l2Bytes / 4) << config.dump();
      EXPECT_LE(kc * nc * 4, f.l2Bytes / 2) << config.dump();
      continue;
    }
    EXPECT_LE(kc * (8 + nr) * 4, f.l1Bytes) << config.dump();
    EXPECT_GT(2 * kc * (8 + nr) * 4, f.l1Bytes) << "kc could double: "
                                                << config.dump();
    EXPECT_LE(mc * kc * 4, f.l2Bytes / 2) << config.dump();
    EXPECT_LE(kc * nc * 4, f.l2Bytes / 2) << config.dump();
  }
  EXPECT_LT(small.at("kc"), big.at("kc"));
}

TEST(TunerDefaults, CacheTilesDivideTheProblem) {
  // BERT's projections: a 512-wide N tile of 768 leaves a partial tile
  // (dynamic panel sizes), several times slower than one that divides it.
  TargetFacts f = facts(16, 32, 32 << 10, 1 << 20, 2);
  for (const WorkloadShape &s :
       {matmul(128, 768, 768), matmul(128, 768, 3072), matmul(128, 3072, 768),
        matmul(96, 640, 1280)}) {
    Config config = matmulDefault(s, f);
    // A thread's part: its rows, or all rows and its columns where the
    // threads split N (96 rows on 2 threads).
    CpuMatmulParams p;
    p.par = config.at("par"), p.mc = config.at("mc"), p.nc = config.at("nc");
    p.kc = config.at("kc"), p.nr = config.at("nr");
    p.pack = config.at("pack") != 0, p.panels = config.at("pack") == 2;
    CpuOpShape shape;
    shape.opClass = OpClass::Matmul;
    shape.loopRanges = s.loopRanges;
    CpuMatmulParams::Tiles t = p.tiles(shape);
    EXPECT_EQ(t.rows % t.mc, 0) << config.dump();
    EXPECT_EQ(t.cols % t.nc, 0) << config.dump();
    EXPECT_EQ(s.loopRanges[2] % t.kc, 0) << config.dump();
    EXPECT_EQ(p.splitsN(shape), s.loopRanges[0] == 96)
        << config.dump();
  }
}

TEST(TunerDefaults, SmallOpsRunOnFewerThreads) {
  TargetFacts eight = facts(16, 32, 48 << 10, 2 << 20, 8);
  EXPECT_EQ(matmulDefault(matmul(1024, 1024, 1024), eight).at("par"), 8);
  EXPECT_EQ(matmulDefault(matmul(16, 64, 64), eight).at("par"), 1);
  // 2^18 points a thread: a 16x1024x64 matmul (2^20 points) takes 2 of 2
  // threads (measured 10.7 -> 6.4 us), 4 of 8; 16x128x64 (2^17) one.
  EXPECT_EQ(matmulDefault(matmul(16, 1024, 64), avx512()).at("par"), 2);
  EXPECT_EQ(matmulDefault(matmul(16, 1024, 64), eight).at("par"), 4);
  EXPECT_EQ(matmulDefault(matmul(16, 128, 64), avx512()).at("par"), 1);
}

TEST(TunerDefaults, RowReductionsVectorizeRows) {
  auto rowsDefault = [](const WorkloadShape &s, const TargetFacts &f) {
    SearchSpace space(s, f);
    const Sketch *sketch = space.find("cpu_rows");
    EXPECT_NE(sketch, nullptr);
    auto config = sketch ? sketch->analyticalDefault() : std::nullopt;
    EXPECT_TRUE(config.has_value());
    return config.value_or(Config());
  };
  // A softmax row of 128 is one vector op; a layernorm row of 768 goes
  // 8 vectors a step; both over two threads.
  Config softmax = rowsDefault(rowOp({1, 12, 128, 128}, true), avx512());
  EXPECT_EQ(softmax.at("chunk"), 0) << softmax.dump();
  EXPECT_EQ(softmax.at("par"), 2) << softmax.dump();
  Config layernorm = rowsDefault(rowOp({1, 128, 768}, true), avx512());
  EXPECT_EQ(layernorm.at("chunk"), 128) << layernorm.dump();
  EXPECT_EQ(layernorm.at("par"), 2) << layernorm.dump();
  // Rows that are not whole vectors and few rows: no default (the generic
  // schedule keeps them), one thread.
  SearchSpace odd(rowOp({3, 100}, true), avx512());
  ASSERT_NE(odd.find("cpu_rows"), nullptr);
  EXPECT_FALSE(odd.find("cpu_rows")->analyticalDefault());
  EXPECT_EQ(rowsDefault(rowOp({2, 64}, true), avx512()).at("par"), 1);
}

TEST(TunerDefaults, AlwaysValidForItsSketch) {
  int64_t derived = 0;
  for (const TargetFacts &f : allFacts())
    for (const WorkloadShape &s : shapes()) {
      SearchSpace space(s, f);
      for (const auto &sketch : space.all()) {
        auto config = sketch->analyticalDefault();
        bool gemm = sketch->name() == "cpu_matmul";
        // Matmuls get one whenever the sketch has a valid config at all
        // (packing pads any shape; only a register tile wider than N plus
        // a vector is out of its domain).
        Rng rng(7);
        EXPECT_TRUE(config || !gemm || !sketch->sample(rng))
            << sketch->name() << " has no default for " << s.anchorOp
            << " lanes=" << f.vectorLanes << " regs=" << f.vectorRegisters
            << " l1=" << f.l1Bytes << " l2=" << f.l2Bytes
            << " threads=" << f.threads << " shape[0]=" << s.loopRanges[0];
        if (!config)
          continue;
        ++derived;
        auto reason = sketch->invalidReason(*config);
        EXPECT_FALSE(reason) << config->dump() << " on lanes="
                             << f.vectorLanes << " regs=" << f.vectorRegisters
                             << " threads=" << f.threads << ": " << *reason;
      }
    }
  // Convs and elementwise ops get theirs too, where their shapes allow.
  EXPECT_GT(derived, int64_t(allFacts().size() * 14));
}

TEST(TunerDefaults, EveryExampleHasADefaultSchedule) {
  for (const char *example :
       {"matmul_1024.mlir", "matmul_odd.mlir", "matmul_bias_relu.mlir",
        "attention_batch_matmul.mlir", "resnet50_conv3x3.mlir",
        "conv3x3_stride2.mlir", "matmul_i8.mlir"}) {
    auto w = loadWorkload(test::context(),
                          std::string(HATC_SOURCE_DIR) + "/examples/" +
                              example);
    ASSERT_TRUE(bool(w)) << errorMessage(w.takeError());
    auto text = defaultScheduleFor(*w, TargetKind::Cpu, 2);
    ASSERT_TRUE(bool(text)) << errorMessage(text.takeError());
    // Every example's anchor (each over a million iteration points) is
    // tiled over the two threads.
    EXPECT_NE(text->find("tile_using_forall"), std::string::npos) << example;
  }
}

TEST(TunerDefaults, PanelsForF32AndDotMatmulsThatTile) {
  CpuOpShape mm = cpuShape("linalg.matmul", {128, 3072, 768},
                           {true, true, false});
  mm.opClass = OpClass::Matmul;
  CpuMatmulParams p;
  p.par = 2, p.mc = 64, p.nc = 128, p.kc = 128, p.mr = 8, p.nr = 32;
  p.pack = true, p.panels = true;
  EXPECT_FALSE(panelMatmulReason(mm, p));
  // BERT's FFN default: panels, 4x64 register tiles, a 256-deep panel
  // (64 KiB, 1/32 of a 2 MiB L2, dividing K).
  CpuFacts f = cpuFacts(16, 32);
  f.l1Bytes = 48 << 10, f.l2Bytes = 2 << 20;
  auto derived = deriveCpuMatmul(mm, f);
  ASSERT_TRUE(derived.has_value());
  EXPECT_TRUE(derived->panels);
  EXPECT_EQ(derived->kc, 256);
  EXPECT_EQ(derived->mr, 4);
  EXPECT_EQ(derived->nr, 64);
  EXPECT_FALSE(derived->fuse);
  // Each tile must divide: A is read in place, B's panels are whole.
  CpuMatmulParams bad = p;
  bad.kc = 512;
  EXPECT_TRUE(panelMatmulReason(mm, bad));
  bad = p, bad.mr = 6;
  EXPECT_TRUE(panelMatmulReason(mm, bad));
  bad = p, bad.nr = 48;
  EXPECT_TRUE(panelMatmulReason(mm, bad));
  bad = p, bad.fuse = true;
  EXPECT_TRUE(panelMatmulReason(mm, bad));
  // Matmuls only (not batch_matmul), of f32, or of i8 / bf16 in k groups
  // of their dot products (not i32 or f16).
  CpuOpShape batched = cpuShape("linalg.batch_matmul", {12, 128, 128, 64},
                                {true, true, true, false});
  batched.opClass = OpClass::BatchMatmul;
  EXPECT_TRUE(panelShapeReason(batched));
  EXPECT_FALSE(panelShapeReason(mm));
  CpuOpShape i32 = mm;
  i32.elemType = "i32", i32.accType = "i32";
  EXPECT_TRUE(panelShapeReason(i32));
  CpuOpShape i8 = mm;
  i8.elemType = "i8", i8.accType = "i32";
  EXPECT_FALSE(panelShapeReason(i8));
  // i8 panels are packed in k groups of 4: the dot group must be 4, and
  // k_unroll groups must divide the k tile.
  CpuMatmulParams dots = p;
  dots.dotGroup = 4, dots.kUnroll = 4;
  EXPECT_FALSE(panelMatmulReason(i8, dots));
  EXPECT_TRUE(panelMatmulReason(i8, p)); // dot_group 1
  CpuMatmulParams deep = dots;
  deep.kc = 128, deep.kUnroll = 64; // 256 k values a step
  EXPECT_TRUE(panelMatmulReason(i8, deep));
  // The default on a VNNI host: panels of 4 k groups a step; without the
  // dot product, the padded tiles (widened FMAs).
  CpuOpShape big = cpuShape("linalg.matmul", {1024, 1024, 1024},
                            {true, true, false});
  big.opClass = OpClass::Matmul;
  big.elemType = "i8", big.accType = "i32";
  CpuFacts vnni = f;
  vnni.vnni = true;
  auto onVnni = deriveCpuMatmul(big, vnni);
  ASSERT_TRUE(onVnni.has_value());
  EXPECT_TRUE(onVnni->panels);
  EXPECT_EQ(onVnni->dotGroup, 4);
  EXPECT_EQ(onVnni->kUnroll, 4);
  EXPECT_FALSE(panelMatmulReason(big, *onVnni));
  auto noVnni = deriveCpuMatmul(big, f);
  ASSERT_TRUE(noVnni.has_value());
  EXPECT_FALSE(noVnni->panels);
  EXPECT_EQ(noVnni->dotGroup, 1);
}
