//===- CostModelTest.cpp - Tests of the XGBoost and random cost models ----===//
//
// Synthetic tasks whose throughput is a known smooth function of two knobs
// (with the optimum moving with the task's size, and a region of failing
// configs): the XGBoost model must learn the order within each task from
// training samples and rank held-out samples well, under both objectives;
// the random model must not. Also save/load and incremental updates.
//
//===----------------------------------------------------------------------===//

#include "hatc/CostModel/CostModel.h"
#include "hatc/CostModel/Features.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace hatc::cost_model;

namespace {

constexpr int kGroups = 8;

/// Features: [task size, knob x1, knob x2, two noise features, a flag].
Sample syntheticSample(int group, std::mt19937_64 &rng) {
  std::uniform_real_distribution<double> x1Dist(0, 8), x2Dist(0, 7), unit(0, 1);
  std::normal_distribution<double> noise(0, 0.01);
  double size = group;
  double x1 = x1Dist(rng), x2 = x2Dist(rng);
  bool flag = unit(rng) < 0.5;
  // The best x1 moves with the task's size; x2's optimum is fixed.
  double c1 = 2 + 0.5 * size;
  double quality = std::exp(-(x1 - c1) * (x1 - c1) / 4 - (x2 - 3) * (x2 - 3) / 8);
  double scale = std::pow(10.0, group % 4); // tasks differ in raw speed
  double throughput = scale * quality * (flag ? 1.0 : 0.8) * (1 + noise(rng));
  if (x1 + x2 > 12) // a corner that fails to build
    throughput = 0;
  Sample s;
  s.group = "task" + std::to_string(group);
  s.features = {float(size), float(x1), float(x2), float(unit(rng)),
                float(unit(rng)), flag ? 1.0f : 0.0f};
  s.throughput = throughput;
  return s;
}

std::vector<Sample> syntheticSet(int perGroup, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Sample> samples;
  for (int i = 0; i < perGroup; ++i)
    for (int g = 0; g < kGroups; ++g)
      samples.push_back(syntheticSample(g, rng));
  return samples;
}

std::vector<std::vector<float>> featuresOf(const std::vector<Sample> &samples) {
  std::vector<std::vector<float>> rows;
  for (const Sample &s : samples)
    rows.push_back(s.features);
  return rows;
}

double rankAccuracy(CostModel &model, const std::vector<Sample> &heldOut) {
  std::vector<double> actual;
  std::vector<std::string> groups;
  for (const Sample &s : heldOut) {
    actual.push_back(s.throughput);
    groups.push_back(s.group);
  }
  return pairwiseRankAccuracy(model.predict(featuresOf(heldOut)), actual,
                              groups);
}

double recallTop5(CostModel &model, const std::vector<Sample> &heldOut) {
  std::vector<double> actual;
  std::vector<std::string> groups;
  for (const Sample &s : heldOut) {
    actual.push_back(s.throughput);
    groups.push_back(s.group);
  }
  return topKRecall(model.predict(featuresOf(heldOut)), actual, groups, 5);
}

XGBoostOptions withObjective(const std::string &objective) {
  XGBoostOptions options;
  options.objective = objective;
  return options;
}

/// A scratch file path, removed with the fixture.
class TempFile {
public:
  explicit TempFile(const std::string &name)
      : path(::testing::TempDir() + "hatc_cost_model_" + name + "_" +
             std::to_string(::getpid())) {}
  ~TempFile() {
    std::remove(path.c_str());
    std::remove((path + ".tmp").c_str());
  }
  std::string path;
};

std::string readAll(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void writeAll(const std::string &path, const std::string &bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), std::streamsize(bytes.size()));
}

/// The checksum the model files carry (FNV-1a, 64 bits, as hex).
std::string fnv1a(const std::string &bytes) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", (unsigned long long)hash);
  return text;
}

class ObjectiveTest : public ::testing::TestWithParam<std::string> {};

} // namespace

