//===- Schedule.cpp - Load and apply transform-dialect schedules ----------===//
#include "hatc/Lowering/Schedule.h"
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Lowering/ScriptBuilder.h"
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Nesting.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/TransformOps/TensorTransformOps.h"
#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/Interfaces/TransformInterfaces.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <map>

using namespace mlir;

namespace hatc {

static llvm::Expected<OwningOpRef<ModuleOp>>
parseScheduleFrom(MLIRContext &context, llvm::SourceMgr &sourceMgr,
                  llvm::StringRef name) {
  llvm::StringRef text =
      sourceMgr.getMemoryBuffer(sourceMgr.getMainFileID())->getBuffer();
  if (std::string problem = nestingProblem(text); !problem.empty())
    return makeError(name + ": " + problem);
  DiagnosticCapture capture(&context);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return capture.takeError("");
  Operation *entry = transform::detail::findTransformEntryPoint(
      module->getOperation(), *module,
      transform::TransformDialect::kTransformEntryPointSymbolName);
  if (!entry)
    return makeError(name + ": no transform.named_sequence @" +
                     transform::TransformDialect::kTransformEntryPointSymbolName +
                     " in the schedule");
  return module;
}

llvm::Expected<OwningOpRef<ModuleOp>> loadSchedule(MLIRContext &context,
                                                   llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(path + ": cannot read: " + buffer.getError().message());
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(std::move(*buffer), llvm::SMLoc());
  return parseScheduleFrom(context, sourceMgr, path);
}

llvm::Expected<OwningOpRef<ModuleOp>> parseSchedule(MLIRContext &context,
                                                    llvm::StringRef source,
                                                    llvm::StringRef name) {
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(source, name), llvm::SMLoc());
  return parseScheduleFrom(context, sourceMgr, name);
}

static llvm::Error interpret(ModuleOp payload, ModuleOp schedule) {
  MLIRContext *context = payload.getContext();
  DiagnosticCapture capture(context);
  transform::TransformOpInterface entry =
      transform::detail::findTransformEntryPoint(
          schedule.getOperation(), schedule,
          transform::TransformDialect::kTransformEntryPointSymbolName);
  if (!entry)
    return makeError("schedule has no @__transform_main");
  transform::TransformOptions options;
  // Checks that a handle is not used after a transform invalidated it: a
  // script that does so is an error here, not undefined behaviour.
  options.enableExpensiveChecks(true);
  if (failed(transform::applyTransformNamedSequence(payload, entry, schedule,
                                                    options)))
    return capture.takeError("schedule failed");
  if (failed(verify(payload)))
    return capture.takeError("schedule produced invalid IR");
  return llvm::Error::success();
}

/// cpu_matmul's B panels (kPanelPackAttr): a pack of a constant is left
/// to hatc-fold-constants; the others are copied by their thread count's
/// threads, a few k rows of a panel at a time through vector registers.
static llvm::Error finishPanelPacks(ModuleOp payload) {
  // Per thread count, the k rows per step (dividing every such pack's K).
  std::map<int64_t, int64_t> rowsPerStep;
  payload.walk([&](tensor::PackOp pack) {
    auto threads = pack->getAttrOfType<IntegerAttr>(kPanelPackAttr);
    if (!threads)
      return;
    if (pack.getSource().getDefiningOp<arith::ConstantOp>()) {
      pack->removeAttr(kPanelPackAttr);
      return;
    }
    // Outer dims N/nr x K (or K/g, k groups of an i8 / bf16 B), inner nr
    // (x g): about 256 values a step.
    ArrayRef<int64_t> shape = pack.getDestType().getShape();
    int64_t k = shape.size() >= 3 ? shape[1] : 1, nr = 1;
    for (int64_t inner : shape.drop_front(std::min<size_t>(2, shape.size())))
      nr *= inner;
    int64_t rows = std::max<int64_t>(1, 256 / std::max<int64_t>(nr, 1));
    while (rows > 1 && (ShapedType::isDynamic(k) || k % rows))
      rows /= 2;
    auto [it, inserted] = rowsPerStep.try_emplace(threads.getInt(), rows);
    if (!inserted)
      while (it->second > 1 && rows % it->second)
        it->second /= 2;
  });
  if (rowsPerStep.empty())
    return llvm::Error::success();
  ScriptBuilder script("hatc B panel packing");
  for (auto [threads, rows] : rowsPerStep) {
    Value pack = script.matchAttr(tensor::PackOp::getOperationName(),
                                  kPanelPackAttr, threads);
    if (threads > 1)
      pack = script.tileForallThreads(pack, {threads, 0}).first;
    script.vectorize(script.tileFor(pack, {1, rows}).first);
  }
  script.applyPatterns(script.func(), [](OpBuilder &b, Location loc) {
    b.create<transform::ApplyFoldTensorSubsetOpsPatternsOp>(loc);
  });
  auto parsed = parseSchedule(*payload.getContext(), script.finish(),
                              "<B panel packing>");
  if (!parsed)
    return parsed.takeError();
  return interpret(payload, parsed->get());
}

llvm::Error applySchedule(ModuleOp payload, ModuleOp schedule) {
  if (llvm::Error err = interpret(payload, schedule))
    return err;
  return finishPanelPacks(payload);
}

} // namespace hatc
