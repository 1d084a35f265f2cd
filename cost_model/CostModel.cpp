//===- CostModel.cpp - XGBoost and random cost models, metrics ------------===//
//
// XGBoost is used through its C API only (the C++ headers are internal and
// change between releases), behind two small RAII types; every call's
// return code is checked and XGBGetLastError goes into the exception.
//
// Saved-model file (one file, so a model and its version cannot be
// separated):
//
//   hatc-cost-model {"file_version": 1, "feature_schema_version": 1,
//                    "model": "xgboost", "payload_bytes": N,
//                    "payload_fnv1a": "...", "samples": [...], ...}\n
//   <N bytes: the booster as XGBoost UBJSON>
//
// The header is one line of JSON; the booster is binary UBJSON because it
// keeps every float bit-exact (predictions round-trip exactly). The samples
// ride along so that update() after load() keeps learning from everything,
// not just from the batches measured since.
//
//===----------------------------------------------------------------------===//

#include "hatc/CostModel/CostModel.h"

#include "hatc/CostModel/Features.h"
#include "hatc/Support/Hash.h"
#include "hatc/Support/WriteAll.h"

#include <xgboost/c_api.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hatc::cost_model {

CostModel::~CostModel() = default;

namespace {

using json = nlohmann::json;

const char kMagic[] = "hatc-cost-model ";

//===----------------------------------------------------------------------===//
// XGBoost C API wrappers
//===----------------------------------------------------------------------===//

void check(int rc, const char *call) {
  if (rc != 0)
    throw CostModelError(std::string("XGBoost ") + call +
                         " failed: " + XGBGetLastError());
}

/// A dense matrix of rows x columns (row-major), with optional labels and
/// ranking groups.
class DMatrix {
public:
  DMatrix(const std::vector<float> &values, size_t rows, size_t columns) {
    // NaN marks missing values; 0 is a real feature value here.
    check(XGDMatrixCreateFromMat(values.data(), bst_ulong(rows),
                                 bst_ulong(columns), NAN, &handle),
          "XGDMatrixCreateFromMat");
  }
  ~DMatrix() {
    if (handle)
      XGDMatrixFree(handle);
  }
  DMatrix(const DMatrix &) = delete;
  DMatrix &operator=(const DMatrix &) = delete;

  void setLabels(const std::vector<float> &labels) {
    check(XGDMatrixSetFloatInfo(handle, "label", labels.data(),
                                bst_ulong(labels.size())),
          "XGDMatrixSetFloatInfo(label)");
  }
  /// One weight per row, or per group for a ranking objective.
  void setWeights(const std::vector<float> &weights) {
    check(XGDMatrixSetFloatInfo(handle, "weight", weights.data(),
                                bst_ulong(weights.size())),
          "XGDMatrixSetFloatInfo(weight)");
  }
  /// A starting score per row that the trees add to.
  void setBaseMargin(const std::vector<float> &margins) {
    check(XGDMatrixSetFloatInfo(handle, "base_margin", margins.data(),
                                bst_ulong(margins.size())),
          "XGDMatrixSetFloatInfo(base_margin)");
  }
  /// Sizes of consecutive groups of rows (rows must be sorted by group).
  void setGroups(const std::vector<unsigned> &sizes) {
    check(XGDMatrixSetUIntInfo(handle, "group", sizes.data(),
                               bst_ulong(sizes.size())),
          "XGDMatrixSetUIntInfo(group)");
  }
  DMatrixHandle get() const { return handle; }

private:
  DMatrixHandle handle = nullptr;
};

class Booster {
public:
  /// A booster to train on `train` (nullptr: to load a saved one into).
  explicit Booster(const DMatrix *train = nullptr) {
    DMatrixHandle matrices[1] = {train ? train->get() : nullptr};
    check(XGBoosterCreate(matrices, train ? 1 : 0, &handle), "XGBoosterCreate");
  }
  ~Booster() {
    if (handle)
      XGBoosterFree(handle);
  }
  Booster(const Booster &) = delete;
  Booster &operator=(const Booster &) = delete;

