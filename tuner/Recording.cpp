//===- Recording.cpp - Measured candidates -> database records ------------===//
#include "hatc/Tuner/Recording.h"
#include "hatc/Support/Version.h"

#include "llvm/Support/MemoryBuffer.h"

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

Recorder::Recorder(const std::string &dbPath, const std::string &logPath) {
  if (!dbPath.empty())
    db = openStore(dbPath);
  if (!logPath.empty())
    log.emplace(logPath, db::JsonlWriter::Options{/*fsyncEachRecord=*/false});
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
