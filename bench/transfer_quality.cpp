//===- transfer_quality.cpp - Leave-one-task-out cost-model quality -------===//
//
// hatc-bench-transfer DB KIND [--min-records N] [--objective O]
//                     [--rounds R] [--depth D] [--gap G] [--dump FILE]
//                     [--test-db T] [--train-db C]...
//
// For every workload with records of target kind KIND in the database:
// trains the tuner's XGBoost model on the records of every other workload
// (hatc model train --exclude does the same) and ranks the held-out task's
// OK records, which it has never seen. Prints, per task and model, the
// pairwise rank accuracy over all pairs ("pw"), over the pairs whose
// throughputs differ by more than G (default 0.05, i.e. 5%: "pw>G"; closer
// pairs are within the noise of a loaded CPU), and the top-5 recall, for:
//   random   - a random model (the floor);
//   schema-2 - the shape-relative features of schema 3 and everything
//              after them zeroed (the features before issue 16);
//   schema-3 - the estimates of schema 4 and everything after zeroed;
//   estimate - no training: the analytical time estimate alone (schema 4's
//              log2_hwacc_cycles_over_ideal / log2_cpu_time_over_ideal);
//   schema-5 - all features (ours: schema 4 plus panels, split_n, dot
//              groups, amx and constant_weights);
//   s5+est   - all features, the trees trained on top of the estimate
//              (XGBoostOptions::estimateMargin; on hwacc at depth 2: what
//              hatc tune does with a cross-task model,
//              tuner::pooledModelOptions).
// --dump FILE writes every sample as a JSON line (its task, throughput and
// non-zero features by name), for looking at what a model gets wrong.
// --train-db C (repeatable) adds C's records to every held-out task's
// training set, never held out themselves (a corpus: hatc model corpus);
// a corpus task of the held-out task's shape is left out with it.
// --test-db T ranks each held-out task's records in T instead (e.g. random
// samples of its space, `hatc tune --search random`: what a new task's
// first trials are drawn from, where DB's guided records crowd near the
// best); the models then train on the other tasks' records of DB and T.
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

/// The workload's structural key, without the hash of its weights.
std::string keyOf(const std::string &workload) {
  return workload.substr(0, workload.find('#'));
}

/// The features before the shape-relative block (schema 2's layout).
std::vector<float> schema2(std::vector<float> f) {
  for (int i = cost_model::FRelTileM; i < cost_model::kFeatureCount; ++i)
    f[i] = 0;
  return f;
}

/// The features before the analytical estimates (schema 3's layout).
std::vector<float> schema3(std::vector<float> f) {
  for (int i = cost_model::FLog2HwaccCyclesOverIdeal;
       i < cost_model::kFeatureCount; ++i)
    f[i] = 0;
  return f;
}

/// Higher is faster: minus the estimated time over the ideal (only one of
/// the two estimates is non-zero for a config).
double estimateScore(const std::vector<float> &f) {
  return -double(f[cost_model::FLog2HwaccCyclesOverIdeal]) -
         double(f[cost_model::FLog2CpuTimeOverIdeal]);
}

