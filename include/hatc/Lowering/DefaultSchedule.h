//===- DefaultSchedule.h - The schedule used when none is given -*- C++ -*-===//
//
// The default schedule is deliberately simple, the baseline tuning is
// measured against: every op with reduction loops is generalized and its
// loops interchanged so that the innermost loop is the last parallel one
// (i, j, k -> i, k, j for matmul), which lets LLVM vectorize the loops it
// lowers to. Nothing is tiled, packed or parallelized.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_DEFAULTSCHEDULE_H
#define HATC_LOWERING_DEFAULTSCHEDULE_H

#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Target.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace hatc {

/// The loop permutation that moves every reduction loop in front of the last
/// parallel loop; empty when the order already ends in a parallel loop.
std::vector<int64_t>
innermostParallelPermutation(const std::vector<std::string> &iteratorTypes);

/// The schedule used when none is given, as transform-dialect text: the one
/// place that decides it for every caller (CLI, worker, tuner baseline,
/// coordinator). On the CPU, the interchange above; on hwacc, none (the
/// accelerator lowering tiles GEMM-like ops itself and needs them as named
/// ops); on a GPU, the mapping of defaultGpuScheduleText (GpuPipeline.h),
/// which can fail for ops it cannot map.
llvm::Expected<std::string> defaultScheduleFor(const Workload &workload,
                                               TargetKind kind);

} // namespace hatc

#endif // HATC_LOWERING_DEFAULTSCHEDULE_H
