//===- Postgres.cpp - The tuning store on a PostgreSQL server -------------===//
//
// The same store as the SQLite one (hatc/Db/Database.h), shared by every
// tuning session of a team: same tables and unique key, same ranking and
// staleness rules, same claims. Differences, all internal:
//
//   - the schema version is a row of `hatc_schema`; a new database gets the
//     current schema in one transaction, under an advisory lock so two
//     sessions opening it first at once do not both create it;
//   - a lost connection (server restarted, network gone) is reconnected and
//     the whole operation rerun with jittered backoff until
//     OpenOptions::busyDeadlineMs; so are serialization failures and
//     deadlocks. Writes are idempotent (insert-or-ignore on the unique key),
//     so a commit whose acknowledgement was lost is simply rerun;
//   - claims are serialized per task by a transaction-level advisory lock,
//     and their clock is the server's, so hosts with skewed clocks agree.
//
// libpq stays in this file: the public headers never include libpq-fe.h.
// Every value is a bound parameter (PQexecParams, text format).
//
//===----------------------------------------------------------------------===//

#include "hatc/Db/Database.h"

#include "Store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <regex>
#include <thread>
#include <unordered_set>

namespace hatc {
namespace db {

//===----------------------------------------------------------------------===//
// Telling a server from a file, and names fit for messages
//===----------------------------------------------------------------------===//

static bool startsWith(const std::string &text, const char *prefix) {
  return text.rfind(prefix, 0) == 0;
}

bool Database::isServerSpec(const std::string &spec) {
  if (startsWith(spec, "postgresql://") || startsWith(spec, "postgres://"))
    return true;
  if (spec.find('=') == std::string::npos)
    return false;
  // A libpq keyword string (`host=/run/pg dbname=tuning`); a file name with
  // a '=' in it does not parse as one (its keyword is unknown).
  char *error = nullptr;
  PQconninfoOption *parsed = PQconninfoParse(spec.c_str(), &error);
  PQfreemem(error);
  if (!parsed)
    return false;
  PQconninfoFree(parsed);
  return true;
}

std::string Database::displayName(const std::string &spec) {
  if (!isServerSpec(spec))
    return spec;
  std::string text = spec;
  size_t scheme = text.find("://");
  if (scheme != std::string::npos) {
    // postgresql://user:secret@host/db -> postgresql://user@host/db
    size_t start = scheme + 3;
    size_t end = text.find_first_of("/?", start);
    if (end == std::string::npos)
      end = text.size();
    size_t at = text.rfind('@', end);
    if (at != std::string::npos && at >= start) {
      size_t colon = text.find(':', start);
      if (colon != std::string::npos && colon < at)
        text.erase(colon, at - colon);
    }
    // ...?password=secret&sslmode=... -> ...?sslmode=...
    static const std::regex queryPassword("([?&])password=[^&]*&?");
    text = std::regex_replace(text, queryPassword, "$1");
    while (!text.empty() && (text.back() == '&' || text.back() == '?'))
      text.pop_back();
    return text;
  }
  static const std::regex keywordPassword(
      R"(\s*\bpassword\s*=\s*('([^'\\]|\\.)*'|\S*))");
  text = std::regex_replace(text, keywordPassword, "");
  while (!text.empty() && text.front() == ' ')
    text.erase(0, 1);
  return text;
}

namespace {

//===----------------------------------------------------------------------===//
// RAII over libpq
//===----------------------------------------------------------------------===//

struct ResultDeleter {
  void operator()(PGresult *result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;
struct ConnDeleter {
  void operator()(PGconn *conn) const { PQfinish(conn); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

/// One bound parameter as text; nullopt is SQL NULL.
using Param = std::optional<std::string>;
Param param(const std::string &value) { return value; }
Param param(const char *value) { return std::string(value); }
Param param(int64_t value) { return std::to_string(value); }
Param param(double value) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return std::string(buffer);
}
template <typename T> Param param(const std::optional<T> &value) {
  return value ? param(*value) : Param();
}

/// The server went away (restarted, unreachable) or the connection broke:
/// reconnect and rerun the operation. Never escapes this file.
class ConnectionLost : public DbError {
public:
  using DbError::DbError;
};
/// A serialization failure or a deadlock: rerun the transaction.
class TransientConflict : public DbError {
public:
  using DbError::DbError;
};

/// libpq's messages span lines ("...failed: No such file\n\tIs the server
/// running..."); ours are one line.
std::string oneLine(const char *message) {
  std::string text = message ? message : "";
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\t' || c == '\r' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space)
      out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string firstLine(const std::string &sql) {
  size_t start = sql.find_first_not_of(" \n");
  if (start == std::string::npos)
    return "";
  std::string line = sql.substr(start, sql.find('\n', start) - start);
  return line.size() > 60 ? line.substr(0, 60) + "..." : line;
}

/// The rows of one statement.
class Rows {
public:
  explicit Rows(ResultPtr result) : result(std::move(result)) {}
  int size() const { return PQntuples(result.get()); }
  bool isNull(int row, int column) const {
    return PQgetisnull(result.get(), row, column);
  }
  std::string text(int row, int column) const {
    return std::string(PQgetvalue(result.get(), row, column),
                       PQgetlength(result.get(), row, column));
  }
  int64_t int64(int row, int column) const {
    return std::strtoll(PQgetvalue(result.get(), row, column), nullptr, 10);
  }
  double real(int row, int column) const {
    return std::strtod(PQgetvalue(result.get(), row, column), nullptr);
  }
  bool boolean(int row, int column) const {
    return PQgetvalue(result.get(), row, column)[0] == 't';
  }
  /// Rows an INSERT/UPDATE/DELETE touched.
  int64_t affected() const {
    return std::strtoll(PQcmdTuples(result.get()), nullptr, 10);
  }

private:
  ResultPtr result;
};

/// One connection to the server. Statements throw ConnectionLost when the
/// connection is gone, TransientConflict on a serialization failure or
/// deadlock, and DbError for everything else.
class Connection {
public:
  Connection(std::string spec, std::string name, int connectTimeoutS,
             bool readOnly)
      : spec(std::move(spec)), name(std::move(name)),
        connectTimeout(std::to_string(std::max(1, connectTimeoutS))),
        readOnly(readOnly) {}

  /// Connects (again); throws ConnectionLost naming the server when it
  /// cannot be reached.
  void connect() {
    conn.reset();
    // Our defaults come first: expand_dbname makes the spec's own settings
    // (its connect_timeout, say) override them. Keepalives and a TCP user
    // timeout turn a server that vanished without closing the connection
    // (a host gone, a network cut) into a lost connection within about a
    // minute instead of a wait without end.
    const char *keys[] = {"connect_timeout",  "application_name",
                          "keepalives_idle",  "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout",
                          "dbname",           "client_encoding",
                          nullptr};
    const char *values[] = {connectTimeout.c_str(), "hatc", "30", "10", "3",
                            "60000", spec.c_str(), "UTF8", nullptr};
    ConnPtr fresh(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
    if (!fresh)
      throw ConnectionLost("cannot connect to tuning database '" + name +
                           "': out of memory");
    if (PQstatus(fresh.get()) != CONNECTION_OK)
      throw ConnectionLost("cannot connect to tuning database '" + name +
                           "': " + oneLine(PQerrorMessage(fresh.get())));
    // NOTICEs (CREATE ... IF NOT EXISTS) are not for the user.
    PQsetNoticeProcessor(fresh.get(), [](void *, const char *) {}, nullptr);
    conn = std::move(fresh);
    if (readOnly)
      exec("SET default_transaction_read_only = on");
  }
  bool connected() const { return conn && PQstatus(conn.get()) == CONNECTION_OK; }
  void drop() { conn.reset(); }

  Rows exec(const std::string &sql, const std::vector<Param> &params = {}) {
    if (!conn)
      throw ConnectionLost("tuning database '" + name + "': not connected");
    std::vector<const char *> values;
    for (const Param &p : params)
      values.push_back(p ? p->c_str() : nullptr);
    return check(sql, ResultPtr(PQexecParams(
                          conn.get(), sql.c_str(),
                          static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0)));
  }

  /// Several statements without parameters (the schema).
  void execScript(const std::string &sql) {
    if (!conn)
      throw ConnectionLost("tuning database '" + name + "': not connected");
    check(sql, ResultPtr(PQexec(conn.get(), sql.c_str())));
  }

private:
  Rows check(const std::string &sql, ResultPtr result) {
    ExecStatusType status =
        result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
      return Rows(std::move(result));
    std::string state;
    if (result) {
      const char *code = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      state = code ? code : "";
    }
    std::string message = oneLine(
        result ? PQresultErrorMessage(result.get()) : PQerrorMessage(conn.get()));
    if (message.empty())
      message = oneLine(PQerrorMessage(conn.get()));
    // Class 08: connection exceptions; 57P01-03: the server shutting down
    // or starting up.
    if (PQstatus(conn.get()) != CONNECTION_OK || startsWith(state, "08") ||
        state == "57P01" || state == "57P02" || state == "57P03") {
      conn.reset();
      throw ConnectionLost("tuning database '" + name +
                           "': connection lost: " + message);
    }
    if (state == "40001" || state == "40P01")
      throw TransientConflict("tuning database '" + name + "': " + message);
    throw DbError("tuning database '" + name + "': '" + firstLine(sql) +
                  "' failed: " + message);
  }

  std::string spec, name, connectTimeout;
  bool readOnly;
  ConnPtr conn;
};

//===----------------------------------------------------------------------===//
// Schema
//===----------------------------------------------------------------------===//

// The SQLite schema of version 4 (Database.cpp) in PostgreSQL's types, in
// three parts: the tables, the unique key of records and the claims table
// (the parts the version 3 -> 4 migration makes anew). Keep the two stores'
// schemas equal in meaning.
constexpr const char *kSchemaTables = R"sql(
CREATE TABLE hatc_schema(version INTEGER NOT NULL);
CREATE TABLE workloads(
  id BIGSERIAL PRIMARY KEY,
  key TEXT NOT NULL,
  hash TEXT NOT NULL,
  ir TEXT,
  UNIQUE(key, hash));
CREATE INDEX workloads_by_hash ON workloads(hash);
CREATE TABLE targets(
  id BIGSERIAL PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  fingerprint TEXT NOT NULL,
  UNIQUE(kind, name, fingerprint));
CREATE TABLE records(
  id BIGSERIAL PRIMARY KEY,
  workload_id BIGINT NOT NULL REFERENCES workloads(id),
  target_id BIGINT NOT NULL REFERENCES targets(id),
  sketch TEXT NOT NULL,
  config_json TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  script TEXT NOT NULL DEFAULT '',
  latency_s DOUBLE PRECISION,
  samples_json TEXT NOT NULL DEFAULT '[]',
  error TEXT NOT NULL,
  compiler_version TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  cycles BIGINT,
  extras_json TEXT NOT NULL DEFAULT '{}',
  threads BIGINT);
CREATE INDEX records_ok_by_latency ON records(
  workload_id, target_id, compiler_version, latency_s, created_at)
  WHERE error = 'OK';
CREATE INDEX records_ok_by_cycles ON records(
  workload_id, target_id, compiler_version, cycles, created_at)
  WHERE error = 'OK';
)sql";

// A record's unique key, thread count included (none recorded is 0).
constexpr const char *kRecordsKey = R"sql(
CREATE UNIQUE INDEX records_by_key ON records(
  workload_id, target_id, config_hash, compiler_version,
  (coalesce(threads, 0)));
)sql";

// A claim is on a config run on a thread count (0: none), as records are.
constexpr const char *kClaimsTable = R"sql(
CREATE TABLE claims(
  workload_id BIGINT NOT NULL,
  target_id BIGINT NOT NULL,
  config_hash TEXT NOT NULL,
  compiler_version TEXT NOT NULL,
  threads BIGINT NOT NULL DEFAULT 0,
  owner TEXT NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL,
  PRIMARY KEY(workload_id, target_id, config_hash, compiler_version, threads));
)sql";

constexpr const char *kRecordColumns =
    "r.id, w.key, w.hash, w.ir, t.kind, t.name, t.fingerprint, "
    "r.compiler_version, r.created_at, r.sketch, r.config_json, "
    "r.config_hash, r.script, r.samples_json, r.latency_s, r.cycles, "
    "r.error, r.extras_json, r.threads";
constexpr const char *kRecordJoins =
    " FROM records r JOIN workloads w ON w.id = r.workload_id"
    " JOIN targets t ON t.id = r.target_id";

/// Reads the columns of kRecordColumns of `row`.
Record readRecord(const Rows &rows, int row, const std::string &name,
                  bool stale) {
  Record record;
  record.id = rows.int64(row, 0);
  record.workloadKey = rows.text(row, 1);
  record.workloadHash = rows.text(row, 2);
  record.workloadIr = rows.text(row, 3);
  record.targetKind = rows.text(row, 4);
  record.targetName = rows.text(row, 5);
  record.targetFingerprint = rows.text(row, 6);
  record.compilerVersion = rows.text(row, 7);
  record.createdAt = rows.real(row, 8);
  record.sketch = rows.text(row, 9);
  record.configJson = rows.text(row, 10);
  record.configHash = rows.text(row, 11);
  record.script = rows.text(row, 12);
  if (!rows.isNull(row, 14))
    record.latencyS = rows.real(row, 14);
  if (!rows.isNull(row, 15))
    record.cycles = rows.int64(row, 15);
  decodeStoredFields(record, rows.text(row, 13), rows.text(row, 16), name);
  record.extrasJson = rows.text(row, 17);
  if (!rows.isNull(row, 18))
    record.threads = rows.int64(row, 18);
  record.stale = stale;
  return record;
}

//===----------------------------------------------------------------------===//
// The store
//===----------------------------------------------------------------------===//

class PostgresStore final : public Database {
public:
  PostgresStore(const std::string &spec, const OpenOptions &options)
      : Database(displayName(spec), options),
        conn(spec, displayName(spec), options.busyTimeoutMs / 1000,
             options.readOnly) {}

  void initialize();
  /// Upgrades a version 3 schema to the current one (inside a transaction).
  void migrateFromV3();

  int schemaVersion() override {
    return withRetry([&] { return readVersion(); });
  }
  std::vector<CommitResult>
  commitRecords(const std::vector<Record> &records) override;
  std::vector<Record> records(const std::string &workloadKey,
                              const TargetKey &target) override;
  void forEachRecord(const std::function<void(const Record &)> &fn) override;
  DbStats stats() override;
  std::string integrityCheck() override;
  ClaimResult claim(const ClaimRequest &request) override;
  void releaseClaims(const std::string &owner) override;

  Connection conn;

protected:
  std::vector<Record> query(const std::string &workloadKey,
                            const TargetKey &target,
                            const std::string &compilerVersion,
                            const QueryOptions &options, size_t limit,
                            bool distinctConfigs) override;

private:
  using Clock = std::chrono::steady_clock;

  /// Runs `body` until it returns, reconnecting after a lost connection and
  /// rerunning after a conflict, with growing jittered sleeps; past
  /// OpenOptions::busyDeadlineMs (counted from the first failure) throws
  /// one DbError with the last reason.
  template <typename Body> auto withRetry(Body &&body) -> decltype(body()) {
    Clock::time_point firstFailure;
    for (int attempt = 0;; ++attempt) {
      std::string reason;
      try {
        if (!conn.connected())
          conn.connect();
        retrying = attempt > 0;
        return body();
      } catch (const ConnectionLost &e) {
        reason = e.what();
        conn.drop();
      } catch (const TransientConflict &e) {
        reason = e.what();
      }
      if (attempt == 0)
        firstFailure = Clock::now();
      auto waited = Clock::now() - firstFailure;
      if (waited > std::chrono::milliseconds(options.busyDeadlineMs))
        throw DbError(reason + " (gave up after retrying for " +
                      std::to_string(options.busyDeadlineMs / 1000) + " s)");
      int capMs = std::min(1000, 10 << std::min(attempt, 7));
      std::uniform_int_distribution<int> jitter(capMs / 2, capMs);
      std::this_thread::sleep_for(std::chrono::milliseconds(jitter(rng)));
    }
  }

  /// `body` in one transaction (rolled back when it throws), with retries.
  template <typename Body> void writeTransaction(Body &&body) {
    withRetry([&] {
      conn.exec("BEGIN");
      try {
        body();
        conn.exec("COMMIT");
      } catch (...) {
        if (conn.connected()) {
          try {
            conn.exec("ROLLBACK");
          } catch (const DbError &) {
            conn.drop(); // a fresh connection has no transaction open
          }
        }
        throw;
      }
    });
  }

  /// Whether the schema's tables hold hatc_schema, and any table at all;
  /// one statement, so one snapshot (another session may be creating the
  /// schema right now).
  std::pair<bool, bool> lookAtTables() {
    Rows rows = conn.exec("SELECT count(*) FILTER (WHERE tablename = "
                          "'hatc_schema'), count(*) FROM pg_tables WHERE "
                          "schemaname = current_schema()");
    return {rows.int64(0, 0) > 0, rows.int64(0, 1) > 0};
  }

  int readVersion() {
    Rows rows = conn.exec("SELECT max(version) FROM hatc_schema");
    return rows.size() == 1 && !rows.isNull(0, 0)
               ? static_cast<int>(rows.int64(0, 0))
               : 0;
  }
  int64_t workloadId(const std::string &key, const std::string &hash,
                     const std::string &ir);
  int64_t targetId(const std::string &kind, const std::string &name,
                   const std::string &fingerprint);
  std::string currentHash(const std::string &key, const std::string &hash,
                          const std::string &ir);
  CommitResult insertOne(const Record &record);
  int64_t count(const std::string &sql, const std::vector<Param> &params) {
    Rows rows = conn.exec(sql, params);
    return rows.size() ? rows.int64(0, 0) : 0;
  }

  std::map<std::string, std::string> rehashed; // "key\nold hash" -> new
  std::minstd_rand rng{std::random_device{}()};
  /// True while an operation runs again after a failure: a commit whose
  /// acknowledgement was lost may find its own records already there.
  bool retrying = false;
};

void PostgresStore::initialize() {
  // A server that is down at open is one clear error, not a wait: the
  // retries are for servers that go away while we work.
  try {
    conn.connect();
  } catch (const ConnectionLost &e) {
    throw DbError(e.what());
  }
  auto notOurs = [&] {
    return DbError("'" + dbPath +
                   "' is a PostgreSQL database but not a hatc tuning "
                   "database (it has tables and no hatc_schema)");
  };
  auto checkVersion = [&](int version) {
    if (version > kSchemaVersion)
      throw DbError("tuning database '" + dbPath + "' has schema version " +
                    std::to_string(version) + ", newer than this hatc (" +
                    std::to_string(kSchemaVersion) +
                    "); use a newer hatc or another database");
    if (version < 3)
      throw DbError("tuning database '" + dbPath + "' has schema version " +
                    std::to_string(version) +
                    ", which this hatc cannot upgrade");
  };
  bool current = withRetry([&] {
    auto [hasSchema, hasTables] = lookAtTables();
    if (!hasSchema && hasTables)
      throw notOurs();
    if (hasSchema) {
      int version = readVersion();
      checkVersion(version);
      if (version < kSchemaVersion && options.readOnly)
        throw DbError("tuning database '" + dbPath + "' has schema version " +
                      std::to_string(version) + " and needs an upgrade to " +
                      std::to_string(kSchemaVersion) +
                      "; open it once with write access");
      return version == kSchemaVersion;
    }
    if (options.readOnly)
      throw DbError("'" + dbPath +
                    "' is empty: no tuning records yet (hatc tune or hatc "
                    "replay --db writes them)");
    return false;
  });
  if (current)
    return;
  writeTransaction([&] {
    // Several sessions may open (or upgrade) a database at once: one
    // creates or upgrades the schema, the others find it done.
    conn.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
              {param("hatc-schema")});
    auto [hasSchema, hasTables] = lookAtTables();
    if (hasSchema) {
      int version = readVersion();
      checkVersion(version);
      if (version == 3)
        migrateFromV3();
      return;
    }
    if (hasTables)
      throw notOurs();
    conn.execScript(kSchemaTables);
    conn.execScript(kRecordsKey);
    conn.execScript(kClaimsTable);
    conn.exec("INSERT INTO hatc_schema(version) VALUES($1)",
              {param(int64_t(kSchemaVersion))});
  });
}

void PostgresStore::migrateFromV3() {
  // Version 3 -> 4 (see Database.cpp): the unique key of records and claims
  // gains the thread count. Version 3's key is the one UNIQUE constraint on
  // records, under the name PostgreSQL chose for it.
  Rows constraints =
      conn.exec("SELECT conname FROM pg_constraint WHERE conrelid = "
                "'records'::regclass AND contype = 'u'");
  for (int row = 0; row < constraints.size(); ++row)
    conn.exec("ALTER TABLE records DROP CONSTRAINT \"" +
              constraints.text(row, 0) + "\"");
  conn.execScript(kRecordsKey);
  // Claims are transient (see Database.cpp): made anew with the new key.
  conn.exec("DROP TABLE claims");
  conn.execScript(kClaimsTable);
  conn.exec("UPDATE hatc_schema SET version = $1",
            {param(int64_t(kSchemaVersion))});
}

int64_t PostgresStore::workloadId(const std::string &key,
                                  const std::string &hash,
                                  const std::string &ir) {
  // Look first: the upsert below locks the row until commit, which would
  // serialize every writer of the workload for nothing.
  Rows found = conn.exec(
      "SELECT id, ir IS NULL FROM workloads WHERE key = $1 AND hash = $2",
      {param(key), param(hash)});
  if (found.size() == 1 && (ir.empty() || !found.boolean(0, 1)))
    return found.int64(0, 0);
  // Keep the first non-empty IR seen.
  conn.exec("INSERT INTO workloads(key, hash, ir) VALUES($1, $2, $3) "
            "ON CONFLICT(key, hash) DO UPDATE SET ir = EXCLUDED.ir "
            "WHERE workloads.ir IS NULL AND EXCLUDED.ir IS NOT NULL",
            {param(key), param(hash), ir.empty() ? Param() : param(ir)});
  Rows id = conn.exec("SELECT id FROM workloads WHERE key = $1 AND hash = $2",
                      {param(key), param(hash)});
  if (id.size() != 1)
    throw DbError("tuning database '" + dbPath + "': workload row vanished");
  return id.int64(0, 0);
}

int64_t PostgresStore::targetId(const std::string &kind,
                                const std::string &name,
                                const std::string &fingerprint) {
  std::vector<Param> key = {param(kind), param(name), param(fingerprint)};
  const char *find = "SELECT id FROM targets WHERE kind = $1 AND name = $2 "
                     "AND fingerprint = $3";
  Rows found = conn.exec(find, key);
  if (found.size() == 1)
    return found.int64(0, 0);
  conn.exec("INSERT INTO targets(kind, name, fingerprint) VALUES($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            key);
  Rows id = conn.exec(find, key);
  if (id.size() != 1)
    throw DbError("tuning database '" + dbPath + "': target row vanished");
  return id.int64(0, 0);
}

std::string PostgresStore::currentHash(const std::string &key,
                                       const std::string &hash,
                                       const std::string &ir) {
  // As in the SQLite store: a record of the legacy hash scheme (16 hex
  // digits, no "wN-") is stored under its workload's current hash.
  if (!options.rehash || hash.find('-') != std::string::npos)
    return hash;
  std::string cacheKey = key + '\n' + hash;
  auto cached = rehashed.find(cacheKey);
  if (cached != rehashed.end())
    return cached->second;
  std::string text = ir;
  if (text.empty()) {
    Rows stored = conn.exec("SELECT ir FROM workloads WHERE key = $1 AND "
                            "hash = $2 AND ir IS NOT NULL",
                            {param(key), param(hash)});
    if (stored.size())
      text = stored.text(0, 0);
  }
  if (text.empty())
    return hash;
  std::optional<std::string> fresh = options.rehash(key, text);
  std::string result = fresh && !fresh->empty() ? *fresh : hash;
  rehashed.emplace(cacheKey, result);
  return result;
}

CommitResult PostgresStore::insertOne(const Record &original) {
  Record record = original;
  record.workloadHash =
      currentHash(record.workloadKey, record.workloadHash, record.workloadIr);
  int64_t workload =
      workloadId(record.workloadKey, record.workloadHash, record.workloadIr);
  int64_t target = targetId(record.targetKind, record.targetName,
                            record.targetFingerprint);
  std::vector<Param> key = {param(workload), param(target),
                            param(record.configHash),
                            param(record.compilerVersion),
                            param(record.threads)};
  // The candidate is measured: its claim (anyone's) on the record's thread
  // count, or on any when it has none, has done its job.
  conn.exec("DELETE FROM claims WHERE workload_id = $1 AND target_id = $2 "
            "AND config_hash = $3 AND compiler_version = $4 AND "
            "($5::bigint IS NULL OR threads = 0 OR threads = $5)",
            key);
  std::string samples = encodeSamples(record);
  Rows inserted = conn.exec(
      "INSERT INTO records(workload_id, target_id, sketch, config_json, "
      "config_hash, script, latency_s, cycles, samples_json, error, "
      "compiler_version, created_at, extras_json, threads) "
      "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
      "ON CONFLICT DO NOTHING RETURNING id",
      {param(workload), param(target), param(record.sketch),
       param(record.configJson), param(record.configHash),
       param(record.script), param(record.latencyS), param(record.cycles),
       param(samples), param(errorCodeName(record.error)),
       param(record.compilerVersion), param(record.createdAt),
       param(record.extrasJson), param(record.threads)});
  if (inserted.size() == 1)
    return {true, inserted.int64(0, 0)};
  Rows existing = conn.exec(
      "SELECT id, created_at, samples_json, config_json, extras_json FROM "
      "records WHERE workload_id = $1 AND target_id = $2 AND config_hash = $3 "
      "AND compiler_version = $4 AND coalesce(threads, 0) = "
      "coalesce($5::bigint, 0) FOR UPDATE",
      key);
  if (existing.size() != 1)
    throw DbError("tuning database '" + dbPath + "': record row vanished");
  int64_t id = existing.int64(0, 0);
  // Rerun after a commit whose acknowledgement was lost: the row that is
  // there may be this very record, stored by the first attempt.
  bool ours = retrying && existing.real(0, 1) == record.createdAt &&
              existing.text(0, 2) == samples &&
              existing.text(0, 3) == record.configJson;
  if (ours || !supersedes(record.extrasJson, existing.text(0, 4)))
    return {ours, id, false};
  // Measured again (or ranked side by side with the default): the newer
  // figures replace the stored (supersedes).
  conn.exec("UPDATE records SET latency_s = $2, cycles = $3, samples_json = "
            "$4, error = $5, extras_json = $6, threads = $7 WHERE id = $1",
            {param(id), param(record.latencyS), param(record.cycles),
             param(samples), param(errorCodeName(record.error)),
             param(record.extrasJson), param(record.threads)});
  return {false, id, true};
}

std::vector<CommitResult>
PostgresStore::commitRecords(const std::vector<Record> &records) {
  std::vector<Record> normalized = normalizeForCommit(records);
  std::vector<CommitResult> results;
  writeTransaction([&] {
    results.clear(); // the body reruns after a retry
    results.reserve(normalized.size());
    for (const Record &record : normalized)
      results.push_back(insertOne(record));
  });
  return results;
}

std::vector<Record> PostgresStore::query(const std::string &workloadKey,
                                         const TargetKey &target,
                                         const std::string &compilerVersion,
                                         const QueryOptions &queryOptions,
                                         size_t limit, bool distinctConfigs) {
  // The metric column is chosen here, never from caller text; every value
  // is bound. Ranking as in the SQLite store: metric, then the oldest, then
  // the row id; with distinctConfigs a config appears once, at its best
  // rank (DISTINCT ON keeps the first row of each config in that order).
  bool byCycles = target.kind == "hwacc";
  std::string metric = byCycles ? "cycles" : "latency_s";
  // Records measured more than once rank first (isConfirmed): `unconfirmed`
  // is 0 for them, else 1. Commits store extras as a canonical JSON object
  // with an integer "measurements".
  const std::string unconfirmed =
      "(CASE jsonb_typeof(r.extras_json::jsonb -> 'measurements') WHEN "
      "'number' THEN (CASE WHEN (r.extras_json::jsonb ->> "
      "'measurements')::numeric > 1 THEN 0 ELSE 1 END) ELSE 1 END)";
  auto ranked = [&](const std::string &where) {
    std::string select = std::string("SELECT ") +
                         (distinctConfigs ? "DISTINCT ON (r.config_hash) " : "") +
                         kRecordColumns + ", " + unconfirmed +
                         " AS unconfirmed" + kRecordJoins + " WHERE " + where +
                         " AND r.error = 'OK' AND r." + metric +
                         " IS NOT NULL AND ($8::bigint IS NULL OR r.threads "
                         "IS NULL OR r.threads = $8)";
    if (!distinctConfigs)
      return select + " ORDER BY unconfirmed, r." + metric +
             ", r.created_at, r.id LIMIT $7";
    return "SELECT * FROM (" + select + " ORDER BY r.config_hash, " +
           unconfirmed + ", r." + metric + ", r.created_at, r.id) q ORDER BY "
           "q.unconfirmed, q." + metric + ", q.created_at, q.id LIMIT $7";
  };
  std::string freshSql = ranked(
      "w.key = $1 AND ($2::text = '' OR w.hash = $2) AND t.kind = $3 AND "
      "t.fingerprint = $4 AND ($5::text = '' OR t.name = $5) AND "
      "r.compiler_version = $6");
  std::string staleSql = ranked(
      "w.key = $1 AND ($2::text = '' OR w.hash = $2) AND t.kind = $3 AND "
      "($5::text = '' OR t.name = $5) AND "
      "(r.compiler_version <> $6 OR t.fingerprint <> $4)");
  return withRetry([&] {
    std::vector<Record> result;
    std::unordered_set<std::string> seenConfigs;
    std::vector<Param> params = {param(workloadKey),
                                 param(queryOptions.workloadHash),
                                 param(target.kind),
                                 param(target.fingerprint),
                                 param(target.name),
                                 param(compilerVersion),
                                 param(int64_t(limit)),
                                 param(queryOptions.threads)};
    Rows fresh = conn.exec(freshSql, params);
    for (int i = 0; i < fresh.size(); ++i) {
      Record record = readRecord(fresh, i, dbPath, false);
      seenConfigs.insert(record.configHash);
      result.push_back(std::move(record));
    }
    if (!queryOptions.allowStale || result.size() >= limit)
      return result;
    // Stale records after every fresh one; a config already taken fresh is
    // skipped, so ask for enough rows to fill the rest regardless.
    params[6] = param(int64_t(limit + seenConfigs.size()));
    Rows stale = conn.exec(staleSql, params);
    for (int i = 0; i < stale.size() && result.size() < limit; ++i) {
      Record record = readRecord(stale, i, dbPath, true);
      if (distinctConfigs && !seenConfigs.insert(record.configHash).second)
        continue;
      result.push_back(std::move(record));
    }
    return result;
  });
}

std::vector<Record> PostgresStore::records(const std::string &workloadKey,
                                           const TargetKey &target) {
  std::string sql = std::string("SELECT ") + kRecordColumns + kRecordJoins +
                    " WHERE w.key = $1 AND t.kind = $2 AND t.fingerprint = $3"
                    " AND ($4::text = '' OR t.name = $4)"
                    " ORDER BY r.created_at, r.id";
  return withRetry([&] {
    Rows rows = conn.exec(sql, {param(workloadKey), param(target.kind),
                                param(target.fingerprint), param(target.name)});
    std::vector<Record> result;
    for (int i = 0; i < rows.size(); ++i)
      result.push_back(readRecord(rows, i, dbPath, false));
    return result;
  });
}

void PostgresStore::forEachRecord(
    const std::function<void(const Record &)> &fn) {
  // Pages by id: no cursor or transaction held open while `fn` runs (it may
  // query the store itself), and a page is simply fetched again after a
  // reconnect.
  std::string sql = std::string("SELECT ") + kRecordColumns + kRecordJoins +
                    " WHERE r.id > $1 ORDER BY r.id LIMIT 500";
  int64_t last = 0;
  for (;;) {
    std::vector<Record> page = withRetry([&] {
      Rows rows = conn.exec(sql, {param(last)});
      std::vector<Record> result;
      for (int i = 0; i < rows.size(); ++i)
        result.push_back(readRecord(rows, i, dbPath, false));
      return result;
    });
    if (page.empty())
      return;
    for (const Record &record : page)
      fn(record);
    last = page.back().id;
  }
}

DbStats PostgresStore::stats() {
  return withRetry([&] {
    DbStats stats;
    stats.schemaVersion = readVersion();
    // A task is a (workload, target) pair with records: taskKeyOf.
    stats.tasks = count("SELECT count(*) FROM (SELECT DISTINCT workload_id, "
                        "target_id FROM records) s",
                        {});
    stats.targets = count("SELECT count(*) FROM targets", {});
    stats.records = count("SELECT count(*) FROM records", {});
    for (ErrorCode code : allErrorCodes())
      stats.errorsByCode[errorCodeName(code)] = 0;
    Rows byCode =
        conn.exec("SELECT error, count(*) FROM records GROUP BY error");
    for (int i = 0; i < byCode.size(); ++i)
      stats.errorsByCode[byCode.text(i, 0)] = byCode.int64(i, 1);
    return stats;
  });
}

std::string PostgresStore::integrityCheck() {
  // The server keeps pages, keys and references sound itself; what it
  // cannot know are our rules for a row's content.
  std::string known;
  for (ErrorCode code : allErrorCodes())
    known += std::string(known.empty() ? "" : ",") + errorCodeName(code);
  return withRetry([&] {
    std::vector<std::string> problems;
    auto check = [&](const std::string &sql, const std::vector<Param> &params,
                     const std::string &what) {
      int64_t n = count(sql, params);
      if (n > 0)
        problems.push_back(std::to_string(n) + " " + what);
    };
    if (count("SELECT count(*) FROM hatc_schema", {}) != 1)
      problems.push_back("hatc_schema does not hold exactly one version row");
    check("SELECT count(*) FROM records WHERE error <> ALL "
          "(string_to_array($1, ','))",
          {param(known)}, "records with an unknown error code");
    check("SELECT count(*) FROM records WHERE error = 'OK' AND "
          "latency_s IS NULL AND cycles IS NULL",
          {}, "OK records without latency or cycles");
    check("SELECT count(*) FROM records WHERE error <> 'OK' AND "
          "(latency_s IS NOT NULL OR cycles IS NOT NULL)",
          {}, "failed records with a latency or cycles");
    check("SELECT count(*) FROM records WHERE config_hash !~ "
          "'^[0-9a-f]{16}$'",
          {}, "records whose config hash is not 16 hex digits");
    check("SELECT count(*) FROM records WHERE latency_s < 0 OR cycles < 0",
          {}, "records with a negative latency or cycles");
    if (problems.empty())
      return std::string("ok");
    std::string text;
    for (const std::string &problem : problems)
      text += (text.empty() ? "" : "\n") + problem;
    return text;
  });
}

ClaimResult PostgresStore::claim(const ClaimRequest &request) {
  if (options.readOnly)
    throw DbError("tuning database '" + dbPath + "' is open read-only");
  ClaimResult result;
  writeTransaction([&] {
    int64_t workload =
        workloadId(request.workloadKey, request.workloadHash, "");
    int64_t target = targetId(request.targetKind, request.targetName,
                              request.targetFingerprint);
    // Claims of one task are serialized (commits need not be: a commit
    // turns a claim into a record, which leaves the task's count as it was).
    conn.exec("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
              {param("hatc-claims:" + std::to_string(workload) + ":" +
                     std::to_string(target))});
    // The server's clock: sessions on hosts with skewed clocks agree on
    // which claims have lapsed.
    double now =
        conn.exec("SELECT extract(epoch FROM clock_timestamp())::float8")
            .real(0, 0);
    std::vector<Param> task = {param(workload), param(target),
                               param(request.compilerVersion), param(now),
                               param(request.threads)};
    auto taskCount = [&] {
      return count("SELECT (SELECT count(*) FROM records WHERE "
                   "workload_id = $1 AND target_id = $2 AND "
                   "compiler_version = $3 AND ($5::bigint IS NULL OR threads "
                   "IS NULL OR threads = $5)) + (SELECT count(*) FROM claims "
                   "WHERE workload_id = $1 AND target_id = $2 AND "
                   "compiler_version = $3 AND expires_at > $4 AND "
                   "($5::bigint IS NULL OR threads = 0 OR threads = $5))",
                   task);
    };
    std::vector<Param> key = {param(workload), param(target),
                              param(request.configHash),
                              param(request.compilerVersion),
                              param(request.threads)};
    // Measured: a record on the claim's thread count, or on none recorded
    // (which counts for any, as in queries).
    if (count("SELECT count(*) FROM records WHERE workload_id = $1 AND "
              "target_id = $2 AND config_hash = $3 AND compiler_version = $4 "
              "AND ($5::bigint IS NULL OR threads IS NULL OR threads = $5)",
              key) > 0) {
      result = {ClaimStatus::AlreadyMeasured, taskCount()};
      return;
    }
    Rows holder = conn.exec(
        "SELECT owner, expires_at FROM claims WHERE workload_id = $1 AND "
        "target_id = $2 AND config_hash = $3 AND compiler_version = $4 AND "
        "threads = coalesce($5::bigint, 0)",
        key);
    bool live = false, mine = false;
    if (holder.size() == 1) {
      mine = holder.text(0, 0) == request.owner;
      live = holder.real(0, 1) > now;
    }
    if (live && !mine) {
      result = {ClaimStatus::ClaimedByOther, taskCount()};
      return;
    }
    int64_t others = taskCount() - (live ? 1 : 0); // without this config
    if (request.taskLimit > 0 && others >= request.taskLimit) {
      result = {ClaimStatus::TaskFull, others + (live ? 1 : 0)};
      return;
    }
    std::vector<Param> row = key;
    row.push_back(param(request.owner));
    row.push_back(param(now + request.ttlSeconds));
    conn.exec("INSERT INTO claims(workload_id, target_id, config_hash, "
              "compiler_version, threads, owner, expires_at) "
              "VALUES($1, $2, $3, $4, coalesce($5::bigint, 0), $6, $7) "
              "ON CONFLICT(workload_id, target_id, config_hash, "
              "compiler_version, threads) DO UPDATE SET owner = "
              "EXCLUDED.owner, expires_at = EXCLUDED.expires_at",
              row);
    result = {ClaimStatus::Claimed, others + 1};
  });
  return result;
}

void PostgresStore::releaseClaims(const std::string &owner) {
  if (options.readOnly)
    return;
  writeTransaction([&] {
    conn.exec("DELETE FROM claims WHERE owner = $1", {param(owner)});
  });
}

} // namespace

std::unique_ptr<Database> openPostgresStore(const std::string &spec,
                                            const OpenOptions &options) {
  auto store = std::make_unique<PostgresStore>(spec, options);
  store->initialize();
  return store;
}

} // namespace db
} // namespace hatc
