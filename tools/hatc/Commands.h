//===- Commands.h - hatc's subcommands ------------------------*- C++ -*-===//
#ifndef HATC_TOOLS_COMMANDS_H
#define HATC_TOOLS_COMMANDS_H

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>
#include <string>
#include <vector>

namespace hatc {

/// Exit codes shared by every subcommand.
enum ExitCode : int {
  kExitOk = 0,
  kExitUserError = 1,   // bad flag, bad input file, failed schedule, ...
  kExitCheckFailed = 2, // the kernel ran but its result is wrong
};

using Args = std::vector<std::string>;

int importCommand(const Args &args);
int runCommand(const Args &args);
int compileCommand(const Args &args);
int bestCommand(const Args &args);
int replayCommand(const Args &args);
int exportCommand(const Args &args);
int dbCommand(const Args &args);
int spaceCommand(const Args &args);
int measureCommand(const Args &args);
int tuneCommand(const Args &args);
int modelCommand(const Args &args);
int reportCommand(const Args &args);
int coordCommand(const Args &args);

/// Prints "hatc: error: <message>" and returns kExitUserError.
int reportError(llvm::Error err);

namespace db {
struct Record;
}

/// hatc replay --remeasure: what to measure again and where to record it.
struct RemeasureOptions {
  std::string dbPath;
  int64_t top = 0;     // configs a task
  int64_t threads = 0; // 0: the target's, else one per core
  int64_t repeat = 3;
  bool check = true;
};
struct RemeasureStats {
  size_t measured = 0, failed = 0, skipped = 0;
};
/// Measures each task's `top` best distinct configs of `log` (records
/// that ran, ranked by GFLOP/s) on this machine, as `hatc measure` does,
/// and records the results in the database: records of this machine and
/// this build, beside the imported ones. Configs that do not apply here
/// (more threads than this machine runs) and tasks without IR in the log,
/// or on the GPU, are reported and skipped. One line a task to `report`.
llvm::Expected<RemeasureStats>
remeasureReplayed(const std::vector<db::Record> &log,
                  const RemeasureOptions &options, llvm::raw_ostream &report);

class FlagParser;
/// Parses a subcommand's flags: returns the exit code to stop with (after
/// printing the error, or the usage for --help), or nullopt to go on.
std::optional<int> parseFlags(FlagParser &parser, const Args &args);

} // namespace hatc

#endif // HATC_TOOLS_COMMANDS_H
