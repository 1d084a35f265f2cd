//===- CrossTaskTest.cpp - Samples and priors of the cross-task model -----===//
//
// Records of two tasks tuned against a fake measurer become cross-task
// samples (grouped, weighted, one task left out on request); a model trained
// on them gives a new task a head start from its first batch; without it
// the tuner behaves as before.
//
//===----------------------------------------------------------------------===//
#include "hatc/Tuner/CrossTask.h"
#include "TestContext.h"
#include "hatc/Config.h"
#include "hatc/Tuner/Tuner.h"

#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <set>

using namespace hatc;
using namespace hatc::tuner;

namespace {

/// An example workload (examples/NAME), parsed in the tests' context.
llvm::Expected<Workload> loadExample(const std::string &name) {
  return loadWorkload(test::context(),
                      std::string(HATC_SOURCE_DIR) + "/examples/" + name);
}

/// GFLOP/s of hwacc configs: tiles near half of M and N (after rounding to
/// the array) are best, deeper k tiles better; a function of relative
/// sizes, so what one shape teaches holds on another. Deterministic.
class RelativeMeasurer : public Measurer {
public:
  std::vector<MeasureResult>
  measure(const std::vector<MeasureRequest> &batch) override {
    std::vector<MeasureResult> results;
    for (const MeasureRequest &r : batch) {
      MeasureResult result;
      const nlohmann::json &c = r.config;
      double value = 10;
      if (c.value("sketch", "") == "hwacc_gemm") {
        double rm = std::log2(c["tm"].get<double>()) - logM,
               rn = std::log2(c["tn"].get<double>()) - logN;
        value = 100 * std::exp(-0.125 *
                               ((rm + 1) * (rm + 1) + (rn + 1) * (rn + 1))) +
                (c["double_buffer"].get<bool>() ? 10 : 0);
      }
      result.gflops = value;
      result.seconds = 1.0 / value;
      result.cycles = int64_t(1e9 / value);
      result.samples = {result.seconds};
      results.push_back(result);
    }
    return results;
  }
  /// log2 of the tuned task's M and N (one measurer per task).
  double logM = 10, logN = 10;
};

/// A measured result of 10 GFLOP/s, for records made by hand.
MeasureResult okResult() {
  MeasureResult result;
  result.gflops = 10;
  result.seconds = 1e-3;
  result.samples = {1e-3};
  return result;
}

TuneTask makeTask(const std::string &example) {
  auto w = loadExample(example);
  EXPECT_TRUE(bool(w));
  auto target = resolveTarget("hwacc");
  EXPECT_TRUE(bool(target));
  TuneTask task;
  task.shape = analyzeWorkload(*w);
  task.facts = llvm::cantFail(TargetFacts::of(*target));
  task.space = std::make_unique<SearchSpace>(task.shape, task.facts);
  task.workload = std::move(*w);
  task.target = *target;
  return task;
}

/// Tunes one example on hwacc into `db`; returns its best-so-far curve.
/// With `savedModel`, the tuner saves its model there.
std::vector<double> tuneOne(const std::string &example, const std::string &db,
                            int64_t trials, const std::string &crossTask,
                            double logM, double logN,
                            const std::string &savedModel = "") {
  RelativeMeasurer measurer;
  measurer.logM = logM;
  measurer.logN = logN;
  Recorder recorder(db, "");
  std::vector<TuneTask> tasks;
  tasks.push_back(makeTask(example));
  TuneOptions o;
  o.trials = trials;
  o.seed = 3;
  o.batchSize = 8;
  o.crossTaskModelPath = crossTask;
  o.modelPath = savedModel;
  cost_model::XGBoostOptions xgb;
  xgb.objective = o.objective;
  Tuner tuner(std::move(tasks), measurer, cost_model::makeXGBoostModel(xgb),
              recorder, o);
  tuner.run();
  return tuner.status()[0].curve;
}

} // namespace

TEST(CrossTask, FingerprintWeightFallsWithDifferingParts) {
  EXPECT_EQ(fingerprintWeight("cpu:skx:2c:ab", "cpu:skx:2c:ab"), 1.0);
  EXPECT_DOUBLE_EQ(fingerprintWeight("cpu:skx:2c:ab", "cpu:skx:2c:cd"),
                   0.25 + 0.75 * 0.75);
  EXPECT_DOUBLE_EQ(fingerprintWeight("cpu:skx:2c:ab", "cpu:zen:8c:cd"),
                   0.25 + 0.75 * 0.25);
  EXPECT_GE(fingerprintWeight("a", "b"), 0.25);
  EXPECT_EQ(crossTaskModelPath("/x/h.db", "cpu"), "/x/h.db.cpu.xtask.model");
}

