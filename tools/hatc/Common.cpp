//===- Common.cpp - Pieces shared by hatc's subcommands -------------------===//
#include "Common.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/MemoryBuffer.h"

namespace hatc {

llvm::Expected<CompileInputs> loadCompileInputs(const std::string &workloadPath,
                                                const std::string &targetSpec,
                                                const std::string &schedulePath,
                                                const std::string &entryName) {
  CompileInputs inputs;
  if (targetSpec == "gpu" || targetSpec == "hwacc")
    return makeError("target '" + targetSpec +
                     "' is not supported by this build yet (only cpu)");
  auto target = resolveTarget(targetSpec);
  if (!target)
    return target.takeError();
  if (target->kind != TargetKind::Cpu)
    return makeError(std::string("target kind '") +
                     targetKindName(target->kind) +
                     "' cannot be compiled for by this build yet (only cpu)");
  inputs.target = std::move(*target);

  inputs.context = std::make_unique<mlir::MLIRContext>(
      mlir::MLIRContext::Threading::DISABLED);
  initContext(*inputs.context);
  auto workload = loadWorkload(*inputs.context, workloadPath, entryName);
  if (!workload)
    return workload.takeError();
  inputs.workload = std::move(*workload);
  if (schedulePath.empty()) {
    inputs.scheduleText = defaultScheduleText(inputs.workload);
    auto schedule = parseSchedule(*inputs.context, inputs.scheduleText,
                                  "<default schedule>");
    if (!schedule)
      return schedule.takeError();
    inputs.schedule = std::move(*schedule);
    return inputs;
  }
  auto schedule = loadSchedule(*inputs.context, schedulePath);
  if (!schedule)
    return schedule.takeError();
  inputs.schedule = std::move(*schedule);
  inputs.scheduleName = schedulePath;
  if (auto buffer = llvm::MemoryBuffer::getFile(schedulePath, true))
    inputs.scheduleText = (*buffer)->getBuffer().str();
  return inputs;
}


} // namespace hatc
