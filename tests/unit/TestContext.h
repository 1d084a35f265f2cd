//===- TestContext.h - An MLIR context and scratch files for unit tests -*- C++
//-*-===//
#ifndef HATC_TESTS_UNIT_TESTCONTEXT_H
#define HATC_TESTS_UNIT_TESTCONTEXT_H

#include "hatc/Lowering/Registration.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <string>
#include <vector>

namespace hatc::test {

/// One fully registered context per test binary (registration is slow).
inline mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    auto *c = new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
    initContext(*c);
    return c;
  }();
  return *ctx;
}

/// Paths for a test's scratch files (databases, models), removed when it
/// goes out of scope, however the test ends; a SQLite database's -wal and
/// -shm files beside them too.
class ScratchFiles {
public:
  ScratchFiles() = default;
  ScratchFiles(const ScratchFiles &) = delete;
  ScratchFiles &operator=(const ScratchFiles &) = delete;
  ~ScratchFiles() {
    for (const std::string &path : paths)
      for (const char *suffix : {"", "-wal", "-shm", "-journal"})
        llvm::sys::fs::remove(path + suffix);
  }
  /// A fresh path in the temporary folder (no file there yet).
  std::string path(const char *prefix, const char *suffix) {
    llvm::SmallString<128> path;
    llvm::sys::fs::createTemporaryFile(prefix, suffix, path);
    llvm::sys::fs::remove(path);
    return add(std::string(path));
  }
  /// Removes `path` too (a file named after one of the others).
  std::string add(std::string path) {
    paths.push_back(path);
    return path;
  }

private:
  std::vector<std::string> paths;
};

} // namespace hatc::test

#endif // HATC_TESTS_UNIT_TESTCONTEXT_H
