//===- Policy.h - Queue state and the policies that place tasks -*- C++ -*-===//
//
// QueueModel: per backend, the expected time each of its slots frees up (cpu:
// one slot per core group, hwacc: one). Policy: picks a backend for a task:
// dynamic (earliest expected finish time) or a static baseline (all-cpu,
// all-hwacc, round-robin, static-by-op).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COORD_POLICY_H
#define HATC_COORD_POLICY_H

#include "hatc/Coord/Backend.h"
#include "hatc/Coord/LatencyModel.h"

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace hatc::coord {

/// Expected free time of every slot of every backend (seconds on the
/// dispatcher's clock). A list-scheduling estimate: assign() puts a task on
/// the slot that frees first; rebuild() resets a backend from what is really
/// running and queued when a task ends.
class QueueModel {
public:
  explicit QueueModel(const std::vector<BackendSpec> &backends);
  /// When backend `b` could start one more task.
  double availableAt(int b, double now) const {
    double best = slotFree[b][0];
    for (double t : slotFree[b])
      best = t < best ? t : best;
    return best > now ? best : now;
  }
  /// Books `seconds` on backend `b`; returns the expected finish.
  double assign(int b, double now, double seconds);
  /// Running tasks' expected ends and queued tasks' predictions.
  void rebuild(int b, double now, const std::vector<double> &runningEnds,
               const std::vector<double> &queued);
  void reset();
  size_t backendCount() const { return slotFree.size(); }

private:
  std::vector<std::vector<double>> slotFree;
};

enum class PolicyKind { Dynamic, AllCpu, AllHwacc, RoundRobin, StaticByOp };
const char *policyKindName(PolicyKind kind);
/// "dynamic", "all-cpu", "all-hwacc", "round-robin", "static-by-op".
std::optional<PolicyKind> parsePolicyKind(std::string_view name);
const std::vector<PolicyKind> &allPolicyKinds();

/// Chooses a backend for each task. `allowed` excludes backends a task
/// already failed on (empty: all allowed).
class Policy {
public:
  virtual ~Policy();
  virtual PolicyKind kind() const = 0;
  /// The backend, or -1 when no allowed backend can run the workload.
  virtual int choose(int workload, double now, const LatencyModel &model,
                     const QueueModel &queues,
                     const std::vector<bool> &allowed) = 0;
  /// Whether observed run times feed LatencyModel::observe.
  virtual bool learns() const { return false; }
};

/// `model` must already hold every workload the policy will see (the
/// static-by-op map is computed here, from the predictions).
std::unique_ptr<Policy> makePolicy(PolicyKind kind, const LatencyModel &model);

} // namespace hatc::coord

#endif // HATC_COORD_POLICY_H
