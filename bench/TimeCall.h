// One timing loop for the baseline drivers (OpenBLAS, oneDNN): warm-up
// calls as hatc makes them (kWarmupSeconds), then `repeat` timed calls,
// summarized as hatc summarizes its own runs (median, cv).
#pragma once

#include "hatc/Measure/Timing.h"

#include <chrono>
#include <utility>
#include <vector>

namespace hatc::bench {

template <typename Call>
TimingStats timeCall(Call &&call, int repeat) {
  warmUp([&] { call(); }, 1, kWarmupSeconds);
  std::vector<double> samples;
  samples.reserve(repeat);
  for (int i = 0; i < repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    call();
    samples.push_back(std::chrono::duration<double>(
                          std::chrono::steady_clock::now() - start)
                          .count());
  }
  return summarizeTimings(std::move(samples));
}

} // namespace hatc::bench
