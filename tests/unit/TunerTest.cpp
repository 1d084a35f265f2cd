//===- TunerTest.cpp - The tune loop against an in-memory measurer --------===//
//
// A fake measurer scores configs with a known function, so the search can be
// tested for what it must do — stay in budget, never measure a config twice,
// resume from the database, reproduce a run from its seed, find good configs
// with few trials — without compiling anything.
//
//===----------------------------------------------------------------------===//
#include "TestContext.h"
#include "hatc/Config.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Tuner.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Support/Version.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <set>
#include <thread>

using namespace hatc;
using namespace hatc::tuner;

namespace {

/// GFLOP/s as a smooth function of the hwacc knobs: large square tiles,
/// weight-stationary and double-buffered are best. Deterministic.
class FakeMeasurer : public Measurer {
public:
  std::vector<MeasureResult>
  measure(const std::vector<MeasureRequest> &batch) override {
    std::vector<MeasureResult> results;
    for (const MeasureRequest &r : batch) {
      ++calls;
      seen.push_back(r.config.dump());
      scripts.push_back(r.script);
      MeasureResult result;
      const nlohmann::json &c = r.config;
      double value = 100; // the default schedule
      if (c.value("sketch", "") == "hwacc_gemm") {
        double tm = std::log2(c["tm"].get<double>()),
               tn = std::log2(c["tn"].get<double>()),
               tk = std::log2(c["tk"].get<double>());
        value = 50 + 20 * (tm + tn) - 4 * std::fabs(tm - tn) - 3 * std::fabs(tk - 5) +
                (c["dataflow"] == "ws" ? 15 : 0) +
                (c["double_buffer"].get<bool>() ? 10 : 0);
      }
      if (threads) {
        // 100-119 GFLOP/s a thread, fixed per config.
        value = 100.0 * *threads +
                double(std::hash<std::string>()(r.config.dump()) % 20);
        result.threads = *threads;
      }
      result.gflops = value;
      result.seconds = 1.0 / value;
      result.cycles = int64_t(1e9 / value);
      result.samples = {result.seconds};
      results.push_back(result);
    }
    return results;
  }
  int calls = 0;
  std::vector<std::string> seen;
  std::vector<std::string> scripts;
  /// When set: the kernel threads every result ran on, and GFLOP/s that
  /// grow with them.
  std::optional<int> threads;
};

struct Fixture {
  Workload workload;
  Target target;
  std::string dir;
};

TuneTask makeTask(const std::string &example,
                  const std::string &targetSpec = "hwacc") {
  auto w = loadWorkload(test::context(),
                        std::string(HATC_SOURCE_DIR) + "/examples/" + example);
  EXPECT_TRUE(bool(w));
  auto target = resolveTarget(targetSpec);
  EXPECT_TRUE(bool(target));
  TuneTask task;
  task.shape = analyzeWorkload(*w);
  task.facts = llvm::cantFail(TargetFacts::of(*target));
  task.space = std::make_unique<SearchSpace>(task.shape, task.facts);
  task.workload = std::move(*w);
  task.target = *target;
  return task;
}

TuneOptions options(int64_t trials, const std::string &search,
                    uint64_t seed = 1) {
  TuneOptions o;
  o.trials = trials;
  o.search = search;
  o.seed = seed;
  o.batchSize = 8;
  return o;
}

std::unique_ptr<cost_model::CostModel> modelFor(const std::string &search) {
  if (search == "xgboost") {
    cost_model::XGBoostOptions xgb;
    xgb.objective = "reg:squarederror";
    return cost_model::makeXGBoostModel(xgb);
  }
  if (search == "random-model")
    return cost_model::makeRandomModel(1);
  return nullptr;
}

/// The CPU matmul task's default config: {"sketch": "default"} with the
/// kernel threads it runs on (defaultConfigFor).
std::string cpuDefault() {
  return defaultConfigFor(makeTask("matmul_1024.mlir", "cpu")).dump();
}

/// Where the tuner records the CPU 1024^3 matmul (makeTask): the target's
/// key and the workload's.
std::pair<db::TargetKey, std::string> cpuMatmulKeys() {
  return {{"cpu", resolveTarget("cpu")->fingerprint(), ""},
          makeTask("matmul_1024.mlir", "cpu").workload.key()};
}

double runTuner(const std::string &search, int64_t trials, uint64_t seed,
                FakeMeasurer &measurer, const std::string &db = "") {
  Recorder recorder(db, "");
  std::vector<TuneTask> tasks;
  tasks.push_back(makeTask("matmul_1024.mlir"));
  Tuner tuner(std::move(tasks), measurer, modelFor(search), recorder,
              options(trials, search, seed));
  tuner.run();
  return tuner.status()[0].bestThroughput;
}

} // namespace