TEST_P(ObjectiveTest, LearnsTheOrderWithinTasks) {
  std::vector<Sample> train = syntheticSet(60, 1), heldOut = syntheticSet(40, 2);
  auto model = makeXGBoostModel(withObjective(GetParam()));
  model->update(train);
  EXPECT_EQ(model->sampleCount(), train.size());
  double accuracy = rankAccuracy(*model, heldOut);
  double recall = recallTop5(*model, heldOut);
  std::printf("%s: held-out pairwise accuracy %.3f, top-5 recall %.3f\n",
              model->name().c_str(), accuracy, recall);
  EXPECT_GT(accuracy, 0.8);
  EXPECT_GT(recall, 0.3);

  auto random = makeRandomModel(7);
  random->update(train);
  double randomAccuracy = rankAccuracy(*random, heldOut);
  std::printf("random: held-out pairwise accuracy %.3f, top-5 recall %.3f\n",
              randomAccuracy, recallTop5(*random, heldOut));
  EXPECT_NEAR(randomAccuracy, 0.5, 0.07);
}

TEST_P(ObjectiveTest, IncrementalUpdatesKeepImproving) {
  std::vector<Sample> all = syntheticSet(60, 3), heldOut = syntheticSet(40, 4);
  auto model = makeXGBoostModel(withObjective(GetParam()));
  std::vector<double> accuracies;
  size_t batch = 48;
  for (size_t begin = 0; begin < all.size(); begin += batch) {
    std::vector<Sample> part(all.begin() + begin,
                             all.begin() + std::min(all.size(), begin + batch));
    model->update(part);
    EXPECT_EQ(model->sampleCount(), begin + part.size());
    accuracies.push_back(rankAccuracy(*model, heldOut));
  }
  std::printf("%s accuracy after each batch:", model->name().c_str());
  for (double a : accuracies)
    std::printf(" %.3f", a);
  std::printf("\n");
  ASSERT_GE(accuracies.size(), 5u);
  EXPECT_GT(accuracies.back(), accuracies.front());
  EXPECT_GT(accuracies.back(), 0.8);
  // Retraining on everything so far matches training once on the lot.
  auto once = makeXGBoostModel(withObjective(GetParam()));
  once->update(all);
  EXPECT_EQ(once->predict(featuresOf(heldOut)),
            model->predict(featuresOf(heldOut)));
}

INSTANTIATE_TEST_SUITE_P(CostModel, ObjectiveTest,
                         ::testing::Values("rank:pairwise", "reg:squarederror"),
                         [](const auto &info) {
                           return info.param == "rank:pairwise" ? "RankPairwise"
                                                                : "Regression";
                         });

TEST(CostModel, PredictsZerosBeforeTwoSamples) {
  auto model = makeXGBoostModel();
  std::vector<std::vector<float>> rows = {{1, 2}, {3, 4}, {5, 6}};
  EXPECT_EQ(model->predict(rows), std::vector<double>(3, 0.0));
  model->update({{"t", {1, 2}, 5.0}});
  EXPECT_EQ(model->predict(rows), std::vector<double>(3, 0.0));
  model->update({{"t", {3, 4}, 1.0}});
  EXPECT_EQ(model->predict(rows).size(), 3u);
  EXPECT_TRUE(model->predict({}).empty());
}

TEST(CostModel, ErrorsTrainAsWorst) {
  // Half the configs fail (throughput 0): the model must rank them last.
  std::vector<Sample> samples;
  for (int i = 0; i < 40; ++i)
    samples.push_back({"t", {float(i % 2), float(i)}, i % 2 ? 0.0 : 1.0 + i});
  auto model = makeXGBoostModel();
  model->update(samples);
  std::vector<double> scores = model->predict({{0, 10}, {1, 10}});
  EXPECT_GT(scores[0], scores[1]);
}

TEST(CostModel, RejectsInconsistentInputs) {
  EXPECT_THROW(makeXGBoostModel(withObjective("binary:logistic")),
               CostModelError);
  auto model = makeXGBoostModel();
  model->update({{"t", {1, 2}, 1.0}, {"t", {2, 3}, 2.0}});
  EXPECT_THROW(model->update({{"t", {1, 2, 3}, 1.0}}), CostModelError);
  EXPECT_EQ(model->sampleCount(), 2u);
  EXPECT_THROW(model->predict({{1, 2, 3}}), CostModelError);
}

