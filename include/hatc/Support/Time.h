//===- Time.h - Elapsed time, and how hatc prints durations ----*- C++ -*-===//
//
// One definition of each: the seconds between two steady-clock points, and
// the three ways a duration is shown (a measurement with its unit, a limit as
// the user wrote it, a wall-clock span in a progress line). Header-only so
// that every module, db and cost_model included, can use it.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_SUPPORT_TIME_H
#define HATC_SUPPORT_TIME_H

#include <chrono>
#include <cstdio>
#include <string>

namespace hatc {

using SteadyClock = std::chrono::steady_clock;

inline double secondsBetween(SteadyClock::time_point from,
                             SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

inline double secondsSince(SteadyClock::time_point start) {
  return secondsBetween(start, SteadyClock::now());
}

/// A measured duration with its unit: "812.40 us", "3.125 ms", "1.250 s".
inline std::string formatSeconds(double seconds) {
  char text[48];
  if (seconds < 1e-3)
    std::snprintf(text, sizeof(text), "%.2f us", seconds * 1e6);
  else if (seconds < 1)
    std::snprintf(text, sizeof(text), "%.3f ms", seconds * 1e3);
  else
    std::snprintf(text, sizeof(text), "%.3f s", seconds);
  return text;
}

/// A limit as it was written: "2 s", "0.5 s" (not "2.000 s").
inline std::string formatLimit(double seconds) {
  char text[48];
  std::snprintf(text, sizeof(text), "%g s", seconds);
  return text;
}

/// A span for progress lines: "m:ss" ("1:05"; "75:00" past the hour).
inline std::string formatClock(double seconds) {
  long s = long(seconds + 0.5);
  char text[48];
  std::snprintf(text, sizeof(text), "%ld:%02ld", s / 60, s % 60);
  return text;
}

} // namespace hatc

#endif // HATC_SUPPORT_TIME_H
