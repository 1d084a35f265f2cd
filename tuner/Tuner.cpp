//===- Tuner.cpp - Evolutionary search guided by a cost model -------------===//
#include "hatc/Tuner/Tuner.h"
#include "hatc/CostModel/Features.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Tuner/CrossTask.h"
#include "hatc/Support/Version.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>

namespace hatc::tuner {

cost_model::XGBoostOptions Tuner::xgboostOptions() const {
  cost_model::XGBoostOptions xgb;
  xgb.objective = options.objective;
  xgb.seed = options.seed;
  return xgb;
}

bool isDefaultConfig(const nlohmann::json &config) {
  return config.is_object() && config.value("sketch", "") == "default";
}

void TaskStatus::noteError(db::ErrorCode code, const std::string &message) {
  ++errorCounts[code];
  if (!message.empty())
    errorExamples.emplace(code, message);
}

nlohmann::json defaultConfigOn(TargetKind kind, int64_t threads) {
  nlohmann::json config = {{"sketch", "default"}};
  if (kind == TargetKind::Cpu)
    config["threads"] = threads;
  return config;
}

nlohmann::json defaultConfigFor(const TuneTask &task) {
  return defaultConfigOn(task.target.kind, task.facts.threads);
}

/// The kernel threads a task's candidates run on, where records tell
/// thread counts apart (cpu); nullopt elsewhere.
static std::optional<int64_t> kernelThreadsOf(const TuneTask &task) {
  if (task.target.kind != TargetKind::Cpu)
    return std::nullopt;
  return task.facts.threads;
}

std::string Tuner::defaultKey(size_t t) const {
  return defaultConfigFor(tasks[t]).dump();
}

Tuner::Tuner(std::vector<TuneTask> tasks, Measurer &measurer,
             std::unique_ptr<cost_model::CostModel> model, Recorder &recorder,
             TuneOptions options)
    : tasks(std::move(tasks)), measurer(measurer), model(std::move(model)),
      recorder(recorder), options(std::move(options)), rng(this->options.seed) {
  statuses.resize(this->tasks.size());
  measured.resize(this->tasks.size());
  known.resize(this->tasks.size());
  history.resize(this->tasks.size());
  sinceImprovement.assign(this->tasks.size(), 0);
  exhausted.assign(this->tasks.size(), false);
  existingBest.assign(this->tasks.size(), 0.0);
  okRecords.resize(this->tasks.size());
  remeasured.assign(this->tasks.size(), false);
  for (size_t t = 0; t < this->tasks.size(); ++t)
    statuses[t].name = this->tasks[t].workload.key();
  // Unique per session: host, process and a random part (two Tuners of
  // one process are two sessions).
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  claimOwner = std::string(host) + ":" + std::to_string(::getpid()) + ":" +
               std::to_string(std::random_device{}());
}

cost_model::FeatureInput featureInputOf(const WorkloadShape &shape,
                                        const TargetFacts &f,
                                        const nlohmann::json &config,
                                        double dmaBytesPerCycle,
                                        const Sketch *sketch) {
  cost_model::FeatureInput input;
  input.opKind = opClassName(shape.anchor);
  input.loopRanges = shape.loopRanges;
  input.elemType = shape.elemType;
  input.constantWeights = shape.constantWeights;
  std::string name =
      config.is_object() ? config.value("sketch", std::string()) : "";
  std::vector<std::unique_ptr<Sketch>> own;
  if (!sketch) {
    own = sketchesFor(shape, f);
    for (const auto &candidate : own)
      if (candidate->name() == name)
        sketch = candidate.get();
  }
  if (sketch) {
    input.sketch = sketch->describe(config);
  } else if (isDefaultConfig(config)) {
    // The default is its family's analytical config: described as that,
    // the model ranks it with the sketch's own configs (`own` holds every
    // sketch: none was given).
    for (const auto &candidate : own)
      if (candidate->takesDefault())
        if (auto analytical = candidate->analyticalDefault()) {
          input.sketch = candidate->describe(*analytical);
          break;
        }
  }
  input.target = {{"kind", targetKindName(f.kind)},
                  {"vector_lanes", f.vectorLanes},
                  {"vector_registers", f.vectorRegisters},
                  {"l2_bytes", f.l2Bytes},
                  {"cores", f.cores},
                  {"array_dim", f.arrayDim},
                  {"scratchpad_rows", f.scratchpadRows},
                  {"accumulator_rows", f.accumulatorRows},
                  {"dma_bytes_per_cycle", dmaBytesPerCycle},
                  {"gpu_shared_bytes", f.gpuSharedBytes},
                  {"gpu_multiprocessors", f.gpuMultiprocessors}};
  return input;
}

std::vector<float> Tuner::features(size_t t,
                                   const nlohmann::json &config) const {
  const TuneTask &task = tasks[t];
  const Sketch *sketch = task.space && config.is_object()
                             ? task.space->find(config.value("sketch", ""))
                             : nullptr;
  return cost_model::extractFeatures(featureInputOf(
      task.shape, task.facts, config,
      task.target.params.value("dma_bytes_per_cycle", 16.0), sketch));
}

cost_model::Sample Tuner::sample(size_t t, const nlohmann::json &config,
                                 double throughput) const {
  return {taskGroup(tasks[t].workload.key(), tasks[t].workload.hash(),
                    tasks[t].target.fingerprint()),
          features(t, config), throughput, ownSampleWeight};
}

void Tuner::loadExisting(size_t t) {
  db::Database *database = recorder.database();
  if (!database)
    return;
  const TuneTask &task = tasks[t];
  db::TargetKey key{targetKindName(task.target.kind),
                    task.target.fingerprint(), task.target.name};
  std::string version = compilerVersion();
  TaskStatus &status = statuses[t];
  for (const db::Record &record :
       database->records(task.workload.key(), key)) {
    if (record.compilerVersion != version ||
        record.targetFingerprint != key.fingerprint ||
        record.workloadHash != task.workload.hash())
      continue; // stale: another build or machine measured it
    if (!db::ranOnThreads(record, kernelThreadsOf(task)))
      continue; // another thread count's: not what this run measures
    nlohmann::json config =
        nlohmann::json::parse(record.configJson, nullptr, false);
    if (config.is_discarded() || !known[t].insert(config.dump()).second)
      continue;
    measured[t].insert(config.dump());
    if (searching)
      ++status.concurrent; // another session measured it meanwhile
    double throughput = 0;
    nlohmann::json extras =
        nlohmann::json::parse(record.extrasJson, nullptr, false);
    if (record.error == db::ErrorCode::Ok) {
      throughput = extras.is_object() ? extras.value("gflops", 0.0) : 0.0;
      okRecords[t][config.dump()] = record;
    } else {
      status.noteError(record.error,
                       extras.is_object() ? extras.value("message", "") : "");
    }
    ++status.existing;
    history[t].push_back({config, throughput});
    if (searching) // the model learns from it with the next batch
      othersSamples.push_back(sample(t, config, throughput));
    if (isDefaultConfig(config)) {
      status.defaultThroughput = throughput;
      status.defaultCycles = record.cycles;
    }
    if (throughput > status.bestThroughput) {
      status.bestThroughput = throughput;
      status.bestConfig = config;
      status.bestCycles = record.cycles;
    }
  }
}

std::vector<TaskProgress> Tuner::progress() const {
  std::vector<TaskProgress> out(tasks.size());
  for (size_t t = 0; t < tasks.size(); ++t) {
    TaskProgress &p = out[t];
    p.weight = tasks[t].weight;
    p.flops = tasks[t].workload.flops();
    p.group = tasks[t].shape.anchorOp;
    p.trials = statuses[t].trials + statuses[t].existing;
    p.existingBest = existingBest[t];
    p.curve = statuses[t].curve;
    p.defaultThroughput = statuses[t].defaultThroughput;
    if (remeasured[t])
      p.remeasuredBest = statuses[t].bestThroughput;
    p.exhausted = exhausted[t];
    p.wallClock = tasks[t].target.kind != TargetKind::Hwacc;
  }
  return out;
}

size_t Tuner::pickTask() {
  // Every task gets a first batch; then the one with the largest weighted
  // expected latency gain (TaskScheduler.h has the formula).
  std::optional<size_t> next = scheduler.next(progress());
  return next ? *next : 0;
}

std::vector<Tuner::Candidate> Tuner::propose(size_t t, int64_t count) {
  const SearchSpace &space = *tasks[t].space;
  std::vector<Candidate> out;
  std::set<std::string> chosen;
  auto take = [&](const nlohmann::json &config) {
    std::string key = config.dump();
    if (measured[t].count(key) || !chosen.insert(key).second)
      return false;
    auto script = space.script(config);
    if (!script) {
      llvm::consumeError(script.takeError());
      return false;
    }
    out.push_back({config, *script});
    return true;
  };
  // The default schedule is measured first, once: the baseline. Its script
  // is the one every other caller gets for this target (a GPU's mapping,
  // nothing on hwacc), derived from the task as it is measured (a model's
  // task with its weights in, as the model builds it), or, where the target
  // has none for this workload, the reason goes into the record as the
  // measurer's error.
  if (!measured[t].count(defaultKey(t)) && count > 0) {
    auto script = measuredDefaultScheduleFor(
        tasks[t].workload, tasks[t].target.kind, tasks[t].facts.threads);
    if (script) {
      out.push_back({defaultConfigFor(tasks[t]), std::move(*script)});
    } else {
      llvm::errs() << "hatc tune: " << tasks[t].workload.key()
                   << ": no default schedule on "
                   << targetKindName(tasks[t].target.kind) << " ("
                   << llvm::toString(script.takeError())
                   << "); tuning without that baseline\n";
      measured[t].insert(defaultKey(t));
    }
    chosen.insert(defaultKey(t));
  }
  auto fillRandom = [&](int64_t target) {
    for (int tries = 0; int64_t(out.size()) < target && tries < 4000;
         ++tries)
      if (auto config = space.sample(rng))
        take(*config);
  };
  if (options.search == "random" || !model) {
    fillRandom(count);
    return out;
  }

  // Evolution: start from the best measured configs plus random ones,
  // breed by mutation and crossover, keep the best-scored, for a few
  // generations.
  std::vector<std::pair<nlohmann::json, double>> measuredSorted = history[t];
  std::stable_sort(measuredSorted.begin(), measuredSorted.end(),
                   [](const auto &a, const auto &b) {
                     return a.second > b.second;
                   });
  std::vector<nlohmann::json> population;
  std::set<std::string> inPopulation;
  auto add = [&](const nlohmann::json &config) {
    if (isDefaultConfig(config) || space.invalidReason(config))
      return;
    if (inPopulation.insert(config.dump()).second)
      population.push_back(config);
  };
  for (size_t i = 0; i < measuredSorted.size() && population.size() < 16; ++i)
    if (measuredSorted[i].second > 0)
      add(measuredSorted[i].first);
  // Search starts where the default schedule is: each sketch's analytical
  // config (the parameters the default derives from the target's facts).
  for (const auto &sketch : space.all())
    if (auto config = sketch->analyticalDefault())
      add(*config);
  for (int tries = 0;
       int64_t(population.size()) < options.population && tries < 4000;
       ++tries)
    if (auto config = space.sample(rng))
      add(*config);
  if (population.empty())
    return out;

  auto score = [&](const std::vector<nlohmann::json> &configs) {
    std::vector<std::vector<float>> rows;
    for (const nlohmann::json &c : configs)
      rows.push_back(features(t, c));
    try {
      return model->predict(rows);
    } catch (const std::exception &e) {
      llvm::errs() << "hatc tune: cost model failed (" << e.what()
                   << "); scoring at random\n";
      std::vector<double> random(configs.size());
      std::uniform_real_distribution<double> u(0, 1);
      for (double &r : random)
        r = u(rng);
      return random;
    }
  };
  std::vector<double> scores = score(population);
  for (int64_t g = 0; g < options.generations; ++g) {
    std::vector<nlohmann::json> children;
    std::uniform_int_distribution<size_t> pick(0, population.size() - 1);
    auto tournament = [&]() -> const nlohmann::json & {
      size_t a = pick(rng), b = pick(rng);
      return scores[a] >= scores[b] ? population[a] : population[b];
    };
    std::bernoulli_distribution mutateNotCross(0.6);
    std::set<std::string> childKeys;
    for (int64_t i = 0; i < options.population; ++i) {
      nlohmann::json child = mutateNotCross(rng)
                                 ? space.mutate(tournament(), rng)
                                 : space.crossover(tournament(), tournament(),
                                                   rng);
      std::string key = child.dump();
      if (inPopulation.count(key) || !childKeys.insert(key).second ||
          space.invalidReason(child))
        continue;
      children.push_back(std::move(child));
    }
    std::vector<double> childScores = score(children);
    // Keep the best `population` of parents and children.
    std::vector<size_t> order(population.size() + children.size());
    for (size_t i = 0; i < order.size(); ++i)
      order[i] = i;
    auto scoreOf = [&](size_t i) {
      return i < population.size() ? scores[i]
                                   : childScores[i - population.size()];
    };
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return scoreOf(a) > scoreOf(b);
    });
    std::vector<nlohmann::json> next;
    std::vector<double> nextScores;
    for (size_t i = 0; i < order.size() && int64_t(next.size()) < options.population; ++i) {
      size_t o = order[i];
      next.push_back(o < population.size() ? population[o]
                                           : children[o - population.size()]);
      nextScores.push_back(scoreOf(o));
    }
    population = std::move(next);
    scores = std::move(nextScores);
    inPopulation.clear();
    for (const nlohmann::json &c : population)
      inPopulation.insert(c.dump());
  }
  // Exploit the best-scored unmeasured configs, explore with random ones.
  int64_t exploit = count - int64_t(std::llround(options.epsilon * count));
  for (size_t i = 0; i < population.size() && int64_t(out.size()) < exploit;
       ++i)
    take(population[i]);
  fillRandom(count);
  return out;
}

