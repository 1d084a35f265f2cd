//===- IndexTest.cpp - The schedule index: hits, misses, staleness, faults ===//
#include "CoordTestUtil.h"

#include "hatc/Coord/Index.h"
#include "hatc/Coord/LatencyModel.h"
#include "hatc/Db/Database.h"
#include "hatc/Support/Version.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace hatc;
using namespace hatc::coord;
using namespace hatc::coord::testing;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("hatc-coord-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string &name) const {
    return (path / name).string();
  }
  static inline int counter = 0;
};

db::Record cpuRecord(const std::string &key, double latency,
                     const std::string &config) {
  db::Record record;
  record.workloadKey = key;
  record.workloadHash = "h-" + key;
  record.targetKind = "cpu";
  record.targetName = "host";
  record.targetFingerprint = "cpu-fp";
  record.compilerVersion = compilerVersion();
  record.sketch = "cpu_matmul";
  record.configJson = config;
  record.script = "// script " + config;
  record.samples = {latency};
  record.threads = 1;
  return record;
}

db::Record hwaccRecord(const std::string &key, int64_t cycles) {
  db::Record record = cpuRecord(key, 0, R"({"tm":64})");
  record.targetKind = "hwacc";
  record.targetName = "hwacc-16";
  record.targetFingerprint = "hwacc-fp-16";
  record.samples.clear();
  record.cycles = cycles;
  return record;
}

struct Warnings {
  std::vector<std::string> lines;
  WarnFn fn() {
    return [this](const std::string &line) { lines.push_back(line); };
  }
};

TEST(CoordIndex, HitsMissesAndTheBestRecord) {
  TempDir dir;
  std::string path = dir.file("t.db");
  {
    auto database = db::Database::open(path);
    database->commitRecord(cpuRecord("gemm", 0.5, R"({"a":1})"));
    db::Record fastest = cpuRecord("gemm", 0.2, R"({"a":2})");
    fastest.threads = 2; // the typed field, not a value inside extras
    database->commitRecord(fastest);
    database->commitRecord(cpuRecord("gemm", 0.3, R"({"a":3})"));
    database->commitRecord(hwaccRecord("gemm", 2000000));
  }
  Warnings warnings;
  ScheduleIndex index({fakeCpu(), fakeHwacc()}, {}, warnings.fn());
  ASSERT_TRUE(index.load(path));
  EXPECT_TRUE(warnings.lines.empty());
  const IndexEntry *cpu = index.lookup("gemm", "h-gemm", 0);
  ASSERT_NE(cpu, nullptr);
  EXPECT_DOUBLE_EQ(cpu->seconds, 0.2);
  EXPECT_EQ(cpu->configJson, R"({"a":2})");
  EXPECT_EQ(cpu->threads, 2);
  EXPECT_FALSE(cpu->stale);
  const IndexEntry *hw = index.lookup("gemm", "h-gemm", 1);
  ASSERT_NE(hw, nullptr);
  EXPECT_DOUBLE_EQ(hw->seconds, 2e-3) << "cycles / 1 GHz";
  {
    // A record that says what the workload takes (device plus the host's
    // shared work, which its cycles leave out) gives the dispatcher that.
    auto database = db::Database::open(path);
    db::Record conv = hwaccRecord("conv", 1000000);
    conv.extrasJson = R"({"workload_s":0.0025})";
    database->commitRecord(conv);
  }
  ASSERT_TRUE(index.load(path));
  const IndexEntry *conv = index.lookup("conv", "h-conv", 1);
  ASSERT_NE(conv, nullptr);
  EXPECT_DOUBLE_EQ(conv->seconds, 0.0025) << "extras.workload_s";
  EXPECT_EQ(index.lookup("conv", "", 0), nullptr);
  EXPECT_EQ(index.lookup("gemm", "another-hash", 0), nullptr)
      << "another structural hash is another op";
  // Predictions come from the records.
  LatencyModel model({fakeCpu(), fakeHwacc()});
  int w = model.addWorkload(fakeWorkload("gemm", OpKind::Gemm, 1e9), &index);
  EXPECT_EQ(model.source(w, 0), PredictionSource::Database);
  EXPECT_DOUBLE_EQ(model.predict(w, 0), 0.2);
  EXPECT_DOUBLE_EQ(model.predict(w, 1), 2e-3);
}

