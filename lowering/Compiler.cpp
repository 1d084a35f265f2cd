//===- Compiler.cpp - The CPU compile path, stage by stage ----------------===//
//
//   workload + schedule --transform interpreter--> scheduled IR
//     --hatc-cpu-lowering--> LLVM dialect --CodeGen--> LLVM IR / .s / .o / .so
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Compiler.h"
#include "hatc/Lowering/CodeGen.h"
#include "hatc/Lowering/CpuPipeline.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Error.h"

#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace hatc {

llvm::Expected<LoweringTarget> loweringTargetFor(const Target &target,
                                                 const std::string &origin,
                                                 const nlohmann::json &knobs,
                                                 const std::string &knobsOrigin) {
  LoweringTarget lowering;
  lowering.kind = target.kind;
  if (!knobs.is_null() && target.kind != TargetKind::Hwacc)
    return makeError(knobsOrigin + ": knobs are for hwacc; on " +
                     targetKindName(target.kind) +
                     " a schedule (--schedule) says how to compile");
  switch (target.kind) {
  case TargetKind::Gpu:
    if (llvm::Error err = gpuOptionsFromTarget(target, lowering.gpu))
      return std::move(err);
    break;
  case TargetKind::Hwacc:
    if (auto error =
            HwaccParams::fromJson(target.params, origin, lowering.hwacc.params))
      return makeError(*error);
    if (!knobs.is_null() && !(knobs.is_object() && knobs.empty()))
      if (llvm::Error err = applyHwaccKnobs(knobs, knobsOrigin, lowering.hwacc))
        return std::move(err);
    break;
  case TargetKind::Cpu:
    break;
  }
  return lowering;
}

std::optional<EmitStage> parseEmitStage(llvm::StringRef name) {
  return llvm::StringSwitch<std::optional<EmitStage>>(name)
      .Case("mlir", EmitStage::Scheduled)
      .Case("mlir-llvm", EmitStage::LLVMDialect)
      .Case("llvm", EmitStage::LLVMIR)
      .Case("asm", EmitStage::Assembly)
      .Case("obj", EmitStage::Object)
      .Case("ptx", EmitStage::Ptx)
      .Default(std::nullopt);
}

static std::string printModule(ModuleOp module, bool elideWeights) {
  OpPrintingFlags flags;
  if (elideWeights)
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os, flags);
  return text;
}

/// --elide-weights for LLVM IR, which has no printing flag for it: each
/// global array of more than 64 bytes (a weight: nested arrays, one per
/// dimension) is printed zero-initialized, and a header comment says how
/// many and how large they were.
static void elideLargeConstants(llvm::Module &module, llvm::raw_ostream &os) {
  const llvm::DataLayout &layout = module.getDataLayout();
  int64_t count = 0, bytes = 0;
  for (llvm::GlobalVariable &global : module.globals()) {
    if (!global.hasInitializer())
      continue;
    llvm::Constant *init = global.getInitializer();
    if (!llvm::isa<llvm::ArrayType>(init->getType()) || init->isNullValue())
      continue;
    int64_t size = int64_t(layout.getTypeAllocSize(init->getType()));
    if (size <= 64)
      continue;
    ++count;
    bytes += size;
    global.setInitializer(llvm::Constant::getNullValue(init->getType()));
  }
  if (count)
    os << "; --elide-weights: " << count << " constant(s) of " << bytes
       << " bytes in all are printed as zeroinitializer\n";
}

static llvm::Error lowerToLLVMDialect(Workload &workload,
                                      const LoweringTarget &target) {
  ModuleOp module = *workload.module;
  prepareEntryForCpu(module, workload.entryName);
  PassManager pm(module.getContext());
  if (target.kind == TargetKind::Hwacc)
    buildHwaccPipeline(pm, target.hwacc);
  else if (target.kind == TargetKind::Gpu)
    buildGpuPipeline(pm, target.gpu);
  else
    buildCpuLoweringPipeline(pm, CpuPipelineOptions());
  DiagnosticCapture capture(module.getContext());
  if (failed(pm.run(module)))
    return capture.takeError("lowering to the LLVM dialect failed");
  return llvm::Error::success();
}

llvm::Expected<std::string> compileToStage(Workload &workload,
                                           ModuleOp schedule, EmitStage stage,
                                           const LoweringTarget &target,
                                           bool elideWeights) {
  if (stage == EmitStage::Ptx && target.kind != TargetKind::Gpu)
    return makeError("--emit ptx is for the gpu target");
  if (schedule)
    if (llvm::Error err = applySchedule(*workload.module, schedule))
      return std::move(err);
  if (stage == EmitStage::Scheduled)
    return printModule(*workload.module, elideWeights);
  if (llvm::Error err = lowerToLLVMDialect(workload, target))
    return std::move(err);
  if (stage == EmitStage::LLVMDialect)
    return printModule(*workload.module, elideWeights);
  if (stage == EmitStage::Ptx)
    return extractPtx(*workload.module);

  llvm::LLVMContext llvmContext;
  auto llvmModule =
      translateToLLVMIR(*workload.module, llvmContext, workload.entryName);
  if (!llvmModule)
    return llvmModule.takeError();
  if (stage == EmitStage::LLVMIR) {
    if (llvm::Error err = optimizeForHost(**llvmModule))
      return std::move(err);
    std::string text;
    llvm::raw_string_ostream os(text);
    if (elideWeights)
      elideLargeConstants(**llvmModule, os);
    (*llvmModule)->print(os, nullptr);
    return text;
  }
  return emitMachineCode(**llvmModule, stage == EmitStage::Assembly
                                           ? MachineCodeKind::Assembly
                                           : MachineCodeKind::Object);
}

llvm::Expected<std::unique_ptr<llvm::Module>>
compileToLLVMModule(Workload &workload, ModuleOp schedule,
                    const LoweringTarget &target,
                    llvm::LLVMContext &llvmContext) {
  if (target.kind == TargetKind::Gpu)
    return makeError("an LLVM module of host code is for cpu and hwacc");
  if (schedule)
    if (llvm::Error err = applySchedule(*workload.module, schedule))
      return std::move(err);
  if (llvm::Error err = lowerToLLVMDialect(workload, target))
    return std::move(err);
  return translateToLLVMIR(*workload.module, llvmContext, workload.entryName);
}

llvm::Expected<std::string>
compileToSharedObject(Workload &workload, ModuleOp schedule,
                      llvm::StringRef dir, llvm::StringRef stem,
                      const LoweringTarget &target) {
  auto object = compileToStage(workload, schedule, EmitStage::Object, target);
  if (!object)
    return object.takeError();
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return makeError(dir + ": cannot create: " + ec.message());
  llvm::SmallString<256> objectPath(dir), sharedPath(dir);
  llvm::sys::path::append(objectPath, stem + ".o");
  llvm::sys::path::append(sharedPath, stem + ".so");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objectPath, ec);
    if (ec)
      return makeError(objectPath + ": cannot write: " + ec.message());
    os << *object;
  }
  llvm::StringRef runtime = target.kind == TargetKind::Hwacc ? "hatc_hwacc_rt"
                            : target.kind == TargetKind::Gpu ? "hatc_cuda_rt"
                                                             : "";
  if (llvm::Error err = linkSharedObject(objectPath, sharedPath, runtime))
    return std::move(err);
  llvm::sys::fs::remove(objectPath);
  return std::string(sharedPath.str());
}

} // namespace hatc
