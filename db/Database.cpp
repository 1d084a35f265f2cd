//===- Database.cpp - The store interface and its SQLite implementation ---===//
//
// Database::open and what both stores share, then the SQLite store: schema,
// migrations, claims and the queries behind hatc/Db/Database.h (the
// PostgreSQL store is db/Postgres.cpp). Also defines the Record helpers of hatc/Db/Record.h:
// they are the rules every stored record obeys, so they live next to the
// code that stores records.
//
//===----------------------------------------------------------------------===//

#include "hatc/Db/Database.h"
#include "hatc/Support/Hash.h"

#include "Sqlite.h"
#include "Store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <tuple>
#include <unordered_set>

#include <sys/stat.h>
#include <unistd.h>

using hatc::DbError;
using nlohmann::json;

namespace hatc {
namespace db {

//===----------------------------------------------------------------------===//
// Record helpers
//===----------------------------------------------------------------------===//

namespace {
struct CodeName {
  ErrorCode code;
  const char *name;
};
constexpr CodeName kCodeNames[] = {
    {ErrorCode::Ok, "OK"},
    {ErrorCode::InvalidConfig, "INVALID_CONFIG"},
    {ErrorCode::BuildError, "BUILD_ERROR"},
    {ErrorCode::BuildTimeout, "BUILD_TIMEOUT"},
    {ErrorCode::RunError, "RUN_ERROR"},
    {ErrorCode::RunTimeout, "RUN_TIMEOUT"},
    {ErrorCode::WrongAnswer, "WRONG_ANSWER"},
    {ErrorCode::OutOfMemory, "OUT_OF_MEMORY"},
    {ErrorCode::DeviceUnavailable, "DEVICE_UNAVAILABLE"},
};

/// Text from the outside (logs, callers) goes into JSON logs; nlohmann
/// refuses to print invalid UTF-8, so such text is rejected on the way in
/// rather than breaking an export later.
bool isValidUtf8(std::string_view text) {
  size_t i = 0, n = text.size();
  while (i < n) {
    unsigned char c = text[i];
    size_t extra;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= n)
      return false;
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char cc = text[i + k];
      if ((cc & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += extra + 1;
  }
  return true;
}

std::string stripJsonExceptionPrefix(const std::string &what) {
  // "[json.exception.parse_error.101] parse error at ..." -> "parse error at"
  if (!what.empty() && what.front() == '[') {
    size_t close = what.find("] ");
    if (close != std::string::npos)
      return what.substr(close + 2);
  }
  return what;
}

} // namespace

double nowSeconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

void decodeStoredFields(Record &record, const std::string &samplesJson,
                        const std::string &errorName,
                        const std::string &dbName) {
  try {
    json parsed = json::parse(samplesJson.empty() ? "[]" : samplesJson);
    for (const json &value : parsed)
      record.samples.push_back(value.get<double>());
  } catch (const json::exception &e) {
    throw DbError(
        "tuning database '" + dbName + "': record " +
        std::to_string(record.id) +
        " has corrupt samples_json: " + stripJsonExceptionPrefix(e.what()));
  }
  std::optional<ErrorCode> error = parseErrorCode(errorName);
  if (!error)
    throw DbError("tuning database '" + dbName + "': record " +
                  std::to_string(record.id) + " has unknown error code '" +
                  errorName + "'");
  record.error = *error;
}

std::string encodeSamples(const Record &record) {
  json samples = json::array();
  for (double sample : record.samples)
    samples.push_back(sample);
  return samples.dump();
}

const std::vector<ErrorCode> &allErrorCodes() {
  static const std::vector<ErrorCode> codes = [] {
    std::vector<ErrorCode> result;
    for (const CodeName &entry : kCodeNames)
      result.push_back(entry.code);
    return result;
  }();
  return codes;
}

const char *errorCodeName(ErrorCode code) {
  for (const CodeName &entry : kCodeNames)
    if (entry.code == code)
      return entry.name;
  return "UNKNOWN";
}

std::optional<ErrorCode> parseErrorCode(std::string_view name) {
  for (const CodeName &entry : kCodeNames)
    if (name == entry.name)
      return entry.code;
  return std::nullopt;
}

std::string canonicalJson(std::string_view text, std::string_view what) {
  try {
    // nlohmann's default object type is a std::map, so dump() prints keys
    // sorted; numbers print in shortest round-trip form.
    return json::parse(text.begin(), text.end()).dump();
  } catch (const json::exception &e) {
    throw DbError(std::string(what) +
                  " is not valid JSON: " + stripJsonExceptionPrefix(e.what()));
  }
}

std::string configHashOf(std::string_view canonicalConfigJson) {
  return fnv1a64Hex(canonicalConfigJson);
}

std::optional<double> medianOf(std::vector<double> samples) {
  if (samples.empty())
    return std::nullopt;
  size_t mid = samples.size() / 2;
  std::nth_element(samples.begin(), samples.begin() + mid, samples.end());
  double upper = samples[mid];
  if (samples.size() % 2 == 1)
    return upper;
  double lower = *std::max_element(samples.begin(), samples.begin() + mid);
  return lower + (upper - lower) / 2;
}

int64_t measurementsOf(const Record &record) {
  return measurementsOf(std::string_view(record.extrasJson));
}

int64_t measurementsOf(std::string_view extrasJson) {
  json extras = json::parse(extrasJson, nullptr, false);
  if (!extras.is_object())
    return 1;
  auto found = extras.find("measurements");
  if (found == extras.end() || !found->is_number_integer())
    return 1;
  return std::max<int64_t>(1, found->get<int64_t>());
}

int64_t pairedRoundsOf(std::string_view extrasJson) {
  json extras = json::parse(extrasJson, nullptr, false);
  if (!extras.is_object())
    return 0;
  auto found = extras.find("paired_rounds");
  return found != extras.end() && found->is_number_integer()
             ? found->get<int64_t>()
             : 0;
}

bool supersedes(std::string_view extrasJson, std::string_view storedExtras) {
  int64_t ours = measurementsOf(extrasJson),
          theirs = measurementsOf(storedExtras);
  return ours > theirs ||
         (ours == theirs &&
          pairedRoundsOf(extrasJson) > pairedRoundsOf(storedExtras));
}

bool isConfirmed(const Record &record) { return measurementsOf(record) > 1; }

bool mayGiveWayToDefault(const Record &tuned) {
  return tuned.sketch != "default" && !tuned.cycles && tuned.latencyS &&
         isConfirmed(tuned);
}

bool givesWayToDefault(const Record &tuned, const Record &defaultRecord) {
  if (!mayGiveWayToDefault(tuned) || !isConfirmedDefault(defaultRecord) ||
      defaultRecord.cycles || !defaultRecord.latencyS ||
      tuned.stale != defaultRecord.stale)
    return false;
  return withinTunedMargin(*tuned.latencyS, *defaultRecord.latencyS);
}

double gflopsOf(const Record &record) {
  json extras = json::parse(record.extrasJson, nullptr, false);
  return extras.is_object() ? extras.value("gflops", 0.0) : 0.0;
}

std::string normalizeRecord(Record &record) {
  struct Text {
    const std::string &value;
    const char *name;
  };
  for (const Text &field :
       {Text{record.workloadKey, "workload key"},
        Text{record.workloadHash, "workload hash"},
        Text{record.targetKind, "target kind"},
        Text{record.targetFingerprint, "target fingerprint"},
        Text{record.compilerVersion, "compiler version"},
        Text{record.sketch, "sketch"}})
    if (field.value.empty())
      return std::string("missing ") + field.name;

  for (const Text &field :
       {Text{record.workloadKey, "workload key"},
        Text{record.workloadHash, "workload hash"},
        Text{record.workloadIr, "workload IR"},
        Text{record.targetKind, "target kind"},
        Text{record.targetName, "target name"},
        Text{record.targetFingerprint, "target fingerprint"},
        Text{record.compilerVersion, "compiler version"},
        Text{record.sketch, "sketch"}, Text{record.script, "script"}})
    if (!isValidUtf8(field.value))
      return std::string(field.name) + " is not valid UTF-8";

  // Parses `text` (empty: {}) as a JSON object and writes it back in
  // canonical form; nullopt with `reason` set when it is not one.
  auto canonicalObject = [](std::string &text, const char *name,
                            std::string &reason) -> std::optional<json> {
    if (text.empty())
      text = "{}";
    try {
      json value = json::parse(text);
      if (!value.is_object()) {
        reason = std::string(name) + " is not a JSON object";
        return std::nullopt;
      }
      text = value.dump();
      return value;
    } catch (const json::exception &e) {
      reason = std::string(name) +
               " is not valid JSON: " + stripJsonExceptionPrefix(e.what());
      return std::nullopt;
    }
  };
  if (record.targetKind != "cpu" && record.targetKind != "gpu" &&
      record.targetKind != "hwacc")
    return "target kind '" + record.targetKind +
           "' is none of cpu, gpu and hwacc";
  std::string reason;
  if (!canonicalObject(record.configJson, "config", reason))
    return reason;
  std::optional<json> extras =
      canonicalObject(record.extrasJson, "extras", reason);
  if (!extras)
    return reason;
  if (auto found = extras->find("measurements");
      found != extras->end() &&
      (!found->is_number_integer() || found->get<int64_t>() < 1))
    return "extras.measurements must be an integer >= 1";
  record.configHash = configHashOf(record.configJson);

  if (!std::isfinite(record.createdAt) || record.createdAt < 0)
    return "created_at must be a non-negative number of seconds";
  for (double sample : record.samples)
    if (!std::isfinite(sample) || sample < 0)
      return "latency samples must be non-negative finite seconds";
  if (record.latencyS &&
      (!std::isfinite(*record.latencyS) || *record.latencyS < 0))
    return "latency must be a non-negative finite number of seconds";
  if (record.cycles && *record.cycles < 0)
    return "cycles must be non-negative";
  if (record.threads && *record.threads < 1)
    return "threads must be at least 1";

  if (record.error != ErrorCode::Ok) {
    // A failed candidate has no performance; keeping a number around would
    // only invite a query to rank it.
    record.latencyS.reset();
    record.cycles.reset();
    return "";
  }
  if (!record.latencyS)
    record.latencyS = medianOf(record.samples);
  if (record.targetKind == "hwacc" && !record.cycles)
    return "OK record for a hwacc target has no cycles";
  if (record.targetKind == "hwacc" && *record.cycles == 0)
    return "OK record for a hwacc target has 0 cycles";
  if (record.targetKind != "hwacc" && !record.latencyS)
    return "OK record has no latency (neither samples nor median)";
  // An OK run took time: a 0 would rank first at infinite speed.
  if (record.targetKind != "hwacc" && *record.latencyS == 0)
    return "OK record has a latency of 0 seconds";
  return "";
}

//===----------------------------------------------------------------------===//
// Schema
//===----------------------------------------------------------------------===//

namespace {

// The records table of the current schema: created as is in a new file, and
// as records_v4 by the version 3 -> 4 migration, which copies the rows over.
std::string recordsTable(const std::string &name) {
  return "CREATE TABLE " + name + R"sql((
  id INTEGER PRIMARY KEY,
  workload_id INTEGER NOT NULL REFERENCES workloads(id),
  target_id INTEGER NOT NULL REFERENCES targets(id),
  sketch TEXT NOT NULL,
  config_json TEXT NOT NULL,
  config_hash TEXT NOT NULL,
  script TEXT NOT NULL DEFAULT '',
  latency_s REAL,
  samples_json TEXT NOT NULL DEFAULT '[]',
  error TEXT NOT NULL,
  compiler_version TEXT NOT NULL,
  created_at REAL NOT NULL,
  cycles INTEGER,
  extras_json TEXT NOT NULL DEFAULT '{}',
  threads INTEGER);
)sql";
}

// A record's unique key: the task (workload, target), the config, the
// compiler that built it and the kernel thread count it ran on (none
// recorded is a value of its own, 0, where a NULL would never collide), so
// one config measured on 1 thread and on 2 is two records. best/top-K read
// indexes that hold OK records of a task already in rank order.
constexpr const char *kRecordsIndexes = R"sql(
CREATE UNIQUE INDEX records_by_key ON records(
  workload_id, target_id, config_hash, compiler_version,
  coalesce(threads, 0));
CREATE INDEX records_ok_by_latency ON records(
  workload_id, target_id, compiler_version, latency_s, created_at)
  WHERE error = 'OK';
CREATE INDEX records_ok_by_cycles ON records(
  workload_id, target_id, compiler_version, cycles, created_at)
  WHERE error = 'OK';
)sql";

// The current schema, created as is in a new file. Keep it equal to what the
// migrations below produce from version 1, column order included (the
// migration test checks that), so a migrated file is no different from a new
// one for anyone reading it with the sqlite3 shell.
std::string schemaV4() {
  return R"sql(
CREATE TABLE workloads(
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  hash TEXT NOT NULL,
  ir TEXT,
  UNIQUE(key, hash));
CREATE TABLE targets(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  fingerprint TEXT NOT NULL,
  UNIQUE(kind, name, fingerprint));
)sql" + recordsTable("records") +
         kRecordsIndexes + "CREATE INDEX workloads_by_hash ON workloads(hash);";
}

