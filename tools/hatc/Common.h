//===- Common.h - Pieces shared by hatc's subcommands ----------*- C++ -*-===//
#ifndef HATC_TOOLS_COMMON_H
#define HATC_TOOLS_COMMON_H

#include "hatc/Lowering/Compiler.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Tuner/Sketch.h"

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
  /// Positions of the model's graph inputs that were specialized (their
  /// values from CompileRequest::inputsDir became constants).
  std::vector<size_t> specializedInputs;
};

/// What the user named on the command line.
struct CompileRequest {
  std::string workloadPath;
  std::string targetSpec = "cpu"; // --target
  std::string targetConfig;       // --target-config (overrides --target)
  std::string schedulePath;       // --schedule
  std::string configPath;         // --config (knobs, for hwacc)
  std::string entryName;          // --entry
  std::string compileTimeout = "300"; // --compile-timeout, seconds; 0: none
  std::vector<std::string> inputShapes; // --input-shape NAME=D0,D1 (models)
  bool noGraphOpt = false; // --no-graph-opt: models as imported
  /// `hatc run --inputs DIR`: a model whose ops need a graph input's value
  /// at import time (pads, sizes fed as inputs) is specialized for the
  /// value in DIR.
  std::string inputsDir;
  /// --db: each task of the workload (or model) uses its best record for
  /// the target in this database, the default schedule on a miss
  /// (modelScheduleFor, listed on stderr).
  std::string dbPath;
  /// --allow-stale (with --db): a task without a record of this compiler
  /// version and machine takes its best record of another.
  bool allowStale = false;
  /// Kernel threads the default schedule splits work over (--threads);
  /// 0: the target's, else one per core (resolveThreads).
  int64_t threads = 0;
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

/// --input-shape and --no-graph-opt, for subcommands that take an ONNX
/// model.
void addModelFlags(FlagParser &parser, CompileRequest &request);

/// Loads `request.workloadPath` into `context`: a .mlir workload, or an
/// ONNX model imported in memory (with request.inputShapes).
/// `specialized` receives the positions of graph inputs whose values
/// became constants (see CompileRequest::inputsDir).
llvm::Expected<Workload>
loadWorkloadOrModel(mlir::MLIRContext &context, const CompileRequest &request,
                    std::vector<size_t> *specialized = nullptr);

/// Imports the ONNX model `request.workloadPath` (with its --input-shape
/// flags) and writes the module as `<dir>/<stem>.mlir`, for subcommands
/// whose workers load workloads by path (tune); returns that path.
llvm::Expected<std::string> importModelToFile(const CompileRequest &request,
                                              llvm::StringRef dir);

/// Resolves the target first (cheap, and a bad --target should not wait on
/// parsing), then the workload and schedule. Only kinds this build can
/// compile for are accepted.
/// DEVICE_UNAVAILABLE, in one line, when `target` is a GPU and there is
/// none here (or no driver); success otherwise.
llvm::Error requireDevice(const Target &target);

/// For subcommands that take one workload, not a model of many tasks:
/// an error when `path` is an ONNX model, naming the subcommand `command`
/// ("best") and ending with `whatInstead` (where the model's tasks are);
/// success otherwise.
llvm::Error refuseModel(llvm::StringRef command, llvm::StringRef path,
                        llvm::StringRef whatInstead);

/// refuseModel's `whatInstead` for commands that take one task's module.
inline constexpr const char *kModelTaskFilesHint =
    "hatc tune MODEL --db DB --task-dir DIR keeps each of its tasks there "
    "(taskK.weights.mlir)";

llvm::Expected<CompileInputs> loadCompileInputs(const CompileRequest &request);

/// What a schedule space of the loaded target is built on: the target's
/// facts with the kernel threads resolved (`threads` from --threads, else
/// the target's, else one per core), which bound every `par` knob.
llvm::Expected<tuner::TargetFacts> spaceFactsFor(const CompileInputs &inputs,
                                                 int64_t threads);

/// Ends the process with one line, "hatc: error: BUILD_TIMEOUT: ...", and
/// exit status 1 when the compile it guards (from construction to
/// destruction) outlasts its limit.
///
/// Why a watchdog thread that ends the process, and not a compile in a
/// forked child: LLVM and MLIR passes have no cancellation points, so a
/// compile stuck in a fully unrolled loop nest cannot be asked to stop; and
/// forking after the MLIRContext has started its thread pool is unsafe (the
/// child has none of its threads, so the first parallel pass would wait
/// forever, and locks other threads held at the fork stay held). The CLI
/// has nothing to save at this point, so ending the process is clean; the
/// scratch folder, if any, is removed first.
class CompileWatchdog {
public:
  /// `limitS` <= 0: no limit (nothing is started). `what` names the compile
  /// in the message ("compiling W.mlir for cpu").
  CompileWatchdog(double limitS, std::string what, std::string scratchDir = "");
  ~CompileWatchdog();
  CompileWatchdog(const CompileWatchdog &) = delete;
  CompileWatchdog &operator=(const CompileWatchdog &) = delete;
  /// The folder to remove before exiting on a timeout.
  void setScratchDir(std::string dir);

private:
  struct State;
  std::unique_ptr<State> state;
};

/// --compile-timeout of `request` in seconds (0: none), or an error naming
/// the bad value.
llvm::Expected<double> compileTimeoutSeconds(const CompileRequest &request);

} // namespace hatc

#endif // HATC_TOOLS_COMMON_H
