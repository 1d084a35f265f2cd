//===- Policy.cpp - Backends, latency predictions, queues and policies ----===//
//
// Everything a dispatch decision reads, kept free of MLIR so that a decision
// is a few array reads (the Google Benchmark in bench/coord_overhead.cpp
// holds it to about a microsecond) and the simulator can run it at scale.
//
//===----------------------------------------------------------------------===//
#include "hatc/Coord/Coordinator.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <thread>

namespace hatc::coord {

const char *backendKindName(BackendKind kind) {
  switch (kind) {
  case BackendKind::Cpu:
    return "cpu";
  case BackendKind::Hwacc:
    return "hwacc";
  case BackendKind::Gpu:
    return "gpu";
  }
  return "?";
}

const char *opKindName(OpKind kind) {
  switch (kind) {
  case OpKind::Gemm:
    return "gemm";
  case OpKind::Conv:
    return "conv";
  case OpKind::Elementwise:
    return "elementwise";
  case OpKind::Other:
    return "other";
  }
  return "?";
}

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

WarnFn stderrWarn() {
  return [](const std::string &message) {
    llvm::errs() << "hatc: warning: " << message << "\n";
  };
}

BackendSpec cpuBackend(int cores, int threadsPerTask) {
  BackendSpec spec;
  spec.name = "cpu";
  spec.kind = BackendKind::Cpu;
  if (cores <= 0)
    cores = int(std::max(1u, std::thread::hardware_concurrency()));
  spec.threadsPerTask = std::clamp(threadsPerTask, 1, cores);
  spec.slots = std::max(1, cores / spec.threadsPerTask);
  spec.targetKind = "cpu";
  if (auto target = resolveTarget("cpu")) {
    spec.targetName = target->name;
    spec.fingerprint = target->fingerprint();
  } else {
    llvm::consumeError(target.takeError());
  }
  return spec;
}

llvm::Expected<BackendSpec> hwaccBackend(const std::string &targetSpec,
                                         const std::string &name,
                                         double transferBytesPerS) {
  auto target = resolveTarget(targetSpec);
  if (!target)
    return target.takeError();
  if (target->kind != TargetKind::Hwacc)
    return makeError(targetSpec + ": not a hwacc target (kind " +
                     targetKindName(target->kind) + ")");
  BackendSpec spec;
  spec.name = name;
  spec.kind = BackendKind::Hwacc;
  spec.slots = 1;
  spec.transferBytesPerS = transferBytesPerS;
  spec.targetKind = "hwacc";
  spec.targetName = target->name;
  spec.fingerprint = target->fingerprint();
  std::string origin = target->path.empty() ? targetSpec : target->path;
  if (auto error = HwaccParams::fromJson(target->params, origin, spec.hwacc))
    return makeError(*error);
  return spec;
}

//===----------------------------------------------------------------------===//
// LatencyModel
//===----------------------------------------------------------------------===//

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

//===----------------------------------------------------------------------===//
// QueueModel
//===----------------------------------------------------------------------===//

QueueModel::QueueModel(const std::vector<BackendSpec> &backends) {
  for (const BackendSpec &spec : backends)
    slotFree.emplace_back(size_t(std::max(1, spec.slots)), 0.0);
}

double QueueModel::assign(int b, double now, double seconds) {
  std::vector<double> &slots = slotFree[b];
  auto slot = std::min_element(slots.begin(), slots.end());
  *slot = std::max(*slot, now) + seconds;
  return *slot;
}

void QueueModel::rebuild(int b, double now,
                         const std::vector<double> &runningEnds,
                         const std::vector<double> &queued) {
  std::vector<double> &slots = slotFree[b];
  std::fill(slots.begin(), slots.end(), now);
  for (size_t i = 0; i < runningEnds.size() && i < slots.size(); ++i)
    slots[i] = std::max(now, runningEnds[i]);
  for (double seconds : queued)
    assign(b, now, seconds);
}

void QueueModel::reset() {
  for (std::vector<double> &slots : slotFree)
    std::fill(slots.begin(), slots.end(), 0.0);
}

//===----------------------------------------------------------------------===//
// Policies
//===----------------------------------------------------------------------===//

const char *policyKindName(PolicyKind kind) {
  switch (kind) {
  case PolicyKind::Dynamic:
    return "dynamic";
  case PolicyKind::AllCpu:
    return "all-cpu";
  case PolicyKind::AllHwacc:
    return "all-hwacc";
  case PolicyKind::RoundRobin:
    return "round-robin";
  case PolicyKind::StaticByOp:
    return "static-by-op";
  }
  return "?";
}

const std::vector<PolicyKind> &allPolicyKinds() {
  static const std::vector<PolicyKind> kinds = {
      PolicyKind::Dynamic, PolicyKind::AllCpu, PolicyKind::AllHwacc,
      PolicyKind::RoundRobin, PolicyKind::StaticByOp};
  return kinds;
}

std::optional<PolicyKind> parsePolicyKind(std::string_view name) {
  for (PolicyKind kind : allPolicyKinds())
    if (name == policyKindName(kind))
      return kind;
  return std::nullopt;
}

Policy::~Policy() = default;

namespace {

bool usable(const LatencyModel &model, int workload, int backend,
            const std::vector<bool> &allowed) {
  return model.canRun(workload, backend) &&
         (allowed.empty() || allowed[backend]);
}

/// Earliest expected finish time: the backend whose first free slot plus
/// the corrected prediction (compute + transfer) ends first.
class DynamicPolicy : public Policy {
public:
  PolicyKind kind() const override { return PolicyKind::Dynamic; }
  bool learns() const override { return true; }
  int choose(int workload, double now, const LatencyModel &model,
             const QueueModel &queues,
             const std::vector<bool> &allowed) override {
    int best = -1;
    double bestFinish = std::numeric_limits<double>::infinity();
    size_t count = queues.backendCount();
    for (size_t b = 0; b < count; ++b) {
      if (!usable(model, workload, int(b), allowed))
        continue;
      double finish =
          queues.availableAt(int(b), now) + model.predict(workload, int(b));
      if (finish < bestFinish) {
        bestFinish = finish;
        best = int(b);
      }
    }
    return best;
  }
};

/// Tasks go round-robin over a group of backends; a task none of the group
/// can run (or all of which it failed on) goes to the first usable backend
/// outside it (for all-hwacc: elementwise ops go to the CPU).
class GroupPolicy : public Policy {
public:
  GroupPolicy(PolicyKind policyKind, std::vector<std::vector<int>> groupOf)
      : policyKind(policyKind), groupOf(std::move(groupOf)),
        next(this->groupOf.size(), 0) {}
  PolicyKind kind() const override { return policyKind; }
  int choose(int workload, double now, const LatencyModel &model,
             const QueueModel &queues,
             const std::vector<bool> &allowed) override {
    const std::vector<int> &group = groupOf[workload];
    for (size_t tries = 0; tries < group.size(); ++tries) {
      int b = group[next[workload]++ % group.size()];
      if (usable(model, workload, b, allowed))
        return b;
    }
    for (size_t b = 0; b < queues.backendCount(); ++b)
      if (usable(model, workload, int(b), allowed))
        return int(b);
    return -1;
  }

private:
  PolicyKind policyKind;
  std::vector<std::vector<int>> groupOf; // per workload
  std::vector<size_t> next;              // per workload
};

/// Round-robin over every backend that can run the task, one counter for
/// the whole stream.
class RoundRobinPolicy : public Policy {
public:
  PolicyKind kind() const override { return PolicyKind::RoundRobin; }
  int choose(int workload, double now, const LatencyModel &model,
             const QueueModel &queues,
             const std::vector<bool> &allowed) override {
    size_t count = queues.backendCount();
    for (size_t tries = 0; tries < count; ++tries) {
      int b = int(next++ % count);
      if (usable(model, workload, b, allowed))
        return b;
    }
    return -1;
  }

private:
  size_t next = 0;
};

std::vector<int> backendsOfKind(const LatencyModel &model, BackendKind kind) {
  std::vector<int> out;
  for (size_t b = 0; b < model.backends().size(); ++b)
    if (model.backends()[b].kind == kind)
      out.push_back(int(b));
  return out;
}

/// Backends grouped by target (kind + fingerprint): identical devices are
/// one choice for the static map.
std::vector<std::vector<int>> targetGroups(const LatencyModel &model) {
  std::map<std::string, std::vector<int>> groups;
  std::vector<std::string> order;
  for (size_t b = 0; b < model.backends().size(); ++b) {
    const BackendSpec &spec = model.backends()[b];
    std::string key = spec.targetKind + "|" + spec.fingerprint + "|" +
                      (spec.fingerprint.empty() ? spec.name : "");
    if (!groups.count(key))
      order.push_back(key);
    groups[key].push_back(int(b));
  }
  std::vector<std::vector<int>> out;
  for (const std::string &key : order)
    out.push_back(groups[key]);
  return out;
}

} // namespace

std::unique_ptr<Policy> makePolicy(PolicyKind kind, const LatencyModel &model) {
  size_t count = model.workloadCount();
  switch (kind) {
  case PolicyKind::Dynamic:
    return std::make_unique<DynamicPolicy>();
  case PolicyKind::RoundRobin:
    return std::make_unique<RoundRobinPolicy>();
  case PolicyKind::AllCpu:
  case PolicyKind::AllHwacc: {
    std::vector<int> group = backendsOfKind(
        model, kind == PolicyKind::AllCpu ? BackendKind::Cpu
                                          : BackendKind::Hwacc);
    return std::make_unique<GroupPolicy>(
        kind, std::vector<std::vector<int>>(count, group));
  }
  case PolicyKind::StaticByOp: {
    // Per op kind, the one target (a group of identical devices counts as
    // one) with the lowest total predicted time over the workloads of that
    // kind, each group's prediction divided by its total slots (identical
    // devices share the work). Decided once, before any task runs.
    std::vector<std::vector<int>> groups = targetGroups(model);
    std::map<OpKind, std::vector<double>> cost;
    for (size_t w = 0; w < count; ++w) {
      std::vector<double> &c = cost[model.workload(int(w)).op];
      c.resize(groups.size(), 0.0);
      for (size_t g = 0; g < groups.size(); ++g) {
        int first = groups[g].front();
        if (!model.canRun(int(w), first)) {
          c[g] = std::numeric_limits<double>::infinity();
          continue;
        }
        int slots = 0;
        for (int b : groups[g])
          slots += model.backends()[b].slots;
        c[g] += model.predict(int(w), first) / std::max(1, slots);
      }
    }
    std::map<OpKind, size_t> bestGroup;
    for (auto &[op, c] : cost)
      bestGroup[op] = size_t(std::min_element(c.begin(), c.end()) - c.begin());
    std::vector<std::vector<int>> groupOf(count);
    for (size_t w = 0; w < count; ++w)
      groupOf[w] = groups[bestGroup[model.workload(int(w)).op]];
    return std::make_unique<GroupPolicy>(kind, std::move(groupOf));
  }
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Results and streams
//===----------------------------------------------------------------------===//

RunSummary summarize(const std::string &policy, const std::string &mode,
                     const std::vector<BackendSpec> &backends,
                     const std::vector<TaskResult> &results) {
  RunSummary summary;
  summary.policy = policy;
  summary.mode = mode;
  summary.tasks = int(results.size());
  for (const BackendSpec &spec : backends)
    summary.backends.push_back({spec.name, 0, 0, 0});
  double first = std::numeric_limits<double>::infinity(), last = 0;
  for (const TaskResult &r : results) {
    first = std::min(first, r.submitS);
    last = std::max(last, r.endS);
    summary.retries += int(r.failures.size());
    if (!r.ok) {
      ++summary.failedTasks;
      continue;
    }
    BackendUsage &usage = summary.backends[r.backend];
    ++usage.tasks;
    usage.busyS += r.endS - r.startS;
  }
  summary.makespanS = results.empty() ? 0 : last - first;
  summary.throughput =
      summary.makespanS > 0 ? summary.tasks / summary.makespanS : 0;
  for (size_t b = 0; b < backends.size(); ++b)
    summary.backends[b].utilization =
        summary.makespanS > 0
            ? summary.backends[b].busyS /
                  (std::max(1, backends[b].slots) * summary.makespanS)
            : 0;
  return summary;
}

std::vector<StreamTask> makeStream(size_t workloads,
                                   const std::vector<double> &weights,
                                   size_t count, uint64_t seed) {
  std::vector<double> w = weights;
  if (w.size() != workloads)
    w.assign(workloads, 1.0);
  std::mt19937_64 rng(seed);
  std::discrete_distribution<int> pick(w.begin(), w.end());
  std::vector<StreamTask> stream(count);
  for (StreamTask &task : stream)
    task.workload = pick(rng);
  return stream;
}

} // namespace hatc::coord
