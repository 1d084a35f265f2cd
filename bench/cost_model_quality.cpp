//===- cost_model_quality.cpp - Cost-model accuracy on held-out records ---===//
//
// hatc-bench-costmodel DB [TRAIN_FRACTION]
//
// For every task in the database, trains on the first TRAIN_FRACTION of its
// OK-or-error records (in measurement order) and predicts the rest; prints
// pairwise rank accuracy and top-5 recall of XGBoost (both objectives) and of
// the random model, side by side.
//
//===----------------------------------------------------------------------===//
#include "hatc/CostModel/CostModel.h"
#include "hatc/CostModel/Features.h"
#include "hatc/Db/Database.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Sketch.h"
#include "hatc/Tuner/Tuner.h"

#include "mlir/IR/MLIRContext.h"

#include <cstdio>
#include <map>

using namespace hatc;

namespace {
struct TaskData {
  std::vector<cost_model::Sample> samples;
};
} // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DB [TRAIN_FRACTION]\n", argv[0]);
    return 1;
  }
  double trainFraction = argc > 2 ? std::atof(argv[2]) : 0.5;
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  initContext(context);
  db::OpenOptions open;
  open.readOnly = true;
  std::unique_ptr<db::Database> database;
  try {
    database = db::Database::open(argv[1], open);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::map<std::string, TaskData> tasks;
  std::map<std::string, std::pair<tuner::WorkloadShape, tuner::TargetFacts>>
      shapes;
  std::map<std::string, std::string> irs;
  database->forEachRecord([&](const db::Record &r) {
    if (!r.workloadIr.empty())
      irs[r.workloadKey] = r.workloadIr;
    if (r.sketch == "default")
      return;
    std::string group = r.workloadKey + "@" + r.targetKind;
    if (!shapes.count(group)) {
      auto it = irs.find(r.workloadKey);
      if (it == irs.end())
        return;
      auto workload = parseWorkload(context, it->second, r.workloadKey);
      if (!workload) {
        std::fprintf(stderr, "%s\n", errorMessage(workload.takeError()).c_str());
        return;
      }
      auto target = resolveTarget(r.targetKind);
      if (!target)
        return;
      auto facts = tuner::TargetFacts::of(*target);
      if (!facts)
        return;
      shapes[group] = {tuner::analyzeWorkload(*workload), *facts};
    }
    const auto &[shape, facts] = shapes[group];
    cost_model::FeatureInput input = tuner::featureInputOf(
        shape, facts, nlohmann::json::parse(r.configJson));
    double throughput = 0;
    if (r.error == db::ErrorCode::Ok) {
      nlohmann::json extras = nlohmann::json::parse(r.extrasJson, nullptr, false);
      throughput = extras.is_object() ? extras.value("gflops", 0.0) : 0.0;
    }
    tasks[group].samples.push_back(
        {group, cost_model::extractFeatures(input), throughput});
  });

  std::printf("%-60s %6s %6s  %-22s %9s %9s\n", "task", "train", "test",
              "model", "pairwise", "top-5");
  for (auto &[group, data] : tasks) {
    size_t n = data.samples.size();
    size_t split = size_t(double(n) * trainFraction);
    if (split < 4 || n - split < 4)
      continue;
    std::vector<cost_model::Sample> train(data.samples.begin(),
                                          data.samples.begin() + split);
    std::vector<std::vector<float>> testFeatures;
    std::vector<double> actual;
    std::vector<std::string> groups;
    for (size_t i = split; i < n; ++i) {
      testFeatures.push_back(data.samples[i].features);
      actual.push_back(data.samples[i].throughput);
      groups.push_back(group);
    }
    std::vector<std::pair<std::string, std::unique_ptr<cost_model::CostModel>>>
        models;
    for (const char *objective : {"reg:squarederror", "rank:pairwise"}) {
      cost_model::XGBoostOptions options;
      options.objective = objective;
      models.push_back({std::string("xgboost ") + objective,
                        cost_model::makeXGBoostModel(options)});
    }
    models.push_back({"random", cost_model::makeRandomModel(1)});
    for (auto &[name, model] : models) {
      model->update(train);
      std::vector<double> predicted = model->predict(testFeatures);
      std::printf("%-60s %6zu %6zu  %-22s %9.3f %9.3f\n",
                  group.substr(0, 60).c_str(), split, n - split, name.c_str(),
                  cost_model::pairwiseRankAccuracy(predicted, actual, groups),
                  cost_model::topKRecall(predicted, actual, groups, 5));
    }
  }
  return 0;
}