  void setParam(const std::string &name, const std::string &value) {
    check(XGBoosterSetParam(handle, name.c_str(), value.c_str()),
          "XGBoosterSetParam");
  }
  void updateOneIter(int iteration, const DMatrix &train) {
    check(XGBoosterUpdateOneIter(handle, iteration, train.get()),
          "XGBoosterUpdateOneIter");
  }
  std::vector<float> predict(const DMatrix &matrix, size_t rows) const {
    // type 0: the raw margin's transform (for both objectives, the score).
    const char *config = R"({"type": 0, "training": false,
        "iteration_begin": 0, "iteration_end": 0, "strict_shape": false})";
    const bst_ulong *shape = nullptr;
    bst_ulong dims = 0;
    const float *result = nullptr;
    check(XGBoosterPredictFromDMatrix(handle, matrix.get(), config, &shape,
                                      &dims, &result),
          "XGBoosterPredictFromDMatrix");
    bst_ulong count = 1;
    for (bst_ulong i = 0; i < dims; ++i)
      count *= shape[i];
    if (count != rows)
      throw CostModelError("XGBoost returned " + std::to_string(count) +
                           " predictions for " + std::to_string(rows) +
                           " rows");
    return std::vector<float>(result, result + rows);
  }
  std::string saveToBuffer() const {
    bst_ulong length = 0;
    const char *bytes = nullptr;
    check(XGBoosterSaveModelToBuffer(handle, R"({"format": "ubj"})", &length,
                                     &bytes),
          "XGBoosterSaveModelToBuffer");
    return std::string(bytes, length);
  }
  void loadFromBuffer(const std::string &bytes) {
    check(XGBoosterLoadModelFromBuffer(handle, bytes.data(),
                                       bst_ulong(bytes.size())),
          "XGBoosterLoadModelFromBuffer");
  }

private:
  BoosterHandle handle = nullptr;
};

//===----------------------------------------------------------------------===//
// Model files
//===----------------------------------------------------------------------===//

/// FNV-1a: catches a flipped or truncated payload before XGBoost parses it
/// (its parsers are not hardened against arbitrary bytes).
std::string fnv1a(const std::string &bytes) { return fnv1a64Hex(bytes); }

void writeModelFile(const std::string &path, json header,
                    const std::string &payload) {
  header["file_version"] = kModelFileVersion;
  header["feature_schema_version"] = kFeatureSchemaVersion;
  header["payload_bytes"] = payload.size();
  header["payload_fnv1a"] = fnv1a(payload);
  // Write a sibling and rename it over the target, so a crash mid-save
  // never leaves a half-written model where the old one was.
  // Every write, the sync and the close are checked; on any failure the
  // sibling is removed and the error says why.
  // The rename would replace whatever `path` is: refuse what is not a
  // file (a device node such as /dev/null, a folder, a socket).
  struct stat existing;
  if (::stat(path.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode))
    throw CostModelError("cannot write the cost model to " + path +
                         ": it is not a regular file");
  std::string tmp = path + ".tmp";
  std::string bytes = kMagic + header.dump() + '\n' + payload;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  // Messages name the path asked for; the sibling is this function's own.
  if (fd < 0)
    throw CostModelError("cannot write the cost model to " + path + ": " +
                         std::strerror(errno));
  // `error`: the errno of the step that failed (the close after it may set
  // another).
  auto fail = [&](const std::string &what, int error) {
    if (fd >= 0)
      ::close(fd);
    ::unlink(tmp.c_str());
    throw CostModelError(what + ": " + std::strerror(error));
  };
  std::string writing = "cannot write the cost model to " + path;
  size_t written = 0;
  if (int error = writeAll(fd, bytes, written))
    fail(writing, error);
  if (::fsync(fd) != 0)
    fail(writing, errno);
  int closing = fd;
  fd = -1;
  if (::close(closing) != 0)
    fail(writing, errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    fail("cannot write the cost model to " + path + " (renaming " + tmp +
             " over it)",
         errno);
}

struct ModelFile {
  json header;
  std::string payload;
};

/// The header and payload of a well-formed file of `model` kind whose
/// versions match this build; nullopt for anything else.
std::optional<ModelFile> readModelFile(const std::string &path,
                                       const std::string &model) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::string line;
  if (!std::getline(in, line) || line.compare(0, sizeof(kMagic) - 1, kMagic))
    return std::nullopt;
  ModelFile file;
  file.header = json::parse(line.substr(sizeof(kMagic) - 1), nullptr,
                            /*allow_exceptions=*/false);
  const json &h = file.header;
  if (!h.is_object() || h.value("file_version", -1) != kModelFileVersion ||
      h.value("feature_schema_version", -1) != kFeatureSchemaVersion ||
      h.value("model", "") != model)
    return std::nullopt;
  auto size = h.find("payload_bytes");
  if (size == h.end() || !size->is_number_unsigned())
    return std::nullopt;
  std::ostringstream rest;
  rest << in.rdbuf();
  file.payload = rest.str();
  if (file.payload.size() != size->get<size_t>() ||
      h.value("payload_fnv1a", "") != fnv1a(file.payload))
    return std::nullopt;
  return file;
}