int64_t Tuner::recordsKnown() const {
  int64_t total = 0;
  for (const TaskStatus &s : statuses)
    total += s.trials + (options.countExisting ? s.existing : 0);
  return total;
}

std::vector<Tuner::Candidate> Tuner::claimBatch(size_t t,
                                                std::vector<Candidate> batch) {
  db::Database *database = recorder.database();
  if (!database)
    return batch;
  const TuneTask &task = tasks[t];
  db::ClaimRequest request;
  request.workloadKey = task.workload.key();
  request.workloadHash = task.workload.hash();
  request.targetKind = targetKindName(task.target.kind);
  request.targetName = task.target.name;
  request.targetFingerprint = task.target.fingerprint();
  request.compilerVersion = compilerVersion();
  request.owner = claimOwner;
  request.ttlSeconds = options.claimTtlS;
  request.threads = kernelThreadsOf(task);
  // The budget left to this task once the other tasks' records are
  // counted: the database then stops every session sharing it at the same
  // total (only with a budget that counts existing records).
  if (options.countExisting) {
    int64_t otherTasks = recordsKnown() - statuses[t].trials -
                         statuses[t].existing;
    request.taskLimit = std::max<int64_t>(1, options.trials - otherTasks);
  }
  std::vector<Candidate> mine;
  bool othersActive = false, full = false;
  for (Candidate &c : batch) {
    std::string key = c.config.dump();
    request.configHash = db::configHashOf(db::canonicalJson(key, "config"));
    db::ClaimResult result = database->claim(request);
    switch (result.status) {
    case db::ClaimStatus::Claimed:
      mine.push_back(std::move(c));
      break;
    case db::ClaimStatus::AlreadyMeasured:
    case db::ClaimStatus::ClaimedByOther:
      // Not ours to measure; its record is read back once it is there.
      measured[t].insert(key);
      othersActive = true;
      break;
    case db::ClaimStatus::TaskFull:
      full = true;
      break;
    }
    if (full)
      break;
    // More records and claims than this session accounts for: others are
    // tuning the same task.
    if (result.taskCount > int64_t(known[t].size() + mine.size()))
      othersActive = true;
  }
  if (othersActive)
    loadExisting(t);
  if (full)
    exhausted[t] = true; // the budget is spent, by us or by others
  return mine;
}

