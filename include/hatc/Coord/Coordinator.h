//===- Coordinator.h - Dispatch of tasks to the best backend ----*- C++ -*-===//
//
// The runtime coordinator (issue 7): what an application links to run its
// workloads on the best backend present. Coordinator compiles and caches
// kernels (KernelCache.h), runs tasks on executor threads, one per backend
// slot, and retries a failed task on another backend. It places tasks with a
// Policy (Policy.h) over the predictions of a LatencyModel
// (LatencyModel.h) built from the ScheduleIndex (Index.h); simulate()
// (Simulator.h) runs the same placement on a virtual clock.
//
// Pacing of hwacc devices (the device is a model, not hardware): the model's
// timing depends only on the command stream, i.e. on the kernel (shapes and
// knobs), never on the data. So each hwacc kernel is run once in timing-only
// mode when it is prepared, which gives its modeled seconds (cycles / clock).
// A task dispatched to a device then holds that device (one task at a time)
// for (modeled seconds + transfer seconds) x timeScale of wall time: the
// executor thread sleeps until start + that. A task that needs its results
// (functional) runs the device model for real inside that window; when the
// simulation on the host takes longer than the window, the task ends when it
// ends (the overrun is observed, and the online correction sees it). With
// HwaccExec::TimingOnly each task re-runs the timing model instead.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COORD_COORDINATOR_H
#define HATC_COORD_COORDINATOR_H

#include "hatc/Coord/Backend.h"
#include "hatc/Coord/Index.h"
#include "hatc/Coord/LatencyModel.h"
#include "hatc/Coord/Policy.h"
#include "hatc/Coord/Result.h"
#include "hatc/Runtime/Buffer.h"

#include "llvm/Support/Error.h"

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace hatc::coord {

enum class HwaccExec {
  Calibrated, ///< hold the device for the kernel's calibrated modeled time
  TimingOnly, ///< re-run the timing model for every task
};

struct CoordinatorOptions {
  std::string dbPath; // empty: no database (fallback, with a warning)
  bool useCpu = true;
  int cpuCores = 0; // 0: all
  int cpuThreadsPerTask = 1;
  /// One hwacc device per entry ("hwacc" or a target JSON path).
  std::vector<std::string> hwaccTargets;
  double transferBytesPerS = 16e9;
  double timeScale = 1.0; // hwacc pacing: modeled seconds x timeScale
  HwaccExec hwaccExec = HwaccExec::Calibrated;
  IndexOptions index;
  PredictorOptions predictor;
  WarnFn warn = stderrWarn();
  /// Test hook: does this attempt fail? (backend name, workload key,
  /// attempt). A failing attempt is reported and retried elsewhere.
  std::function<bool(const std::string &, const std::string &, int)> injectFault;
};

struct SubmitOptions {
  /// hwacc: run the device model functionally so the outputs are real
  /// (cpu outputs always are).
  bool functional = false;
  /// Run here and only here (-1: the policy decides).
  int forceBackend = -1;
};

class KernelCache;

class Coordinator {
public:
  /// Reads the database into the index, builds the backends; compiles
  /// nothing yet.
  static llvm::Expected<std::unique_ptr<Coordinator>>
  create(CoordinatorOptions options);
  ~Coordinator();

  /// Loads a workload file and compiles its kernel for every backend that
  /// can run it (ahead of time). Returns the workload id.
  llvm::Expected<int> addWorkload(const std::string &path);

  /// Replaces the policy; waits for running tasks first.
  void setPolicy(PolicyKind kind);
  /// Queues a task. `args` are inputs then outputs (entry order); empty:
  /// the coordinator's seeded inputs and per-executor scratch outputs.
  std::future<TaskResult> submit(int workload,
                                 std::vector<HostBuffer *> args = {},
                                 SubmitOptions options = {});
  /// Blocks until everything submitted has finished.
  void drain();

  /// Re-reads the database; kernels whose record changed are recompiled.
  llvm::Error refresh();

  /// Seconds since the coordinator started (the clock of TaskResult).
  double now() const;
  const std::vector<BackendSpec> &backends() const;
  LatencyModel &model();
  const ScheduleIndex &index() const;
  /// Inputs the coordinator fills (seed) for tasks without args.
  const std::vector<HostBuffer> &defaultInputs(int workload) const;
  /// Fresh output buffers of the workload (entry order).
  std::vector<HostBuffer> outputBuffers(int workload) const;
  /// The reference outputs for `inputs` (independent evaluator).
  llvm::Expected<std::vector<std::vector<double>>>
  referenceOutputs(int workload, const std::vector<HostBuffer> &inputs);
  /// Where the kernel's schedule came from: "db#ID", "db-stale#ID",
  /// "default".
  std::string scheduleOf(int workload, int backend) const;

private:
  struct Impl;
  explicit Coordinator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace hatc::coord

#endif // HATC_COORD_COORDINATOR_H
