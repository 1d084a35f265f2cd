//===- CostModel.h - Learned ranking of candidate schedules -----*- C++ -*-===//
//
// The tuner's cost model (docs/design.md): it learns from measured candidates and
// scores unmeasured ones so the search measures only the promising few.
//
// Life cycle (as in TVM MetaSchedule): after each measured batch the tuner
// calls update(batch); before choosing what to measure next it calls
// predict(candidates). save/load keep a trained model between runs; when
// load refuses a file (another schema version, a corrupt file), the caller
// retrains from the tuning database instead.
//
// Inputs are plain feature vectors (hatc/CostModel/Features.h makes them),
// grouped by task: throughputs of different tasks are not comparable, so
// the model only learns and is only judged on the order within a group.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COSTMODEL_COSTMODEL_H
#define HATC_COSTMODEL_COSTMODEL_H

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hatc::cost_model {

/// Version of the saved-model file format (the header and what follows).
/// The feature layout has its own version, kFeatureSchemaVersion; a file
/// must match both to load.
constexpr int kModelFileVersion = 1;

/// One measured candidate.
struct Sample {
  /// The task it belongs to (the workload key + target); samples are only
  /// compared within their group.
  std::string group;
  std::vector<float> features;
  /// Higher is better (flops/s, 1/cycles, ...); 0 for a candidate that
  /// failed (build error, timeout, wrong answer): it trains as the worst.
  double throughput = 0;
  /// How much this sample counts in training (> 0): a cross-task model
  /// weighs records of other machines down and the tuned task's own up.
  /// With rank:pairwise XGBoost weighs whole groups: a group takes its
  /// first sample's weight.
  double weight = 1;
};

/// An XGBoost call failed or the inputs are inconsistent (feature vectors
/// of different lengths). update/predict throw it; load never does.
class CostModelError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class CostModel {
public:
  virtual ~CostModel();
  /// Adds measured samples to what the model knows and retrains.
  virtual void update(const std::vector<Sample> &samples) = 0;
  /// One score per feature vector; higher predicts faster. Only the order
  /// within a group means anything. All zeros before the model has seen
  /// two samples.
  virtual std::vector<double>
  predict(const std::vector<std::vector<float>> &features) = 0;
  /// Writes the model (and the samples it was trained on) to `path`.
  /// Throws CostModelError when the file cannot be written.
  virtual void save(const std::string &path) const = 0;
  /// Replaces this model by the one in `path`. Returns false, leaving this
  /// model as it was, for a missing or corrupt file, another file or
  /// feature schema version, or a file of another kind of model.
  virtual bool load(const std::string &path) = 0;
  virtual std::string name() const = 0;
  /// Samples seen so far (those loaded included).
  virtual size_t sampleCount() const = 0;
};

struct XGBoostOptions {
  /// "rank:pairwise" (learns the order within each group; the default) or
  /// "reg:squarederror" (regresses the group-normalized throughput).
  std::string objective = "rank:pairwise";
  /// Boosting rounds per retraining.
  int rounds = 40;
  int maxDepth = 6;
  double eta = 0.3;
  double minChildWeight = 1.0;
  /// 1: deterministic, and the tuner's measurements own the other cores.
  int threads = 1;
  uint64_t seed = 0;
  /// Start every prediction from the analytical estimate of the features
  /// (estimatedEfficiency, as XGBoost's base margin), so the trees learn
  /// only its error: what a model that has never seen a task knows of it
  /// is then at least the estimate. Off: plain trees (as before schema 4).
  bool estimateMargin = false;
};

/// The features' analytical efficiency estimate, ideal time / estimated
/// time in (0, 1] (2^-log2_hwacc_cycles_over_ideal, or the CPU one), for
/// the sketches that have one; 0.5 for the others.
float estimatedEfficiency(const std::vector<float> &features);

/// Gradient-boosted trees through XGBoost's C API. Every update retrains
/// from scratch on all samples seen so far: at the tuner's scale (hundreds
/// to a few thousand samples, a few dozen rounds) that takes milliseconds,
/// and unlike continued boosting it cannot drift with the order the
/// batches came in. Throws CostModelError for an unknown objective.
std::unique_ptr<CostModel> makeXGBoostModel(XGBoostOptions options = {});

/// The samples a saved XGBoost model file was trained on (with their
/// weights); nullopt for a file XGBoost's load() would refuse (missing,
/// corrupt, another file or feature schema version, another kind).
std::optional<std::vector<Sample>>
readTrainingSamples(const std::string &path);

/// Uniform random scores from a seeded generator: the baseline for
/// ablations and a stand-in for tests.
std::unique_ptr<CostModel> makeRandomModel(uint64_t seed);

/// Training targets: each throughput divided by the best one of its group
/// (so every group spans [0, 1] and tasks of different speed weigh the
/// same); 0 when the group has no positive throughput.
std::vector<float> normalizedThroughputs(const std::vector<Sample> &samples);

/// Fraction of the pairs within a group, with different actual values,
/// whose predicted order matches the actual one (a tie in the prediction
/// counts half). 0.5 when there is no such pair. With `minRelativeGap`
/// > 0, only pairs whose actual values differ by more than that fraction
/// of the larger one count (pairs closer than the measurement noise have
/// no true order to get right).
double pairwiseRankAccuracy(const std::vector<double> &predicted,
                            const std::vector<double> &actual,
                            const std::vector<std::string> &groups,
                            double minRelativeGap = 0);

/// Per group: the fraction of the true top-k found among the k best
/// predicted (k capped at the group's size; an item tied with the k-th
/// best actual value counts as true top-k); averaged over groups. 0 for no
/// groups or k == 0.
double topKRecall(const std::vector<double> &predicted,
                  const std::vector<double> &actual,
                  const std::vector<std::string> &groups, size_t k);

} // namespace hatc::cost_model

#endif // HATC_COSTMODEL_COSTMODEL_H
