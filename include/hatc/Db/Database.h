//===- Database.h - The tuning store (SQLite or PostgreSQL) -----*- C++ -*-===//
//
// One store holds every measured candidate (hatc::db::Record) of every
// tuning session on every target: a SQLite file (the embedded default,
// described here) or a PostgreSQL database shared by a team (see the
// Database class comment). Several processes may read and write the
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
  /// When set, only records that ran on this many kernel threads match;
  /// records without a thread count (hwacc, gpu) match any.
  std::optional<int64_t> threads;
};

struct OpenOptions {
  /// Open without write access; a database that needs an upgrade is then an
  /// error instead of being migrated.
  bool readOnly = false;
  /// Per attempt: how long SQLite itself waits on a lock before returning
  /// SQLITE_BUSY to our retry loop; for PostgreSQL, the connect timeout of
  /// each (re)connection attempt (at least 1 s).
  int busyTimeoutMs = 5000;
  /// In total: how long a write keeps retrying a locked database (SQLite)
  /// or reconnecting to a server that went away (PostgreSQL) before it
  /// gives up with a DbError.
  int busyDeadlineMs = 120000;
  /// fsync every commit (`synchronous=FULL`). With false (`NORMAL`) a
  /// commit survives a crash of the process but may be lost on power loss.
  /// SQLite only: a server's durability is its own configuration.
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
  /// False when a record of the same workload, target, config hash and
  /// compiler version was already there. The one there is kept, unless the
  /// new one summarizes more measurements (measurementsOf): then the new
  /// one's figures (latency, cycles, samples, error, threads, extras)
  /// replace its figures, and `updated` is true.
  bool inserted = false;
  /// Row id of the new record, or of the existing one when not inserted.
  int64_t id = 0;
  bool updated = false;
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

/// A claim on one (workload, target, config, compiler version): the right
/// to measure it. Claims keep concurrent tuning sessions on one database
/// from measuring the same candidate twice (see Database::claim).
struct ClaimRequest {
  std::string workloadKey;
  std::string workloadHash;
  std::string targetKind;
  std::string targetName;
  std::string targetFingerprint;
  std::string compilerVersion;
  /// configHashOf(canonical config JSON), as records store it.
  std::string configHash;
  /// Who claims: unique per session (host, process, a random part).
  std::string owner;
  /// The claim lapses this long after it was taken, so a crashed session
  /// does not hold its candidates forever.
  double ttlSeconds = 1800;
  /// When > 0: refuse (TaskFull) once the task (workload, target, compiler
  /// version) has this many records and live claims of other configs
  /// together, so sessions sharing a trial budget stop at it exactly.
  int64_t taskLimit = 0;
  /// When set (cpu), the candidate is the config run on this many kernel
  /// threads: the claim is on that pair, and the records that make it
  /// measured, and those counted against taskLimit, are those measured on
  /// this many threads (or on none recorded). A budget spent tuning on 1
  /// thread is not one spent on 2.
  std::optional<int64_t> threads;
};

enum class ClaimStatus {
  Claimed,         ///< Ours now (new, renewed, or taken over from a lapsed one).
  AlreadyMeasured, ///< A record of it on the request's thread count (or on
                   ///< none recorded) exists: nothing to measure.
  ClaimedByOther,  ///< Another owner holds a live claim on it.
  TaskFull,        ///< taskLimit reached; not claimed.
};

struct ClaimResult {
  ClaimStatus status = ClaimStatus::Claimed;
  /// Records of the task plus live claims on configs without a record,
  /// after this call: a session that knows fewer has results to pick up.
  int64_t taskCount = 0;
};

/// The tuning store: one interface, two implementations with the same
/// semantics. Database::open picks one from the spec: a `postgresql://` or
/// `postgres://` URL, or a libpq keyword string (`host=... dbname=...`),
/// opens a PostgreSQL server (db/Postgres.cpp); anything else is the path
/// of a SQLite file (db/Database.cpp). Records, unique key, ranking,
/// staleness, claims and DbStats are the same in both; what differs is
/// where the schema version lives (`PRAGMA user_version` vs a
/// `hatc_schema` table) and what integrityCheck can look at.
///
/// PostgreSQL: a lost connection (a server restarted) is reconnected and
/// the operation rerun with backoff until OpenOptions::busyDeadlineMs; a
/// commit whose acknowledgement was lost is rerun (idempotent through the
/// unique key). A server that is down at open is one DbError naming the
/// URL (its password left out).
class Database {
public:
  /// The schema version this build reads and writes.
  static constexpr int kSchemaVersion = 4;

