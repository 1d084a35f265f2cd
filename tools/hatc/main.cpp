//===- main.cpp - hatc: the hardware-adaptable tuning compiler CLI --------===//
#include "Commands.h"
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Support/Version.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <unistd.h>

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
    {"compile", compileCommand, "build a workload or model: scheduled MLIR, "
                                "LLVM IR, asm, PTX, object, or a library"},
    {"best", bestCommand, "the best tuned record of a workload on a target"},
    {"replay", replayCommand, "import a JSON-lines tuning log into a database"},
    {"export", exportCommand, "write a database's records as a JSON-lines log"},
    {"db", dbCommand, "database maintenance: db stats, db copy"},
    {"model", modelCommand, "train a cross-task cost model; seed a database with synthetic tasks"},
    {"tune", tuneCommand, "search schedules with evolution + an XGBoost cost model"},
    {"report", reportCommand, "an HTML report of a tuning database"},
    {"measure", measureCommand, "measure a batch of configs in isolated workers"},
    {"space", spaceCommand, "a workload's schedule space: knobs, samples, scripts"},
    {"coord", coordCommand, "runtime coordinator: dispatch benchmark across backends"},
};

void printUsage(llvm::raw_ostream &os) {
  os << "usage: hatc <command> [args]   (hatc <command> --help for more)\n\n"
        "hatc compiles ONNX models and MLIR linalg workloads with "
        "transform-dialect\nschedules, tunes them on the CPU, an NVIDIA GPU "
        "or the hwacc accelerator\nmodel, and keeps the results in a tuning "
        "database (a SQLite file, or\nPostgreSQL when shared).\n\n"
        "commands:\n";
  for (const Subcommand &cmd : kSubcommands) {
    std::string name = cmd.name;
    name.resize(10, ' ');
    os << "  " << name << cmd.summary << "\n";
  }
}

/// A process started with stdin, stdout or stderr closed would hand that
/// number to the next file it opens (a kernel object, the database), and
/// its results would be written into that file. Each closed one is held by
/// /dev/null opened read-only, so that writes to it fail (EBADF) and are
/// reported as for any other unwritable stdout. Not close-on-exec: the
/// processes hatc starts (workers, the linker) inherit the same hold.
void holdClosedStandardStreams() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF)
      continue;
    int held = ::open("/dev/null", O_RDONLY);
    if (held != fd && held >= 0)
      ::close(held); // not the lowest free number: leave it as it was
  }
}

/// Whatever a command printed on stdout is part of its result: a lost write
/// (a full disk, a closed stdout) is an error, said once, not a fatal error
/// at exit.
int finishStdout(int code) {
  // stderr carries progress and diagnostics, not the result: one that
  // cannot be written (closed) does not fail the command at exit, as
  // LLVM's stream would ("IO failure on output stream", exit 1).
  llvm::errs().clear_error();
  llvm::outs().flush();
  std::error_code ec = llvm::outs().error();
  if (!ec)
    return code;
  llvm::outs().clear_error();
  llvm::errs() << "hatc: error: cannot write <stdout>: " << ec.message()
               << "\n";
  return kExitUserError;
}

} // namespace

int main(int argc, char **argv) {
  holdClosedStandardStreams();
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
    return finishStdout(kExitOk);
  }
  if (command == "--version" || command == "version") {
    llvm::outs() << compilerVersion() << "\n";
    return finishStdout(kExitOk);
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
      return finishStdout(cmd.run(args));
    } catch (const std::exception &e) {
      llvm::errs() << "hatc: error: " << e.what() << "\n";
      return kExitUserError;
    }
  }
  llvm::errs() << "hatc: error: unknown command '" << command
               << "' (see 'hatc --help')\n";
  return kExitUserError;
}
