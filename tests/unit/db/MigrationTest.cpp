//===- MigrationTest.cpp - Schema upgrades and refusal of newer files -----===//
//
// The version 1 fixture is built from a checked-in .sql file (a binary .db
// in git would hide what it contains), then opened with the current code.
//
//===----------------------------------------------------------------------===//

#include "hatc/Db/Database.h"

#include "DbTestUtil.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <set>
#include <tuple>

using namespace hatc;
using namespace hatc::db;
using namespace hatc::db::testing;

namespace {

void execRaw(const std::string &path, const std::string &sql) {
  sqlite3 *raw = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
  char *error = nullptr;
  int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

std::vector<std::vector<std::string>> queryRaw(const std::string &path,
                                               const std::string &sql) {
  sqlite3 *raw = nullptr;
  sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt *stmt = nullptr;
  std::vector<std::vector<std::string>> rows;
  if (sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<std::string> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
        const unsigned char *text = sqlite3_column_text(stmt, i);
        row.push_back(text ? reinterpret_cast<const char *>(text) : "NULL");
      }
      rows.push_back(row);
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
  return rows;
}

/// Columns (name, type, not null, default, pk) and indexes (unique flag and
/// columns) of the hatc tables: what a migrated file must share with a new
/// one. Index names are left out (SQLite names the implicit ones after the
/// table they were created in).
std::vector<std::vector<std::string>> schemaShape(const std::string &path) {
  std::vector<std::vector<std::string>> shape;
  for (const char *table : {"workloads", "targets", "records"}) {
    for (auto row : queryRaw(path, std::string("SELECT name, type, \"notnull\","
                                               " dflt_value, pk FROM "
                                               "pragma_table_info('") +
                                       table + "')")) {
      row.insert(row.begin(), table);
      shape.push_back(row);
    }
    std::set<std::vector<std::string>> indexes;
    for (const auto &index :
         queryRaw(path, std::string("SELECT name, \"unique\" FROM "
                                    "pragma_index_list('") +
                            table + "')")) {
      std::vector<std::string> entry = {table, "index", index[1]};
      for (const auto &column :
           queryRaw(path, "SELECT name FROM pragma_index_info('" + index[0] +
                              "') ORDER BY seqno"))
        entry.push_back(column[0]);
      indexes.insert(entry);
    }
    shape.insert(shape.end(), indexes.begin(), indexes.end());
  }
  return shape;
}

std::string buildV1Fixture(const ScratchDir &scratch) {
  std::string path = scratch.path("v1.db");
  std::string sql = readFile(HATC_DB_FIXTURE_DIR "/schema_v1.sql");
  EXPECT_FALSE(sql.empty()) << "fixture missing: " HATC_DB_FIXTURE_DIR;
  execRaw(path, sql);
  return path;
}

} // namespace

TEST(DbMigration, FixtureIsVersionOne) {
  ScratchDir scratch;
  std::string path = buildV1Fixture(scratch);
  EXPECT_EQ(queryRaw(path, "PRAGMA user_version")[0][0], "1");
  EXPECT_EQ(queryRaw(path, "SELECT count(*) FROM records")[0][0], "5");
}

TEST(DbMigration, UpgradesVersionOneFixtureKeepingEveryRecord) {
  ScratchDir scratch;
  std::string path = buildV1Fixture(scratch);
  std::unique_ptr<Database> db = Database::open(path);
  EXPECT_EQ(db->schemaVersion(), Database::kSchemaVersion);
  EXPECT_EQ(db->integrityCheck(), "ok");

  DbStats stats = db->stats();
  // (matmul, new cpu), (matmul, old cpu), (conv, new cpu).
  EXPECT_EQ(stats.tasks, 3);
  EXPECT_EQ(stats.targets, 2);
  EXPECT_EQ(stats.records, 5);
  EXPECT_EQ(stats.errorsByCode["OK"], 3);
  EXPECT_EQ(stats.errorsByCode["BUILD_ERROR"], 1);
  EXPECT_EQ(stats.errorsByCode["RUN_TIMEOUT"], 1);

  // Old rows keep their ids and values; new columns get their defaults.
  std::vector<Record> matmul =
      db->records("matmul_f32_M64_N64_K64", cpuTarget("fp-cpu-new"));
  ASSERT_EQ(matmul.size(), 3u);
  EXPECT_EQ(matmul[0].id, 11);
  EXPECT_EQ(matmul[0].configJson, "{\"tm\":32,\"tn\":32}");
  EXPECT_EQ(matmul[0].samples, (std::vector<double>{0.0021, 0.002, 0.0019}));
  EXPECT_EQ(matmul[0].targetName, "");
  EXPECT_EQ(matmul[0].workloadIr, "");
  EXPECT_FALSE(matmul[0].cycles);
  EXPECT_EQ(matmul[0].extrasJson, "{}");
  EXPECT_EQ(matmul[2].error, ErrorCode::BuildError);

  // Queries work on migrated data, staleness included.
  std::optional<Record> best =
      db->best("matmul_f32_M64_N64_K64", cpuTarget("fp-cpu-new"), "hatc-v1");
  ASSERT_TRUE(best);
  EXPECT_EQ(best->id, 12);
  EXPECT_FALSE(
      db->best("matmul_f32_M64_N64_K64", cpuTarget("fp-cpu-new"), "hatc-v2"));
  std::optional<Record> stale =
      db->best("matmul_f32_M64_N64_K64", cpuTarget("fp-cpu-new"), "hatc-v2",
               QueryOptions{true, ""});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->id, 14); // 0.5 ms on the old fingerprint
  EXPECT_TRUE(stale->stale);

