//===- Compiler.h - Workload + schedule -> each stage of CPU code -*- C++ -*-===//
//
// The CPU compile path end to end, stopping at any stage `hatc compile
// --emit` can show: the scheduled IR, the LLVM dialect, LLVM IR, assembly,
// an object file, or a loadable shared object.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_COMPILER_H
#define HATC_LOWERING_COMPILER_H

#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/HwaccPipeline.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Target.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <optional>
#include <string>

namespace hatc {

enum class EmitStage { Scheduled, LLVMDialect, LLVMIR, Assembly, Object, Ptx };

/// "mlir", "mlir-llvm", "llvm", "asm", "obj", "ptx".
std::optional<EmitStage> parseEmitStage(llvm::StringRef name);

/// Where the code goes: the host CPU alone, or hwacc (GEMM-like ops on the
/// accelerator through its C ABI, the rest on the host).
struct LoweringTarget {
  TargetKind kind = TargetKind::Cpu;
  HwaccPipelineOptions hwacc; // used when kind == Hwacc
  GpuOptions gpu;             // used when kind == Gpu
};

/// The one place a target description becomes what lowering needs: its
/// kind; for hwacc, the device parameters and the accelerator knobs (when
/// `knobs` is not null; knobs on another kind are an error); for a GPU, the
/// launch options. `origin`
/// and `knobsOrigin` name the description and the knobs in errors.
llvm::Expected<LoweringTarget>
loweringTargetFor(const Target &target, const std::string &origin,
                  const nlohmann::json &knobs = nlohmann::json(),
                  const std::string &knobsOrigin = "config");

/// Applies `schedule` (null: none, the linalg ops lower to plain loops) to
/// the workload's module in place and lowers it up to `stage`; returns that
/// stage's text (or object bytes). With `elideWeights`, a text stage prints
/// large constants as placeholders, for reading (a model's weights made
/// `--emit llvm` of BERT-base 3 GB of text, over 300 s and 14 GB to print).
llvm::Expected<std::string> compileToStage(Workload &workload,
                                           mlir::ModuleOp schedule,
                                           EmitStage stage,
                                           const LoweringTarget &target = {},
                                           bool elideWeights = false);

/// Applies `schedule` and lowers the workload in place, then translates it:
/// the LLVM IR module (with `hatc_entry`), not yet optimized, for callers
/// that add code of their own before emitMachineCode (deploy's C API).
llvm::Expected<std::unique_ptr<llvm::Module>>
compileToLLVMModule(Workload &workload, mlir::ModuleOp schedule,
                    const LoweringTarget &target,
                    llvm::LLVMContext &llvmContext);

/// The whole path: writes `<dir>/<stem>.o` and `<dir>/<stem>.so` and returns
/// the shared object's path.
llvm::Expected<std::string>
compileToSharedObject(Workload &workload, mlir::ModuleOp schedule,
                      llvm::StringRef dir, llvm::StringRef stem,
                      const LoweringTarget &target = {});

} // namespace hatc

#endif // HATC_LOWERING_COMPILER_H
