//===- Common.h - Pieces shared by hatc's subcommands ----------*- C++ -*-===//
#ifndef HATC_TOOLS_COMMON_H
#define HATC_TOOLS_COMMON_H

#include "hatc/Lowering/Compiler.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/Support/Error.h"

#include <memory>
#include <string>

namespace hatc {

/// What every compiling subcommand loads: a context, the workload, the
/// target and (optionally) a schedule.
struct CompileInputs {
  std::unique_ptr<mlir::MLIRContext> context;
  Workload workload;
  Target target;
  mlir::OwningOpRef<mlir::ModuleOp> schedule; // given, or the default one
  std::string scheduleName = "default";      // its path, or "default"
  std::string scheduleText;
  LoweringTarget lowering; // the target's kind and, for hwacc, its options
};

/// What the user named on the command line.
struct CompileRequest {
  std::string workloadPath;
  std::string targetSpec = "cpu"; // --target
  std::string targetConfig;       // --target-config (overrides --target)
  std::string schedulePath;       // --schedule
  std::string configPath;         // --config (knobs, for hwacc)
  std::string entryName;          // --entry
};

class FlagParser;
/// --target, --target-config and --entry, shared by every subcommand that
/// loads a workload for a target.
void addTargetFlags(FlagParser &parser, CompileRequest &request);
/// Those plus --schedule and --config: the subcommands that compile.
void addCompileFlags(FlagParser &parser, CompileRequest &request);
/// --threads N, the same for every subcommand that runs kernels: 1 to
/// kMaxThreads; left at 0 it means the target's "threads", else one per
/// core (resolveThreads).
void addThreadsFlag(FlagParser &parser, int64_t &threads);

/// Resolves the target first (cheap, and a bad --target should not wait on
/// parsing), then the workload and schedule. Only kinds this build can
/// compile for are accepted.
/// DEVICE_UNAVAILABLE, in one line, when `target` is a GPU and there is
/// none here (or no driver); success otherwise.
llvm::Error requireDevice(const Target &target);

llvm::Expected<CompileInputs> loadCompileInputs(const CompileRequest &request);

} // namespace hatc

#endif // HATC_TOOLS_COMMON_H