void Tuner::measureBatch(size_t t, std::vector<Candidate> batch) {
  TuneTask &task = tasks[t];
  TaskStatus &status = statuses[t];
  std::vector<MeasureRequest> requests;
  for (const Candidate &c : batch)
    requests.push_back(makeRequest(task.workload, task.target, c.config,
                                   c.script));
  std::vector<MeasureResult> results = measurer.measure(requests);
  std::vector<cost_model::Sample> samples;
  for (size_t i = 0; i < batch.size(); ++i) {
    const Candidate &c = batch[i];
    const MeasureResult &r = results[i];
    if (r.abandoned)
      continue; // interrupted before it was measured: not a result
    db::Record record =
        makeRecord(task.workload, task.target, c.config, c.script, r);
    recorder.record(record);
    if (r.ok())
      okRecords[t][c.config.dump()] = std::move(record);
    measured[t].insert(c.config.dump());
    known[t].insert(c.config.dump());
    double throughput = throughputOf(r);
    if (!r.ok())
      status.noteError(r.error, r.message);
    history[t].push_back({c.config, throughput});
    status.measuredOrder.push_back(c.config.dump());
    ++status.trials;
    ++done;
    if (isDefaultConfig(c.config)) {
      status.defaultThroughput = throughput;
      status.defaultCycles = r.cycles;
    }
    if (throughput > status.bestThroughput) {
      status.bestThroughput = throughput;
      status.bestConfig = c.config;
      status.bestCycles = r.cycles;
      sinceImprovement[t] = 0;
    } else {
      ++sinceImprovement[t];
    }
    status.curve.push_back(status.bestThroughput);
    samples.push_back(sample(t, c.config, throughput));
  }
  samples.insert(samples.end(), othersSamples.begin(), othersSamples.end());
  othersSamples.clear();
  if (model) {
    try {
      if (!prior.empty())
        retrainOnPooled();
      else
        model->update(samples);
      if (!options.modelPath.empty())
        model->save(options.modelPath);
    } catch (const std::exception &e) {
      llvm::errs() << "hatc tune: cost model update failed (" << e.what()
                   << "); continuing with the model as it was\n";
    }
  }
}

