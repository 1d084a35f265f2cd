//===- LatencyModel.h - Predicted seconds per (workload, backend) -*- C++ -*-===//
//
// LatencyModel: a predicted latency per (workload, backend): the record's
// latency_s (cpu) or cycles / clock (hwacc), else a roofline estimate from
// FLOPs and bytes; plus the host<->device transfer time; times an online
// correction (an exponential moving average of observed / predicted per
// (workload, backend)).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COORD_LATENCYMODEL_H
#define HATC_COORD_LATENCYMODEL_H

#include "hatc/Coord/Backend.h"

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace hatc::coord {

class ScheduleIndex;

struct PredictorOptions {
  /// Roofline fallback on the CPU: GFLOP/s per core of default-schedule code
  /// (18-45 on this machine's examples) and host memory bandwidth.
  double cpuGflopsPerCore = 30;
  double hostBytesPerS = 10e9;
  /// Fraction of the array's peak a default-tiled GEMM reaches (the model
  /// gives 0.5-0.8 on the examples).
  double hwaccEfficiency = 0.6;
  /// Weight of the newest observation in the correction EMA.
  double correctionAlpha = 0.3;
};

/// Where a base prediction came from.
enum class PredictionSource { Database, StaleDatabase, Roofline, Measured };
const char *predictionSourceName(PredictionSource source);

/// Predicted seconds per (workload id, backend id). Not thread-safe; the
/// Coordinator guards it with its lock.
class LatencyModel {
public:
  LatencyModel(std::vector<BackendSpec> backends, PredictorOptions options = {});

  const std::vector<BackendSpec> &backends() const { return specs; }
  /// Registers a workload and computes its base predictions from `index`
  /// (may be null) or the roofline. Returns its id (dense, from 0).
  int addWorkload(const WorkloadInfo &info, const ScheduleIndex *index);
  /// Overrides one base prediction (e.g. a kernel's calibrated modeled
  /// time, or a test's).
  void setBase(int workload, int backend, double seconds,
               PredictionSource source);
  /// Recomputes base predictions from a refreshed index.
  void rebase(const ScheduleIndex *index);

  size_t workloadCount() const { return workloads.size(); }
  const WorkloadInfo &workload(int id) const { return workloads[id].info; }
  int findWorkload(std::string_view key) const;

  bool canRun(int workload, int backend) const {
    return workloads[workload].perBackend[backend].runnable;
  }
  /// Prediction before correction: compute + transfer seconds.
  double uncorrected(int workload, int backend) const {
    const PerBackend &p = workloads[workload].perBackend[backend];
    return p.base + p.transfer;
  }
  /// What policies use: uncorrected x the learned correction.
  double predict(int workload, int backend) const {
    const PerBackend &p = workloads[workload].perBackend[backend];
    return (p.base + p.transfer) * p.correction;
  }
  double transfer(int workload, int backend) const {
    return workloads[workload].perBackend[backend].transfer;
  }
  double correction(int workload, int backend) const {
    return workloads[workload].perBackend[backend].correction;
  }
  PredictionSource source(int workload, int backend) const {
    return workloads[workload].perBackend[backend].source;
  }
  /// A task of `workload` took `observedS` on `backend`: moves the
  /// correction towards observed / uncorrected.
  void observe(int workload, int backend, double observedS);
  /// Back to no correction (each benchmarked policy starts fresh).
  void resetCorrections();

  /// Roofline estimate (no database): exposed for tests.
  double rooflineSeconds(const WorkloadInfo &info,
                         const BackendSpec &backend) const;

private:
  struct PerBackend {
    bool runnable = false;
    double base = 0, transfer = 0, correction = 1;
    PredictionSource source = PredictionSource::Roofline;
  };
  struct Entry {
    WorkloadInfo info;
    std::vector<PerBackend> perBackend;
  };
  void computeBase(Entry &entry, const ScheduleIndex *index);

  std::vector<BackendSpec> specs;
  PredictorOptions options;
  std::vector<Entry> workloads;
  std::unordered_map<std::string, int> byKey;
};

} // namespace hatc::coord

#endif // HATC_COORD_LATENCYMODEL_H
