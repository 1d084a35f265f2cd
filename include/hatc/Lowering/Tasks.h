//===- Tasks.h - A model split into tunable tasks, and put back -*- C++ -*-===//
//
//   model func  --extractTasks-->  tasks (standalone funcs, keyed, weighted)
//   per-task scripts (db best | default) --buildModelSchedule--> one script
//
// A task is one anchor op (an op with reduction loops: contraction, conv,
// pooling, reduction) with the linalg.fill / linalg.broadcast that
// initializes its output and the chain of elementwise ops that consume its
// result (each the single user of the previous value, over the same shape);
// linalg ops left over (a standalone elementwise chain, a transpose) form
// tasks of their own the same way. Each task becomes a standalone workload:
// a public func @task holding those ops, every value they read from outside
// an argument (weights too, so that identical shapes share a task; scalar
// constants and tensor.empty are copied in). Its key and structural hash are
// Workload's (hatc.* attributes are not part of either), so identical tasks
// across the model share one key, and their number is the task's weight.
// The standalone module is what the tuner measures and the database stores.
//
// Going back: a task's script matches the ops of the standalone func (by
// name, or by hatc.op_index). extractTasks tags every linalg op of the model
// with its hatc.op_index (its position among the entry's linalg ops, the
// numbering Workload already uses), and each match of the script that
// selects ops of the task is rewritten to select exactly the instance's ops
// by that index (several become a transform.merge_handles). Matches of ops
// the script itself creates (a generic after im2col, tensor.pad after
// padding, the func) are left as they are. Patterns a script applies to
// the whole func (cpu_conv_im2col's unit-dim folding) rewrite other tasks'
// generics too, which then lose their hatc.op_index: such scripts go after
// all others. (Two of them: the second's generics may already be folded;
// those then keep the unscheduled lowering, correct but slower.)
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_TASKS_H
#define HATC_LOWERING_TASKS_H

#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Target.h"

#include "llvm/Support/Error.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hatc {

namespace db {
class Database;
} // namespace db

/// One occurrence of a task in the model: the hatc.op_index of the model's
/// ops that form it, in the order of the linalg ops of the task's func.
struct TaskInstance {
  std::vector<int64_t> opIndices;
};

/// One distinct task of a model.
struct ModelTask {
  std::string key;  // Workload::key() of the standalone workload
  std::string hash; // Workload::hash()
  std::string ir;   // the standalone module, printed (entry @task)
  /// With extractTasks' `withWeights`: the same module with its first
  /// instance's constant tensor operands (the weights) copied in instead
  /// of taken as arguments, printed; empty where it has none.
  std::string weightsIr;
  OpClass anchorClass = OpClass::Other;
  std::string anchorOp; // "linalg.conv_2d_nchw_fchw", ...
  double flops = 0;     // of one instance
  int64_t weight = 0;   // instances in the model (== instances.size())
  std::vector<TaskInstance> instances;
  /// Per linalg op of the task's func, in order: its name and its first
  /// result's type (what a script's match can select on).
  std::vector<std::string> opNames, opResultTypes;
  /// A row chain (rowChainFrom, CpuSchedules.h: a softmax, a layernorm):
  /// its default schedule fuses it; no sketch takes it whole yet.
  bool rowChain = false;
};

/// The entry function name of every standalone task module.
inline constexpr const char *kTaskEntryName = "task";

/// Splits `model` into tasks, in the order of their first op. Tags every
/// linalg op of the model's entry with hatc.op_index (see above).
llvm::Expected<std::vector<ModelTask>> extractTasks(Workload &model,
                                                    bool withWeights = false);

/// Loads a task's standalone module as a workload in `context`.
llvm::Expected<Workload> taskWorkload(mlir::MLIRContext &context,
                                      const ModelTask &task);

/// A task's script as another caller found it (the database's best record).
struct TunedScript {
  std::string script;
  std::string source = "db"; // provenance shown to the user
};

/// The schedule of a whole model and where each task's part came from.
struct ModelSchedule {
  std::string script; // transform script for the whole model
  std::vector<ModelTask> tasks;
  /// Per task: "db" (its tuned script), "default" (none found), or
  /// "default (fallback)" when the tuned script did not apply to an
  /// instance in the model (`notes` says why).
  std::vector<std::string> sources;
  std::vector<std::string> notes;
};

/// Retargets each task's script (from `tuned`, else the task's default
/// schedule on `kind`) to each of its instances in `model` and joins them
/// in one script. Every instance's part is applied to a copy of the model
/// in order first; a tuned script that fails there is replaced by the
/// task's default for that instance (said in `notes`), so the joined
/// script applies. `model` must have been passed to extractTasks. The
/// defaults are those for kernels on `threads` threads (0: one per core).
llvm::Expected<ModelSchedule> buildModelSchedule(
    Workload &model, std::vector<ModelTask> tasks, TargetKind kind,
    const std::function<std::optional<TunedScript>(const ModelTask &)> &tuned,
    int64_t threads = 0);

/// extractTasks + buildModelSchedule with each task's best fresh record of
/// `target` in `database` (none when `database` is null): what
/// `hatc compile/run MODEL --db DB` and a deployed library use. With
/// `allowStale`, a task without a fresh record takes its best stale one
/// (another compiler version or machine; its source says which); without,
/// such a task gets the default and a note naming the stale records. Each
/// task's record is Database::bestToBuild's: a best record less than
/// db::kTunedMargin faster than the default's gives way to the default (its
/// source says so).
/// With `threads` (> 0) on the CPU, only records that ran on that many
/// kernel threads count: a config measured on 2 says nothing of its speed
/// on 1, so a task tuned only on others gets the default and a note.
llvm::Expected<ModelSchedule> modelScheduleFor(Workload &model,
                                               db::Database *database,
                                               const Target &target,
                                               bool allowStale = false,
                                               int64_t threads = 0);

/// Rewrites the matches of `taskScript` (written for the task's func) to
/// select `instance`'s ops in the model, and a match of the task's func by
/// name (@task) to select the model's entry `modelEntry`: the returned
/// script is applied to the model. Exposed for tests.
llvm::Expected<std::string> retargetScript(const ModelTask &task,
                                           const TaskInstance &instance,
                                           llvm::StringRef taskScript,
                                           llvm::StringRef modelEntry);

} // namespace hatc

#endif // HATC_LOWERING_TASKS_H
