//===- Harness.h - Measuring candidate schedules in worker processes -*- C++ -*-===//
//
// The measurement harness builds and runs candidate schedules in isolated
// `hatc-worker` processes, so that no candidate (a crashing kernel, an
// infinite loop, a runaway allocation, a wedged compile) can take the tuner
// down. Every candidate comes back as one MeasureResult with an error code;
// measure() itself never fails because of a candidate.
//
// Life cycle of a process measurer (makeProcessMeasurer):
//   1. Construction checks that the worker is executable, removes the
//      scratch folders of measurers that were killed (removeStaleScratchFolders)
//      and creates its own; nothing is started yet.
//   2. measure(batch) runs two phases.
//      Build: every candidate is compiled to a shared object, in parallel on
//        up to `buildWorkers` workers (spawned lazily, kept across batches:
//        each keeps one MLIRContext, which is slow to set up).
//      Run: the candidates that built are run one at a time, in batch order,
//        by one worker, with no build going on (the kernel has the cores).
//      The parent enforces the timeouts: build (from sending the build), run
//        (from the worker's "run started" message, sent right before the
//        kernel first runs) and a generous set-up timeout before that and
//        for a worker's start-up. A worker that overruns is killed with its
//        whole process group (SIGKILL), reaped and replaced on demand; a
//        worker that dies is classified by how it died (see MeasureResult)
//        and replaced the same way.
//      Each candidate's build folder lives under the scratch folder and is
//      removed when the batch is done.
//      Every wait is bounded (poll, writes of requests, reaping after
//      SIGKILL). A request that cannot be written because the worker died
//      between requests (one that answered OUT_OF_MEMORY exits) goes to a
//      fresh worker: only the candidate whose request a worker took is
//      charged with that worker's death.
//   3. Destruction kills the workers' process groups, reaps them and removes
//      the scratch folder.
// A measurer is not thread-safe: one measure() at a time.
//
// Error codes (hatc::db::ErrorCode):
//   INVALID_CONFIG     the target description or the knobs are rejected
//                      before building (bad target JSON, applyHwaccKnobs
//                      fails, an unknown fault, a fault without allowFaults)
//   BUILD_ERROR        the workload does not load, the schedule does not
//                      parse or apply, lowering or linking fails; or the
//                      worker died during the build (the signal is named)
//   BUILD_TIMEOUT      the build ran past buildTimeoutS
//   RUN_ERROR          loading or running the kernel failed, a device fault,
//                      or the worker died during the run (signal named)
//   RUN_TIMEOUT        the run ran past runTimeoutS after it started, or its
//                      set-up (loading, inputs, reference) past setupTimeoutS
//   WRONG_ANSWER       the checked run differs from the reference
//                      (maxRelErr says by how much)
//   OUT_OF_MEMORY      the worker hit its address-space limit (RLIMIT_AS):
//                      operator new failed (the worker's new-handler exits
//                      with a dedicated status) or LLVM's bad-alloc handler
//                      fired; or the workload's buffers do not fit (the
//                      message names the size, the operand and its shape;
//                      the worker carries on). A C malloc that fails inside generated code
//                      usually surfaces as a SIGSEGV instead: RUN_ERROR.
//   DEVICE_UNAVAILABLE a gpu target, and no usable GPU or CUDA driver here
//
//===----------------------------------------------------------------------===//
#ifndef HATC_MEASURE_HARNESS_H
#define HATC_MEASURE_HARNESS_H

#include "hatc/Db/Record.h"
#include "hatc/Measure/Execute.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace hatc {

/// One candidate: a workload, a target and a schedule for it.
struct MeasureRequest {
  std::string workloadPath;
  std::string entry; // empty: the workload's only public function
  /// The target description (what parseTarget reads, plus "path" naming the
  /// file it came from, used in messages), or a string that resolveTarget
  /// takes ("cpu", "hwacc", a path to a .json). Null means "cpu".
  nlohmann::json target;
  std::string sketch;     // informational, echoed in extras
  nlohmann::json config;  // knobs; on hwacc handed to applyHwaccKnobs
  std::string script;     // transform-dialect text; empty: the default
  /// Test-only fault injection, honoured when MeasureOptions::allowFaults:
  /// "segfault", "abort", "hang", "oom", "wrong" (in the run),
  /// "oom_reply" (the run throws std::bad_alloc: the worker answers
  /// OUT_OF_MEMORY and exits), "exit_after_reply" (a normal run, then the
  /// worker exits without a word), "build_hang", "build_crash" (in the
  /// build).
  std::string fault;
};