TEST(Tuner, StaysInBudgetAndNeverMeasuresTwice) {
  FakeMeasurer measurer;
  runTuner("xgboost", 40, 1, measurer);
  EXPECT_EQ(measurer.calls, 40);
  std::set<std::string> unique(measurer.seen.begin(), measurer.seen.end());
  EXPECT_EQ(unique.size(), measurer.seen.size());
  EXPECT_EQ(measurer.seen.front(), R"({"sketch":"default"})"); // hwacc
}

TEST(Tuner, SameSeedSameConfigsSameOrder) {
  FakeMeasurer a, b, c;
  runTuner("xgboost", 32, 5, a);
  runTuner("xgboost", 32, 5, b);
  runTuner("xgboost", 32, 6, c);
  EXPECT_EQ(a.seen, b.seen);
  EXPECT_NE(a.seen, c.seen);
}

TEST(Tuner, ResumesFromTheDatabase) {
  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-tuner", "db");
  FakeMeasurer first, second;
  runTuner("xgboost", 24, 1, first, db);
  runTuner("xgboost", 40, 1, second, db);
  EXPECT_EQ(second.calls, 16); // the budget counts what is already there
  for (const std::string &config : second.seen)
    EXPECT_EQ(std::count(first.seen.begin(), first.seen.end(), config), 0)
        << config << " measured again";
  auto database = db::Database::open(db);
  EXPECT_EQ(database->stats().records, 40);
}

TEST(Tuner, GuidedSearchBeatsRandomAtEqualBudget) {
  // Averaged over seeds so one lucky random run cannot decide it.
  double guided = 0, random = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    FakeMeasurer g, r;
    guided += runTuner("xgboost", 48, seed, g);
    random += runTuner("random", 48, seed, r);
  }
  EXPECT_GT(guided, random);
}

TEST(Tuner, SchedulerSharesTheBudgetAcrossTasks) {
  FakeMeasurer measurer;
  Recorder recorder("", "");
  std::vector<TuneTask> tasks;
  tasks.push_back(makeTask("matmul_1024.mlir"));
  tasks.push_back(makeTask("resnet50_conv3x3.mlir"));
  Tuner tuner(std::move(tasks), measurer, modelFor("xgboost"), recorder,
              options(48, "xgboost"));
  tuner.run();
  EXPECT_EQ(tuner.trialsDone(), 48);
  EXPECT_GE(tuner.status()[0].trials, 8);
  EXPECT_GE(tuner.status()[1].trials, 8);
}

TEST(Tuner, HeavierTaskGetsMoreOfTheBudget) {
  // The same workload twice: only the weight (instances in a model)
  // differs, so the scheduler's share follows it.
  FakeMeasurer measurer;
  Recorder recorder("", "");
  std::vector<TuneTask> tasks;
  tasks.push_back(makeTask("matmul_1024.mlir"));
  tasks.push_back(makeTask("matmul_1024.mlir"));
  tasks[1].weight = 6;
  Tuner tuner(std::move(tasks), measurer, modelFor("random-model"), recorder,
              options(64, "random-model"));
  tuner.run();
  EXPECT_EQ(tuner.trialsDone(), 64);
  EXPECT_GT(tuner.status()[1].trials, tuner.status()[0].trials);
  std::vector<TaskProgress> progress = tuner.progress();
  EXPECT_EQ(progress[1].weight, 6);
}

TEST(Tuner, StopsWhenInterrupted) {
  FakeMeasurer measurer;
  Recorder recorder("", "");
  std::vector<TuneTask> tasks;
  tasks.push_back(makeTask("matmul_1024.mlir"));
  Tuner tuner(std::move(tasks), measurer, modelFor("xgboost"), recorder,
              options(64, "xgboost"));
  std::atomic<bool> stop{false};
  tuner.interrupted = &stop;
  tuner.onBatch = [&](size_t, const TaskStatus &, int64_t done, int64_t) {
    if (done >= 16)
      stop = true;
  };
  tuner.run();
  EXPECT_TRUE(tuner.wasInterrupted());
  EXPECT_EQ(tuner.trialsDone(), 16);
}

