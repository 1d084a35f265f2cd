//===- DefaultSchedule.h - The schedule used when none is given -*- C++ -*-===//
//
// On the CPU every compute op of the entry gets the schedule a library
// would pick for it from the machine's facts (CpuSchedules.h): matmuls and
// batch matmuls a packed, cache-blocked, register-tiled GEMM over threads,
// NHWC convs (depthwise ones too) a direct vectorized conv over threads,
// all-parallel ops vectorized tiles over threads, row ops (softmax and
// layernorm: a reduction along the innermost loop, or their elementwise
// steps) vectorized rows over threads (cpu_rows), and every other op
// (other reductions, pooling, NCHW convs, matmuls as generics)
// threads over its largest parallel loop and its loops interchanged so the
// innermost is parallel, which LLVM vectorizes. The tuner starts from the
// same parameters.
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
/// coordinator). On the CPU, the analytical schedule above for kernels run
/// on `threads` threads (0: one per core); on hwacc, none (the accelerator
/// lowering tiles GEMM-like ops itself and needs them as named ops); on a
/// GPU, the mapping of defaultGpuScheduleText (GpuPipeline.h), which can
/// fail for ops it cannot map.
llvm::Expected<std::string> defaultScheduleFor(const Workload &workload,
                                               TargetKind kind,
                                               int64_t threads = 0);
/// defaultScheduleFor of the workload as measuring workers load it: a
/// model task's form with its weights in (Workload::measurePath, loaded in
/// the workload's context) where it has one. The default reads the
/// operands' constness (a constant B is packed in panels at compile time),
/// so a default derived from the form with weights as arguments would not
/// be the one the model runs, and would be timed on the weights anyway.
llvm::Expected<std::string> measuredDefaultScheduleFor(const Workload &workload,
                                                       TargetKind kind,
                                                       int64_t threads = 0);

} // namespace hatc

#endif // HATC_LOWERING_DEFAULTSCHEDULE_H
