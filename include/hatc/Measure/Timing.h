//===- Timing.h - Statistics over repeated timings -------------*- C++ -*-===//
#ifndef HATC_MEASURE_TIMING_H
#define HATC_MEASURE_TIMING_H

#include <cstdint>
#include <functional>
#include <vector>

namespace hatc {

struct TimingStats {
  double median = 0, min = 0, max = 0, mean = 0;
  double cv = 0; // coefficient of variation (stddev / mean)
  int count = 0;
};

/// Empty input gives all zeros.
TimingStats summarizeTimings(std::vector<double> samples);

/// How long every timing in hatc (the measurement workers, `hatc run`, the
/// baseline drivers in bench/) keeps running untimed before it starts the
/// clock. A core that sat idle while the kernel compiled on another one
/// runs slow for its first tens of milliseconds: measured on a 2-vCPU
/// host, a 2-thread conv of 0.47 ms ran its 30 timed runs at 1.0 ms (the
/// speed of one thread) in 3 processes of 20 after one warm-up run, and in
/// none of 20 after 30 ms of them.
constexpr double kWarmupSeconds = 0.05;

/// Calls `run` untimed at least `minRuns` times, and then again until
/// `minSeconds` have passed since the first call. Returns how many calls it
/// made. Bounded by `minSeconds` plus one call (and `minRuns`).
int64_t warmUp(const std::function<void()> &run, int64_t minRuns,
               double minSeconds);

} // namespace hatc

#endif // HATC_MEASURE_TIMING_H
