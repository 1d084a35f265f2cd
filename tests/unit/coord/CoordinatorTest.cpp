//===- CoordinatorTest.cpp - The real dispatcher: kernels, faults, checks -===//
//
// Small example workloads compiled for the CPU and one hwacc device; a few
// seconds of compiling, milliseconds of running.
//
//===----------------------------------------------------------------------===//
#include "hatc/Coord/Coordinator.h"
#include "hatc/Measure/Check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace hatc;
using namespace hatc::coord;

namespace {

struct Harness {
  std::vector<std::string> warnings;
  std::unique_ptr<Coordinator> coord;
  int odd = -1, relu = -1;

  explicit Harness(const std::string &dbPath,
                   std::function<bool(const std::string &,
                                      const std::string &, int)>
                       fault = nullptr) {
    CoordinatorOptions options;
    options.dbPath = dbPath;
    options.cpuCores = 2;
    options.hwaccTargets = {"hwacc"};
    options.warn = [this](const std::string &line) {
      warnings.push_back(line);
    };
    options.injectFault = std::move(fault);
    auto created = Coordinator::create(options);
    if (!created) {
      ADD_FAILURE() << llvm::toString(created.takeError());
      return;
    }
    coord = std::move(*created);
    auto a = coord->addWorkload(HATC_EXAMPLES_DIR "/matmul_odd.mlir");
    auto b = coord->addWorkload(HATC_EXAMPLES_DIR "/bias_relu.mlir");
    if (!a || !b) {
      ADD_FAILURE() << "cannot add workloads";
      llvm::consumeError(a.takeError());
      llvm::consumeError(b.takeError());
      return;
    }
    odd = *a;
    relu = *b;
  }

  /// Runs one task with its own outputs and checks them.
  TaskResult runChecked(int workload, SubmitOptions options, bool &correct) {
    std::vector<HostBuffer> outputs = coord->outputBuffers(workload);
    std::vector<HostBuffer *> args;
    for (const HostBuffer &input : coord->defaultInputs(workload))
      args.push_back(const_cast<HostBuffer *>(&input));
    for (HostBuffer &output : outputs) {
      output.poison();
      args.push_back(&output);
    }
    TaskResult result = coord->submit(workload, args, options).get();
    auto ref = coord->referenceOutputs(workload, coord->defaultInputs(workload));
    if (!ref) {
      ADD_FAILURE() << llvm::toString(ref.takeError());
      correct = false;
      return result;
    }
    std::vector<CheckResult> checks;
    for (size_t o = 0; o < outputs.size(); ++o)
      checks.push_back(compareWithReference(
          outputs[o].toDoubles(), (*ref)[o],
          defaultTolerance(outputs[o].spec().kind)));
    correct = combine(checks).correct;
    return result;
  }
};

TEST(CoordRuntime, CorruptDatabaseFallsBackAndResultsAreCorrect) {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("hatc-coord-corrupt-" + std::to_string(::getpid()) +
                       ".db"))
                         .string();
  std::ofstream(path) << std::string(8192, 'z');
  Harness h(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(h.coord);
  ASSERT_EQ(h.warnings.size(), 1u) << "one warning for the database";
  EXPECT_NE(h.warnings[0].find(path), std::string::npos);
  EXPECT_TRUE(h.coord->index().usingFallback());
  EXPECT_EQ(h.coord->scheduleOf(h.odd, 0), "default");
  EXPECT_FALSE(h.coord->model().canRun(h.relu, 1))
      << "elementwise stays off the array";

  for (int backend : {0, 1}) {
    SubmitOptions options;
    options.forceBackend = backend;
    options.functional = true;
    bool correct = false;
    TaskResult result = h.runChecked(h.odd, options, correct);
    ASSERT_TRUE(result.ok) << result.error;
    EXPECT_EQ(result.backend, backend);
    EXPECT_TRUE(correct) << "on " << h.coord->backends()[backend].name;
  }
  bool correct = false;
  TaskResult result = h.runChecked(h.relu, {}, correct);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(correct);
}

TEST(CoordRuntime, FailingBackendRetriesElsewhereAndReports) {
  Harness h("", [](const std::string &backend, const std::string &, int) {
    return backend == "hwacc0";
  });
  ASSERT_TRUE(h.coord);
  h.coord->setPolicy(PolicyKind::AllHwacc);
  h.warnings.clear();
  bool correct = false;
  TaskResult result = h.runChecked(h.odd, {}, correct);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(h.coord->backends()[result.backend].name, "cpu");
  EXPECT_EQ(result.attempts, 2);
  ASSERT_EQ(result.failures.size(), 1u);
  EXPECT_EQ(result.failures[0], "hwacc0: injected fault");
  EXPECT_TRUE(correct);
  ASSERT_EQ(h.warnings.size(), 1u);
  EXPECT_NE(h.warnings[0].find("failed on hwacc0"), std::string::npos);

  // Forced onto the failing device only: the task fails, it does not hang.
  SubmitOptions forced;
  forced.forceBackend = 1;
  TaskResult failed = h.coord->submit(h.odd, {}, forced).get();
  EXPECT_FALSE(failed.ok);
  EXPECT_FALSE(failed.error.empty());
}

TEST(CoordRuntime, DynamicStreamRunsEverythingAndPacesTheDevice) {
  Harness h("");
  ASSERT_TRUE(h.coord);
  h.coord->setPolicy(PolicyKind::Dynamic);
  std::vector<std::future<TaskResult>> futures;
  for (int i = 0; i < 40; ++i)
    futures.push_back(h.coord->submit(i % 3 ? h.odd : h.relu));
  std::vector<TaskResult> results;
  for (auto &future : futures)
    results.push_back(future.get());
  RunSummary run = summarize("dynamic", "real", h.coord->backends(), results);
  EXPECT_EQ(run.tasks, 40);
  EXPECT_EQ(run.failedTasks, 0);
  for (const TaskResult &r : results) {
    if (r.backend != 1)
      continue;
    // Paced: the device was held at least for its modeled time.
    EXPECT_GE(r.observedS, h.coord->model().uncorrected(r.workload, 1) * 0.99);
  }
}

} // namespace
