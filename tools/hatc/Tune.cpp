//===- Tune.cpp - hatc tune: search schedules, record, resume -------------===//
#include "Commands.h"
#include "Common.h"
#include "Flags.h"
#include "Output.h"
#include "TuneFarm.h"
#include "hatc/Lowering/Tasks.h"
#include "hatc/Frontend/Onnx.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Measure/Harness.h"
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Nesting.h"
#include "hatc/Tuner/CrossTask.h"
#include "hatc/Tuner/Tuner.h"
#include "hatc/Support/Time.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <optional>
#include <csignal>
#include <unistd.h>

namespace hatc {

namespace {

std::atomic<bool> gInterrupted{false};
/// The signal that stopped the run: it exits 128 + its number, as a shell
/// reports a process the signal killed (130 for Ctrl-C, 143 for SIGTERM).
std::atomic<int> gStopSignal{0};

extern "C" void onInterrupt(int signo) {
  if (gInterrupted.exchange(true))
    _exit(128 + signo); // a second signal: stop now
  gStopSignal = signo;
  const char ctrlC[] = "\nhatc tune: stopping after the current batch "
                       "(Ctrl-C again to quit now)\n";
  const char term[] = "\nhatc tune: SIGTERM: stopping after the current "
                      "batch (a second signal quits now)\n";
  ssize_t ignored = signo == SIGINT
                        ? write(STDERR_FILENO, ctrlC, sizeof(ctrlC) - 1)
                        : write(STDERR_FILENO, term, sizeof(term) - 1);
  (void)ignored;
}

/// The public functions with a body: each is a task.
llvm::Expected<std::vector<std::string>> entriesOf(mlir::MLIRContext &context,
                                                   const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (buffer)
    if (std::string problem = nestingProblem((*buffer)->getBuffer());
        !problem.empty())
      return makeError(path + ": " + problem);
  DiagnosticCapture capture(&context);
  // Parsed from the text read above (a file that does not read: the
  // parser's own message).
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buffer ? mlir::parseSourceString<mlir::ModuleOp>(
                   (*buffer)->getBuffer(), mlir::ParserConfig(&context), path)
             : mlir::parseSourceFile<mlir::ModuleOp>(path, &context);
  if (!module)
    return capture.takeError("");
  std::vector<std::string> names;
  for (auto func : module->getOps<mlir::func::FuncOp>())
    if (!func.isExternal() && func.isPublic())
      names.push_back(func.getSymName().str());
  return names;
}

std::string metricOf(const tuner::TaskStatus &s) {
  if (s.bestThroughput <= 0)
    return "none yet";
  if (s.bestCycles)
    return llvm::formatv("{0} cycles", *s.bestCycles).str();
  return llvm::formatv("{0:f1} GFLOP/s", s.bestThroughput).str();
}

double speedupOf(const tuner::TaskStatus &s) {
  return s.defaultThroughput > 0 ? s.bestThroughput / s.defaultThroughput : 0;
}

/// What to try when most trials of a task end with `code`.
const char *hintFor(db::ErrorCode code) {
  switch (code) {
  case db::ErrorCode::WrongAnswer:
    return "the kernels disagree with the reference; an output built on an "
           "uninitialized tensor.empty (no linalg.fill) holds garbage, so "
           "fill it first; `hatc run W --check` shows the error of the "
           "default schedule";
  case db::ErrorCode::BuildError:
  case db::ErrorCode::BuildTimeout:
    return "the schedules do not build; `hatc space W --target T --script "
           "CONFIG` prints a config's script and `hatc compile W --schedule "
           "S.mlir` shows the compiler's error";
  case db::ErrorCode::RunError:
    return "the kernels crash; `hatc run W --target T` runs the default "
           "schedule in this process, where a debugger can see it";
  case db::ErrorCode::RunTimeout:
    return "the kernels run past the worker's time limit; try a smaller "
           "shape, or more --threads";
  case db::ErrorCode::OutOfMemory:
    return "the workload's buffers do not fit the worker's memory limit; "
           "try a smaller shape";
  case db::ErrorCode::DeviceUnavailable:
    return "the target's device is not here; tune on a machine that has it";
  case db::ErrorCode::InvalidConfig:
    return "the space's configs are rejected for this target; `hatc space W "
           "--target T --sample 5` shows why";
  case db::ErrorCode::Ok:
    break;
  }
  return "";
}

/// One line: which task failed how often, its dominant error with an
/// example message, and a hint.
std::string failureSummary(const tuner::TaskStatus &s,
                           const CompileRequest &request) {
  db::ErrorCode dominant = db::ErrorCode::Ok;
  int64_t most = 0, all = 0;
  for (const auto &[code, count] : s.errorCounts) {
    all += count;
    if (count > most) {
      most = count;
      dominant = code;
    }
  }
  std::string example = s.errorExamples.count(dominant)
                            ? ": " + s.errorExamples.at(dominant)
                            : std::string();
  return llvm::formatv("hatc tune: {0} on {1}: all {2} trials failed, {3} "
                       "with {4}{5}\n  hint: {6}",
                       s.name, request.targetSpec, all, most,
                       db::errorCodeName(dominant), example, hintFor(dominant))
      .str();
}

/// One task of a model: tuned (an index into the tuner's tasks) or not,
/// with the reason.
struct ModelTaskEntry {
  ModelTask task;
  std::optional<size_t> tuned; // index among the tuner's tasks
  std::string note;            // why it is not tuned, or has no space
};

std::string millis(double seconds) {
  return llvm::formatv("{0:f3} ms", seconds * 1e3).str();
}

/// Splits the model into tasks, writes each task's standalone module into
/// `dir` (the workers load them from there) and loads the tunable ones.
/// Tasks without FLOPs, and non-GEMM tasks on hwacc (they stay on the
/// host), are listed but not tuned; a task without a sketch is measured
/// once with its default schedule (its share of the model's time).
llvm::Error loadModelTasks(const CompileRequest &request, llvm::StringRef dir,
                           int64_t threads, bool checked,
                           std::vector<ModelTaskEntry> &entries,
                           std::vector<CompileInputs> &keepAlive,
                           std::vector<tuner::TuneTask> &tasks,
                           int &kernelThreads) {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  initContext(context);
  auto model = loadWorkloadOrModel(context, request);
  if (!model)
    return model.takeError();
  auto extracted = extractTasks(*model, /*withWeights=*/true);
  if (!extracted)
    return extracted.takeError();
  for (auto [k, task] : llvm::enumerate(*extracted)) {
    ModelTaskEntry entry;
    entry.task = std::move(task);
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, "task" + std::to_string(k) + ".mlir");
    if (llvm::Error err = writeOutputFile(
            path, [&](llvm::raw_ostream &os) { os << entry.task.ir; }))
      return err;
    CompileRequest one = request;
    one.workloadPath = std::string(path);
    one.entryName = kTaskEntryName;
    one.inputShapes.clear();
    auto inputs = loadCompileInputs(one);
    if (!inputs)
      return makeError("task " + entry.task.key + ": " +
                       llvm::toString(inputs.takeError()));
    // Workers time the task with the model's weights in it, as the
    // compiled model runs it; the database keeps the form above.
    if (!entry.task.weightsIr.empty()) {
      llvm::SmallString<256> weights(dir);
      llvm::sys::path::append(weights,
                              "task" + std::to_string(k) + ".weights.mlir");
      if (llvm::Error err = writeOutputFile(weights, [&](llvm::raw_ostream &os) {
            os << entry.task.weightsIr;
          }))
        return err;
      inputs->workload.measurePath = std::string(weights);
      entry.task.weightsIr.clear();
    }
    if (entry.task.flops <= 0) {
      entry.note = "moves data only: default schedule, not tuned";
    } else if (entry.task.rowChain) {
      entry.note = "a fused row chain (softmax, layernorm): default "
                   "schedule, not tuned";
    } else if (checked && !inputs->workload.uncheckable.empty()) {
      // The workers would fail every trial (nothing to check against).
      entry.note = "the reference cannot evaluate " +
                   inputs->workload.uncheckable +
                   ": default schedule, not tuned (--no-check tunes it)";
    } else if (inputs->target.kind == TargetKind::Hwacc &&
               !isGemmLike(entry.task.anchorClass)) {
      entry.note = "runs on the host on hwacc: not tuned";
    } else {
      auto facts = spaceFactsFor(*inputs, threads);
      if (!facts)
        return facts.takeError();
      kernelThreads = int(facts->threads);
      tuner::TuneTask tuneTask;
      tuneTask.shape = tuner::analyzeWorkload(inputs->workload);
      tuneTask.facts = *facts;
      tuneTask.space =
          std::make_unique<tuner::SearchSpace>(tuneTask.shape, tuneTask.facts);
      tuneTask.weight = double(entry.task.weight);
      if (tuneTask.space->empty())
        entry.note = "no schedule space for " + entry.task.anchorOp + " on " +
                     targetKindName(inputs->target.kind) +
                     ": its default schedule is measured, not tuned";
      tuneTask.workload = std::move(inputs->workload);
      tuneTask.target = inputs->target;
      entry.tuned = tasks.size();
      tasks.push_back(std::move(tuneTask));
      keepAlive.push_back(std::move(*inputs));
    }
    entries.push_back(std::move(entry));
  }
  return llvm::Error::success();
}

} // namespace

