//===- Schedule.cpp - Load and apply transform-dialect schedules ----------===//
#include "hatc/Lowering/Schedule.h"
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Error.h"

#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/Interfaces/TransformInterfaces.h"
#include "mlir/Dialect/Transform/Transforms/TransformInterpreterUtils.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;

namespace hatc {

static llvm::Expected<OwningOpRef<ModuleOp>>
parseScheduleFrom(MLIRContext &context, llvm::SourceMgr &sourceMgr,
                  llvm::StringRef name) {
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

llvm::Error applySchedule(ModuleOp payload, ModuleOp schedule) {
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

} // namespace hatc