std::vector<cost_model::Sample> Tuner::crossTaskPrior() {
  const std::string &path = options.crossTaskModelPath;
  if (path.empty() || options.search != "xgboost" ||
      !llvm::sys::fs::exists(path))
    return {};
  auto loaded = cost_model::readTrainingSamples(path);
  if (!loaded) {
    llvm::errs() << "hatc tune: ignoring the cross-task cost model " << path
                 << " (corrupt or of another feature schema; rebuild it "
                    "with hatc model train)\n";
    return {};
  }
  // The tasks' own records come from the database (history), weighed up.
  std::set<std::string> own;
  for (size_t t = 0; t < tasks.size(); ++t)
    own.insert(taskGroup(tasks[t].workload.key(), tasks[t].workload.hash(),
                         tasks[t].target.fingerprint()));
  std::vector<cost_model::Sample> prior;
  for (cost_model::Sample &s : *loaded)
    if (!own.count(s.group))
      prior.push_back(std::move(s));
  if (prior.empty())
    return {};
  ownSampleWeight = kOwnSampleWeight;
  llvm::errs() << "hatc tune: using cross-task cost model " << path << " ("
               << prior.size() << " records from " << groupCount(prior)
               << " tasks)\n";
  return prior;
}

void Tuner::retrainOnPooled() {
  // The prior fades as the tasks' own samples come in: at kPriorHalfLife
  // own samples it counts half, so a prior that misleads on this task is
  // outvoted within a few batches, and one that helps has done so already.
  constexpr double kPriorHalfLife = 16;
  size_t own = 0;
  for (const auto &h : history)
    own += h.size();
  double scale = kPriorHalfLife / (kPriorHalfLife + double(own));
  std::vector<cost_model::Sample> pooled = prior;
  for (cost_model::Sample &s : pooled)
    s.weight *= scale;
  for (size_t t = 0; t < tasks.size(); ++t)
    for (const auto &[config, throughput] : history[t])
      pooled.push_back(sample(t, config, throughput));
  // The tasks' target kind (none when they mix kinds).
  std::string kind =
      tasks.empty() ? "" : targetKindName(tasks.front().target.kind);
  for (const TuneTask &task : tasks)
    if (targetKindName(task.target.kind) != kind)
      kind.clear();
  model =
      cost_model::makeXGBoostModel(pooledModelOptions(xgboostOptions(), kind));
  try {
    model->update(pooled);
  } catch (const std::exception &e) {
    llvm::errs() << "hatc tune: cost model training failed (" << e.what()
                 << ")\n";
  }
}

