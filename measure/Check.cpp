//===- Check.cpp - Compare kernel outputs with the reference --------------===//
#include "hatc/Measure/Check.h"

#include <algorithm>
#include <cmath>

namespace hatc {

double defaultTolerance(ElemKind kind) {
  // The two-byte floats hold 10 (f16) and 7 (bf16) fraction bits.
  if (kind == ElemKind::F16)
    return 1e-2;
  if (kind == ElemKind::BF16)
    return 5e-2;
  return isFloatKind(kind) ? 1e-3 : 0.0;
}

CheckResult compareWithReference(const std::vector<double> &output,
                                 const std::vector<double> &reference,
                                 double tolerance) {
  CheckResult result;
  if (output.size() != reference.size()) {
    result.correct = false;
    result.maxRelErr = INFINITY;
    return result;
  }
  double maxRef = 0;
  for (double r : reference)
    maxRef = std::max(maxRef, std::fabs(r));
  double floor = std::max(1e-2 * maxRef, 1e-30);
  for (size_t i = 0; i < output.size(); ++i) {
    double out = output[i], ref = reference[i];
    // Where the reference itself is NaN the math is undefined for these
    // inputs (a model task's sqrt of a random, negative variance): nothing
    // to compare there.
    if (std::isnan(ref))
      continue;
    if (std::isnan(out)) {
      ++result.nanCount;
      if (result.worstIndex < 0 || !std::isinf(result.maxRelErr)) {
        result.worstIndex = int64_t(i);
        result.maxRelErr = INFINITY;
        result.maxAbsErr = INFINITY;
      }
      continue;
    }
    double absErr = std::fabs(out - ref);
    double relErr = absErr / std::max(std::fabs(ref), floor);
    result.maxAbsErr = std::max(result.maxAbsErr, absErr);
    if (relErr > result.maxRelErr) {
      result.maxRelErr = relErr;
      result.worstIndex = int64_t(i);
    }
  }
  result.correct = result.nanCount == 0 && result.maxRelErr <= tolerance;
  return result;
}

CheckResult combine(const std::vector<CheckResult> &results) {
  CheckResult all;
  for (const CheckResult &r : results) {
    if (r.maxRelErr > all.maxRelErr || (r.nanCount && !all.nanCount)) {
      all.maxRelErr = r.maxRelErr;
      all.worstIndex = r.worstIndex;
    }
    all.maxAbsErr = std::max(all.maxAbsErr, r.maxAbsErr);
    all.nanCount += r.nanCount;
    all.correct = all.correct && r.correct;
  }
  return all;
}

} // namespace hatc
