//===- TaskScheduler.cpp - One trial budget over a model's tasks ----------===//
//
//   tasks' progress -> warm-up round-robin, then argmax of the weighted
//   expected latency gain per trial (formula in TaskScheduler.h)
//
//===----------------------------------------------------------------------===//
#include "hatc/Tuner/TaskScheduler.h"
#include "hatc/Db/Record.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace hatc::tuner {

double TaskProgress::bestThroughput() const {
  if (remeasuredBest)
    return *remeasuredBest;
  double best = existingBest;
  for (double value : curve)
    best = std::max(best, value);
  return best;
}

static std::optional<double> latencyAt(double flops, double gflops) {
  if (gflops <= 0 || flops <= 0)
    return std::nullopt;
  return flops / (gflops * 1e9);
}

std::optional<double> TaskProgress::bestLatency() const {
  return latencyAt(flops, bestThroughput());
}

std::optional<double> TaskProgress::defaultLatency() const {
  return latencyAt(flops, defaultThroughput);
}

bool TaskProgress::defaultBuilt() const {
  std::optional<double> best = bestLatency(), byDefault = defaultLatency();
  return remeasuredBest && wallClock && best && byDefault &&
         db::withinTunedMargin(*best, *byDefault);
}

std::optional<double> TaskProgress::builtLatency() const {
  if (defaultBuilt())
    return defaultLatency();
  std::optional<double> best = bestLatency();
  return best ? best : defaultLatency();
}

double TaskScheduler::priority(size_t i,
                               const std::vector<TaskProgress> &tasks) const {
  const TaskProgress &task = tasks[i];
  std::optional<double> now = task.bestLatency();
  if (!now)
    return -std::numeric_limits<double>::infinity();
  double g = *now;
  // Backward: the slope of the best latency over the last `window` trials
  // (the value before this run's first trial is the database's best).
  std::vector<double> curve;
  if (task.existingBest > 0)
    curve.push_back(task.existingBest);
  curve.insert(curve.end(), task.curve.begin(), task.curve.end());
  double backward = 0;
  if (curve.size() > 1) {
    size_t dt = std::min<size_t>(std::max<int64_t>(1, options.window),
                                 curve.size() - 1);
    std::optional<double> before =
        latencyAt(task.flops, curve[curve.size() - 1 - dt]);
    // From no working config to one: the whole latency was gained.
    backward = before ? (g - *before) / double(dt) : -g / double(dt);
  }
  // Forward: what more trials could gain, optimistically.
  double similarBest = 0; // FLOP/s
  for (const TaskProgress &other : tasks)
    if (other.group == task.group)
      similarBest = std::max(similarBest, other.bestThroughput() * 1e9);
  double trials = double(std::max<int64_t>(1, task.trials));
  double forward = -g / trials;
  if (similarBest > 0)
    forward = std::min(forward, options.beta * task.flops / similarBest - g);
  double gradient =
      options.alpha * backward + (1 - options.alpha) * forward;
  return -task.weight * gradient;
}

std::optional<size_t>
TaskScheduler::next(const std::vector<TaskProgress> &tasks) const {
  // Warm-up: one batch each, the heaviest (weight x FLOPs) first, so that a
  // budget smaller than a batch per task goes where the model spends its
  // time (in model order, a BERT's 30 trials went to its embedding lookups
  // and first projections, and its FFN matmuls had none).
  auto heft = [&](size_t t) { return tasks[t].weight * tasks[t].flops; };
  std::optional<size_t> warmUp;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].exhausted || !tasks[i].curve.empty())
      continue;
    if (!warmUp || heft(i) > heft(*warmUp))
      warmUp = i;
  }
  if (warmUp)
    return warmUp;
  std::optional<size_t> best;
  double bestPriority = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].exhausted)
      continue;
    double p = priority(i, tasks);
    if (!best || p > bestPriority) {
      best = i;
      bestPriority = p;
    }
  }
  return best;
}

namespace {

/// Sum over the tasks of weight x `latencyOf(task)`, skipping tasks it has
/// none for; `counted` (when given) receives how many it summed.
template <typename LatencyOf>
double weightedLatency(const std::vector<TaskProgress> &tasks, size_t *counted,
                       LatencyOf latencyOf) {
  double total = 0;
  size_t n = 0;
  for (const TaskProgress &task : tasks) {
    std::optional<double> latency = latencyOf(task);
    if (!latency)
      continue;
    total += task.weight * *latency;
    ++n;
  }
  if (counted)
    *counted = n;
  return total;
}

} // namespace

double estimatedLatency(const std::vector<TaskProgress> &tasks,
                        size_t *counted) {
  return weightedLatency(tasks, counted, [](const TaskProgress &task) {
    return task.builtLatency();
  });
}

double estimatedDefaultLatency(const std::vector<TaskProgress> &tasks,
                               size_t *counted) {
  return weightedLatency(tasks, counted, [](const TaskProgress &task) {
    return task.defaultLatency();
  });
}

} // namespace hatc::tuner
