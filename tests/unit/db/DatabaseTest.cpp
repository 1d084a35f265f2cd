//===- DatabaseTest.cpp - Commits, queries, staleness, claims, locking ----===//
//
// The store tests run against both implementations (value-parameterized:
// Sqlite/DbStore.* and Postgres/DbStore.*); the PostgreSQL ones need the
// private test server (tests/pg, ctest -L pg). File-level SQLite behaviour
// (WAL, lock waits, garbage files) is DbSqliteStore.*.
//
//===----------------------------------------------------------------------===//

#include "hatc/Db/Database.h"

#include "DbTestUtil.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

using namespace hatc;
using namespace hatc::db;
using namespace hatc::db::testing;

namespace {

std::string pragmaText(const std::string &path, const std::string &pragma) {
  sqlite3 *raw = nullptr;
  sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt *stmt = nullptr;
  std::string result;
  if (sqlite3_prepare_v2(raw, pragma.c_str(), -1, &stmt, nullptr) ==
          SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    result = reinterpret_cast<const char *>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  return result;
}

enum class Backend { Sqlite, Postgres };
void PrintTo(Backend backend, std::ostream *out) {
  *out << (backend == Backend::Sqlite ? "sqlite" : "postgres");
}

class DbStoreFixture : public ::testing::Test {
protected:
  virtual Backend backend() const = 0;
  void SetUp() override {
    if (backend() == Backend::Postgres) {
      HATC_REQUIRE_PG_SERVER();
      pg = std::make_unique<PgScratchDb>();
    }
    db = Database::open(path());
  }
  bool isPostgres() const { return backend() == Backend::Postgres; }
  /// The store's spec: a file in the scratch folder, or a database URL.
  std::string path() const { return pg ? pg->url() : scratch.path("tune.db"); }

  /// The task used by the query tests: matmul on cpu fingerprint fp-cpu-A,
  /// compiler hatc-test-1, plus stale neighbours that are faster.
  void populate() {
    auto add = [&](Record record, double createdAt) {
      record.createdAt = createdAt;
      ASSERT_TRUE(db->commitRecord(record).inserted);
    };
    add(makeRecord("{\"c\":1}", 3e-3), 1);
    add(makeRecord("{\"c\":2}", 1e-3), 2); // fresh best
    add(makeRecord("{\"c\":3}", 2e-3), 3);
    Record runError = makeRecord("{\"c\":4}", 1e-5);
    runError.error = ErrorCode::RunError;
    add(runError, 4);
    Record buildError = makeRecord("{\"c\":5}", 1e-5);
    buildError.error = ErrorCode::BuildError;
    add(buildError, 5);
    // Faster, but from another compiler version / another machine.
    add(makeRecord("{\"c\":6}", 5e-4, "hatc-test-0"), 6);
    add(makeRecord("{\"c\":7}", 2e-4, "hatc-test-1", "fp-cpu-B"), 7);
    // The fresh best config, measured by the old compiler as well.
    add(makeRecord("{\"c\":2}", 9e-4, "hatc-test-0"), 8);
  }

  ScratchDir scratch;
  std::unique_ptr<PgScratchDb> pg;
  std::unique_ptr<Database> db;
};

class DbStore : public DbStoreFixture,
                public ::testing::WithParamInterface<Backend> {
protected:
  Backend backend() const override { return GetParam(); }
};

class DbSqliteStore : public DbStoreFixture {
protected:
  Backend backend() const override { return Backend::Sqlite; }
};

std::vector<std::string> configsOf(const std::vector<Record> &records) {
  std::vector<std::string> result;
  for (const Record &record : records)
    result.push_back(record.configJson + (record.stale ? " stale" : ""));
  return result;
}

} // namespace

TEST_F(DbSqliteStore, NewDatabaseIsWalAtCurrentSchemaVersion) {
  EXPECT_EQ(db->schemaVersion(), Database::kSchemaVersion);
  EXPECT_EQ(db->integrityCheck(), "ok");
  EXPECT_EQ(pragmaText(path(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(pragmaText(path(), "PRAGMA user_version"),
            std::to_string(Database::kSchemaVersion));
}

TEST_P(DbStore, CommitReportsNewAndDuplicateRecords) {
  Record record = makeRecord("{\"tm\":16,\"tn\":64}", 1e-3);
  CommitResult first = db->commitRecord(record);
  EXPECT_TRUE(first.inserted);
  EXPECT_GT(first.id, 0);

  // Same key after canonicalization: duplicate, the first one is kept.
  Record again = makeRecord("{ \"tn\": 64, \"tm\": 16 }", 5e-3);
  CommitResult second = db->commitRecord(again);
  EXPECT_FALSE(second.inserted);
  EXPECT_EQ(second.id, first.id);
  ASSERT_TRUE(db->best(record.workloadKey, cpuTarget(), "hatc-test-1"));
  EXPECT_DOUBLE_EQ(
      *db->best(record.workloadKey, cpuTarget(), "hatc-test-1")->latencyS,
      1e-3);

  // Each part of the unique key makes a new record.
  EXPECT_TRUE(
      db->commitRecord(makeRecord("{\"tm\":16,\"tn\":64}", 1e-3, "hatc-test-2"))
          .inserted);
  EXPECT_TRUE(db->commitRecord(makeRecord("{\"tm\":16,\"tn\":64}", 1e-3,
                                          "hatc-test-1", "fp-cpu-B"))
                  .inserted);
  Record otherWorkload = record;
  otherWorkload.workloadKey = "matmul_f32_M128_N128_K128";
  EXPECT_TRUE(db->commitRecord(otherWorkload).inserted);
  EXPECT_EQ(db->stats().records, 4);
}

TEST_P(DbStore, ARecordOfMoreMeasurementsReplacesTheFiguresStored) {
  Record once = makeRecord("{\"c\":1}", 1e-3);
  Record rival = makeRecord("{\"c\":2}", 1.5e-3);
  CommitResult first = db->commitRecord(once);
  db->commitRecord(rival);
  ASSERT_EQ(db->best(once.workloadKey, cpuTarget(), "hatc-test-1")->configJson,
            "{\"c\":1}");

  // Measured again twice: slower than its one lucky measurement.
  Record thrice = once;
  thrice.latencyS = 2e-3;
  thrice.samples = {1e-3, 2e-3, 2.2e-3};
  thrice.extrasJson =
      R"({"measurements":3,"measured_s":[1e-3,2e-3,2.2e-3]})";
  CommitResult again = db->commitRecord(thrice);
  EXPECT_FALSE(again.inserted);
  EXPECT_TRUE(again.updated);
  EXPECT_EQ(again.id, first.id);
  // Its figure is slower than the rival's one measurement now, but it is
  // the one measured again (BestRanksRecordsMeasuredAgainFirst).
  std::optional<Record> best =
      db->best(once.workloadKey, cpuTarget(), "hatc-test-1");
  ASSERT_TRUE(best);
  EXPECT_EQ(best->configJson, "{\"c\":1}");
  EXPECT_DOUBLE_EQ(*best->latencyS, 2e-3);
  std::vector<Record> all = db->records(once.workloadKey, cpuTarget());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_DOUBLE_EQ(*all[0].latencyS, 2e-3);
  EXPECT_EQ(all[0].samples.size(), 3u);
  EXPECT_EQ(measurementsOf(all[0]), 3);
  EXPECT_EQ(all[0].createdAt, once.createdAt); // still the first's record

  // Fewer or as many measurements change nothing (a log replayed again).
  CommitResult older = db->commitRecord(once);
  EXPECT_FALSE(older.inserted);
  EXPECT_FALSE(older.updated);
  EXPECT_FALSE(db->commitRecord(thrice).updated);
  EXPECT_DOUBLE_EQ(*db->records(once.workloadKey, cpuTarget())[0].latencyS,
                   2e-3);

  // As many, then ranked by its lead side by side with the default
  // (paired_rounds, Tuner::rankByPairedLeads): it replaces; the same record
  // again, or one without those rounds, does not.
  Record paired = thrice;
  paired.latencyS = 2.5e-3;
  paired.extrasJson = R"({"measurements":3,"measured_s":[1e-3,2e-3,2.2e-3],)"
                      R"("paired_rounds":3,"paired_lead":0.9})";
  EXPECT_TRUE(db->commitRecord(paired).updated);
  EXPECT_FALSE(db->commitRecord(paired).updated);
  EXPECT_FALSE(db->commitRecord(thrice).updated);
  EXPECT_DOUBLE_EQ(*db->records(once.workloadKey, cpuTarget())[0].latencyS,
                   2.5e-3);

  // Failing when measured again: the record is a failure now.
  Record failed = once;
  failed.error = ErrorCode::RunError;
  failed.extrasJson = R"({"measurements":4,"message":"crashed"})";
  EXPECT_TRUE(db->commitRecord(failed).updated);
  EXPECT_EQ(db->best(once.workloadKey, cpuTarget(), "hatc-test-1")->configJson,
            "{\"c\":2}");
  EXPECT_EQ(db->records(once.workloadKey, cpuTarget())[0].error,
            ErrorCode::RunError);
  EXPECT_EQ(db->stats().records, 2);
}

TEST_P(DbStore, CommitRecordsIsAllOrNothing) {
  Record good = makeRecord("{\"a\":1}", 1e-3);
  Record bad = makeRecord("{\"a\":2}", 1e-3);
  bad.workloadHash.clear();
  try {
    db->commitRecords({good, bad});
    FAIL() << "invalid record accepted";
  } catch (const DbError &e) {
    std::string message = e.what();
    EXPECT_NE(message.find("missing workload hash"), std::string::npos)
        << message;
    EXPECT_NE(message.find(path()), std::string::npos) << message;
  }
  EXPECT_EQ(db->stats().records, 0);

  std::vector<CommitResult> results =
      db->commitRecords({good, makeRecord("{\"a\":2}", 1e-3), good});
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].inserted);
  EXPECT_TRUE(results[1].inserted);
  EXPECT_FALSE(results[2].inserted);
  EXPECT_EQ(results[2].id, results[0].id);
}

TEST_P(DbStore, RecordsRoundTripEveryField) {
  Record record = makeRecord("{\"tm\":16}", 1e-3);
  record.workloadIr = "func.func @matmul() { return }";
  record.samples = {1e-3, 2e-3, 3e-3, 4e-3};
  record.extrasJson = "{\"util\":0.5,\"bytes\":1024}";
  record.script = "transform.named_sequence @s \xe2\x9c\x93";
  record.createdAt = 1712345678.25;
  db->commitRecord(record);

  std::vector<Record> stored =
      db->records(record.workloadKey, cpuTarget("fp-cpu-A"));
  ASSERT_EQ(stored.size(), 1u);
  const Record &got = stored[0];
  EXPECT_EQ(got.workloadKey, record.workloadKey);
  EXPECT_EQ(got.workloadHash, record.workloadHash);
  EXPECT_EQ(got.workloadIr, record.workloadIr);
  EXPECT_EQ(got.targetKind, "cpu");
  EXPECT_EQ(got.targetName, "cpu-avx2");
  EXPECT_EQ(got.targetFingerprint, "fp-cpu-A");
  EXPECT_EQ(got.compilerVersion, "hatc-test-1");
  EXPECT_EQ(got.createdAt, 1712345678.25);
  EXPECT_EQ(got.sketch, "tile2");
  EXPECT_EQ(got.configJson, "{\"tm\":16}");
  EXPECT_EQ(got.configHash, configHashOf("{\"tm\":16}"));
  EXPECT_EQ(got.script, record.script);
  EXPECT_EQ(got.samples, record.samples);
  EXPECT_EQ(got.latencyS, 2.5e-3);
  EXPECT_FALSE(got.cycles);
  EXPECT_EQ(got.error, ErrorCode::Ok);
  EXPECT_EQ(got.extrasJson, "{\"bytes\":1024,\"util\":0.5}");
  EXPECT_FALSE(got.stale);
}

TEST_P(DbStore, WorkloadKeepsFirstNonEmptyIr) {
  Record withoutIr = makeRecord("{\"a\":1}", 1e-3);
  db->commitRecord(withoutIr);
  Record withIr = makeRecord("{\"a\":2}", 1e-3);
  withIr.workloadIr = "first IR";
  db->commitRecord(withIr);
  Record laterIr = makeRecord("{\"a\":3}", 1e-3);
  laterIr.workloadIr = "second IR";
  db->commitRecord(laterIr);
  for (const Record &record : db->records(withoutIr.workloadKey, cpuTarget()))
    EXPECT_EQ(record.workloadIr, "first IR");
  EXPECT_EQ(db->stats().tasks, 1);
}

TEST_P(DbStore, BestPicksLowestMedianLatencyAmongOkRecords) {
  populate();
  std::optional<Record> best =
      db->best("matmul_f32_M64_N64_K64", cpuTarget(), "hatc-test-1");
  ASSERT_TRUE(best);
  EXPECT_EQ(best->configJson, "{\"c\":2}");
  EXPECT_DOUBLE_EQ(*best->latencyS, 1e-3);
  EXPECT_FALSE(best->stale);
  EXPECT_EQ(best->compilerVersion, "hatc-test-1");
}

TEST_P(DbStore, BestRanksRecordsMeasuredAgainFirst) {
  // The tuner measures its best few again side by side with the default;
  // the one figure of a config measured once is the run it was picked for,
  // so a record measured again ranks before any measured once.
  auto add = [&](const std::string &config, double latency,
                 const std::string &extras, const std::string &version,
                 double createdAt) {
    Record record = makeRecord(config, latency, version);
    record.extrasJson = extras;
    record.createdAt = createdAt;
    ASSERT_TRUE(db->commitRecord(record).inserted);
  };
  add("{\"c\":1}", 1e-3, "{}", "hatc-test-1", 1);
  add("{\"c\":2}", 3e-3, R"({"measurements":3})", "hatc-test-1", 2);
  add("{\"c\":3}", 2e-3, R"({"measurements":2})", "hatc-test-1", 3);
  add("{\"c\":4}", 5e-4, R"({"measurements":1})", "hatc-test-1", 4);
  // Stale and measured again: still after every fresh record.
  add("{\"c\":5}", 1e-4, R"({"measurements":3})", "hatc-test-0", 5);
  add("{\"c\":6}", 2e-4, "{}", "hatc-test-0", 6);
  const std::string key = "matmul_f32_M64_N64_K64";
  EXPECT_EQ(db->best(key, cpuTarget(), "hatc-test-1")->configJson,
            "{\"c\":3}");
  EXPECT_EQ(configsOf(db->topK(key, cpuTarget(), "hatc-test-1", 10,
                               QueryOptions{true, ""})),
            (std::vector<std::string>{"{\"c\":3}", "{\"c\":2}", "{\"c\":4}",
                                      "{\"c\":1}", "{\"c\":5} stale",
                                      "{\"c\":6} stale"}));
}

TEST_P(DbStore, BestTieGoesToOldest) {
  Record later = makeRecord("{\"c\":1}", 1e-3);
  later.createdAt = 20;
  Record earlier = makeRecord("{\"c\":2}", 1e-3);
  earlier.createdAt = 10;
  db->commitRecord(later);
  db->commitRecord(earlier);
  EXPECT_EQ(db->best(later.workloadKey, cpuTarget(), "hatc-test-1")->configJson,
            "{\"c\":2}");
}

TEST_P(DbStore, BestMissesWhatIsNotThere) {
  populate();
  EXPECT_FALSE(db->best("no_such_workload", cpuTarget(), "hatc-test-1"));
  EXPECT_FALSE(db->best("matmul_f32_M64_N64_K64",
                        TargetKey{"gpu", "fp-cpu-A", ""}, "hatc-test-1"));
  EXPECT_FALSE(db->best("matmul_f32_M64_N64_K64",
                        TargetKey{"cpu", "fp-cpu-A", "other-name"},
                        "hatc-test-1"));
  EXPECT_TRUE(db->best("matmul_f32_M64_N64_K64",
                       TargetKey{"cpu", "fp-cpu-A", "cpu-avx2"},
                       "hatc-test-1"));
  // Only errors: a miss, not an error record.
  Record failed = makeRecord("{}", 1e-3);
  failed.workloadKey = "only_errors";
  failed.error = ErrorCode::WrongAnswer;
  db->commitRecord(failed);
  EXPECT_FALSE(db->best("only_errors", cpuTarget(), "hatc-test-1"));
  EXPECT_FALSE(db->best("only_errors", cpuTarget(), "hatc-test-1",
                        QueryOptions{true, ""}));
}

TEST_P(DbStore, BestUsesCyclesForHwacc) {
  auto hwacc = [](const std::string &config, int64_t cycles, double latency) {
    Record record = makeRecord(config, latency);
    record.targetKind = "hwacc";
    record.targetName = "hwacc-16x16";
    record.targetFingerprint = "dim16-spad256k";
    record.samples.clear();
    record.cycles = cycles;
    record.latencyS = latency; // modeled time, deliberately disagreeing
    return record;
  };
  db->commitRecord(hwacc("{\"t\":1}", 5000, 1e-6));
  db->commitRecord(hwacc("{\"t\":2}", 1000, 9e-6));
  db->commitRecord(hwacc("{\"t\":3}", 3000, 2e-6));
  TargetKey target{"hwacc", "dim16-spad256k", ""};
  std::optional<Record> best =
      db->best("matmul_f32_M64_N64_K64", target, "hatc-test-1");
  ASSERT_TRUE(best);
  EXPECT_EQ(best->cycles, 1000);
  EXPECT_EQ(
      configsOf(db->topK("matmul_f32_M64_N64_K64", target, "hatc-test-1", 3)),
      (std::vector<std::string>{"{\"t\":2}", "{\"t\":3}", "{\"t\":1}"}));
}

TEST_P(DbStore, TopKIsOrderedAndCapped) {
  populate();
  const std::string key = "matmul_f32_M64_N64_K64";
  EXPECT_EQ(configsOf(db->topK(key, cpuTarget(), "hatc-test-1", 2)),
            (std::vector<std::string>{"{\"c\":2}", "{\"c\":3}"}));
  EXPECT_EQ(configsOf(db->topK(key, cpuTarget(), "hatc-test-1", 10)),
            (std::vector<std::string>{"{\"c\":2}", "{\"c\":3}", "{\"c\":1}"}));
  EXPECT_TRUE(db->topK(key, cpuTarget(), "hatc-test-1", 0).empty());
  EXPECT_TRUE(db->topK("nothing", cpuTarget(), "hatc-test-1", 5).empty());
}

TEST_P(DbStore, TopKPutsFreshBeforeStaleAndSkipsRepeatedConfigs) {
  populate();
  // {"c":2} also exists stale (old compiler, 0.9 ms) - it must appear once,
  // in its fresh rank.
  EXPECT_EQ(configsOf(db->topK("matmul_f32_M64_N64_K64", cpuTarget(),
                               "hatc-test-1", 10, QueryOptions{true, ""})),
            (std::vector<std::string>{"{\"c\":2}", "{\"c\":3}", "{\"c\":1}",
                                      "{\"c\":7} stale", "{\"c\":6} stale"}));
}

TEST_P(DbStore, RecordsOfTaskIncludeErrorsAndEveryCompilerVersion) {
  populate();
  std::vector<Record> all = db->records("matmul_f32_M64_N64_K64", cpuTarget());
  // Everything on fp-cpu-A (not the fp-cpu-B record), oldest first.
  EXPECT_EQ(configsOf(all),
            (std::vector<std::string>{"{\"c\":1}", "{\"c\":2}", "{\"c\":3}",
                                      "{\"c\":4}", "{\"c\":5}", "{\"c\":6}",
                                      "{\"c\":2}"}));
  EXPECT_EQ(all[3].error, ErrorCode::RunError);
  EXPECT_FALSE(all[3].latencyS);
  EXPECT_EQ(all[6].compilerVersion, "hatc-test-0");
  EXPECT_EQ(db->records("matmul_f32_M64_N64_K64", cpuTarget("fp-cpu-B")).size(),
            1u);
  EXPECT_TRUE(
      db->records("matmul_f32_M64_N64_K64", cpuTarget("fp-none")).empty());
  EXPECT_TRUE(db->records("nothing", cpuTarget()).empty());
}

TEST_P(DbStore, StatsCountTasksTargetsRecordsAndErrors) {
  DbStats empty = db->stats();
  EXPECT_EQ(empty.schemaVersion, Database::kSchemaVersion);
  EXPECT_EQ(empty.tasks, 0);
  EXPECT_EQ(empty.records, 0);
  EXPECT_EQ(empty.errorsByCode.size(), allErrorCodes().size());

  populate();
  Record conv = makeRecord("{\"c\":1}", 1e-3);
  conv.workloadKey = "conv_f32";
  conv.workloadHash = "wh-conv";
  conv.error = ErrorCode::OutOfMemory;
  db->commitRecord(conv);
  DbStats stats = db->stats();
  // matmul on fp-cpu-A, matmul on fp-cpu-B, conv on fp-cpu-A.
  EXPECT_EQ(stats.tasks, 3);
  EXPECT_EQ(stats.targets, 2); // cpu-avx2 on fp-cpu-A and on fp-cpu-B
  EXPECT_EQ(stats.records, 9);
  EXPECT_EQ(stats.errorsByCode["OK"], 6);
  EXPECT_EQ(stats.errorsByCode["RUN_ERROR"], 1);
  EXPECT_EQ(stats.errorsByCode["BUILD_ERROR"], 1);
  EXPECT_EQ(stats.errorsByCode["OUT_OF_MEMORY"], 1);
  EXPECT_EQ(stats.errorsByCode["RUN_TIMEOUT"], 0);
}

TEST_P(DbStore, OtherCompilerVersionIsMissUnlessStaleAllowed) {
  populate();
  const std::string key = "matmul_f32_M64_N64_K64";
  // hatc-test-9 never measured anything: every record is stale.
  EXPECT_FALSE(db->best(key, cpuTarget(), "hatc-test-9"));
  EXPECT_TRUE(db->topK(key, cpuTarget(), "hatc-test-9", 5).empty());
  std::optional<Record> stale =
      db->best(key, cpuTarget(), "hatc-test-9", QueryOptions{true, ""});
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(stale->configJson, "{\"c\":7}"); // fastest of all, all stale

  // Only records of hatc-test-0 are fresh for hatc-test-0.
  std::optional<Record> old = db->best(key, cpuTarget(), "hatc-test-0");
  ASSERT_TRUE(old);
  EXPECT_EQ(old->configJson, "{\"c\":6}");
  EXPECT_FALSE(old->stale);
}

TEST_P(DbStore, OtherFingerprintIsMissUnlessStaleAllowed) {
  Record record = makeRecord("{\"c\":1}", 1e-3, "hatc-test-1", "fp-cpu-B");
  db->commitRecord(record);
  EXPECT_FALSE(
      db->best(record.workloadKey, cpuTarget("fp-cpu-A"), "hatc-test-1"));
  std::optional<Record> stale =
      db->best(record.workloadKey, cpuTarget("fp-cpu-A"), "hatc-test-1",
               QueryOptions{true, ""});
  ASSERT_TRUE(stale);
  EXPECT_TRUE(stale->stale);
  EXPECT_EQ(stale->targetFingerprint, "fp-cpu-B");
  std::optional<Record> fresh =
      db->best(record.workloadKey, cpuTarget("fp-cpu-B"), "hatc-test-1");
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->stale);
}

TEST_P(DbStore, FreshIsPreferredOverFasterStale) {
  populate();
  // {"c":7} (0.2 ms, other machine) and {"c":6} (0.5 ms, old compiler) are
  // faster than the fresh best {"c":2} (1 ms); fresh still wins.
  std::optional<Record> best = db->best("matmul_f32_M64_N64_K64", cpuTarget(),
                                        "hatc-test-1", QueryOptions{true, ""});
  ASSERT_TRUE(best);
  EXPECT_EQ(best->configJson, "{\"c\":2}");
  EXPECT_FALSE(best->stale);
}

// `db stats` and `report` count tasks the same way: one per (workload,
// target), two workloads on two targets being four, not two.
TEST_P(DbStore, StatsCountTheTasksTaskKeyOfTellsApart) {
  for (const char *workload : {"matmul_f32", "conv_f32"})
    for (const char *fingerprint : {"fp-cpu-A", "fp-cpu-B"})
      for (const char *config : {"{\"c\":1}", "{\"c\":2}"}) {
        Record record = makeRecord(config, 1e-3, "hatc-test-1", fingerprint);
        record.workloadKey = workload;
        record.workloadHash = std::string("wh-") + workload;
        db->commitRecord(record);
      }
  // Another compiler version is the same task.
  Record older = makeRecord("{\"c\":1}", 1e-3, "hatc-test-0", "fp-cpu-A");
  older.workloadKey = "matmul_f32";
  older.workloadHash = "wh-matmul_f32";
  db->commitRecord(older);
  std::set<std::string> keys;
  db->forEachRecord([&](const Record &r) { keys.insert(taskKeyOf(r)); });
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ(db->stats().tasks, 4);
}

TEST_P(DbStore, WorkloadHashFilterSeparatesOpsWithTheSameKey) {
  Record first = makeRecord("{\"c\":1}", 2e-3);
  Record sameKeyOtherOp = makeRecord("{\"c\":2}", 1e-3);
  sameKeyOtherOp.workloadHash = "wh-other";
  db->commitRecord(first);
  db->commitRecord(sameKeyOtherOp);
  EXPECT_EQ(db->stats().tasks, 2);
  EXPECT_EQ(db->best(first.workloadKey, cpuTarget(), "hatc-test-1",
                     QueryOptions{false, "wh-matmul-64"})
                ->configJson,
            "{\"c\":1}");
  EXPECT_EQ(db->best(first.workloadKey, cpuTarget(), "hatc-test-1")->configJson,
            "{\"c\":2}");
  // Another hash is a different op: not even a stale hit.
  EXPECT_FALSE(db->best(first.workloadKey, cpuTarget(), "hatc-test-1",
                        QueryOptions{true, "wh-none"}));
}

TEST_P(DbStore, ThreadsFilterKeepsRecordsOfThatThreadCount) {
  Record twoThreads = makeRecord("{\"c\":1}", 1e-3);
  twoThreads.threads = 2;
  Record oneThread = makeRecord("{\"c\":2}", 3e-3);
  oneThread.threads = 1;
  Record unknown = makeRecord("{\"c\":3}", 4e-3); // no thread count
  Record staleOne = makeRecord("{\"c\":4}", 0.5e-3);
  staleOne.threads = 1;
  staleOne.compilerVersion = "hatc-test-0";
  for (const Record &record : {twoThreads, oneThread, unknown, staleOne})
    db->commitRecord(record);
  const std::string key = twoThreads.workloadKey;
  QueryOptions onOne;
  onOne.threads = 1;
  EXPECT_EQ(db->best(key, cpuTarget(), "hatc-test-1", onOne)->configJson,
            "{\"c\":2}");
  QueryOptions onTwo;
  onTwo.threads = 2;
  EXPECT_EQ(db->best(key, cpuTarget(), "hatc-test-1", onTwo)->configJson,
            "{\"c\":1}");
  // Records without a count match any; stale ones are filtered too.
  QueryOptions onFour;
  onFour.threads = 4;
  EXPECT_EQ(db->best(key, cpuTarget(), "hatc-test-1", onFour)->configJson,
            "{\"c\":3}");
  onFour.allowStale = true;
  std::vector<Record> top = db->topK(key, cpuTarget(), "hatc-test-1", 5, onFour);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].configJson, "{\"c\":3}");
  onOne.allowStale = true;
  top = db->topK(key, cpuTarget(), "hatc-test-1", 5, onOne);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].configJson, "{\"c\":2}"); // fresh first
  EXPECT_EQ(top[1].configJson, "{\"c\":3}");
  EXPECT_EQ(top[2].configJson, "{\"c\":4}");
  EXPECT_TRUE(top[2].stale);
  // Without the filter, every thread count competes.
  EXPECT_EQ(db->best(key, cpuTarget(), "hatc-test-1")->configJson,
            "{\"c\":1}");
}