// Version 1 -> 2: targets gain a name (the target description a record came
// from), so the unique key of targets changes and the table is rebuilt;
// workloads keep their IR and are unique on (key, hash) instead of key alone
// (two ops may print the same key); records gain modeled cycles (hwacc) and
// free-form extras; best/top-K get indexes that hold OK records of a task
// already in rank order, so a lookup reads a few index entries instead of
// sorting every record of the task.
constexpr const char *kMigrateV1ToV2 = R"sql(
CREATE TABLE workloads_v2(
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  hash TEXT NOT NULL,
  ir TEXT,
  UNIQUE(key, hash));
INSERT INTO workloads_v2(id, key, hash, ir)
  SELECT id, key, hash, NULL FROM workloads;
DROP TABLE workloads;
ALTER TABLE workloads_v2 RENAME TO workloads;
CREATE TABLE targets_v2(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL DEFAULT '',
  fingerprint TEXT NOT NULL,
  UNIQUE(kind, name, fingerprint));
INSERT INTO targets_v2(id, kind, name, fingerprint)
  SELECT id, kind, '', fingerprint FROM targets;
DROP TABLE targets;
ALTER TABLE targets_v2 RENAME TO targets;
ALTER TABLE records ADD COLUMN cycles INTEGER;
ALTER TABLE records ADD COLUMN extras_json TEXT NOT NULL DEFAULT '{}';
CREATE INDEX records_ok_by_latency ON records(
  workload_id, target_id, compiler_version, latency_s, created_at)
  WHERE error = 'OK';
