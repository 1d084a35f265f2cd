//===- SimulatorTest.cpp - Policies at scale on a virtual clock -----------===//
#include "CoordTestUtil.h"

#include "hatc/Coord/Simulator.h"

#include <gtest/gtest.h>

#include <algorithm>

using namespace hatc::coord;
using namespace hatc::coord::testing;

namespace {

/// 8 backends: 4 CPU pools of 2 cores, 4 hwacc devices (16x16 and 32x32),
/// and a mix of big and small GEMMs, convs and elementwise ops.
LatencyModel scaleModel() {
  std::vector<BackendSpec> backends;
  for (int i = 0; i < 4; ++i)
    backends.push_back(fakeCpu(2, "cpu" + std::to_string(i)));
  for (int i = 0; i < 4; ++i) {
    BackendSpec hw = fakeHwacc("hwacc" + std::to_string(i), i % 2 ? 32 : 16);
    hw.transferBytesPerS = 16e9;
    backends.push_back(hw);
  }
  LatencyModel model(backends);
  model.addWorkload(fakeWorkload("gemm_big", OpKind::Gemm, 2e9, 8e6), nullptr);
  model.addWorkload(fakeWorkload("gemm_mid", OpKind::Gemm, 6e8, 3e6), nullptr);
  model.addWorkload(fakeWorkload("gemm_small", OpKind::Gemm, 4e6, 3e5),
                    nullptr);
  model.addWorkload(fakeWorkload("conv", OpKind::Conv, 2.3e8, 1e6), nullptr);
  model.addWorkload(fakeWorkload("relu", OpKind::Elementwise, 8e5, 3e6),
                    nullptr);
  return model;
}

TEST(CoordSimulator, DynamicBeatsEveryStaticPolicyAtScale) {
  LatencyModel model = scaleModel();
  std::vector<StreamTask> stream = makeStream(5, {1, 2, 3, 2, 4}, 10000, 1);
  SimOptions options;
  double dynamic = 0, bestStatic = 1e30;
  for (PolicyKind kind : allPolicyKinds()) {
    auto policy = makePolicy(kind, model);
    RunSummary run = simulate(model, *policy, stream, options);
    EXPECT_EQ(run.tasks, 10000);
    EXPECT_EQ(run.failedTasks, 0);
    EXPECT_GT(run.makespanS, 0);
    if (kind == PolicyKind::Dynamic)
      dynamic = run.makespanS;
    else
      bestStatic = std::min(bestStatic, run.makespanS);
  }
  EXPECT_LE(dynamic, bestStatic);
}

TEST(CoordSimulator, DeterministicForASeed) {
  LatencyModel model = scaleModel();
  std::vector<StreamTask> stream = makeStream(5, {}, 500, 3);
  auto policy = makePolicy(PolicyKind::Dynamic, model);
  double a = simulate(model, *policy, stream, {}).makespanS;
  auto again = makePolicy(PolicyKind::Dynamic, model);
  double b = simulate(model, *again, stream, {}).makespanS;
  EXPECT_EQ(a, b);
}

TEST(CoordSimulator, CorrectionLearnsTheBias) {
  LatencyModel model = scaleModel();
  std::vector<StreamTask> stream = makeStream(5, {}, 2000, 5);
  SimOptions options;
  options.jitterSigma = 0; // truth = prediction x bias exactly
  std::vector<TaskResult> results;
  auto policy = makePolicy(PolicyKind::Dynamic, model);
  simulate(model, *policy, stream, options, &results);
  // The last tasks' predictions match what they took.
  int close = 0, counted = 0;
  for (size_t i = results.size() - 200; i < results.size(); ++i) {
    ++counted;
    double err = std::abs(results[i].predictedS - results[i].observedS) /
                 results[i].observedS;
    close += err < 0.05;
  }
  EXPECT_GT(close, counted * 9 / 10);
}

TEST(CoordSimulator, FailingBackendIsRetriedElsewhere) {
  LatencyModel model = scaleModel();
  std::vector<StreamTask> stream = makeStream(5, {}, 300, 2);
  SimOptions options;
  options.fails = [](int backend, int, int) { return backend == 4; };
  std::vector<TaskResult> results;
  auto policy = makePolicy(PolicyKind::AllHwacc, model);
  RunSummary run = simulate(model, *policy, stream, options, &results);
  EXPECT_EQ(run.failedTasks, 0);
  EXPECT_GT(run.retries, 0);
  for (const TaskResult &r : results) {
    EXPECT_TRUE(r.ok);
    EXPECT_NE(r.backend, 4);
    for (const std::string &failure : r.failures)
      EXPECT_EQ(failure.rfind("hwacc0:", 0), 0u) << failure;
  }
}

} // namespace
