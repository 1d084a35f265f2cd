//===- Record.h - One measured candidate in the tuning database -*- C++ -*-===//
//
// A Record is the unit of the tuning database and of JSON-lines logs: one
// (workload, target, config) measured by one compiler version, with enough
// provenance to decide later whether the result may still be trusted (the
// compiler version and the target fingerprint) and enough payload to replay it
// (the config for the tuner and cost model, the transform script for users).
//
// Errors: the helpers below that can fail throw hatc::DbError (see
// hatc/Db/Database.h); the message names what is wrong.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_DB_RECORD_H
#define HATC_DB_RECORD_H

#include <cstdint>
#include <optional>
#include <utility>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hatc {

/// Every failure of the database library: an unreadable or newer database, a
/// locked database past the retry deadline, an invalid record handed to
/// commitRecord, an unwritable log. The message is one line that names the
/// file (when there is one) and what is wrong; the CLI prints it as is.
class DbError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

namespace db {

/// Outcome of measuring one candidate. Stored as text (the names below) so a
/// database stays readable with the sqlite3 shell and new codes need no
/// schema change.
enum class ErrorCode {
  Ok,
  InvalidConfig,
  BuildError,
  BuildTimeout,
  RunError,
  RunTimeout,
  WrongAnswer,
  OutOfMemory,
  DeviceUnavailable,
};

/// All codes, in declaration order (for stats tables and tests).
const std::vector<ErrorCode> &allErrorCodes();
/// "OK", "INVALID_CONFIG", ... as stored in the database and in logs.
const char *errorCodeName(ErrorCode code);
/// The code named `name`, or nullopt when the name is not a known code.
std::optional<ErrorCode> parseErrorCode(std::string_view name);

/// One measured candidate. Fields marked "derived" are recomputed by
/// normalizeRecord() (and therefore by every commit and import), so callers
/// may leave them empty.
struct Record {
  // Workload: the canonical key (e.g. "matmul_f32_M1024_N1024_K1024") and the
  // structural hash of the linalg op. Both identify the workload; the hash
  // keeps two different ops that happen to print the same key apart.
  std::string workloadKey;
  std::string workloadHash;
  /// The workload's IR text; optional (empty = not stored). The database
  /// keeps the first non-empty IR it sees for a workload.
  std::string workloadIr;

  // Target: kind is "cpu", "gpu" or "hwacc"; name is the target description
  // it came from (e.g. "cpu-avx512"); fingerprint identifies the actual
  // hardware (CPU model and flags, GPU name + driver, device-model params).
  std::string targetKind;
  std::string targetName;
  std::string targetFingerprint;

  /// hatc's git revision + LLVM version; a result from another compiler
  /// version is stale.
  std::string compilerVersion;
  /// Unix time in seconds; commitRecord() fills in "now" when it is 0.
  double createdAt = 0;

  std::string sketch;
  /// The knob values as JSON text. Canonical (keys sorted, no whitespace)
  /// after normalizeRecord(), so equal configs hash equal.
  std::string configJson = "{}";
  /// Derived: configHashOf(configJson), 16 lowercase hex digits.
  std::string configHash;
  /// The transform-dialect script the config printed to (for replay).
  std::string script;

  /// Latency samples in seconds (empty for errors and for hwacc).
  std::vector<double> samples;
  /// Median latency in seconds. Derived from `samples` when unset; always
  /// unset for records whose error is not Ok.
  std::optional<double> latencyS;
  /// Modeled cycles (hwacc): the device's, plus the wall time of GEMMs the
  /// schedule kept on the host at the device clock; unset for other targets
  /// and for errors. Older records (another compiler version, so stale)
  /// also hold all other host work (a conv's im2col, measured); newer ones
  /// keep that figure in extras.workload_cycles.
  std::optional<int64_t> cycles;
  ErrorCode error = ErrorCode::Ok;
  /// Kernel threads the candidate ran with (cpu); unset where it does not
  /// apply (hwacc, gpu) or was not recorded (records older than schema 3).
  std::optional<int64_t> threads;
  /// Anything else as a JSON object text (utilization, bytes moved, ...).
  std::string extrasJson = "{}";

