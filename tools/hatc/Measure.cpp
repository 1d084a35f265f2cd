//===- Measure.cpp - hatc measure: measure a batch of configs -------------===//
//
// The building block the tuner uses, from the command line: configs from a
// JSON-lines file or sampled at random, each built and run in an isolated
// worker, every result (errors included) recorded in the database and log.
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Common.h"
#include "Flags.h"
#include "hatc/Db/Record.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Recording.h"
#include "hatc/Tuner/Sketch.h"

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
  std::ifstream in(path);
  if (!in)
    return makeError(path + ": cannot read");
  std::vector<nlohmann::json> configs;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    nlohmann::json json =
        nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded() || !json.is_object()) {
      llvm::errs() << path << ":" << number
                   << ": skipped: not a JSON object\n";
      continue;
    }
    configs.push_back(json.contains("config") ? json["config"] : json);
  }
  return configs;
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
                "configs to measure, one JSON object per line");
  parser.option("--random", &random, "N", "measure N random valid configs", 1);
  parser.option("--seed", &seed, "S", "RNG seed for --random (default 0)", 0);
  parser.option("--db", &dbPath, "DB", "record every result in this database");
  parser.option("--log", &logPath, "L.jsonl", "and append it to this log");
  addThreadsFlag(parser, threads);
  parser.option("--build-workers", &buildWorkers, "N",
                "parallel builds (default: all cores)", 0);
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
  if (configsPath.empty() == (random == 0))
    return reportError(makeError("hatc measure: give exactly one of "
                                 "--configs C.jsonl and --random N"));
  auto seconds = [](const std::string &text, const char *flag)
      -> llvm::Expected<double> {
    char *end = nullptr;
    double value = std::strtod(text.c_str(), &end);
    if (text.empty() || *end || !(value > 0))
      return makeError(std::string("hatc measure: ") + flag +
                       " expects a positive number of seconds, got '" + text +
                       "'");
    return value;
  };
  auto buildSeconds = seconds(buildTimeout, "--build-timeout");
  if (!buildSeconds)
    return reportError(buildSeconds.takeError());
  auto runSeconds = seconds(runTimeout, "--run-timeout");
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
      Candidate c{config, "", space.invalidReason(config)};
      if (!c.invalid)
        c.script = llvm::cantFail(space.script(config));
      candidates.push_back(std::move(c));
    }
  } else {
    if (space.empty())
      return reportError(makeError("no sketch applies to " +
                                   inputs->workload.key() + " on " +
                                   targetKindName(inputs->target.kind)));
    tuner::Rng rng{static_cast<uint64_t>(seed)};
    std::set<std::string> seen;
    for (int tries = 0; int64_t(candidates.size()) < random && tries < 100 * random;
         ++tries) {
      auto config = space.sample(rng);
      if (!config)
        break;
      if (!seen.insert(config->dump()).second)
        continue; // never measure a config twice
      candidates.push_back(
          {*config, llvm::cantFail(space.script(*config)), std::nullopt});
    }
    if (int64_t(candidates.size()) < random)
      llvm::errs() << "hatc: the space has only " << candidates.size()
                   << " distinct valid configs\n";
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
  return kExitOk;
}

} // namespace hatc
