//===- Execute.h - Run a compiled kernel: check, time, model ----*- C++ -*-===//
//
// The one place a compiled kernel is run for a measurement: inputs from a
// seeded RNG, outputs poisoned, one checked run against the independent
// reference, then timing (CPU: warm-up, repeats until a minimum measured
// time, median and coefficient of variation; hwacc: one timing-only run of
// the device model). `hatc run` and the measurement workers both use it.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_MEASURE_EXECUTE_H
#define HATC_MEASURE_EXECUTE_H

#include "hatc/Lowering/Compiler.h"
#include "hatc/Measure/Check.h"
#include "hatc/Measure/Timing.h"
#include "hatc/Runtime/Buffer.h"
#include "hatc/Runtime/HwaccDevice.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <string>
#include <system_error>
#include <optional>
#include <vector>

namespace hatc {

/// How a kernel is run and timed. The one set of defaults: `hatc run`, the
/// harness (MeasureOptions::run) and the worker (which falls back to these
/// for any field a request leaves out) all start from it.
struct RunSettings {
  int threads = 1;
  uint64_t seed = 0;
  bool check = true;
  /// Untimed runs: at least `warmup`, and until warmupSeconds have passed
  /// (kWarmupSeconds says why).
  int64_t warmup = 1;
  double warmupSeconds = kWarmupSeconds;
  /// Timed runs: at least minRepeat, then more until minTimeSeconds of
  /// measured time, at most maxRepeat.
  int64_t minRepeat = 3;
  int64_t maxRepeat = 50;
  double minTimeSeconds = 0.05;
  /// Evict the caches (write a buffer larger than the LLC) before each run.
  bool flushCache = false;
};

struct ExecuteOptions : RunSettings {
  /// The inputs to run on (the workload's inputs in order, same kinds and
  /// shapes); null: seeded random inputs.
  const std::vector<HostBuffer> *inputs = nullptr;
  /// `seconds` (and `gflops`) from the fastest timed run rather than the
  /// median: what the measurement workers report for the tuner to compare.
  /// Other processes only ever slow a run down, so on a shared machine the
  /// fastest run is the most repeatable figure of a config's own speed
  /// (`hatc run` reports the median, a latency to expect).
  bool rankByFastest = false;
  /// When set, receives the outputs of the first (checked or plain) run.
  std::vector<HostBuffer> *outputs = nullptr;
  /// Called right before the kernel first runs: a run-time budget starts
  /// here, not while inputs and the reference are being prepared.
  std::function<void()> onRunStart;
  /// Test hook: called on the outputs after the checked run, before the
  /// comparison (fault injection corrupts them here).
  std::function<void(std::vector<HostBuffer> &outputs)> afterCheckedRun;
  /// Paces the timed runs (`hatc run --lockstep`): when set, it is called
  /// before each timed run, which follows a warm-up of its own (the
  /// cores idled meanwhile), and the timing ends when it returns false;
  /// minRepeat, maxRepeat and minTimeSeconds do not apply. CPU and GPU
  /// only.
  std::function<bool()> awaitTurn;
  /// With awaitTurn: called with each timed run's seconds.
  std::function<void(double seconds)> afterTimedRun;
};

struct ExecuteResult {
  std::optional<CheckResult> check; // when options.check
  std::vector<double> samples;      // host seconds per timed run
  TimingStats timing;
  std::optional<HwaccStats> hwacc; // hwacc: the timing-only run's statistics
  double modeledSeconds = 0;       // hwacc: cycles / clock
  /// hwacc: modeled seconds plus all host work's wall time (what the
  /// workload takes, HwaccStats::totalSeconds).
  double workloadSeconds = 0;
  /// The measure a tuner compares: median host seconds on the CPU (the
  /// fastest run's with ExecuteOptions::rankByFastest); on hwacc
  /// modeled seconds plus the GEMMs the schedule kept on the host
  /// (HwaccStats::scheduleSeconds), deterministic for a schedule that keeps
  /// none there.
  double seconds = 0;
  double gflops = 0;
  /// Caches were flushed before each timed run (options.flushCache, on the
  /// CPU; GPU and hwacc runs have no host caches to flush).
  bool flushedCaches = false;
  /// Untimed runs made before the timed ones (RunSettings::warmup and
  /// warmupSeconds; paced by awaitTurn, those before each one as well;
  /// none on hwacc).
  int64_t warmupRuns = 0;
};

/// Host memory for the workload's buffers (or the reference) could not be
/// allocated: the message says how much, for which operand of which
/// workload. The measurement worker records it as OUT_OF_MEMORY.
class AllocationError : public llvm::ErrorInfo<AllocationError> {
public:
  static char ID;
  explicit AllocationError(std::string message) : text(std::move(message)) {}
  void log(llvm::raw_ostream &os) const override { os << text; }
  std::error_code convertToErrorCode() const override {
    return std::make_error_code(std::errc::not_enough_memory);
  }

private:
  std::string text;
};

/// "37.3 GiB", "512.0 MiB", "100 bytes".
std::string formatBytes(double bytes);

/// Runs the kernel in `sharedObject`, compiled from `workload` for
/// `target`. `referenceEntry` is the workload's entry as written (before any
/// schedule), for the check. Device faults are errors; so is memory that
/// cannot be allocated (an AllocationError), never a std::bad_alloc.
llvm::Expected<ExecuteResult> executeKernel(const std::string &sharedObject,
                                            const Workload &workload,
                                            mlir::func::FuncOp referenceEntry,
                                            const LoweringTarget &target,
                                            const ExecuteOptions &options);

} // namespace hatc

#endif // HATC_MEASURE_EXECUTE_H
