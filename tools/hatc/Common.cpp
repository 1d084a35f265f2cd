//===- Common.cpp - Pieces shared by hatc's subcommands -------------------===//
#include "Common.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "hatc/Frontend/Onnx.h"
#include "hatc/Frontend/TensorFiles.h"
#include "Commands.h"
#include "Flags.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/GraphPipeline.h"
#include "hatc/Runtime/Cuda.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Lowering/Tasks.h"
#include "hatc/Db/Database.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Nesting.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace hatc {

void addTargetFlags(FlagParser &parser, CompileRequest &request) {
  parser.option("--target", &request.targetSpec, "T",
                "cpu (default), hwacc, gpu, or a target .json");
  parser.option("--target-config", &request.targetConfig, "F.json",
                "target description (overrides --target)");
  parser.option("--entry", &request.entryName, "NAME",
                "entry function when the file has several");
}

void addModelFlags(FlagParser &parser, CompileRequest &request) {
  parser.repeated("--input-shape", &request.inputShapes, "NAME=D0,D1,...",
                  "an ONNX model input's shape (fixes dynamic dims; "
                  "repeatable)");
  parser.flag("--no-graph-opt", &request.noGraphOpt,
              "run a model as imported (no constant folding, fusion or "
              "dead-code removal)");
}

llvm::Expected<Workload>
loadWorkloadOrModel(mlir::MLIRContext &context, const CompileRequest &request,
                    std::vector<size_t> *specialized) {
  if (!frontend::isOnnxModelPath(request.workloadPath)) {
    if (!request.inputShapes.empty())
      return makeError("--input-shape applies to ONNX models (.onnx); " +
                       request.workloadPath + " is MLIR");
    return loadWorkload(context, request.workloadPath, request.entryName);
  }
  frontend::ImportOptions options;
  for (const std::string &text : request.inputShapes) {
    auto shape = frontend::parseInputShape(text);
    if (!shape)
      return shape.takeError();
    options.inputShapes.push_back(std::move(*shape));
  }
  // Dims the model leaves open take the shapes of the --inputs files;
  // inputs an op needs at import time take their values (below).
  if (!request.inputsDir.empty()) {
    auto files = frontend::tensorFilesIn(request.inputsDir, "input");
    if (!files)
      return files.takeError();
    options.inputFiles = std::move(*files);
  }
  auto module = frontend::importOnnxModel(context, request.workloadPath,
                                          options);
  // Inputs an op needs at import time: specialize for the values given.
  std::vector<size_t> positions;
  for (int attempt = 0; !module && !request.inputsDir.empty(); ++attempt) {
    std::vector<std::pair<std::string, size_t>> wanted;
    llvm::Error rest = llvm::handleErrors(
        module.takeError(), [&](const frontend::NeedsInputValues &needs) {
          wanted = needs.inputs;
          return llvm::make_error<frontend::NeedsInputValues>(needs.inputs,
                                                              needs.message);
        });
    if (wanted.empty() || attempt > 64)
      return std::move(rest);
    for (auto &[name, position] : wanted) {
      if (position >= options.inputFiles.size())
        return std::move(rest);
      options.inputValues.emplace_back(name, options.inputFiles[position]);
      positions.push_back(position);
    }
    llvm::consumeError(std::move(rest));
    module = frontend::importOnnxModel(context, request.workloadPath, options);
  }
  if (!module)
    return module.takeError();
  auto target = resolveTarget(request.targetConfig.empty()
                                  ? request.targetSpec
                                  : request.targetConfig);
  if (!target)
    return target.takeError();
  if (!request.noGraphOpt &&
      mlir::failed(runGraphPipeline(**module, graphOptionsFor(target->kind))))
    return makeError(request.workloadPath +
                     ": graph optimization failed (--no-graph-opt skips it)");
  if (specialized)
    *specialized = positions;
  return workloadFromModule(std::move(*module), request.workloadPath,
                            request.entryName);
}

llvm::Expected<std::string> importModelToFile(const CompileRequest &request,
                                              llvm::StringRef dir) {
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  initContext(context);
  auto workload = loadWorkloadOrModel(context, request);
  if (!workload)
    return workload.takeError();
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path,
                          llvm::sys::path::stem(request.workloadPath) + ".mlir");
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return makeError("cannot write " + path + ": " + ec.message());
  workload->module->print(os);
  os.close();
  if (os.has_error())
    return makeError("cannot write " + path + ": " + os.error().message());
  return std::string(path);
}

