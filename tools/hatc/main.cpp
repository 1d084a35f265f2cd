//===- main.cpp - hatc: the hardware-adaptable tuning compiler CLI --------===//
#include "Commands.h"
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Support/Version.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <exception>

using namespace hatc;

namespace {

struct Subcommand {
  const char *name;
  int (*run)(const Args &);
  const char *summary;
};

const Subcommand kSubcommands[] = {
    {"import", importCommand, "an ONNX model as one MLIR module (linalg on tensors)"},
    {"run", runCommand, "compile a workload, run it, time it, check it"},
    {"compile", compileCommand, "show a workload at any stage: scheduled "
                                "MLIR, LLVM dialect, LLVM IR, asm, object"},
    {"best", bestCommand, "the best tuned record of a workload on a target"},
    {"replay", replayCommand, "import a JSON-lines tuning log into a database"},
    {"export", exportCommand, "write a database's records as a JSON-lines log"},
    {"db", dbCommand, "database maintenance: db stats"},
    {"model", modelCommand, "train a cross-task cost model; seed a database with synthetic tasks"},
    {"tune", tuneCommand, "search schedules with evolution + an XGBoost cost model"},
    {"report", reportCommand, "an HTML report of a tuning database"},
    {"measure", measureCommand, "measure a batch of configs in isolated workers"},
    {"space", spaceCommand, "a workload's schedule space: knobs, samples, scripts"},
    {"coord", coordCommand, "runtime coordinator: dispatch benchmark across backends"},
};

void printUsage(llvm::raw_ostream &os) {
  os << "usage: hatc <command> [args]   (hatc <command> --help for more)\n\n"
        "hatc compiles MLIR linalg workloads with transform-dialect "
        "schedules,\nruns them on the CPU or the hwacc accelerator model, "
        "and keeps tuning\nresults in a SQLite database.\n\ncommands:\n";
  for (const Subcommand &cmd : kSubcommands) {
    std::string name = cmd.name;
    name.resize(10, ' ');
    os << "  " << name << cmd.summary << "\n";
  }
}

} // namespace

int main(int argc, char **argv) {
  llvm::install_fatal_error_handler(
      [](void *, const char *reason, bool) {
        llvm::errs() << "hatc: fatal error: " << reason << "\n";
        std::_Exit(kExitUserError);
      },
      nullptr);
  if (argc < 2) {
    printUsage(llvm::errs());
    return kExitUserError;
  }
  std::string command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    printUsage(llvm::outs());
    return kExitOk;
  }
  if (command == "--version" || command == "version") {
    llvm::outs() << compilerVersion() << "\n";
    return kExitOk;
  }
  if (llvm::Error error = checkPinnedFacts()) {
    llvm::errs() << "hatc: error: " << llvm::toString(std::move(error))
                 << "\n";
    return kExitUserError;
  }
  Args args(argv + 2, argv + argc);
  for (const Subcommand &cmd : kSubcommands) {
    if (command != cmd.name)
      continue;
    try {
      int code = cmd.run(args);
      // Whatever a command printed on stdout is part of its result: a lost
      // write (a full disk) is an error, said once, not a fatal error at exit.
      llvm::outs().flush();
      if (std::error_code ec = llvm::outs().error()) {
        llvm::outs().clear_error();
        llvm::errs() << "hatc: error: cannot write <stdout>: " << ec.message()
                     << "\n";
        return kExitUserError;
      }
      return code;
    } catch (const std::exception &e) {
      llvm::errs() << "hatc: error: " << e.what() << "\n";
      return kExitUserError;
    }
  }
  llvm::errs() << "hatc: error: unknown command '" << command
               << "' (see 'hatc --help')\n";
  return kExitUserError;
}
