//===- Result.cpp - Summaries of finished runs ----------------------------===//
#include "hatc/Coord/Result.h"

#include <algorithm>
#include <limits>

namespace hatc::coord {

RunSummary summarize(const std::string &policy, const std::string &mode,
                     const std::vector<BackendSpec> &backends,
                     const std::vector<TaskResult> &results) {
  RunSummary summary;
  summary.policy = policy;
  summary.mode = mode;
  summary.tasks = int(results.size());
  for (const BackendSpec &spec : backends)
    summary.backends.push_back({spec.name, 0, 0, 0});
  double first = std::numeric_limits<double>::infinity(), last = 0;
  for (const TaskResult &r : results) {
    first = std::min(first, r.submitS);
    last = std::max(last, r.endS);
    summary.retries += int(r.failures.size());
    if (!r.ok) {
      ++summary.failedTasks;
      continue;
    }
    BackendUsage &usage = summary.backends[r.backend];
    ++usage.tasks;
    usage.busyS += r.endS - r.startS;
  }
  summary.makespanS = results.empty() ? 0 : last - first;
  summary.throughput =
      summary.makespanS > 0 ? summary.tasks / summary.makespanS : 0;
  for (size_t b = 0; b < backends.size(); ++b)
    summary.backends[b].utilization =
        summary.makespanS > 0
            ? summary.backends[b].busyS /
                  (std::max(1, backends[b].slots) * summary.makespanS)
            : 0;
  return summary;
}

} // namespace hatc::coord
