//===- CodeGen.h - LLVM dialect -> native code for the host ------*- C++ -*-===//
//
//   LLVM dialect module -> llvm::Module (+ packed entry `hatc_entry`)
//     -> O3 for the host CPU (its name and features, e.g. AVX-512)
//     -> assembly | object file -> shared object linked against libomp
//
// `hatc_entry(void **args)` calls `_mlir_ciface_<entry>` with args[i] as the
// i-th memref descriptor pointer, so one C signature runs every kernel.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_CODEGEN_H
#define HATC_LOWERING_CODEGEN_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace llvm {
class TargetMachine;
}

namespace hatc {

inline constexpr const char *kPackedEntrySymbol = "hatc_entry";

/// The host CPU as LLVM sees it: triple, CPU name and feature string.
struct HostCpu {
  std::string triple;
  std::string cpuName;
  std::string features;
  static const HostCpu &get();
};

/// Translates an LLVM-dialect module and adds the packed entry wrapper for
/// `entryName` (which must carry llvm.emit_c_interface).
llvm::Expected<std::unique_ptr<llvm::Module>>
translateToLLVMIR(mlir::ModuleOp module, llvm::LLVMContext &llvmContext,
                  llvm::StringRef entryName);

enum class MachineCodeKind { Assembly, Object };

/// Runs the O3 pipeline for the host CPU and emits assembly or an object.
llvm::Expected<std::string> emitMachineCode(llvm::Module &module,
                                            MachineCodeKind kind);

/// Optimizes `module` in place for the host (also done by emitMachineCode).
llvm::Error optimizeForHost(llvm::Module &module);

/// Links an object file into a shared object that loads libomp and MLIR's C
/// runner utils (and `hatcRuntime`, one of hatc's device runtimes such as
/// "hatc_hwacc_rt" or "hatc_cuda_rt", when not empty) on its own (rpath),
/// with the system C compiler driver. `extraInputs` (archives, linker
/// flags) follow the object on the command line.
llvm::Error linkSharedObject(llvm::StringRef objectPath,
                             llvm::StringRef sharedObjectPath,
                             llvm::StringRef hatcRuntime = "",
                             llvm::ArrayRef<std::string> extraInputs = {});

} // namespace hatc

#endif // HATC_LOWERING_CODEGEN_H
