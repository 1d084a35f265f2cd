//===- CompileLibrary.cpp - hatc compile --emit lib: a deployable library -===//
#include "CompileLibrary.h"
#include "Commands.h"
#include "hatc/Deploy/Deploy.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Recording.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

namespace hatc {

int compileLibrary(const CompileRequest &request, const std::string &outDir,
                   std::string name, const std::string &dbPath) {
  if (name.empty())
    name =
        deploy::identifierFromStem(llvm::sys::path::stem(request.workloadPath));
  else if (!deploy::isValidModelName(name))
    return reportError(makeError("hatc compile: --name expects a C "
                                 "identifier (at most 64 characters), got '" +
                                 name + "'"));
  // The per-task lookup of the database's best records comes with
  // model-wide tuning; it plugs in here as another deploy::ScheduleProvider.
  std::string note;
  if (!dbPath.empty()) {
    if (!llvm::sys::fs::exists(dbPath) &&
        !llvm::StringRef(dbPath).starts_with("postgresql://"))
      return reportError(makeError(dbPath + ": no such database"));
    db::OpenOptions options;
    options.readOnly = true;
    (void)tuner::openStore(dbPath, options); // throws, naming the problem
    note = "--db " + dbPath +
           ": no per-task lookup yet, every task uses the default schedule";
  }
  deploy::ScheduleProvider provider = deploy::defaultScheduleProvider(note);

  auto compileLimit = compileTimeoutSeconds(request);
  if (!compileLimit)
    return reportError(compileLimit.takeError());
  CompileWatchdog watchdog(*compileLimit, "compiling " + request.workloadPath +
                                              " into a library for " +
                                              request.targetSpec);
  auto inputs = loadCompileInputs(request);
  if (!inputs)
    return reportError(inputs.takeError());
  deploy::ModelSchedule schedule;
  if (!request.schedulePath.empty()) {
    schedule.script = std::move(inputs->schedule);
    schedule.sources.assign(inputs->workload.tasks.size(),
                            deploy::ScheduleSource::Given);
    schedule.note = "--schedule " + request.schedulePath;
  } else {
    auto provided = provider(inputs->workload, inputs->target);
    if (!provided)
      return reportError(provided.takeError());
    schedule = std::move(*provided);
  }
  llvm::errs() << "hatc compile: " << name << ": "
               << deploy::describeSchedule(inputs->workload, schedule);
  deploy::DeployOptions options;
  options.name = name;
  options.outDir = outDir;
  options.source = request.workloadPath;
  auto result = deploy::deployModel(inputs->workload, schedule,
                                    inputs->lowering, options);
  if (!result)
    return reportError(result.takeError());
  llvm::errs() << "hatc compile: wrote " << result->libraryPath << " and "
               << result->headerPath << "\n";
  return kExitOk;
}

} // namespace hatc