  // Set by queries only.
  /// Row id in the database (0 for a record not read from a database).
  int64_t id = 0;
  /// True when the record was returned by a query with allowStale and comes
  /// from another compiler version or another target fingerprint.
  bool stale = false;
};

/// `text` parsed as JSON and printed canonically (object keys sorted, no
/// whitespace, numbers in shortest round-trip form). Throws DbError naming
/// `what` when `text` is not valid JSON.
std::string canonicalJson(std::string_view text,
                          std::string_view what = "JSON");
/// 16 lowercase hex digits of the 64-bit FNV-1a hash of canonical config
/// text. FNV-1a rather than std::hash: the value is stored in databases and
/// logs, so it must be the same on every platform and every build.
std::string configHashOf(std::string_view canonicalConfigJson);
/// The median of `samples` (mean of the middle two for an even count);
/// nullopt for no samples.
std::optional<double> medianOf(std::vector<double> samples);

/// How many independent measurements (each in a worker process of its own)
/// the record's figures summarize: extras "measurements" (a config the
/// tuner measured again, see Tuner::confirm), else 1.
int64_t measurementsOf(const Record &record);
/// The same, of a record's extras JSON text (a stored row's).
int64_t measurementsOf(std::string_view extrasJson);
/// The rounds side by side with the task's default its latency was ranked
/// by: extras "paired_rounds" (Tuner::rankByPairedLeads), else 0.
int64_t pairedRoundsOf(std::string_view extrasJson);
/// Whether a record of the same config (same key) with extras `extrasJson`
/// replaces a stored one with `storedExtras`: it summarizes more
/// measurements, or as many and more rounds side by side with the task's
/// default (extras "paired_rounds": Tuner::rankByPairedLeads, which ranks
/// it by its paired lead without measuring it again).
bool supersedes(std::string_view extrasJson, std::string_view storedExtras);
/// Whether the record summarizes more than one measurement: a config
/// measured again side by side with others (Tuner::confirm). best/topK
/// rank such records before those measured once, whose one figure may be
/// the lucky run that selected them.
bool isConfirmed(const Record &record);
/// The order best/topK give a task's records, as a key (lower first): those
/// measured again (isConfirmed) before those measured once, then by `cost`
/// (latency or cycles; minus GFLOP/s where more is better). Whatever ranks
/// records outside the store ranks them by this.
using RankKey = std::pair<bool, double>;
inline RankKey rankKey(const Record &record, double cost) {
  return {!isConfirmed(record), cost};
}

/// On the wall clock (cpu, gpu), how much faster than its task's default
/// record a tuned record must have run to be built in the default's place:
/// closer than that, which of the two is faster is the measurements' noise
/// (the tuner's best of hundreds is the one that happened to read fastest),
/// while the default is the schedule the model path is built around.
constexpr double kTunedMargin = 0.02;
/// Whether a build takes `defaultRecord` (the task's record of its default
/// schedule) instead of `tuned` (its best): both timed on the wall clock
/// (no cycles: hwacc's are exact), both measured more than once
/// (isConfirmed), equally fresh, and `tuned` less than kTunedMargin faster.
/// `hatc compile/run --db`, a deployed library, the coordinator's index,
/// `hatc tune`'s end-to-end estimate and `hatc report`'s model view all
/// decide by this.
bool givesWayToDefault(const Record &tuned, const Record &defaultRecord);
/// The tuned side of givesWayToDefault: a confirmed record of another
/// schedule than the default, timed on the wall clock. Only such a best
/// record is compared with the task's default.
bool mayGiveWayToDefault(const Record &tuned);
/// The default side: a record of the default schedule measured more than
/// once, the only kind a tuned record gives way to.
inline bool isConfirmedDefault(const Record &record) {
  return record.sketch == "default" && isConfirmed(record);
}
/// The rule on two latencies alone (seconds): `tunedS` is less than
/// kTunedMargin faster than `defaultS`.
inline bool withinTunedMargin(double tunedS, double defaultS) {
  return tunedS > defaultS * (1 - kTunedMargin);
}

/// Whether `record` counts for a run on `threads` kernel threads: every
/// record when unset; else one measured on as many, or one without a
/// thread count (hwacc, gpu). The rule QueryOptions::threads applies in the
/// stores' queries, for records already read.
inline bool ranOnThreads(const Record &record,
                         std::optional<int64_t> threads) {
  return !threads || !record.threads || *record.threads == *threads;
}

/// The record's GFLOP/s: extras "gflops" (the CPU's measured, or hwacc's
/// over modeled time); 0 when it has none.
double gflopsOf(const Record &record);

/// Checks `record` and fills in its derived fields: canonical config and
/// extras JSON, config hash, median latency from the samples; clears latency
/// and cycles of error records. Returns an empty string when the record is
/// valid, otherwise the reason (e.g. "missing workload key"). Never throws.
std::string normalizeRecord(Record &record);

/// A tuning task: one workload (key and structural hash) on one target
/// (kind, name, fingerprint), whatever the compiler version. It is what
/// `hatc tune` tunes, `hatc best` answers for, `hatc report` draws a curve of
/// and DbStats::tasks counts (there as distinct (workload, target) row pairs,
/// which the tables' UNIQUE keys make the same thing). Returns a key equal
/// for the records of one task and different otherwise.
inline std::string taskKeyOf(const Record &record) {
  // '\n' appears in none of the fields (keys, hashes, names, fingerprints).
  return record.workloadKey + '\n' + record.workloadHash + '\n' +
         record.targetKind + '\n' + record.targetName + '\n' +
         record.targetFingerprint;
}

} // namespace db
} // namespace hatc

#endif // HATC_DB_RECORD_H
