//===- Deploy.h - A model compiled into a deployable library ---*- C++ -*-===//
//
//   workload + whole-model schedule --lowering--> LLVM module
//     + the C API's table and MODEL_* functions (LLVM IR, typed builders)
//     --O3, link with libhatc_deploy_rt.a (+ the hwacc device), libomp-->
//   OUT/libMODEL.so + OUT/MODEL.h
//
// The schedule is a parameter: deployModel compiles whatever whole-model
// schedule it is given, and a ScheduleProvider decides it (the default
// schedule today; the database's best record per task once model-wide tuning
// provides that lookup).
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

/// Where one task's schedule came from.
enum class ScheduleSource { Database, Default, Given };
/// "db", "default", "given".
const char *scheduleSourceName(ScheduleSource source);

/// The schedule of a whole model: one transform script (null: none, the ops
/// lower to plain loops) and, per task of the workload, where its part came
/// from.
struct ModelSchedule {
  mlir::OwningOpRef<mlir::ModuleOp> script;
  std::vector<ScheduleSource> sources; // one per Workload::tasks
  /// Said once with the listing (e.g. why no task came from the database).
  std::string note;
};

/// Builds the whole-model schedule of `workload` for `target`.
using ScheduleProvider = std::function<llvm::Expected<ModelSchedule>(
    const Workload &workload, const Target &target)>;

/// defaultScheduleFor(workload, kind) for the whole model: every task
/// "default"; `note` is passed through.
ScheduleProvider defaultScheduleProvider(std::string note = "");

/// The listing printed at compile time: one line per task, "  task N  KEY
/// SOURCE", after a heading line (and the note, if any).
std::string describeSchedule(const Workload &workload,
                             const ModelSchedule &schedule);

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
                                         const ModelSchedule &schedule,
                                         const LoweringTarget &lowering,
                                         const DeployOptions &options);

} // namespace hatc::deploy

#endif // HATC_DEPLOY_DEPLOY_H