TEST(Tuner, CorruptOrStaleModelFileIsRebuiltFromTheDatabase) {
  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-tuner", "db");
  std::string modelPath = scratch.add(db + ".model");
  FakeMeasurer first;
  {
    Recorder recorder(db, "");
    std::vector<TuneTask> tasks;
    tasks.push_back(makeTask("matmul_1024.mlir"));
    TuneOptions o = options(16, "xgboost");
    o.modelPath = modelPath;
    Tuner tuner(std::move(tasks), first, modelFor("xgboost"), recorder, o);
    tuner.run();
  }
  {
    std::ofstream(modelPath) << "not a model";
  }
  FakeMeasurer second;
  Recorder recorder(db, "");
  std::vector<TuneTask> tasks;
  tasks.push_back(makeTask("matmul_1024.mlir"));
  TuneOptions o = options(32, "xgboost");
  o.modelPath = modelPath;
  Tuner tuner(std::move(tasks), second, modelFor("xgboost"), recorder, o);
  tuner.run();
  EXPECT_EQ(second.calls, 16);
  EXPECT_GT(tuner.status()[0].bestThroughput, 0);
  auto reloaded = cost_model::makeXGBoostModel();
  EXPECT_TRUE(reloaded->load(modelPath)); // saved again after the batch
  EXPECT_EQ(reloaded->sampleCount(), 32u);
}

// The baseline each task measures first is the target's own default
// schedule: a GPU task once got the CPU's interchange script, which cannot
// run on a GPU at all.
TEST(Tuner, BaselineIsTheTargetsDefaultSchedule) {
  for (const char *spec : {"cpu", "gpu", "hwacc"}) {
    SCOPED_TRACE(spec);
    FakeMeasurer measurer;
    Recorder recorder("", "");
    std::vector<TuneTask> tasks;
    tasks.push_back(makeTask("matmul_1024.mlir", spec));
    std::string expected = llvm::cantFail(
        defaultScheduleFor(tasks[0].workload, tasks[0].target.kind));
    // On the CPU the default's config names its threads: the default on
    // 1 thread and on 2 are two records in one database.
    std::string expectedConfig =
        std::string(spec) == "cpu"
            ? llvm::formatv(R"({{"sketch":"default","threads":{0}})",
                            tasks[0].facts.threads)
                  .str()
            : std::string(R"({"sketch":"default"})");
    Tuner tuner(std::move(tasks), measurer, nullptr, recorder,
                options(4, "random"));
    tuner.run();
    ASSERT_FALSE(measurer.seen.empty());
    EXPECT_EQ(measurer.seen[0], expectedConfig);
    EXPECT_EQ(measurer.scripts[0], expected);
  }
  // What tells them apart: the GPU's maps loops to blocks and threads.
  auto w = loadWorkload(test::context(), std::string(HATC_SOURCE_DIR) +
                                             "/examples/matmul_1024.mlir");
  ASSERT_TRUE(bool(w));
  EXPECT_NE(llvm::cantFail(defaultScheduleFor(*w, TargetKind::Gpu))
                .find("gpu"),
            std::string::npos);
  EXPECT_EQ(llvm::cantFail(defaultScheduleFor(*w, TargetKind::Cpu))
                .find("gpu"),
            std::string::npos);
}

// A hwacc record's latency is the modeled time the tuner ranked by, not the
// host's wall time of the timing-only run (its samples).

