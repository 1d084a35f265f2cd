//===- PostgresTest.cpp - What only the PostgreSQL store has --------------===//
//
// Telling server specs from files and keeping passwords out of messages
// (DbServerSpec, no server needed), and on the private test server
// (DbPostgres, ctest -L pg): the schema version table, refusals, integrity
// checks, reconnecting after the server dropped the connection, eight
// writer processes at once, and claims racing for the last trials of a task.
// The store semantics shared with SQLite are tested by DatabaseTest.cpp for
// both.
//
//===----------------------------------------------------------------------===//

#include "hatc/Db/Database.h"

#include "DbTestUtil.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

using namespace hatc;
using namespace hatc::db;
using namespace hatc::db::testing;

TEST(DbServerSpec, TellsServersFromFiles) {
  EXPECT_TRUE(Database::isServerSpec("postgresql://alice@db.example/tuning"));
  EXPECT_TRUE(Database::isServerSpec("postgres://db.example:5433/tuning"));
  EXPECT_TRUE(Database::isServerSpec("host=/run/pg dbname=tuning"));
  EXPECT_FALSE(Database::isServerSpec("hatc.db"));
  EXPECT_FALSE(Database::isServerSpec("/tmp/runs/tune.db"));
  EXPECT_FALSE(Database::isServerSpec("a=b.db"));
  EXPECT_FALSE(Database::isServerSpec("/tmp/x=y/tune.db"));
  EXPECT_FALSE(Database::isServerSpec("postgresql.db"));
}

TEST(DbServerSpec, DisplayNameLeavesThePasswordOut) {
  EXPECT_EQ(Database::displayName(
                "postgresql://alice:s3cret@db.example:5433/tuning"),
            "postgresql://alice@db.example:5433/tuning");
  EXPECT_EQ(Database::displayName("postgresql://alice@db/t?password=s3cret&"
                                  "sslmode=require"),
            "postgresql://alice@db/t?sslmode=require");
  EXPECT_EQ(Database::displayName("postgresql://db/t?sslmode=require&"
                                  "password=s3cret"),
            "postgresql://db/t?sslmode=require");
  EXPECT_EQ(Database::displayName(
                "host=db user=alice password='s3 cret' dbname=tuning"),
            "host=db user=alice dbname=tuning");
  EXPECT_EQ(Database::displayName("host=db password=s3cret dbname=t"),
            "host=db dbname=t");
  EXPECT_EQ(Database::displayName("runs/tune.db"), "runs/tune.db");
}

