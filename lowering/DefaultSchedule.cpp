//===- DefaultSchedule.cpp - The schedule used when none is given ---------===//
//
//   linalg.matmul (i, j, k) -> linalg.generic (i, k, j): LLVM vectorizes j
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/ScriptBuilder.h"

#include "mlir/Dialect/Linalg/TransformOps/LinalgTransformOps.h"

#include <map>

namespace hatc {

std::vector<int64_t>
innermostParallelPermutation(const std::vector<std::string> &iteratorTypes) {
  int64_t lastParallel = -1;
  for (size_t i = 0; i < iteratorTypes.size(); ++i)
    if (iteratorTypes[i] == "parallel")
      lastParallel = int64_t(i);
  if (lastParallel < 0 || lastParallel == int64_t(iteratorTypes.size()) - 1)
    return {};
  std::vector<int64_t> permutation;
  for (size_t i = 0; i < iteratorTypes.size(); ++i)
    if (iteratorTypes[i] == "parallel" && int64_t(i) != lastParallel)
      permutation.push_back(int64_t(i));
  for (size_t i = 0; i < iteratorTypes.size(); ++i)
    if (iteratorTypes[i] != "parallel")
      permutation.push_back(int64_t(i));
  permutation.push_back(lastParallel);
  return permutation;
}

namespace {

std::string hostDefaultScheduleText(const Workload &workload,
                                    bool forAccelerator) {
  // One interchange per op name, when all its instances agree on the order.
  std::map<std::string, std::vector<std::string>> iteratorsByOp;
  std::map<std::string, bool> conflicting;
  for (const Task &task : forAccelerator ? std::vector<Task>() : workload.tasks) {
    auto [it, inserted] = iteratorsByOp.emplace(task.opName, task.iteratorTypes);
    if (!inserted && it->second != task.iteratorTypes)
      conflicting[task.opName] = true;
  }
  ScriptBuilder script(
      forAccelerator ? "hatc default schedule for hwacc: none; the "
                       "accelerator lowering tiles."
                     : "hatc default schedule: reductions before the "
                       "innermost parallel loop.");
  mlir::OpBuilder &b = script.builder();
  for (const auto &[opName, iterators] : iteratorsByOp) {
    std::vector<int64_t> permutation = innermostParallelPermutation(iterators);
    if (permutation.empty() || conflicting.count(opName))
      continue;
    mlir::Value op = script.match({opName});
    mlir::Value generic = b.create<mlir::transform::GeneralizeOp>(
        script.loc(), script.anyOp(), op);
    b.create<mlir::transform::InterchangeOp>(script.loc(), script.anyOp(),
                                             generic, permutation);
  }
  return script.finish();
}

} // namespace

llvm::Expected<std::string> defaultScheduleFor(const Workload &workload,
                                               TargetKind kind) {
  switch (kind) {
  case TargetKind::Gpu:
    return defaultGpuScheduleText(workload);
  case TargetKind::Hwacc:
    return hostDefaultScheduleText(workload, /*forAccelerator=*/true);
  case TargetKind::Cpu:
    break;
  }
  return hostDefaultScheduleText(workload, /*forAccelerator=*/false);
}

} // namespace hatc
