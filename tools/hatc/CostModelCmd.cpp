//===- CostModelCmd.cpp - hatc model train: a cross-task cost model -------===//
//
// `hatc model train --db DB [--target T] [-o FILE]` trains one cost model
// per target kind on every record of that kind in the database (every
// task, other machines' records weighed by how close their fingerprint is)
// and saves it where `hatc tune` looks for it: DB.KIND.xtask.model
// (tuner/CrossTask.h).
//
// `hatc model corpus --target T --db DB` tunes synthetic tasks of the op
// classes the target has schedule spaces for into the database, so that
// the model trained next has more shapes to learn from than the user's own
// tasks (tuner/Corpus.h).
//
//===----------------------------------------------------------------------===//
#include "Commands.h"
#include "Flags.h"
#include "Output.h"
#include "hatc/CostModel/CostModel.h"
#include "hatc/Lowering/Registration.h"
#include "hatc/Measure/Harness.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Corpus.h"
#include "hatc/Tuner/Recording.h"
#include "hatc/Tuner/CrossTask.h"
#include "hatc/Tuner/Tuner.h"

#include "mlir/IR/MLIRContext.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <csignal>
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
  if (llvm::Error err =
          refuseOutputOverInputs("-o", outPath, {{"the database", dbPath}}))
    return reportError(std::move(err));
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
    // A key that left nothing out is likely misspelt: the model then
    // trains on the task it was meant to be blind to.
    for (const std::string &key : exclude)
      if (!data.excluded.count(key))
        llvm::errs() << "hatc model train: warning: --exclude " << key
                     << ": no " << kind << " record has this workload key; "
                     << "nothing was left out for it\n";
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

/// The op classes of --classes (every class T has a space for when empty).
llvm::Expected<std::vector<tuner::CorpusClass>>
corpusClasses(const std::string &list, TargetKind kind,
              const std::string &targetSpec) {
  std::vector<tuner::CorpusClass> spaced = tuner::corpusClassesFor(kind);
  if (list.empty())
    return spaced;
  std::vector<tuner::CorpusClass> chosen;
  llvm::SmallVector<llvm::StringRef> names;
  llvm::StringRef(list).split(names, ',');
  for (llvm::StringRef name : names) {
    auto opClass = tuner::parseCorpusClass(name.trim());
    if (!opClass)
      return makeError("hatc model corpus: --classes: unknown op class '" +
                       name.str() +
                       "' (expected matmul, batch_matmul, conv or depthwise)");
    if (!llvm::is_contained(spaced, *opClass))
      return makeError("hatc model corpus: --classes: " + name.str() +
                       " has no schedule space on " + targetSpec);
    if (!llvm::is_contained(chosen, *opClass))
      chosen.push_back(*opClass);
  }
  return chosen;
}

/// Tunes each task of the module at `modulePath` into the database: random
/// samples first (what a new task's first trials are drawn from), then the
/// guided search from them (the configs near the best, where a model must
/// tell close ones apart). `hatc tune` resumes each from what the database
/// holds. Returns the exit code.
int tuneCorpus(const std::vector<tuner::CorpusTask> &tasks,
               const std::string &modulePath, const std::string &targetSpec,
               TargetKind kind, const std::string &dbPath, int64_t trials,
               int64_t seed) {
  std::vector<std::string> failed;
  for (size_t k = 0; k < tasks.size(); ++k) {
    const tuner::CorpusTask &task = tasks[k];
    llvm::errs() << "hatc model corpus: task " << k + 1 << "/" << tasks.size()
                 << " " << task.name << "\n";
    for (auto [search, total] : {std::pair<std::string, int64_t>{"random", trials},
                                 {"xgboost", 2 * trials}}) {
      Args tune = {modulePath, "--entry", task.name, "--target", targetSpec,
                   "--db", dbPath, "--trials", std::to_string(total),
                   "--seed", std::to_string(seed), "--search", search,
                   "--confirm", "0"};
      if (kind == TargetKind::Hwacc)
        tune.push_back("--no-check"); // modeled cycles: the data is moot
      int rc = tuneCommand(tune);
      if (rc == 128 + SIGINT || rc == 128 + SIGTERM)
        return rc; // interrupted: a later run resumes
      if (rc != kExitOk) {
        failed.push_back(task.name);
        break;
      }
    }
  }
  if (!failed.empty())
    return reportError(makeError(
        "hatc model corpus: " + std::to_string(failed.size()) + " of " +
        std::to_string(tasks.size()) + " tasks failed to tune (" +
        llvm::join(failed, ", ") + "); the others are in " + dbPath));
  llvm::outs() << "hatc model corpus: " << tasks.size() << " tasks in "
               << dbPath << "; next: hatc model train --db " << dbPath
               << "\n";
  return kExitOk;
}

