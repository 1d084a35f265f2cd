//===- StressWriter.cpp - A process that hammers a tuning database --------===//
//
// Used by the concurrency and crash tests, which need real processes (SQLite
// locks are per process; threads in one process would not show the same
// contention). Usage:
//
//   db_stress_writer DB WRITER_ID COUNT    (DB: a file or a postgresql:// URL)
//
// Commits COUNT records, one transaction each, and after each commit prints
// "ACK <config_hash>" on stdout and flushes, so a test that kills the
// process knows exactly which records were acknowledged. Prints
// "DONE <count>" at the end. Any DbError goes to stderr with exit status 1;
// a record reported as a duplicate (which would mean a lost or doubled
// write) exits with status 2.
//
//===----------------------------------------------------------------------===//

#include "hatc/Db/Database.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace hatc;
using namespace hatc::db;

int main(int argc, char **argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: db_stress_writer DB WRITER_ID COUNT\n");
    return 64;
  }
  std::string path = argv[1];
  int writer = std::atoi(argv[2]);
  long count = std::atol(argv[3]);
  try {
    std::unique_ptr<Database> db = Database::open(path);
    for (long i = 0; i < count; ++i) {
      Record record;
      // A few shared workloads and one shared target, so writers contend on
      // the same rows as well as on the write lock.
      record.workloadKey = "stress_w" + std::to_string(i % 4);
      record.workloadHash = "stress-hash-" + std::to_string(i % 4);
      record.targetKind = "cpu";
      record.targetName = "cpu-stress";
      record.targetFingerprint = "fp-stress";
      record.compilerVersion = "hatc-stress";
      record.createdAt = 1700000000.0 + static_cast<double>(i);
      record.sketch = "stress";
      record.configJson = "{\"writer\":" + std::to_string(writer) +
                          ",\"i\":" + std::to_string(i) + "}";
      record.script = "transform.named_sequence @stress";
      record.samples = {1e-3 + 1e-6 * static_cast<double>(i)};
      CommitResult result = db->commitRecord(record);
      if (!result.inserted) {
        std::fprintf(stderr,
                     "db_stress_writer %d: record %ld was a duplicate\n",
                     writer, i);
        return 2;
      }
      std::printf("ACK %s\n",
                  configHashOf(canonicalJson(record.configJson)).c_str());
      std::fflush(stdout);
    }
  } catch (const DbError &e) {
    std::fprintf(stderr, "db_stress_writer %d: %s\n", writer, e.what());
    return 1;
  }
  std::printf("DONE %ld\n", count);
  return 0;
}
