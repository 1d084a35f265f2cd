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
