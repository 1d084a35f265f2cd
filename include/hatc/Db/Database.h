//===- Database.h - The SQLite tuning database ------------------*- C++ -*-===//
//
// One SQLite file holds every measured candidate (hatc::db::Record) of every
// tuning session on every target. Several processes may read and write the
// same file at once: the database runs in WAL mode, writes take the write
// lock up front (BEGIN IMMEDIATE), and a locked database is waited for and
// retried, so callers never see SQLITE_BUSY; only a lock held for longer than
// OpenOptions::busyDeadlineMs becomes a DbError.
//
// The schema version lives in `PRAGMA user_version`. Opening an older
// database upgrades it in one transaction (all or nothing); opening a
// database written by a newer hatc is refused with a DbError and leaves the
// file untouched.
//
// Staleness: a result is only as good as the compiler that built it and the
// hardware that ran it. Queries name the compiler version and the target
// fingerprint they want; a record from another version or fingerprint is a
// miss, unless the caller sets QueryOptions::allowStale, and then it comes
// back flagged Record::stale, ranked after every fresh record.
//
// Errors: every failure throws hatc::DbError (declared in hatc/Db/Record.h)
// whose one-line message names the database file and what is wrong. A
// Database object is not thread-safe (it caches prepared statements); use one
// per thread or process.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_DB_DATABASE_H
#define HATC_DB_DATABASE_H

#include "hatc/Db/Record.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hatc {
namespace db {

namespace sqlite {
class Connection;
} // namespace sqlite

/// The target a query is about. Records match on `kind`; `fingerprint`
/// decides fresh vs stale; a non-empty `name` additionally restricts the
/// match to records of that target description.
struct TargetKey {
  std::string kind;
  std::string fingerprint;
  std::string name;
};

struct QueryOptions {
  /// Return records of another compiler version or target fingerprint
  /// (flagged stale, ranked after fresh ones) instead of missing.
  bool allowStale = false;
  /// When non-empty, only records of the workload with this structural hash
  /// match (another hash under the same key is a different op: a miss, never
  /// stale).
  std::string workloadHash;
};

struct OpenOptions {
  /// Open without write access; a database that needs an upgrade is then an
  /// error instead of being migrated.
  bool readOnly = false;
  /// Per attempt: how long SQLite itself waits on a lock before returning
  /// SQLITE_BUSY to our retry loop.
  int busyTimeoutMs = 5000;
  /// In total: how long a write keeps retrying a locked database before it
  /// gives up with a DbError.
  int busyDeadlineMs = 120000;
  /// fsync every commit (`synchronous=FULL`). With false (`NORMAL`) a
  /// commit survives a crash of the process but may be lost on power loss.
  bool durable = true;
  /// Recomputes a workload's structural hash from its key and stored IR
  /// (hatc::workloadRehasher; the database knows no IR). A writable open
  /// re-keys the rows whose hash is of the legacy scheme (16 hex digits, no
  /// "wN-" prefix) with it, merging into rows already under the new hash;
  /// rows without IR, or that it returns nothing for, stay as they are.
  std::function<std::optional<std::string>(const std::string &key,
                                           const std::string &ir)>
      rehash;
};

/// Result of committing one record.
struct CommitResult {
  /// False when an identical record (same workload, target, config hash and
  /// compiler version) was already there; the old one is kept.
  bool inserted = false;
  /// Row id of the new record, or of the existing one when not inserted.
  int64_t id = 0;
};

/// Counts for `hatc db stats`.
struct DbStats {
  int schemaVersion = 0;
  int64_t tasks = 0;   ///< Tuning tasks with records (see taskKeyOf).
  int64_t targets = 0; ///< Distinct (kind, name, fingerprint).
  int64_t records = 0;
  /// Records per error code name ("OK", "BUILD_ERROR", ...); every known
  /// code is present, with 0 when it has no records.
  std::map<std::string, int64_t> errorsByCode;
};

class Database {
public:
  /// The schema version this build reads and writes.
  static constexpr int kSchemaVersion = 3;

  /// Opens (creating when missing, unless read-only) and, if needed,
  /// upgrades the database at `path`. Throws DbError when the file is not a
  /// SQLite database, is not a hatc database, is newer than this program, or
  /// cannot be opened.
  static std::unique_ptr<Database> open(const std::string &path,
                                        const OpenOptions &options = {});
  ~Database();
  Database(const Database &) = delete;
  Database &operator=(const Database &) = delete;

  const std::string &path() const { return dbPath; }
  /// `PRAGMA user_version` of the open file (== kSchemaVersion once open).
  int schemaVersion();

  /// Normalizes and stores `record` (insert-or-ignore on the unique key
  /// workload + target + config hash + compiler version). Throws DbError
  /// naming the reason when the record is invalid (see normalizeRecord).
  CommitResult commitRecord(const Record &record);
  /// Like commitRecord for each record, all in one transaction (either all
  /// are stored or none). Returns one result per record, in order.
  std::vector<CommitResult> commitRecords(const std::vector<Record> &records);

  /// The OK record with the lowest median latency (lowest cycles when
  /// target.kind is "hwacc"), fresh ones first; ties go to the oldest.
  std::optional<Record> best(const std::string &workloadKey,
                             const TargetKey &target,
                             const std::string &compilerVersion,
                             const QueryOptions &options = {});
  /// Up to `k` OK records in best() order with distinct config hashes (a
  /// config measured by several compiler versions appears once, in its best
  /// rank).
  std::vector<Record> topK(const std::string &workloadKey,
                           const TargetKey &target,
                           const std::string &compilerVersion, size_t k,
                           const QueryOptions &options = {});
  /// Every record of the task (workload key on target kind + fingerprint,
  /// and name when given), errors and all compiler versions included, oldest
  /// first. Nothing is stale here: the caller asked for this exact target.
  std::vector<Record> records(const std::string &workloadKey,
                              const TargetKey &target);
  /// Calls `fn` on every record in insertion order (for export).
  void forEachRecord(const std::function<void(const Record &)> &fn);

  DbStats stats();
  /// "ok", or the problems `PRAGMA integrity_check` found, one per line.
  std::string integrityCheck();

private:
  Database(std::string path, const OpenOptions &options);
  void initialize();
  void migrate(int fromVersion);
  void rekeyLegacyWorkloads();
  /// `hash` of a record being stored, or its re-keyed value when it is of
  /// the legacy scheme and OpenOptions::rehash can compute the new one.
  std::string currentHash(const std::string &key, const std::string &hash,
                          const std::string &ir);
  std::map<std::string, std::string> rehashed; // "key\nold hash" -> new
  CommitResult insertOne(const Record &original);
  std::vector<Record> query(const std::string &workloadKey,
                            const TargetKey &target,
                            const std::string &compilerVersion,
                            const QueryOptions &options, size_t limit,
                            bool distinctConfigs);
  /// Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rerunning it from the
  /// start when the database was busy part-way (the rollback undid it).
  void writeTransaction(const std::function<void()> &body);

  std::string dbPath;
  OpenOptions options;
  std::unique_ptr<sqlite::Connection> conn;
};

} // namespace db
} // namespace hatc

#endif // HATC_DB_DATABASE_H