TEST(CrossTask, SamplesOfEveryTaskOfAKind) {
  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-xtask", "db");
  tuneOne("matmul_odd.mlir", db, 16, "", std::log2(257.0), std::log2(129.0));
  tuneOne("bert_ffn_matmul.mlir", db, 16, "", 7, std::log2(3072.0));
  auto database = db::Database::open(db);
  auto fingerprint = llvm::cantFail(resolveTarget("hwacc")).fingerprint();
  CrossTaskSamples all =
      crossTaskSamples(*database, test::context(), "hwacc", fingerprint);
  EXPECT_EQ(all.samples.size(), 32u);
  EXPECT_EQ(all.tasks, 2u);
  EXPECT_TRUE(all.skipped.empty());
  for (const cost_model::Sample &s : all.samples) {
    EXPECT_EQ(s.weight, 1.0); // measured here
    EXPECT_EQ(s.features.size(), cost_model::featureCount());
  }
  CrossTaskSamples some =
      crossTaskSamples(*database, test::context(), "hwacc", fingerprint,
                       {"matmul_f32_M257_N129_K67"});
  EXPECT_EQ(some.samples.size(), 16u);
  EXPECT_EQ(some.tasks, 1u);
  // Another machine's fingerprint weighs them down.
  CrossTaskSamples elsewhere =
      crossTaskSamples(*database, test::context(), "hwacc", "hwacc:other:0123");
  ASSERT_FALSE(elsewhere.samples.empty());
  EXPECT_LT(elsewhere.samples.front().weight, 1.0);
  EXPECT_TRUE(crossTaskSamples(*database, test::context(), "cpu", fingerprint)
                  .samples.empty());
}

TEST(CrossTask, ModelOfOtherTasksRanksANewTaskAndChangesNothingWithoutThem) {
  test::ScratchFiles scratch;
  std::string pool = scratch.path("hatc-xtask", "db");
  tuneOne("matmul_odd.mlir", pool, 48, "", std::log2(257.0), std::log2(129.0));
  tuneOne("bert_ffn_matmul.mlir", pool, 48, "", 7, std::log2(3072.0));
  auto fingerprint = llvm::cantFail(resolveTarget("hwacc")).fingerprint();
  cost_model::XGBoostOptions xgb;
  xgb.objective = TuneOptions().objective;
  std::string modelPath = scratch.path("hatc-xtask", "model");
  {
    auto database = db::Database::open(pool);
    CrossTaskSamples prior =
        crossTaskSamples(*database, test::context(), "hwacc", fingerprint);
    auto model = cost_model::makeXGBoostModel(xgb);
    model->update(prior.samples);
    model->save(modelPath);
  }

  // A new task, tuned without the prior: its records are the test set.
  std::string plainDb = scratch.path("hatc-xtask", "db");
  std::vector<double> plain =
      tuneOne("matmul_1024.mlir", plainDb, 40, "", 10, 10);
  ASSERT_EQ(plain.size(), 40u);
  auto database = db::Database::open(plainDb);
  CrossTaskSamples test =
      crossTaskSamples(*database, test::context(), "hwacc", fingerprint);
  std::vector<std::vector<float>> rows;
  std::vector<double> actual;
  std::vector<std::string> groups;
  for (const cost_model::Sample &s : test.samples) {
    rows.push_back(s.features);
    actual.push_back(s.throughput);
    groups.push_back(s.group);
  }
  auto trained = cost_model::makeXGBoostModel(xgb);
  ASSERT_TRUE(trained->load(modelPath));
  double ours =
      cost_model::pairwiseRankAccuracy(trained->predict(rows), actual, groups);
  double chance = cost_model::pairwiseRankAccuracy(
      cost_model::makeRandomModel(5)->predict(rows), actual, groups);
  std::printf("new task ranked by the other tasks' model: %.3f (random "
              "%.3f)\n",
              ours, chance);
  EXPECT_GT(ours, 0.6);
  EXPECT_GT(ours, chance + 0.1);

  // Tuning with the prior says so and measures differently...
  std::string xferDb = scratch.path("hatc-xtask", "db");
  std::vector<double> xfer =
      tuneOne("matmul_1024.mlir", xferDb, 40, modelPath, 10, 10);
  EXPECT_EQ(xfer.size(), 40u);
  // ...while a model file that does not load, or one holding only the
  // task's own records, leaves tuning exactly as it was.
  std::string bogus = scratch.path("hatc-xtask", "model");
  { std::ofstream(bogus) << "not a model\n"; }
  std::string bogusDb = scratch.path("hatc-xtask", "db");
  EXPECT_EQ(tuneOne("matmul_1024.mlir", bogusDb, 40, bogus, 10, 10), plain);
  std::string ownOnly = scratch.path("hatc-xtask", "model");
  {
    auto model = cost_model::makeXGBoostModel(xgb);
    model->update(test.samples);
    model->save(ownOnly);
  }
  std::string ownDb = scratch.path("hatc-xtask", "db");
  EXPECT_EQ(tuneOne("matmul_1024.mlir", ownDb, 40, ownOnly, 10, 10), plain);
}

