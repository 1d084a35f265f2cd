//===- Recording.h - Measured candidates -> database records ---*- C++ -*-===//
//
// Every measured candidate, errors included, becomes a db::Record with its
// full provenance; the same record goes to the database and to the
// JSON-lines log. A Recorder commits and appends as results arrive, so an
// interrupted session keeps everything measured.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TUNER_RECORDING_H
#define HATC_TUNER_RECORDING_H

#include "hatc/Db/Database.h"
#include "hatc/Db/Jsonl.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Measure/Harness.h"
#include "hatc/Runtime/Target.h"

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace hatc::tuner {

/// The request that measures `config` (whose transform script is
/// `script`) of `workload` on `target`.
MeasureRequest makeRequest(const Workload &workload, const Target &target,
                           const nlohmann::json &config,
                           const std::string &script);

/// A result for a config rejected before building (INVALID_CONFIG).
MeasureResult invalidConfigResult(const std::string &reason);

db::Record makeRecord(const Workload &workload, const Target &target,
                      const nlohmann::json &config, const std::string &script,
                      const MeasureResult &result);

/// The higher-is-better measure of a result: GFLOP/s on the CPU; on hwacc
/// also GFLOP/s of modeled time (cycles would need the clock); 0 for errors.
double throughputOf(const MeasureResult &result);

/// Opens the tuning database the way every hatc command does: a writable
/// open also re-keys workloads of an older hash scheme (workloadRehasher).
std::unique_ptr<db::Database> openStore(const std::string &path,
                                        db::OpenOptions options = {});

/// What `hatc replay` checks of a log's record beyond its fields, which a
/// database cannot: that its workload_ir is a workload whose structural
/// hash is its workload_hash, and that an OK record's script is a transform
/// script (one with @__transform_main). A record of a workload whose IR
/// was refused earlier in the same log is refused too. Each distinct IR is
/// parsed once; a script, once per record.
class RecordChecker {
public:
  RecordChecker();
  ~RecordChecker();
  RecordChecker(const RecordChecker &) = delete;
  RecordChecker &operator=(const RecordChecker &) = delete;
  /// The reason `record` is bad, or empty.
  std::string operator()(const db::Record &record);

private:
  std::string checkIr(const db::Record &record);
  std::string checkScript(const std::string &script);

  std::unique_ptr<mlir::MLIRContext> context;
  /// Per xxh3 of a workload key and its IR: the IR's hash, or '!' and why
  /// it has none.
  std::unordered_map<uint64_t, std::string> irHashes;
  /// Workloads (key '\n' hash) whose IR was accepted; those whose IR was
  /// refused (and none accepted), with the reason.
  std::unordered_set<std::string> accepted;
  std::unordered_map<std::string, std::string> refused;
};

/// Commits records to an optional database and an optional log.
class Recorder {
public:
  /// Either path may be empty. Throws DbError naming a file it cannot open.
  Recorder(const std::string &dbPath, const std::string &logPath);
  /// Returns false when the database already had this record.
  /// Throws DbError when the record cannot be committed or appended to the
  /// log (a full disk): nothing measured is acknowledged unsaved.
  bool record(const db::Record &record);
  /// Closes the log, checked; throws DbError when that fails.
  void close();
  db::Database *database() { return db.get(); }

private:
  std::unique_ptr<db::Database> db;
  std::optional<db::JsonlWriter> log;
};

} // namespace hatc::tuner

#endif // HATC_TUNER_RECORDING_H
