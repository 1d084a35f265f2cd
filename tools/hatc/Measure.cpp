//===- Measure.cpp - hatc measure: measure a batch of configs -------------===//
//
// The building block the tuner uses, from the command line: configs from a
// JSON-lines file or sampled at random, each built and run in an isolated
// worker, every result (errors included) recorded in the database and log.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Output.h"
#include "Common.h"
#include "Flags.h"
#include "hatc/Db/Record.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Nesting.h"
#include "hatc/Support/Time.h"
#include "hatc/Tuner/Recording.h"
#include "hatc/Tuner/Sketch.h"
#include "hatc/Tuner/Tuner.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <thread>

namespace hatc {

namespace {

struct Candidate {
  nlohmann::json config;
  std::string script;
  std::optional<std::string> invalid; // set: rejected before building
};

/// Reads configs, one JSON object per line (a bare config, or a log record
/// whose "config" holds it). Bad lines are reported and skipped.
llvm::Expected<std::vector<nlohmann::json>> readConfigs(const std::string &path) {
  if (llvm::sys::fs::is_directory(path))
    return makeError(path + ": is a directory, not a file of configs");
  std::ifstream in(path);
  if (!in)
    return makeError(path + ": cannot read");
  std::vector<nlohmann::json> configs;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    if (std::string problem = nestingProblem(line); !problem.empty()) {
      llvm::errs() << path << ":" << number << ": skipped: the line "
                   << problem << "\n";
      continue;
    }
    nlohmann::json json =
        nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      llvm::errs() << path << ":" << number << ": skipped: "
                   << (json.is_discarded() ? "not valid JSON"
                                           : "not a JSON object")
                   << "\n";
      continue;
    }
    configs.push_back(json.contains("config") ? json["config"] : json);
  }
  if (in.bad())
    return makeError(path + ": cannot read");
  if (configs.empty())
    return makeError(path + ": no configs in it (one JSON object per line, "
                            "e.g. {\"sketch\":\"default\"})");
  return configs;
}

/// The transform script of `config` on this build and machine: the
/// default schedule's for {"sketch": "default"} (any "threads" it names:
/// the config becomes the default's on `threads`, as `tune` records it),
/// else the sketch's; an error says why the config does not apply.
llvm::Expected<std::string> scriptOf(const tuner::SearchSpace &space,
                                     const CompileInputs &inputs,
                                     int64_t threads, nlohmann::json &config) {
  if (tuner::isDefaultConfig(config)) {
    config = tuner::defaultConfigOn(inputs.target.kind, threads);
    return defaultScheduleFor(inputs.workload, inputs.target.kind, threads);
  }
  if (!config.is_object())
    return makeError("a config is a JSON object");
  if (auto invalid = space.invalidReason(config))
    return makeError(*invalid);
  return space.script(config);
}

} // namespace

