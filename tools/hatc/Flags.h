//===- Flags.h - A small declarative flag parser for hatc's subcommands ---===//
//
// Each subcommand declares its flags and positionals; parse() fails with one
// line naming the bad flag or value. llvm::cl is not used here because the
// hatc binary links libLLVM, whose hundreds of global options would flood
// every subcommand's --help.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TOOLS_FLAGS_H
#define HATC_TOOLS_FLAGS_H

#include "llvm/Support/Error.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hatc {

class FlagParser {
public:
  FlagParser(std::string command, std::string summary)
      : command(std::move(command)), summary(std::move(summary)) {}

  void flag(const std::string &name, bool *out, const std::string &help);
  void option(const std::string &name, std::string *out,
              const std::string &metavar, const std::string &help);
  /// An option that may be given several times; each value is appended.
  void repeated(const std::string &name, std::vector<std::string> *out,
                const std::string &metavar, const std::string &help);
  /// Integer option with inclusive bounds.
  void option(const std::string &name, int64_t *out, const std::string &metavar,
              const std::string &help, int64_t minimum = 0,
              int64_t maximum = INT64_MAX);
  void positional(const std::string &name, std::string *out,
                  const std::string &help, bool required = true);

  /// Parses args (after the subcommand). Sets helpRequested on -h/--help.
  llvm::Error parse(const std::vector<std::string> &args);
  bool helpRequested() const { return wantsHelp; }
  std::string usage() const;
  /// Whether `name` was given on the command line.
  bool given(const std::string &name) const;

private:
  struct Spec {
    std::string name, metavar, help;
    bool takesValue = false;
    std::function<llvm::Error(const std::string &)> set;
  };
  struct Positional {
    std::string name, help;
    std::string *out;
    bool required;
  };
  std::string command, summary;
  std::vector<Spec> specs;
  std::vector<Positional> positionals;
  std::vector<std::string> seen;
  bool wantsHelp = false;
};

/// `text` (the value of `flag`) as a finite number >= 0; the error names the
/// flag and the text ("--rtol: expected a finite number >= 0, got 'nan'").
llvm::Expected<double> parseNonNegative(const std::string &flag,
                                        const std::string &text);

/// A command group's usage (`hatc db`, `hatc model`, `hatc coord`): asked
/// for (`asked`, --help), on stdout and exit 0; for a missing subcommand, on
/// stderr and exit 1, as bare `hatc` does.
int printGroupUsage(bool asked, const std::string &usage);

/// What a duration flag accepts: more than 0 or also 0, up to `max`.
struct SecondsRange {
  bool positive = false;
  double max = HUGE_VAL;
};

/// `text` (the value of `flag`) as seconds within `range`; the one message
/// of every duration flag ("--time-budget: expected seconds, a number >= 0,
/// got 'nan'").
llvm::Expected<double> parseSeconds(const std::string &flag,
                                    const std::string &text,
                                    SecondsRange range = {});

} // namespace hatc

#endif // HATC_TOOLS_FLAGS_H
