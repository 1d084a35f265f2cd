//===- Check.h - Comparing kernel outputs with the reference ---*- C++ -*-===//
//
// max_rel_err = max_i |out_i - ref_i| / max(|ref_i|, 1e-2 * max_j |ref_j|).
// The floor keeps elements whose reference is near zero (after a ReLU, or a
// sum that cancels) from dominating. Floats pass when max_rel_err <= 1e-3;
// integers must match exactly. Any NaN in the output fails where the
// reference is a number (positions where the reference is NaN are skipped).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_MEASURE_CHECK_H
#define HATC_MEASURE_CHECK_H

#include "hatc/Runtime/Buffer.h"

#include <cstdint>
#include <vector>

namespace hatc {

struct CheckResult {
  double maxRelErr = 0;
  double maxAbsErr = 0;
  int64_t worstIndex = -1; // flat index of the worst element, -1 if none
  int64_t nanCount = 0;
  bool correct = true;
};

double defaultTolerance(ElemKind kind);
CheckResult compareWithReference(const std::vector<double> &output,
                                 const std::vector<double> &reference,
                                 double tolerance);
/// Folds the results of several outputs into one.
CheckResult combine(const std::vector<CheckResult> &results);

} // namespace hatc

#endif // HATC_MEASURE_CHECK_H
