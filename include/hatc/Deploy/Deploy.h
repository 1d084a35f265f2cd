//===- Deploy.h - A model compiled into a deployable library ---*- C++ -*-===//
//
//   workload + whole-model schedule --lowering--> LLVM module
//     + the C API's table and MODEL_* functions (LLVM IR, typed builders)
//     --O3, link with libhatc_deploy_rt.a (+ the hwacc device), libomp-->
//   OUT/libMODEL.so + OUT/MODEL.h
//
// The schedule is a parameter: deployModel compiles whatever whole-model
// schedule it is given. The CLI chooses it where every command does
// (loadCompileInputs: --schedule, else each task's best record with --db
// through modelScheduleFor, else the default schedule).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_DEPLOY_DEPLOY_H
#define HATC_DEPLOY_DEPLOY_H

#include "hatc/Lowering/Compiler.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <vector>

namespace hatc::deploy {

/// `stem` (a file name without extension) as a C identifier: characters
/// other than [A-Za-z0-9_] become '_', and a leading digit (or nothing at
/// all) gets "model_" in front.
std::string identifierFromStem(llvm::StringRef stem);
/// True when `name` can prefix the C API (a C identifier of at most 64
/// characters).
bool isValidModelName(llvm::StringRef name);

/// Makes everything `module` defines internal, so a library exports its C
/// API alone (added after this) and two models link into one program; fails,
/// naming `what` and the global, when a defined global is writable: runs on
/// several threads at once would share it.
llvm::Error internalizeModelCode(llvm::Module &module, llvm::StringRef what);

struct DeployOptions {
  std::string name;   // C prefix and file names: libNAME.so, NAME.h
  std::string outDir; // created when missing
  /// The model file, for the header's banner.
  std::string source;
};

struct DeployResult {
  std::string libraryPath;
  std::string headerPath;
};

/// Compiles `workload` (consumed: its module is lowered in place) with
/// `schedule` for `lowering` (cpu or hwacc) into OUT/libNAME.so and
/// OUT/NAME.h. Fails, naming what and where, when the target is not cpu or
/// hwacc, a file cannot be written, or the code would keep mutable global
/// state (runs on several threads at once must not share any).
llvm::Expected<DeployResult> deployModel(Workload &workload,
                                         mlir::ModuleOp schedule,
                                         const LoweringTarget &lowering,
                                         const DeployOptions &options);

} // namespace hatc::deploy

#endif // HATC_DEPLOY_DEPLOY_H