json samplesToJson(const std::vector<Sample> &samples) {
  json array = json::array();
  for (const Sample &s : samples) {
    json item = {{"group", s.group},
                 {"features", s.features},
                 {"throughput", s.throughput}};
    // Only when it is not the default, so files stay as small as before.
    if (s.weight != 1)
      item["weight"] = s.weight;
    array.push_back(std::move(item));
  }
  return array;
}

/// Samples back from a header; nullopt if any is malformed.
std::optional<std::vector<Sample>> samplesFromJson(const json &array) {
  if (!array.is_array())
    return std::nullopt;
  std::vector<Sample> samples;
  for (const json &item : array) {
    if (!item.is_object() || !item.contains("group") ||
        !item["group"].is_string() || !item.contains("features") ||
        !item["features"].is_array() || !item.contains("throughput") ||
        !item["throughput"].is_number())
      return std::nullopt;
    Sample s;
    s.group = item["group"].get<std::string>();
    s.throughput = item["throughput"].get<double>();
    if (item.contains("weight")) {
      if (!item["weight"].is_number() || !(item["weight"].get<double>() > 0))
        return std::nullopt;
      s.weight = item["weight"].get<double>();
    }
    for (const json &value : item["features"]) {
      if (!value.is_number())
        return std::nullopt;
      // Written from floats, as doubles with 17 digits: the cast is exact.
      s.features.push_back(value.get<float>());
    }
    samples.push_back(std::move(s));
  }
  return samples;
}

//===----------------------------------------------------------------------===//
// XGBoost model
//===----------------------------------------------------------------------===//

class XGBoostModel : public CostModel {
public:
  explicit XGBoostModel(XGBoostOptions options) : options(std::move(options)) {
    if (this->options.objective != "rank:pairwise" &&
        this->options.objective != "reg:squarederror")
      throw CostModelError("unknown cost model objective '" +
                           this->options.objective +
                           "' (rank:pairwise or reg:squarederror)");
  }

  void update(const std::vector<Sample> &batch) override {
    if (batch.empty())
      return;
    // The first sample ever fixes the width; check all before keeping any.
    size_t expected = width ? width : batch.front().features.size();
    for (const Sample &s : batch)
      checkWidth(s.features.size(), expected);
    width = expected;
    samples.insert(samples.end(), batch.begin(), batch.end());
    if (samples.size() >= 2)
      train();
  }

