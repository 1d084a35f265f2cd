//===- transfer_quality.cpp - Leave-one-task-out cost-model quality -------===//
//
// hatc-bench-transfer DB KIND [MIN_RECORDS [OBJECTIVE [ROUNDS [DEPTH]]]]
//
// For every workload with records of target kind KIND in the database:
// trains the tuner's XGBoost model on the records of every other workload
// (hatc model train --exclude does the same) and ranks the held-out task's
// OK records, which it has never seen. Prints pairwise rank accuracy and
// top-5 recall per task, for three models in one run:
//   random     - a random model (the floor);
//   schema-2   - the same training with the shape-relative features of
//                schema 3 zeroed (the features before issue 16);
//   transfer   - the shape-relative features (ours).
//
//===----------------------------------------------------------------------===//
#include "hatc/CostModel/CostModel.h"
#include "hatc/CostModel/Features.h"
#include "hatc/Db/Database.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Tuner/CrossTask.h"
#include "hatc/Tuner/Tuner.h"

#include "mlir/IR/MLIRContext.h"

#include <cstdio>
#include <cstdlib>
#include <map>

using namespace hatc;

namespace {

std::string workloadOf(const std::string &group) {
  return group.substr(0, group.rfind('@'));
}

/// The features before the shape-relative block (schema 2's layout).
std::vector<float> withoutRelative(std::vector<float> f) {
  for (int i = cost_model::FRelTileM; i < cost_model::kFeatureCount; ++i)
    f[i] = 0;
  return f;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(
        stderr,
        "usage: %s DB KIND [MIN_RECORDS [OBJECTIVE [ROUNDS [DEPTH]]]]\n",
        argv[0]);
    return 1;
  }
  std::string kind = argv[2];
  size_t minRecords = argc > 3 ? size_t(std::atoi(argv[3])) : 8;
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  initContext(context);
  std::unique_ptr<db::Database> database;
  try {
    db::OpenOptions open;
    open.readOnly = true;
    database = db::Database::open(argv[1], open);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  auto target = resolveTarget(kind);
  if (!target) {
    std::fprintf(stderr, "%s: %s\n", kind.c_str(),
                 llvm::toString(target.takeError()).c_str());
    return 1;
  }
  tuner::CrossTaskSamples all =
      tuner::crossTaskSamples(*database, context, kind, target->fingerprint());
  std::map<std::string, std::vector<size_t>> byWorkload;
  for (size_t i = 0; i < all.samples.size(); ++i)
    byWorkload[workloadOf(all.samples[i].group)].push_back(i);

  std::printf("leave-one-task-out on %s: %zu records of %zu tasks in %s\n",
              kind.c_str(), all.samples.size(), byWorkload.size(), argv[1]);
  std::printf("%-44s %6s %6s | %8s %8s | %8s %8s | %8s %8s\n", "held-out task",
              "train", "test", "rnd pw", "rnd top5", "s2 pw", "s2 top5",
              "xfer pw", "xfer top5");
  double sums[6] = {0};
  size_t counted = 0;
  tuner::TuneOptions tuneDefaults;
  for (const auto &[workload, mine] : byWorkload) {
    std::vector<cost_model::Sample> train, trainOld;
    for (const auto &[other, theirs] : byWorkload)
      if (other != workload)
        for (size_t i : theirs) {
          train.push_back(all.samples[i]);
          trainOld.push_back(all.samples[i]);
          trainOld.back().features = withoutRelative(trainOld.back().features);
        }
    std::vector<std::vector<float>> test, testOld;
    std::vector<double> actual;
    std::vector<std::string> groups;
    for (size_t i : mine)
      if (all.samples[i].throughput > 0) {
        test.push_back(all.samples[i].features);
        testOld.push_back(withoutRelative(all.samples[i].features));
        actual.push_back(all.samples[i].throughput);
        groups.push_back(workload);
      }
    if (test.size() < minRecords || train.size() < 2)
      continue;
    cost_model::XGBoostOptions options;
    options.objective = argc > 4 ? argv[4] : tuneDefaults.objective;
    if (argc > 5)
      options.rounds = std::atoi(argv[5]);
    if (argc > 6)
      options.maxDepth = std::atoi(argv[6]);
    auto transfer = cost_model::makeXGBoostModel(options);
    auto old = cost_model::makeXGBoostModel(options);
    auto random = cost_model::makeRandomModel(1);
    transfer->update(train);
    old->update(trainOld);
    std::vector<double> p[3] = {random->predict(test), old->predict(testOld),
                                transfer->predict(test)};
    double m[6];
    for (int k = 0; k < 3; ++k) {
      m[2 * k] = cost_model::pairwiseRankAccuracy(p[k], actual, groups);
      m[2 * k + 1] = cost_model::topKRecall(p[k], actual, groups, 5);
      sums[2 * k] += m[2 * k];
      sums[2 * k + 1] += m[2 * k + 1];
    }
    ++counted;
    std::printf("%-44s %6zu %6zu | %8.3f %8.3f | %8.3f %8.3f | %8.3f %8.3f\n",
                workload.substr(0, 44).c_str(), train.size(), test.size(), m[0],
                m[1], m[2], m[3], m[4], m[5]);
  }
  if (counted)
    std::printf("%-44s %6s %6zu | %8.3f %8.3f | %8.3f %8.3f | %8.3f %8.3f\n",
                "mean", "", counted, sums[0] / counted, sums[1] / counted,
                sums[2] / counted, sums[3] / counted, sums[4] / counted,
                sums[5] / counted);
  return 0;
}