[[noreturn]] void usage(const char *argv0) {
  std::fprintf(stderr,
               "usage: %s DB KIND [--min-records N] [--objective O] "
               "[--rounds R] [--depth D] [--gap G] [--dump FILE] "
               "[--test-db T] [--train-db C]...\n",
               argv0);
  std::exit(1);
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    usage(argv[0]);
  std::string kind = argv[2];
  size_t minRecords = 8;
  double gap = 0.05;
  std::string dumpPath, testPath;
  std::vector<std::string> trainPaths;
  tuner::TuneOptions tuneDefaults;
  cost_model::XGBoostOptions options;
  options.objective = tuneDefaults.objective;
  for (int i = 3; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc)
      usage(argv[0]);
    std::string value = argv[++i];
    if (flag == "--min-records")
      minRecords = size_t(std::atoi(value.c_str()));
    else if (flag == "--objective")
      options.objective = value;
    else if (flag == "--rounds")
      options.rounds = std::atoi(value.c_str());
    else if (flag == "--depth")
      options.maxDepth = std::atoi(value.c_str());
    else if (flag == "--gap")
      gap = std::atof(value.c_str());
    else if (flag == "--dump")
      dumpPath = value;
    else if (flag == "--test-db")
      testPath = value;
    else if (flag == "--train-db")
      trainPaths.push_back(value);
    else
      usage(argv[0]);
  }
  try { // an unknown --objective, before any database is read
    cost_model::makeXGBoostModel(options);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  initContext(context);
  std::unique_ptr<db::Database> database, testDatabase;
  std::vector<std::unique_ptr<db::Database>> trainDatabases;
  try {
    db::OpenOptions open;
    open.readOnly = true;
    database = db::Database::open(argv[1], open);
    if (!testPath.empty())
      testDatabase = db::Database::open(testPath, open);
    for (const std::string &path : trainPaths)
      trainDatabases.push_back(db::Database::open(path, open));
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
  // Which samples a held-out task is ranked on (all of DB's, or T's only),
  // and which come from a corpus (--train-db): those train every held-out
  // task's model and are never held out themselves.
  std::vector<bool> tested(all.samples.size(), !testDatabase);
  std::vector<bool> fromCorpus(all.samples.size(), false);
  auto append = [&](db::Database &from, bool test, bool corpus) {
    tuner::CrossTaskSamples more =
        tuner::crossTaskSamples(from, context, kind, target->fingerprint());
    all.samples.insert(all.samples.end(), more.samples.begin(),
                       more.samples.end());
    tested.resize(all.samples.size(), test);
    fromCorpus.resize(all.samples.size(), corpus);
    return more.samples.size();
  };
  if (testDatabase)
    append(*testDatabase, /*test=*/true, /*corpus=*/false);
  size_t corpusRecords = 0;
  for (const auto &corpus : trainDatabases)
    corpusRecords += append(*corpus, /*test=*/false, /*corpus=*/true);
  if (!dumpPath.empty()) {
    std::FILE *dump = std::fopen(dumpPath.c_str(), "w");
    if (!dump) {
      std::fprintf(stderr, "cannot write %s\n", dumpPath.c_str());
      return 1;
    }
    for (const cost_model::Sample &s : all.samples) {
      nlohmann::json line = {{"task", workloadOf(s.group)},
                             {"throughput", s.throughput}};
      for (size_t i = 0; i < s.features.size(); ++i)
        if (s.features[i] != 0)
          line["features"][cost_model::featureNames()[i]] = s.features[i];
      std::fprintf(dump, "%s\n", line.dump().c_str());
    }
    std::fclose(dump);
  }
  std::map<std::string, std::vector<size_t>> byWorkload;
  for (size_t i = 0; i < all.samples.size(); ++i)
    byWorkload[workloadOf(all.samples[i].group)].push_back(i);

  const char *names[] = {"random",   "schema-2", "schema-3",
                         "estimate", "schema-5", "s5+est"};
  constexpr int kModels = 6;
  std::printf("leave-one-task-out on %s: %zu records of %zu tasks in %s%s%s "
              "(objective %s; pw>%.0f%%: pairs differing by more than "
              "%.0f%%)\n",
              kind.c_str(), all.samples.size(), byWorkload.size(), argv[1],
              testDatabase ? "; each held-out task ranked on its records in "
                           : "",
              testPath.c_str(), options.objective.c_str(), gap * 100,
              gap * 100);
  if (!trainPaths.empty())
    std::printf("(%zu of the records from %zu corpus database(s), training "
                "only)\n",
                corpusRecords, trainPaths.size());
  std::printf("%-30s %5s %4s", "held-out task", "train", "test");
  for (const char *name : names)
    std::printf("|%-15s", name);
  std::printf("\n%-30s %5s %4s", "", "", "");
  for (int k = 0; k < kModels; ++k)
    std::printf("|%5s %4s %4s", "pw", "pw>", "top5");
  std::printf("\n");
  double sums[kModels][3] = {};
  size_t counted = 0;
  for (const auto &[workload, mine] : byWorkload) {
    std::vector<cost_model::Sample> train[3];
    for (const auto &[other, theirs] : byWorkload)
      if (other != workload)
        for (size_t i : theirs) {
          // A corpus task of the held-out task's shape is that task.
          if (fromCorpus[i] && keyOf(other) == keyOf(workload))
            continue;
          cost_model::Sample s = all.samples[i];
          train[2].push_back(s);
          s.features = schema3(s.features);
          train[1].push_back(s);
          s.features = schema2(s.features);
          train[0].push_back(s);
        }
    std::vector<std::vector<float>> test[3];
    std::vector<double> actual, estimate;
    std::vector<std::string> groups;
    for (size_t i : mine)
      if (all.samples[i].throughput > 0 && tested[i]) {
        const std::vector<float> &f = all.samples[i].features;
        test[2].push_back(f);
        test[1].push_back(schema3(f));
        test[0].push_back(schema2(f));
        estimate.push_back(estimateScore(f));
        actual.push_back(all.samples[i].throughput);
        groups.push_back(workload);
      }
    if (actual.size() < minRecords || train[2].size() < 2)
      continue;
    std::vector<double> p[kModels];
    p[0] = cost_model::makeRandomModel(1)->predict(test[2]);
    for (int s = 0; s < 3; ++s) {
      auto model = cost_model::makeXGBoostModel(options);
      model->update(train[s]);
      p[s == 2 ? 4 : s + 1] = model->predict(test[s]);
    }
    p[3] = estimate;
    cost_model::XGBoostOptions withMargin =
        tuner::pooledModelOptions(options, kind);
    withMargin.estimateMargin = true;
    auto onEstimate = cost_model::makeXGBoostModel(withMargin);
    onEstimate->update(train[2]);
    p[5] = onEstimate->predict(test[2]);
    std::printf("%-30s %5zu %4zu", workload.substr(0, 30).c_str(),
                train[2].size(), actual.size());
    for (int k = 0; k < kModels; ++k) {
      double m[3] = {
          cost_model::pairwiseRankAccuracy(p[k], actual, groups),
          cost_model::pairwiseRankAccuracy(p[k], actual, groups, gap),
          cost_model::topKRecall(p[k], actual, groups, 5)};
      for (int j = 0; j < 3; ++j)
        sums[k][j] += m[j];
      std::printf("|%5.3f %4.2f %4.2f", m[0], m[1], m[2]);
    }
    std::printf("\n");
    ++counted;
  }
  if (counted) {
    std::printf("%-30s %5s %4zu", "mean", "", counted);
    for (int k = 0; k < kModels; ++k)
      std::printf("|%5.3f %4.2f %4.2f", sums[k][0] / counted,
                  sums[k][1] / counted, sums[k][2] / counted);
    std::printf("\n");
  }
  return 0;
}
