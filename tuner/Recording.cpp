//===- Recording.cpp - Measured candidates -> database records ------------===//
#include "hatc/Tuner/Recording.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Nesting.h"
#include "hatc/Support/Version.h"

#include "mlir/Dialect/Transform/IR/TransformDialect.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/xxhash.h"

#include <chrono>

namespace hatc::tuner {

MeasureRequest makeRequest(const Workload &workload, const Target &target,
                           const nlohmann::json &config,
                           const std::string &script) {
  MeasureRequest request;
  request.workloadPath =
      workload.measurePath.empty() ? workload.path : workload.measurePath;
  request.entry = workload.entryName;
  request.target = target.params;
  if (!target.path.empty())
    request.target["path"] = target.path;
  request.sketch = config.value("sketch", "");
  request.config = config;
  request.script = script;
  return request;
}

MeasureResult invalidConfigResult(const std::string &reason) {
  MeasureResult result;
  result.error = db::ErrorCode::InvalidConfig;
  result.message = reason;
  return result;
}

double throughputOf(const MeasureResult &result) {
  return result.ok() ? result.gflops : 0.0;
}

db::Record makeRecord(const Workload &workload, const Target &target,
                      const nlohmann::json &config, const std::string &script,
                      const MeasureResult &result) {
  db::Record record;
  record.workloadKey = workload.key();
  record.workloadHash = workload.hash();
  if (!workload.ownIr.empty())
    record.workloadIr = workload.ownIr;
  else if (auto buffer = llvm::MemoryBuffer::getFile(workload.path, true))
    record.workloadIr = (*buffer)->getBuffer().str();
  record.targetKind = targetKindName(target.kind);
  record.targetName = target.name;
  record.targetFingerprint = target.fingerprint();
  record.compilerVersion = compilerVersion();
  record.createdAt = std::chrono::duration<double>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  record.sketch = config.value("sketch", "");
  record.configJson = config.dump();
  record.script = script;
  record.error = result.error;
  if (result.threads)
    record.threads = *result.threads;
  if (result.ok()) {
    record.samples = result.samples;
    record.cycles = result.cycles;
    // What the tuner compared: the median host seconds on the CPU, the
    // modeled seconds (plus GEMMs kept on the host) on hwacc (its samples
    // are the host's wall time of the timing-only run, which is not the
    // device's time).
    record.latencyS = result.seconds;
  }
  nlohmann::json extras = result.extras;
  if (!extras.is_object())
    extras = nlohmann::json::object();
  if (!result.message.empty())
    extras["message"] = result.message;
  if (!workload.measurePath.empty())
    extras["weights"] = true; // measured with the model's weights in it
  extras["gflops"] = result.gflops;
  extras["seconds"] = result.seconds;
  extras["max_rel_err"] = result.maxRelErr;
  extras["build_s"] = result.buildSeconds;
  extras["run_s"] = result.runSeconds;
  record.extrasJson = extras.dump();
  return record;
}

std::unique_ptr<db::Database> openStore(const std::string &path,
                                        db::OpenOptions options) {
  if (!options.readOnly)
    options.rehash = workloadRehasher();
  return db::Database::open(path, options);
}

RecordChecker::RecordChecker()
    : context(std::make_unique<mlir::MLIRContext>(
          mlir::MLIRContext::Threading::DISABLED)) {
  initContext(*context);
}

RecordChecker::~RecordChecker() = default;

std::string RecordChecker::operator()(const db::Record &record) {
  std::string reason = checkIr(record);
  if (reason.empty() && record.error == db::ErrorCode::Ok &&
      !record.script.empty())
    reason = checkScript(record.script);
  return reason;
}

std::string RecordChecker::checkIr(const db::Record &record) {
  std::string workload = record.workloadKey + '\n' + record.workloadHash;
  if (record.workloadIr.empty()) {
    auto it = refused.find(workload);
    return it == refused.end() ? std::string() : it->second;
  }
  std::string keyed = record.workloadKey + '\n' + record.workloadIr;
  auto [it, fresh] = irHashes.try_emplace(llvm::xxh3_64bits(keyed));
  if (fresh) {
    auto hash =
        storedWorkloadHash(*context, record.workloadKey, record.workloadIr);
    it->second = hash ? *hash : "!" + llvm::toString(hash.takeError());
  }
  const std::string &hash = it->second;
  // A hash of an older scheme is not compared: storing it re-keys the
  // record from this IR.
  bool currentScheme = llvm::StringRef(record.workloadHash)
                           .starts_with(std::string(kWorkloadHashScheme) + "-");
  std::string reason;
  if (hash.front() == '!')
    reason = hash.substr(1);
  else if (currentScheme && hash != record.workloadHash)
    reason = "its workload_ir hashes to " + hash +
             ", not to its workload_hash " + record.workloadHash;
  // An IR-less record of the workload follows the IR lines before it: a
  // good one vouches for it, a refused one (with no good one) refuses it.
  if (reason.empty()) {
    accepted.insert(workload);
    refused.erase(workload);
  } else if (!accepted.count(workload)) {
    refused.try_emplace(workload, "its workload's IR was refused on an "
                                  "earlier line: " +
                                      reason);
  }
  return reason;
}

std::string RecordChecker::checkScript(const std::string &script) {
  if (std::string problem = nestingProblem(script); !problem.empty())
    return "its script " + problem;
  DiagnosticCapture capture(context.get());
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(
          script, mlir::ParserConfig(context.get()), "script");
  if (!module)
    return llvm::toString(
        capture.takeError("its script does not parse as a transform script"));
  if (!module->lookupSymbol<mlir::transform::NamedSequenceOp>(
          mlir::transform::TransformDialect::kTransformEntryPointSymbolName))
    return "its script has no transform.named_sequence @" +
           mlir::transform::TransformDialect::kTransformEntryPointSymbolName
               .str();
  return {};
}

Recorder::Recorder(const std::string &dbPath, const std::string &logPath) {
  // The log first: a log that cannot be opened leaves no new, empty
  // database behind; a database that cannot be opened, no new empty log.
  bool newLog = !logPath.empty() && !llvm::sys::fs::exists(logPath);
  if (!logPath.empty())
    log.emplace(logPath, db::JsonlWriter::Options{/*fsyncEachRecord=*/false});
  try {
    if (!dbPath.empty())
      db = openStore(dbPath);
  } catch (...) {
    log.reset();
    uint64_t size = 1;
    if (newLog && !llvm::sys::fs::file_size(logPath, size) && size == 0)
      llvm::sys::fs::remove(logPath);
    throw;
  }
}

bool Recorder::record(const db::Record &record) {
  bool inserted = true;
  if (db)
    inserted = db->commitRecord(record).inserted;
  if (log)
    log->write(record);
  return inserted;
}

void Recorder::close() {
  if (log)
    log->close();
}

} // namespace hatc::tuner