TEST_P(DbStore, ReopenKeepsRecordsAndReadOnlyCannotWrite) {
  populate();
  db.reset();
  db = Database::open(path());
  EXPECT_EQ(db->stats().records, 8);
  db.reset();

  OpenOptions readOnly;
  readOnly.readOnly = true;
  std::unique_ptr<Database> reader = Database::open(path(), readOnly);
  EXPECT_TRUE(
      reader->best("matmul_f32_M64_N64_K64", cpuTarget(), "hatc-test-1"));
  EXPECT_THROW(reader->commitRecord(makeRecord("{\"new\":1}", 1e-3)), DbError);
  EXPECT_EQ(reader->stats().records, 8);

  if (!isPostgres()) {
    EXPECT_THROW(Database::open(scratch.path("missing.db"), readOnly),
                 DbError);
    return;
  }
  PgScratchDb empty;
  try {
    Database::open(empty.url(), readOnly);
    FAIL() << "read-only open of an empty database";
  } catch (const DbError &e) {
    EXPECT_NE(std::string(e.what()).find("is empty"), std::string::npos)
        << e.what();
  }
}

TEST_F(DbSqliteStore, RefusesFilesThatAreNotHatcDatabases) {
  std::string garbage = scratch.path("garbage.db");
  std::string content(4096, 'x');
  writeFile(garbage, content);
  try {
    Database::open(garbage);
    FAIL() << "opened a garbage file";
  } catch (const DbError &e) {
    std::string message = e.what();
    EXPECT_NE(message.find("is not a SQLite database"), std::string::npos)
        << message;
    EXPECT_NE(message.find(garbage), std::string::npos) << message;
  }
  EXPECT_EQ(readFile(garbage), content);

  std::string foreign = scratch.path("foreign.db");
  sqlite3 *raw = nullptr;
  sqlite3_open(foreign.c_str(), &raw);
  sqlite3_exec(raw, "CREATE TABLE t(x)", nullptr, nullptr, nullptr);
  sqlite3_close(raw);
  try {
    Database::open(foreign);
    FAIL() << "opened a foreign database";
  } catch (const DbError &e) {
    EXPECT_NE(std::string(e.what()).find("not a hatc tuning database"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(DbSqliteStore, BusyDatabaseIsRetriedBeyondBusyTimeout) {
  // Another connection holds the write lock for a while; SQLite's own wait
  // is set far shorter, so only the wrappers' retry can make this work.
  db.reset();
  OpenOptions impatient;
  impatient.busyTimeoutMs = 5;
  db = Database::open(path(), impatient);

  sqlite3 *holder = nullptr;
  sqlite3_open(path().c_str(), &holder);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  });
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(db->commitRecord(makeRecord("{\"c\":1}", 1e-3)).inserted);
  EXPECT_GE(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(200));
  release.join();
  sqlite3_close(holder);
  EXPECT_EQ(db->stats().records, 1);
}

TEST_F(DbSqliteStore, LockHeldPastDeadlineIsOneClearError) {
  db.reset();
  OpenOptions impatient;
  impatient.busyTimeoutMs = 5;
  impatient.busyDeadlineMs = 200;
  db = Database::open(path(), impatient);

  sqlite3 *holder = nullptr;
  sqlite3_open(path().c_str(), &holder);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr),
            SQLITE_OK);
  try {
    db->commitRecord(makeRecord("{\"c\":1}", 1e-3));
    FAIL() << "commit went through a held lock";
  } catch (const DbError &e) {
    std::string message = e.what();
    EXPECT_NE(message.find("stayed locked by another process"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(path()), std::string::npos) << message;
  }
  sqlite3_exec(holder, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  // The failed attempt left nothing half-done behind.
  EXPECT_TRUE(db->commitRecord(makeRecord("{\"c\":1}", 1e-3)).inserted);
  EXPECT_EQ(db->integrityCheck(), "ok");
}

//===----------------------------------------------------------------------===//
// Claims: no candidate measured twice by concurrent sessions
//===----------------------------------------------------------------------===//

namespace {
} // namespace

TEST_P(DbStore, ClaimIsExclusiveUntilMeasured) {
  ClaimResult first = db->claim(claimFor("{\"c\":1}", "session-A"));
  EXPECT_EQ(first.status, ClaimStatus::Claimed);
  EXPECT_EQ(first.taskCount, 1);
  // The owner may renew; anyone else is told it is taken.
  EXPECT_EQ(db->claim(claimFor("{\"c\":1}", "session-A")).status,
            ClaimStatus::Claimed);
  ClaimResult other = db->claim(claimFor("{\"c\":1}", "session-B"));
  EXPECT_EQ(other.status, ClaimStatus::ClaimedByOther);
  EXPECT_EQ(other.taskCount, 1);
  // Claims are not records.
  EXPECT_EQ(db->stats().records, 0);

  // Measured: the record replaces the claim, and nobody measures it again.
  EXPECT_TRUE(db->commitRecord(makeRecord("{\"c\":1}", 1e-3)).inserted);
  ClaimResult after = db->claim(claimFor("{\"c\":1}", "session-B"));
  EXPECT_EQ(after.status, ClaimStatus::AlreadyMeasured);
  EXPECT_EQ(after.taskCount, 1); // one record, no claim left
  EXPECT_EQ(db->claim(claimFor("{\"c\":1}", "session-A")).status,
            ClaimStatus::AlreadyMeasured);
}

TEST_P(DbStore, LapsedClaimIsTakenOverAndReleasedClaimsAreFree) {
  // A crashed session's claim lapses after its TTL.
  EXPECT_EQ(db->claim(claimFor("{\"c\":1}", "crashed", /*ttl=*/-1)).status,
            ClaimStatus::Claimed);
  EXPECT_EQ(db->claim(claimFor("{\"c\":1}", "session-B")).status,
            ClaimStatus::Claimed);
  EXPECT_EQ(db->claim(claimFor("{\"c\":1}", "crashed")).status,
            ClaimStatus::ClaimedByOther);

  EXPECT_EQ(db->claim(claimFor("{\"c\":2}", "session-B")).status,
            ClaimStatus::Claimed);
  db->releaseClaims("session-B");
  EXPECT_EQ(db->claim(claimFor("{\"c\":1}", "session-C")).status,
            ClaimStatus::Claimed);
  EXPECT_EQ(db->claim(claimFor("{\"c\":2}", "session-C")).status,
            ClaimStatus::Claimed);
}

TEST_P(DbStore, TaskLimitCountsRecordsAndLiveClaimsOfEveryone) {
  db->commitRecord(makeRecord("{\"c\":1}", 1e-3));
  EXPECT_EQ(db->claim(claimFor("{\"c\":2}", "A", 60, 3)).status,
            ClaimStatus::Claimed);
  EXPECT_EQ(db->claim(claimFor("{\"c\":3}", "B", 60, 3)).status,
            ClaimStatus::Claimed);
  // One record + two live claims: the task is full for a new config...
  ClaimResult full = db->claim(claimFor("{\"c\":4}", "A", 60, 3));
  EXPECT_EQ(full.status, ClaimStatus::TaskFull);
  EXPECT_EQ(full.taskCount, 3);
  // ...but renewing a claim already counted is not a new trial.
  EXPECT_EQ(db->claim(claimFor("{\"c\":2}", "A", 60, 3)).status,
            ClaimStatus::Claimed);
  // A lapsed claim no longer counts.
  EXPECT_EQ(db->claim(claimFor("{\"c\":3}", "B", -1, 3)).status,
            ClaimStatus::Claimed);
  EXPECT_EQ(db->claim(claimFor("{\"c\":4}", "A", 60, 3)).status,
            ClaimStatus::Claimed);
  // Another compiler version is another task.
  ClaimRequest otherVersion = claimFor("{\"c\":5}", "A", 60, 3);
  otherVersion.compilerVersion = "hatc-test-2";
  EXPECT_EQ(db->claim(otherVersion).status, ClaimStatus::Claimed);
}

// With a thread count (the tuner's on the CPU), the records of another
// thread count are another budget's; records without one count for any.
TEST_P(DbStore, TaskLimitOnThreadsCountsThatThreadCountsRecords) {
  for (const char *config : {"{\"c\":1}", "{\"c\":2}"}) {
    Record onOne = makeRecord(config, 1e-3);
    onOne.threads = 1;
    db->commitRecord(onOne);
  }
  db->commitRecord(makeRecord("{\"c\":3}", 1e-3)); // no thread count
  auto onThreads = [](const char *config, int64_t threads) {
    ClaimRequest request = claimFor(config, "A", 60, 3);
    request.threads = threads;
    return request;
  };
  ClaimResult two = db->claim(onThreads("{\"c\":4}", 2));
  EXPECT_EQ(two.status, ClaimStatus::Claimed);
  EXPECT_EQ(two.taskCount, 2); // c3 and this claim
  // On 1 thread: c1, c2 and c3; the claim on 2 threads is another budget's.
  ClaimResult one = db->claim(onThreads("{\"c\":5}", 1));
  EXPECT_EQ(one.status, ClaimStatus::TaskFull);
  EXPECT_EQ(one.taskCount, 3);
  EXPECT_EQ(db->claim(claimFor("{\"c\":5}", "A", 60, 3)).status,
            ClaimStatus::TaskFull); // every record, as before
  EXPECT_EQ(db->claim(onThreads("{\"c\":6}", 2)).status,
            ClaimStatus::Claimed);
}

// A config measured on 1 thread and on 2 is two records (and two claims):
// a tuning on 2 threads measures what one on 1 thread already did. A record
// without a thread count is one of its own, and counts as measured for any.
TEST_P(DbStore, EachThreadCountKeysItsOwnRecordAndClaim) {
  auto on = [](const char *config, std::optional<int64_t> threads,
               double latency = 1e-3) {
    Record record = makeRecord(config, latency);
    record.threads = threads;
    return record;
  };
  CommitResult one = db->commitRecord(on("{\"c\":1}", 1, 2e-3));
  CommitResult two = db->commitRecord(on("{\"c\":1}", 2, 1e-3));
  EXPECT_TRUE(one.inserted);
  EXPECT_TRUE(two.inserted);
  EXPECT_NE(one.id, two.id);
  CommitResult again = db->commitRecord(on("{\"c\":1}", 2, 5e-3));
  EXPECT_FALSE(again.inserted);
  EXPECT_EQ(again.id, two.id);
  EXPECT_TRUE(db->commitRecord(on("{\"c\":1}", std::nullopt)).inserted);
  EXPECT_FALSE(db->commitRecord(on("{\"c\":1}", std::nullopt)).inserted);
  EXPECT_EQ(db->stats().records, 3);
  QueryOptions onTwo;
  onTwo.threads = 2;
  std::optional<Record> best = db->best(
      "matmul_f32_M64_N64_K64", cpuTarget(), "hatc-test-1", onTwo);
  ASSERT_TRUE(best);
  EXPECT_EQ(best->id, two.id);

  auto claimOn = [](const char *config, const char *owner, int64_t threads) {
    ClaimRequest request = claimFor(config, owner);
    request.threads = threads;
    return request;
  };
  db->commitRecord(on("{\"c\":7}", 1));
  EXPECT_EQ(db->claim(claimOn("{\"c\":7}", "A", 1)).status,
            ClaimStatus::AlreadyMeasured);
  EXPECT_EQ(db->claim(claimOn("{\"c\":7}", "A", 2)).status,
            ClaimStatus::Claimed);
  // Two owners claim one config on two thread counts.
  EXPECT_EQ(db->claim(claimOn("{\"c\":8}", "A", 2)).status,
            ClaimStatus::Claimed);
  EXPECT_EQ(db->claim(claimOn("{\"c\":8}", "B", 1)).status,
            ClaimStatus::Claimed);
  EXPECT_EQ(db->claim(claimOn("{\"c\":8}", "B", 2)).status,
            ClaimStatus::ClaimedByOther);
  // A's measurement on 2 threads ends A's claim, not B's on 1.
  db->commitRecord(on("{\"c\":8}", 2));
  EXPECT_EQ(db->claim(claimOn("{\"c\":8}", "A", 1)).status,
            ClaimStatus::ClaimedByOther);
  EXPECT_EQ(db->claim(claimOn("{\"c\":8}", "B", 2)).status,
            ClaimStatus::AlreadyMeasured);
  // Measured without a thread count: measured for every count.
  db->commitRecord(on("{\"c\":9}", std::nullopt));
  EXPECT_EQ(db->claim(claimOn("{\"c\":9}", "A", 2)).status,
            ClaimStatus::AlreadyMeasured);
}

INSTANTIATE_TEST_SUITE_P(Sqlite, DbStore, ::testing::Values(Backend::Sqlite));
INSTANTIATE_TEST_SUITE_P(Postgres, DbStore,
                         ::testing::Values(Backend::Postgres));
