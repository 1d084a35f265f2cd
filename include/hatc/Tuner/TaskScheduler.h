//===- TaskScheduler.h - One trial budget over a model's tasks -*- C++ -*-===//
//
// Which task gets the next batch of trials (after Ansor's task scheduler,
// OSDI'20 section 6, and MetaSchedule's "gradient" strategy). The objective
// is the model's end-to-end latency
//
//     f = sum_i w_i * g_i          w_i: the task's weight (instances in the
//                                   model), g_i: its best latency so far
//
// and each batch goes to the task whose latency is expected to fall the
// most per trial, weighted: the one maximizing
//
//     priority_i = -w_i * ( alpha * backward_i + (1 - alpha) * forward_i )
//     backward_i = (g_i(t_i) - g_i(t_i - dt)) / dt      (recent slope, <= 0)
//     forward_i  = min( -g_i / t_i,  beta * C_i / V_i - g_i )
//
// t_i: the task's trials, dt: the last `window` trials (fewer when it has
// fewer), C_i: its FLOPs, V_i: the best throughput (FLOP/s) any task of the
// same anchor op reached (an optimistic guess of what this one could reach:
// beta * C_i / V_i is the latency it would have at 1/beta of that
// throughput). The backward term rewards tasks that are still improving,
// the forward term tasks that are far from what similar tasks achieve or
// have had few trials. A warm-up gives every task one batch first, the
// heaviest (w_i * C_i) first. Tasks none of whose trials worked yet come
// after all others.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TUNER_TASKSCHEDULER_H
#define HATC_TUNER_TASKSCHEDULER_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hatc::tuner {

/// What the scheduler knows of one task.
struct TaskProgress {
  double weight = 1;   // instances of the task in the model
  double flops = 0;    // of one instance
  std::string group;   // tasks of one group are "similar" (anchor op name)
  int64_t trials = 0;  // all measured trials, earlier runs' included
  /// Best throughput (GFLOP/s) before this run (from the database), and
  /// after each trial of this run.
  double existingBest = 0;
  std::vector<double> curve;
  double defaultThroughput = 0; // of the default schedule, when measured
  bool exhausted = false;       // no unmeasured config left
  /// The best throughput once its configs were measured again
  /// (Tuner::confirm): it supersedes existingBest and the curve, which
  /// hold single measurements.
  std::optional<double> remeasuredBest;
  /// Timed on the wall clock (cpu, gpu), not modeled (hwacc's exact
  /// cycles): a build then takes the default over a best within
  /// db::kTunedMargin of it.
  bool wallClock = true;

  double bestThroughput() const;
  /// flops / best throughput, in seconds; nullopt before any trial worked.
  std::optional<double> bestLatency() const;
  std::optional<double> defaultLatency() const;
  /// Whether a build takes the default schedule over the best one: both
  /// measured again (remeasuredBest) on the wall clock, the best less than
  /// db::kTunedMargin faster (db::withinTunedMargin, the database's rule).
  bool defaultBuilt() const;
  /// The latency of the schedule a build takes: the default's when
  /// defaultBuilt, else the best's, else the default's.
  std::optional<double> builtLatency() const;
};

struct SchedulerOptions {
  double alpha = 0.2; // share of the backward (observed slope) term
  double beta = 2.0;  // how far below the best similar throughput to aim
  int64_t window = 8; // trials the backward slope looks back over
};

class TaskScheduler {
public:
  explicit TaskScheduler(SchedulerOptions options = {}) : options(options) {}
  /// The task to give the next batch, or nullopt when all are exhausted.
  std::optional<size_t> next(const std::vector<TaskProgress> &tasks) const;
  /// priority_i above (seconds saved per trial, weighted); -infinity for a
  /// task without a working trial.
  double priority(size_t task, const std::vector<TaskProgress> &tasks) const;

private:
  SchedulerOptions options;
};

/// sum_i w_i * (the latency of what a build of task i takes: builtLatency),
/// in seconds, over the tasks that have one; `counted` gets how many did.
double estimatedLatency(const std::vector<TaskProgress> &tasks,
                        size_t *counted = nullptr);
/// The same with every task at its default latency.
double estimatedDefaultLatency(const std::vector<TaskProgress> &tasks,
                               size_t *counted = nullptr);

} // namespace hatc::tuner

#endif // HATC_TUNER_TASKSCHEDULER_H