/// A task tuned on 1 thread and then on 2 into one database. Each run
/// measures its own default (a config naming its threads), takes none of
/// the other thread count's records as its own (not its baseline, not its
/// budget), and the database keeps both defaults. Before, the 2-thread
/// run counted the 1-thread records as its earlier trials (with --trials
/// as many, it measured nothing), compared its best with the 1-thread
/// default (a 3.3x "speedup" of the default itself, `hatc tune
/// matmul_odd.mlir`), and its own default's record was refused as a
/// duplicate of the 1-thread one.
TEST(Tuner, EachThreadCountIsTunedOnItsOwn) {
  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-tuner-threads", "db");
  std::map<int, std::set<std::string>> measured; // by threads
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    FakeMeasurer measurer;
    measurer.threads = threads;
    Recorder recorder(db, "");
    std::vector<TuneTask> tasks;
    tasks.push_back(makeTask("matmul_1024.mlir", "cpu"));
    tasks[0].facts.threads = threads;
    tasks[0].space =
        std::make_unique<SearchSpace>(tasks[0].shape, tasks[0].facts);
    Tuner tuner(std::move(tasks), measurer, nullptr, recorder,
                options(6, "random"));
    tuner.run();
    const TaskStatus &status = tuner.status()[0];
    EXPECT_EQ(status.existing, 0);
    EXPECT_EQ(status.trials, 6);
    ASSERT_FALSE(measurer.seen.empty());
    EXPECT_EQ(measurer.seen[0],
              llvm::formatv(R"({{"sketch":"default","threads":{0}})", threads)
                  .str());
    EXPECT_GE(status.defaultThroughput, 100.0 * threads);
    EXPECT_LT(status.defaultThroughput, 100.0 * threads + 20);
    measured[threads].insert(measurer.seen.begin() + 1, measurer.seen.end());
  }
  // Same seed, same proposals: the configs measured on 1 thread are
  // measured again on 2, not skipped as measured.
  EXPECT_EQ(measured[1].size(), 5u);
  EXPECT_EQ(measured[1], measured[2]);
  auto database = db::Database::open(db);
  auto [key, workload] = cpuMatmulKeys();
  std::map<int64_t, int> defaults, all; // by threads
  for (const db::Record &record : database->records(workload, key)) {
    ASSERT_TRUE(record.threads);
    ++all[*record.threads];
    defaults[*record.threads] += record.sketch == "default";
  }
  EXPECT_EQ(all, (std::map<int64_t, int>{{1, 6}, {2, 6}}));
  EXPECT_EQ(defaults, (std::map<int64_t, int>{{1, 1}, {2, 1}}));
}
TEST(Recording, HwaccLatencyIsTheModeledTime) {
  TuneTask task = makeTask("matmul_odd.mlir", "hwacc");
  MeasureResult result;
  result.samples = {0.5, 0.6, 0.4}; // host wall time: much slower
  result.seconds = 2e-5;            // cycles / clock
  result.cycles = 20000;
  result.gflops = 1;
  db::Record record =
      makeRecord(task.workload, task.target, {{"sketch", "hwacc_gemm"}},
                 "// script", result);
  ASSERT_TRUE(record.latencyS.has_value());
  EXPECT_DOUBLE_EQ(*record.latencyS, 2e-5);
  EXPECT_EQ(record.cycles, std::optional<int64_t>(20000));
  EXPECT_EQ(db::normalizeRecord(record), "");
  EXPECT_DOUBLE_EQ(*record.latencyS, 2e-5); // normalizing keeps it
}

// Two sessions on one database at once (threads here; the tests in tests/pg
// run two `hatc tune` processes on PostgreSQL): the claims keep them from
// measuring a config twice, and the shared budget from measuring more than
// it allows in total.
TEST(Tuner, ConcurrentSessionsShareTheBudgetAndMeasureNothingTwice) {
  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-tuner", "db");
  db::Database::open(db); // the schema, so both start on an existing file
  FakeMeasurer a, b;
  Recorder recorderA(db, ""), recorderB(db, "");
  std::vector<TuneTask> tasksA, tasksB;
  tasksA.push_back(makeTask("matmul_1024.mlir"));
  tasksB.push_back(makeTask("matmul_1024.mlir"));
  Tuner tunerA(std::move(tasksA), a, modelFor("random-model"), recorderA,
               options(40, "random-model", 1));
  Tuner tunerB(std::move(tasksB), b, modelFor("random-model"), recorderB,
               options(40, "random-model", 1)); // same seed: same proposals
  std::thread threadA([&] { tunerA.run(); });
  std::thread threadB([&] { tunerB.run(); });
  threadA.join();
  threadB.join();
  EXPECT_EQ(a.calls + b.calls, 40);
  EXPECT_EQ(tunerA.status()[0].trials + tunerB.status()[0].trials, 40);
  // Each read back what the other measured meanwhile (the search and the
  // model learn from it).
  EXPECT_GT(tunerA.status()[0].concurrent + tunerB.status()[0].concurrent, 0);
  for (const std::string &config : a.seen)
    EXPECT_EQ(std::count(b.seen.begin(), b.seen.end(), config), 0)
        << config << " measured by both sessions";
  EXPECT_EQ(db::Database::open(db)->stats().records, 40);
}

