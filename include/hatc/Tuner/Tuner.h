//===- Tuner.h - Evolutionary search guided by a cost model ----*- C++ -*-===//
//
// Life cycle (after TVM MetaSchedule's): a Tuner gets tasks, a Measurer, a
// CostModel and a Recorder. run() first loads what the database already has
// for each task (those configs are never measured again, and the model is
// rebuilt from them), measures the default schedule once, then repeats:
// pick a task (the one with the largest expected gain), propose a batch
// (evolution scored by the model, plus epsilon-greedy random picks),
// measure it, record every result, update the model. It stops at the trial
// budget, the time budget, after `earlyStop` trials without improvement, or
// when interrupted (between batches, keeping everything measured).
//
// Sessions sharing a database (several `hatc tune` on one PostgreSQL server,
// or on one SQLite file) never measure the same candidate twice: each
// candidate of a batch is claimed in the database first (db::Database::claim)
// and skipped when another session measured or holds it; what the others
// measured is read back as known results (the model learns from them) and
// counts against the trial budget like records of earlier runs, and the last
// claims of a task are capped at the budget, so N sessions with `--trials T`
// together leave T records of a single task, not N x T.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TUNER_TUNER_H
#define HATC_TUNER_TUNER_H

#include "hatc/CostModel/CostModel.h"
#include "hatc/CostModel/Features.h"
#include "hatc/Measure/Harness.h"
#include "hatc/Tuner/Recording.h"
#include "hatc/Tuner/Sketch.h"
#include "hatc/Tuner/TaskScheduler.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace hatc::tuner {

struct TuneOptions {
  int64_t trials = 64;      // measured configs per run, over all tasks
  double timeBudgetS = 0;   // 0: none
  uint64_t seed = 0;
  int64_t batchSize = 8;
  /// "xgboost": evolution scored by XGBoost; "random-model": the same
  /// evolution scored by a random model (ablation); "random": plain random
  /// sampling, no evolution.
  std::string search = "xgboost";
  std::string objective = "reg:squarederror"; // XGBoost's
  double epsilon = 0.1;     // share of each batch sampled at random
  int64_t population = 128; // evolution population
  int64_t generations = 4;
  int64_t earlyStop = 0;    // stop after this many trials without a new best
  bool countExisting = true; // records already in the database use budget
  std::string modelPath;    // save the model here after each batch
  /// How long a claim on a candidate holds when this session dies before
  /// measuring it (a live session measures its claims within a batch).
  double claimTtlS = 1800;
  /// A cross-task model (hatc model train; CrossTask.h): when the file
  /// loads, its samples of other tasks train the model from the first
  /// trial, pooled with the tasks' own samples weighed up. Empty or a
  /// missing file: each task learns from its own records only.
  std::string crossTaskModelPath;
  /// Tuner::confirm: the best `confirmTop` configs of each task and its
  /// default are measured until each has `confirmMeasurements` independent
  /// measurements (0 or 1: not at all).
  int64_t confirmTop = 4;
  int64_t confirmMeasurements = 3;
  /// Then a task whose best is not the default has both measured side by
  /// side, a round at a time, until their paired leads tell them apart
  /// (pairedSeparated) or either has this many measurements (at most
  /// confirmMeasurements: no such rounds); the best is then ranked by its
  /// paired lead (Tuner::rankByPairedLeads).
  int64_t confirmMaxMeasurements = 9;
};

/// What Tuner::confirm did.
struct ConfirmSummary {
  int64_t configs = 0;      ///< Configs measured again.
  int64_t measurements = 0; ///< Measurements made (not counted as trials).
  /// Tasks whose best config is another one than before.
  int64_t bestChanged = 0;
  int64_t failed = 0; ///< Configs that failed when measured again.
  /// The measurements' relative noise (measurementNoise) over every config
  /// measured again, timed on the wall clock; 0 when none was.
  double noise = 0;
  /// Tasks whose best and default were measured further, side by side
  /// (TuneOptions::confirmMaxMeasurements), and of those, the ones whose
  /// best's paired lead stayed within its noise up to that many
  /// measurements.
  int64_t noisyTasks = 0;
  int64_t unresolved = 0;
};

