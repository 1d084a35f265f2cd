//===- Coordinator.h - Database-driven dispatch of tasks to backends -*- C++ -*-===//
//
// The runtime coordinator (issue 7): what an application links to run its
// workloads on the best backend present.
//
//   ScheduleIndex   the best tuning record per (workload key, backend),
//                   read from the database at start (and on refresh()) into
//                   a hash map; the database is closed again before anything
//                   is dispatched, so no lock is ever held while running.
//   LatencyModel    a predicted latency per (workload, backend): the record's
//                   latency_s (cpu) or cycles / clock (hwacc), else a
//                   roofline estimate from FLOPs and bytes; plus the
//                   host<->device transfer time; times an online correction
//                   (an exponential moving average of observed / predicted
//                   per (workload, backend)).
//   QueueModel      per backend, the expected time each of its slots frees
//                   up (cpu: one slot per core group, hwacc: one).
//   Policy          picks a backend for a task: dynamic (earliest expected
//                   finish time) or a static baseline.
//   Coordinator     compiles and caches kernels (KernelCache), runs tasks on
//                   executor threads, one per backend slot, and retries a
//                   failed task on another backend.
//   simulate()      the same QueueModel, LatencyModel and Policy on a
//                   virtual clock, for thousands of tasks on many backends.
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

#include "hatc/Runtime/Buffer.h"
#include "hatc/Runtime/HwaccDevice.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hatc::coord {

enum class BackendKind { Cpu, Hwacc, Gpu };
const char *backendKindName(BackendKind kind);

/// The op class of a workload; the static-by-op baseline maps each class to
/// one backend.
enum class OpKind { Gemm, Conv, Elementwise, Other };
const char *opKindName(OpKind kind);

/// Receives warnings (one line each, no "hatc: warning:" prefix). Default:
/// stderr.
using WarnFn = std::function<void(const std::string &)>;
WarnFn stderrWarn();

struct BackendSpec {
  std::string name; // "cpu", "hwacc0", ...
  BackendKind kind = BackendKind::Cpu;
  /// Tasks it runs at once. The CPU's cores are split among concurrent
  /// tasks: slots = cores / threadsPerTask. A hwacc device runs one task.
  int slots = 1;
  int threadsPerTask = 1; // cpu
  HwaccParams hwacc;      // hwacc
  /// Host <-> device copy bandwidth (bytes/s) for the transfer term; 0: the
  /// backend works on host memory (the CPU).
  double transferBytesPerS = 0;
  // Which database records belong to it.
  std::string targetKind; // "cpu" | "hwacc"
  std::string targetName;
  std::string fingerprint;
};

/// The CPU of this machine as a backend (cores 0: all of them).
BackendSpec cpuBackend(int cores = 0, int threadsPerTask = 1);
/// A hwacc device from a target spec ("hwacc" or a target JSON path).
llvm::Expected<BackendSpec> hwaccBackend(const std::string &targetSpec,
                                         const std::string &name,
                                         double transferBytesPerS);

/// What policies need to know of a workload (no MLIR).
struct WorkloadInfo {
  std::string key, hash, path;
  OpKind op = OpKind::Other;
  double flops = 0;
  double bytesIn = 0, bytesOut = 0;
  /// Every compute op goes to the systolic array (matmul, batch matmul,
  /// conv). The hwacc lowering leaves other ops on the host, so a hwacc
  /// backend does not take workloads with any: that would be CPU work.
  bool accelerable = false;
};

/// Parses workload files (no compile) and describes them: what the
/// simulator needs.
llvm::Expected<std::vector<WorkloadInfo>>
describeWorkloads(const std::vector<std::string> &paths);

//===----------------------------------------------------------------------===//
// The schedule index
//===----------------------------------------------------------------------===//

struct IndexEntry {
  std::string workloadHash;
  std::string script; // the transform schedule (hwacc: knobs annotated)
  std::string configJson, configHash, sketch;
  /// cpu: median latency_s measured with `threads` threads; hwacc: cycles
  /// / clock (modeled seconds).
  double seconds = 0;
  int threads = 1;
  bool stale = false;
  int64_t recordId = 0;
};

struct IndexOptions {
  /// Use records of another compiler version or fingerprint when there is
  /// no fresh one (flagged stale).
  bool allowStale = false;
  std::string compilerVersion; // empty: this build's
  /// Per attempt and in total: how long a locked database is waited for
  /// before falling back (short: the coordinator must start).
  int busyTimeoutMs = 200;
  int busyDeadlineMs = 1000;
};

/// Best record per (workload key, target) for the targets of `backends`
/// (backends with the same target kind + fingerprint share entries).
class ScheduleIndex {
public:
  ScheduleIndex(const std::vector<BackendSpec> &backends, IndexOptions options,
                WarnFn warn = stderrWarn());