namespace {

/// A measurer of scripted figures on the 1024^3 matmul, counting how often
/// each config was measured on each target kind.
class ScriptedMeasurer : public Measurer {
public:
  std::vector<MeasureResult>
  measure(const std::vector<MeasureRequest> &batch) override {
    std::vector<MeasureResult> results;
    for (const MeasureRequest &r : batch) {
      std::string key = r.config.dump();
      bool cpu = r.target.dump().find("hwacc") == std::string::npos;
      int times = ++timesMeasured[(cpu ? "cpu " : "hwacc ") + key];
      ++calls;
      results.push_back(measureOne(key, cpu, times));
    }
    return results;
  }
  std::map<std::string, int> timesMeasured; // "cpu|hwacc CONFIG"
  int calls = 0;

protected:
  /// The config's result at its `times`-th measurement on the target kind.
  virtual MeasureResult measureOne(const std::string &key, bool cpu,
                                   int times) = 0;
  static bool isDefault(const std::string &key) {
    return isDefaultConfig(nlohmann::json::parse(key, nullptr, false));
  }
  /// 100-119 GFLOP/s, fixed per config.
  static double usual(const std::string &key) {
    return 100 + double(std::hash<std::string>()(key) % 20);
  }
  static MeasureResult at(double gflops, bool cpu) {
    MeasureResult result;
    result.gflops = gflops;
    result.seconds = 2.147483648 / gflops; // 2 x 1024^3 flops
    result.samples = {result.seconds};
    if (!cpu)
      result.cycles = int64_t(1e9 / gflops); // hwacc's modeled figure
    return result;
  }
};

/// Every config runs at 100-120 GFLOP/s, except on the cpu task: the
/// default runs at 200 but its first two measurements fall into slow
/// spells (30: the median of three would still say 30, the mean of the last
/// two 52), and the first config measured after it runs at 900 but fails
/// when measured a second time.
class SlowSpellMeasurer : public ScriptedMeasurer {
public:
  std::string flaky;

protected:
  MeasureResult measureOne(const std::string &key, bool cpu,
                           int times) override {
    if (times == 1 && cpu && !isDefault(key) && flaky.empty())
      flaky = key;
    if (key == flaky && times == 2) {
      MeasureResult result;
      result.error = db::ErrorCode::RunError;
      result.message = "killed by signal 11";
      return result;
    }
    if (key == flaky)
      return at(900, cpu);
    if (isDefault(key))
      return at(cpu ? (times <= 2 ? 30 : 200) : 100, cpu);
    return at(usual(key), cpu);
  }
};


} // namespace

TEST(Tuner, ConfirmMeasuresTheBestAgainAndLeavesSlowSpellsOut) {
  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-tuner", "db");
  SlowSpellMeasurer measurer;
  Recorder recorder(db, "");
  std::vector<TuneTask> tasks;
  tasks.push_back(makeTask("matmul_1024.mlir", "cpu"));
  tasks.push_back(makeTask("matmul_1024.mlir", "hwacc"));
  TuneOptions o = options(32, "random");
  o.confirmTop = 3;
  Tuner tuner(std::move(tasks), measurer, nullptr, recorder, o);
  tuner.run();
  ASSERT_FALSE(measurer.flaky.empty());
  EXPECT_EQ(tuner.status()[0].bestConfig.dump(), measurer.flaky);
  EXPECT_DOUBLE_EQ(tuner.status()[0].defaultThroughput, 30);
  int trials = measurer.calls;

  ConfirmSummary summary = tuner.confirm();
  // The cpu task's best 3 and its default, each twice more (the flaky one
  // failed at its second measurement and was not measured a third time).
  // No config takes the flaky one's place: none measured once reads faster
  // than the default measured again. hwacc's modeled figures are not
  // measured again.
  EXPECT_EQ(summary.configs, 4);
  EXPECT_EQ(measurer.calls, trials + summary.measurements);
  for (const auto &[config, times] : measurer.timesMeasured)
    EXPECT_LE(times, config.rfind("hwacc ", 0) == 0 ? 1 : 3) << config;
  EXPECT_EQ(summary.failed, 1);
  EXPECT_EQ(summary.bestChanged, 1);
  const TaskStatus &status = tuner.status()[0];
  EXPECT_EQ(status.bestConfig.dump(), cpuDefault());
  EXPECT_DOUBLE_EQ(status.bestThroughput, 200);
  EXPECT_DOUBLE_EQ(status.defaultThroughput, 200);
  // The model estimate reads the same: not the 900 of the flaky config's
  // one measurement.
  std::vector<TaskProgress> progress = tuner.progress();
  ASSERT_TRUE(progress[0].bestLatency() && progress[0].defaultLatency());
  EXPECT_DOUBLE_EQ(*progress[0].bestLatency(), *progress[0].defaultLatency());

  // The database ranks as the tuner now does: the default's latency is its
  // third measurement's (at 30, 30, 200 GFLOP/s: the first is the one it
  // was ranked by in the search, the second a slow spell); the flaky config
  // is a failure.
  auto database = db::Database::open(db);
  auto [key, workload] = cpuMatmulKeys();
  for (const db::Record &record : database->records(workload, key)) {
    if (record.configJson == cpuDefault()) {
      EXPECT_EQ(db::measurementsOf(record), 3);
      EXPECT_NEAR(*record.latencyS, 2.147483648 / 200, 1e-12);
    }
    if (record.configJson == measurer.flaky) {
      EXPECT_EQ(record.error, db::ErrorCode::RunError);
      EXPECT_NE(record.extrasJson.find("failed when measured again"),
                std::string::npos);
    }
  }
  std::optional<db::Record> best =
      database->best(workload, key, compilerVersion());
  ASSERT_TRUE(best);
  EXPECT_EQ(best->configJson, cpuDefault());
  // The best 3 are each measured 3 times now.
  std::vector<db::Record> top =
      database->topK(workload, key, compilerVersion(), 3);
  ASSERT_EQ(top.size(), 3u);
  for (const db::Record &record : top)
    EXPECT_EQ(db::measurementsOf(record), 3) << record.configJson;

  // Measured enough: a second call measures nothing.
  int before = measurer.calls;
  EXPECT_EQ(tuner.confirm().configs, 0);
  EXPECT_EQ(measurer.calls, before);
}