  std::vector<double>
  predict(const std::vector<std::vector<float>> &features) override {
    std::vector<double> scores(features.size(), 0.0);
    if (!booster || features.empty())
      return scores;
    for (const auto &row : features)
      checkWidth(row.size(), width);
    std::vector<float> values;
    values.reserve(features.size() * width);
    for (const auto &row : features)
      values.insert(values.end(), row.begin(), row.end());
    DMatrix matrix(values, features.size(), width);
    if (options.estimateMargin) {
      std::vector<float> margins;
      for (const auto &row : features)
        margins.push_back(estimatedEfficiency(row));
      matrix.setBaseMargin(margins);
    }
    std::vector<float> raw = booster->predict(matrix, features.size());
    std::copy(raw.begin(), raw.end(), scores.begin());
    return scores;
  }

  void save(const std::string &path) const override {
    json header = {{"model", "xgboost"},
                   {"objective", options.objective},
                   {"rounds", options.rounds},
                   {"max_depth", options.maxDepth},
                   {"eta", options.eta},
                   {"min_child_weight", options.minChildWeight},
                   {"threads", options.threads},
                   {"seed", options.seed},
                   {"estimate_margin", options.estimateMargin},
                   {"num_features", width},
                   {"trained", booster != nullptr},
                   {"samples", samplesToJson(samples)}};
    writeModelFile(path, std::move(header),
                   booster ? booster->saveToBuffer() : std::string());
  }

  bool load(const std::string &path) override {
    std::optional<ModelFile> file = readModelFile(path, "xgboost");
    if (!file)
      return false;
    const json &h = file->header;
    std::optional<std::vector<Sample>> loaded =
        samplesFromJson(h.value("samples", json()));
    if (!loaded)
      return false;
    XGBoostOptions restored;
    size_t loadedWidth = 0;
    bool trained = false;
    try {
      restored.objective = h.at("objective").get<std::string>();
      restored.rounds = h.at("rounds").get<int>();
      restored.maxDepth = h.at("max_depth").get<int>();
      restored.eta = h.at("eta").get<double>();
      restored.minChildWeight = h.at("min_child_weight").get<double>();
      restored.threads = h.at("threads").get<int>();
      restored.seed = h.at("seed").get<uint64_t>();
      restored.estimateMargin = h.value("estimate_margin", false);
      loadedWidth = h.at("num_features").get<size_t>();
      trained = h.at("trained").get<bool>();
    } catch (const json::exception &) {
      return false;
    }
    if (restored.objective != "rank:pairwise" &&
        restored.objective != "reg:squarederror")
      return false;
    for (const Sample &s : *loaded)
      if (s.features.size() != loadedWidth)
        return false;
    std::unique_ptr<Booster> restoredBooster;
    if (trained) {
      try {
        restoredBooster = std::make_unique<Booster>();
        restoredBooster->loadFromBuffer(file->payload);
        configure(*restoredBooster, restored);
      } catch (const CostModelError &) {
        return false;
      }
    }
    // Only now that everything parsed: replace this model.
    options = restored;
    width = loadedWidth;
    samples = std::move(*loaded);
    booster = std::move(restoredBooster);
    return true;
  }

  std::string name() const override { return "xgboost(" + options.objective + ")"; }
  size_t sampleCount() const override { return samples.size(); }

private:
  static void checkWidth(size_t size, size_t expected) {
    if (size != expected || size == 0)
      throw CostModelError("cost model feature vectors have " +
                           std::to_string(expected) +
                           " values, got one with " + std::to_string(size));
  }

  static void configure(Booster &b, const XGBoostOptions &o) {
    b.setParam("objective", o.objective);
    b.setParam("max_depth", std::to_string(o.maxDepth));
    b.setParam("eta", std::to_string(o.eta));
    b.setParam("min_child_weight", std::to_string(o.minChildWeight));
    b.setParam("nthread", std::to_string(o.threads));
    b.setParam("seed", std::to_string(o.seed));
    // Histogram trees: the bins are built once per training, so retraining
    // on thousands of samples stays in the milliseconds.
    b.setParam("tree_method", "hist");
    b.setParam("verbosity", "0");
  }