int measureCommand(const Args &args) {
  CompileRequest request;
  std::string configsPath, dbPath, logPath;
  int64_t random = 0, seed = 0, threads = 0, buildWorkers = 0, repeat = 3;
  std::string buildTimeout = "60", runTimeout = "30";
  bool json = false, noCheck = false, flushCache = false;
  FlagParser parser("hatc measure",
                    "Measures a batch of configs of the workload on the "
                    "target: each is built and\nrun in an isolated worker "
                    "process (crashes, hangs and wrong answers become\n"
                    "typed errors), and every result is recorded.");
  parser.positional("WORKLOAD.mlir", &request.workloadPath, "the workload");
  addTargetFlags(parser, request);
  parser.option("--configs", &configsPath, "C.jsonl",
                "configs to measure, one JSON object per line "
                "({\"sketch\": \"default\"}: the default schedule)");
  parser.option("--random", &random, "N", "measure N random valid configs", 1);
  parser.option("--seed", &seed, "S", "RNG seed for --random (default 0)", 0);
  parser.option("--db", &dbPath, "DB", "record every result in this database");
  parser.option("--log", &logPath, "L.jsonl", "and append it to this log");
  addThreadsFlag(parser, threads);
  parser.option("--build-workers", &buildWorkers, "N",
                "parallel builds (default: all cores)", 0, kMaxThreads);
  parser.option("--repeat", &repeat, "N", "minimum timed runs (default 3)", 1);
  parser.option("--build-timeout", &buildTimeout, "S",
                "seconds per build (default 60)");
  parser.option("--run-timeout", &runTimeout, "S",
                "seconds per run (default 30)");
  parser.flag("--no-check", &noCheck, "skip the reference check");
  parser.flag("--flush-cache", &flushCache, "evict caches between runs");
  parser.flag("--json", &json, "one JSON object per result on stdout");
  if (auto exit = parseFlags(parser, args))
    return *exit;
  // A model's tasks are measured by tune; the worker reads one .mlir.
  if (llvm::Error err =
          refuseModel("measure", request.workloadPath, kModelTaskFilesHint))
    return reportError(std::move(err));
  if (llvm::Error err = refuseOutputOverInputs(
          "--log", logPath,
          {{"the workload", request.workloadPath},
           {"the database", dbPath},
           {"the configs", configsPath}}))
    return reportError(std::move(err));
  // Every candidate is held (with its script) before any is measured.
  constexpr int64_t kMaxRandom = 100000;
  if (random > kMaxRandom)
    return reportError(makeError(
        "hatc measure: --random takes at most " + std::to_string(kMaxRandom) +
        " configs in one run (got " + std::to_string(random) +
        "); `hatc tune --trials N` searches a space that large"));
  if (configsPath.empty() == (random == 0))
    return reportError(makeError("hatc measure: give exactly one of "
                                 "--configs C.jsonl and --random N"));
  auto buildSeconds =
      parseSeconds("--build-timeout", buildTimeout, {/*positive=*/true});
  if (!buildSeconds)
    return reportError(buildSeconds.takeError());
  auto runSeconds =
      parseSeconds("--run-timeout", runTimeout, {/*positive=*/true});
  if (!runSeconds)
    return reportError(runSeconds.takeError());

  auto inputs = loadCompileInputs(request);
  if (!inputs)
    return reportError(inputs.takeError());
  auto facts = spaceFactsFor(*inputs, threads);
  if (!facts)
    return reportError(facts.takeError());
  tuner::SearchSpace space(tuner::analyzeWorkload(inputs->workload), *facts);

  std::vector<Candidate> candidates;
  if (!configsPath.empty()) {
    auto configs = readConfigs(configsPath);
    if (!configs)
      return reportError(configs.takeError());
    for (nlohmann::json &config : *configs) {
      auto script = scriptOf(space, *inputs, facts->threads, config);
      Candidate c{config, "", std::nullopt};
      if (script)
        c.script = std::move(*script);
      else
        c.invalid = llvm::toString(script.takeError());
      candidates.push_back(std::move(c));
    }
  } else {
    if (space.empty())
      return reportError(makeError("no sketch applies to " +
                                   inputs->workload.key() + " on " +
                                   targetKindName(inputs->target.kind)));
    tuner::Rng rng{static_cast<uint64_t>(seed)};
    std::set<std::string> seen;
    for (int64_t tries = 0;
         int64_t(candidates.size()) < random && tries < 100 * random;
         ++tries) {
      auto config = space.sample(rng);
      if (!config)
        break;
      if (!seen.insert(config->dump()).second)
        continue; // never measure a config twice
      candidates.push_back(
          {*config, llvm::cantFail(space.script(*config)), std::nullopt});
    }
    if (candidates.empty())
      return reportError(makeError(
          "hatc measure: the schedule space of " + request.workloadPath +
          " on " + targetKindName(inputs->target.kind) +
          " has no valid config to sample; nothing measured"));
    if (int64_t(candidates.size()) < random)
      llvm::errs() << "hatc measure: the space has only " << candidates.size()
                   << " distinct valid configs; measuring those\n";
  }

  MeasureOptions options;
  options.buildTimeoutS = *buildSeconds;
  options.runTimeoutS = *runSeconds;
  options.run.threads = int(facts->threads);
  options.buildWorkers = int(buildWorkers);
  options.run.minRepeat = repeat;
  options.run.check = !noCheck;
  options.run.flushCache = flushCache;
  auto measurer = makeProcessMeasurer(defaultWorkerPath(), options);
  if (!measurer)
    return reportError(measurer.takeError());
  tuner::Recorder recorder(dbPath, logPath);

  // Measure in small batches and record each as it finishes, so an
  // interrupted run keeps what it measured; a batch keeps every build
  // worker busy.
  size_t builders = buildWorkers > 0
                        ? size_t(buildWorkers)
                        : std::max(1u, std::thread::hardware_concurrency());
  const size_t batchSize = std::max<size_t>(8, 2 * builders);
  std::map<std::string, int> errorCounts;
  for (size_t start = 0; start < candidates.size(); start += batchSize) {
    size_t end = std::min(candidates.size(), start + batchSize);
    std::vector<MeasureRequest> requests;
    std::vector<size_t> measuredIndex;
    for (size_t i = start; i < end; ++i)
      if (!candidates[i].invalid) {
        measuredIndex.push_back(i);
        requests.push_back(tuner::makeRequest(inputs->workload,
                                              inputs->target,
                                              candidates[i].config,
                                              candidates[i].script));
      }
    std::vector<MeasureResult> measured = (*measurer)->measure(requests);
    std::vector<MeasureResult> results(end - start);
    for (size_t i = start; i < end; ++i)
      if (candidates[i].invalid)
        results[i - start] = tuner::invalidConfigResult(*candidates[i].invalid);
    for (size_t j = 0; j < measuredIndex.size(); ++j)
      results[measuredIndex[j] - start] = std::move(measured[j]);

    for (size_t i = start; i < end; ++i) {
      const MeasureResult &result = results[i - start];
      const Candidate &c = candidates[i];
      recorder.record(tuner::makeRecord(inputs->workload, inputs->target,
                                        c.config, c.script, result));
      ++errorCounts[db::errorCodeName(result.error)];
      if (json) {
        nlohmann::json out = {{"index", i},
                              {"workload", inputs->workload.key()},
                              {"target", targetKindName(inputs->target.kind)},
                              {"config", c.config},
                              {"error", db::errorCodeName(result.error)},
                              {"seconds", result.seconds},
                              {"gflops", result.gflops},
                              {"build_s", result.buildSeconds},
                              {"run_s", result.runSeconds}};
        if (result.cycles)
          out["cycles"] = *result.cycles;
        if (!result.message.empty())
          out["message"] = result.message;
        llvm::outs() << out.dump() << "\n";
      } else {
        std::string metric =
            !result.ok() ? std::string("-")
            : result.cycles
                ? llvm::formatv("{0} cycles", *result.cycles).str()
                : llvm::formatv("{0:f2} GFLOP/s", result.gflops).str();
        llvm::outs() << llvm::formatv("{0,4}  {1,-13} {2,-18} {3}{4}\n", i,
                                      db::errorCodeName(result.error), metric,
                                      c.config.dump(),
                                      result.message.empty()
                                          ? std::string()
                                          : "  (" + result.message + ")");
      }
      llvm::outs().flush();
    }
  }
  recorder.close();
  std::string summary;
  for (const auto &[code, count] : errorCounts)
    summary += (summary.empty() ? "" : ", ") + std::to_string(count) + " " + code;
  llvm::errs() << "hatc measure: " << candidates.size() << " configs: "
               << summary << (dbPath.empty() ? "" : "; recorded in " + dbPath)
               << "\n";
  // Every result is recorded; a batch none of which worked is still a
  // failure to whoever runs it (as a tune none of whose trials worked).
  if (!errorCounts.count("OK"))
    return reportError(makeError("hatc measure: no config of " +
                                 request.workloadPath + " ran OK"));
  return kExitOk;
}

