//===- CrossTask.cpp - Samples of every task of a target kind -------------===//
//
// Turns database records into cost-model samples the way the tuner does
// (same groups, same features, same throughputs), for every workload of a
// target kind at once. The workload's shape comes from the IR the database
// keeps; the target's facts from its description by name (or the kind's
// default description when the name is not known here).
//
//===----------------------------------------------------------------------===//
#include "hatc/Tuner/CrossTask.h"

#include "hatc/CostModel/Features.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Sketch.h"
#include "hatc/Tuner/Tuner.h"

#include "llvm/ADT/StringExtras.h"

#include <map>
#include <memory>
#include <optional>

namespace hatc::tuner {

std::string crossTaskModelPath(const std::string &dbPath,
                               const std::string &kind) {
  return dbPath + "." + kind + ".xtask.model";
}

cost_model::XGBoostOptions pooledModelOptions(cost_model::XGBoostOptions base,
                                              const std::string &kind) {
  if (kind == "hwacc") {
    base.estimateMargin = true;
    base.maxDepth = 2;
  }
  return base;
}

double fingerprintWeight(const std::string &mine, const std::string &other) {
  if (mine == other)
    return 1.0;
  llvm::SmallVector<llvm::StringRef> a, b;
  llvm::StringRef(mine).split(a, ':');
  llvm::StringRef(other).split(b, ':');
  size_t parts = std::max(a.size(), b.size()), same = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    same += a[i] == b[i];
  double similarity = parts ? double(same) / double(parts) : 0.0;
  return 0.25 + 0.75 * similarity;
}

size_t groupCount(const std::vector<cost_model::Sample> &samples) {
  std::set<std::string> groups;
  for (const cost_model::Sample &s : samples)
    groups.insert(s.group);
  return groups.size();
}

std::string taskGroup(const std::string &workloadKey,
                      const std::string &workloadHash,
                      const std::string &fingerprint) {
  return workloadKey + (workloadHash.empty() ? "" : "#" + workloadHash) + "@" +
         fingerprint;
}

namespace {

/// What features need of one (workload, target) pair; nullopt when the
/// workload cannot be analysed here.
struct TaskFacts {
  WorkloadShape shape;
  TargetFacts facts;
  double dmaBytesPerCycle = 16;
  std::vector<std::unique_ptr<Sketch>> sketches;
};

} // namespace

CrossTaskSamples crossTaskSamples(db::Database &database,
                                  mlir::MLIRContext &context,
                                  const std::string &kind,
                                  const std::string &fingerprint,
                                  const std::set<std::string> &excludeKeys) {
  CrossTaskSamples out;
  std::map<std::string, std::string> irs;
  std::map<std::string, std::optional<TaskFacts>> known;
  std::set<std::string> groups;
  database.forEachRecord([&](const db::Record &r) {
    // One workload is a key and a structural hash (taskGroup).
    std::string workloadId = r.workloadKey + "#" + r.workloadHash;
    if (!r.workloadIr.empty() && !irs.count(workloadId))
      irs[workloadId] = r.workloadIr;
    if (r.targetKind != kind)
      return;
    if (excludeKeys.count(r.workloadKey)) {
      out.excluded.insert(r.workloadKey);
      return;
    }
    std::string task = workloadId + "@" + r.targetName;
    auto it = known.find(task);
    if (it == known.end()) {
      std::optional<TaskFacts> facts;
      auto ir = irs.find(workloadId);
      if (ir == irs.end()) {
        out.skipped.push_back(r.workloadKey + ": the database has no IR");
      } else if (auto workload =
                     parseWorkload(context, ir->second, r.workloadKey);
                 !workload) {
        out.skipped.push_back(r.workloadKey + ": " +
                              errorMessage(workload.takeError()));
      } else {
        auto target = resolveTarget(r.targetName);
        if (!target) {
          llvm::consumeError(target.takeError());
          target = resolveTarget(kind);
        }
        auto targetFacts =
            target ? TargetFacts::of(*target)
                   : llvm::Expected<TargetFacts>(target.takeError());
        if (!targetFacts) {
          out.skipped.push_back(r.workloadKey + ": target " + r.targetName +
                                ": " + errorMessage(targetFacts.takeError()));
        } else {
          facts.emplace();
          facts->shape = analyzeWorkload(*workload);
          facts->facts = *targetFacts;
          facts->dmaBytesPerCycle =
              target->params.value("dma_bytes_per_cycle", 16.0);
          facts->sketches = sketchesFor(facts->shape, facts->facts);
        }
      }
      it = known.emplace(task, std::move(facts)).first;
    }
    if (!it->second)
      return;
    const TaskFacts &t = *it->second;
    nlohmann::json config = nlohmann::json::parse(r.configJson, nullptr, false);
    if (config.is_discarded())
      return;
    const Sketch *sketch = nullptr;
    std::string name = config.is_object() ? config.value("sketch", "") : "";
    for (const auto &candidate : t.sketches)
      if (candidate->name() == name)
        sketch = candidate.get();
    double throughput = 0;
    nlohmann::json extras = nlohmann::json::parse(r.extrasJson, nullptr, false);
    // A farm's simulated device (--farm-simulate) made this figure up.
    if (extras.is_object() && extras.contains("simulated_s"))
      return;
    if (r.error == db::ErrorCode::Ok)
      throughput = extras.is_object() ? extras.value("gflops", 0.0) : 0.0;
    // A model's task was measured with its weights in it (Tune.cpp).
    WorkloadShape shape = t.shape;
    shape.constantWeights = extras.is_object() && extras.value("weights", false);
    cost_model::Sample sample;
    // The tuner's group: a task on one machine.
    sample.group = taskGroup(r.workloadKey, r.workloadHash, r.targetFingerprint);
    sample.features = cost_model::extractFeatures(
        featureInputOf(shape, t.facts, config, t.dmaBytesPerCycle, sketch));
    sample.throughput = throughput;
    sample.weight = fingerprintWeight(fingerprint, r.targetFingerprint);
    groups.insert(sample.group);
    out.samples.push_back(std::move(sample));
  });
  out.tasks = groups.size();
  return out;
}

} // namespace hatc::tuner