void Tuner::run() {
  for (size_t t = 0; t < tasks.size(); ++t) {
    loadExisting(t);
    existingBest[t] = statuses[t].bestThroughput;
  }
  if (model) {
    // The database is the source of truth. A saved model is reused when it
    // was trained on exactly what the database holds for these tasks; one
    // of another feature schema, a corrupt one or a stale one is rebuilt
    // from the database.
    prior = crossTaskPrior();
    if (!prior.empty()) {
      retrainOnPooled();
    } else {
      std::vector<cost_model::Sample> samples;
      for (size_t t = 0; t < tasks.size(); ++t)
        for (const auto &[config, throughput] : history[t])
          samples.push_back(sample(t, config, throughput));
      bool reused = !options.modelPath.empty() && !samples.empty() &&
                    model->load(options.modelPath) &&
                    model->sampleCount() == samples.size();
      if (!reused && model->sampleCount() > 0)
        model = options.search == "random-model"
                    ? cost_model::makeRandomModel(options.seed)
                    : cost_model::makeXGBoostModel(xgboostOptions());
      if (!reused && !samples.empty()) {
        try {
          model->update(samples);
        } catch (const std::exception &e) {
          llvm::errs() << "hatc tune: cost model training failed ("
                       << e.what() << ")\n";
        }
      }
    }
  }
  searching = true;
  // Claims this session took and did not get to measure (interrupted, out
  // of time) are given back at the end, so nobody waits for them to lapse.
  struct ReleaseClaims {
    db::Database *database;
    const std::string &owner;
    ~ReleaseClaims() {
      if (!database)
        return;
      try {
        database->releaseClaims(owner);
      } catch (const std::exception &) {
        // They lapse after TuneOptions::claimTtlS anyway.
      }
    }
  } releaseClaims{recorder.database(), claimOwner};
  // The budget counts records of other sessions as they show up.
  auto budget = [&] { return options.trials - (recordsKnown() - done); };
  auto start = std::chrono::steady_clock::now();
  while (done < budget()) {
    if (interrupted && interrupted->load()) {
      stoppedByInterrupt = true;
      return;
    }
    double elapsed = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    // The first batch always runs: a budget shorter than one batch would
    // otherwise end the session with nothing measured and nothing said.
    if (options.timeBudgetS > 0 && elapsed >= options.timeBudgetS &&
        done > 0) {
      stoppedByTimeBudget = true;
      return;
    }
    if (options.earlyStop > 0 &&
        std::all_of(sinceImprovement.begin(), sinceImprovement.end(),
                    [&](int64_t n) { return n >= options.earlyStop; }))
      return;
    size_t t = pickTask();
    int64_t count = std::min(options.batchSize, budget() - done);
    std::vector<Candidate> batch = propose(t, count);
    if (!batch.empty())
      batch = claimBatch(t, std::move(batch));
    else
      exhausted[t] = true; // this task's space is exhausted
    if (batch.empty()) {
      // Stop when every task's space or budget is.
      if (std::all_of(exhausted.begin(), exhausted.end(),
                      [](bool e) { return e; }))
        return;
      continue;
    }
    measureBatch(t, std::move(batch));
    if (onBatch)
      onBatch(t, statuses[t], done, budget());
  }
}

void Tuner::rerankFromHistory(size_t t) {
  // As the database ranks (db::rankKey): a config measured again beats
  // any measured once, whatever that one figure says.
  TaskStatus &status = statuses[t];
  status.bestThroughput = 0;
  status.bestConfig = nlohmann::json();
  status.bestCycles.reset();
  std::optional<db::RankKey> bestRank;
  for (const auto &[config, throughput] : history[t]) {
    auto record = okRecords[t].find(config.dump());
    std::optional<int64_t> cycles;
    if (record != okRecords[t].end())
      cycles = record->second.cycles;
    if (isDefaultConfig(config)) {
      status.defaultThroughput = throughput;
      status.defaultCycles = cycles;
    }
    if (throughput <= 0 || record == okRecords[t].end())
      continue;
    db::RankKey rank = db::rankKey(record->second, -throughput);
    if (!bestRank || rank < *bestRank) {
      status.bestThroughput = throughput;
      status.bestConfig = config;
      status.bestCycles = cycles;
      bestRank = rank;
    }
  }
}

