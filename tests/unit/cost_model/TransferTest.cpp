//===- TransferTest.cpp - Tests of the cross-task (transfer) cost model ---===//
//
// The shape-relative features (schema 3) mean the same on any shape: the
// same relative config on two shapes gives equal relative features. A model
// trained on synthetic records of some tasks ranks the configs of a task it
// has never seen far better than random, and sample weights reach XGBoost
// and survive save/load.
//
//===----------------------------------------------------------------------===//

#include "hatc/CostModel/CostModel.h"
#include "hatc/CostModel/Features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <unistd.h>

using namespace hatc::cost_model;
using json = nlohmann::json;

namespace {

const int kRelative[] = {FRelTileM, FRelTileN, FRelTileK,
                         FRelRegM,  FRelRegN,  FThreadBalance};

FeatureInput cpuMatmul(int64_t m, int64_t n, int64_t k, CpuGemmKnobs knobs) {
  FeatureInput in;
  in.opKind = "matmul";
  in.loopRanges = {m, n, k};
  in.elemType = "f32";
  in.sketch = {FSketchCpuMatmul, knobs};
  in.target = {{"kind", "cpu"}, {"cores", 2}, {"l2_bytes", 1 << 20}};
  return in;
}

FeatureInput hwaccMatmul(int64_t m, int64_t n, int64_t k,
                         HwaccGemmKnobs knobs) {
  FeatureInput in;
  in.opKind = "matmul";
  in.loopRanges = {m, n, k};
  in.elemType = "f32";
  in.sketch = {FSketchHwaccGemm, knobs};
  in.target = {{"kind", "hwacc"}, {"array_dim", 16}};
  return in;
}

} // namespace

TEST(CostModelTransfer, SchemaVersionCoversTheRelativeFeatures) {
  // Saved models of schema 2 lack these columns: they must be refused.
  EXPECT_GE(kFeatureSchemaVersion, 3);
  EXPECT_EQ(featureNames().size(), size_t(kFeatureCount));
  EXPECT_EQ(featureIndex("rel_tile_m"), int(FRelTileM));
  EXPECT_EQ(featureIndex("log2_problem_l3_ratio"), int(FLog2ProblemL3Ratio));
}

TEST(CostModelTransfer, SameRelativeCpuConfigGivesSameRelativeFeatures) {
  // Every tile is the same fraction of its dimension on both shapes; the
  // threads split the rows evenly on both.
  std::vector<float> small = extractFeatures(
      cpuMatmul(256, 512, 128, CpuGemmKnobs{2, 32, 128, 32, 4, 16, 1}));
  std::vector<float> large = extractFeatures(
      cpuMatmul(1024, 2048, 512, CpuGemmKnobs{2, 128, 512, 128, 16, 64, 1}));
  for (int id : kRelative)
    EXPECT_FLOAT_EQ(small[id], large[id]) << featureNames()[id];
  EXPECT_FLOAT_EQ(small[FRelTileM], 32.0f / 128.0f); // mc / a thread's rows
  EXPECT_FLOAT_EQ(small[FRelTileN], 0.25f);
  EXPECT_FLOAT_EQ(small[FRelRegM], 4.0f / 32.0f);
  EXPECT_FLOAT_EQ(small[FThreadBalance], 1.0f);
  // The absolute sizes and the task's own size do differ.
  EXPECT_NE(small[FLog2Mc], large[FLog2Mc]);
  EXPECT_LT(small[FLog2ProblemL3Ratio], large[FLog2ProblemL3Ratio]);
  // A thread count that does not divide the rows is unbalanced.
  std::vector<float> odd = extractFeatures(
      cpuMatmul(257, 512, 128, CpuGemmKnobs{2, 32, 128, 32, 4, 16, 1}));
  EXPECT_NEAR(odd[FThreadBalance], 257.0 / 258.0, 1e-6);
}

