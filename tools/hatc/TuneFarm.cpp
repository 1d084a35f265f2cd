//===- TuneFarm.cpp - hatc tune --farm: the ranks of an MPI job ------------===//
#include "TuneFarm.h"
#include "Commands.h"
#include "Flags.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <csignal>
#include <cstdlib>
#include <unistd.h>

namespace hatc {

void addFarmFlags(FlagParser &parser, FarmFlags &flags) {
  parser.option("--farm", &flags.mode, "mpi",
                "measure on the ranks of an MPI job (mpirun -n K hatc tune "
                "...): rank 0 searches and records, the others measure");
  parser.option("--farm-timeout", &flags.timeoutS, "SECONDS",
                "farm: seconds per candidate before a rank that does not "
                "answer is dropped (default: the worker timeouts + 60)");
  parser.option("--farm-simulate", &flags.simulateS, "SECONDS",
                "farm benches and tests: each rank's device takes SECONDS "
                "per candidate (a sleep) and answers a made-up result, "
                "recorded under the target name + '-simulated'");
  parser.option("--farm-fault", &flags.fault, "RANK:KIND",
                "farm tests: RANK's first candidate crashes its worker "
                "(worker-crash), or RANK hangs (hang) or exits (exit)");
}

namespace {

std::atomic<bool> gRankInterrupted{false};

extern "C" void onRankInterrupt(int signo) {
  if (gRankInterrupted.exchange(true))
    _exit(128 + signo); // a second signal: stop now
}

/// A farm duration flag: left out, 0 (the farm then picks its default); at
/// most 1e6 s (11 days), which the farm's timers can hold.
llvm::Expected<double> farmSeconds(const std::string &flag,
                                   const std::string &text) {
  if (text.empty())
    return 0.0;
  return parseSeconds(flag, text, {/*positive=*/false, /*max=*/1e6});
}

} // namespace

std::optional<int> startFarm(const FarmFlags &flags,
                             const CompileRequest &request, int64_t threads,
                             bool check, bool flushCache,
                             std::atomic<bool> *interrupted,
                             FarmRun &run) {
  bool farmOnly = !flags.timeoutS.empty() || !flags.simulateS.empty() ||
                  !flags.fault.empty();
  if (flags.mode.empty()) {
    if (farmOnly)
      return reportError(makeError(
          "hatc tune: --farm-timeout, --farm-simulate and --farm-fault need "
          "--farm mpi"));
    return std::nullopt;
  }
  if (flags.mode != "mpi")
    return reportError(
        makeError("hatc tune: --farm expects mpi, got '" + flags.mode + "'"));
  auto timeout = farmSeconds("--farm-timeout", flags.timeoutS);
  if (!timeout)
    return reportError(timeout.takeError());
  auto simulate = farmSeconds("--farm-simulate", flags.simulateS);
  if (!simulate)
    return reportError(simulate.takeError());
  if (!flags.fault.empty())
    if (auto fault = farm::parseFault(flags.fault); !fault)
      return reportError(fault.takeError());

  auto transport = farm::startMpiTransport();
  if (!transport)
    return reportError(transport.takeError());
  run.transport = std::move(*transport);
  farm::FarmOptions &options = run.options;
  options.timeoutS = *timeout;
  options.simulateS = *simulate;
  options.fault = flags.fault;
  options.interrupted = interrupted;
  options.measure.run.check = check;
  options.measure.run.flushCache = flushCache;
  // A fault asks the rank's worker to crash: only tests pass --farm-fault.
  options.measure.allowFaults = !flags.fault.empty();
  if (run.transport->rank() == 0) {
    // OpenMPI's mpirun hands its MCA settings to the ranks as OMPI_MCA_*.
    if (run.transport->size() > 1 && std::getenv("OMPI_COMM_WORLD_SIZE") &&
        !std::getenv("OMPI_MCA_orte_enable_recovery"))
      llvm::errs() << "hatc tune: note: mpirun without --enable-recovery: a "
                      "rank that exits stops the whole job (resumable)\n";
    return std::nullopt;
  }

  // A measuring rank: its own target (its host, its device), its own pool.
  // Ctrl-C on mpirun signals every rank; dying at once would make mpirun
  // kill rank 0 before it has said how to resume, so this rank waits for
  // rank 0's stop instead.
  options.interrupted = &gRankInterrupted;
  struct sigaction action = {};
  action.sa_handler = onRankInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  std::string spec =
      request.targetConfig.empty() ? request.targetSpec : request.targetConfig;
  std::string me =
      "hatc tune: farm rank " + std::to_string(run.transport->rank());
  auto target = resolveTarget(spec);
  if (!target) {
    // It says so and serves nothing: rank 0 drops it at its hello deadline.
    llvm::errs() << me << ": " << llvm::toString(target.takeError()) << "\n";
    return kExitUserError;
  }
  options.measure.run.threads = resolveThreads(threads, *target);
  std::unique_ptr<Measurer> local;
  if (options.simulateS > 0) {
    local = farm::makeSimulatedMeasurer(options.simulateS);
  } else {
    auto pool = makeProcessMeasurer(defaultWorkerPath(), options.measure);
    if (!pool) {
      llvm::errs() << me << ": " << llvm::toString(pool.takeError()) << "\n";
      return kExitUserError;
    }
    local = std::move(*pool);
  }
  return farm::serveFarmRank(*run.transport, *target, *local, options);
}

FarmRun::~FarmRun() {
  if (!transport || transport->rank() != 0 || measurer)
    return;
  for (int r = 1; r < transport->size(); ++r)
    transport->send(r, farm::Tag::Stop, "");
  transport->flush(10);
}

llvm::Expected<std::unique_ptr<Measurer>>
makeTuneMeasurer(FarmRun &run, const MeasureOptions &options) {
  if (!run.active())
    return makeProcessMeasurer(defaultWorkerPath(), options);
  run.options.measure = options;
  run.options.measure.allowFaults = !run.options.fault.empty();
  double simulate = run.options.simulateS;
  MeasureOptions local = run.options.measure;
  auto measurer = farm::makeFarmMeasurer(
      *run.transport, run.options,
      [simulate, local]() -> llvm::Expected<std::unique_ptr<Measurer>> {
        if (simulate > 0)
          return farm::makeSimulatedMeasurer(simulate);
        return makeProcessMeasurer(defaultWorkerPath(), local);
      });
  run.measurer = measurer.get();
  return std::unique_ptr<Measurer>(std::move(measurer));
}

void reportFarm(const FarmRun &run, double tuneSeconds, int64_t trials) {
  if (!run.measurer)
    return;
  farm::FarmStats s = run.measurer->stats();
  if (s.candidates == 0) {
    llvm::errs() << "hatc tune: farm: nothing left to measure\n";
    return;
  }
  double n = double(std::max<int64_t>(1, s.candidates));
  double between = std::max(0.0, tuneSeconds - s.measureWallS);
  llvm::errs() << llvm::formatv(
      "hatc tune: farm: {0} candidates in {1:f2} s ({2:f3}/s) on {3} "
      "measuring ranks of {4}; rank 0 per candidate: {5:f2} ms between "
      "batches, {6:f3} ms dispatching; {7} re-sent, {8} ranks dropped, {9} "
      "measured on rank 0\n",
      trials, tuneSeconds, tuneSeconds > 0 ? double(trials) / tuneSeconds : 0,
      s.measuringRanks, s.ranks, between / n * 1e3, s.dispatchS / n * 1e3,
      s.resent, s.dropped, s.local);
}

std::string resumeCommandPrefix(const FarmRun &run) {
  if (!run.active())
    return "hatc tune";
  return "mpirun -n " + std::to_string(run.transport->size()) + " hatc tune";
}

} // namespace hatc