  // The v1 hashes agree with today's: re-committing is a duplicate.
  Record again = matmul[1];
  again.targetName = ""; // v1 targets had no name
  CommitResult result = db->commitRecord(again);
  EXPECT_FALSE(result.inserted);
  EXPECT_EQ(result.id, 12);

  // And the upgraded file takes version-2 data.
  Record hwacc = makeRecord("{\"t\":1}", 1e-3, "hatc-v2");
  hwacc.targetKind = "hwacc";
  hwacc.targetFingerprint = "dim16";
  hwacc.samples.clear();
  hwacc.cycles = 4242;
  hwacc.workloadIr = "ir text";
  EXPECT_TRUE(db->commitRecord(hwacc).inserted);
  EXPECT_EQ(
      db->best(hwacc.workloadKey, TargetKey{"hwacc", "dim16", ""}, "hatc-v2")
          ->cycles,
      4242);
  db.reset();

  // Migrated and new files have the same shape.
  std::unique_ptr<Database> fresh = Database::open(scratch.path("new.db"));
  fresh.reset();
  EXPECT_EQ(schemaShape(path), schemaShape(scratch.path("new.db")));

  // Reopening does not migrate again.
  EXPECT_EQ(Database::open(path)->stats().records, 6);
}

TEST(DbMigration, ReadOnlyOpenOfOldVersionAsksForUpgrade) {
  ScratchDir scratch;
  std::string path = buildV1Fixture(scratch);
  std::string before = readFile(path);
  OpenOptions readOnly;
  readOnly.readOnly = true;
  try {
    Database::open(path, readOnly);
    FAIL() << "read-only open of a v1 file";
  } catch (const DbError &e) {
    EXPECT_NE(std::string(e.what()).find("needs an upgrade"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(readFile(path), before);
}

namespace {
void expectRefusedUnchanged(const std::string &path, int version) {
  std::string before = readFile(path);
  ASSERT_FALSE(before.empty());
  for (bool readOnly : {false, true}) {
    OpenOptions options;
    options.readOnly = readOnly;
    try {
      Database::open(path, options);
      ADD_FAILURE() << "opened a database of schema version " << version;
    } catch (const DbError &e) {
      std::string message = e.what();
      EXPECT_NE(message.find(path), std::string::npos) << message;
      EXPECT_NE(message.find("schema version " + std::to_string(version) +
                             ", newer than this hatc"),
                std::string::npos)
          << message;
      EXPECT_NE(message.find("not modified"), std::string::npos) << message;
    }
    EXPECT_EQ(readFile(path), before) << "the newer database was modified";
  }
}
} // namespace

TEST(DbMigration, RefusesNewerWalDatabaseWithoutModifyingIt) {
  ScratchDir scratch;
  std::string path = scratch.path("newer.db");
  {
    std::unique_ptr<Database> db = Database::open(path);
    db->commitRecord(makeRecord("{\"c\":1}", 1e-3));
  }
  execRaw(path, "PRAGMA user_version = 99");
  // Closing the last connection checkpointed the WAL into the main file.
  expectRefusedUnchanged(path, 99);
}

TEST(DbMigration, RefusesNewerRollbackJournalDatabaseWithoutModifyingIt) {
  // Not in WAL mode yet: opening must not switch it (that would rewrite the
  // header).
  ScratchDir scratch;
  std::string path = scratch.path("newer-journal.db");
  int newer = Database::kSchemaVersion + 1;
  execRaw(path, "CREATE TABLE future(x); INSERT INTO future VALUES(1);"
                "PRAGMA user_version = " +
                    std::to_string(newer) + ";");
  expectRefusedUnchanged(path, newer);
  EXPECT_EQ(queryRaw(path, "PRAGMA journal_mode")[0][0], "delete");
}

// Version 2 files carry hashes of llvm::hash_combine; opening with a
// re-keyer moves each workload to its new hash, merging into the rows that
// records measured since already created under it.
TEST(DbMigration, ReKeysLegacyWorkloadHashes) {
  ScratchDir scratch;
  std::string path = scratch.path("legacy.db");
  Record old = makeRecord("{\"c\":1}", 2e-3);
  old.workloadHash = "0123456789abcdef";
  old.workloadIr = "IR of the workload";
  Record oldOther = makeRecord("{\"c\":2}", 3e-3);
  oldOther.workloadHash = old.workloadHash;
  oldOther.workloadIr = old.workloadIr;
  oldOther.extrasJson = R"({"threads":2})"; // where version 2 kept it
  Record fresh = makeRecord("{\"c\":1}", 1e-3);
  fresh.workloadHash = "w1-new";
  Record noIr = makeRecord("{\"c\":3}", 1e-3);
  noIr.workloadKey = "another_key";
  noIr.workloadHash = "fedcba9876543210";
  {
    std::unique_ptr<Database> db = Database::open(path);
    db->commitRecords({old, oldOther, fresh, noIr});
  }
  // What a version-2 file looks like: no hash index, no threads column,
  // user_version 2 (the key without threads is version 4's index, rebuilt
  // by the migration to version 4).
  execRaw(path, "DROP INDEX workloads_by_hash; DROP INDEX records_by_key; "
                "ALTER TABLE records DROP COLUMN threads; "
                "PRAGMA user_version = 2;");

  int calls = 0;
  OpenOptions options;
  options.rehash = [&](const std::string &key,
                       const std::string &ir) -> std::optional<std::string> {
    ++calls;
    EXPECT_EQ(key, old.workloadKey);
    EXPECT_EQ(ir, "IR of the workload");
    return std::string("w1-new");
  };
  std::unique_ptr<Database> db = Database::open(path, options);
  EXPECT_EQ(db->schemaVersion(), Database::kSchemaVersion);
  EXPECT_EQ(calls, 1); // the row without IR cannot be re-keyed: not asked
  EXPECT_EQ(queryRaw(path, "SELECT hash FROM workloads ORDER BY hash"),
            (std::vector<std::vector<std::string>>{{"fedcba9876543210"},
                                                   {"w1-new"}}));
  // {"c":1} existed under both hashes: the one already under the new hash
  // stays; {"c":2} moved over.
  QueryOptions byHash;
  byHash.workloadHash = "w1-new";
  std::vector<Record> records =
      db->topK(old.workloadKey, cpuTarget(old.targetFingerprint),
               old.compilerVersion, 10, byHash);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].configJson, "{\"c\":1}");
  EXPECT_DOUBLE_EQ(records[0].latencyS.value_or(0), 1e-3);
  EXPECT_EQ(records[1].configJson, "{\"c\":2}");
  EXPECT_EQ(records[1].threads, std::optional<int64_t>(2));
  EXPECT_EQ(records[0].threads, std::nullopt);
  EXPECT_EQ(db->stats().records, 3);
  EXPECT_EQ(db->integrityCheck(), "ok");
  db.reset();

  // Nothing left to re-key: a second open does not ask again.
  calls = 0;
  Database::open(path, options);
  EXPECT_EQ(calls, 0);
}

// Version 3 keyed records without their thread count: a config measured on
// 1 thread could not be stored for 2. The upgrade keeps every record (ids
// included) and the claims table gains the thread count.
TEST(DbMigration, UpgradesVersionThreeToKeyRecordsByThreadCount) {
  ScratchDir scratch;
  std::string path = scratch.path("v3.db");
  std::string sql = readFile(HATC_DB_FIXTURE_DIR "/schema_v3.sql");
  ASSERT_FALSE(sql.empty()) << "fixture missing: " HATC_DB_FIXTURE_DIR;
  execRaw(path, sql);
  std::unique_ptr<Database> db = Database::open(path);
  EXPECT_EQ(db->schemaVersion(), Database::kSchemaVersion);
  EXPECT_EQ(db->integrityCheck(), "ok");
  std::vector<Record> kept =
      db->records("matmul_f32_M64_N64_K64", cpuTarget("fp-cpu"));
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].id, 21);
  EXPECT_EQ(kept[0].threads, std::optional<int64_t>(1));
  EXPECT_EQ(kept[0].samples, (std::vector<double>{0.0021, 0.002, 0.0019}));
  EXPECT_EQ(kept[1].id, 23);
  EXPECT_EQ(kept[1].threads, std::nullopt);
  // The old claims are gone (transient), and the table has the new key.
  EXPECT_EQ(queryRaw(path, "SELECT count(*) FROM claims")[0][0], "0");
  EXPECT_EQ(queryRaw(path, "SELECT count(*) FROM pragma_table_info('claims') "
                           "WHERE name = 'threads' AND pk > 0")[0][0],
            "1");

  // The config of record 21, measured again on 2 threads, is a record of
  // its own; on 1 thread it is the duplicate it always was.
  Record onTwo = kept[0];
  onTwo.id = 0;
  onTwo.threads = 2;
  onTwo.samples = {0.0012};
  CommitResult two = db->commitRecord(onTwo);
  EXPECT_TRUE(two.inserted);
  EXPECT_GT(two.id, 23);
  Record onOne = onTwo;
  onOne.threads = 1;
  CommitResult one = db->commitRecord(onOne);
  EXPECT_FALSE(one.inserted);
  EXPECT_EQ(one.id, 21);
  // Record 23 has no thread count: stored again without one, a duplicate.
  Record none = kept[1];
  none.id = 0;
  EXPECT_FALSE(db->commitRecord(none).inserted);
  EXPECT_EQ(db->stats().records, 3);
  db.reset();

  // Migrated and new files have the same shape.
  Database::open(scratch.path("new.db")).reset();
  EXPECT_EQ(schemaShape(path), schemaShape(scratch.path("new.db")));
}