void addCompileFlags(FlagParser &parser, CompileRequest &request) {
  addTargetFlags(parser, request);
  addModelFlags(parser, request);
  parser.option("--schedule", &request.schedulePath, "S.mlir",
                "transform-dialect script (@__transform_main); default: the "
                "built-in one\n"
                "                          (see hatc compile --emit schedule)");
  parser.option("--db", &request.dbPath, "DB",
                "use each task's best tuned schedule in DB (the default "
                "schedule on a miss)");
  parser.flag("--allow-stale", &request.allowStale,
              "with --db: a task without a record of this hatc and "
              "machine takes its best of another");
  parser.option("--config", &request.configPath, "C.json",
                "hwacc knobs: tile, dataflow, loop_order, double_buffer");
  parser.option("--compile-timeout", &request.compileTimeout, "SEC",
                "give up compiling after SEC seconds with BUILD_TIMEOUT "
                "(default 300; 0: no limit)");
}

llvm::Expected<double> compileTimeoutSeconds(const CompileRequest &request) {
  return parseSeconds("--compile-timeout", request.compileTimeout);
}

struct CompileWatchdog::State {
  std::mutex mutex;
  std::condition_variable wake;
  bool disarmed = false;
  std::string message;
  std::string scratchDir;
  std::thread thread;
};

CompileWatchdog::CompileWatchdog(double limitS, std::string what,
                                 std::string scratchDir) {
  if (limitS <= 0)
    return;
  state = std::make_unique<State>();
  char limit[32];
  std::snprintf(limit, sizeof(limit), "%g s", limitS);
  state->message = "hatc: error: BUILD_TIMEOUT: " + what +
                   " took longer than " + limit + " (--compile-timeout)\n";
  state->scratchDir = std::move(scratchDir);
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::duration<double>(limitS));
  State *shared = state.get();
  state->thread = std::thread([shared, deadline] {
    std::unique_lock<std::mutex> lock(shared->mutex);
    if (shared->wake.wait_until(lock, deadline,
                                [shared] { return shared->disarmed; }))
      return;
    // Whatever the compiling thread prints after this is cut off by the
    // exit; ours is the last word.
    llvm::outs().flush();
    if (!shared->scratchDir.empty())
      llvm::sys::fs::remove_directories(shared->scratchDir);
    ssize_t ignored =
        ::write(2, shared->message.data(), shared->message.size());
    (void)ignored;
    ::_exit(kExitUserError);
  });
}

void CompileWatchdog::setScratchDir(std::string dir) {
  if (!state)
    return;
  std::lock_guard<std::mutex> lock(state->mutex);
  state->scratchDir = std::move(dir);
}

CompileWatchdog::~CompileWatchdog() {
  if (!state)
    return;
  {
    std::lock_guard<std::mutex> lock(state->mutex);
    state->disarmed = true;
  }
  state->wake.notify_one();
  state->thread.join();
}

void addThreadsFlag(FlagParser &parser, int64_t &threads) {
  parser.option("--threads", &threads, "N",
                "kernel threads (default: the target's \"threads\", else "
                "one per core: " +
                    std::to_string(hostCores()) + ")",
                1, kMaxThreads);
}

std::optional<int> parseFlags(FlagParser &parser, const Args &args) {
  if (llvm::Error err = parser.parse(args))
    return reportError(std::move(err));
  if (parser.helpRequested()) {
    llvm::outs() << parser.usage();
    return kExitOk;
  }
  return std::nullopt;
}

llvm::Error refuseModel(llvm::StringRef command, llvm::StringRef path,
                        llvm::StringRef whatInstead) {
  if (!frontend::isOnnxModelPath(path))
    return llvm::Error::success();
  return makeError(("hatc " + command + ": " + path + " is a model; " +
                    command + " takes one workload (.mlir): " + whatInstead)
                       .str());
}

llvm::Error requireDevice(const Target &target) {
  if (target.kind != TargetKind::Gpu)
    return llvm::Error::success();
  if (auto reason = cuda::unavailableReason())
    return makeError("DEVICE_UNAVAILABLE: " + *reason +
                     " (hatc compile --target gpu --emit ptx works without "
                     "one)");
  return llvm::Error::success();
}

