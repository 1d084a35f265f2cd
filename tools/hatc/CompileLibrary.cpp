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
                   std::string name) {
  if (name.empty())
    name =
        deploy::identifierFromStem(llvm::sys::path::stem(request.workloadPath));
  else if (!deploy::isValidModelName(name))
    return reportError(makeError("hatc compile: --name expects a C "
                                 "identifier (at most 64 characters), got '" +
                                 name + "'"));
  auto compileLimit = compileTimeoutSeconds(request);
  if (!compileLimit)
    return reportError(compileLimit.takeError());
  CompileWatchdog watchdog(*compileLimit, "compiling " + request.workloadPath +
                                              " into a library for " +
                                              request.targetSpec);
  auto inputs = loadCompileInputs(request);
  if (!inputs)
    return reportError(inputs.takeError());
  // The schedule was chosen by loadCompileInputs, as for every command;
  // with --db it listed each task's source on stderr.
  llvm::errs() << "hatc compile: " << name << ": schedule: "
               << inputs->scheduleName << "\n";
  deploy::DeployOptions options;
  options.name = name;
  options.outDir = outDir;
  options.source = request.workloadPath;
  auto result = deploy::deployModel(inputs->workload, inputs->schedule.get(),
                                    inputs->lowering, options);
  if (!result)
    return reportError(result.takeError());
  llvm::errs() << "hatc compile: wrote " << result->libraryPath << " and "
               << result->headerPath << "\n";
  return kExitOk;
}

} // namespace hatc
