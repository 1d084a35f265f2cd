//===- Jsonl.cpp - JSON-lines tuning logs: write, import, export ----------===//
//
// The log format is the database's exchange format, so the rules for a valid
// line are exactly normalizeRecord's plus the JSON types of each field.
// Reading is defensive: a log may be truncated by a crash, concatenated from
// several runs, edited by hand or not a log at all, and none of that may
// stop the good lines from being imported.
//
//===----------------------------------------------------------------------===//

#include "hatc/Db/Jsonl.h"

#include "hatc/Db/Database.h"
#include "hatc/Support/Nesting.h"
#include "hatc/Support/WriteAll.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <fstream>
#include <istream>
#include <ostream>
#include <unistd.h>
#include <unordered_set>

using nlohmann::json;
using nlohmann::ordered_json;

namespace hatc {
namespace db {

namespace {

/// Bad lines may be binary; a reason quotes at most a little of them, with
/// anything unprintable escaped, so reports stay one readable line.
std::string printable(std::string_view text, size_t limit = 160) {
  std::string result;
  for (unsigned char c : text) {
    if (result.size() >= limit) {
      result += "...";
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      result += static_cast<char>(c);
      continue;
    }
    char buffer[8];
    std::snprintf(buffer, sizeof(buffer), "\\x%02x", c);
    result += buffer;
  }
  return result;
}

std::string jsonErrorText(const json::exception &e) {
  std::string what = e.what();
  if (!what.empty() && what.front() == '[') {
    size_t close = what.find("] ");
    if (close != std::string::npos)
      what = what.substr(close + 2);
  }
  return printable(what);
}

const char *typeName(const json &value) { return value.type_name(); }

/// Reads the fields of one log line. Each getter returns false and sets
/// `reason` when the field is missing (and required) or of the wrong type.
class FieldReader {
public:
  FieldReader(const json &object, std::string &reason)
      : object(object), reason(reason) {}

  bool string(const char *name, std::string &out, bool required = true) {
    auto it = object.find(name);
    if (it == object.end() || (!required && it->is_null()))
      return missing(name, required);
    if (!it->is_string())
      return wrongType(name, "a string", *it);
    out = it->get<std::string>();
    return true;
  }

  bool number(const char *name, double &out, bool required = true) {
    auto it = object.find(name);
    if (it == object.end() || (!required && it->is_null()))
      return missing(name, required);
    if (!it->is_number())
      return wrongType(name, "a number", *it);
    out = it->get<double>();
    return true;
  }

  bool optionalNumber(const char *name, std::optional<double> &out) {
    auto it = object.find(name);
    if (it == object.end() || it->is_null())
      return true;
    if (!it->is_number())
      return wrongType(name, "a number or null", *it);
    out = it->get<double>();
    return true;
  }

