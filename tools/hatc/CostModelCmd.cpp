//===- CostModelCmd.cpp - hatc model train: a cross-task cost model -------===//
//
// `hatc model train --db DB [--target T] [-o FILE]` trains one cost model
// per target kind on every record of that kind in the database (every
// task, other machines' records weighed by how close their fingerprint is)
// and saves it where `hatc tune` looks for it: DB.KIND.xtask.model
// (tuner/CrossTask.h).
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Flags.h"
#include "hatc/CostModel/CostModel.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/CrossTask.h"
#include "hatc/Tuner/Tuner.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/Support/raw_ostream.h"

#include <set>

namespace hatc {
namespace {

int modelTrain(const Args &args) {
  std::string dbPath, targetSpec, outPath;
  std::vector<std::string> excluded;
  FlagParser parser(
      "hatc model train",
      "Trains one cost model per target kind on every record of that kind "
      "in the\ndatabase (all tasks and shapes; records of other machines "
      "weighed by how\nclose their fingerprint is to this one's) and saves "
      "it as DB.KIND.xtask.model,\nwhere hatc tune finds it and uses it from "
      "the first trial of a new task.");
  parser.option("--db", &dbPath, "DB", "the tuning database (required)");
  parser.option("--target", &targetSpec, "T",
                "only this target's kind, weighed against its fingerprint "
                "(default: every kind in the database)");
  parser.option("-o", &outPath, "FILE",
                "write the model here instead (needs --target)");
  parser.repeated("--exclude", &excluded, "WORKLOAD_KEY",
                  "leave this workload's records out (leave-one-task-out)");
  if (auto exit = parseFlags(parser, args))
    return *exit;
  if (dbPath.empty())
    return reportError(makeError("hatc model train: missing --db DB"));
  if (!outPath.empty() && targetSpec.empty())
    return reportError(makeError(
        "hatc model train: -o FILE needs --target T (one model per kind)"));

  std::unique_ptr<db::Database> database;
  try {
    db::OpenOptions open;
    open.readOnly = true;
    database = db::Database::open(dbPath, open);
  } catch (const std::exception &e) {
    return reportError(makeError(std::string("hatc model train: ") + e.what()));
  }

  // The kinds to train, each with the fingerprint its weights are against.
  std::vector<Target> targets;
  if (!targetSpec.empty()) {
    auto target = resolveTarget(targetSpec);
    if (!target)
      return reportError(target.takeError());
    targets.push_back(*target);
  } else {
    std::set<std::string> kinds;
    database->forEachRecord(
        [&](const db::Record &r) { kinds.insert(r.targetKind); });
    for (const std::string &kind : kinds) {
      auto target = resolveTarget(kind);
      if (!target)
        return reportError(makeError("hatc model train: " + dbPath +
                                     ": records of target kind '" + kind +
                                     "': " + errorMessage(target.takeError())));
      targets.push_back(*target);
    }
    if (targets.empty())
      return reportError(makeError("hatc model train: " + dbPath +
                                   " has no records to train on"));
  }

  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  initContext(context);
  std::set<std::string> exclude(excluded.begin(), excluded.end());
  tuner::TuneOptions tuneDefaults; // the tuner's objective, so it matches
  for (const Target &target : targets) {
    std::string kind = targetKindName(target.kind);
    tuner::CrossTaskSamples data = tuner::crossTaskSamples(
        *database, context, kind, target.fingerprint(), exclude);
    for (const std::string &line : data.skipped)
      llvm::errs() << "hatc model train: warning: skipped " << line << "\n";
    if (data.samples.size() < 2)
      return reportError(makeError("hatc model train: " + dbPath + " has " +
                                   std::to_string(data.samples.size()) +
                                   " usable " + kind +
                                   " records; at least 2 are needed"));
    std::string path =
        outPath.empty() ? tuner::crossTaskModelPath(dbPath, kind) : outPath;
    try {
      cost_model::XGBoostOptions options;
      options.objective = tuneDefaults.objective;
      auto model = cost_model::makeXGBoostModel(options);
      model->update(data.samples);
      model->save(path);
    } catch (const std::exception &e) {
      return reportError(
          makeError(std::string("hatc model train: ") + e.what()));
    }
    llvm::outs() << "hatc model train: " << kind << ": " << path << " ("
                 << data.samples.size() << " records from " << data.tasks
                 << " tasks)\n";
  }
  return kExitOk;
}

} // namespace

int modelCommand(const Args &args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    llvm::outs() << "usage: hatc model train --db DB [--target T] [-o FILE] "
                    "[--exclude KEY]...\n\n"
                    "Cross-task cost models (hatc model train --help).\n";
    return args.empty() ? kExitUserError : kExitOk;
  }
  if (args[0] == "train")
    return modelTrain(Args(args.begin() + 1, args.end()));
  return reportError(makeError("hatc model: unknown subcommand '" + args[0] +
                               "' (expected train)"));
}

} // namespace hatc