namespace {

/// The seconds of each measurement a record summarizes (extras
/// "measured_s", else its latency alone).
std::vector<double> measuredSeconds(const db::Record &record) {
  nlohmann::json extras =
      nlohmann::json::parse(record.extrasJson, nullptr, false);
  std::vector<double> seconds;
  if (extras.is_object() && extras.contains("measured_s") &&
      extras["measured_s"].is_array())
    for (const nlohmann::json &s : extras["measured_s"])
      if (s.is_number())
        seconds.push_back(s.get<double>());
  if (seconds.empty() && record.latencyS)
    seconds.push_back(*record.latencyS);
  return seconds;
}

} // namespace

std::vector<double> keptSeconds(const std::vector<double> &measured) {
  if (measured.size() <= 1)
    return measured;
  auto later = measured.begin() + 1;
  double fastest = *std::min_element(later, measured.end());
  std::vector<double> kept;
  for (auto it = later; it != measured.end(); ++it)
    if (*it <= kSlowSpell * fastest)
      kept.push_back(*it);
  return kept;
}

namespace {

double meanOf(const std::vector<double> &values) {
  double sum = 0;
  for (double v : values)
    sum += v;
  return values.empty() ? 0 : sum / double(values.size());
}

} // namespace

double confirmedSeconds(const std::vector<double> &measured) {
  return meanOf(keptSeconds(measured));
}

double measurementNoise(const std::vector<std::vector<double>> &measured) {
  double squares = 0;
  int64_t freedom = 0;
  for (const std::vector<double> &config : measured) {
    std::vector<double> kept = keptSeconds(config);
    double mean = meanOf(kept);
    if (kept.size() < 2 || mean <= 0)
      continue;
    for (double v : kept)
      squares += (v - mean) * (v - mean) / (mean * mean);
    freedom += int64_t(kept.size()) - 1;
  }
  return freedom ? std::sqrt(squares / double(freedom)) : 0;
}

bool pairedSeparated(const std::vector<double> &leads) {
  if (leads.size() < kMinPairedRounds)
    return false;
  if (*db::medianOf(leads) <= 1)
    return true;
  std::vector<double> logs;
  for (double lead : leads)
    logs.push_back(std::log(std::max(lead, 1e-12)));
  double mean = meanOf(logs), squares = 0;
  for (double l : logs)
    squares += (l - mean) * (l - mean);
  double n = double(logs.size());
  double error = std::sqrt(squares / (n - 1) / n);
  return mean >= 2 * error;
}

std::vector<Tuner::Remeasure> Tuner::confirmCandidates() const {
  std::vector<Remeasure> entries;
  int64_t want = options.confirmMeasurements;
  for (size_t t = 0; t < tasks.size(); ++t) {
    if (tasks[t].target.kind == TargetKind::Hwacc)
      continue; // modeled: the same figure every time
    std::vector<std::pair<nlohmann::json, double>> ranked;
    std::set<std::string> seen;
    for (const auto &entry : history[t])
      if (entry.second > 0 && seen.insert(entry.first.dump()).second)
        ranked.push_back(entry);
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto &a, const auto &b) {
                       return a.second > b.second;
                     });
    // Records measured again rank first (db::isConfirmed): a config whose
    // one figure does not beat the best of those could not be picked even
    // if measured again, so the search for more stops there.
    double confirmedBest = 0;
    for (const auto &[config, throughput] : ranked) {
      auto found = okRecords[t].find(config.dump());
      if (found != okRecords[t].end() && db::isConfirmed(found->second))
        confirmedBest = std::max(confirmedBest, throughput);
    }
    std::vector<nlohmann::json> chosen;
    for (const auto &[config, throughput] : ranked) {
      if (int64_t(chosen.size()) >= options.confirmTop ||
          throughput <= confirmedBest)
        break;
      if (!isDefaultConfig(config))
        chosen.push_back(config);
    }
    chosen.push_back(defaultConfigFor(tasks[t])); // the baseline they are compared with
    for (const nlohmann::json &config : chosen) {
      auto found = okRecords[t].find(config.dump());
      if (found == okRecords[t].end())
        continue; // no OK record (a default that failed)
      std::vector<double> seconds = measuredSeconds(found->second);
      if (int64_t(seconds.size()) >= want ||
          db::measurementsOf(found->second) >= want)
        continue;
      size_t before = seconds.size();
      entries.push_back(
          {t, config, found->second, std::move(seconds), before, {}});
    }
  }
  return entries;
}