llvm::Expected<CompileInputs> loadCompileInputs(const CompileRequest &request) {
  CompileInputs inputs;
  std::string targetSpec =
      request.targetConfig.empty() ? request.targetSpec : request.targetConfig;
  auto target = resolveTarget(targetSpec);
  if (!target)
    return target.takeError();
  inputs.target = std::move(*target);
  nlohmann::json knobs;
  if (!request.configPath.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(request.configPath, true);
    if (!buffer)
      return makeError(request.configPath + ": cannot read: " +
                       buffer.getError().message());
    if (std::string problem = nestingProblem((*buffer)->getBuffer());
        !problem.empty())
      return makeError(request.configPath + ": " + problem);
    knobs = nlohmann::json::parse((*buffer)->getBuffer().begin(),
                                  (*buffer)->getBuffer().end(), nullptr,
                                  /*allow_exceptions=*/false);
    if (knobs.is_discarded())
      return makeError(request.configPath + ": not valid JSON");
    if (knobs.is_null())
      knobs = nlohmann::json::object(); // given, if empty
  }
  auto lowering = loweringTargetFor(
      inputs.target,
      inputs.target.path.empty() ? inputs.target.name : inputs.target.path,
      knobs, request.configPath);
  if (!lowering)
    return lowering.takeError();
  inputs.lowering = std::move(*lowering);

  inputs.context = std::make_unique<mlir::MLIRContext>(
      mlir::MLIRContext::Threading::DISABLED);
  initContext(*inputs.context);
  auto workload = loadWorkloadOrModel(*inputs.context, request,
                                      &inputs.specializedInputs);
  if (!workload)
    return workload.takeError();
  inputs.workload = std::move(*workload);
  if (request.allowStale && request.dbPath.empty())
    return makeError("--allow-stale chooses among a database's records; "
                     "give --db DB");
  if (!request.dbPath.empty()) {
    if (!request.schedulePath.empty())
      return makeError("--schedule and --db both choose the schedule; give "
                       "one");
    std::unique_ptr<db::Database> database;
    try {
      db::OpenOptions options;
      options.readOnly = true;
      database = db::Database::open(request.dbPath, options);
    } catch (const std::exception &e) {
      return makeError(e.what());
    }
    auto tuned = modelScheduleFor(
        inputs.workload, database.get(), inputs.target, request.allowStale,
        resolveThreads(request.threads, inputs.target));
    if (!tuned)
      return tuned.takeError();
    for (size_t t = 0; t < tuned->tasks.size(); ++t)
      llvm::errs() << "hatc: task " << tuned->tasks[t].key << " x"
                   << tuned->tasks[t].weight << ": " << tuned->sources[t]
                   << (tuned->notes[t].empty() ? "" : " (" + tuned->notes[t] + ")")
                   << "\n";
    inputs.scheduleText = std::move(tuned->script);
    size_t fromDb = llvm::count_if(tuned->sources, [](const std::string &s) {
      return llvm::StringRef(s).starts_with("db");
    });
    std::string dbName = db::Database::displayName(request.dbPath);
    inputs.scheduleName =
        fromDb == 0
            ? "default schedules (no task takes a record of " + dbName + ")"
            : llvm::formatv("from {0} ({1} of {2} tasks)", dbName, fromDb,
                            tuned->sources.size())
                  .str();
    auto schedule = parseSchedule(*inputs.context, inputs.scheduleText,
                                  "<model schedule>");
    if (!schedule)
      return schedule.takeError();
    inputs.schedule = std::move(*schedule);
    return inputs;
  }
  if (request.schedulePath.empty()) {
    auto text = defaultScheduleFor(inputs.workload, inputs.target.kind,
                                   resolveThreads(request.threads,
                                                  inputs.target));
    if (!text)
      return text.takeError();
    inputs.scheduleText = std::move(*text);
    auto schedule = parseSchedule(*inputs.context, inputs.scheduleText,
                                  "<default schedule>");
    if (!schedule)
      return schedule.takeError();
    inputs.schedule = std::move(*schedule);
    return inputs;
  }
  auto schedule = loadSchedule(*inputs.context, request.schedulePath);
  if (!schedule)
    return schedule.takeError();
  inputs.schedule = std::move(*schedule);
  inputs.scheduleName = request.schedulePath;
  if (auto buffer = llvm::MemoryBuffer::getFile(request.schedulePath, true))
    inputs.scheduleText = (*buffer)->getBuffer().str();
  return inputs;
}

llvm::Expected<tuner::TargetFacts> spaceFactsFor(const CompileInputs &inputs,
                                                 int64_t threads) {
  auto facts = tuner::TargetFacts::of(inputs.target);
  if (!facts)
    return facts.takeError();
  facts->threads = resolveThreads(threads, inputs.target);
  return facts;
}

} // namespace hatc