TEST(CostModelTransfer, SameRelativeHwaccConfigGivesSameRelativeFeatures) {
  std::vector<float> small =
      extractFeatures(hwaccMatmul(128, 256, 64, HwaccGemmKnobs{64, 64, 32}));
  std::vector<float> large = extractFeatures(
      hwaccMatmul(512, 1024, 256, HwaccGemmKnobs{256, 256, 128}));
  for (int id : {FRelTileM, FRelTileN, FRelTileK})
    EXPECT_FLOAT_EQ(small[id], large[id]) << featureNames()[id];
  EXPECT_FLOAT_EQ(small[FRelTileM], 0.5f);
  EXPECT_FLOAT_EQ(small[FRelTileN], 0.25f);
  EXPECT_FLOAT_EQ(small[FRelTileK], 0.5f);
  EXPECT_FLOAT_EQ(small[FRelRegM], 16.0f / 64.0f);
}

namespace {

/// A synthetic hwacc task: its configs' throughput is a smooth function of
/// the tiles relative to the shape (best near half of M and N, deeper k
/// tiles better, double buffering better), times the task's raw speed.
std::vector<Sample> syntheticTask(int64_t m, int64_t n, int64_t k, int count,
                                  double scale, std::mt19937_64 &rng) {
  std::uniform_int_distribution<int> log2Tile(4, 10);
  std::bernoulli_distribution coin(0.5);
  std::vector<Sample> samples;
  std::string group = "matmul_" + std::to_string(m) + "x" + std::to_string(n) +
                      "x" + std::to_string(k) + "@hwacc";
  for (int i = 0; i < count; ++i) {
    HwaccGemmKnobs knobs{int64_t(1) << log2Tile(rng),
                         int64_t(1) << log2Tile(rng),
                         int64_t(1) << log2Tile(rng),
                         coin(rng),
                         coin(rng),
                         false};
    double rm = std::min<double>(knobs.tm, m) / m,
           rn = std::min<double>(knobs.tn, n) / n,
           rk = std::min<double>(knobs.tk, k) / k;
    double quality =
        std::exp(-8 * ((rm - 0.5) * (rm - 0.5) + (rn - 0.5) * (rn - 0.5))) *
        (0.5 + 0.5 * rk) * (knobs.doubleBuffer ? 1.0 : 0.8);
    samples.push_back(
        {group, extractFeatures(hwaccMatmul(m, n, k, knobs)), scale * quality});
  }
  return samples;
}

double heldOutAccuracy(CostModel &model, const std::vector<Sample> &test) {
  std::vector<std::vector<float>> rows;
  std::vector<double> actual;
  std::vector<std::string> groups;
  for (const Sample &s : test) {
    rows.push_back(s.features);
    actual.push_back(s.throughput);
    groups.push_back(s.group);
  }
  return pairwiseRankAccuracy(model.predict(rows), actual, groups);
}

} // namespace

TEST(CostModelTransfer, ModelOfOtherTasksRanksANewTask) {
  std::mt19937_64 rng(7);
  std::vector<Sample> train;
  for (auto [m, n, k, scale] :
       std::vector<std::tuple<int64_t, int64_t, int64_t, double>>{
           {256, 512, 1024, 1.0},
           {1024, 256, 512, 30.0},
           {512, 2048, 256, 5.0}})
    for (Sample &s : syntheticTask(m, n, k, 150, scale, rng))
      train.push_back(std::move(s));
  // Task C: a shape none of the training tasks has.
  std::vector<Sample> test = syntheticTask(2048, 1024, 2048, 120, 100.0, rng);

  XGBoostOptions options;
  options.objective = "reg:squarederror";
  auto transfer = makeXGBoostModel(options);
  transfer->update(train);
  auto random = makeRandomModel(3);
  double ours = heldOutAccuracy(*transfer, test);
  double chance = heldOutAccuracy(*random, test);
  EXPECT_GT(ours, 0.8) << "random: " << chance;
  EXPECT_GT(ours, chance + 0.2);
}

TEST(CostModelTransfer, WeightsDecideBetweenConflictingTasks) {
  // Two tasks with the same features and opposite orders: the trees can only
  // fit the weighted mean, so the heavier task's order wins.
  auto make = [](double weightA, double weightB) {
    std::vector<Sample> samples;
    for (int x = 0; x < 8; ++x) {
      samples.push_back({"A", {float(x), 1.0f}, 1.0 + x, weightA});
      samples.push_back({"B", {float(x), 1.0f}, 9.0 - x, weightB});
    }
    return samples;
  };
  for (auto [a, b, increasing] : std::vector<std::tuple<double, double, bool>>{
           {10, 0.1, true}, {0.1, 10, false}}) {
    XGBoostOptions options;
    options.objective = "reg:squarederror";
    auto model = makeXGBoostModel(options);
    model->update(make(a, b));
    std::vector<double> p = model->predict({{0.0f, 1.0f}, {7.0f, 1.0f}});
    EXPECT_EQ(p[1] > p[0], increasing) << "weights " << a << ", " << b;
  }
}