void Tuner::storeFigure(size_t t, const nlohmann::json &config,
                        db::Record &record, nlohmann::json &extras,
                        double seconds) {
  double throughput = 0;
  if (seconds > 0) {
    throughput = tasks[t].workload.flops() / seconds / 1e9;
    record.latencyS = seconds;
    extras["seconds"] = seconds;
    extras["gflops"] = throughput;
  }
  record.extrasJson = extras.dump();
  recorder.record(record);
  for (auto &[measured, value] : history[t])
    if (measured == config)
      value = throughput;
}

void Tuner::measureAgain(std::vector<Remeasure> &entries,
                         ConfirmSummary &summary, int64_t want,
                         std::set<std::string> &touched) {
  // A batch per task and round: the configs of a task are measured in one
  // worker pool side by side, and each round after the last one's.
  bool once = want == 0;
  int64_t rounds = once ? 1 : want - 1;
  for (int64_t round = 0; round < rounds && !stoppedByInterrupt; ++round) {
    for (size_t t = 0; t < tasks.size(); ++t) {
      if (interrupted && interrupted->load()) {
        stoppedByInterrupt = true;
        break;
      }
      std::vector<Remeasure *> batch;
      std::vector<MeasureRequest> requests;
      for (Remeasure &e : entries)
        if (e.task == t && !e.failure &&
            (once || int64_t(e.seconds.size()) < want)) {
          batch.push_back(&e);
          requests.push_back(makeRequest(tasks[t].workload, tasks[t].target,
                                         e.config, e.record.script));
        }
      if (batch.empty())
        continue;
      std::vector<MeasureResult> results = measurer.measure(requests);
      std::map<std::string, double> side; // this round's, by config
      for (size_t i = 0; i < batch.size() && i < results.size(); ++i) {
        const MeasureResult &r = results[i];
        if (r.abandoned)
          continue;
        ++summary.measurements;
        if (!r.ok()) {
          batch[i]->failure = r;
          continue;
        }
        side[batch[i]->config.dump()] = r.seconds;
        batch[i]->seconds.push_back(r.seconds);
        batch[i]->record.samples.insert(batch[i]->record.samples.end(),
                                        r.samples.begin(), r.samples.end());
      }
      if (side.size() > 1)
        confirmRounds[t].push_back(std::move(side));
    }
  }
  // Each config's record now summarizes every measurement made of it.
  for (Remeasure &e : entries) {
    if (e.seconds.size() <= e.before && !e.failure)
      continue; // interrupted before it was measured again
    touched.insert(std::to_string(e.task) + ' ' + e.config.dump());
    db::Record &record = e.record;
    nlohmann::json extras =
        nlohmann::json::parse(record.extrasJson, nullptr, false);
    if (!extras.is_object())
      extras = nlohmann::json::object();
    int64_t count = int64_t(e.seconds.size()) + (e.failure ? 1 : 0);
    extras["measurements"] = count;
    extras["measured_s"] = e.seconds;
    if (e.failure) {
      ++summary.failed;
      record.error = e.failure->error;
      extras["message"] = "failed when measured again (measurement " +
                          std::to_string(count) + "): " + e.failure->message;
      statuses[e.task].noteError(e.failure->error, e.failure->message);
    }
    double seconds = e.failure ? 0 : confirmedSeconds(e.seconds);
    storeFigure(e.task, e.config, record, extras, seconds);
    if (e.failure)
      okRecords[e.task].erase(e.config.dump());
    else
      okRecords[e.task][e.config.dump()] = record;
  }
  for (Remeasure &e : entries)
    remeasured[e.task] = true;
}

std::vector<std::vector<double>> Tuner::remeasuredSeconds() const {
  std::vector<std::vector<double>> measured;
  for (size_t t = 0; t < tasks.size(); ++t) {
    if (tasks[t].target.kind == TargetKind::Hwacc)
      continue;
    for (const auto &[config, record] : okRecords[t])
      if (db::isConfirmed(record) && !record.cycles)
        measured.push_back(measuredSeconds(record));
  }
  return measured;
}

std::vector<double> Tuner::pairedLeads(size_t t,
                                       const std::string &best) const {
  std::vector<double> leads;
  std::string byDefault = defaultKey(t);
  for (const auto &round : confirmRounds[t]) {
    auto b = round.find(best), d = round.find(byDefault);
    if (b != round.end() && d != round.end() && b->second > 0)
      leads.push_back(d->second / b->second);
  }
  return leads;
}

bool Tuner::bestBesideDefault(size_t t) const {
  const TaskStatus &status = statuses[t];
  return tasks[t].target.kind != TargetKind::Hwacc &&
         !status.bestConfig.is_null() && !isDefaultConfig(status.bestConfig) &&
         okRecords[t].count(status.bestConfig.dump()) &&
         okRecords[t].count(defaultKey(t));
}

