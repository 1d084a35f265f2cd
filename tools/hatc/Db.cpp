//===- Db.cpp - hatc best / replay / export / db stats --------------------===//
//
// The tuning database from the command line. Every record carries its
// provenance; `best` only returns records of this compiler version and this
// target's fingerprint unless --allow-stale says otherwise (and then flags
// them).
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Common.h"
#include "Flags.h"
#include "Output.h"
#include "hatc/Db/Database.h"
#include "hatc/Db/Jsonl.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Version.h"
#include "hatc/Tuner/Recording.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>

namespace hatc {

namespace {


nlohmann::json recordJson(const db::Record &record) {
  nlohmann::json json = nlohmann::json::parse(db::recordToJsonLine(record));
  json["id"] = record.id;
  json["stale"] = record.stale;
  json.erase("ir");
  return json;
}

std::unique_ptr<db::Database> openExisting(const std::string &path,
                                           bool readOnly) {
  if (!db::Database::isServerSpec(path) && !llvm::sys::fs::exists(path))
    throw DbError(path + ": no such database");
  db::OpenOptions options;
  options.readOnly = readOnly;
  return tuner::openStore(path, options);
}

/// What `tune` and `report` show first, GFLOP/s, then the latency it comes
/// from: cycles and modeled time on hwacc, the median elsewhere.
std::string recordMetric(const db::Record &record) {
  nlohmann::json extras =
      nlohmann::json::parse(record.extrasJson, nullptr, false);
  double gflops = extras.is_object() ? extras.value("gflops", 0.0) : 0.0;
  // On hwacc, extras.seconds is the modeled time the cycles stand for (the
  // stored latency is the host's wall time of the timing-only run).
  double seconds =
      record.cycles || !record.latencyS
          ? (extras.is_object() ? extras.value("seconds", 0.0) : 0.0)
          : *record.latencyS;
  if (record.cycles)
    return llvm::formatv("{0:f2} GFLOP/s (modeled; {1} cycles, {2})", gflops,
                         *record.cycles, formatSeconds(seconds));
  return llvm::formatv("{0:f2} GFLOP/s (median {1})", gflops,
                       formatSeconds(seconds));
}

} // namespace

int bestCommand(const Args &args) {
  std::string workloadPath, targetSpec = "cpu", dbPath, entry;
  int64_t top = 1, threads = 0;
  bool allowStale = false, emitSchedule = false, json = false, printKey = false;
  FlagParser parser("hatc best",
                    "Looks up the best record (lowest median latency; cycles "
                    "on hwacc) of the\nworkload on the target, among OK "
                    "records of this compiler version and target\n"
                    "fingerprint; records measured again (`tune`'s best few "
                    "and default) rank\nfirst. Prints GFLOP/s with the "
                    "latency (cycles on hwacc), the sketch,\nthe config and "
                    "the compiler version.");
  parser.positional("WORKLOAD.mlir", &workloadPath, "the workload");
  parser.option("--target", &targetSpec, "T",
                "cpu (default), hwacc, or a target .json");
  parser.option("--db", &dbPath, "DB", "the tuning database");
  parser.option("--top", &top, "K", "the K best distinct configs", 1);
  parser.option("--threads", &threads, "N",
                "only records that ran on N kernel threads (cpu; what "
                "compile --threads N --db takes)",
                1, kMaxThreads);
  parser.flag("--allow-stale", &allowStale,
              "also records of other compiler versions or fingerprints "
              "(flagged stale)");
  parser.flag("--emit-schedule", &emitSchedule,
              "print the best record's transform script");
  parser.flag("--print-key", &printKey,
              "print what records are matched on (key, hash, fingerprint, "
              "compiler version) and exit");
  parser.option("--entry", &entry, "NAME", "entry function");
  parser.flag("--json", &json, "one JSON object per record on stdout");
  if (auto code = parseFlags(parser, args))
    return *code;
  if (dbPath.empty() && !printKey)
    return reportError(makeError("hatc best: missing --db DB"));
  // --emit-schedule's output is the script itself, for mlir-opt; --json's
  // records carry it as "script". Together, --json was ignored.
  if (emitSchedule && json)
    return reportError(makeError(
        "hatc best: --emit-schedule prints the script as text; with --json "
        "each record holds it as \"script\" (use one of the two)"));

  // A model's tasks have their own records: `hatc report --model` shows
  // them, and `hatc tune --task-dir` writes each task as a .mlir.
  if (llvm::Error err =
          refuseModel("best", workloadPath,
                      "see a model's tasks with hatc report --db DB --model " +
                          workloadPath))
    return reportError(std::move(err));
  auto target = resolveTarget(targetSpec);
  if (!target)
    return reportError(target.takeError());
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  initContext(context);
  auto workload = loadWorkload(context, workloadPath, entry);
  if (!workload)
    return reportError(workload.takeError());
  db::TargetKey key{targetKindName(target->kind), target->fingerprint(),
                    target->name};
  if (printKey) {
    llvm::outs() << nlohmann::json{{"workload_key", workload->key()},
                                   {"workload_hash", workload->hash()},
                                   {"target_kind", key.kind},
                                   {"target_name", key.name},
                                   {"target_fingerprint", key.fingerprint},
                                   {"compiler_version", compilerVersion()}}
                        .dump()
                 << "\n";
    return kExitOk;
  }

  auto database = openExisting(dbPath, /*readOnly=*/true);
  db::QueryOptions options;
  options.allowStale = allowStale;
  options.workloadHash = workload->hash();
  if (threads > 0 && target->kind == TargetKind::Cpu)
    options.threads = threads;
  std::vector<db::Record> found =
      database->topK(workload->key(), key, compilerVersion(), size_t(top),
                     options);
  if (found.empty()) {
    db::QueryOptions stale = options;
    stale.allowStale = true;
    size_t staleCount =
        allowStale ? 0
                   : database->topK(workload->key(), key, compilerVersion(),
                                    1000, stale)
                         .size();
    std::string hint =
        staleCount ? llvm::formatv(" ({0} stale records of other compiler "
                                   "versions or machines; --allow-stale "
                                   "takes them)",
                                   staleCount)
                         .str()
                   : "";
    if (options.threads) {
      db::QueryOptions anyThreads = options;
      anyThreads.threads.reset();
      size_t others = database
                          ->topK(workload->key(), key, compilerVersion(), 1000,
                                 anyThreads)
                          .size();
      if (others)
        hint += llvm::formatv(" ({0} configs ran on other thread counts)",
                              others)
                    .str();
    }
    return reportError(makeError("no tuned record for " + workload->key() +
                                 " on " + key.kind + " (" + key.name +
                                 ") in " + db::Database::displayName(dbPath) +
                                 hint));
  }
  if (emitSchedule) {
    llvm::outs() << found.front().script;
    if (!found.front().script.empty() && found.front().script.back() != '\n')
      llvm::outs() << "\n";
    return kExitOk;
  }
  for (const db::Record &record : found) {
    if (json) {
      llvm::outs() << recordJson(record).dump() << "\n";
      continue;
    }
    llvm::outs() << llvm::formatv("{0}  {1}  {2}  {3}{4}\n",
                                  recordMetric(record), record.sketch,
                                  record.configJson, record.compilerVersion,
                                  record.stale ? "  (stale)" : "");
  }
  return kExitOk;
}

int replayCommand(const Args &args) {
  std::string logPath, dbPath;
  RemeasureOptions remeasure;
  bool strict = false, json = false, noCheck = false;
  FlagParser parser("hatc replay",
                    "Imports a JSON-lines tuning log (or - for stdin) into a "
                    "database. Bad lines\n(malformed, or a record whose IR "
                    "does not hash to its workload hash or\nwhose script is "
                    "not a transform script) are reported with their line\n"
                    "numbers and skipped; importing twice changes nothing.\n"
                    "With --remeasure K, each task's K best configs of the "
                    "log are then measured\non this machine (cpu and hwacc "
                    "tasks whose log lines carry their workload IR)\nand "
                    "recorded beside the imported records.");
  parser.positional("LOG.jsonl", &logPath, "the log, or - for stdin");
  parser.option("--db", &dbPath, "DB", "the database (created if missing)");
  parser.option("--remeasure", &remeasure.top, "K",
                "measure the top K configs per task again on this machine", 1);
  addThreadsFlag(parser, remeasure.threads);
  parser.option("--repeat", &remeasure.repeat, "N",
                "with --remeasure: minimum timed runs (default 3)", 1);
  parser.flag("--no-check", &noCheck,
              "with --remeasure: skip the reference check");
  parser.flag("--strict", &strict, "exit 1 if any line was bad");
  parser.flag("--json", &json, "print the import statistics as JSON");
  if (auto code = parseFlags(parser, args))
    return *code;
  if (dbPath.empty())
    return reportError(makeError("hatc replay: missing --db DB"));
  if (logPath != "-" && !llvm::sys::fs::exists(logPath))
    return reportError(makeError(logPath + ": no such file"));
  if (logPath != "-" && llvm::sys::fs::is_directory(logPath))
    return reportError(makeError(logPath + ": is a directory, not a log"));

  std::ifstream file;
  if (logPath != "-") {
    file.open(logPath, std::ios::binary);
    if (!file)
      return reportError(makeError(logPath + ": cannot read"));
  }
  std::istream &in = logPath == "-" ? std::cin : file;
  // --remeasure works on the log's records, kept as the import reads them.
  std::vector<db::Record> records;
  db::ImportOptions options;
  if (remeasure.top > 0)
    options.onRecord = [&](const db::Record &record) {
      records.push_back(record);
    };
  tuner::RecordChecker checker;
  options.check = [&](const db::Record &record) { return checker(record); };
  // Opened at the first record to store: a file that is no log at all
  // leaves no database behind.
  std::unique_ptr<db::Database> database;
  auto openDb = [&]() -> db::Database & {
    if (!database)
      database = tuner::openStore(dbPath);
    return *database;
  };
  db::ImportStats stats = db::importJsonl(openDb, in, options);
  bool noRecord =
      stats.bad && !stats.imported && !stats.duplicates && !stats.updated;
  if (!noRecord)
    openDb(); // an empty log still makes (or checks) the database
  database.reset();
  std::string name = logPath == "-" ? "<stdin>" : logPath;
  for (const db::BadLine &bad : stats.badLines)
    llvm::errs() << name << ":" << bad.line << ": skipped: " << bad.reason
                 << "\n";
  if (stats.bad > stats.badLines.size())
    llvm::errs() << name << ": " << (stats.bad - stats.badLines.size())
                 << " more bad lines not shown\n";
  if (!json)
    llvm::errs() << llvm::formatv(
        "{0}: {1} lines: {2} imported, {3}{4} already there, {5} bad\n", name,
        stats.linesRead, stats.imported,
        stats.updated ? llvm::formatv("{0} measured again, ", stats.updated).str()
                      : std::string(),
        stats.duplicates, stats.bad);

  std::optional<RemeasureStats> again;
  if (remeasure.top > 0) {
    remeasure.dbPath = dbPath;
    remeasure.check = !noCheck;
    auto measured = remeasureReplayed(records, remeasure, llvm::errs());
    if (!measured)
      return reportError(measured.takeError());
    again = *measured;
    if (!json)
      llvm::errs() << llvm::formatv(
          "{0}: measured again on this machine: {1} configs ran, {2} "
          "failed, {3} skipped\n",
          name, again->measured, again->failed, again->skipped);
  }
  if (json) {
    nlohmann::json out = {{"lines", stats.linesRead},
                          {"imported", stats.imported},
                          {"updated", stats.updated},
                          {"duplicates", stats.duplicates},
                          {"blank", stats.blank},
                          {"bad", stats.bad}};
    if (again)
      out["remeasured"] = {{"ran", again->measured},
                           {"failed", again->failed},
                           {"skipped", again->skipped}};
    llvm::outs() << out.dump() << "\n";
  }
  // Bad lines are skipped, but a file none of whose lines is a record is
  // not a log at all (a model, a database, another tool's output).
  if (noRecord)
    return reportError(makeError(name + ": no line is a hatc log record; "
                                        "nothing imported"));
  return strict && stats.bad ? kExitUserError : kExitOk;
}

int exportCommand(const Args &args) {
  std::string dbPath, output = "-";
  FlagParser parser("hatc export",
                    "Writes every record of a database as a JSON-lines log "
                    "(format hatc-log v1),\nwhich `hatc replay` imports on "
                    "any machine.");
  parser.option("--db", &dbPath, "DB", "the database");
  parser.option("-o", &output, "OUT", "output file (default: stdout)");
  if (auto code = parseFlags(parser, args))
    return *code;
  if (dbPath.empty())
    return reportError(makeError("hatc export: missing --db DB"));
  if (llvm::Error err =
          refuseOutputOverInputs("-o", output, {{"the database", dbPath}}))
    return reportError(std::move(err));
  auto database = openExisting(dbPath, /*readOnly=*/true);
  if (llvm::Error err = writeOutputFile(output, [&](llvm::raw_ostream &os) {
        db::exportJsonl(*database,
                        [&](const std::string &line) { os << line << '\n'; });
      }))
    return reportError(std::move(err));
  return kExitOk;
}

namespace {

/// hatc db copy: every record of one store into another, in batches of one
/// transaction each; records already there are kept as they are.
int dbCopy(const Args &args) {
  std::string from, to;
  bool json = false;
  FlagParser parser(
      "hatc db copy",
      "Copies every record of one tuning database into another (created when\n"
      "missing): e.g. a shared database down to the file a deployment ships\n"
      "with. Records the target already has are kept; running it again adds\n"
      "nothing.");
  parser.option("--from", &from, "DB", "the database to read");
  parser.option("--to", &to, "DB", "the database to write");
  parser.flag("--json", &json, "one JSON object on stdout");
  if (auto code = parseFlags(parser, args))
    return *code;
  if (from.empty() || to.empty())
    return reportError(makeError("hatc db copy: needs --from DB and --to DB"));
  if (from == to || llvm::sys::fs::equivalent(from, to))
    return reportError(
        makeError("hatc db copy: --from and --to are the same database"));
  auto source = openExisting(from, /*readOnly=*/true);
  // A copy that fails before it wrote anything (a source record that does
  // not read) leaves no new, empty database file behind.
  bool newFile =
      !db::Database::isServerSpec(to) && !llvm::sys::fs::exists(to);
  auto target = tuner::openStore(to);
  constexpr size_t kBatch = 500;
  std::vector<db::Record> batch;
  int64_t read = 0, copied = 0;
  auto flush = [&] {
    for (const db::CommitResult &result : target->commitRecords(batch))
      copied += result.inserted;
    batch.clear();
  };
  try {
    source->forEachRecord([&](const db::Record &record) {
      ++read;
      batch.push_back(record);
      if (batch.size() == kBatch)
        flush();
    });
    flush();
  } catch (...) {
    if (newFile && copied == 0) {
      target.reset();
      for (const char *suffix : {"", "-wal", "-shm"})
        llvm::sys::fs::remove(to + suffix);
    }
    throw;
  }
  if (json) {
    llvm::outs() << nlohmann::json{{"from", source->path()},
                                   {"to", target->path()},
                                   {"records", read},
                                   {"copied", copied},
                                   {"already_there", read - copied}}
                        .dump()
                 << "\n";
    return kExitOk;
  }
  llvm::outs() << llvm::formatv("{0} -> {1}: {2} records: {3} copied, {4} "
                                "already there\n",
                                source->path(), target->path(), read, copied,
                                read - copied);
  return kExitOk;
}

int dbStats(const Args &args) {
  std::string dbPath;
  bool json = false;
  FlagParser parser("hatc db stats",
                    "Tasks, targets, records and errors by code.");
  parser.option("--db", &dbPath, "DB", "the database");
  parser.flag("--json", &json, "one JSON object on stdout");
  if (auto code = parseFlags(parser, args))
    return *code;
  if (dbPath.empty())
    return reportError(makeError("hatc db stats: missing --db DB"));
  auto database = openExisting(dbPath, /*readOnly=*/true);
  db::DbStats stats = database->stats();
  if (json) {
    llvm::outs() << nlohmann::json{{"db", database->path()},
                                   {"schema_version", stats.schemaVersion},
                                   {"tasks", stats.tasks},
                                   {"targets", stats.targets},
                                   {"records", stats.records},
                                   {"errors", stats.errorsByCode}}
                        .dump()
                 << "\n";
    return kExitOk;
  }
  llvm::outs() << llvm::formatv("{0} (schema v{1})\n  tasks    {2}\n  targets  "
                                "{3}\n  records  {4}\n",
                                database->path(), stats.schemaVersion,
                                stats.tasks,
                                stats.targets, stats.records);
  for (const auto &[code, count] : stats.errorsByCode)
    if (count)
      llvm::outs() << llvm::formatv("    {0,-18} {1}\n", code, count);
  return kExitOk;
}

} // namespace

int dbCommand(const Args &args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    return printGroupUsage(!args.empty(),
                           "usage: hatc db stats --db DB [--json]\n"
                           "       hatc db copy --from DB --to DB [--json]\n\n"
                           "Database maintenance.\n");
  }
  Args rest(args.begin() + 1, args.end());
  if (args[0] == "stats")
    return dbStats(rest);
  if (args[0] == "copy")
    return dbCopy(rest);
  return reportError(makeError("hatc db: unknown subcommand '" + args[0] +
                               "' (expected stats or copy)"));
}

} // namespace hatc