namespace {

/// The winner's curse: each config's first measurement reads 1.5x what it
/// runs at (the luck that put it on top), its later ones the truth. The
/// default runs at 150 every time, every other config at 100-119, so each
/// config's one figure (150-178) beats the default's.
class LuckyFirstMeasurer : public ScriptedMeasurer {
protected:
  MeasureResult measureOne(const std::string &key, bool cpu,
                           int times) override {
    if (isDefault(key))
      return at(150, cpu);
    return at(usual(key) * (times == 1 ? 1.5 : 1), cpu);
  }
};

} // namespace

TEST(Tuner, ConfirmRanksByTheMeasurementsAfterTheSelectingOne) {
  test::ScratchFiles scratch;
  std::string db = scratch.path("hatc-tuner", "db");
  LuckyFirstMeasurer measurer;
  Recorder recorder(db, "");
  std::vector<TuneTask> tasks;
  tasks.push_back(makeTask("matmul_1024.mlir", "cpu"));
  TuneOptions o = options(32, "random");
  o.confirmTop = 2;
  Tuner tuner(std::move(tasks), measurer, nullptr, recorder, o);
  tuner.run();
  EXPECT_GT(tuner.status()[0].bestThroughput, 150);
  EXPECT_FALSE(isDefaultConfig(tuner.status()[0].bestConfig));

  ConfirmSummary summary = tuner.confirm();
  // Each pass measures the best 2 again and finds them slower than the
  // default: three passes, 6 configs and the default measured again.
  EXPECT_EQ(summary.configs, 7);
  EXPECT_EQ(summary.bestChanged, 1);
  const TaskStatus &status = tuner.status()[0];
  EXPECT_EQ(status.bestConfig.dump(), cpuDefault());
  EXPECT_DOUBLE_EQ(status.bestThroughput, 150);

  // The database agrees: the default is measured again and its figure is
  // the fastest of those, though 26 configs measured once read faster.
  auto database = db::Database::open(db);
  auto [key, workload] = cpuMatmulKeys();
  std::optional<db::Record> best =
      database->best(workload, key, compilerVersion());
  ASSERT_TRUE(best);
  EXPECT_EQ(best->configJson, cpuDefault());
  EXPECT_EQ(db::measurementsOf(*best), 3);
  std::vector<db::Record> top =
      database->topK(workload, key, compilerVersion(), 7);
  ASSERT_EQ(top.size(), 7u);
  for (const db::Record &record : top) {
    EXPECT_EQ(db::measurementsOf(record), 3) << record.configJson;
    // Its latency is from the later measurements, not the lucky first.
    if (record.configJson != cpuDefault())
      EXPECT_GT(*record.latencyS, 2.147483648 / 120) << record.configJson;
  }
}