struct MeasureOptions {
  double buildTimeoutS = 60;
  double runTimeoutS = 30;
  /// Worker start-up, and a run's set-up before the kernel first runs.
  double setupTimeoutS = 120;
  /// RLIMIT_AS of each worker (0: no limit); workers running GPU kernels
  /// lift it (the CUDA driver reserves terabytes of address space).
  size_t memoryLimitBytes = size_t(4) << 30;
  int buildWorkers = 0; // 0: one per core
  /// How each candidate runs; run.threads 0: one per core (hostCores).
  RunSettings run = [] {
    RunSettings settings;
    settings.threads = 0;
    return settings;
  }();
  /// Starts workers with --allow-faults (tests only).
  bool allowFaults = false;
};

struct MeasureResult {
  db::ErrorCode error = db::ErrorCode::Ok;
  std::string message; // one line: what went wrong; empty when Ok
  /// Host seconds of each timed run (cpu; the timing-only run on hwacc).
  /// Empty unless error is Ok.
  std::vector<double> samples;
  /// What a tuner compares: the fastest timed run's host seconds on the
  /// cpu (ExecuteOptions::rankByFastest; the median is extras' host_s); on
  /// hwacc the modeled seconds plus the GEMMs the schedule kept on the host
  /// (HwaccStats::scheduleSeconds). 0 unless error is Ok.
  double seconds = 0;
  double cv = 0;
  /// hwacc: `seconds` in cycles of the device clock (the device's modeled
  /// cycles plus kept GEMMs' host time; HwaccStats::scheduleCycles).
  std::optional<int64_t> cycles;
  double gflops = 0;
  /// Kernel threads the candidate ran with (cpu targets); unset elsewhere.
  std::optional<int> threads;
  double maxRelErr = 0; // of the checked run (also for WRONG_ANSWER)
  /// Wall time of each phase as the parent saw it (a timeout's is about the
  /// limit; 0 for a phase that did not happen).
  double buildSeconds = 0, runSeconds = 0;
  /// Everything else: "workload", "flops", "sketch", timing
  /// statistics ("min_s", "max_s", "repeat", ...), and on hwacc "device"
  /// (the device-model statistics), "utilization", "dma_bytes",
  /// "modeled_s", "host_ops_s" (all host work, wall), "kept_host_s" (its
  /// kept GEMMs), "workload_s" and "workload_cycles" (device plus all host
  /// work: the figure records held before schedules were ranked without
  /// the shared host work), "hwacc_config".
  nlohmann::json extras = nlohmann::json::object();

  /// Not measured: the measurer was interrupted first (a farm stopping on
  /// Ctrl-C). Not a result: callers must not record it.
  bool abandoned = false;

  bool ok() const { return error == db::ErrorCode::Ok; }
};

/// Measures batches of candidates. Implementations never throw for a
/// candidate's failure: it becomes that candidate's error code.
class Measurer {
public:
  virtual ~Measurer();
  /// One result per request, in the same order.
  virtual std::vector<MeasureResult>
  measure(const std::vector<MeasureRequest> &batch) = 0;
};

/// The real measurer: builds and runs in `hatc-worker` processes at
/// `workerPath` (see the life cycle above). Fails when the worker is not an
/// executable file or the scratch folder cannot be created.
llvm::Expected<std::unique_ptr<Measurer>>
makeProcessMeasurer(const std::string &workerPath, MeasureOptions options = {});

/// Scratch folders are `<temp>/hatc-measure-<pid>-<random>`, <pid> being
/// the measuring process.
inline constexpr const char *kScratchPrefix = "hatc-measure";

/// Removes the scratch folders in `dir` (the temporary folder) left behind
/// by measurers whose process is gone (killed with SIGKILL, so no destructor
/// ran): named with a pid that is not alive, and owned by this user.
/// Folders of live processes, of other users and without a pid stay.
/// makeProcessMeasurer calls it on the temporary folder, `hatc run` with its
/// own prefix. Returns the paths it removed.
std::vector<std::string>
removeStaleScratchFolders(const std::string &dir,
                          llvm::StringRef prefix = kScratchPrefix);

/// A new scratch folder `<temp>/<prefix>-<pid>-<random>` (the temporary
/// folder: $TMPDIR, else /tmp), after removing the `<prefix>` folders of
/// processes that are gone: one a signal left behind is removed by the next
/// run. The error names the temporary folder. `hatc run`, `tune` (a model's
/// tasks), `model corpus`, the coordinator's kernel cache and the measurer
/// make theirs here.
llvm::Expected<std::string> createScratchFolder(llvm::StringRef prefix);

/// `hatc-worker` next to the running executable (build/bin/hatc-worker for
/// build/bin/hatc), found through /proc/self/exe.
std::string defaultWorkerPath();

/// The signal's short name ("SIGSEGV"), or "signal N".
std::string signalName(int signal);

} // namespace hatc

#endif // HATC_MEASURE_HARNESS_H
