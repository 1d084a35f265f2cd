//===- Commands.h - hatc's subcommands ------------------------*- C++ -*-===//
#ifndef HATC_TOOLS_COMMANDS_H
#define HATC_TOOLS_COMMANDS_H

#include "llvm/Support/Error.h"

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

class FlagParser;
/// Parses a subcommand's flags: returns the exit code to stop with (after
/// printing the error, or the usage for --help), or nullopt to go on.
std::optional<int> parseFlags(FlagParser &parser, const Args &args);

} // namespace hatc

#endif // HATC_TOOLS_COMMANDS_H