TEST(DbServerSpec, ServerDownAtOpenIsOneClearError) {
  ScratchDir scratch; // a socket folder where no server listens
  std::string url =
      "postgresql://hatc:topsecret@/tuning?host=" + scratch.path("sock");
  auto start = std::chrono::steady_clock::now();
  try {
    Database::open(url);
    FAIL() << "opened a database on a server that is not there";
  } catch (const DbError &e) {
    std::string message = e.what();
    EXPECT_NE(message.find("cannot connect to tuning database "
                           "'postgresql://hatc@/tuning?host=" +
                           scratch.path("sock") + "'"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find("topsecret"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // Not the reconnect loop: a server down at start fails at once.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

namespace {

class DbPostgres : public ::testing::Test {
protected:
  void SetUp() override {
    HATC_REQUIRE_PG_SERVER();
    pg = std::make_unique<PgScratchDb>();
  }
  std::unique_ptr<PgScratchDb> pg;
};

std::set<std::string> storedHashes(Database &db) {
  std::set<std::string> hashes;
  db.forEachRecord(
      [&](const Record &record) { hashes.insert(record.configHash); });
  return hashes;
}

} // namespace

TEST_F(DbPostgres, SchemaVersionLivesInATableAndNewerIsRefused) {
  {
    std::unique_ptr<Database> db = Database::open(pg->url());
    EXPECT_EQ(db->schemaVersion(), Database::kSchemaVersion);
    EXPECT_EQ(db->stats().schemaVersion, Database::kSchemaVersion);
    EXPECT_EQ(db->integrityCheck(), "ok");
    db->commitRecord(makeRecord("{\"c\":1}", 1e-3));
  }
  ASSERT_EQ(pgExec(pg->url(), "UPDATE hatc_schema SET version = 99"), "");
  try {
    Database::open(pg->url());
    FAIL() << "opened a database of a newer schema";
  } catch (const DbError &e) {
    EXPECT_NE(std::string(e.what()).find("newer than this hatc"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(pg->url()), std::string::npos);
  }
  // Nothing was touched.
  ASSERT_EQ(pgExec(pg->url(), "UPDATE hatc_schema SET version = " +
                                   std::to_string(Database::kSchemaVersion)),
            "");
  EXPECT_EQ(Database::open(pg->url())->stats().records, 1);
}

// Version 3 keyed records and claims without their thread count. A
// database of version 3 (today's turned back: the constraint PostgreSQL
// named itself, the old claims) is upgraded by the first writable open and
// keeps its records; a read-only open asks for that upgrade first.
TEST_F(DbPostgres, UpgradesVersionThreeToKeyRecordsByThreadCount) {
  Record onOne = makeRecord("{\"c\":1}", 1e-3);
  onOne.threads = 1;
  int64_t id = Database::open(pg->url())->commitRecord(onOne).id;
  ASSERT_EQ(pgExec(pg->url(),
                   "DROP INDEX records_by_key; ALTER TABLE records ADD "
                   "UNIQUE(workload_id, target_id, config_hash, "
                   "compiler_version); DROP TABLE claims; CREATE TABLE "
                   "claims(workload_id BIGINT NOT NULL, target_id BIGINT NOT "
                   "NULL, config_hash TEXT NOT NULL, compiler_version TEXT NOT "
                   "NULL, owner TEXT NOT NULL, expires_at DOUBLE PRECISION NOT "
                   "NULL, PRIMARY KEY(workload_id, target_id, config_hash, "
                   "compiler_version)); UPDATE hatc_schema SET version = 3"),
            "");
  OpenOptions readOnly;
  readOnly.readOnly = true;
  try {
    Database::open(pg->url(), readOnly);
    FAIL() << "read-only open of a version 3 database";
  } catch (const DbError &e) {
    EXPECT_NE(std::string(e.what()).find("has schema version 3 and needs an "
                                         "upgrade to " +
                                         std::to_string(
                                             Database::kSchemaVersion)),
              std::string::npos)
        << e.what();
  }
  std::unique_ptr<Database> db = Database::open(pg->url());
  EXPECT_EQ(db->schemaVersion(), Database::kSchemaVersion);
  EXPECT_EQ(db->integrityCheck(), "ok");
  std::vector<Record> kept = db->records(onOne.workloadKey, cpuTarget());
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].id, id);
  Record onTwo = onOne;
  onTwo.threads = 2;
  EXPECT_TRUE(db->commitRecord(onTwo).inserted);
  EXPECT_FALSE(db->commitRecord(onOne).inserted);
  ClaimRequest claim = claimFor("{\"c\":1}", "A");
  claim.threads = 4;
  EXPECT_EQ(db->claim(claim).status, ClaimStatus::Claimed);
  db.reset();
  // Upgraded once: a second open finds version 4.
  EXPECT_EQ(Database::open(pg->url(), readOnly)->stats().records, 2);
}

TEST_F(DbPostgres, RefusesDatabasesThatAreNotHatcs) {
  ASSERT_EQ(pgExec(pg->url(), "CREATE TABLE invoices(id INT)"), "");
  try {
    Database::open(pg->url());
    FAIL() << "opened a foreign database";
  } catch (const DbError &e) {
    EXPECT_NE(std::string(e.what()).find("not a hatc tuning database"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(DbPostgres, IntegrityCheckNamesBadRows) {
  std::unique_ptr<Database> db = Database::open(pg->url());
  db->commitRecord(makeRecord("{\"c\":1}", 1e-3));
  db->commitRecord(makeRecord("{\"c\":2}", 1e-3));
  ASSERT_EQ(pgExec(pg->url(), "UPDATE records SET error = 'BOGUS' WHERE "
                              "config_json = '{\"c\":1}'"),
            "");
  ASSERT_EQ(pgExec(pg->url(), "UPDATE records SET latency_s = NULL WHERE "
                              "config_json = '{\"c\":2}'"),
            "");
  std::string report = db->integrityCheck();
  EXPECT_NE(report.find("1 records with an unknown error code"),
            std::string::npos)
      << report;
  EXPECT_NE(report.find("1 OK records without latency or cycles"),
            std::string::npos)
      << report;
}

TEST_F(DbPostgres, DroppedConnectionIsReconnectedAndNothingIsLost) {
  std::unique_ptr<Database> db = Database::open(pg->url());
  ASSERT_TRUE(db->commitRecord(makeRecord("{\"c\":1}", 1e-3)).inserted);
  // The server ends every session of the database (as a restart would).
  std::string kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = '" +
                     pg->dbName() + "'";
  ASSERT_EQ(pgExec(pgAdminUrl(), kill), "");
  EXPECT_TRUE(db->commitRecord(makeRecord("{\"c\":2}", 2e-3)).inserted);
  ASSERT_EQ(pgExec(pgAdminUrl(), kill), "");
  std::optional<Record> best =
      db->best("matmul_f32_M64_N64_K64", cpuTarget(), "hatc-test-1");
  ASSERT_TRUE(best);
  EXPECT_EQ(best->configJson, "{\"c\":1}");
  ASSERT_EQ(pgExec(pgAdminUrl(), kill), "");
  EXPECT_EQ(db->stats().records, 2);
}

TEST_F(DbPostgres, EightWriterProcessesLoseAndDoubleNothing) {
  constexpr int kWriters = 8;
  constexpr int kPerWriter = 150;
  ScratchDir scratch;
  // All eight start at once on a database without a schema yet, so they
  // also race to create it.
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    FILE *out = std::fopen(scratch.path("w" + std::to_string(w) + ".out").c_str(), "w");
    FILE *err = std::fopen(scratch.path("w" + std::to_string(w) + ".err").c_str(), "w");
    ASSERT_TRUE(out && err);
    pids.push_back(spawnProcess({HATC_DB_STRESS_WRITER, pg->url(),
                                 std::to_string(w), std::to_string(kPerWriter)},
                                fileno(out), fileno(err)));
    std::fclose(out);
    std::fclose(err);
  }
  std::set<std::string> acknowledged;
  for (int w = 0; w < kWriters; ++w) {
    int status = waitProcess(pids[w]);
    std::string err = readFile(scratch.path("w" + std::to_string(w) + ".err"));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "writer " << w << " (status " << status << "): " << err;
    EXPECT_EQ(err, "") << "writer " << w;
    std::istringstream out(
        readFile(scratch.path("w" + std::to_string(w) + ".out")));
    for (std::string line; std::getline(out, line);)
      if (line.rfind("ACK ", 0) == 0)
        acknowledged.insert(line.substr(4));
  }
  EXPECT_EQ(acknowledged.size(), size_t(kWriters * kPerWriter));
  std::unique_ptr<Database> db = Database::open(pg->url());
  EXPECT_EQ(db->integrityCheck(), "ok");
  DbStats stats = db->stats();
  EXPECT_EQ(stats.records, kWriters * kPerWriter);
  EXPECT_EQ(stats.tasks, 4);
  EXPECT_EQ(stats.targets, 1);
  EXPECT_EQ(storedHashes(*db), acknowledged);
}

TEST_F(DbPostgres, RacingClaimsStopExactlyAtTheTaskLimit) {
  Database::open(pg->url()); // the schema, so the racers start together
  constexpr int kSessions = 6;
  constexpr int kLimit = 25;
  std::atomic<int> claimed{0}, full{0}, failures{0};
  std::vector<std::thread> sessions;
  for (int s = 0; s < kSessions; ++s)
    sessions.emplace_back([&, s] {
      try {
        std::unique_ptr<Database> db = Database::open(pg->url());
        for (int i = 0; i < 20; ++i) {
          Record record = makeRecord(
              "{\"s\":" + std::to_string(s) + ",\"i\":" + std::to_string(i) + "}",
              1e-3);
          ClaimRequest request = claimFor(
              record.configJson, "session-" + std::to_string(s), 1800, kLimit);
          ClaimStatus status = db->claim(request).status;
          if (status == ClaimStatus::Claimed) {
            ++claimed;
            // Half of them measured at once, half still pending.
            if (i % 2 == 0)
              db->commitRecord(record);
          } else if (status == ClaimStatus::TaskFull) {
            ++full;
          }
        }
      } catch (const std::exception &) {
        ++failures;
      }
    });
  for (std::thread &t : sessions)
    t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(claimed, kLimit);
  EXPECT_EQ(full, kSessions * 20 - kLimit);
}