  bool optionalInteger(const char *name, std::optional<int64_t> &out) {
    auto it = object.find(name);
    if (it == object.end() || it->is_null())
      return true;
    if (it->is_number_unsigned()) {
      if (it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        return fail(std::string("field '") + name + "' is out of range");
      out = static_cast<int64_t>(it->get<uint64_t>());
      return true;
    }
    if (!it->is_number_integer())
      return wrongType(name, "an integer or null", *it);
    out = it->get<int64_t>();
    return true;
  }

  bool object_(const char *name, std::string &out, bool required = true) {
    auto it = object.find(name);
    if (it == object.end() || (!required && it->is_null()))
      return missing(name, required);
    if (!it->is_object())
      return wrongType(name, "an object", *it);
    out = it->dump();
    return true;
  }

  bool numberArray(const char *name, std::vector<double> &out) {
    auto it = object.find(name);
    if (it == object.end() || it->is_null())
      return true;
    if (!it->is_array())
      return wrongType(name, "an array of numbers", *it);
    for (const json &element : *it) {
      if (!element.is_number())
        return fail(std::string("field '") + name +
                    "' must hold only numbers, found " + typeName(element));
      out.push_back(element.get<double>());
    }
    return true;
  }

private:
  bool missing(const char *name, bool required) {
    if (!required)
      return true;
    return fail(std::string("missing required field '") + name + "'");
  }
  bool wrongType(const char *name, const char *expected, const json &value) {
    return fail(std::string("field '") + name + "' must be " + expected +
                ", found " + typeName(value));
  }
  bool fail(std::string text) {
    reason = std::move(text);
    return false;
  }

  const json &object;
  std::string &reason;
};

} // namespace

std::string parseJsonLine(std::string_view line, Record &record) {
  if (std::string problem = nestingProblem(line); !problem.empty())
    return "the line " + problem;
  json value;
  try {
    value = json::parse(line.begin(), line.end());
  } catch (const json::exception &e) {
    return "invalid JSON: " + jsonErrorText(e);
  }
  if (!value.is_object())
    return std::string("a log line must be a JSON object, found ") +
           typeName(value);

  auto format = value.find("format");
  if (format == value.end() || !format->is_string() ||
      format->get<std::string>() != kLogFormat)
    return std::string("not a hatc log line (\"format\" must be \"") +
           kLogFormat + "\")";
  auto version = value.find("version");
  if (version == value.end() || !version->is_number_integer())
    return "missing required field 'version' (an integer)";
  if (version->get<int64_t>() != kLogVersion)
    return "unsupported log version " +
           std::to_string(version->get<int64_t>()) + " (this hatc reads " +
           std::to_string(kLogVersion) + ")";

  record = Record();
  std::string reason;
  FieldReader fields(value, reason);
  std::string error, configHash;
  bool ok = fields.string("workload_key", record.workloadKey) &&
            fields.string("workload_hash", record.workloadHash) &&
            fields.string("workload_ir", record.workloadIr, false) &&
            fields.string("target_kind", record.targetKind) &&
            fields.string("target_name", record.targetName, false) &&
            fields.string("target_fingerprint", record.targetFingerprint) &&
            fields.string("compiler_version", record.compilerVersion) &&
            fields.number("created_at", record.createdAt) &&
            fields.string("sketch", record.sketch) &&
            fields.object_("config", record.configJson) &&
            fields.string("config_hash", configHash, false) &&
            fields.string("script", record.script, false) &&
            fields.numberArray("samples", record.samples) &&
            fields.optionalNumber("latency_s", record.latencyS) &&
            fields.optionalInteger("cycles", record.cycles) &&
            fields.optionalInteger("threads", record.threads) &&
            fields.string("error", error) &&
            fields.object_("extras", record.extrasJson, false);
  if (!ok)
    return reason;
  std::optional<ErrorCode> code = parseErrorCode(error);
  if (!code)
    return "unknown error code '" + printable(error) + "'";
  record.error = *code;

  reason = normalizeRecord(record);
  if (!reason.empty())
    return reason;
  // The hash is recomputed anyway; a stored one that disagrees means the
  // line was edited or damaged, and guessing which half is right is worse
  // than skipping it.
  if (!configHash.empty() && configHash != record.configHash)
    return "config_hash '" + printable(configHash) +
           "' does not match the config (expected '" + record.configHash + "')";
  return "";
}

std::string recordToJsonLine(const Record &input) {
  Record record = input;
  std::string reason = normalizeRecord(record);
  if (!reason.empty())
    throw DbError("cannot write record as a log line: " + reason);

  ordered_json line;
  line["format"] = kLogFormat;
  line["version"] = kLogVersion;
  line["workload_key"] = record.workloadKey;
  line["workload_hash"] = record.workloadHash;
  if (!record.workloadIr.empty())
    line["workload_ir"] = record.workloadIr;
  line["target_kind"] = record.targetKind;
  line["target_name"] = record.targetName;
  line["target_fingerprint"] = record.targetFingerprint;
  line["compiler_version"] = record.compilerVersion;
  line["created_at"] = record.createdAt;
  line["sketch"] = record.sketch;
  // Canonical text parses back into keys in sorted order, which
  // ordered_json keeps.
  line["config"] = ordered_json::parse(record.configJson);
  line["config_hash"] = record.configHash;
  line["script"] = record.script;
  line["samples"] = record.samples;
  line["latency_s"] =
      record.latencyS ? ordered_json(*record.latencyS) : ordered_json();
  line["cycles"] =
      record.cycles ? ordered_json(*record.cycles) : ordered_json();
  if (record.threads)
    line["threads"] = *record.threads;
  line["error"] = errorCodeName(record.error);
  line["extras"] = ordered_json::parse(record.extrasJson);
  // normalizeRecord checked the text is UTF-8, so strict dumping cannot
  // throw; `replace` is only a guard against a record read from a database
  // written by something else.
  return line.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

//===----------------------------------------------------------------------===//
// JsonlWriter
//===----------------------------------------------------------------------===//

JsonlWriter::JsonlWriter(const std::string &path, const Options &options)
    : logPath(path), options(options) {
  fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    throw DbError("cannot open tuning log '" + path +
                  "' for appending: " + std::strerror(errno));
  // A log whose last write was cut short (a full disk, a killed writer).
  // Read through a descriptor of its own: `fd` is write-only.
  int reader = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat info;
  char last = '\n';
  if (reader >= 0 && ::fstat(reader, &info) == 0 && info.st_size > 0 &&
      ::pread(reader, &last, 1, info.st_size - 1) == 1)
    torn = last != '\n';
  if (reader >= 0)
    ::close(reader);
}

JsonlWriter::~JsonlWriter() {
  if (fd >= 0)
    ::close(fd);
}

JsonlWriter::JsonlWriter(JsonlWriter &&other) noexcept
    : logPath(std::move(other.logPath)), options(other.options), fd(other.fd),
      torn(other.torn) {
  other.fd = -1;
}

JsonlWriter &JsonlWriter::operator=(JsonlWriter &&other) noexcept {
  if (this == &other)
    return *this;
  if (fd >= 0)
    ::close(fd);
  logPath = std::move(other.logPath);
  options = other.options;
  fd = other.fd;
  torn = other.torn;
  other.fd = -1;
  return *this;
}

void JsonlWriter::write(const Record &input) {
  if (fd < 0)
    throw DbError("tuning log '" + logPath + "' is not open");
  Record record = input;
  if (record.createdAt == 0)
    record.createdAt = std::chrono::duration<double>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  std::string line = (torn ? "\n" : "") + recordToJsonLine(record);
  line += '\n';
  struct stat before;
  bool sized = ::fstat(fd, &before) == 0;
  // One write() for the whole line: with O_APPEND the kernel places it at
  // the end atomically with respect to other appenders. The loop only
  // matters for partial writes (a full disk), which are then reported.
  size_t written = 0;
  if (int error = writeAll(fd, line, written)) {
    if (written > 0) {
      // Cut the partial line off again (the file ends as it did before),
      // unless another appender wrote after it: then the next record
      // starts a line of its own.
      struct stat now;
      bool ours = sized && ::fstat(fd, &now) == 0 &&
                  now.st_size == before.st_size + off_t(written);
      if (!(ours && ::ftruncate(fd, before.st_size) == 0))
        torn = true;
    }
    throw DbError("cannot write to tuning log '" + logPath +
                  "': " + std::strerror(error));
  }
  torn = false;
  if (options.fsyncEachRecord && ::fsync(fd) != 0)
    throw DbError("cannot sync tuning log '" + logPath +
                  "': " + std::strerror(errno));
}

void JsonlWriter::close() {
  if (fd < 0)
    return;
  int closing = fd;
  fd = -1;
  // After a failed close() the descriptor is gone either way (Linux), so it
  // is not retried on EINTR.
  if (::close(closing) != 0)
    throw DbError("cannot write to tuning log '" + logPath +
                  "': " + std::strerror(errno));
}

//===----------------------------------------------------------------------===//
// Import and export
//===----------------------------------------------------------------------===//

ImportStats importJsonl(Database &db, std::istream &input,
                        const ImportOptions &options) {
  return importJsonl([&]() -> Database & { return db; }, input, options);
}

ImportStats importJsonl(const std::function<Database &()> &openDb,
                        std::istream &input, const ImportOptions &options) {
  // Big enough to amortize a commit over many records, small enough that an
  // interrupted replay redoes little.
  constexpr size_t kBatchSize = 2000;

  ImportStats stats;
  std::vector<Record> batch;
  batch.reserve(kBatchSize);
  auto flush = [&] {
    if (batch.empty())
      return;
    for (const CommitResult &result : openDb().commitRecords(batch)) {
      if (result.inserted)
        ++stats.imported;
      else if (result.updated)
        ++stats.updated;
      else
        ++stats.duplicates;
    }
    batch.clear();
  };
  auto reportBad = [&](size_t lineNumber, std::string reason) {
    ++stats.bad;
    if (stats.badLines.size() < ImportStats::kMaxBadLinesKept)
      stats.badLines.push_back({lineNumber, std::move(reason)});
  };

  std::string line;
  while (std::getline(input, line)) {
    size_t lineNumber = ++stats.linesRead;
    // getline stops at end of input without a newline: the last line of a
    // log cut short while being written.
    bool truncated = input.eof();
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) {
      ++stats.blank;
      continue;
    }
    Record record;
    std::string reason = parseJsonLine(line, record);
    if (reason.empty() && options.check)
      reason = options.check(record);
    if (!reason.empty()) {
      if (truncated)
        reason = "truncated last line (no newline at the end): " + reason;
      reportBad(lineNumber, std::move(reason));
      continue;
    }
    if (options.onRecord)
      options.onRecord(record);
    batch.push_back(std::move(record));
    if (batch.size() == kBatchSize)
      flush();
  }
  flush();
  return stats;
}

ImportStats importJsonlFile(Database &db, const std::string &path) {
  std::ifstream input(path, std::ios::binary);
  if (!input)
    throw DbError("cannot read tuning log '" + path +
                  "': " + std::strerror(errno));
  ImportStats stats = importJsonl(db, input);
  if (input.bad())
    throw DbError("error while reading tuning log '" + path + "'");
  return stats;
}

size_t exportJsonl(Database &db,
                   const std::function<void(const std::string &)> &writeLine) {
  size_t count = 0;
  std::unordered_set<std::string> workloadsWithIr;
  db.forEachRecord([&](const Record &stored) {
    Record record = stored;
    // IR can be large and is the same for every record of a workload; the
    // importer keeps the first IR it sees, so once is enough.
    if (!record.workloadIr.empty() &&
        !workloadsWithIr.insert(record.workloadKey + '\n' + record.workloadHash)
             .second)
      record.workloadIr.clear();
    writeLine(recordToJsonLine(record));
    ++count;
  });
  return count;
}

size_t exportJsonl(Database &db, std::ostream &output) {
  // A stream keeps no error code; the caller knows what it was writing to.
  size_t count = exportJsonl(db, [&](const std::string &line) {
    if (!(output << line << '\n'))
      throw DbError("write failed while exporting the tuning log");
  });
  if (!output.flush())
    throw DbError("write failed while exporting the tuning log");
  return count;
}

} // namespace db
} // namespace hatc