/// What the cost model reads of a candidate: the anchor op, the config as
/// its sketch describes it (`sketch`, or the one of that name among the
/// sketches of the shape and target; none is described as no sketch) and
/// the target's facts (dmaBytesPerCycle: the hwacc DMA bandwidth).
cost_model::FeatureInput featureInputOf(const WorkloadShape &shape,
                                        const TargetFacts &facts,
                                        const nlohmann::json &config,
                                        double dmaBytesPerCycle = 16,
                                        const Sketch *sketch = nullptr);

/// One task: a workload (an entry function) on a target.
struct TuneTask {
  Workload workload;
  Target target;
  std::unique_ptr<SearchSpace> space;
  WorkloadShape shape;
  TargetFacts facts;
  /// How often the model runs this task (TaskScheduler's w_i); 1 for a
  /// workload file's functions.
  double weight = 1;
};

/// What happened to a task, for the progress line, the caller and tests.
struct TaskStatus {
  std::string name;           // the workload key
  int64_t trials = 0;         // measured by this run
  int64_t existing = 0;       // found in the database
  /// Of `existing`: measured by other sessions while this one ran.
  int64_t concurrent = 0;
  double bestThroughput = 0;  // GFLOP/s (modeled on hwacc)
  double defaultThroughput = 0;
  std::optional<int64_t> bestCycles, defaultCycles;
  nlohmann::json bestConfig;
  std::vector<double> curve;  // best throughput so far, per trial
  std::vector<std::string> measuredOrder; // configs, in measurement order
  /// Failed trials (this run's and the database's) by error code, and the
  /// first message seen for each code: what `tune` reports when no trial
  /// of the task worked.
  std::map<db::ErrorCode, int64_t> errorCounts;
  std::map<db::ErrorCode, std::string> errorExamples;
  void noteError(db::ErrorCode code, const std::string &message);
};

class Tuner {
public:
  Tuner(std::vector<TuneTask> tasks, Measurer &measurer,
        std::unique_ptr<cost_model::CostModel> model, Recorder &recorder,
        TuneOptions options);

  /// Progress after each batch (task index, status, trials done, budget).
  std::function<void(size_t, const TaskStatus &, int64_t, int64_t)> onBatch;
  /// Set from a signal handler: the tuner stops before the next batch.
  std::atomic<bool> *interrupted = nullptr;

  void run();
  /// After run(): one measurement is one worker's figure, and a worker's
  /// runs can all be slowed down together (measured: a 2-thread default
  /// matmul at 129, 36 and 131 us in three measurements, 40 us in `hatc
  /// run`), so a config measured once in such a spell, the default
  /// included, ranks far below what it does; and the best of many configs
  /// measured once each is the luckiest of their runs as much as the
  /// fastest config. Each task's best options.confirmTop configs and its
  /// default (cpu and gpu; hwacc's figures are modeled, the same every
  /// time) are measured again, side by side, a batch per task and round,
  /// until each has options.confirmMeasurements. A record's latency
  /// becomes confirmedSeconds of its measurements (the mean of those after
  /// the first, slow spells left out), with extras "measurements" and
  /// "measured_s"; the database keeps the record of more measurements
  /// (CommitResult) and ranks records measured again first
  /// (db::isConfirmed), and so does the task's status after this call. A
  /// config that fails once is recorded failed. Configs measured enough
  /// before are left alone, so a resumed session measures only its new best
  /// again. Stops between batches when interrupted.
  ConfirmSummary confirm();
  const std::vector<TaskStatus> &status() const { return statuses; }
  int64_t trialsDone() const { return done; }
  /// What the task scheduler sees of each task now (for the end-to-end
  /// estimate).
  std::vector<TaskProgress> progress() const;
  bool wasInterrupted() const { return stoppedByInterrupt; }
  /// Whether the search ended on TuneOptions::timeBudgetS (after at least
  /// one batch) before its trials were done.
  bool ranOutOfTime() const { return stoppedByTimeBudget; }

private:
  struct Candidate {
    nlohmann::json config;
    std::string script;
  };
  /// Reads the task's records this session does not know yet (all of them
  /// at the start; later, what concurrent sessions measured).
  void loadExisting(size_t task);
  /// The candidates of `batch` this session claimed and must measure.
  std::vector<Candidate> claimBatch(size_t task, std::vector<Candidate> batch);
  /// Records counted against the trial budget (this run's and the
  /// database's).
  int64_t recordsKnown() const;
  /// Samples of other tasks from options.crossTaskModelPath (says so).
  std::vector<cost_model::Sample> crossTaskPrior();
  /// A fresh model on the prior (fading with the own samples seen) and
  /// every own sample.
  void retrainOnPooled();
  cost_model::XGBoostOptions xgboostOptions() const;
  std::vector<Candidate> propose(size_t task, int64_t count);
  void measureBatch(size_t task, std::vector<Candidate> batch);
  size_t pickTask();
  std::vector<float> features(size_t task, const nlohmann::json &config) const;
  cost_model::Sample sample(size_t task, const nlohmann::json &config,
                            double throughput) const;

