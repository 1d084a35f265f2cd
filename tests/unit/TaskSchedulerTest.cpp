//===- TaskSchedulerTest.cpp - Which task gets the next batch -------------===//
#include "hatc/Tuner/TaskScheduler.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hatc::tuner;

namespace {

/// A task of 1 GFLOP at `gflops` for `trials` trials of this run.
TaskProgress flat(double gflops, int64_t trials, double weight = 1) {
  TaskProgress p;
  p.flops = 1e9;
  p.weight = weight;
  p.group = "matmul";
  p.trials = trials;
  p.curve.assign(size_t(trials), gflops);
  p.defaultThroughput = gflops;
  return p;
}

TEST(TaskScheduler, WarmUpGivesEveryTaskOneBatchInOrder) {
  TaskScheduler scheduler;
  std::vector<TaskProgress> tasks = {flat(10, 0), flat(10, 0), flat(10, 0)};
  EXPECT_EQ(scheduler.next(tasks), 0u);
  tasks[0] = flat(10, 8);
  EXPECT_EQ(scheduler.next(tasks), 1u);
  tasks[1] = flat(10, 8);
  tasks[2].exhausted = true; // an exhausted task is skipped
  EXPECT_NE(scheduler.next(tasks), 2u);
}

TEST(TaskScheduler, WarmUpGoesHeaviestFirst) {
  // Weight x FLOPs: 1 x 1, 3 x 1, 1 x 2 GFLOP. A budget that ends within
  // the warm-up then has gone to the tasks the model spends its time in.
  TaskScheduler scheduler;
  std::vector<TaskProgress> tasks = {flat(10, 0, 1), flat(10, 0, 3),
                                     flat(10, 0, 1)};
  tasks[2].flops = 2e9;
  EXPECT_EQ(scheduler.next(tasks), 1u);
  tasks[1] = flat(10, 8, 3);
  EXPECT_EQ(scheduler.next(tasks), 2u);
  tasks[2].curve.assign(8, 10.0);
  tasks[2].trials = 8;
  EXPECT_EQ(scheduler.next(tasks), 0u);
}

TEST(TaskScheduler, HeavierTaskGoesFirst) {
  TaskScheduler scheduler;
  std::vector<TaskProgress> tasks = {flat(10, 8, 1), flat(10, 8, 3)};
  EXPECT_EQ(scheduler.next(tasks), 1u);
  EXPECT_NEAR(scheduler.priority(1, tasks), 3 * scheduler.priority(0, tasks),
              1e-12);
}

TEST(TaskScheduler, ImprovingTaskBeatsAConvergedOne) {
  TaskScheduler scheduler;
  TaskProgress converged = flat(10, 16);
  TaskProgress improving = flat(5, 8);
  for (double g : {6.0, 7.0, 8.0, 9.0, 10.0, 10.0, 10.0, 10.0})
    improving.curve.push_back(g);
  improving.trials = 16;
  std::vector<TaskProgress> tasks = {converged, improving};
  EXPECT_EQ(scheduler.next(tasks), 1u);
  EXPECT_GT(scheduler.priority(1, tasks), scheduler.priority(0, tasks));
}

TEST(TaskScheduler, TaskFarBelowSimilarTasksGetsTrials) {
  // Same weight and no recent slope: the one at a tenth of what a similar
  // task reached has more to gain.
  TaskScheduler scheduler;
  std::vector<TaskProgress> tasks = {flat(100, 32), flat(10, 32)};
  EXPECT_EQ(scheduler.next(tasks), 1u);
}

TEST(TaskScheduler, FailingAndExhaustedTasksComeLast) {
  TaskScheduler scheduler;
  std::vector<TaskProgress> tasks = {flat(0, 8), flat(10, 64)};
  EXPECT_EQ(scheduler.next(tasks), 1u);
  tasks[1].exhausted = true;
  EXPECT_EQ(scheduler.next(tasks), 0u);
  tasks[0].exhausted = true;
  EXPECT_FALSE(scheduler.next(tasks).has_value());
}

TEST(TaskScheduler, EstimatedLatencyIsTheWeightedSum) {
  std::vector<TaskProgress> tasks = {flat(10, 8, 2), flat(20, 8, 1)};
  tasks[0].curve.push_back(20); // tuned from 10 to 20 GFLOP/s
  TaskProgress untimed = flat(0, 0);
  untimed.defaultThroughput = 0;
  tasks.push_back(untimed);
  size_t counted = 0;
  // 2 x 1e9 / 20e9 + 1 x 1e9 / 20e9 seconds.
  EXPECT_NEAR(estimatedLatency(tasks, &counted), 0.15, 1e-12);
  EXPECT_EQ(counted, 2u);
  // Before: 2 x 0.1 + 0.05.
  EXPECT_NEAR(estimatedDefaultLatency(tasks), 0.25, 1e-12);
}

// A task whose best, measured again, is within db::kTunedMargin of its
// default counts at the default: that is what a build of the model takes.
// Before the confirmation runs, and on hwacc, the best counts.
TEST(TaskScheduler, EstimateCountsWhatABuildTakes) {
  std::vector<TaskProgress> tasks = {flat(10, 8)};
  tasks[0].curve.push_back(10.1); // 1% faster
  EXPECT_NEAR(estimatedLatency(tasks), 1.0 / 10.1, 1e-12);
  tasks[0].remeasuredBest = 10.1;
  EXPECT_TRUE(tasks[0].defaultBuilt());
  EXPECT_NEAR(estimatedLatency(tasks), 0.1, 1e-12);
  tasks[0].wallClock = false;
  EXPECT_NEAR(estimatedLatency(tasks), 1.0 / 10.1, 1e-12);
  tasks[0].wallClock = true;
  tasks[0].curve.push_back(11); // 9% faster: built
  tasks[0].remeasuredBest = 11;
  EXPECT_FALSE(tasks[0].defaultBuilt());
  EXPECT_NEAR(estimatedLatency(tasks), 1.0 / 11, 1e-12);
}

/// Simulated tuning: each task's throughput climbs toward its own ceiling
/// with trials; the scheduler should spend where the weighted gain is.
TEST(TaskScheduler, BudgetFollowsWeightTimesGain) {
  TaskScheduler scheduler;
  struct Sim {
    double start, ceiling, rate;
  };
  std::vector<Sim> sims = {{40, 41, 0.2}, {10, 80, 0.05}, {10, 80, 0.05}};
  std::vector<TaskProgress> tasks(3);
  for (size_t i = 0; i < 3; ++i) {
    tasks[i].flops = 1e9;
    tasks[i].group = i == 0 ? "linalg.generic" : "linalg.matmul";
    tasks[i].defaultThroughput = sims[i].start;
  }
  tasks[2].weight = 4;
  for (int batch = 0; batch < 30; ++batch) {
    auto next = scheduler.next(tasks);
    ASSERT_TRUE(next.has_value());
    TaskProgress &t = tasks[*next];
    const Sim &sim = sims[*next];
    for (int k = 0; k < 8; ++k) {
      ++t.trials;
      t.curve.push_back(sim.ceiling - (sim.ceiling - sim.start) *
                                          std::exp(-sim.rate * double(t.trials)));
    }
  }
  // Tasks 1 and 2 are the same but for their weight: the heavier one
  // gets the most trials. (In the long run the forward term spreads trials
  // in proportion to weight x latency, so the fast, converged task 0 gets
  // the fewest.)
  EXPECT_LT(tasks[1].trials, tasks[2].trials);
  EXPECT_LT(tasks[0].trials, tasks[2].trials);
  EXPECT_GT(tasks[0].trials, 8); // still more than its warm-up
}

} // namespace