CREATE INDEX records_ok_by_cycles ON records(
  workload_id, target_id, compiler_version, cycles, created_at)
  WHERE error = 'OK';
)sql";

// Version 2 -> 3: workload hashes move from llvm::hash_combine (16 hex
// digits, not stable across LLVM releases) to a documented scheme ("w1-" and
// xxh3-128 of a canonical text, hatc/Lowering/Workload.h). SQL cannot
// compute those, so the rows are re-keyed by OpenOptions::rehash right after
// (and at every later writable open, for rows it could not re-key yet); the
// version bump keeps an older hatc, which would compute the old hashes and
// miss every record, away from the file.
//
// Records also gain the kernel thread count they were measured with, a
// typed column instead of a value inside extras_json.
constexpr const char *kMigrateV2ToV3 = R"sql(
ALTER TABLE records ADD COLUMN threads INTEGER;
UPDATE records SET threads = json_extract(extras_json, '$.threads')
  WHERE json_valid(extras_json)
    AND json_type(extras_json, '$.threads') = 'integer';
CREATE INDEX workloads_by_hash ON workloads(hash);
)sql";

// Version 3 -> 4: a record's unique key gains its thread count (a config
// measured on 1 thread was "already measured" for a tuning on 2, which then
// never ran it). SQLite cannot drop a table's UNIQUE constraint, so records
// are copied into a table without it, keeping their ids; the claims, which
// gain the thread count in their key too, are dropped (they are transient:
// an older hatc cannot open the upgraded file anyway) and made anew.
std::string migrateV3ToV4() {
  return recordsTable("records_v4") + R"sql(
INSERT INTO records_v4(id, workload_id, target_id, sketch, config_json,
  config_hash, script, latency_s, samples_json, error, compiler_version,
  created_at, cycles, extras_json, threads)
  SELECT id, workload_id, target_id, sketch, config_json, config_hash,
    script, latency_s, samples_json, error, compiler_version, created_at,
    cycles, extras_json, threads FROM records;
DROP TABLE records;
ALTER TABLE records_v4 RENAME TO records;
)sql" + kRecordsIndexes +
         "DROP TABLE IF EXISTS claims;";
}

// Claims (who measures which candidate now) are transient: the table is
// created by every writable open (version 4 dropped the one before, which
// had no thread count). A claim is on a config run on a thread count (0:
// none, a target without one), as records are. No foreign keys: a claim may
// name a workload re-keyed since; it just lapses.
constexpr const char *kClaimsTable = R"sql(
CREATE TABLE IF NOT EXISTS claims(
  workload_id INTEGER NOT NULL,
  target_id INTEGER NOT NULL,
  config_hash TEXT NOT NULL,
  compiler_version TEXT NOT NULL,
  threads INTEGER NOT NULL DEFAULT 0,
  owner TEXT NOT NULL,
  expires_at REAL NOT NULL,
  PRIMARY KEY(workload_id, target_id, config_hash, compiler_version, threads));
)sql";

/// The SQL that upgrades `version` to version + 1; empty when there is none.
std::string migrationFrom(int version) {
  switch (version) {
  case 1:
    return kMigrateV1ToV2;
  case 2:
    return kMigrateV2ToV3;
  case 3:
    return migrateV3ToV4();
  default:
    return "";
  }
}

constexpr const char *kRecordColumns =
    "r.id, w.key, w.hash, w.ir, t.kind, t.name, t.fingerprint, "
    "r.compiler_version, r.created_at, r.sketch, r.config_json, "
    "r.config_hash, r.script, r.samples_json, r.latency_s, r.cycles, "
    "r.error, r.extras_json, r.threads";
constexpr const char *kRecordJoins =
    " FROM records r JOIN workloads w ON w.id = r.workload_id"
    " JOIN targets t ON t.id = r.target_id";
/// The first ranking key of best/topK: 0 for a record measured more than
/// once (isConfirmed), else 1. Commits store extras as a canonical JSON
/// object with an integer "measurements"; the json_valid guard keeps a row
/// edited by hand from failing the query.
constexpr const char *kUnconfirmedKey =
    "(CASE WHEN json_valid(r.extras_json) THEN (CASE WHEN "
    "json_type(r.extras_json, '$.measurements') = 'integer' AND "
    "json_extract(r.extras_json, '$.measurements') > 1 THEN 0 ELSE 1 END) "
    "ELSE 1 END)";

int readUserVersion(sqlite::Connection &conn) {
  return static_cast<int>(
      conn.cached("PRAGMA user_version").scalar().value_or(0));
}

