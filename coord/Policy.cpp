//===- Policy.cpp - Queue state and policies ------------------------------===//
//
// Everything a dispatch decision reads, kept free of MLIR so that a decision
// is a few array reads (the Google Benchmark in bench/coord_overhead.cpp
// holds it to about a microsecond) and the simulator can run it at scale.
//
//===----------------------------------------------------------------------===//
#include "hatc/Coord/Policy.h"

#include <algorithm>
#include <limits>
#include <map>

namespace hatc::coord {

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

} // namespace hatc::coord
