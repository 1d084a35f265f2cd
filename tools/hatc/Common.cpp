//===- Common.cpp - Pieces shared by hatc's subcommands -------------------===//
#include "Common.h"
#include "Commands.h"
#include "Flags.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Runtime/Cuda.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace hatc {

void addTargetFlags(FlagParser &parser, CompileRequest &request) {
  parser.option("--target", &request.targetSpec, "T",
                "cpu (default), hwacc, gpu, or a target .json");
  parser.option("--target-config", &request.targetConfig, "F.json",
                "target description (overrides --target)");
  parser.option("--entry", &request.entryName, "NAME",
                "entry function when the file has several");
}

void addCompileFlags(FlagParser &parser, CompileRequest &request) {
  addTargetFlags(parser, request);
  parser.option("--schedule", &request.schedulePath, "S.mlir",
                "transform-dialect script (@__transform_main); default: the "
                "built-in one\n"
                "                          (see hatc compile --emit schedule)");
  parser.option("--config", &request.configPath, "C.json",
                "hwacc knobs: tile, dataflow, loop_order, double_buffer");
}

void addThreadsFlag(FlagParser &parser, int64_t &threads) {
  parser.option("--threads", &threads, "N",
                "kernel threads (default: the target's \"threads\", else "
                "one per core: " +
                    std::to_string(hostCores()) + ")",
                1, kMaxThreads);
}

std::optional<int> parseFlags(FlagParser &parser, const Args &args) {
  if (llvm::Error err = parser.parse(args))
    return reportError(std::move(err));
  if (parser.helpRequested()) {
    llvm::outs() << parser.usage();
    return kExitOk;
  }
  return std::nullopt;
}

llvm::Error requireDevice(const Target &target) {
  if (target.kind != TargetKind::Gpu)
    return llvm::Error::success();
  if (auto reason = cuda::unavailableReason())
    return makeError("DEVICE_UNAVAILABLE: " + *reason +
                     " (hatc compile --target gpu --emit ptx works without "
                     "one)");
  return llvm::Error::success();
}

llvm::Expected<CompileInputs> loadCompileInputs(const CompileRequest &request) {
  CompileInputs inputs;
  std::string targetSpec =
      request.targetConfig.empty() ? request.targetSpec : request.targetConfig;
  auto target = resolveTarget(targetSpec);
  if (!target)
    return target.takeError();
  inputs.target = std::move(*target);
  nlohmann::json knobs;
  if (!request.configPath.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(request.configPath, true);
    if (!buffer)
      return makeError(request.configPath + ": cannot read: " +
                       buffer.getError().message());
    knobs = nlohmann::json::parse((*buffer)->getBuffer().begin(),
                                  (*buffer)->getBuffer().end(), nullptr,
                                  /*allow_exceptions=*/false);
    if (knobs.is_discarded())
      return makeError(request.configPath + ": not valid JSON");
    if (knobs.is_null())
      knobs = nlohmann::json::object(); // given, if empty
  }
  auto lowering = loweringTargetFor(
      inputs.target,
      inputs.target.path.empty() ? inputs.target.name : inputs.target.path,
      knobs, request.configPath);
  if (!lowering)
    return lowering.takeError();
  inputs.lowering = std::move(*lowering);

  inputs.context = std::make_unique<mlir::MLIRContext>(
      mlir::MLIRContext::Threading::DISABLED);
  initContext(*inputs.context);
  auto workload =
      loadWorkload(*inputs.context, request.workloadPath, request.entryName);
  if (!workload)
    return workload.takeError();
  inputs.workload = std::move(*workload);
  if (request.schedulePath.empty()) {
    auto text = defaultScheduleFor(inputs.workload, inputs.target.kind);
    if (!text)
      return text.takeError();
    inputs.scheduleText = std::move(*text);
    auto schedule = parseSchedule(*inputs.context, inputs.scheduleText,
                                  "<default schedule>");
    if (!schedule)
      return schedule.takeError();
    inputs.schedule = std::move(*schedule);
    return inputs;
  }
  auto schedule = loadSchedule(*inputs.context, request.schedulePath);
  if (!schedule)
    return schedule.takeError();
  inputs.schedule = std::move(*schedule);
  inputs.scheduleName = request.schedulePath;
  if (auto buffer = llvm::MemoryBuffer::getFile(request.schedulePath, true))
    inputs.scheduleText = (*buffer)->getBuffer().str();
  return inputs;
}

} // namespace hatc