/// Whether the model file at `path` was trained on the analytical estimate
/// (XGBoostOptions::estimateMargin, in its header) with trees of depth 2.
bool trainedOnTheEstimate(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("\"estimate_margin\":"), std::string::npos) << path;
  return text.find("\"estimate_margin\":true") != std::string::npos &&
         text.find("\"max_depth\":2,") != std::string::npos;
}

// With a prior on hwacc, the tuner's trees learn the analytical estimate's
// error, shallow (the estimate follows the deterministic device model;
// trees alone cannot extrapolate to a shape the prior never held). Without
// a prior the model is as before.
TEST(CrossTask, HwaccPriorTrainsTreesOnTheEstimate) {
  test::ScratchFiles scratch;
  std::string pool = scratch.path("hatc-xtask", "db");
  tuneOne("matmul_odd.mlir", pool, 16, "", std::log2(257.0), std::log2(129.0));
  std::string modelPath = scratch.path("hatc-xtask", "model");
  {
    auto database = db::Database::open(pool);
    CrossTaskSamples prior =
        crossTaskSamples(*database, test::context(), "hwacc",
                         llvm::cantFail(resolveTarget("hwacc")).fingerprint());
    cost_model::XGBoostOptions xgb;
    xgb.objective = TuneOptions().objective;
    auto model = cost_model::makeXGBoostModel(xgb);
    model->update(prior.samples);
    model->save(modelPath);
  }
  std::string withDb = scratch.path("hatc-xtask", "db");
  std::string withModel = scratch.path("hatc-xtask", "model");
  tuneOne("matmul_1024.mlir", withDb, 16, modelPath, 10, 10, withModel);
  EXPECT_TRUE(trainedOnTheEstimate(withModel));
  std::string withoutDb = scratch.path("hatc-xtask", "db");
  std::string withoutModel = scratch.path("hatc-xtask", "model");
  tuneOne("matmul_1024.mlir", withoutDb, 16, "", 10, 10, withoutModel);
  EXPECT_FALSE(trainedOnTheEstimate(withoutModel));
}

TEST(CrossTask, DefaultRecordsAreDescribedAsTheirAnalyticalConfig) {
  // The default schedule's record ({"sketch": "default"}) is the analytical
  // config of the family the default takes: its features are that config's,
  // so every model ranks it with the sketches' configs.
  const std::pair<const char *, cost_model::FeatureId> cases[] = {
      {"matmul_1024.mlir", cost_model::FSketchCpuMatmul},
      {"resnet50_conv3x3.mlir", cost_model::FSketchCpuConv}};
  for (const auto &[example, family] : cases) {
    SCOPED_TRACE(example);
    auto w = loadExample(example);
    ASSERT_TRUE(bool(w));
    auto target = llvm::cantFail(resolveTarget("cpu"));
    TargetFacts facts = llvm::cantFail(TargetFacts::of(target));
    WorkloadShape shape = analyzeWorkload(*w);
    auto sketches = sketchesFor(shape, facts);
    const Sketch *takes = nullptr;
    for (const auto &s : sketches)
      if (s->takesDefault()) {
        EXPECT_EQ(takes, nullptr) << "two sketches take the default";
        takes = s.get();
      }
    ASSERT_NE(takes, nullptr);
    auto analytical = takes->analyticalDefault();
    ASSERT_TRUE(analytical.has_value());
    std::vector<float> ofDefault = cost_model::extractFeatures(
        featureInputOf(shape, facts, {{"sketch", "default"}}, 16, nullptr));
    std::vector<float> ofAnalytical = cost_model::extractFeatures(
        featureInputOf(shape, facts, *analytical, 16, takes));
    EXPECT_EQ(ofDefault[family], 1);
    EXPECT_EQ(ofDefault, ofAnalytical);
    // B panels (pack 2, the f32 default where the host has AVX-512) are
    // told apart from plain packing.
    EXPECT_EQ(ofDefault[cost_model::FPanels],
              analytical->value("pack", 0) == 2 ? 1 : 0);
  }
  // No sketch takes a target's default where it is no CPU family's.
  auto hwacc = llvm::cantFail(resolveTarget("hwacc"));
  auto w = loadExample("matmul_1024.mlir");
  ASSERT_TRUE(bool(w));
  for (const auto &s : sketchesFor(analyzeWorkload(*w),
                                   llvm::cantFail(TargetFacts::of(hwacc))))
    EXPECT_FALSE(s->takesDefault()) << s->name();
}