namespace {

/// A noisy host: the default's measurements read 125 or 100 GFLOP/s by
/// turns (100 at its second, the first of the confirmation). The "twin"
/// (the first config measured) runs a little slower than the default, but
/// it was lucky in the search (130) and in its first measurement again
/// (125, beside the default's 100); then it reads 120 (beside 125) and 95
/// (beside 100). Every other config runs at 50. With `steady`, there is no
/// noise: the default reads 100 and the twin 125 every time after its
/// first.
class LuckyStreakMeasurer : public ScriptedMeasurer {
public:
  explicit LuckyStreakMeasurer(bool steady) : steady(steady) {}
  std::string twin;

protected:
  MeasureResult measureOne(const std::string &key, bool cpu,
                           int times) override {
    if (isDefault(key))
      return at(steady || times % 2 == 0 ? 100 : 125, cpu);
    if (twin.empty())
      twin = key;
    if (key != twin)
      return at(50, cpu);
    if (steady)
      return at(times == 1 ? 130 : 125, cpu);
    return at(times == 1 ? 130 : times == 2 ? 125 : times == 3 ? 120 : 95,
              cpu);
  }
  bool steady;
};

/// Tunes the CPU 1024^3 matmul for 16 random trials against `measurer`,
/// then confirms the best 2 with up to `most` measurements each; returns
/// the summary, the best config then, and the records of the twin and the
/// default.
struct LuckyStreakResult {
  ConfirmSummary summary;
  std::string best;
  db::Record twin, byDefault;
};
LuckyStreakResult confirmLuckyStreak(LuckyStreakMeasurer &measurer,
                                     int64_t most) {
  test::ScratchFiles scratch;
  std::string path = scratch.path("hatc-tuner", "db");
  LuckyStreakResult result;
  {
    Recorder recorder(path, "");
    std::vector<TuneTask> tasks;
    tasks.push_back(makeTask("matmul_1024.mlir", "cpu"));
    TuneOptions o = options(16, "random");
    o.confirmTop = 2;
    o.confirmMaxMeasurements = most;
    Tuner tuner(std::move(tasks), measurer, nullptr, recorder, o);
    tuner.run();
    EXPECT_FALSE(measurer.twin.empty());
    EXPECT_EQ(tuner.status()[0].bestConfig.dump(), measurer.twin);
    result.summary = tuner.confirm();
    result.best = tuner.status()[0].bestConfig.dump();
  }
  auto database = db::Database::open(path);
  auto [key, workload] = cpuMatmulKeys();
  for (const db::Record &record : database->records(workload, key)) {
    if (record.configJson == measurer.twin)
      result.twin = record;
    if (record.configJson == cpuDefault())
      result.byDefault = record;
  }
  return result;
}

} // namespace

TEST(Tuner, ConfirmRanksABestByItsLeadSideBySideWithTheDefault) {
  const std::string byDefault = cpuDefault();
  {
    // Three measurements each, as before: the twin's two later ones read
    // 125 and 120, the default's 100 and 125. By their means it leads by
    // 10% and stays the best.
    LuckyStreakMeasurer measurer(/*steady=*/false);
    LuckyStreakResult r = confirmLuckyStreak(measurer, 3);
    EXPECT_EQ(measurer.timesMeasured["cpu " + measurer.twin], 3);
    EXPECT_EQ(measurer.timesMeasured["cpu " + byDefault], 3);
    EXPECT_EQ(r.best, measurer.twin);
    EXPECT_EQ(r.summary.noisyTasks, 0);
  }
  // Side by side, round by round, the default's seconds over the twin's
  // read 1.25, 0.96 and (a round more, for three) 0.95: a median of 0.96,
  // not faster. The twin is ranked at the default's latency over 0.96, and
  // the default is the best again, though by the means of the same
  // measurements the twin still leads by 4%.
  LuckyStreakMeasurer measurer(/*steady=*/false);
  LuckyStreakResult r = confirmLuckyStreak(measurer, 9);
  EXPECT_EQ(measurer.timesMeasured["cpu " + measurer.twin], 4);
  EXPECT_EQ(measurer.timesMeasured["cpu " + byDefault], 4);
  EXPECT_EQ(r.best, byDefault);
  EXPECT_EQ(r.summary.noisyTasks, 1);
  EXPECT_EQ(r.summary.unresolved, 0);
  EXPECT_EQ(r.summary.bestChanged, 1);
  ASSERT_TRUE(r.twin.latencyS && r.byDefault.latencyS);
  EXPECT_NEAR(*r.twin.latencyS, *r.byDefault.latencyS / 0.96, 1e-12);
  auto extras = nlohmann::json::parse(r.twin.extrasJson);
  EXPECT_NEAR(extras["paired_lead"].get<double>(), 0.96, 1e-12);
  EXPECT_EQ(extras["paired_rounds"], 3);
  EXPECT_LT(extras["mean_measured_s"].get<double>(), *r.byDefault.latencyS);
}