TEST(CostModelTransfer, SavedSamplesKeepTheirWeights) {
  std::string path = ::testing::TempDir() + "hatc_transfer_weights_" +
                     std::to_string(::getpid());
  auto model = makeXGBoostModel();
  model->update({{"A", {1, 2}, 1.0, 0.25},
                 {"A", {2, 1}, 2.0, 1.0},
                 {"B", {3, 3}, 5.0, 4.0}});
  model->save(path);
  auto samples = readTrainingSamples(path);
  ASSERT_TRUE(samples.has_value());
  ASSERT_EQ(samples->size(), 3u);
  EXPECT_DOUBLE_EQ((*samples)[0].weight, 0.25);
  EXPECT_DOUBLE_EQ((*samples)[1].weight, 1.0);
  EXPECT_DOUBLE_EQ((*samples)[2].weight, 4.0);
  EXPECT_EQ((*samples)[2].group, "B");
  EXPECT_FALSE(readTrainingSamples(path + ".missing").has_value());
  std::remove(path.c_str());
}

TEST(CostModelTransfer, EstimatedEfficiencyReadsTheSketchsEstimate) {
  std::vector<float> f(kFeatureCount, 0.0f);
  // No sketch with an estimate: neutral.
  EXPECT_FLOAT_EQ(estimatedEfficiency(f), 0.5f);
  f[FSketchHwaccGemm] = 1;
  f[FLog2HwaccCyclesOverIdeal] = 2; // four times the ideal
  EXPECT_FLOAT_EQ(estimatedEfficiency(f), 0.25f);
  f[FSketchHwaccGemm] = 0;
  f[FSketchCpuConv] = 1;
  f[FLog2CpuTimeOverIdeal] = 1;
  EXPECT_FLOAT_EQ(estimatedEfficiency(f), 0.5f);
  f[FLog2CpuTimeOverIdeal] = 0; // at peak
  EXPECT_FLOAT_EQ(estimatedEfficiency(f), 1.0f);
  EXPECT_FLOAT_EQ(estimatedEfficiency({1, 2, 3}), 0.5f);
}

TEST(CostModelTransfer, EstimateMarginStartsPredictionsFromTheEstimate) {
  // Training rows that all look the same teach the trees nothing about
  // the estimate; with the margin, the better estimate still ranks first,
  // and a saved model keeps the option.
  std::vector<float> same(kFeatureCount, 0.0f);
  same[FSketchHwaccGemm] = 1;
  same[FLog2HwaccCyclesOverIdeal] = 1;
  std::vector<Sample> train = {{"A", same, 1.0}, {"A", same, 2.0},
                               {"B", same, 3.0}, {"B", same, 1.0}};
  std::vector<float> good = same, bad = same;
  good[FLog2HwaccCyclesOverIdeal] = 0.5f;
  bad[FLog2HwaccCyclesOverIdeal] = 3.0f;
  for (const char *objective : {"reg:squarederror", "rank:pairwise"}) {
    XGBoostOptions options;
    options.objective = objective;
    auto plain = makeXGBoostModel(options);
    plain->update(train);
    std::vector<double> p = plain->predict({good, bad});
    EXPECT_DOUBLE_EQ(p[0], p[1]) << objective;
    options.estimateMargin = true;
    auto onEstimate = makeXGBoostModel(options);
    onEstimate->update(train);
    std::vector<double> q = onEstimate->predict({good, bad});
    EXPECT_GT(q[0], q[1]) << objective;

    std::string path = ::testing::TempDir() + "hatc_transfer_margin_" +
                       std::to_string(::getpid());
    onEstimate->save(path);
    auto loaded = makeXGBoostModel();
    ASSERT_TRUE(loaded->load(path));
    EXPECT_EQ(loaded->predict({good, bad}), q) << objective;
    std::remove(path.c_str());
  }
}