TEST(CrossTask, ModelTasksAreDescribedWithConstantWeights) {
  // A model's task is measured with its weights in it (Tune.cpp sets
  // Workload::measurePath, records say "weights"): the features say so,
  // in the tuner's own samples and in the cross-task samples alike.
  auto w = loadExample("matmul_odd.mlir");
  ASSERT_TRUE(bool(w));
  auto target = llvm::cantFail(resolveTarget("cpu"));
  TargetFacts facts = llvm::cantFail(TargetFacts::of(target));
  nlohmann::json config = {{"sketch", "default"}};
  WorkloadShape plain = analyzeWorkload(*w);
  EXPECT_FALSE(plain.constantWeights);
  w->measurePath = "task0.weights.mlir";
  WorkloadShape weights = analyzeWorkload(*w);
  EXPECT_TRUE(weights.constantWeights);
  EXPECT_EQ(cost_model::extractFeatures(featureInputOf(
                plain, facts, config, 16, nullptr))[cost_model::FConstantWeights],
            0);
  EXPECT_EQ(cost_model::extractFeatures(featureInputOf(
                weights, facts, config, 16, nullptr))[cost_model::FConstantWeights],
            1);

  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-xtask-weights", "db");
  {
    Recorder recorder(db, "");
    recorder.record(makeRecord(*w, target, config, "", okResult()));
    w->measurePath.clear();
    nlohmann::json again = {{"sketch", "default"}, {"run", 2}};
    recorder.record(makeRecord(*w, target, again, "", okResult()));
  }
  auto database = db::Database::open(db);
  CrossTaskSamples all = crossTaskSamples(*database, test::context(), "cpu",
                                          target.fingerprint());
  ASSERT_EQ(all.samples.size(), 2u);
  std::multiset<float> seen;
  for (const cost_model::Sample &s : all.samples)
    seen.insert(s.features[cost_model::FConstantWeights]);
  EXPECT_EQ(seen, (std::multiset<float>{0, 1}));
}

TEST(CrossTask, OneKeyTwoWorkloadsAreTwoGroups) {
  // A matmul + relu and a matmul + gelu of one shape share a workload key
  // but not a structural hash: their records rank apart.
  auto w = loadExample("matmul_odd.mlir");
  ASSERT_TRUE(bool(w));
  auto target = llvm::cantFail(resolveTarget("cpu"));
  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-xtask-groups", "db");
  {
    Recorder recorder(db, "");
    db::Record first =
        makeRecord(*w, target, {{"sketch", "default"}}, "", okResult());
    db::Record second = first;
    second.workloadHash = "w1-another-body";
    recorder.record(first);
    recorder.record(second);
  }
  auto database = db::Database::open(db);
  CrossTaskSamples all = crossTaskSamples(*database, test::context(), "cpu",
                                          target.fingerprint());
  ASSERT_EQ(all.samples.size(), 2u);
  EXPECT_EQ(all.tasks, 2u);
  EXPECT_EQ(all.samples[0].group,
            taskGroup(w->key(), w->hash(), target.fingerprint()));
  EXPECT_NE(all.samples[0].group, all.samples[1].group);
}

TEST(CrossTask, SimulatedResultsAreNoSamples) {
  // A farm's simulated device (--farm-simulate) answers made-up figures,
  // marked extras.simulated_s: training on them would teach the sleep.
  auto w = loadExample("matmul_odd.mlir");
  ASSERT_TRUE(bool(w));
  auto target = llvm::cantFail(resolveTarget("cpu"));
  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-xtask-simulated", "db");
  {
    Recorder recorder(db, "");
    recorder.record(makeRecord(*w, target, {{"sketch", "default"}}, "",
                               okResult()));
    MeasureResult simulated = okResult();
    simulated.extras["simulated_s"] = 0.2;
    recorder.record(makeRecord(*w, target, {{"sketch", "default"}, {"run", 2}},
                               "", simulated));
  }
  auto database = db::Database::open(db);
  CrossTaskSamples all = crossTaskSamples(*database, test::context(), "cpu",
                                          target.fingerprint());
  EXPECT_EQ(all.samples.size(), 1u);
}