  std::vector<TuneTask> tasks;
  Measurer &measurer;
  std::unique_ptr<cost_model::CostModel> model;
  Recorder &recorder;
  TuneOptions options;
  Rng rng;
  std::vector<TaskStatus> statuses;
  std::vector<std::set<std::string>> measured; // canonical configs per task
  /// Configs whose result is in `history` (a subset of `measured`, which
  /// also holds those another session claimed and has not measured yet).
  std::vector<std::set<std::string>> known;
  std::string claimOwner; // this session, in the database's claims
  /// Results other sessions measured, read since the last model update.
  std::vector<cost_model::Sample> othersSamples;
  std::vector<std::vector<std::pair<nlohmann::json, double>>> history;
  std::vector<int64_t> sinceImprovement;
  std::vector<bool> exhausted; // no unmeasured valid config left
  std::vector<double> existingBest; // best throughput found in the database
  /// The record of each OK config (canonical config text), per task: what
  /// confirm() measures again and extends.
  std::vector<std::map<std::string, db::Record>> okRecords;
  /// Tasks some of whose configs confirm() measured again: their best is
  /// statuses[task].bestThroughput from then on (TaskProgress).
  std::vector<bool> remeasured;
  /// The rounds of the running confirm(), per task: each round's
  /// measurement of each config measured in it (canonical config text to
  /// seconds), side by side in one batch.
  std::vector<std::vector<std::map<std::string, double>>> confirmRounds;
  /// The default's seconds over `best`'s, one per round of confirmRounds[t]
  /// that measured both.
  std::vector<double> pairedLeads(size_t task, const std::string &best) const;
  /// statuses[task]'s best and default, from `history`.
  void rerankFromHistory(size_t task);
  /// A config confirm() measures again.
  struct Remeasure {
    size_t task;
    nlohmann::json config;
    db::Record record;           // as stored, extended as measured
    std::vector<double> seconds; // one per measurement
    size_t before;               // measurements when confirm() began
    std::optional<MeasureResult> failure;
  };
  /// Each task's best few and its default, measured too few times so far.
  std::vector<Remeasure> confirmCandidates() const;
  /// Whether task `t` is timed and its best is another config than its
  /// default, both with OK records: what paired rounds compare.
  bool bestBesideDefault(size_t t) const;
  /// defaultConfigFor(tasks[t]).dump(): the default's key in the maps above.
  std::string defaultKey(size_t t) const;
  /// Each task's best and default whose paired leads do not yet tell them
  /// apart (pairedSeparated), while either has fewer than `most`
  /// measurements.
  std::vector<Remeasure> unresolvedCandidates(int64_t most) const;
  /// The measurements of every config measured again so far (timed on the
  /// wall clock), for measurementNoise.
  std::vector<std::vector<double>> remeasuredSeconds() const;
  /// Gives task t's `record` of `config` the latency `seconds` (extras
  /// "seconds" and "gflops"; 0: none, a failure) with `extras`, stores it,
  /// and ranks the config by its throughput in `history` (0 for none).
  void storeFigure(size_t t, const nlohmann::json &config, db::Record &record,
                   nlohmann::json &extras, double seconds);
  /// Measures `entries` up to `want` measurements each (0: each once, in
  /// one round), records them and reranks their tasks; `touched` collects
  /// the configs measured.
  void measureAgain(std::vector<Remeasure> &entries, ConfirmSummary &summary,
                    int64_t want, std::set<std::string> &touched);
  /// Where a task's best has kMinPairedRounds rounds or more side by side
  /// with its default, its latency becomes the default's over their median
  /// paired lead (recorded, extras "paired_lead" and "paired_rounds").
  /// Returns the tasks whose best changed.
  std::set<size_t> rankByPairedLeads();
  TaskScheduler scheduler;
  int64_t done = 0;
  bool searching = false; // past the first read of the database
  bool stoppedByInterrupt = false;
  bool stoppedByTimeBudget = false;
  double ownSampleWeight = 1; // kOwnSampleWeight with a cross-task prior
  std::vector<cost_model::Sample> prior; // other tasks' samples, if any
};