TEST(CostModel, NormalizesThroughputPerGroup) {
  std::vector<Sample> samples = {{"a", {0}, 2.0}, {"b", {0}, 0.0},
                                 {"a", {0}, 4.0}, {"a", {0}, 0.0},
                                 {"b", {0}, 0.0}, {"c", {0}, 1e12}};
  EXPECT_EQ(normalizedThroughputs(samples),
            (std::vector<float>{0.5f, 0.0f, 1.0f, 0.0f, 0.0f, 1.0f}));
}

TEST_P(ObjectiveTest, SaveLoadRoundTripsPredictionsExactly) {
  std::vector<Sample> train = syntheticSet(30, 5), heldOut = syntheticSet(10, 6);
  auto model = makeXGBoostModel(withObjective(GetParam()));
  model->update(train);
  TempFile file("roundtrip");
  model->save(file.path);

  auto loaded = makeXGBoostModel(); // other objective: the file's wins
  ASSERT_TRUE(loaded->load(file.path));
  EXPECT_EQ(loaded->name(), model->name());
  EXPECT_EQ(loaded->sampleCount(), train.size());
  EXPECT_EQ(loaded->predict(featuresOf(heldOut)),
            model->predict(featuresOf(heldOut)));

  // The samples came along: one more batch trains on all of them, exactly
  // as the original model does.
  std::vector<Sample> more = syntheticSet(5, 7);
  loaded->update(more);
  model->update(more);
  EXPECT_EQ(loaded->sampleCount(), train.size() + more.size());
  EXPECT_EQ(loaded->predict(featuresOf(heldOut)),
            model->predict(featuresOf(heldOut)));
}

TEST(CostModel, SaveLoadUntrainedModel) {
  auto model = makeXGBoostModel();
  TempFile file("untrained");
  model->save(file.path);
  auto loaded = makeXGBoostModel();
  ASSERT_TRUE(loaded->load(file.path));
  EXPECT_EQ(loaded->sampleCount(), 0u);
  EXPECT_EQ(loaded->predict({{1, 2}}), std::vector<double>{0.0});
}

// A save that fails says why and leaves neither a partial sibling nor a
// changed target: over a folder (the rename fails) and into a missing one
// (the sibling cannot be created).
TEST(CostModel, FailedSaveSaysWhyAndLeavesNothingBehind) {
  auto model = makeXGBoostModel();
  model->update(syntheticSet(10, 8));
  TempFile folder("a_folder");
  ASSERT_EQ(::mkdir(folder.path.c_str(), 0755), 0);
  try {
    model->save(folder.path);
    ADD_FAILURE() << "saved over a folder";
  } catch (const CostModelError &e) {
    EXPECT_NE(std::string(e.what()).find("cannot write the cost model to " +
                                         folder.path +
                                         ": it is not a regular file"),
              std::string::npos)
        << e.what();
  }
  EXPECT_NE(::access((folder.path + ".tmp").c_str(), F_OK), 0);
  ::rmdir(folder.path.c_str());
  // A node that is not a file (as /dev/null is) stays what it is: the
  // rename would have replaced it with the model.
  TempFile fifo("a_fifo");
  ASSERT_EQ(::mkfifo(fifo.path.c_str(), 0644), 0);
  EXPECT_THROW(model->save(fifo.path), CostModelError);
  struct stat after;
  ASSERT_EQ(::stat(fifo.path.c_str(), &after), 0);
  EXPECT_TRUE(S_ISFIFO(after.st_mode));
  ::unlink(fifo.path.c_str());
  try {
    model->save(folder.path + "/missing/m.model");
    ADD_FAILURE() << "saved into a missing folder";
  } catch (const CostModelError &e) {
    // The path asked for, not the sibling (m.model.tmp) it writes first.
    EXPECT_EQ(std::string(e.what()),
              "cannot write the cost model to " + folder.path +
                  "/missing/m.model: No such file or directory");
  }
}