namespace {

/// Higher is faster, among one workload's records of one target kind:
/// 1 / modeled cycles (hwacc), else 1 / latency; 0 for a record without.
double speedOf(const db::Record &record) {
  if (record.cycles)
    return *record.cycles > 0 ? 1.0 / double(*record.cycles) : 0.0;
  return record.latencyS && *record.latencyS > 0 ? 1.0 / *record.latencyS
                                                 : 0.0;
}

/// How fast a record ran, for a report line.
std::string speedText(const db::Record &record) {
  if (double gflops = db::gflopsOf(record); gflops > 0)
    return llvm::formatv("{0:f2} GFLOP/s", gflops).str();
  if (record.cycles)
    return llvm::formatv("{0} cycles", *record.cycles).str();
  return formatSeconds(record.latencyS.value_or(0));
}

/// One task of a replayed log and its best distinct configs, best first.
struct ReplayedTask {
  std::string kind, key, ir;
  std::vector<const db::Record *> best;
};

/// The log's tasks (per target kind and workload) whose records carry the
/// workload's IR, each with its `top` fastest distinct configs that ran.
std::vector<ReplayedTask> tasksToRemeasure(const std::vector<db::Record> &log,
                                           int64_t top) {
  std::map<std::tuple<std::string, std::string, std::string>,
           std::vector<const db::Record *>>
      groups;
  for (const db::Record &record : log)
    if (record.error == db::ErrorCode::Ok && speedOf(record) > 0)
      groups[{record.targetKind, record.workloadKey, record.workloadHash}]
          .push_back(&record);
  std::vector<ReplayedTask> tasks;
  for (auto &[id, records] : groups) {
    std::stable_sort(records.begin(), records.end(),
                     [](const db::Record *a, const db::Record *b) {
                       return speedOf(*a) > speedOf(*b);
                     });
    ReplayedTask task{std::get<0>(id), std::get<1>(id), "", {}};
    std::set<std::string> seen;
    for (const db::Record *record : records) {
      if (task.ir.empty())
        task.ir = record->workloadIr;
      if (int64_t(task.best.size()) < top &&
          seen.insert(record->configHash).second)
        task.best.push_back(record);
    }
    tasks.push_back(std::move(task));
  }
  return tasks;
}

} // namespace