int tuneCommand(const Args &args) {
  CompileRequest request;
  std::string dbPath, logPath, search = "xgboost", timeBudget = "0", taskDir;
  int64_t trials = 64, seed = 0, batch = 8, earlyStop = 0, threads = 0,
          confirmTop = tuner::TuneOptions().confirmTop,
          confirmMost = tuner::TuneOptions().confirmMaxMeasurements;
  bool json = false, noCheck = false, flushCache = false;
  FlagParser parser(
      "hatc tune",
      "Searches the schedule space of each public function of the workload "
      "on the target\nwith an evolutionary search guided by an XGBoost cost "
      "model. Every measured\nconfig goes into the database (and log); "
      "running the same command again resumes:\nmeasured configs are not "
      "measured again and the model is rebuilt from the database.");
  parser.positional("WORKLOAD.mlir|MODEL.onnx", &request.workloadPath,
                    "the workload, or an ONNX model");
  addTargetFlags(parser, request);
  addModelFlags(parser, request);
  parser.option("--db", &dbPath, "DB", "the tuning database (required)");
  parser.option("--trials", &trials, "N",
                "measured configs in all, those already in the database "
                "included (default 64)",
                1);
  parser.option("--log", &logPath, "L.jsonl", "also append records here");
  parser.option("--seed", &seed, "S", "one seed makes a run reproducible", 0);
  parser.option("--time-budget", &timeBudget, "SECONDS",
                "stop after this long, between batches; the first batch always "
                "runs (default: no limit)");
  parser.option("--batch", &batch, "N", "configs per measured batch (8)", 1);
  parser.option("--search", &search, "S",
                "xgboost (default), random-model (ablation) or random");
  parser.option("--early-stop", &earlyStop, "N",
                "stop after N trials without a new best (default: never)", 0);
  parser.option("--confirm", &confirmTop, "K",
                "then measure each task's best K and its default twice more, "
                "ranked by the mean of those two, slow spells left out "
                "(default " +
                    std::to_string(confirmTop) + "; 0: off)",
                0);
  parser.option("--confirm-max", &confirmMost, "M",
                "then a task's best and its default side by side until their "
                "paired lead is told apart from the noise, up to M "
                "measurements each (default " +
                    std::to_string(confirmMost) + "; 3: no more)",
                3);
  addThreadsFlag(parser, threads);
  parser.flag("--no-check", &noCheck, "skip the reference check");
  parser.flag("--flush-cache", &flushCache,
              "evict the caches before each timed run, as a model's weights "
              "are when they do not fit in the last-level cache");
  parser.flag("--json", &json, "one JSON object per task on stdout at the end");
  parser.option("--task-dir", &taskDir, "DIR",
                "a model: write its task modules here and keep them "
                "(taskK.mlir; taskK.weights.mlir, with the weights, is what "
                "the workers measure; default: a scratch folder, removed)");
  FarmFlags farmFlags;
  addFarmFlags(parser, farmFlags);
  if (auto exit = parseFlags(parser, args))
    return *exit;
  if (dbPath.empty())
    return reportError(makeError("hatc tune: missing --db DB"));
  if (llvm::Error err = refuseOutputOverInputs(
          "--log", logPath,
          {{"the workload", request.workloadPath}, {"the database", dbPath}}))
    return reportError(std::move(err));
  // Under --farm, ranks >= 1 measure for rank 0 and stop here.
  FarmRun farmRun;
  if (auto exit = startFarm(farmFlags, request, threads, !noCheck, flushCache,
                            &gInterrupted, farmRun))
    return *exit;
  // A model is split into tasks, each written to a file the workers load.
  llvm::SmallString<128> modelDir;
  auto removeModelDir = llvm::make_scope_exit([&] {
    if (!modelDir.empty())
      llvm::sys::fs::remove_directories(modelDir);
  });
  bool isModel = frontend::isOnnxModelPath(request.workloadPath);
  if (!taskDir.empty() && !isModel)
    return reportError(makeError("hatc tune: --task-dir is for a model (.onnx), "
                                 "not " + request.workloadPath));
  if (search != "xgboost" && search != "random-model" && search != "random")
    return reportError(makeError("hatc tune: --search expects xgboost, "
                                 "random-model or random, got '" +
                                 search + "'"));
  auto budget = parseSeconds("--time-budget", timeBudget);
  if (!budget)
    return reportError(budget.takeError());
  double budgetSeconds = *budget;

  // Every public function is a task (or just --entry).
  std::vector<std::string> entries = {request.entryName};
  if (isModel) {
    entries.clear();
  } else if (request.entryName.empty()) {
    mlir::MLIRContext probe;
    initContext(probe);
    auto names = entriesOf(probe, request.workloadPath);
    if (!names)
      return reportError(names.takeError());
    entries = *names;
    if (entries.empty())
      entries = {""}; // let loading report it
  }
  int kernelThreads = 1;
  // The contexts own every task's IR: declared first, destroyed last.
  std::vector<CompileInputs> keepAlive;
  std::vector<tuner::TuneTask> tasks;
  std::vector<ModelTaskEntry> modelTasks;
  if (isModel) {
    llvm::SmallString<128> dir(taskDir);
    if (taskDir.empty()) {
      // Named with the pid: one a signal left is removed by the next tune.
      auto folder = createScratchFolder("hatc-model");
      if (!folder)
        return reportError(folder.takeError());
      modelDir = *folder;
      dir = modelDir;
    } else if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
      return reportError(makeError("--task-dir " + taskDir +
                                   ": cannot create it: " + ec.message()));
    }
    if (llvm::Error err =
            loadModelTasks(request, dir, threads, !noCheck, modelTasks,
                           keepAlive,
                           tasks, kernelThreads))
      return reportError(std::move(err));
    if (!keepAlive.empty())
      if (llvm::Error err = requireDevice(keepAlive.front().target))
        return reportError(std::move(err));
    for (const ModelTaskEntry &entry : modelTasks)
      llvm::errs() << llvm::formatv("[tune] task {0} x{1}: {2}{3}\n",
                                    entry.task.key, entry.task.weight,
                                    !entry.tuned ? "not tuned"
                                    : entry.note.empty() ? "tuned"
                                                         : "default measured",
                                    entry.note.empty() ? "" : " (" + entry.note + ")");
    if (tasks.empty())
      return reportError(makeError("hatc tune: " + request.workloadPath +
                                   ": no task of the model can be measured "
                                   "on " + request.targetSpec));
  }
  for (const std::string &entry : entries) {
    CompileRequest one = request;
    one.entryName = entry;
    auto inputs = loadCompileInputs(one);
    if (!inputs)
      return reportError(inputs.takeError());
    if (llvm::Error err = requireDevice(inputs->target))
      return reportError(std::move(err));
    // The space offers only what the candidates will run with: par <=
    // threads.
    auto facts = spaceFactsFor(*inputs, threads);
    if (!facts)
      return reportError(facts.takeError());
    kernelThreads = int(facts->threads);
    tuner::TuneTask task;
    task.shape = tuner::analyzeWorkload(inputs->workload);
    task.facts = *facts;
    task.space = std::make_unique<tuner::SearchSpace>(task.shape, task.facts);
    if (task.space->empty())
      return reportError(makeError(
          "no sketch applies to " + inputs->workload.key() + " on " +
          targetKindName(inputs->target.kind) + "; nothing to tune"));
    for (const std::string &warning : inputs->workload.warnings)
      llvm::errs() << "hatc tune: warning: " << warning << "\n";
    task.workload = std::move(inputs->workload);
    task.target = inputs->target;
    tasks.push_back(std::move(task));
    keepAlive.push_back(std::move(*inputs)); // owns the MLIR context
  }

  // --farm-simulate's results are made up: they go under a target name of
  // their own, which no build, best or coordinator of the real target takes
  // (they were recorded as the target's own and became its best).
  if (farmRun.active() && farmRun.options.simulateS > 0) {
    for (tuner::TuneTask &task : tasks)
      task.target.name += "-simulated";
    llvm::errs() << "hatc tune: --farm-simulate: the results are made up; "
                    "they are recorded under the target '"
                 << tasks.front().target.name << "', which no build takes\n";
  }

  MeasureOptions measureOptions;
  measureOptions.run.threads = kernelThreads;
  measureOptions.run.check = !noCheck;
  measureOptions.run.flushCache = flushCache;
  auto measurer = makeTuneMeasurer(farmRun, measureOptions);
  if (!measurer)
    return reportError(measurer.takeError());

  // The database and log once the tasks are known to be tunable here and
  // the measurer is up (a target without its device, or a temporary folder
  // that does not exist, leaves no empty database behind); a bad path is
  // one line, and exit 1.
  std::optional<tuner::Recorder> recorder;
  try {
    recorder.emplace(dbPath, logPath);
  } catch (const std::exception &e) {
    return reportError(makeError(std::string("hatc tune: ") + e.what()));
  }

  tuner::TuneOptions options;
  options.trials = trials;
  options.timeBudgetS = budgetSeconds;
  options.seed = uint64_t(seed);
  options.batchSize = batch;
  options.search = search;
  options.earlyStop = earlyStop;
  options.confirmTop = confirmTop;
  options.confirmMaxMeasurements = confirmMost;
  // A server has no folder to keep the model next to: it is rebuilt from
  // the records at each start.
  options.modelPath = search == "xgboost" && !db::Database::isServerSpec(dbPath)
                          ? dbPath + ".model"
                          : "";
  // hatc model train's cross-task model of this kind, used when present
  // (a file next to a SQLite database; none for a server).
  if (!tasks.empty() && !db::Database::isServerSpec(dbPath))
    options.crossTaskModelPath = tuner::crossTaskModelPath(
        dbPath, targetKindName(tasks.front().target.kind));
  std::unique_ptr<cost_model::CostModel> model;
  if (search == "xgboost") {
    cost_model::XGBoostOptions xgb;
    xgb.objective = options.objective;
    xgb.seed = uint64_t(seed);
    model = cost_model::makeXGBoostModel(xgb);
  } else if (search == "random-model") {
    model = cost_model::makeRandomModel(uint64_t(seed));
  }

  tuner::Tuner tuner(std::move(tasks), **measurer, std::move(model), *recorder,
                     options);
  tuner.interrupted = &gInterrupted;
  gInterrupted = false;
  // SIGTERM (a job scheduler, `timeout`, `kill`) stops like Ctrl-C: the
  // current batch is finished and recorded, and the resume command printed.
  struct sigaction action = {}, previousInt = {}, previousTerm = {};
  gStopSignal = 0;
  action.sa_handler = onInterrupt;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &previousInt);
  sigaction(SIGTERM, &action, &previousTerm);

  bool terminal = llvm::sys::Process::StandardErrIsDisplayed();
  auto start = std::chrono::steady_clock::now();
  size_t shownTask = keepAlive.size(); // none yet (tasks moved into tuner)
  tuner.onBatch = [&](size_t t, const tuner::TaskStatus &s, int64_t done,
                      int64_t budget) {
    double elapsed = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    double eta = done > 0 ? elapsed / double(done) * double(budget - done) : 0;
    std::string speedup =
        speedupOf(s) > 0 ? llvm::formatv(" ({0:f2}x default)", speedupOf(s)).str()
                         : "";
    const Target &target = keepAlive[t].target;
    std::string task = s.name + " on " + targetKindName(target.kind) + " (" +
                       target.name + ")";
    std::string progress = llvm::formatv(
        "best {0}{1}  elapsed {2}  ETA {3}", metricOf(s), speedup,
        formatClock(elapsed), formatClock(eta));
    if (isModel) {
      size_t counted = 0;
      double estimate = tuner::estimatedLatency(tuner.progress(), &counted);
      if (counted)
        progress += "  model ~" + millis(estimate);
    }
    std::string trial = llvm::formatv("[tune] trial {0}/{1}", done, budget);
    if (!terminal) {
      llvm::errs() << trial << "  " << task << "  " << progress << "\n";
    } else {
      // The line rewritten in place must fit one row, so the task, in full,
      // gets a line of its own whenever it changes.
      if (t != shownTask)
        llvm::errs() << "\r\x1b[2K[tune] " << task << "\n";
      shownTask = t;
      llvm::errs() << "\r\x1b[2K" << trial << "  " << progress;
    }
    llvm::errs().flush();
  };
  tuner.run();
  bool anyTimed = std::any_of(
      keepAlive.begin(), keepAlive.end(), [](const auto &task) {
        return task.target.kind != TargetKind::Hwacc; // modeled: not again
      });
  if (!tuner.wasInterrupted() && confirmTop > 0 && anyTimed) {
    if (terminal)
      llvm::errs() << "\n";
    llvm::errs() << "[tune] measuring each task's best " << confirmTop
                 << " configs and its default again\n";
    tuner::ConfirmSummary confirmed = tuner.confirm();
    llvm::errs() << llvm::formatv(
        "[tune] measured {0} configs again ({1} measurements); the best "
        "changed on {2} task(s){3}\n",
        confirmed.configs, confirmed.measurements, confirmed.bestChanged,
        confirmed.failed
            ? llvm::formatv("; {0} config(s) failed and are out",
                            confirmed.failed)
                  .str()
            : std::string());
    if (confirmed.noisyTasks)
      llvm::errs() << llvm::formatv(
          "[tune] measurements here vary by {0:F1}% (one config's, measured "
          "again); {1} task(s) had their best measured side by side with "
          "the default, up to {2} times, and ranked by their paired lead; on "
          "{3} that lead stayed within its noise\n",
          confirmed.noise * 100, confirmed.noisyTasks, confirmMost,
          confirmed.unresolved);
  }
  reportFarm(farmRun,
             std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                           start)
                 .count(),
             tuner.trialsDone());
  sigaction(SIGINT, &previousInt, nullptr);
  sigaction(SIGTERM, &previousTerm, nullptr);
  recorder->close();
  if (terminal)
    llvm::errs() << "\n";

  if (isModel) {
    // One summary: each task with its weight and latencies, and the
    // model's estimated end-to-end latency before and after.
    std::vector<tuner::TaskProgress> progress = tuner.progress();
    size_t counted = 0;
    double after = tuner::estimatedLatency(progress, &counted);
    double before = tuner::estimatedDefaultLatency(progress);
    nlohmann::json taskList = nlohmann::json::array();
    for (const ModelTaskEntry &entry : modelTasks) {
      nlohmann::json item = {{"workload", entry.task.key},
                             {"hash", entry.task.hash},
                             {"weight", entry.task.weight},
                             {"anchor", entry.task.anchorOp},
                             {"tuned", bool(entry.tuned)},
                             {"note", entry.note}};
      std::string line = llvm::formatv("  {0} x{1}", entry.task.key,
                                       entry.task.weight);
      if (entry.tuned) {
        const tuner::TaskStatus &s = tuner.status()[*entry.tuned];
        const tuner::TaskProgress &p = progress[*entry.tuned];
        item["trials"] = s.trials;
        item["existing"] = s.existing;
        item["best_gflops"] = s.bestThroughput;
        item["default_gflops"] = s.defaultThroughput;
        item["speedup"] = speedupOf(s);
        item["best_config"] = s.bestConfig;
        if (auto latency = p.bestLatency())
          item["best_latency_s"] = *latency;
        if (auto latency = p.defaultLatency())
          item["default_latency_s"] = *latency;
        item["failed"] = s.bestThroughput <= 0 && s.trials + s.existing > 0;
        item["builds_default"] = p.defaultBuilt();
        line += llvm::formatv(": {0} trials, best {1}", s.trials + s.existing,
                              metricOf(s));
        if (speedupOf(s) > 0)
          line += llvm::formatv(" ({0:f2}x default)", speedupOf(s));
        if (auto latency = p.bestLatency())
          line += ", " + millis(*latency) + " each";
        if (p.defaultBuilt() && speedupOf(s) > 1)
          line += llvm::formatv(", within {0}% of the default: a build "
                                "takes the default",
                                int(db::kTunedMargin * 100));
      }
      if (!entry.note.empty())
        line += "  [" + entry.note + "]";
      taskList.push_back(item);
      if (!json)
        llvm::outs() << line << "\n";
    }
    if (json) {
      nlohmann::json out = {{"model", request.workloadPath},
                            {"target", request.targetSpec},
                            {"tasks", taskList},
                            {"trials", tuner.trialsDone()},
                            {"estimated_latency_s", after},
                            {"default_latency_s", before},
                            {"speedup", after > 0 ? before / after : 0.0},
                            {"tasks_timed", counted},
                            {"interrupted", tuner.wasInterrupted()},
                            {"time_budget_spent", tuner.ranOutOfTime()}};
      llvm::outs() << out.dump() << "\n";
    } else {
      llvm::outs() << llvm::formatv(
          "{0}: estimated end-to-end {1} (default schedules {2}, {3:f2}x) "
          "over the {4} timed tasks\n",
          request.workloadPath, millis(after), millis(before),
          after > 0 ? before / after : 0.0, counted);
    }
  }

  for (const tuner::TaskStatus &s : tuner.status()) {
    if (isModel)
      break; // summarized above
    if (json) {
      nlohmann::json out = {{"workload", s.name},
                            {"target", request.targetSpec},
                            {"trials", s.trials},
                            {"existing", s.existing},
                            {"concurrent", s.concurrent},
                            {"best_gflops", s.bestThroughput},
                            {"default_gflops", s.defaultThroughput},
                            {"speedup", speedupOf(s)},
                            {"best_config", s.bestConfig},
                            {"interrupted", tuner.wasInterrupted()},
                            {"time_budget_spent", tuner.ranOutOfTime()}};
      nlohmann::json errors = nlohmann::json::object();
      for (const auto &[code, count] : s.errorCounts)
        errors[db::errorCodeName(code)] = count;
      out["errors"] = errors;
      out["failed"] = s.bestThroughput <= 0 && s.trials + s.existing > 0;
      if (s.bestCycles)
        out["best_cycles"] = *s.bestCycles;
      if (s.defaultCycles)
        out["default_cycles"] = *s.defaultCycles;
      llvm::outs() << out.dump() << "\n";
      continue;
    }
    if (s.bestThroughput <= 0)
      continue; // no result: the failure summary on stderr says why
    llvm::outs() << llvm::formatv(
        "{0}: best {1} ({2:f2}x the default schedule) after {3} trials{4}\n"
        "  {5}\n",
        s.name, metricOf(s), speedupOf(s), s.trials + s.existing,
        s.existing
            ? llvm::formatv(" ({0} from earlier runs{1})", s.existing,
                            s.concurrent ? llvm::formatv(" or other sessions "
                                                         "meanwhile: {0}",
                                                         s.concurrent)
                                               .str()
                                         : std::string())
                  .str()
            : std::string(),
        s.bestConfig.dump());
  }
  // A task none of whose trials worked has no result: say what went wrong
  // instead of printing a best of 0.
  bool anyFailed = false;
  for (const tuner::TaskStatus &s : tuner.status()) {
    if (s.bestThroughput > 0 || s.trials + s.existing == 0)
      continue;
    anyFailed = true;
    llvm::errs() << failureSummary(s, request) << "\n";
  }
  if (tuner.ranOutOfTime())
    llvm::errs() << "hatc tune: the time budget (" << timeBudget
                 << " s) ran out after " << tuner.trialsDone()
                 << " trials of this run; running again goes on from "
                 << db::Database::displayName(dbPath) << "\n";
  if (tuner.wasInterrupted()) {
    std::string command = resumeCommandPrefix(farmRun);
    for (const std::string &a : args)
      command += " " + a;
    llvm::errs() << "hatc tune: interrupted after " << tuner.trialsDone()
                 << " trials; everything measured is in "
                 << db::Database::displayName(dbPath)
                 << ". Resume with:\n  " << command << "\n";
    return 128 + (gStopSignal ? gStopSignal.load() : SIGINT);
  }
  return anyFailed ? kExitUserError : kExitOk;
}

} // namespace hatc
