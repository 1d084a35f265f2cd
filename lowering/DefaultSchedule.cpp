//===- DefaultSchedule.cpp - The schedule used when none is given ---------===//
//
//   linalg.matmul (i, j, k) -> linalg.generic (i, k, j): LLVM vectorizes j
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/ScriptBuilder.h"

#include "mlir/Dialect/Linalg/TransformOps/LinalgTransformOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <map>
#include <tuple>

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

std::vector<std::string> iteratorNames(mlir::linalg::LinalgOp op) {
  std::vector<std::string> names;
  for (mlir::utils::IteratorType type : op.getIteratorTypesArray())
    names.push_back(type == mlir::utils::IteratorType::parallel ? "parallel"
                                                                : "reduction");
  return names;
}

std::string hostDefaultScheduleText(const Workload &workload,
                                    bool forAccelerator) {
  // One interchange per op name when all its instances share their loops;
  // ops tagged with hatc.op_index (their name's instances differ) one each.
  std::map<std::string, std::vector<std::string>> iteratorsByOp;
  std::vector<std::tuple<std::string, int64_t, std::vector<std::string>>>
      indexed;
  mlir::ModuleOp module = workload.module.get();
  auto entry = module ? module.lookupSymbol<mlir::func::FuncOp>(
                            workload.entryName)
                      : mlir::func::FuncOp();
  if (entry && !forAccelerator)
    entry.walk([&](mlir::linalg::LinalgOp op) {
      std::string name = op->getName().getStringRef().str();
      if (auto index = op->getAttrOfType<mlir::IntegerAttr>(kOpIndexAttr))
        indexed.emplace_back(name, index.getInt(), iteratorNames(op));
      else
        iteratorsByOp.emplace(name, iteratorNames(op));
    });
  ScriptBuilder script(
      forAccelerator ? "hatc default schedule for hwacc: none; the "
                       "accelerator lowering tiles."
                     : "hatc default schedule: reductions before the "
                       "innermost parallel loop.");
  mlir::OpBuilder &b = script.builder();
  auto interchange = [&](mlir::Value op, const std::vector<int64_t> &perm) {
    mlir::Value generic = b.create<mlir::transform::GeneralizeOp>(
        script.loc(), script.anyOp(), op);
    b.create<mlir::transform::InterchangeOp>(script.loc(), script.anyOp(),
                                             generic, perm);
  };
  for (const auto &[opName, iterators] : iteratorsByOp) {
    std::vector<int64_t> permutation = innermostParallelPermutation(iterators);
    if (!permutation.empty())
      interchange(script.match({opName}), permutation);
  }
  for (const auto &[opName, index, iterators] : indexed) {
    std::vector<int64_t> permutation = innermostParallelPermutation(iterators);
    if (!permutation.empty())
      interchange(script.matchIndexed(opName, index), permutation);
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
