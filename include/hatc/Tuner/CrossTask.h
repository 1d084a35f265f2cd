//===- CrossTask.h - One cost model across the tasks of a target kind -*- C++
//-*-===//
//
// A cost model trained on every record of a target kind in the database
// (every task, every shape, other machines' records included) ranks the
// configs of a task it has never measured, so tuning a new task starts from
// what the others taught (TenSet, TLP; Ansor shares one model across a
// model's tasks). The features are shape-relative (Features.h, schema 3),
// the targets are throughputs normalized per task, and records of another
// machine count less the less its fingerprint looks like this one's.
//
// `hatc model train --db DB [--target T]` writes it to
// crossTaskModelPath(DB, kind); `hatc tune` loads it when present and keeps
// training on the pooled data with the task's own records weighed up.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TUNER_CROSSTASK_H
#define HATC_TUNER_CROSSTASK_H

#include "hatc/CostModel/CostModel.h"
#include "hatc/Db/Database.h"

#include "mlir/IR/MLIRContext.h"

#include <set>
#include <string>
#include <vector>

namespace hatc::tuner {

/// Where the cross-task model of `kind` lives next to the database:
/// DB.KIND.xtask.model (e.g. hatc.db.cpu.xtask.model).
std::string crossTaskModelPath(const std::string &dbPath,
                               const std::string &kind);

/// The model hatc tune trains on a cross-task prior (pooled with the tasks'
/// own samples) for tasks of target `kind`: `base`, except on "hwacc",
/// where the trees learn the analytical estimate's error
/// (XGBoostOptions::estimateMargin) at depth 2. The estimate follows the
/// deterministic device model closely; trees alone cannot extrapolate to a
/// shape the prior never held, and shallow corrections carry over to
/// another shape best. Leave-one-task-out on the hwacc pools of
/// bench/transfer.py: trees 0.86-0.87, on the estimate 0.90, on the
/// estimate at depth 2 0.92.
cost_model::XGBoostOptions pooledModelOptions(cost_model::XGBoostOptions base,
                                              const std::string &kind);

/// How much a record measured on `other` counts for tuning on `mine`, in
/// [0.25, 1]: 1 for the same fingerprint, less for each ':'-separated part
/// (kind, name or CPU model, cores, parameter or feature hash) that
/// differs.
double fingerprintWeight(const std::string &mine, const std::string &other);

/// The weight of the tuned task's own samples next to a cross-task prior:
/// they are what the model is finally judged on.
constexpr double kOwnSampleWeight = 4.0;

struct CrossTaskSamples {
  std::vector<cost_model::Sample> samples; // group: workloadKey@fingerprint
  size_t tasks = 0;                        // distinct groups
  std::vector<std::string> skipped;        // one line per unusable workload
  std::set<std::string> excluded; // keys of excludeKeys that had records
};

/// Samples of every record of `kind` in `database` (default schedules and
/// errors included, as the tuner trains on them), weighted by
/// fingerprintWeight against `fingerprint`; records of the workloads in
/// `excludeKeys` are left out (leave-one-task-out). Workloads whose IR the
/// database lacks or that no longer parse are skipped and named.
CrossTaskSamples
crossTaskSamples(db::Database &database, mlir::MLIRContext &context,
                 const std::string &kind, const std::string &fingerprint,
                 const std::set<std::string> &excludeKeys = {});

/// Distinct groups among `samples`.
size_t groupCount(const std::vector<cost_model::Sample> &samples);

/// The cost model's group of a task's samples: one workload (its key and
/// structural hash: a matmul + relu and a matmul + gelu of one shape share
/// a key) on one machine. The tuner and the cross-task samples agree on it.
std::string taskGroup(const std::string &workloadKey,
                      const std::string &workloadHash,
                      const std::string &fingerprint);

} // namespace hatc::tuner

#endif // HATC_TUNER_CROSSTASK_H