/// A slow spell: a measurement this many times its config's fastest.
/// Seen: 2-3.5x, the whole measurement (other work on the cores, the
/// threads' placement); a config's own spread between worker processes is
/// 5-15%.
constexpr double kSlowSpell = 1.5;

/// The latency a config measured again is ranked by, from its measurements
/// in order (Tuner::confirm): the mean of those after the first, slow
/// spells left out.
/// - Not the first: it is the figure the config was picked for among many,
///   the luckiest run as much as the fastest config (seen: the best few's
///   first runs 12-20% faster than their next two, bf16 matmul, 2 threads).
///   The later ones are measured side by side with the other configs and
///   the default, in the same rounds.
/// - The mean, not the fastest: a config whose runs differ from one worker
///   process to the next (a buffer's placement) runs like that in a
///   library too; the fastest of two favours the most uneven config (seen:
///   a conv measured at 467 and 530 us picked over a default at 472 and
///   479, then 8% slower than it in the bench).
/// - Slow spells left out (over kSlowSpell x the fastest): they say nothing
///   of the config (seen: a default matmul measured at 129, 36 and 131 us,
///   40 us in `hatc run`).
/// One measurement is its own figure; none gives 0.
double confirmedSeconds(const std::vector<double> &measured);
/// The measurements confirmedSeconds averages: those after the first,
/// slow spells left out (all of one).
std::vector<double> keptSeconds(const std::vector<double> &measured);

/// The relative noise of single measurements: the pooled standard deviation
/// of each config's kept measurements (keptSeconds) about their mean,
/// relative to that mean, over the configs with two or more. 0 with none.
/// Pooled because one config's two or three measurements say little of the
/// spread, while the host's noise is the same for all its configs (seen:
/// 2-4% on a quiet machine, 15-30% on a shared VM).
double measurementNoise(const std::vector<std::vector<double>> &measured);

/// Rounds side by side a best needs with its default before their paired
/// leads decide (pairedSeparated, Tuner::rankByPairedLeads).
constexpr size_t kMinPairedRounds = 3;

/// Whether paired leads (the default's seconds over the best's, each from
/// one round that measured both side by side) tell the best apart from the
/// default: the median lead is at most 1, or the mean log lead is at least
/// two of its standard errors (its spread over the rounds). A lead smaller
/// than that is as likely the noise as the config: the winner's curse of
/// picking the fastest of many noisy figures. Pairs cancel what slows a
/// round down for both (seen: a shared VM whose runs all slow down 1.2-2x
/// for seconds at a time), which unpaired means cannot: there, whichever
/// config happened to be measured in more fast spells led (BERT's Q/K/V
/// matmul: 1.21x by the means of 7 and 8 measurements, 0.99x alternating
/// `hatc run`). Fewer than kMinPairedRounds leads: not decided (false).
bool pairedSeparated(const std::vector<double> &leads);

/// "default" configs stand for the default schedule.
bool isDefaultConfig(const nlohmann::json &config);
/// The config of the default schedule on `kind` run on `threads` kernel
/// threads: {"sketch": "default"}, with "threads" on the CPU, where the
/// default derives its tiles and threads from the kernel threads it runs
/// on, so that the default on 1 thread and on 2 are two configs (two
/// records) in one database, not one. What `tune` and `measure` record
/// for a default config of any form.
nlohmann::json defaultConfigOn(TargetKind kind, int64_t threads);
/// defaultConfigOn for `task`'s target and facts.threads.
nlohmann::json defaultConfigFor(const TuneTask &task);

} // namespace hatc::tuner

#endif // HATC_TUNER_TUNER_H