std::vector<Tuner::Remeasure> Tuner::unresolvedCandidates(int64_t most) const {
  std::vector<Remeasure> entries;
  for (size_t t = 0; t < tasks.size(); ++t) {
    if (!bestBesideDefault(t))
      continue;
    auto best = okRecords[t].find(statuses[t].bestConfig.dump());
    auto byDefault = okRecords[t].find(defaultKey(t));
    if (!db::isConfirmed(best->second) || !db::isConfirmed(byDefault->second) ||
        pairedSeparated(pairedLeads(t, best->first)))
      continue;
    std::vector<double> bestS = measuredSeconds(best->second),
                        defaultS = measuredSeconds(byDefault->second);
    if (int64_t(std::min(bestS.size(), defaultS.size())) >= most)
      continue;
    // Both, so that they are measured side by side.
    size_t bestBefore = bestS.size(), defaultBefore = defaultS.size();
    entries.push_back({t, statuses[t].bestConfig, best->second,
                       std::move(bestS), bestBefore, {}});
    entries.push_back({t, defaultConfigFor(tasks[t]), byDefault->second,
                       std::move(defaultS), defaultBefore, {}});
  }
  return entries;
}

std::set<size_t> Tuner::rankByPairedLeads() {
  std::set<size_t> changed;
  for (size_t t = 0; t < tasks.size(); ++t) {
    if (!bestBesideDefault(t))
      continue;
    const TaskStatus &status = statuses[t];
    std::string bestKey = status.bestConfig.dump();
    auto best = okRecords[t].find(bestKey);
    auto byDefault = okRecords[t].find(defaultKey(t));
    std::vector<double> leads = pairedLeads(t, bestKey);
    if (!byDefault->second.latencyS || leads.size() < kMinPairedRounds)
      continue;
    db::Record &record = best->second;
    // Ranked by these very rounds in an earlier pass (another task's best
    // changed then): its figure stands, and its latency is no longer the
    // mean of its measurements.
    if (db::pairedRoundsOf(record.extrasJson) == int64_t(leads.size()))
      continue;
    double lead = *db::medianOf(leads);
    nlohmann::json extras =
        nlohmann::json::parse(record.extrasJson, nullptr, false);
    if (!extras.is_object())
      extras = nlohmann::json::object();
    extras["mean_measured_s"] = record.latencyS ? *record.latencyS : 0.0;
    extras["paired_lead"] = lead;
    extras["paired_rounds"] = int64_t(leads.size());
    storeFigure(t, status.bestConfig, record, extras,
                *byDefault->second.latencyS / lead);
    rerankFromHistory(t);
    if (statuses[t].bestConfig.dump() != bestKey)
      changed.insert(t);
  }
  return changed;
}

ConfirmSummary Tuner::confirm() {
  ConfirmSummary summary;
  std::vector<std::string> bestBefore;
  for (const TaskStatus &status : statuses)
    bestBefore.push_back(status.bestConfig.dump());
  std::set<std::string> touched;
  confirmRounds.assign(tasks.size(), {});
  // A config that drops out of the best few lets another one in, measured
  // once so far: it is measured again too, for a few passes.
  bool enabled = options.confirmTop > 0 && options.confirmMeasurements > 1;
  constexpr int kPasses = 3;
  for (int pass = 0; enabled && pass < kPasses && !stoppedByInterrupt;
       ++pass) {
    std::vector<Remeasure> entries = confirmCandidates();
    if (entries.empty())
      break;
    measureAgain(entries, summary, options.confirmMeasurements, touched);
  }
  for (size_t t = 0; t < tasks.size(); ++t)
    rerankFromHistory(t); // as the database ranks, measured again or not
  // Then each best that is not the default is measured side by side with
  // it, a round at a time, until their paired leads tell them apart, and
  // ranked by that lead. A best that falls behind another config that way
  // makes that one the best, weighed in its turn (a few passes).
  std::set<size_t> noisy;
  constexpr int kPairedPasses = 3;
  for (int pass = 0; enabled && pass < kPairedPasses && !stoppedByInterrupt;
       ++pass) {
    while (!stoppedByInterrupt) {
      std::vector<Remeasure> entries =
          unresolvedCandidates(options.confirmMaxMeasurements);
      if (entries.empty())
        break;
      for (const Remeasure &e : entries)
        noisy.insert(e.task);
      int64_t before = summary.measurements;
      measureAgain(entries, summary, /*want=*/0, touched);
      for (const Remeasure &e : entries)
        rerankFromHistory(e.task);
      if (summary.measurements == before)
        break; // nothing could be measured (the measurer gave up on them)
    }
    if (rankByPairedLeads().empty())
      break;
  }
  summary.noise = measurementNoise(remeasuredSeconds());
  for (size_t t : noisy) {
    const TaskStatus &status = statuses[t];
    if (!isDefaultConfig(status.bestConfig) &&
        !pairedSeparated(pairedLeads(t, status.bestConfig.dump())))
      ++summary.unresolved;
  }
  summary.configs = int64_t(touched.size());
  summary.noisyTasks = int64_t(noisy.size());
  for (size_t t = 0; t < tasks.size(); ++t)
    if (statuses[t].bestConfig.dump() != bestBefore[t])
      ++summary.bestChanged;
  return summary;
}

} // namespace hatc::tuner