/// Reads the columns of kRecordColumns (plus `stale` at index 18 if present).
Record readRecord(sqlite::Statement &stmt, const std::string &path,
                  bool hasStale) {
  Record record;
  record.id = stmt.int64(0);
  record.workloadKey = stmt.text(1);
  record.workloadHash = stmt.text(2);
  record.workloadIr = stmt.text(3);
  record.targetKind = stmt.text(4);
  record.targetName = stmt.text(5);
  record.targetFingerprint = stmt.text(6);
  record.compilerVersion = stmt.text(7);
  record.createdAt = stmt.real(8);
  record.sketch = stmt.text(9);
  record.configJson = stmt.text(10);
  record.configHash = stmt.text(11);
  record.script = stmt.text(12);
  if (!stmt.isNull(14))
    record.latencyS = stmt.real(14);
  if (!stmt.isNull(15))
    record.cycles = stmt.int64(15);
  decodeStoredFields(record, stmt.text(13), stmt.text(16), path);
  record.extrasJson = stmt.text(17);
  if (!stmt.isNull(18))
    record.threads = stmt.int64(18);
  if (hasStale)
    record.stale = stmt.int64(19) != 0;
  return record;
}

} // namespace

//===----------------------------------------------------------------------===//
// Database: what both stores share
//===----------------------------------------------------------------------===//

Database::Database(std::string displayPath, const OpenOptions &options)
    : dbPath(std::move(displayPath)), options(options) {}

Database::~Database() = default;

std::unique_ptr<Database> Database::open(const std::string &spec,
                                         const OpenOptions &options) {
  if (isServerSpec(spec))
    return openPostgresStore(spec, options);
  return openSqliteStore(spec, options);
}

CommitResult Database::commitRecord(const Record &record) {
  return commitRecords({record}).front();
}

std::vector<Record>
Database::normalizeForCommit(const std::vector<Record> &records) {
  if (options.readOnly)
    throw DbError("tuning database '" + dbPath + "' is open read-only");
  // Normalize everything first, so an invalid record fails the call before
  // any of it is written.
  std::vector<Record> normalized(records);
  for (size_t i = 0; i < normalized.size(); ++i) {
    Record &record = normalized[i];
    if (record.createdAt == 0)
      record.createdAt = nowSeconds();
    std::string reason = normalizeRecord(record);
    if (!reason.empty())
      throw DbError("cannot store record" +
                    (records.size() > 1 ? " " + std::to_string(i + 1) : "") +
                    " in tuning database '" + dbPath + "': " + reason);
  }
  return normalized;
}

std::optional<Record> Database::best(const std::string &workloadKey,
                                     const TargetKey &target,
                                     const std::string &compilerVersion,
                                     const QueryOptions &options) {
  std::vector<Record> result =
      query(workloadKey, target, compilerVersion, options, 1, false);
  if (result.empty())
    return std::nullopt;
  return std::move(result.front());
}

std::vector<Record> Database::topK(const std::string &workloadKey,
                                   const TargetKey &target,
                                   const std::string &compilerVersion, size_t k,
                                   const QueryOptions &options) {
  if (k == 0)
    return {};
  return query(workloadKey, target, compilerVersion, options, k, true);
}

std::optional<Record> Database::bestToBuild(const std::string &workloadKey,
                                            const TargetKey &target,
                                            const std::string &compilerVersion,
                                            const QueryOptions &options,
                                            bool *gaveWay) {
  if (gaveWay)
    *gaveWay = false;
  std::optional<Record> found =
      best(workloadKey, target, compilerVersion, options);
  if (!found || !mayGiveWayToDefault(*found))
    return found;
  // Confirmed records rank first, so the tuner's confirmed default is
  // among the first few of them; the first one found decides.
  constexpr size_t kDefaultLookupDepth = 16;
  for (Record &record : topK(workloadKey, target, compilerVersion,
                             kDefaultLookupDepth, options)) {
    if (!isConfirmedDefault(record) || record.stale != found->stale ||
        record.script.empty())
      continue;
    if (givesWayToDefault(*found, record)) {
      if (gaveWay)
        *gaveWay = true;
      return std::move(record);
    }
    break;
  }
  return found;
}

namespace {

/// The embedded store: one SQLite file (see hatc/Db/Database.h).
class SqliteStore final : public Database {
public:
  SqliteStore(std::string path, const OpenOptions &options)
      : Database(std::move(path), options) {}

  int schemaVersion() override;
  std::vector<CommitResult>
  commitRecords(const std::vector<Record> &records) override;
  std::vector<Record> records(const std::string &workloadKey,
                              const TargetKey &target) override;
  void forEachRecord(const std::function<void(const Record &)> &fn) override;
  DbStats stats() override;
  std::string integrityCheck() override;
  ClaimResult claim(const ClaimRequest &request) override;
  void releaseClaims(const std::string &owner) override;

  void initialize();
  std::unique_ptr<sqlite::Connection> conn;

protected:
  std::vector<Record> query(const std::string &workloadKey,
                            const TargetKey &target,
                            const std::string &compilerVersion,
                            const QueryOptions &options, size_t limit,
                            bool distinctConfigs) override;

private:
  void migrate(int fromVersion);
  void rekeyLegacyWorkloads();
  /// `hash` of a record being stored, or its re-keyed value when it is of
  /// the legacy scheme and OpenOptions::rehash can compute the new one.
  std::string currentHash(const std::string &key, const std::string &hash,
                          const std::string &ir);
  std::map<std::string, std::string> rehashed; // "key\nold hash" -> new
  CommitResult insertOne(const Record &original);
  /// Row ids of a workload and a target, inserted when missing.
  int64_t workloadId(const std::string &key, const std::string &hash,
                     const std::string &ir);
  int64_t targetId(const std::string &kind, const std::string &name,
                   const std::string &fingerprint);
  /// Runs `body` inside BEGIN IMMEDIATE ... COMMIT, rerunning it from the
  /// start when the database was busy part-way (the rollback undid it).
  void writeTransaction(const std::function<void()> &body);
};

} // namespace

//===----------------------------------------------------------------------===//
// SqliteStore
//===----------------------------------------------------------------------===//

