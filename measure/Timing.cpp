//===- Timing.cpp - Statistics over repeated timings ----------------------===//
#include "hatc/Measure/Timing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace hatc {

TimingStats summarizeTimings(std::vector<double> samples) {
  TimingStats stats;
  if (samples.empty())
    return stats;
  std::sort(samples.begin(), samples.end());
  size_t n = samples.size();
  stats.count = int(n);
  stats.min = samples.front();
  stats.max = samples.back();
  stats.median = n % 2 ? samples[n / 2]
                       : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  stats.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / n;
  double var = 0;
  for (double s : samples)
    var += (s - stats.mean) * (s - stats.mean);
  var = n > 1 ? var / (n - 1) : 0;
  stats.cv = stats.mean > 0 ? std::sqrt(var) / stats.mean : 0;
  return stats;
}

int64_t warmUp(const std::function<void()> &run, int64_t minRuns,
               double minSeconds) {
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                         start)
        .count();
  };
  int64_t calls = 0;
  while (calls < minRuns || elapsed() < minSeconds) {
    run();
    ++calls;
  }
  return calls;
}

} // namespace hatc