  /// Opens (creating when missing, unless read-only) and, if needed,
  /// upgrades the store named by `spec` (see the class comment). Throws
  /// DbError when it is not a hatc database, is newer than this program, or
  /// cannot be opened or reached.
  static std::unique_ptr<Database> open(const std::string &spec,
                                        const OpenOptions &options = {});
  /// Whether `spec` names a PostgreSQL server rather than a SQLite file.
  static bool isServerSpec(const std::string &spec);
  /// `spec` fit for messages: a URL or keyword string without its password.
  static std::string displayName(const std::string &spec);

  virtual ~Database();
  Database(const Database &) = delete;
  Database &operator=(const Database &) = delete;

  /// What messages call the store: the file path, or the server spec
  /// without its password.
  const std::string &path() const { return dbPath; }
  /// Schema version of the open store (== kSchemaVersion once open).
  virtual int schemaVersion() = 0;

  /// Normalizes and stores `record` (insert-or-ignore on the unique key
  /// workload + target + config hash + compiler version + thread count,
  /// none recorded being a count of its own). Throws DbError
  /// naming the reason when the record is invalid (see normalizeRecord).
  /// A claim on the same candidate is dropped in the same transaction.
  CommitResult commitRecord(const Record &record);
  /// Like commitRecord for each record, all in one transaction (either all
  /// are stored or none). Returns one result per record, in order.
  virtual std::vector<CommitResult>
  commitRecords(const std::vector<Record> &records) = 0;

  /// The OK record with the lowest median latency (lowest cycles when
  /// target.kind is "hwacc"), fresh ones first, and among those the ones
  /// measured more than once (isConfirmed) first; ties go to the oldest.
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
  /// The record a build of the task uses: best(), or the task's best
  /// confirmed record of its default schedule (with a script) when best()
  /// givesWayToDefault to it; `gaveWay` (when given) says which.
  std::optional<Record> bestToBuild(const std::string &workloadKey,
                                    const TargetKey &target,
                                    const std::string &compilerVersion,
                                    const QueryOptions &options = {},
                                    bool *gaveWay = nullptr);
  /// Every record of the task (workload key on target kind + fingerprint,
  /// and name when given), errors and all compiler versions included, oldest
  /// first. Nothing is stale here: the caller asked for this exact target.
  virtual std::vector<Record> records(const std::string &workloadKey,
                                      const TargetKey &target) = 0;
  /// Calls `fn` on every record in insertion order (for export).
  virtual void forEachRecord(const std::function<void(const Record &)> &fn) = 0;

  virtual DbStats stats() = 0;
  /// "ok", or the problems found, one per line.
  virtual std::string integrityCheck() = 0;

  /// Claims the candidate for request.owner unless it was measured, another
  /// owner holds a live claim, or the task is full (ClaimRequest). Atomic
  /// against every other session on the store.
  virtual ClaimResult claim(const ClaimRequest &request) = 0;
  /// Drops every claim of `owner` (a session ending with candidates it
  /// claimed but did not measure).
  virtual void releaseClaims(const std::string &owner) = 0;

protected:
  Database(std::string displayPath, const OpenOptions &options);
  /// Ranked OK records (best/topK): fresh first, then stale when allowed.
  virtual std::vector<Record> query(const std::string &workloadKey,
                                    const TargetKey &target,
                                    const std::string &compilerVersion,
                                    const QueryOptions &options, size_t limit,
                                    bool distinctConfigs) = 0;
  /// `records` checked and normalized for a commit (createdAt defaulted to
  /// now); throws the DbError a commit of an invalid record gives, and one
  /// for a read-only store.
  std::vector<Record> normalizeForCommit(const std::vector<Record> &records);

  std::string dbPath;
  OpenOptions options;
};

} // namespace db
} // namespace hatc

#endif // HATC_DB_DATABASE_H