std::unique_ptr<Database> openSqliteStore(const std::string &path,
                                          const OpenOptions &options) {
  // What SQLite would only call "unable to open database file", named.
  struct stat info;
  if (::stat(path.c_str(), &info) == 0) {
    if (S_ISDIR(info.st_mode))
      throw DbError("'" + path + "' is a directory, not a tuning database");
    if (!S_ISREG(info.st_mode))
      throw DbError("'" + path +
                    "' is not a regular file (a device, a pipe), not a "
                    "tuning database");
    if (!options.readOnly && ::access(path.c_str(), W_OK) != 0)
      throw DbError("tuning database '" + path + "' is not writable: " +
                    std::strerror(errno));
  } else if (errno == ENOENT) {
    if (options.readOnly)
      throw DbError(path + ": no such database");
    if (!sqlite::folderWritable(path))
      throw DbError("cannot create tuning database '" + path +
                    "': " + std::strerror(errno));
  }
  std::unique_ptr<SqliteStore> db(new SqliteStore(path, options));
  db->conn = std::make_unique<sqlite::Connection>(
      path, options.readOnly, options.busyTimeoutMs, options.busyDeadlineMs);
  db->initialize();
  return db;
}

void SqliteStore::initialize() {
  // Look before touching anything: switching to WAL rewrites the file
  // header, and a newer database must stay byte-for-byte as it was.
  //
  // Version and table count come from one statement, hence one snapshot:
  // read separately, another process creating the schema in between would
  // make a new database look like a foreign one.
  sqlite::Statement &look =
      conn->cached("SELECT (SELECT user_version FROM pragma_user_version), "
                   "(SELECT count(*) FROM sqlite_master)");
  if (!look.step())
    throw DbError("tuning database '" + dbPath + "': cannot read its header");
  int version = static_cast<int>(look.int64(0));
  bool hasTables = look.int64(1) != 0;
  look.reset();
  if (version > kSchemaVersion)
    throw DbError("tuning database '" + dbPath + "' has schema version " +
                  std::to_string(version) + ", newer than this hatc (" +
                  std::to_string(kSchemaVersion) +
                  "); use a newer hatc or another database file (the file "
                  "was not modified)");
  auto notOurs = [&] {
    return DbError("'" + dbPath +
                   "' is a SQLite database but not a hatc tuning database "
                   "(it has tables and no schema version)");
  };
  if (version == 0 && hasTables)
    throw notOurs();

  if (options.readOnly) {
    if (version == 0)
      throw DbError("'" + dbPath +
                    "' is empty: no tuning records yet (hatc tune or hatc "
                    "replay --db writes them)");
    if (version < kSchemaVersion)
      throw DbError("tuning database '" + dbPath + "' has schema version " +
                    std::to_string(version) + " and needs an upgrade to " +
                    std::to_string(kSchemaVersion) +
                    "; open it once with write access");
    conn->exec("PRAGMA foreign_keys = ON");
    return;
  }

  // WAL: readers never block the writer and a killed writer cannot leave a
  // half-written page behind. The mode is stored in the file, so only the
  // first open of a new database actually switches it.
  conn->exec("PRAGMA journal_mode = WAL");
  conn->exec(options.durable ? "PRAGMA synchronous = FULL"
                             : "PRAGMA synchronous = NORMAL");

  if (version < kSchemaVersion) {
    // foreign_keys must be off while migrations rebuild tables, and the
    // pragma is a no-op inside a transaction, so it is set around it.
    conn->exec("PRAGMA foreign_keys = OFF");
    writeTransaction([&] {
      // Another process may have created or upgraded the file between the
      // first look and taking the write lock.
      int current = readUserVersion(*conn);
      if (current > kSchemaVersion)
        throw DbError(
            "tuning database '" + dbPath + "' was upgraded to schema version " +
            std::to_string(current) + " by a newer hatc while opening it");
      if (current == kSchemaVersion)
        return;
      if (current == 0 && conn->cached("SELECT count(*) FROM sqlite_master")
                                  .scalar()
                                  .value_or(0) != 0)
        throw notOurs();
      if (current == 0)
        conn->exec(schemaV4());
      else
        migrate(current);
      conn->exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
    });
  }
  conn->exec("PRAGMA foreign_keys = ON");
  if (conn->cached("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                   "AND name = 'claims'")
          .scalar()
          .value_or(0) == 0)
    writeTransaction([&] { conn->exec(kClaimsTable); });
  rekeyLegacyWorkloads();
}

// A legacy hash is the 16 hex digits of llvm::hash_combine; every later
// scheme has a "wN-" prefix.
static constexpr const char *kLegacyHashRows =
    "SELECT id, key, hash, ir FROM workloads "
    "WHERE instr(hash, '-') = 0 AND ir IS NOT NULL";

void SqliteStore::rekeyLegacyWorkloads() {
  if (!options.rehash)
    return;
  struct Row {
    int64_t id;
    std::string key, hash, ir;
  };
  auto legacyRows = [&] {
    std::vector<Row> rows;
    sqlite::Statement &select = conn->cached(kLegacyHashRows);
    while (select.step())
      rows.push_back({select.int64(0), select.text(1), select.text(2),
                      select.text(3)});
    select.reset();
    return rows;
  };
  if (legacyRows().empty())
    return; // the common case: one cheap read, no write lock
  writeTransaction([&] {
    for (const Row &row : legacyRows()) {
      std::optional<std::string> hash = options.rehash(row.key, row.ir);
      if (!hash || hash->empty() || *hash == row.hash)
        continue; // cannot re-key it here: left for a later open
      sqlite::Statement &find =
          conn->cached("SELECT id FROM workloads WHERE key = ?1 AND hash = ?2");
      find.bind(1, row.key).bind(2, *hash);
      std::optional<int64_t> existing = find.scalar();
      if (!existing) {
        conn->cached("UPDATE workloads SET hash = ?1 WHERE id = ?2")
            .bind(1, *hash)
            .bind(2, row.id)
            .run();
        continue;
      }
      // The same workload already has rows under its new hash (records
      // replayed or measured since): merge, keeping the older duplicate.
      conn->cached("UPDATE OR IGNORE records SET workload_id = ?1 "
                   "WHERE workload_id = ?2")
          .bind(1, *existing)
          .bind(2, row.id)
          .run();
      conn->cached("DELETE FROM records WHERE workload_id = ?1")
          .bind(1, row.id)
          .run();
      conn->cached("DELETE FROM workloads WHERE id = ?1").bind(1, row.id).run();
    }
  });
}

void SqliteStore::migrate(int fromVersion) {
  for (int version = fromVersion; version < kSchemaVersion; ++version) {
    std::string sql = migrationFrom(version);
    if (sql.empty())
      throw DbError("tuning database '" + dbPath + "' has schema version " +
                    std::to_string(version) +
                    ", which this hatc cannot upgrade");
    conn->exec(sql);
  }
  sqlite::Statement check(*conn, "PRAGMA foreign_key_check");
  if (check.step())
    throw DbError("tuning database '" + dbPath + "': upgrade stopped, table '" +
                  check.text(0) +
                  "' has rows that refer to missing rows (the file was not "
                  "modified)");
}

int SqliteStore::schemaVersion() { return readUserVersion(*conn); }

void SqliteStore::writeTransaction(const std::function<void()> &body) {
  auto start = sqlite::Connection::Clock::now();
  for (int attempt = 0;; ++attempt) {
    try {
      sqlite::Transaction transaction(*conn,
                                      sqlite::Transaction::Mode::Immediate);
      body();
      transaction.commit();
      return;
    } catch (const sqlite::BusyError &) {
      // The transaction rolled back on the way out; wait and rerun it.
      conn->waitOrGiveUp(start, attempt);
    }
  }
}

std::string SqliteStore::currentHash(const std::string &key,
                                  const std::string &hash,
                                  const std::string &ir) {
  if (!options.rehash || hash.find('-') != std::string::npos)
    return hash; // not of the legacy scheme, or nobody here to re-key it
  std::string cacheKey = key + '\n' + hash;
  auto cached = rehashed.find(cacheKey);
  if (cached != rehashed.end())
    return cached->second;
  std::string text = ir;
  if (text.empty()) {
    // A log carries the IR on a workload's first line only; an earlier
    // import may have stored it.
    sqlite::Statement &stored = conn->cached(
        "SELECT ir FROM workloads WHERE key = ?1 AND hash = ?2 AND ir IS NOT "
        "NULL");
    stored.bind(1, key).bind(2, hash);
    if (stored.step())
      text = stored.text(0);
    stored.reset();
  }
  if (text.empty())
    return hash; // cannot be re-keyed: kept under its old hash
  std::optional<std::string> fresh = options.rehash(key, text);
  std::string result = fresh && !fresh->empty() ? *fresh : hash;
  rehashed.emplace(cacheKey, result);
  return result;
}

int64_t SqliteStore::workloadId(const std::string &key,
                                const std::string &hash,
                                const std::string &ir) {
  // Workload: keep the first non-empty IR seen.
  sqlite::Statement &insertWorkload =
      conn->cached("INSERT INTO workloads(key, hash, ir) VALUES(?1, ?2, ?3) "
                   "ON CONFLICT(key, hash) DO UPDATE SET ir = excluded.ir "
                   "WHERE workloads.ir IS NULL AND excluded.ir IS NOT NULL");
  insertWorkload.bind(1, key).bind(2, hash);
  if (ir.empty())
    insertWorkload.bindNull(3);
  else
    insertWorkload.bind(3, ir);
  insertWorkload.run();
  sqlite::Statement &findWorkload =
      conn->cached("SELECT id FROM workloads WHERE key = ?1 AND hash = ?2");
  findWorkload.bind(1, key).bind(2, hash);
  std::optional<int64_t> id = findWorkload.scalar();
  if (!id)
    throw DbError("tuning database '" + dbPath + "': workload row vanished");
  return *id;
}

int64_t SqliteStore::targetId(const std::string &kind, const std::string &name,
                              const std::string &fingerprint) {
  sqlite::Statement &insertTarget =
      conn->cached("INSERT OR IGNORE INTO targets(kind, name, fingerprint) "
                   "VALUES(?1, ?2, ?3)");
  insertTarget.bind(1, kind).bind(2, name).bind(3, fingerprint);
  insertTarget.run();
  sqlite::Statement &findTarget =
      conn->cached("SELECT id FROM targets WHERE kind = ?1 AND name = ?2 AND "
                   "fingerprint = ?3");
  findTarget.bind(1, kind).bind(2, name).bind(3, fingerprint);
  std::optional<int64_t> id = findTarget.scalar();
  if (!id)
    throw DbError("tuning database '" + dbPath + "': target row vanished");
  return *id;
}

ClaimResult SqliteStore::claim(const ClaimRequest &request) {
  if (options.readOnly)
    throw DbError("tuning database '" + dbPath + "' is open read-only");
  ClaimResult result;
  // BEGIN IMMEDIATE serializes claims and commits of every process, so
  // the check-then-claim below is atomic.
  writeTransaction([&] {
    int64_t workload = workloadId(request.workloadKey, request.workloadHash, "");
    int64_t target = targetId(request.targetKind, request.targetName,
                              request.targetFingerprint);
    double now = nowSeconds();
    // Records of the task plus live claims (a claim and the record of its
    // config never coexist: a commit drops the claim).
    auto taskCount = [&] {
      return conn
          ->cached("SELECT (SELECT count(*) FROM records WHERE "
                   "workload_id = ?1 AND target_id = ?2 AND "
                   "compiler_version = ?3 AND (?5 IS NULL OR threads IS NULL "
                   "OR threads = ?5)) + (SELECT count(*) FROM claims "
                   "WHERE workload_id = ?1 AND target_id = ?2 AND "
                   "compiler_version = ?3 AND expires_at > ?4 AND "
                   "(?5 IS NULL OR threads = 0 OR threads = ?5))")
          .bind(1, workload)
          .bind(2, target)
          .bind(3, request.compilerVersion)
          .bind(4, now)
          .bind(5, request.threads)
          .scalar()
          .value_or(0);
    };
    // Measured: a record on the claim's thread count, or on none recorded
    // (which counts for any, as in queries).
    bool measured =
        conn->cached("SELECT count(*) FROM records WHERE workload_id = ?1 AND "
                     "target_id = ?2 AND config_hash = ?3 AND "
                     "compiler_version = ?4 AND (?5 IS NULL OR threads IS "
                     "NULL OR threads = ?5)")
            .bind(1, workload)
            .bind(2, target)
            .bind(3, request.configHash)
            .bind(4, request.compilerVersion)
            .bind(5, request.threads)
            .scalar()
            .value_or(0) > 0;
    if (measured) {
      result = {ClaimStatus::AlreadyMeasured, taskCount()};
      return;
    }
    sqlite::Statement &holder = conn->cached(
        "SELECT owner, expires_at FROM claims WHERE workload_id = ?1 AND "
        "target_id = ?2 AND config_hash = ?3 AND compiler_version = ?4 AND "
        "threads = coalesce(?5, 0)");
    holder.bind(1, workload)
        .bind(2, target)
        .bind(3, request.configHash)
        .bind(4, request.compilerVersion)
        .bind(5, request.threads);
    bool live = false, mine = false;
    if (holder.step()) {
      mine = holder.text(0) == request.owner;
      live = holder.real(1) > now;
    }
    holder.reset();
    if (live && !mine) {
      result = {ClaimStatus::ClaimedByOther, taskCount()};
      return;
    }
    int64_t others = taskCount() - (live ? 1 : 0); // without this config
    if (request.taskLimit > 0 && others >= request.taskLimit) {
      result = {ClaimStatus::TaskFull, others + (live ? 1 : 0)};
      return;
    }
    conn->cached("INSERT INTO claims(workload_id, target_id, config_hash, "
                 "compiler_version, threads, owner, expires_at) "
                 "VALUES(?1, ?2, ?3, ?4, coalesce(?7, 0), ?5, ?6) "
                 "ON CONFLICT(workload_id, target_id, config_hash, "
                 "compiler_version, threads) DO UPDATE SET owner = "
                 "excluded.owner, expires_at = excluded.expires_at")
        .bind(1, workload)
        .bind(2, target)
        .bind(3, request.configHash)
        .bind(4, request.compilerVersion)
        .bind(5, request.owner)
        .bind(6, now + request.ttlSeconds)
        .bind(7, request.threads)
        .run();
    result = {ClaimStatus::Claimed, others + 1};
  });
  return result;
}

void SqliteStore::releaseClaims(const std::string &owner) {
  if (options.readOnly)
    return;
  writeTransaction([&] {
    conn->cached("DELETE FROM claims WHERE owner = ?1").bind(1, owner).run();
  });
}

CommitResult SqliteStore::insertOne(const Record &original) {
  // Records of the legacy hash scheme (an old log replayed) are stored
  // under their workload's current hash.
  Record rekeyed;
  const Record *recordPtr = &original;
  std::string hash = currentHash(original.workloadKey, original.workloadHash,
                                 original.workloadIr);
  if (hash != original.workloadHash) {
    rekeyed = original;
    rekeyed.workloadHash = hash;
    recordPtr = &rekeyed;
  }
  const Record &record = *recordPtr;
  int64_t workload =
      workloadId(record.workloadKey, record.workloadHash, record.workloadIr);
  int64_t target = targetId(record.targetKind, record.targetName,
                            record.targetFingerprint);
  // The candidate is measured: its claim (anyone's) on the record's thread
  // count, or on any when it has none, has done its job.
  conn->cached("DELETE FROM claims WHERE workload_id = ?1 AND target_id = ?2 "
               "AND config_hash = ?3 AND compiler_version = ?4 AND "
               "(?5 IS NULL OR threads = 0 OR threads = ?5)")
      .bind(1, workload)
      .bind(2, target)
      .bind(3, record.configHash)
      .bind(4, record.compilerVersion)
      .bind(5, record.threads)
      .run();

  sqlite::Statement &insertRecord = conn->cached(
      "INSERT OR IGNORE INTO records(workload_id, target_id, sketch, "
      "config_json, config_hash, script, latency_s, cycles, samples_json, "
      "error, compiler_version, created_at, extras_json, threads) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  insertRecord.bind(1, workload)
      .bind(2, target)
      .bind(3, record.sketch)
      .bind(4, record.configJson)
      .bind(5, record.configHash)
      .bind(6, record.script)
      .bind(7, record.latencyS)
      .bind(8, record.cycles)
      .bind(9, encodeSamples(record))
      .bind(10, errorCodeName(record.error))
      .bind(11, record.compilerVersion)
      .bind(12, record.createdAt)
      .bind(13, record.extrasJson)
      .bind(14, record.threads);
  insertRecord.run();
  if (conn->changes() == 1)
    return {true, sqlite3_last_insert_rowid(conn->handle())};

  sqlite::Statement &findRecord = conn->cached(
      "SELECT id, extras_json FROM records WHERE workload_id = ?1 AND "
      "target_id = ?2 AND config_hash = ?3 AND compiler_version = ?4 AND "
      "coalesce(threads, 0) = coalesce(?5, 0)");
  findRecord.bind(1, workload)
      .bind(2, target)
      .bind(3, record.configHash)
      .bind(4, record.compilerVersion)
      .bind(5, record.threads);
  int64_t id = 0;
  std::string storedExtras;
  if (findRecord.step()) {
    id = findRecord.int64(0);
    storedExtras = findRecord.text(1);
  }
  findRecord.reset();
  if (!id || !supersedes(record.extrasJson, storedExtras))
    return {false, id, false};
  // Measured again (or ranked side by side with the default): the newer
  // figures replace the stored (supersedes).
  conn->cached("UPDATE records SET latency_s = ?2, cycles = ?3, "
               "samples_json = ?4, error = ?5, extras_json = ?6, "
               "threads = ?7 WHERE id = ?1")
      .bind(1, id)
      .bind(2, record.latencyS)
      .bind(3, record.cycles)
      .bind(4, encodeSamples(record))
      .bind(5, errorCodeName(record.error))
      .bind(6, record.extrasJson)
      .bind(7, record.threads)
      .run();
  return {false, id, true};
}

std::vector<CommitResult>
SqliteStore::commitRecords(const std::vector<Record> &records) {
  std::vector<Record> normalized = normalizeForCommit(records);
  std::vector<CommitResult> results;
  writeTransaction([&] {
    results.clear(); // the body reruns after a busy rollback
    results.reserve(normalized.size());
    for (const Record &record : normalized)
      results.push_back(insertOne(record));
  });
  return results;
}

std::vector<Record> SqliteStore::query(const std::string &workloadKey,
                                    const TargetKey &target,
                                    const std::string &compilerVersion,
                                    const QueryOptions &queryOptions,
                                    size_t limit, bool distinctConfigs) {
  // The metric column is chosen here, never from caller text; every value
  // is bound.
  bool byCycles = target.kind == "hwacc";
  std::string metric = byCycles ? "r.cycles" : "r.latency_s";
  auto metricOf = [&](const Record &record) {
    return byCycles ? static_cast<double>(*record.cycles) : *record.latencyS;
  };
  auto ranksBefore = [&](const Record &a, const Record &b) {
    return std::make_tuple(rankKey(a, metricOf(a)), a.createdAt, a.id) <
           std::make_tuple(rankKey(b, metricOf(b)), b.createdAt, b.id);
  };

  // Fresh records first, one (workload, target) pair at a time: with the
  // pair and the compiler version fixed, the partial index
  // records_ok_by_{latency,cycles} yields just the task's OK rows, in
  // metric order. Confirmed records rank first (kUnconfirmedKey), so those
  // rows are sorted once more, reading each one's extras: measured, 25 ms
  // for a task of 10,496 records (1 ms without the key), a few ms for the
  // hundreds to low thousands a tuned task holds. (One query joining
  // everything would sort every record of the kind.)
  std::vector<int64_t> workloadIds;
  {
    sqlite::Statement &stmt = conn->cached(
        "SELECT id FROM workloads WHERE key = ?1 AND (?2 = '' OR hash = ?2)");
    stmt.bind(1, workloadKey).bind(2, queryOptions.workloadHash);
    while (stmt.step())
      workloadIds.push_back(stmt.int64(0));
  }
  if (workloadIds.empty())
    return {};
  std::vector<int64_t> freshTargetIds;
  {
    sqlite::Statement &stmt = conn->cached(
        "SELECT id FROM targets WHERE kind = ?1 AND fingerprint = ?2 AND "
        "(?3 = '' OR name = ?3)");
    stmt.bind(1, target.kind).bind(2, target.fingerprint).bind(3, target.name);
    while (stmt.step())
      freshTargetIds.push_back(stmt.int64(0));
  }

  std::vector<Record> fresh;
  size_t pairs = workloadIds.size() * freshTargetIds.size();
  sqlite::Statement &freshStmt = conn->cached(
      std::string("SELECT ") + kRecordColumns + ", 0" + kRecordJoins +
      " WHERE r.workload_id = ?1 AND r.target_id = ?2 AND "
      "r.compiler_version = ?3 AND r.error = 'OK' AND "
      "(?5 IS NULL OR r.threads IS NULL OR r.threads = ?5) AND " +
      metric + " IS NOT NULL ORDER BY " + kUnconfirmedKey + ", " + metric +
      ", r.created_at, r.id LIMIT ?4");
  for (int64_t workloadId : workloadIds) {
    for (int64_t targetId : freshTargetIds) {
      freshStmt.reset();
      // Several pairs are merged below, and a config may repeat across
      // them, so only a single pair can stop at `limit` rows.
      freshStmt.bind(1, workloadId)
          .bind(2, targetId)
          .bind(3, compilerVersion)
          .bind(4, pairs == 1 ? static_cast<int64_t>(limit) : -1)
          .bind(5, queryOptions.threads);
      while (freshStmt.step())
        fresh.push_back(readRecord(freshStmt, dbPath, /*hasStale=*/true));
    }
  }
  freshStmt.reset();
  if (pairs > 1)
    std::stable_sort(fresh.begin(), fresh.end(), ranksBefore);

  std::vector<Record> result;
  std::unordered_set<std::string> seenConfigs;
  auto take = [&](Record &record) {
    if (distinctConfigs && !seenConfigs.insert(record.configHash).second)
      return;
    result.push_back(std::move(record));
  };
  for (Record &record : fresh) {
    if (result.size() == limit)
      return result;
    take(record);
  }
  if (!queryOptions.allowStale || result.size() == limit)
    return result;

  // Stale records (another compiler version or fingerprint), in rank order
  // after every fresh one. Rarely asked for, so a plain sorted scan is fine.
  sqlite::Statement &staleStmt = conn->cached(
      std::string("SELECT ") + kRecordColumns + ", 1" + kRecordJoins +
      " WHERE w.key = ?1 AND t.kind = ?2 AND r.error = 'OK' AND " + metric +
      " IS NOT NULL AND (?5 = '' OR t.name = ?5) AND (?6 = '' OR w.hash = ?6)"
      " AND (r.compiler_version IS NOT ?3 OR t.fingerprint IS NOT ?4)"
      " AND (?7 IS NULL OR r.threads IS NULL OR r.threads = ?7)"
      " ORDER BY " +
      kUnconfirmedKey + ", " + metric + ", r.created_at, r.id");
  staleStmt.bind(1, workloadKey)
      .bind(2, target.kind)
      .bind(3, compilerVersion)
      .bind(4, target.fingerprint)
      .bind(5, target.name)
      .bind(6, queryOptions.workloadHash)
      .bind(7, queryOptions.threads);
  while (result.size() < limit && staleStmt.step()) {
    Record record = readRecord(staleStmt, dbPath, /*hasStale=*/true);
    take(record);
  }
  staleStmt.reset(); // release the read snapshot now, not at the next use
  return result;
}

std::vector<Record> SqliteStore::records(const std::string &workloadKey,
                                      const TargetKey &target) {
  sqlite::Statement &stmt =
      conn->cached(std::string("SELECT ") + kRecordColumns + kRecordJoins +
                   " WHERE w.key = ?1 AND t.kind = ?2 AND t.fingerprint = ?3"
                   " AND (?4 = '' OR t.name = ?4) ORDER BY r.created_at, r.id");
  stmt.bind(1, workloadKey)
      .bind(2, target.kind)
      .bind(3, target.fingerprint)
      .bind(4, target.name);
  std::vector<Record> result;
  while (stmt.step())
    result.push_back(readRecord(stmt, dbPath, /*hasStale=*/false));
  return result;
}

void SqliteStore::forEachRecord(const std::function<void(const Record &)> &fn) {
  // A private statement (not the cache): `fn` may run queries of its own.
  sqlite::Statement stmt(*conn, std::string("SELECT ") + kRecordColumns +
                                    kRecordJoins + " ORDER BY r.id");
  while (stmt.step())
    fn(readRecord(stmt, dbPath, /*hasStale=*/false));
}

DbStats SqliteStore::stats() {
  DbStats stats;
  stats.schemaVersion = readUserVersion(*conn);
  auto count = [&](const char *sql) {
    return conn->cached(sql).scalar().value_or(0);
  };
  // A task is a (workload, target) pair with records: taskKeyOf.
  stats.tasks = count("SELECT count(*) FROM (SELECT DISTINCT workload_id, "
                      "target_id FROM records)");
  stats.targets = count("SELECT count(*) FROM targets");
  stats.records = count("SELECT count(*) FROM records");
  for (ErrorCode code : allErrorCodes())
    stats.errorsByCode[errorCodeName(code)] = 0;
  sqlite::Statement &byCode =
      conn->cached("SELECT error, count(*) FROM records GROUP BY error");
  while (byCode.step())
    stats.errorsByCode[byCode.text(0)] = byCode.int64(1);
  return stats;
}

std::string SqliteStore::integrityCheck() {
  sqlite::Statement stmt(*conn, "PRAGMA integrity_check");
  std::string result;
  while (stmt.step()) {
    if (!result.empty())
      result += "\n";
    result += stmt.text(0);
  }
  return result;
}

} // namespace db
} // namespace hatc