TEST(Tuner, ConfirmKeepsALeadTheRoundsAgreeOn) {
  // The twin's 25% lead is the same in every round: one round more than
  // the confirmation's two, for three leads, and it stays the best, ranked
  // at the default's latency over 1.25.
  LuckyStreakMeasurer measurer(/*steady=*/true);
  LuckyStreakResult r = confirmLuckyStreak(measurer, 9);
  EXPECT_EQ(measurer.timesMeasured["cpu " + measurer.twin], 4);
  EXPECT_EQ(measurer.timesMeasured["cpu " + cpuDefault()], 4);
  EXPECT_NEAR(r.summary.noise, 0, 1e-12);
  EXPECT_EQ(r.summary.unresolved, 0);
  EXPECT_EQ(r.best, measurer.twin);
  ASSERT_TRUE(r.twin.latencyS && r.byDefault.latencyS);
  EXPECT_NEAR(*r.twin.latencyS, *r.byDefault.latencyS / 1.25, 1e-12);
}

TEST(Tuner, PairedLeadsDecideOnTheirOwnSpread) {
  // Fewer than three rounds: not decided.
  EXPECT_FALSE(pairedSeparated({1.5, 1.5}));
  // A median lead of at most 1: the best is not faster, decided.
  EXPECT_TRUE(pairedSeparated({0.9, 1.0, 1.3}));
  // Leads that agree: decided, however small.
  EXPECT_TRUE(pairedSeparated({1.03, 1.03, 1.03}));
  // A 10% lead whose rounds spread as much: not decided; the same lead
  // steadier, or over more rounds, is.
  EXPECT_FALSE(pairedSeparated({1.25, 0.98, 1.10}));
  EXPECT_TRUE(pairedSeparated({1.12, 1.08, 1.10}));
  EXPECT_TRUE(pairedSeparated({1.25, 0.98, 1.10, 1.25, 0.98, 1.10, 1.25,
                               0.98, 1.10, 1.25, 0.98, 1.10}));
  // The lead a best is ranked by: the median (db::medianOf).
  EXPECT_DOUBLE_EQ(*db::medianOf({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(*db::medianOf({4, 1, 3, 2}), 2.5);
  EXPECT_FALSE(db::medianOf({}));
  // Noise: the pooled relative spread about each config's mean.
  EXPECT_DOUBLE_EQ(measurementNoise({}), 0);
  EXPECT_DOUBLE_EQ(measurementNoise({{5, 1, 1}, {9, 2}}), 0);
  EXPECT_NEAR(measurementNoise({{0, 0.9, 1.1}, {0, 2, 2}}),
              std::sqrt(0.02 / 2), 1e-12);
  // Slow spells are not noise: left out as confirmedSeconds leaves them.
  EXPECT_DOUBLE_EQ(measurementNoise({{0, 1, 1, 3}}), 0);
  EXPECT_EQ(keptSeconds({9, 1, 1, 3}), (std::vector<double>{1, 1}));
}

TEST(Tuner, ConfirmedSecondsAveragesTheLaterMeasurementsWithoutSlowSpells) {
  EXPECT_EQ(confirmedSeconds({}), 0);
  EXPECT_DOUBLE_EQ(confirmedSeconds({5}), 5);
  // The first (the selecting one) is left out, however fast.
  EXPECT_DOUBLE_EQ(confirmedSeconds({1, 4, 5}), 4.5);
  // An uneven config pays for its slow process: the mean, not the fastest.
  EXPECT_DOUBLE_EQ(confirmedSeconds({1, 2, 2.9}), 2.45);
  // A slow spell (over 1.5x the fastest) says nothing of the config.
  EXPECT_DOUBLE_EQ(confirmedSeconds({1, 2, 3.1}), 2);
  EXPECT_DOUBLE_EQ(confirmedSeconds({9, 3.5, 1, 3.6}), 1);
}
