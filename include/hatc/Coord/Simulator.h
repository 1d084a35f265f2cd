//===- Simulator.h - Policies on a virtual clock, at scale ------*- C++ -*-===//
//
// simulate(): the same QueueModel, LatencyModel and Policy as the Coordinator
// on a virtual clock, for thousands of tasks on many backends; makeStream():
// the seeded task streams that the benchmark and the simulator run.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COORD_SIMULATOR_H
#define HATC_COORD_SIMULATOR_H

#include "hatc/Coord/LatencyModel.h"
#include "hatc/Coord/Policy.h"
#include "hatc/Coord/Result.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace hatc::coord {

struct StreamTask {
  int workload = 0;
  double arrivalS = 0; // 0: all at once (a batch)
};

/// `count` tasks drawn with `seed` from the workloads, `weights[i]` being
/// workload i's relative frequency (empty: uniform).
std::vector<StreamTask> makeStream(size_t workloads,
                                   const std::vector<double> &weights,
                                   size_t count, uint64_t seed);

struct SimOptions {
  uint64_t seed = 1;
  /// The simulated truth is the model's prediction x a fixed per
  /// (workload, backend) bias (lognormal, sigma biasSigma: the predictions
  /// are off) x per-run jitter (lognormal, sigma jitterSigma).
  double biasSigma = 0.3;
  double jitterSigma = 0.05;
  /// Test hook: does this attempt fail? (backend, workload, attempt).
  std::function<bool(int, int, int)> fails;
};

/// Runs `stream` under `policy` on a virtual clock, with the same dispatch
/// rule as the Coordinator: a task is handed to its backend when some
/// backend has an idle slot and nothing queued. Resets the model's
/// corrections first.
RunSummary simulate(LatencyModel &model, Policy &policy,
                    const std::vector<StreamTask> &stream,
                    const SimOptions &options,
                    std::vector<TaskResult> *results = nullptr);

} // namespace hatc::coord

#endif // HATC_COORD_SIMULATOR_H
