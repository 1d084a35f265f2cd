//===- LatencyModel.cpp - Predictions, roofline, online correction --------===//
//
// Free of MLIR, like the policies that read it: a prediction is a few array
// reads (see Policy.cpp).
//
//===----------------------------------------------------------------------===//
#include "hatc/Coord/LatencyModel.h"
#include "hatc/Coord/Index.h"

#include <algorithm>

namespace hatc::coord {

const char *predictionSourceName(PredictionSource source) {
  switch (source) {
  case PredictionSource::Database:
    return "db";
  case PredictionSource::StaleDatabase:
    return "db-stale";
  case PredictionSource::Roofline:
    return "roofline";
  case PredictionSource::Measured:
    return "measured";
  }
  return "?";
}

LatencyModel::LatencyModel(std::vector<BackendSpec> backends,
                           PredictorOptions options)
    : specs(std::move(backends)), options(options) {}

double LatencyModel::rooflineSeconds(const WorkloadInfo &info,
                                     const BackendSpec &backend) const {
  double bytes = info.bytesIn + info.bytesOut;
  if (backend.kind == BackendKind::Hwacc) {
    const HwaccParams &hw = backend.hwacc;
    double peak = 2.0 * double(hw.dim * hw.dim) * hw.clockGHz * 1e9 *
                  options.hwaccEfficiency;
    double dma = bytes / (hw.dmaBytesPerCycle * hw.clockGHz * 1e9);
    return std::max(info.flops / peak, dma);
  }
  double peak = options.cpuGflopsPerCore * 1e9 * backend.threadsPerTask;
  return std::max(info.flops / peak, bytes / options.hostBytesPerS);
}

void LatencyModel::computeBase(Entry &entry, const ScheduleIndex *index) {
  entry.perBackend.resize(specs.size());
  for (size_t b = 0; b < specs.size(); ++b) {
    const BackendSpec &spec = specs[b];
    PerBackend &p = entry.perBackend[b];
    p.runnable = spec.kind == BackendKind::Cpu ||
                 (spec.kind == BackendKind::Hwacc && entry.info.accelerable);
    p.transfer = spec.transferBytesPerS > 0
                     ? (entry.info.bytesIn + entry.info.bytesOut) /
                           spec.transferBytesPerS
                     : 0;
    if (p.source == PredictionSource::Measured)
      continue; // a calibrated time beats any record
    const IndexEntry *record =
        index ? index->lookup(entry.info.key, entry.info.hash, b) : nullptr;
    if (record && record->seconds > 0) {
      p.base = record->seconds;
      // A parallel CPU schedule measured with T threads runs on a slot of
      // threadsPerTask cores: assume linear scaling (the correction learns
      // the rest). A sequential one does not care.
      bool parallel = record->script.find("forall") != std::string::npos;
      if (spec.kind == BackendKind::Cpu && parallel)
        p.base *= double(std::max(1, record->threads)) / spec.threadsPerTask;
      p.source = record->stale ? PredictionSource::StaleDatabase
                               : PredictionSource::Database;
      continue;
    }
    p.base = rooflineSeconds(entry.info, spec);
    p.source = PredictionSource::Roofline;
  }
}

int LatencyModel::addWorkload(const WorkloadInfo &info,
                              const ScheduleIndex *index) {
  auto found = byKey.find(info.key);
  if (found != byKey.end())
    return found->second;
  Entry entry;
  entry.info = info;
  computeBase(entry, index);
  workloads.push_back(std::move(entry));
  int id = int(workloads.size() - 1);
  byKey.emplace(info.key, id);
  return id;
}

void LatencyModel::setBase(int workload, int backend, double seconds,
                           PredictionSource source) {
  PerBackend &p = workloads[workload].perBackend[backend];
  p.base = seconds;
  p.source = source;
}

void LatencyModel::rebase(const ScheduleIndex *index) {
  for (Entry &entry : workloads) {
    for (PerBackend &p : entry.perBackend)
      if (p.source != PredictionSource::Measured)
        p.source = PredictionSource::Roofline;
    computeBase(entry, index);
  }
}

int LatencyModel::findWorkload(std::string_view key) const {
  auto found = byKey.find(std::string(key));
  return found == byKey.end() ? -1 : found->second;
}

void LatencyModel::observe(int workload, int backend, double observedS) {
  PerBackend &p = workloads[workload].perBackend[backend];
  double expected = p.base + p.transfer;
  if (expected <= 0 || !(observedS > 0))
    return;
  double ratio = observedS / expected;
  p.correction = (1 - options.correctionAlpha) * p.correction +
                 options.correctionAlpha * ratio;
}

void LatencyModel::resetCorrections() {
  for (Entry &entry : workloads)
    for (PerBackend &p : entry.perBackend)
      p.correction = 1;
}

} // namespace hatc::coord