  /// Retrains from scratch on every sample (see makeXGBoostModel for why).
  void train() {
    // Rows sorted by group, as XGBoost's ranking objectives require; stable
    // so that equal inputs train the same model.
    std::vector<float> targets = normalizedThroughputs(samples);
    std::vector<size_t> order(samples.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return samples[a].group < samples[b].group;
    });
    std::vector<float> values, labels, rowWeights, groupWeights, margins;
    std::vector<unsigned> groupSizes;
    bool weighted = false;
    values.reserve(samples.size() * width);
    for (size_t i = 0; i < order.size(); ++i) {
      const Sample &s = samples[order[i]];
      values.insert(values.end(), s.features.begin(), s.features.end());
      labels.push_back(targets[order[i]]);
      rowWeights.push_back(float(s.weight));
      margins.push_back(estimatedEfficiency(s.features));
      weighted = weighted || s.weight != 1;
      if (i == 0 || s.group != samples[order[i - 1]].group) {
        groupSizes.push_back(0);
        groupWeights.push_back(float(s.weight));
      }
      ++groupSizes.back();
    }
    DMatrix train(values, order.size(), width);
    train.setLabels(labels);
    if (options.estimateMargin)
      train.setBaseMargin(margins);
    bool ranking = options.objective == "rank:pairwise";
    if (ranking)
      train.setGroups(groupSizes);
    // Unweighted training stays bit-for-bit what it was before weights.
    if (weighted)
      train.setWeights(ranking ? groupWeights : rowWeights);
    auto fresh = std::make_unique<Booster>(&train);
    configure(*fresh, options);
    for (int round = 0; round < options.rounds; ++round)
      fresh->updateOneIter(round, train);
    booster = std::move(fresh);
  }

  XGBoostOptions options;
  size_t width = 0;
  std::vector<Sample> samples;
  std::unique_ptr<Booster> booster; // null until trained on >= 2 samples
};

//===----------------------------------------------------------------------===//
// Random model
//===----------------------------------------------------------------------===//

class RandomModel : public CostModel {
public:
  explicit RandomModel(uint64_t seed) : seed(seed), rng(seed) {}

  void update(const std::vector<Sample> &batch) override {
    seen += batch.size();
  }
  std::vector<double>
  predict(const std::vector<std::vector<float>> &features) override {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> scores(features.size());
    for (double &score : scores)
      score = uniform(rng);
    return scores;
  }
  void save(const std::string &path) const override {
    writeModelFile(path, {{"model", "random"}, {"seed", seed}, {"seen", seen}},
                   "");
  }
  bool load(const std::string &path) override {
    std::optional<ModelFile> file = readModelFile(path, "random");
    if (!file)
      return false;
    try {
      uint64_t loadedSeed = file->header.at("seed").get<uint64_t>();
      size_t loadedSeen = file->header.at("seen").get<size_t>();
      seed = loadedSeed;
      seen = loadedSeen;
    } catch (const json::exception &) {
      return false;
    }
    rng.seed(seed);
    return true;
  }
  std::string name() const override { return "random"; }
  size_t sampleCount() const override { return seen; }

private:
  uint64_t seed;
  std::mt19937_64 rng;
  size_t seen = 0;
};

} // namespace

std::unique_ptr<CostModel> makeXGBoostModel(XGBoostOptions options) {
  return std::make_unique<XGBoostModel>(std::move(options));
}

std::optional<std::vector<Sample>>
readTrainingSamples(const std::string &path) {
  std::optional<ModelFile> file = readModelFile(path, "xgboost");
  if (!file)
    return std::nullopt;
  return samplesFromJson(file->header.value("samples", json()));
}

std::unique_ptr<CostModel> makeRandomModel(uint64_t seed) {
  return std::make_unique<RandomModel>(seed);
}