  /// Reads every record of `dbPath` and closes it again. A missing, locked
  /// or corrupt database leaves the index empty and warns once per index
  /// (later failures of refresh() stay quiet). Returns false on fallback.
  bool load(const std::string &dbPath);
  /// load() on the same path again (picks up new tuning results).
  bool refresh() { return load(dbPath); }

  /// The entry for the workload on backend `backend`, or null (a miss: no
  /// record, or only stale ones without allowStale, or another structural
  /// hash). `workloadHash` empty: any.
  const IndexEntry *lookup(std::string_view workloadKey,
                           std::string_view workloadHash,
                           size_t backend) const;

  /// Whether a stale record exists where lookup() misses (for the hint).
  bool hasStale(std::string_view workloadKey, std::string_view workloadHash,
                size_t backend) const;

  bool usingFallback() const { return fallback; }
  const std::string &fallbackReason() const { return reason; }
  size_t size() const { return entries.size(); }
  int warningsIssued() const { return warnings; }

private:
  struct Slot {
    std::optional<IndexEntry> fresh, stale;
  };
  std::vector<size_t> targetOfBackend; // backend -> distinct target
  std::vector<BackendSpec> targets;    // one per distinct target
  std::unordered_map<std::string, std::vector<Slot>> entries;
  IndexOptions options;
  WarnFn warn;
  std::string dbPath, reason;
  bool fallback = false;
  int warnings = 0;
};

//===----------------------------------------------------------------------===//
// Latency predictions
//===----------------------------------------------------------------------===//

struct PredictorOptions {
  /// Roofline fallback on the CPU: GFLOP/s per core of default-schedule code
  /// (18-45 on this machine's examples) and host memory bandwidth.
  double cpuGflopsPerCore = 30;
  double hostBytesPerS = 10e9;
  /// Fraction of the array's peak a default-tiled GEMM reaches (the model
  /// gives 0.5-0.8 on the examples).
  double hwaccEfficiency = 0.6;
  /// Weight of the newest observation in the correction EMA.
  double correctionAlpha = 0.3;
};

/// Where a base prediction came from.
enum class PredictionSource { Database, StaleDatabase, Roofline, Measured };
const char *predictionSourceName(PredictionSource source);

/// Predicted seconds per (workload id, backend id). Not thread-safe; the
/// Coordinator guards it with its lock.
class LatencyModel {
public:
  LatencyModel(std::vector<BackendSpec> backends, PredictorOptions options = {});

  const std::vector<BackendSpec> &backends() const { return specs; }
  /// Registers a workload and computes its base predictions from `index`
  /// (may be null) or the roofline. Returns its id (dense, from 0).
  int addWorkload(const WorkloadInfo &info, const ScheduleIndex *index);
  /// Overrides one base prediction (e.g. a kernel's calibrated modeled
  /// time, or a test's).
  void setBase(int workload, int backend, double seconds,
               PredictionSource source);
  /// Recomputes base predictions from a refreshed index.
  void rebase(const ScheduleIndex *index);

  size_t workloadCount() const { return workloads.size(); }
  const WorkloadInfo &workload(int id) const { return workloads[id].info; }
  int findWorkload(std::string_view key) const;

  bool canRun(int workload, int backend) const {
    return workloads[workload].perBackend[backend].runnable;
  }
  /// Prediction before correction: compute + transfer seconds.
  double uncorrected(int workload, int backend) const {
    const PerBackend &p = workloads[workload].perBackend[backend];
    return p.base + p.transfer;
  }
  /// What policies use: uncorrected x the learned correction.
  double predict(int workload, int backend) const {
    const PerBackend &p = workloads[workload].perBackend[backend];
    return (p.base + p.transfer) * p.correction;
  }
  double transfer(int workload, int backend) const {
    return workloads[workload].perBackend[backend].transfer;
  }
  double correction(int workload, int backend) const {
    return workloads[workload].perBackend[backend].correction;
  }
  PredictionSource source(int workload, int backend) const {
    return workloads[workload].perBackend[backend].source;
  }
  /// A task of `workload` took `observedS` on `backend`: moves the
  /// correction towards observed / uncorrected.
  void observe(int workload, int backend, double observedS);
  /// Back to no correction (each benchmarked policy starts fresh).
  void resetCorrections();

  /// Roofline estimate (no database): exposed for tests.
  double rooflineSeconds(const WorkloadInfo &info,
                         const BackendSpec &backend) const;

private:
  struct PerBackend {
    bool runnable = false;
    double base = 0, transfer = 0, correction = 1;
    PredictionSource source = PredictionSource::Roofline;
  };
  struct Entry {
    WorkloadInfo info;
    std::vector<PerBackend> perBackend;
  };
  void computeBase(Entry &entry, const ScheduleIndex *index);

  std::vector<BackendSpec> specs;
  PredictorOptions options;
  std::vector<Entry> workloads;
  std::unordered_map<std::string, int> byKey;
};

