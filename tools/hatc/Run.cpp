//===- Run.cpp - hatc run: compile, run, time and check a workload --------===//
#include "Commands.h"
#include "Common.h"
#include "Flags.h"
#include "ModelIo.h"
#include "Output.h"
#include "hatc/Lowering/CodeGen.h"
#include "hatc/Lowering/Compiler.h"
#include "hatc/Measure/Execute.h"
#include "hatc/Measure/Harness.h"
#include "hatc/Runtime/Cuda.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Time.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unistd.h>

namespace hatc {

namespace {

/// `hatc run`'s scratch folders: "hatc-run-<pid>-<random>".
constexpr const char *kRunScratchPrefix = "hatc-run";

/// Removes the kernel's scratch folder however run() returns.
struct ScratchDir {
  llvm::SmallString<128> path;
  ~ScratchDir() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
};

} // namespace

int runCommand(const Args &args) {
  CompileRequest request;
  int64_t repeat = 10, warmup = 1, seed = 0, threads = 0,
          warmupMs = int64_t(kWarmupSeconds * 1000);
  bool check = false, json = false, flushCache = false, lockstep = false;
  std::string inputsDir, expectDir, saveDir, rtolText = "1e-3",
                                               atolText = "1e-4";
  FlagParser parser("hatc run",
                    "Compiles the workload (or ONNX model) for the target, "
                    "runs it on inputs from a\nseeded RNG (or --inputs DIR), "
                    "reports the median time and GFLOP/s and, with\n--check, "
                    "the error against an independent reference (OpenBLAS / "
                    "plain loops),\nwith --expect DIR against expected "
                    "outputs.");
  parser.positional("WORKLOAD.mlir|MODEL.onnx", &request.workloadPath,
                    "linalg ops on tensors in one entry function, or an ONNX "
                    "model");
  addCompileFlags(parser, request);
  parser.flag("--check", &check, "compare the outputs with the reference");
  parser.option("--inputs", &inputsDir, "DIR",
                "read the inputs from input_N.pb / .npy files instead of a "
                "seeded RNG (a model's dims left open take the files' "
                "shapes)");
  parser.option("--expect", &expectDir, "DIR",
                "compare the outputs with output_N.pb / .npy files (exit 2 "
                "on a mismatch)");
  parser.option("--rtol", &rtolText, "R", "--expect's relative tolerance "
                                          "(default 1e-3)");
  parser.option("--atol", &atolText, "A", "--expect's absolute tolerance "
                                          "(default 1e-4)");
  parser.option("--save-outputs", &saveDir, "DIR",
                "write the outputs as output_N.npy");
  parser.option("--repeat", &repeat, "N", "timed runs (default 10)", 1);
  parser.option("--warmup", &warmup, "N", "untimed runs first (default 1)", 0);
  parser.option("--warmup-ms", &warmupMs, "MS",
                "and more untimed runs until MS milliseconds have passed "
                "(default " + std::to_string(int(kWarmupSeconds * 1000)) +
                    "; 0 with --warmup 0)",
                0);
  parser.flag("--flush-cache", &flushCache,
              "evict the caches before each timed run (a 64 MiB write), as "
              "a model's weights are when they do not fit in the "
              "last-level cache");
  parser.flag("--lockstep", &lockstep,
              "time one run per line read on stdin instead of --repeat "
              "runs: prints 'ready' after the warm-up and each run's "
              "seconds, and ends at the end of input (for benches that take "
              "turns with other programs, bench/model_perf.py); with --json "
              "the result object follows these lines");
  addThreadsFlag(parser, threads);
  parser.option("--seed", &seed, "S", "input RNG seed (default 0)", 0);
  parser.flag("--json", &json, "print one JSON object on stdout");
  if (auto exit = parseFlags(parser, args))
    return *exit;
  // A folder flag given as '' was ignored: `--save-outputs ''` saved nothing.
  for (auto [flag, value] :
       {std::pair<const char *, const std::string *>{"--inputs", &inputsDir},
        {"--expect", &expectDir},
        {"--save-outputs", &saveDir}})
    if (parser.given(flag) && value->empty())
      return reportError(makeError(std::string(flag) +
                                   ": expects a folder, got ''"));

  if (lockstep && parser.given("--repeat"))
    return reportError(makeError("--lockstep times one run per line of "
                                 "input: drop --repeat"));
  request.inputsDir = inputsDir;
  auto rtol = parseNonNegative("--rtol", rtolText);
  if (!rtol)
    return reportError(rtol.takeError());
  auto atol = parseNonNegative("--atol", atolText);
  if (!atol)
    return reportError(atol.takeError());
  auto compileLimit = compileTimeoutSeconds(request);
  if (!compileLimit)
    return reportError(compileLimit.takeError());
  // Loading applies nothing yet, but a huge workload parses slowly too: the
  // limit covers everything up to a loadable kernel.
  std::optional<CompileWatchdog> watchdog;
  watchdog.emplace(*compileLimit, "compiling " + request.workloadPath +
                                      " for " + request.targetSpec);
  request.threads = threads;
  auto inputs = loadCompileInputs(request);
  if (!inputs)
    return reportError(inputs.takeError());
  if (llvm::Error err = requireDevice(inputs->target))
    return reportError(std::move(err));
  if (lockstep && inputs->target.kind == TargetKind::Hwacc)
    return reportError(makeError(
        "--lockstep: an hwacc run is modeled, not timed on the host"));
  threads = resolveThreads(threads, inputs->target);
  Workload &workload = inputs->workload;
  // The reference reads the workload as written, before any schedule.
  mlir::OwningOpRef<mlir::ModuleOp> original = workload.module->clone();

  // Named with this process's pid: a run stopped by a signal leaves its
  // folder (kernels), and the next run removes it once the pid is gone.
  auto folder = createScratchFolder(kRunScratchPrefix);
  if (!folder)
    return reportError(folder.takeError());
  ScratchDir scratch;
  scratch.path = *folder;
  watchdog->setScratchDir(std::string(scratch.path));
  auto compileStart = std::chrono::steady_clock::now();
  auto sharedObject =
      compileToSharedObject(workload, inputs->schedule.get(), scratch.path,
                            "kernel", inputs->lowering);
  if (!sharedObject)
    return reportError(sharedObject.takeError());
  double compileSeconds = secondsSince(compileStart);
  watchdog.reset(); // the run has no limit here: --repeat is the user's call

  ExecuteOptions options;
  options.threads = int(threads);
  options.seed = uint64_t(seed);
  options.check = check;
  options.warmup = warmup;
  // --warmup 0 alone asks for no warm-up at all.
  options.warmupSeconds =
      warmup == 0 && !parser.given("--warmup-ms") ? 0 : double(warmupMs) / 1000;
  options.minRepeat = options.maxRepeat = repeat;
  options.flushCache = flushCache;
  if (lockstep) {
    bool announced = false;
    options.awaitTurn = [&announced] {
      if (!announced)
        llvm::outs() << "ready\n";
      announced = true;
      llvm::outs().flush();
      std::string line;
      return bool(std::getline(std::cin, line));
    };
    options.afterTimedRun = [](double seconds) {
      llvm::outs() << llvm::formatv("{0:e6}\n", seconds);
      llvm::outs().flush();
    };
  }
  std::vector<HostBuffer> givenInputs, outputs;
  if (!inputsDir.empty()) {
    auto read =
        readInputTensors(inputsDir, workload, inputs->specializedInputs);
    if (!read)
      return reportError(read.takeError());
    givenInputs = std::move(*read);
    options.inputs = &givenInputs;
  }
  if (!expectDir.empty() || !saveDir.empty())
    options.outputs = &outputs;
  auto executed = executeKernel(
      *sharedObject, workload,
      (*original).lookupSymbol<mlir::func::FuncOp>(workload.entryName),
      inputs->lowering, options);
  if (!executed)
    return reportError(executed.takeError());
  if (!saveDir.empty())
    if (llvm::Error err = saveOutputTensors(saveDir, outputs))
      return reportError(std::move(err));
  std::vector<OutputComparison> comparisons;
  if (!expectDir.empty()) {
    auto compared = compareWithExpected(expectDir, outputs, *rtol, *atol);
    if (!compared)
      return reportError(compared.takeError());
    comparisons = std::move(*compared);
  }
  bool expectedOk = llvm::all_of(
      comparisons, [](const OutputComparison &c) { return c.correct(); });
  const TimingStats &stats = executed->timing;
  const std::optional<CheckResult> &checkResult = executed->check;
  const std::optional<HwaccStats> &hwaccStats = executed->hwacc;
  const HwaccParams &hw = inputs->lowering.hwacc.params;
  double modeledSeconds = executed->modeledSeconds;
  double gflops = executed->gflops;
  // The schedule's cycles, the number the text, --json and the tuner's
  // records (hatc-worker) all report: device cycles plus the GEMMs the
  // schedule kept on the host, at the device clock
  // (HwaccStats::scheduleCycles).
  std::optional<int64_t> cycles;
  if (hwaccStats)
    cycles = hwaccStats->scheduleCycles(hw.clockGHz);

  if (json) {
    nlohmann::json out = {
        {"workload", workload.key()},
        {"file", workload.path},
        {"entry", workload.entryName},
        {"target", targetKindName(inputs->target.kind)},
        {"target_name", inputs->target.name},
        {"cpu", HostCpu::get().cpuName},
        {"gpu", inputs->target.kind == TargetKind::Gpu && cuda::deviceInfo()
                    ? nlohmann::json(cuda::deviceInfo()->name)
                    : nlohmann::json()},
        {"schedule", inputs->scheduleName},
        {"threads", threads},
        {"repeat", int64_t(stats.count)},
        {"warmup_runs", executed->warmupRuns},
        {"flush_cache", executed->flushedCaches},
        {"median_s", hwaccStats ? executed->seconds : stats.median},
        {"min_s", hwaccStats ? executed->seconds : stats.min},
        {"cv", hwaccStats ? 0.0 : stats.cv},
        {"host_s", stats.median},
        {"flops", workload.flops()},
        {"gflops", gflops},
        {"compile_s", compileSeconds},
        {"checked", check},
    };
    if (!expectDir.empty()) {
      nlohmann::json list = nlohmann::json::array();
      for (const OutputComparison &c : comparisons)
        list.push_back({{"file", c.file},
                        {"correct", c.correct()},
                        {"mismatches", c.mismatches},
                        {"elements", c.elements},
                        {"max_abs_err", c.maxAbsErr},
                        {"max_rel_err", c.maxRelErr},
                        {"problem", c.problem}});
      out["expected"] = list;
      out["expected_ok"] = expectedOk;
    }
    if (hwaccStats) {
      nlohmann::json device = hwaccStats->toJson(hw.dim, hw.clockGHz);
      // As in measured records: kept GEMMs' host work included at the
      // device clock; workload_* include all host work.
      out["cycles"] = *cycles;
      out["workload_cycles"] = hwaccStats->workloadCycles(hw.clockGHz);
      out["workload_s"] = executed->workloadSeconds;
      out["kept_host_s"] = hwaccStats->keptHostSeconds;
      out["utilization"] = hwaccStats->utilization(hw.dim);
      out["dma_bytes"] = hwaccStats->dmaBytesIn + hwaccStats->dmaBytesOut;
      out["modeled_s"] = modeledSeconds;
      out["host_ops_s"] = hwaccStats->hostSeconds;
      out["device"] = device;
      out["hwacc_config"] = {
          {"tile", inputs->lowering.hwacc.tile},
          {"dataflow", inputs->lowering.hwacc.dataflow},
          {"loop_order", inputs->lowering.hwacc.loopOrder},
          {"double_buffer", inputs->lowering.hwacc.doubleBuffer}};
    }
    if (checkResult) {
      out["max_rel_err"] = checkResult->maxRelErr;
      out["max_abs_err"] = checkResult->maxAbsErr;
      out["nan_count"] = checkResult->nanCount;
      out["correct"] = checkResult->correct;
    }
    llvm::outs() << out.dump() << "\n";
  } else {
    // A model's key joins every op's: its first ops and a count instead
    // (--json keeps the whole key).
    std::string key = workload.key();
    if (workload.tasks.size() > 4)
      key = llvm::formatv("{0} ops: {1}+{2}+... (structural hash {3})",
                          workload.tasks.size(), workload.tasks[0].key,
                          workload.tasks[1].key, workload.hash())
                .str();
    llvm::outs() << llvm::formatv("workload  {0}\n          ({1} @{2})\n",
                                  key, workload.path, workload.entryName);
    if (hwaccStats) {
      llvm::outs() << llvm::formatv(
          "target    hwacc ({0}, {1}x{1} PEs, {2} GHz)\n",
          inputs->target.name, hw.dim, hw.clockGHz);
      llvm::outs() << "schedule  " << inputs->scheduleName << "\n";
      llvm::outs() << llvm::formatv(
          "cycles    {0} = device {1} + kept on host {2} ({3} at {4} GHz)\n",
          *cycles, hwaccStats->totalCycles, *cycles - hwaccStats->totalCycles,
          formatSeconds(executed->seconds), hw.clockGHz);
      llvm::outs() << llvm::formatv(
          "device    {0} modeled (compute {1} cycles, utilization {2:f1}%)\n",
          formatSeconds(modeledSeconds), hwaccStats->computeCycles,
          100 * hwaccStats->utilization(hw.dim));
      if (hwaccStats->hostSeconds > 0)
        llvm::outs() << llvm::formatv(
            "host ops  {0} (ops left on the host, measured; workload {1})\n",
            formatSeconds(hwaccStats->hostSeconds),
            formatSeconds(executed->workloadSeconds));
      llvm::outs() << llvm::formatv("dma       {0} bytes in, {1} bytes out\n",
                                    hwaccStats->dmaBytesIn,
                                    hwaccStats->dmaBytesOut);
      llvm::outs() << llvm::formatv("speed     {0:f2} GFLOP/s (modeled)\n",
                                    gflops);
    } else {
      if (auto gpu = inputs->target.kind == TargetKind::Gpu
                         ? cuda::deviceInfo()
                         : std::nullopt)
        llvm::outs() << llvm::formatv(
            "target    gpu ({0}, {1}, {2} SMs; PTX for {3}; CUDA events)\n",
            gpu->name, gpu->chip(), gpu->multiprocessors,
            inputs->lowering.gpu.chip);
      else
        llvm::outs() << llvm::formatv("target    {0} ({1}, {2} threads)\n",
                                      targetKindName(inputs->target.kind),
                                      HostCpu::get().cpuName, threads);
      llvm::outs() << "schedule  " << inputs->scheduleName << "\n";
      llvm::outs() << llvm::formatv(
          "time      median {0}  (min {1}, cv {2:f1}%, {3} runs; compile "
          "{4})\n",
          formatSeconds(stats.median), formatSeconds(stats.min),
          stats.cv * 100, stats.count, formatSeconds(compileSeconds));
      llvm::outs() << llvm::formatv("speed     {0:f2} GFLOP/s\n", gflops);
    }
    if (checkResult)
      llvm::outs() << llvm::formatv("check     {0} (max rel err {1:e2}{2})\n",
                                    checkResult->correct ? "correct" : "WRONG",
                                    checkResult->maxRelErr,
                                    checkResult->nanCount
                                        ? llvm::formatv(", {0} NaN",
                                                        checkResult->nanCount)
                                              .str()
                                        : std::string());
    for (const OutputComparison &c : comparisons)
      llvm::outs() << llvm::formatv(
          "expect    {0}: {1}\n", llvm::sys::path::filename(c.file),
          !c.problem.empty()
              ? "WRONG (" + c.problem + ")"
              : llvm::formatv("{0} (max abs err {1:e2}, max rel err {2:e2}, "
                              "{3} of {4} outside rtol {5} atol {6})",
                              c.correct() ? "correct" : "WRONG", c.maxAbsErr,
                              c.maxRelErr, c.mismatches, c.elements, rtolText,
                              atolText)
                    .str());
  }
  llvm::outs().flush();
  if (!expectedOk) {
    llvm::errs() << "hatc: error: outputs differ from " << expectDir << "\n";
    return kExitCheckFailed;
  }
  if (checkResult && !checkResult->correct) {
    llvm::errs() << llvm::formatv("hatc: error: result check failed: max "
                                  "rel err {0:e2} (tolerance {1:e1})\n",
                                  checkResult->maxRelErr,
                                  defaultTolerance(workload.outputs[0].kind));
    for (const std::string &warning : workload.warnings)
      llvm::errs() << "  likely cause: " << warning << "\n";
    return kExitCheckFailed;
  }
  return kExitOk;
}

int reportError(llvm::Error err) {
  llvm::outs().flush();
  llvm::errs() << "hatc: error: " << errorMessage(std::move(err)) << "\n";
  return kExitUserError;
}

} // namespace hatc