TEST(CostModel, LoadRefusesOtherSchemaVersions) {
  auto model = makeXGBoostModel();
  model->update(syntheticSet(10, 8));
  TempFile file("schema");
  model->save(file.path);
  std::string bytes = readAll(file.path);
  size_t newline = bytes.find('\n');
  ASSERT_NE(newline, std::string::npos);
  std::string header = bytes.substr(0, newline), payload = bytes.substr(newline);

  for (const char *field : {"feature_schema_version", "file_version"}) {
    std::string key = std::string("\"") + field + "\":";
    size_t at = header.find(key);
    ASSERT_NE(at, std::string::npos) << field;
    std::string changed = header;
    changed.replace(at, key.size() + 1, key + "9");
    TempFile other(std::string("schema_") + field);
    writeAll(other.path, changed + payload);
    auto loaded = makeXGBoostModel();
    EXPECT_FALSE(loaded->load(other.path)) << field;
    EXPECT_EQ(loaded->sampleCount(), 0u);
  }
  // The unchanged file still loads (the edits above were the only cause).
  EXPECT_TRUE(makeXGBoostModel()->load(file.path));
}

TEST(CostModel, LoadRefusesCorruptFilesWithoutCrashing) {
  auto model = makeXGBoostModel();
  model->update(syntheticSet(10, 9));
  TempFile file("corrupt");
  model->save(file.path);
  std::string bytes = readAll(file.path);
  std::vector<double> before = model->predict({std::vector<float>(6, 1.0f)});

  std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"garbage", "not a model at all\n\x01\x02\x03"},
      {"truncated", bytes.substr(0, bytes.size() - 100)},
      {"header only", bytes.substr(0, bytes.find('\n') + 1)},
      {"flipped payload byte", bytes},
      {"broken header", "hatc-cost-model {\"file_version\": 1,\n"},
  };
  cases[4].second[bytes.size() - 50] ^= 0x5a;
  for (const auto &[what, content] : cases) {
    TempFile bad("bad");
    writeAll(bad.path, content);
    EXPECT_FALSE(model->load(bad.path)) << what;
  }
  EXPECT_FALSE(model->load(file.path + ".missing"));

  // A payload that passes the checksum but is no booster: XGBoost's own
  // error is caught. (Also a truncated booster, checksummed anew.)
  size_t newline = bytes.find('\n');
  std::string header = bytes.substr(0, newline + 1);
  std::string booster = bytes.substr(newline + 1);
  for (const std::string &payload :
       {std::string(booster.size(), 'x'), booster.substr(0, booster.size() / 2)}) {
    std::string changed = header;
    auto replaceField = [&](const std::string &key, const std::string &value) {
      size_t at = changed.find("\"" + key + "\":");
      ASSERT_NE(at, std::string::npos) << key;
      size_t begin = at + key.size() + 3, end = changed.find_first_of(",}", begin);
      changed.replace(begin, end - begin, value);
    };
    replaceField("payload_bytes", std::to_string(payload.size()));
    replaceField("payload_fnv1a", "\"" + fnv1a(payload) + "\"");
    TempFile bad("bad_payload");
    writeAll(bad.path, changed + payload);
    EXPECT_FALSE(model->load(bad.path)) << payload.size();
  }
  // A failed load leaves the model as it was.
  EXPECT_EQ(model->predict({std::vector<float>(6, 1.0f)}), before);
  EXPECT_EQ(model->sampleCount(), 80u);

  // A model file of the other kind is refused too.
  EXPECT_FALSE(makeRandomModel(1)->load(file.path));
}

TEST(CostModel, RandomModelIsSeededAndSaves) {
  auto a = makeRandomModel(42), b = makeRandomModel(42);
  std::vector<std::vector<float>> rows(20, std::vector<float>{1});
  std::vector<double> scores = a->predict(rows);
  EXPECT_EQ(scores, b->predict(rows));
  for (double s : scores) {
    EXPECT_GE(s, 0.0);
    EXPECT_LT(s, 1.0);
  }
  TempFile file("random");
  a->update({{"t", {1}, 1.0}});
  a->save(file.path);
  auto c = makeRandomModel(1);
  ASSERT_TRUE(c->load(file.path));
  EXPECT_EQ(c->sampleCount(), 1u);
  EXPECT_EQ(c->predict(rows), scores); // restarted from the saved seed
  EXPECT_FALSE(makeXGBoostModel()->load(file.path));
}