int modelCorpus(const Args &args) {
  std::string dbPath, targetSpec = "cpu", classList, emitPath;
  int64_t count = 160, trials = 24, seed = 1;
  FlagParser parser(
      "hatc model corpus",
      "Draws synthetic tasks (matmuls, batch matmuls, convs, depthwise convs "
      "of the\nshapes DNN layers use) and tunes each into the database: "
      "--trials random\nsamples of its space, then as many trials of the "
      "guided search. A cross-task\nmodel trained afterwards (hatc model "
      "train) has these shapes to learn from\nbesides the user's own tasks. "
      "Running it again resumes.");
  parser.option("--db", &dbPath, "DB", "the tuning database (required)");
  parser.option("--target", &targetSpec, "T", "the target (default cpu)");
  parser.option("--tasks", &count, "N", "synthetic tasks (default 160)", 1);
  parser.option("--trials", &trials, "N",
                "random samples a task, then as many guided trials "
                "(default 24)",
                1);
  parser.option("--seed", &seed, "S",
                "draws the tasks; the same seed draws the same tasks "
                "(default 1)",
                0);
  parser.option("--classes", &classList, "C,...",
                "op classes: matmul, batch_matmul, conv, depthwise (default: "
                "those the target has schedule spaces for)");
  parser.option("--emit", &emitPath, "FILE",
                "also write the tasks' module here; '-' prints it and stops "
                "(so does a FILE without --db)");
  if (auto exit = parseFlags(parser, args))
    return *exit;
  if (dbPath.empty() && emitPath.empty())
    return reportError(makeError("hatc model corpus: missing --db DB"));
  if (llvm::Error err =
          refuseOutputOverInputs("--emit", emitPath, {{"the database", dbPath}}))
    return reportError(std::move(err));
  auto target = resolveTarget(targetSpec);
  if (!target)
    return reportError(target.takeError());
  auto classes = corpusClasses(classList, target->kind, targetSpec);
  if (!classes)
    return reportError(classes.takeError());
  if (classes->empty())
    return reportError(makeError("hatc model corpus: " + targetSpec +
                                 " has no op class to draw tasks of"));
  std::vector<tuner::CorpusTask> tasks =
      tuner::drawCorpus(size_t(count), uint64_t(seed), *classes);
  if (tasks.size() < size_t(count))
    llvm::errs() << "hatc model corpus: warning: the classes hold "
                 << tasks.size() << " distinct shapes, not " << count << "\n";
  std::string module = tuner::corpusModule(tasks);
  auto writeModule = [&](const std::string &path) {
    return writeOutputFile(path, [&](llvm::raw_ostream &os) { os << module; });
  };
  if (!emitPath.empty())
    if (llvm::Error err = writeModule(emitPath))
      return reportError(makeError("hatc model corpus: " +
                                   errorMessage(std::move(err))));
  if (emitPath == "-" || dbPath.empty())
    return kExitOk;
  // Opened once here (created when missing): a database every task would
  // fail on (not one, damaged, a newer schema) is said once, up front.
  tuner::openStore(dbPath).reset();

  // The workers load the tasks from a file: --emit's, else a scratch one.
  llvm::SmallString<128> scratch;
  auto removeScratch = llvm::make_scope_exit([&] {
    if (!scratch.empty())
      llvm::sys::fs::remove_directories(scratch);
  });
  std::string modulePath = emitPath;
  if (modulePath.empty()) {
    auto folder = createScratchFolder("hatc-corpus");
    if (!folder)
      return reportError(makeError("hatc model corpus: " +
                                   llvm::toString(folder.takeError())));
    scratch = *folder;
    modulePath = (scratch + "/corpus.mlir").str();
    if (llvm::Error err = writeModule(modulePath))
      return reportError(makeError("hatc model corpus: " +
                                   errorMessage(std::move(err))));
  }
  return tuneCorpus(tasks, modulePath, targetSpec, target->kind, dbPath,
                    trials, seed);
}

} // namespace

int modelCommand(const Args &args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    return printGroupUsage(
        !args.empty(),
        "usage: hatc model train --db DB [--target T] [-o FILE] "
        "[--exclude KEY]...\n"
        "       hatc model corpus --db DB [--target T] [--tasks N] "
        "[--trials N] [--seed S]\n"
        "                         [--classes C,...] [--emit FILE]\n\n"
        "Cross-task cost models (hatc model train --help, "
        "hatc model corpus --help).\n");
  }
  if (args[0] == "train")
    return modelTrain(Args(args.begin() + 1, args.end()));
  if (args[0] == "corpus")
    return modelCorpus(Args(args.begin() + 1, args.end()));
  return reportError(makeError("hatc model: unknown subcommand '" + args[0] +
                               "' (expected train or corpus)"));
}

} // namespace hatc
