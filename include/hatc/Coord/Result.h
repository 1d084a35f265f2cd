//===- Result.h - What a run reports, real or simulated ---------*- C++ -*-===//
//
// TaskResult: where a task ran, its attempts, and its times on the
// coordinator's clock; RunSummary: a whole run's makespan, throughput and
// per-backend utilization. The Coordinator and the simulator report alike, so
// the benchmark compares them side by side.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COORD_RESULT_H
#define HATC_COORD_RESULT_H

#include "hatc/Coord/Backend.h"

#include <string>
#include <vector>

namespace hatc::coord {

struct TaskResult {
  bool ok = false;
  std::string error; // the last failure, when !ok
  int workload = -1;
  int backend = -1; // where it finally ran
  int attempts = 0;
  /// Failures on other backends before it ran (each "backend: reason").
  std::vector<std::string> failures;
  double submitS = 0, startS = 0, endS = 0; // on the coordinator's clock
  double predictedS = 0, observedS = 0;
};

struct BackendUsage {
  std::string name;
  int tasks = 0;
  double busyS = 0;       // slot-seconds running tasks
  double utilization = 0; // busyS / (slots x makespan)
};

struct RunSummary {
  std::string policy;
  std::string mode; // "real" | "simulated"
  int tasks = 0, failedTasks = 0, retries = 0;
  double makespanS = 0;
  double throughput = 0; // tasks per second
  std::vector<BackendUsage> backends;
};

/// Fills `summary.backends` and the totals from finished tasks.
RunSummary summarize(const std::string &policy, const std::string &mode,
                     const std::vector<BackendSpec> &backends,
                     const std::vector<TaskResult> &results);

} // namespace hatc::coord

#endif // HATC_COORD_RESULT_H
