//===- ProcessTest.cpp - Concurrent writers and a writer killed mid-stream ===//
//
// Real processes (db_stress_writer), because SQLite's locking and WAL
// recovery are per process: threads of one test process would share what
// the tests are about.
//
//===----------------------------------------------------------------------===//

#include "hatc/Db/Database.h"

#include "DbTestUtil.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <set>
#include <sstream>

using namespace hatc;
using namespace hatc::db;
using namespace hatc::db::testing;

namespace {

constexpr const char *kWriter = HATC_DB_STRESS_WRITER;

std::vector<std::string> lines(const std::string &text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

/// Config hashes of every record the stress writers stored.
std::set<std::string> storedHashes(Database &db) {
  std::set<std::string> hashes;
  db.forEachRecord(
      [&](const Record &record) { hashes.insert(record.configHash); });
  return hashes;
}

} // namespace

TEST(DbProcesses, FourWritersOfFiveHundredRecordsEach) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 500;
  ScratchDir scratch;
  std::string path = scratch.path("shared.db");

  // All four start at once on a file that does not exist yet, so they also
  // race to create the schema.
  std::vector<pid_t> pids;
  for (int w = 0; w < kWriters; ++w) {
    std::string out = scratch.path("writer" + std::to_string(w) + ".out");
    std::string err = scratch.path("writer" + std::to_string(w) + ".err");
    FILE *outFile = std::fopen(out.c_str(), "w");
    FILE *errFile = std::fopen(err.c_str(), "w");
    ASSERT_TRUE(outFile && errFile);
    pids.push_back(spawnProcess(
        {kWriter, path, std::to_string(w), std::to_string(kPerWriter)},
        fileno(outFile), fileno(errFile)));
    std::fclose(outFile);
    std::fclose(errFile);
  }
  for (int w = 0; w < kWriters; ++w) {
    int status = waitProcess(pids[w]);
    std::string err =
        readFile(scratch.path("writer" + std::to_string(w) + ".err"));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "writer " << w << " failed (status " << status << "): " << err;
    // Nothing reached a writer as an error: no busy, no locked, nothing.
    EXPECT_EQ(err, "") << "writer " << w;
    std::vector<std::string> out =
        lines(readFile(scratch.path("writer" + std::to_string(w) + ".out")));
    ASSERT_EQ(out.size(), static_cast<size_t>(kPerWriter + 1))
        << "writer " << w;
    EXPECT_EQ(out.back(), "DONE " + std::to_string(kPerWriter));
  }

  std::unique_ptr<Database> db = Database::open(path);
  EXPECT_EQ(db->integrityCheck(), "ok");
  DbStats stats = db->stats();
  EXPECT_EQ(stats.records, kWriters * kPerWriter);
  EXPECT_EQ(stats.tasks, 4);   // the writers share four workloads...
  EXPECT_EQ(stats.targets, 1); // ...and one target
  EXPECT_EQ(storedHashes(*db).size(),
            static_cast<size_t>(kWriters * kPerWriter));
}

TEST(DbProcesses, WriterKilledMidStreamLosesNothingAcknowledged) {
  ScratchDir scratch;
  std::string path = scratch.path("crash.db");
  std::set<std::string> acknowledged;

  // Two rounds on the same file: the second writer starts on a database
  // whose previous writer was killed (its WAL not checkpointed).
  for (int round = 0; round < 2; ++round) {
    int pipeFds[2];
    ASSERT_EQ(::pipe(pipeFds), 0);
    std::string err = scratch.path("crash" + std::to_string(round) + ".err");
    FILE *errFile = std::fopen(err.c_str(), "w");
    ASSERT_TRUE(errFile);
    pid_t pid =
        spawnProcess({kWriter, path, std::to_string(10 + round), "1000000"},
                     pipeFds[1], fileno(errFile), pipeFds[0]);
    std::fclose(errFile);
    ::close(pipeFds[1]);

    // Read acknowledgements; kill after a number that differs per round so
    // the kill lands at different points of a commit.
    const size_t killAfter = round == 0 ? 150 : 237;
    FILE *acks = ::fdopen(pipeFds[0], "r");
    ASSERT_TRUE(acks);
    char buffer[256];
    size_t seen = 0;
    bool killed = false;
    while (std::fgets(buffer, sizeof(buffer), acks)) {
      std::string line(buffer);
      if (!line.empty() && line.back() == '\n')
        line.pop_back();
      // Only whole lines count: a line cut by the kill acknowledges nothing.
      if (line.rfind("ACK ", 0) == 0 && line.size() == 4 + 16)
        acknowledged.insert(line.substr(4));
      if (++seen == killAfter && !killed) {
        ::kill(pid, SIGKILL);
        killed = true;
      }
      // Keep reading: acks written before the kill are still in the pipe.
    }
    std::fclose(acks);
    int status = waitProcess(pid);
    ASSERT_TRUE(killed) << "writer ended before the kill: " << readFile(err);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    EXPECT_EQ(readFile(err), "");
  }

  std::unique_ptr<Database> db = Database::open(path);
  EXPECT_EQ(db->integrityCheck(), "ok");
  std::set<std::string> stored = storedHashes(*db);
  EXPECT_GE(acknowledged.size(), 150u + 237u);
  for (const std::string &hash : acknowledged)
    EXPECT_TRUE(stored.count(hash))
        << "acknowledged record " << hash << " is missing";
  // At most the record in flight at each kill may be there unacknowledged.
  EXPECT_LE(stored.size(), acknowledged.size() + 2);
  // And the database still takes writes.
  EXPECT_TRUE(
      db->commitRecord(makeRecord("{\"after\":\"crash\"}", 1e-3)).inserted);
}