TEST(CoordIndex, RanksRecordsMeasuredAgainFirstAsTheDatabaseDoes) {
  TempDir dir;
  std::string path = dir.file("t.db");
  {
    auto database = db::Database::open(path);
    database->commitRecord(cpuRecord("gemm", 0.2, R"({"a":1})"));
    db::Record confirmed = cpuRecord("gemm", 0.3, R"({"a":2})");
    confirmed.extrasJson = R"({"measurements":3})";
    database->commitRecord(confirmed);
    database->commitRecord(cpuRecord("gemm", 0.1, R"({"a":3})"));
  }
  ScheduleIndex index({fakeCpu()}, {}, {});
  ASSERT_TRUE(index.load(path));
  const IndexEntry *cpu = index.lookup("gemm", "h-gemm", 0);
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->configJson, R"({"a":2})");
  EXPECT_DOUBLE_EQ(cpu->seconds, 0.3);
  auto database = db::Database::open(path);
  EXPECT_EQ(database
                ->best("gemm", {"cpu", "cpu-fp", "host"}, compilerVersion())
                ->configJson,
            cpu->configJson);
}

// The coordinator runs what a build would (Database::bestToBuild): a CPU
// best less than db::kTunedMargin faster than the confirmed default gives
// way to it; hwacc's exact cycles do not.
TEST(CoordIndex, TunedRecordWithinTheMarginGivesWayToTheDefault) {
  TempDir dir;
  std::string path = dir.file("t.db");
  auto confirmed = [](db::Record record) {
    record.extrasJson = R"({"measurements":3})";
    return record;
  };
  db::Record byDefault =
      confirmed(cpuRecord("gemm", 1.0, R"({"sketch":"default"})"));
  byDefault.sketch = "default";
  {
    auto database = db::Database::open(path);
    database->commitRecord(byDefault);
    database->commitRecord(confirmed(cpuRecord("gemm", 0.99, R"({"a":1})")));
    db::Record hwDefault = confirmed(hwaccRecord("gemm", 1000));
    hwDefault.sketch = "default";
    hwDefault.configJson = R"({"sketch":"default"})";
    database->commitRecord(hwDefault);
    database->commitRecord(confirmed(hwaccRecord("gemm", 995)));
  }
  ScheduleIndex index({fakeCpu(), fakeHwacc()}, {}, {});
  auto database = db::Database::open(path);
  // The index's CPU entry after a fresh load, checked against what
  // bestToBuild picks and whether it says the best gave way.
  auto cpuEntry = [&](bool expectGaveWay) -> const IndexEntry * {
    EXPECT_TRUE(index.load(path));
    const IndexEntry *cpu = index.lookup("gemm", "h-gemm", 0);
    bool gaveWay = !expectGaveWay;
    std::optional<db::Record> built = database->bestToBuild(
        "gemm", {"cpu", "cpu-fp", "host"}, compilerVersion(), {}, &gaveWay);
    EXPECT_EQ(gaveWay, expectGaveWay);
    if (!cpu || !built) {
      ADD_FAILURE() << "no CPU entry or no record to build";
      return nullptr;
    }
    EXPECT_EQ(built->configJson, cpu->configJson);
    return cpu;
  };
  const IndexEntry *cpu = cpuEntry(/*expectGaveWay=*/true);
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->sketch, "default");
  EXPECT_DOUBLE_EQ(cpu->seconds, 1.0);
  const IndexEntry *hwacc = index.lookup("gemm", "h-gemm", 1);
  ASSERT_NE(hwacc, nullptr);
  EXPECT_EQ(hwacc->configJson, R"({"tm":64})");

  // 5% faster: the tuned record.
  database->commitRecord(confirmed(cpuRecord("gemm", 0.95, R"({"a":2})")));
  cpu = cpuEntry(/*expectGaveWay=*/false);
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(cpu->configJson, R"({"a":2})");
}

