//===- CodeGen.cpp - LLVM dialect -> host machine code -> shared object ---===//
//
//   LLVM dialect --translate--> llvm::Module + hatc_entry(void**)
//     --O3 for the host CPU--> .s / .o --cc -shared--> .so
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/CodeGen.h"
#include "hatc/Config.h"
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/TempDir.h"

#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>

namespace hatc {

const HostCpu &HostCpu::get() {
  static const HostCpu host = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    HostCpu cpu;
    cpu.triple = llvm::sys::getProcessTriple();
    cpu.cpuName = llvm::sys::getHostCPUName().str();
    std::vector<std::string> features;
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features.push_back((feature.getValue() ? "+" : "-") +
                         feature.getKey().str());
    std::sort(features.begin(), features.end());
    cpu.features = llvm::join(features, ",");
    return cpu;
  }();
  return host;
}

static llvm::Expected<std::unique_ptr<llvm::TargetMachine>> makeHostMachine() {
  const HostCpu &host = HostCpu::get();
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(host.triple, error);
  if (!target)
    return makeError("no LLVM target for " + host.triple + ": " + error);
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      host.triple, host.cpuName, host.features, options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    return makeError("cannot create a target machine for " + host.cpuName);
  return machine;
}

/// void hatc_entry(void **args) { _mlir_ciface_<entry>(args[0], ...); }
static llvm::Error addPackedEntry(llvm::Module &module,
                                  llvm::StringRef entryName) {
  std::string cifaceName = ("_mlir_ciface_" + entryName).str();
  llvm::Function *ciface = module.getFunction(cifaceName);
  if (!ciface)
    return makeError("internal error: no C interface @" + cifaceName +
                     " after lowering");
  llvm::LLVMContext &ctx = module.getContext();
  auto *ptrTy = llvm::PointerType::getUnqual(ctx);
  auto *fnTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptrTy},
                                       /*isVarArg=*/false);
  auto *packed = llvm::Function::Create(fnTy, llvm::Function::ExternalLinkage,
                                        kPackedEntrySymbol, module);
  llvm::IRBuilder<> builder(llvm::BasicBlock::Create(ctx, "entry", packed));
  llvm::Value *args = packed->getArg(0);
  llvm::SmallVector<llvm::Value *> callArgs;
  for (auto [i, param] : llvm::enumerate(ciface->args())) {
    if (!param.getType()->isPointerTy())
      return makeError("internal error: @" + cifaceName +
                       " takes a non-pointer argument");
    llvm::Value *slot = builder.CreateConstGEP1_64(ptrTy, args, i);
    callArgs.push_back(builder.CreateLoad(ptrTy, slot));
  }
  builder.CreateCall(ciface, callArgs);
  builder.CreateRetVoid();
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<llvm::Module>>
translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &llvmContext,
                  llvm::StringRef entryName) {
  DiagnosticCapture capture(module.getContext());
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, llvmContext, "hatc_kernel");
  if (!llvmModule)
    return capture.takeError("translation to LLVM IR failed");
  const HostCpu &host = HostCpu::get();
  llvmModule->setTargetTriple(host.triple);
  auto machine = makeHostMachine();
  if (!machine)
    return machine.takeError();
  llvmModule->setDataLayout((*machine)->createDataLayout());
  for (llvm::Function &fn : *llvmModule) {
    if (fn.isDeclaration())
      continue;
    fn.addFnAttr("target-cpu", host.cpuName);
    fn.addFnAttr("target-features", host.features);
  }
  if (llvm::Error err = addPackedEntry(*llvmModule, entryName))
    return std::move(err);
  std::string verifyErrors;
  llvm::raw_string_ostream os(verifyErrors);
  if (llvm::verifyModule(*llvmModule, &os))
    return makeError("internal error: invalid LLVM IR: " + os.str());
  return llvmModule;
}

static llvm::Error optimizeWith(llvm::Module &module,
                                llvm::TargetMachine &machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  tuning.LoopUnrolling = true;
  llvm::PassBuilder builder(&machine, tuning);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(module, mam);
  return llvm::Error::success();
}

llvm::Error optimizeForHost(llvm::Module &module) {
  auto machine = makeHostMachine();
  if (!machine)
    return machine.takeError();
  return optimizeWith(module, **machine);
}

llvm::Expected<std::string> emitMachineCode(llvm::Module &module,
                                            MachineCodeKind kind) {
  auto machine = makeHostMachine();
  if (!machine)
    return machine.takeError();
  if (llvm::Error err = optimizeWith(module, **machine))
    return std::move(err);
  llvm::SmallString<0> bytes;
  llvm::raw_svector_ostream os(bytes);
  llvm::legacy::PassManager codegen;
  auto fileType = kind == MachineCodeKind::Assembly
                      ? llvm::CodeGenFileType::AssemblyFile
                      : llvm::CodeGenFileType::ObjectFile;
  if ((*machine)->addPassesToEmitFile(codegen, os, nullptr, fileType))
    return makeError("the host target cannot emit this file type");
  codegen.run(module);
  return std::string(bytes.str());
}

llvm::Error linkSharedObject(llvm::StringRef objectPath,
                             llvm::StringRef sharedObjectPath,
                             llvm::StringRef hatcRuntime,
                             llvm::ArrayRef<std::string> extraInputs) {
  // Any C compiler driver links; prefer the one matching our LLVM.
  llvm::ErrorOr<std::string> driver = llvm::sys::findProgramByName("clang-19");
  if (!driver)
    driver = llvm::sys::findProgramByName("cc");
  if (!driver)
    return makeError("no C compiler driver (clang-19 or cc) to link kernels");
  std::string libdir = HATC_LLVM_LIBDIR;
  std::vector<std::string> argv = {*driver, "-shared", "-o",
                                   sharedObjectPath.str(), objectPath.str()};
  argv.insert(argv.end(), extraInputs.begin(), extraInputs.end());
  for (std::string arg : {"-L" + libdir, "-Wl,-rpath," + libdir,
                          std::string("-lomp"),
                          std::string("-lmlir_c_runner_utils"),
                          std::string("-lm")})
    argv.push_back(std::move(arg));
  if (!hatcRuntime.empty()) {
    std::string hatcLibdir = HATC_LIBRARY_DIR;
    argv.push_back("-L" + hatcLibdir);
    argv.push_back("-Wl,-rpath," + hatcLibdir);
    argv.push_back(("-l" + hatcRuntime).str());
  }
  llvm::SmallVector<llvm::StringRef> args(argv.begin(), argv.end());
  std::string message;
  llvm::SmallString<128> logPath;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("hatc-link", "log", logPath)) {
    return makeError("linking " + sharedObjectPath +
                     ": cannot create the linker's log in " +
                     describeTempDirectory() + ": " + ec.message());
  }
  std::optional<llvm::StringRef> redirects[] = {std::nullopt,
                                                logPath.str(), logPath.str()};
  int rc = llvm::sys::ExecuteAndWait(*driver, args, std::nullopt, redirects,
                                     /*SecondsToWait=*/120, 0, &message);
  std::string log;
  if (auto buffer = llvm::MemoryBuffer::getFile(logPath))
    log = (*buffer)->getBuffer().str();
  llvm::sys::fs::remove(logPath);
  if (rc != 0) {
    for (char &c : log)
      if (c == '\n')
        c = ' ';
    return makeError("linking " + sharedObjectPath + " failed (" +
                     (message.empty() ? "exit " + std::to_string(rc) : message) +
                     ")" + (log.empty() ? "" : ": " + log));
  }
  return llvm::Error::success();
}

} // namespace hatc
