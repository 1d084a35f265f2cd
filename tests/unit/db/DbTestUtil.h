//===- DbTestUtil.h - Helpers for the tuning database tests -----*- C++ -*-===//
//
// A scratch directory per test, a record factory whose defaults make a valid
// OK record, and process helpers for the multi-process tests.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TESTS_UNIT_DB_DBTESTUTIL_H
#define HATC_TESTS_UNIT_DB_DBTESTUTIL_H

#include "hatc/Db/Database.h"
#include "hatc/Db/Record.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace hatc {
namespace db {
namespace testing {

/// A fresh directory, removed with everything in it when the test ends.
class ScratchDir {
public:
  ScratchDir() {
    std::string base = std::filesystem::temp_directory_path().string();
    std::string pattern = base + "/hatc-db-test-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!::mkdtemp(buffer.data()))
      throw std::runtime_error("mkdtemp failed");
    dir = buffer.data();
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::string path(const std::string &name) const { return dir + "/" + name; }

private:
  std::string dir;
};

inline std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

inline void writeFile(const std::string &path, const std::string &content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

/// A valid OK cpu record; tests change what they are about.
inline Record makeRecord(const std::string &configJson, double latencyS,
                         const std::string &compilerVersion = "hatc-test-1",
                         const std::string &fingerprint = "fp-cpu-A") {
  Record record;
  record.workloadKey = "matmul_f32_M64_N64_K64";
  record.workloadHash = "wh-matmul-64";
  record.targetKind = "cpu";
  record.targetName = "cpu-avx2";
  record.targetFingerprint = fingerprint;
  record.compilerVersion = compilerVersion;
  record.createdAt = 1700000000.0;
  record.sketch = "tile2";
  record.configJson = configJson;
  record.script = "transform.named_sequence @__transform_main";
  record.samples = {latencyS, latencyS * 1.1, latencyS * 0.9};
  record.error = ErrorCode::Ok;
  return record;
}

/// A claim on makeRecord(configJson)'s task and config for `owner`.
inline ClaimRequest claimFor(const std::string &configJson,
                             const std::string &owner, double ttl = 60,
                             int64_t limit = 0) {
  Record record = makeRecord(configJson, 1e-3);
  ClaimRequest request;
  request.workloadKey = record.workloadKey;
  request.workloadHash = record.workloadHash;
  request.targetKind = record.targetKind;
  request.targetName = record.targetName;
  request.targetFingerprint = record.targetFingerprint;
  request.compilerVersion = record.compilerVersion;
  request.configHash = configHashOf(canonicalJson(configJson));
  request.owner = owner;
  request.ttlSeconds = ttl;
  request.taskLimit = limit;
  return request;
}

inline TargetKey cpuTarget(const std::string &fingerprint = "fp-cpu-A") {
  return TargetKey{"cpu", fingerprint, ""};
}

/// Starts `argv` with stdout and stderr sent to the given descriptors (-1:
/// inherit). Returns the pid.
inline pid_t spawnProcess(const std::vector<std::string> &argv, int stdoutFd,
                          int stderrFd, int closeInChild = -1) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdoutFd >= 0)
    posix_spawn_file_actions_adddup2(&actions, stdoutFd, STDOUT_FILENO);
  if (stderrFd >= 0)
    posix_spawn_file_actions_adddup2(&actions, stderrFd, STDERR_FILENO);
  if (closeInChild >= 0)
    posix_spawn_file_actions_addclose(&actions, closeInChild);
  std::vector<char *> args;
  for (const std::string &arg : argv)
    args.push_back(const_cast<char *>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("posix_spawn " + argv[0] +
                             " failed: " + std::to_string(rc));
  return pid;
}

/// The private test server's admin URL (`postgresql://hatc@/postgres?host=
/// DIR`, set by the ctest fixture in tests/pg), or empty when unset.
inline std::string pgAdminUrl() {
  const char *url = std::getenv("HATC_TEST_PG_URL");
  return url ? url : "";
}

/// Call at the start of a PostgreSQL test: without a server it is skipped
/// in a local run, and fails where the server is required (the ctest entry
/// registered by CMake sets HATC_TEST_PG_REQUIRED), so CI cannot pass by
/// skipping.
#define HATC_REQUIRE_PG_SERVER()                                               \
  do {                                                                         \
    if (::hatc::db::testing::pgAdminUrl().empty()) {                           \
      if (std::getenv("HATC_TEST_PG_REQUIRED"))                                \
        FAIL() << "HATC_TEST_PG_REQUIRED is set but HATC_TEST_PG_URL is not";  \
      GTEST_SKIP() << "no PostgreSQL test server (HATC_TEST_PG_URL unset; "    \
                      "run through ctest -L pg)";                              \
    }                                                                          \
  } while (0)

/// Runs `sql` on the server at `url`; returns the error message, empty on
/// success.
inline std::string pgExec(const std::string &url, const std::string &sql) {
  PGconn *conn = PQconnectdb(url.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PGresult *result = PQexec(conn, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      error = PQresultErrorMessage(result);
    PQclear(result);
  }
  PQfinish(conn);
  return error;
}

/// A fresh database on the test server, dropped (connections and all) when
/// the object goes away.
class PgScratchDb {
public:
  PgScratchDb() {
    static int counter = 0;
    name = "hatc_t" + std::to_string(::getpid()) + "_" +
           std::to_string(counter++);
    admin = pgAdminUrl();
    std::string error = pgExec(admin, "CREATE DATABASE " + name);
    if (!error.empty())
      throw std::runtime_error("CREATE DATABASE " + name + ": " + error);
  }
  ~PgScratchDb() { pgExec(admin, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }
  PgScratchDb(const PgScratchDb &) = delete;
  PgScratchDb &operator=(const PgScratchDb &) = delete;

  /// The admin URL with this database's name in place of `postgres`.
  std::string url() const {
    std::string result = admin;
    size_t at = result.find("/postgres");
    if (at != std::string::npos)
      result.replace(at, 9, "/" + name);
    return result;
  }
  const std::string &dbName() const { return name; }

private:
  std::string admin, name;
};

/// Waits for `pid`; returns the raw wait status.
inline int waitProcess(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

} // namespace testing
} // namespace db
} // namespace hatc

#endif // HATC_TESTS_UNIT_DB_DBTESTUTIL_H
