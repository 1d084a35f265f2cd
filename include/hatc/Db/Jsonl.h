//===- Jsonl.h - JSON-lines tuning logs: write, import, export --*- C++ -*-===//
//
// A tuning log is a text file with one record per line, each line a complete
// JSON object that carries its own format tag and version:
//
//   {"format":"hatc-log","version":1,"workload_key":"matmul_f32_M64_N64_K64",
//    "workload_hash":"...","target_kind":"cpu","target_name":"cpu-avx2",
//    "target_fingerprint":"...","compiler_version":"...","created_at":1.7e9,
//    "sketch":"tile2","config":{"tm":32},"config_hash":"...","script":"...",
//    "samples":[1e-3,...],"latency_s":1e-3,"cycles":null,"error":"OK",
//    "extras":{}}
//
// Because every line stands alone, logs from several runs can be
// concatenated, and a log cut short by a crash loses at most its last line.
// Required fields: format, version, workload_key, workload_hash, target_kind,
// target_fingerprint, compiler_version, created_at, sketch, config, error.
// Optional: workload_ir, target_name, config_hash (checked when present),
// script, samples, latency_s, cycles, extras. Unknown fields are ignored.
//
// Errors: JsonlWriter and the *File functions throw hatc::DbError naming the
// file; importing never throws for bad lines (they are counted and reported
// in ImportStats), only for database errors.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_DB_JSONL_H
#define HATC_DB_JSONL_H

#include "hatc/Db/Record.h"

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

namespace hatc {
namespace db {

class Database;

/// The value of the "format" field of every log line.
constexpr const char *kLogFormat = "hatc-log";
/// The log version this build writes and reads.
constexpr int kLogVersion = 1;

/// `record` as one log line, without the trailing newline. The record is
/// normalized first; an invalid record throws DbError.
std::string recordToJsonLine(const Record &record);

/// Parses and validates one log line into `record` (normalized). Returns an
/// empty string on success, otherwise the reason the line is bad.
std::string parseJsonLine(std::string_view line, Record &record);

/// Appends records to a log file. Each record is written as a whole line by
/// one write() on a descriptor opened with O_APPEND, so lines of several
/// writers (processes) never interleave and a record is in the file (at
/// least in the OS) as soon as write() returns.
class JsonlWriter {
public:
  struct Options {
    /// fsync after every record, so it also survives power loss.
    bool fsyncEachRecord = false;
  };

  /// Opens (creating when missing) `path` for appending. Throws DbError.
  explicit JsonlWriter(const std::string &path, const Options &options);
  explicit JsonlWriter(const std::string &path)
      : JsonlWriter(path, Options()) {}
  ~JsonlWriter();
  JsonlWriter(JsonlWriter &&other) noexcept;
  JsonlWriter &operator=(JsonlWriter &&other) noexcept;
  JsonlWriter(const JsonlWriter &) = delete;
  JsonlWriter &operator=(const JsonlWriter &) = delete;

  /// Appends `record` as one line. Throws DbError when the record is invalid
  /// or the write fails. A line the disk took only part of is cut off again
  /// where that is safe; where it is not (another process appended since),
  /// and when the log was opened ending in such a line, the next record
  /// starts on a line of its own, so the torn bytes are one bad line to
  /// `hatc replay` and no record is glued onto them.
  void write(const Record &record);
  /// Closes the log, checked (a file system may report a lost write only
  /// then); throws DbError when that fails. The destructor closes a log
  /// still open without checking: call close() where the result matters.
  void close();
  const std::string &path() const { return logPath; }

private:
  std::string logPath;
  Options options;
  int fd = -1;
  /// The file ends in a partial line: the next write starts a new one.
  bool torn = false;
};

struct BadLine {
  size_t line = 0; ///< 1-based line number in the log.
  std::string reason;
};

struct ImportStats {
  /// At most this many bad lines are kept in `badLines`; `bad` counts all.
  static constexpr size_t kMaxBadLinesKept = 100;

  size_t linesRead = 0;  ///< Every line, blank ones included.
  size_t imported = 0;   ///< New records stored.
  /// Records already there that the line holds more measurements of
  /// (measurementsOf): their figures were replaced.
  size_t updated = 0;
  size_t duplicates = 0; ///< Valid records already in the database or log.
  size_t blank = 0;      ///< Empty or whitespace-only lines (not errors).
  size_t bad = 0;        ///< Lines skipped as invalid.
  std::vector<BadLine> badLines;
};

struct ImportOptions {
  /// Sees each valid line's record (normalized) as it is read.
  std::function<void(const Record &)> onRecord;
  /// Checks a record beyond its fields (its IR against its hash, say):
  /// returns the reason it is bad, which makes its line a bad one, or an
  /// empty string. Runs before onRecord.
  std::function<std::string(const Record &)> check;
};

/// Imports every valid line of `input` into `db`, skipping and reporting bad
/// ones. Importing the same log again adds nothing (all duplicates), so a
/// replay interrupted part-way can simply be rerun. Records are stored in
/// transactions of a few thousand lines: an interruption loses at most the
/// batch in flight, which the rerun then adds.
ImportStats importJsonl(Database &db, std::istream &input,
                        const ImportOptions &options = {});
/// The same, with the database opened by `openDb` when the first record is
/// to be stored: a file without a valid line creates none.
ImportStats importJsonl(const std::function<Database &()> &openDb,
                        std::istream &input, const ImportOptions &options);
/// importJsonl on the file at `path`; throws DbError when it cannot be read.
ImportStats importJsonlFile(Database &db, const std::string &path);

/// Writes every record of `db` to `output` as log lines, in insertion order;
/// importing the output into an empty database gives the same records. A
/// workload's IR is written once, on its first record. Returns the number of
/// records written. Throws DbError when a write to `output` fails (a full
/// disk): an export is whole or an error.
size_t exportJsonl(Database &db, std::ostream &output);
/// The same lines, each (without its newline) handed to `writeLine`, for a
/// caller that writes them elsewhere and checks the writes itself.
size_t exportJsonl(Database &db,
                   const std::function<void(const std::string &)> &writeLine);

} // namespace db
} // namespace hatc

#endif // HATC_DB_JSONL_H
