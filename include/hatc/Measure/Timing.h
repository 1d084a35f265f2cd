//===- Timing.h - Statistics over repeated timings -------------*- C++ -*-===//
#ifndef HATC_MEASURE_TIMING_H
#define HATC_MEASURE_TIMING_H

#include <vector>

namespace hatc {

struct TimingStats {
  double median = 0, min = 0, max = 0, mean = 0;
  double cv = 0; // coefficient of variation (stddev / mean)
  int count = 0;
};

/// Empty input gives all zeros.
TimingStats summarizeTimings(std::vector<double> samples);

} // namespace hatc

#endif // HATC_MEASURE_TIMING_H