//===----------------------------------------------------------------------===//
// Targets and metrics
//===----------------------------------------------------------------------===//

float estimatedEfficiency(const std::vector<float> &f) {
  if (f.size() != size_t(kFeatureCount))
    return 0.5f;
  bool hwacc = f[FSketchHwaccGemm] != 0;
  bool cpu = f[FSketchCpuMatmul] != 0 || f[FSketchCpuConv] != 0 ||
             f[FSketchCpuConvIm2col] != 0;
  if (!hwacc && !cpu)
    return 0.5f;
  double log2Ratio =
      hwacc ? f[FLog2HwaccCyclesOverIdeal] : f[FLog2CpuTimeOverIdeal];
  return float(std::exp2(-std::max(log2Ratio, 0.0)));
}

std::vector<float> normalizedThroughputs(const std::vector<Sample> &samples) {
  std::map<std::string, double> best;
  for (const Sample &s : samples) {
    double value = std::isfinite(s.throughput) ? s.throughput : 0.0;
    double &b = best[s.group];
    b = std::max(b, value);
  }
  std::vector<float> targets;
  targets.reserve(samples.size());
  for (const Sample &s : samples) {
    double b = best[s.group];
    double value = std::isfinite(s.throughput) ? s.throughput : 0.0;
    targets.push_back(b > 0 && value > 0 ? float(value / b) : 0.0f);
  }
  return targets;
}

namespace {

/// Indices of the items of each group, in input order.
std::map<std::string, std::vector<size_t>>
byGroup(const std::vector<std::string> &groups, size_t n) {
  std::map<std::string, std::vector<size_t>> members;
  for (size_t i = 0; i < n && i < groups.size(); ++i)
    members[groups[i]].push_back(i);
  return members;
}

} // namespace

double pairwiseRankAccuracy(const std::vector<double> &predicted,
                            const std::vector<double> &actual,
                            const std::vector<std::string> &groups,
                            double minRelativeGap) {
  size_t n = std::min(predicted.size(), actual.size());
  double correct = 0;
  size_t pairs = 0;
  for (const auto &[group, items] : byGroup(groups, n)) {
    for (size_t a = 0; a < items.size(); ++a)
      for (size_t b = a + 1; b < items.size(); ++b) {
        size_t i = items[a], j = items[b];
        if (actual[i] == actual[j] ||
            std::abs(actual[i] - actual[j]) <=
                minRelativeGap *
                    std::max(std::abs(actual[i]), std::abs(actual[j])))
          continue;
        ++pairs;
        if (predicted[i] == predicted[j])
          correct += 0.5;
        else if ((predicted[i] < predicted[j]) == (actual[i] < actual[j]))
          correct += 1;
      }
  }
  return pairs ? correct / double(pairs) : 0.5;
}

double topKRecall(const std::vector<double> &predicted,
                  const std::vector<double> &actual,
                  const std::vector<std::string> &groups, size_t k) {
  size_t n = std::min(predicted.size(), actual.size());
  if (k == 0)
    return 0;
  double sum = 0;
  size_t counted = 0;
  for (auto [group, items] : byGroup(groups, n)) {
    size_t kk = std::min(k, items.size());
    // The k-th best actual value: everything at least as good is top-k.
    std::vector<double> values;
    for (size_t i : items)
      values.push_back(actual[i]);
    std::nth_element(values.begin(), values.begin() + (kk - 1), values.end(),
                     std::greater<double>());
    double threshold = values[kk - 1];
    // The predicted top-k; ties broken by input order, deterministically.
    std::stable_sort(items.begin(), items.end(), [&](size_t a, size_t b) {
      return predicted[a] > predicted[b];
    });
    size_t hits = 0;
    for (size_t i = 0; i < kk; ++i)
      hits += actual[items[i]] >= threshold;
    sum += double(hits) / double(kk);
    ++counted;
  }
  return counted ? sum / double(counted) : 0.0;
}

} // namespace hatc::cost_model