TEST(CoordIndex, StaleRecordsOnlyWhenAllowed) {
  TempDir dir;
  std::string path = dir.file("t.db");
  {
    auto database = db::Database::open(path);
    db::Record old = cpuRecord("gemm", 0.1, R"({"a":1})");
    old.compilerVersion = "hatc-0000+llvm-18";
    database->commitRecord(old);
    db::Record otherMachine = cpuRecord("conv", 0.1, R"({"a":1})");
    otherMachine.targetFingerprint = "another-cpu";
    database->commitRecord(otherMachine);
  }
  ScheduleIndex strict({fakeCpu()}, {});
  ASSERT_TRUE(strict.load(path));
  EXPECT_EQ(strict.lookup("gemm", "", 0), nullptr);
  EXPECT_EQ(strict.lookup("conv", "", 0), nullptr);
  EXPECT_TRUE(strict.hasStale("gemm", "", 0));
  IndexOptions options;
  options.allowStale = true;
  ScheduleIndex lenient({fakeCpu()}, options);
  ASSERT_TRUE(lenient.load(path));
  const IndexEntry *entry = lenient.lookup("gemm", "", 0);
  ASSERT_NE(entry, nullptr);
  EXPECT_TRUE(entry->stale);
  ASSERT_NE(lenient.lookup("conv", "", 0), nullptr);
}

TEST(CoordIndex, RefreshSeesNewResultsAndHoldsNoLock) {
  TempDir dir;
  std::string path = dir.file("t.db");
  db::Database::open(path)->commitRecord(cpuRecord("gemm", 0.5, R"({"a":1})"));
  ScheduleIndex index({fakeCpu()}, {});
  ASSERT_TRUE(index.load(path));
  EXPECT_DOUBLE_EQ(index.lookup("gemm", "", 0)->seconds, 0.5);
  // The index closed the database: a writer gets the lock at once.
  db::OpenOptions open;
  open.busyTimeoutMs = 10;
  open.busyDeadlineMs = 50;
  auto writer = db::Database::open(path, open);
  writer->commitRecord(cpuRecord("gemm", 0.1, R"({"a":2})"));
  EXPECT_DOUBLE_EQ(index.lookup("gemm", "", 0)->seconds, 0.5)
      << "nothing changes until refresh";
  ASSERT_TRUE(index.refresh());
  EXPECT_DOUBLE_EQ(index.lookup("gemm", "", 0)->seconds, 0.1);
}

TEST(CoordIndex, MissingOrCorruptDatabaseFallsBackWithOneWarning) {
  TempDir dir;
  Warnings warnings;
  ScheduleIndex missing({fakeCpu()}, {}, warnings.fn());
  EXPECT_FALSE(missing.load(dir.file("nope.db")));
  EXPECT_TRUE(missing.usingFallback());
  EXPECT_FALSE(missing.refresh());
  ASSERT_EQ(warnings.lines.size(), 1u);
  EXPECT_NE(warnings.lines[0].find("nope.db"), std::string::npos);

  std::string corrupt = dir.file("corrupt.db");
  std::ofstream(corrupt) << "this is not a SQLite database, not at all......"
                         << std::string(4096, 'x');
  warnings.lines.clear();
  ScheduleIndex broken({fakeCpu()}, {}, warnings.fn());
  EXPECT_FALSE(broken.load(corrupt));
  EXPECT_FALSE(broken.refresh());
  ASSERT_EQ(warnings.lines.size(), 1u) << "one warning, however often";
  EXPECT_NE(warnings.lines[0].find("corrupt.db"), std::string::npos);
  EXPECT_EQ(broken.lookup("gemm", "", 0), nullptr);
  // Predictions still exist: from FLOP counts.
  LatencyModel model({fakeCpu()});
  int w = model.addWorkload(fakeWorkload("gemm", OpKind::Gemm, 3e9), &broken);
  EXPECT_EQ(model.source(w, 0), PredictionSource::Roofline);
  EXPECT_GT(model.predict(w, 0), 0);
}

} // namespace