//===----------------------------------------------------------------------===//
// Queue state and policies
//===----------------------------------------------------------------------===//

/// Expected free time of every slot of every backend (seconds on the
/// dispatcher's clock). A list-scheduling estimate: assign() puts a task on
/// the slot that frees first; rebuild() resets a backend from what is really
/// running and queued when a task ends.
class QueueModel {
public:
  explicit QueueModel(const std::vector<BackendSpec> &backends);
  /// When backend `b` could start one more task.
  double availableAt(int b, double now) const {
    double best = slotFree[b][0];
    for (double t : slotFree[b])
      best = t < best ? t : best;
    return best > now ? best : now;
  }
  /// Books `seconds` on backend `b`; returns the expected finish.
  double assign(int b, double now, double seconds);
  /// Running tasks' expected ends and queued tasks' predictions.
  void rebuild(int b, double now, const std::vector<double> &runningEnds,
               const std::vector<double> &queued);
  void reset();
  size_t backendCount() const { return slotFree.size(); }

private:
  std::vector<std::vector<double>> slotFree;
};

enum class PolicyKind { Dynamic, AllCpu, AllHwacc, RoundRobin, StaticByOp };
const char *policyKindName(PolicyKind kind);
/// "dynamic", "all-cpu", "all-hwacc", "round-robin", "static-by-op".
std::optional<PolicyKind> parsePolicyKind(std::string_view name);
const std::vector<PolicyKind> &allPolicyKinds();

/// Chooses a backend for each task. `allowed` excludes backends a task
/// already failed on (empty: all allowed).
class Policy {
public:
  virtual ~Policy();
  virtual PolicyKind kind() const = 0;
  /// The backend, or -1 when no allowed backend can run the workload.
  virtual int choose(int workload, double now, const LatencyModel &model,
                     const QueueModel &queues,
                     const std::vector<bool> &allowed) = 0;
  /// Whether observed run times feed LatencyModel::observe.
  virtual bool learns() const { return false; }
};

/// `model` must already hold every workload the policy will see (the
/// static-by-op map is computed here, from the predictions).
std::unique_ptr<Policy> makePolicy(PolicyKind kind, const LatencyModel &model);

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

struct TaskResult {
  bool ok = false;
  std::string error; // the last failure, when !ok
  int workload = -1;
  int backend = -1; // where it finally ran
  int attempts = 0;
  /// Failures on other backends before it ran (each "backend: reason").
  std::vector<std::string> failures;
  double submitS = 0, startS = 0, endS = 0; // on the coordinator's clock
  double predictedS = 0, observedS = 0;
};

struct BackendUsage {
  std::string name;
  int tasks = 0;
  double busyS = 0;       // slot-seconds running tasks
  double utilization = 0; // busyS / (slots x makespan)
};

struct RunSummary {
  std::string policy;
  std::string mode; // "real" | "simulated"
  int tasks = 0, failedTasks = 0, retries = 0;
  double makespanS = 0;
  double throughput = 0; // tasks per second
  std::vector<BackendUsage> backends;
};

/// Fills `summary.backends` and the totals from finished tasks.
RunSummary summarize(const std::string &policy, const std::string &mode,
                     const std::vector<BackendSpec> &backends,
                     const std::vector<TaskResult> &results);

//===----------------------------------------------------------------------===//
// The benchmark stream and the simulator
//===----------------------------------------------------------------------===//

struct StreamTask {
  int workload = 0;
  double arrivalS = 0; // 0: all at once (a batch)
};

/// `count` tasks drawn with `seed` from the workloads, `weights[i]` being
/// workload i's relative frequency (empty: uniform).
std::vector<StreamTask> makeStream(size_t workloads,
                                   const std::vector<double> &weights,
                                   size_t count, uint64_t seed);

struct SimOptions {
  uint64_t seed = 1;
  /// The simulated truth is the model's prediction x a fixed per
  /// (workload, backend) bias (lognormal, sigma biasSigma: the predictions
  /// are off) x per-run jitter (lognormal, sigma jitterSigma).
  double biasSigma = 0.3;
  double jitterSigma = 0.05;
  /// Test hook: does this attempt fail? (backend, workload, attempt).
  std::function<bool(int, int, int)> fails;
};

/// Runs `stream` under `policy` on a virtual clock, with the same dispatch
/// rule as the Coordinator: a task is handed to its backend when some
/// backend has an idle slot and nothing queued. Resets the model's
/// corrections first.
RunSummary simulate(LatencyModel &model, Policy &policy,
                    const std::vector<StreamTask> &stream,
                    const SimOptions &options,
                    std::vector<TaskResult> *results = nullptr);

//===----------------------------------------------------------------------===//
// The real coordinator
//===----------------------------------------------------------------------===//

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