llvm::Expected<RemeasureStats>
remeasureReplayed(const std::vector<db::Record> &log,
                  const RemeasureOptions &options, llvm::raw_ostream &report) {
  RemeasureStats stats;
  std::unique_ptr<Measurer> measurer;
  std::unique_ptr<mlir::MLIRContext> context;
  tuner::Recorder recorder(options.dbPath, "");
  for (const ReplayedTask &task : tasksToRemeasure(log, options.top)) {
    std::string what = task.key + " on " + task.kind;
    if (task.kind == "gpu") {
      report << what << ": not measured again (GPU records are measured on "
             << "a GPU host with hatc measure --configs)\n";
      stats.skipped += task.best.size();
      continue;
    }
    if (task.ir.empty()) {
      report << what << ": not measured again (the log has no workload IR "
             << "for it)\n";
      stats.skipped += task.best.size();
      continue;
    }
    // The task's IR, as a workload of this build on this machine's target.
    llvm::SmallString<128> irPath;
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "hatc-replay", "mlir", irPath))
      return makeError("cannot create a temporary file: " + ec.message());
    llvm::FileRemover removeIr(irPath);
    {
      std::ofstream out(std::string(irPath), std::ios::binary);
      out << task.ir;
      if (!(out << std::flush))
        return makeError(std::string(irPath) + ": cannot write");
    }
    // The function the log's key names (the IR may hold several).
    if (!context) {
      context = std::make_unique<mlir::MLIRContext>(
          mlir::MLIRContext::Threading::DISABLED);
      initContext(*context);
    }
    auto stored = storedWorkload(*context, task.key, task.ir);
    if (!stored) {
      report << what << ": not measured again ("
             << llvm::toString(stored.takeError()) << ")\n";
      stats.skipped += task.best.size();
      continue;
    }
    CompileRequest request;
    request.workloadPath = std::string(irPath);
    request.entryName = stored->entryName;
    request.targetSpec = task.kind;
    auto inputs = loadCompileInputs(request);
    if (!inputs) {
      report << what << ": not measured again ("
             << llvm::toString(inputs.takeError()) << ")\n";
      stats.skipped += task.best.size();
      continue;
    }
    auto facts = spaceFactsFor(*inputs, options.threads);
    if (!facts)
      return facts.takeError();
    tuner::SearchSpace space(tuner::analyzeWorkload(inputs->workload), *facts);
    std::vector<MeasureRequest> requests;
    std::vector<std::pair<nlohmann::json, std::string>> configs;
    for (const db::Record *record : task.best) {
      nlohmann::json config =
          nlohmann::json::parse(record->configJson, nullptr, false);
      // The default is this build's default schedule for this machine.
      auto script = scriptOf(space, *inputs, facts->threads, config);
      if (!script) {
        report << what << ": config " << record->configJson
               << " does not apply here: " << llvm::toString(script.takeError())
               << "\n";
        ++stats.skipped;
        continue;
      }
      requests.push_back(tuner::makeRequest(inputs->workload, inputs->target,
                                            config, *script));
      configs.emplace_back(config, std::move(*script));
    }
    if (requests.empty())
      continue;
    if (!measurer) {
      MeasureOptions measure;
      measure.run.threads = int(facts->threads);
      measure.run.minRepeat = options.repeat;
      measure.run.check = options.check;
      auto made = makeProcessMeasurer(defaultWorkerPath(), measure);
      if (!made)
        return made.takeError();
      measurer = std::move(*made);
    }
    std::vector<MeasureResult> results = measurer->measure(requests);
    std::optional<db::Record> best;
    size_t failed = 0, kept = 0;
    for (size_t i = 0; i < results.size(); ++i) {
      db::Record ours = tuner::makeRecord(inputs->workload, inputs->target,
                                          configs[i].first, configs[i].second,
                                          results[i]);
      // A log of this machine and build already holds this very record:
      // the database keeps one of the two, the one that summarizes more
      // measurements (said below).
      if (!recorder.record(ours))
        ++kept;
      if (!results[i].ok())
        ++failed;
      else if (!best || speedOf(ours) > speedOf(*best))
        best = std::move(ours);
    }
    stats.measured += results.size() - failed;
    stats.failed += failed;
    const db::Record &theirs = *task.best.front();
    report << llvm::formatv(
        "{0}: measured {1} config{2} again on this machine: best {3} (the "
        "log's best: {4} on {5}){6}{7}\n",
        what, results.size(), results.size() == 1 ? "" : "s",
        best ? speedText(*best) : std::string("none ran"), speedText(theirs),
        theirs.targetFingerprint,
        failed ? llvm::formatv(", {0} failed", failed).str() : std::string(),
        kept ? llvm::formatv("; {0} of them already recorded on this "
                             "machine with this build and thread count (the "
                             "database keeps one record of each: the one of "
                             "more measurements)",
                             kept)
                   .str()
             : std::string());
  }
  recorder.close();
  return stats;
}

} // namespace hatc
