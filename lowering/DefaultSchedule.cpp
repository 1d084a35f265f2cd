//===- DefaultSchedule.cpp - The schedule used when none is given ---------===//
//
//   linalg.matmul (i, j, k) -> linalg.generic (i, k, j): LLVM vectorizes j
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/GpuPipeline.h"

#include "llvm/ADT/StringExtras.h"

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
  std::string body;
  int n = 0;
  for (const auto &[opName, iterators] : iteratorsByOp) {
    std::vector<int64_t> permutation = innermostParallelPermutation(iterators);
    if (permutation.empty() || conflicting.count(opName))
      continue;
    std::string i = std::to_string(n++);
    body += "    %op" + i + " = transform.structured.match ops{[\"" + opName +
            "\"]} in %root : (!transform.any_op) -> !transform.any_op\n";
    body += "    %gen" + i + " = transform.structured.generalize %op" + i +
            " : (!transform.any_op) -> !transform.any_op\n";
    body += "    %perm" + i + " = transform.structured.interchange %gen" + i +
            " iterator_interchange = [" +
            llvm::join(llvm::map_range(permutation,
                                       [](int64_t p) {
                                         return std::to_string(p);
                                       }),
                       ", ") +
            "] : (!transform.any_op) -> !transform.any_op\n";
  }
  return std::string(forAccelerator
                         ? "// hatc default schedule for hwacc: none; the "
                           "accelerator lowering tiles.\n"
                         : "// hatc default schedule: reductions before the "
                           "innermost parallel loop.\n") +
         "module attributes {transform.with_named_sequence} {\n"
         "  transform.named_sequence @__transform_main(%root: !transform.any_op "
         "{transform.readonly}) {\n" +
         body +
         "    transform.yield\n"
         "  }\n"
         "}\n";
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
