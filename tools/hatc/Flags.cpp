//===- Flags.cpp - A small declarative flag parser ------------------------===//
#include "Flags.h"
#include "Commands.h"
#include "hatc/Support/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

namespace hatc {

void FlagParser::flag(const std::string &name, bool *out,
                      const std::string &help) {
  specs.push_back({name, "", help, false, [out](const std::string &) {
                     *out = true;
                     return llvm::Error::success();
                   }});
}

void FlagParser::option(const std::string &name, std::string *out,
                        const std::string &metavar, const std::string &help) {
  specs.push_back({name, metavar, help, true, [out](const std::string &v) {
                     *out = v;
                     return llvm::Error::success();
                   }});
}

void FlagParser::repeated(const std::string &name,
                          std::vector<std::string> *out,
                          const std::string &metavar, const std::string &help) {
  specs.push_back({name, metavar, help, true, [out](const std::string &v) {
                     out->push_back(v);
                     return llvm::Error::success();
                   }});
}

void FlagParser::option(const std::string &name, int64_t *out,
                        const std::string &metavar, const std::string &help,
                        int64_t minimum, int64_t maximum) {
  std::string cmd = command;
  specs.push_back(
      {name, metavar, help, true,
       [out, name, minimum, maximum,
        cmd](const std::string &v) -> llvm::Error {
         char *end = nullptr;
         errno = 0;
         long long value = std::strtoll(v.c_str(), &end, 10);
         if (v.empty() || *end != '\0' || errno != 0 || value < minimum ||
             value > maximum)
           return makeError(
               cmd + ": " + name + " expects an integer " +
               (maximum == INT64_MAX
                    ? ">= " + std::to_string(minimum)
                    : "from " + std::to_string(minimum) + " to " +
                          std::to_string(maximum)) +
               ", got '" + v + "'");
         *out = value;
         return llvm::Error::success();
       }});
}

void FlagParser::positional(const std::string &name, std::string *out,
                            const std::string &help, bool required) {
  positionals.push_back({name, help, out, required});
}

bool FlagParser::given(const std::string &name) const {
  return std::find(seen.begin(), seen.end(), name) != seen.end();
}

llvm::Error FlagParser::parse(const std::vector<std::string> &args) {
  size_t nextPositional = 0;
  bool onlyPositionals = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    if (!onlyPositionals && (arg == "-h" || arg == "--help")) {
      wantsHelp = true;
      return llvm::Error::success();
    }
    if (!onlyPositionals && arg == "--") {
      onlyPositionals = true;
      continue;
    }
    if (!onlyPositionals && arg.size() > 1 && arg[0] == '-') {
      std::string value;
      bool hasInlineValue = false;
      if (size_t eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        hasInlineValue = true;
      }
      auto spec = std::find_if(specs.begin(), specs.end(),
                               [&](const Spec &s) { return s.name == arg; });
      if (spec == specs.end())
        return makeError(command + ": unknown flag '" + arg + "' (see '" +
                         command + " --help')");
      if (spec->takesValue && !hasInlineValue) {
        if (i + 1 >= args.size())
          return makeError(command + ": " + arg + " needs a value (" +
                           spec->metavar + ")");
        value = args[++i];
      } else if (!spec->takesValue && hasInlineValue) {
        return makeError(command + ": " + arg + " takes no value");
      }
      if (llvm::Error err = spec->set(value))
        return err;
      seen.push_back(arg);
      continue;
    }
    if (nextPositional >= positionals.size())
      return makeError(command + ": unexpected argument '" + arg + "'");
    *positionals[nextPositional++].out = arg;
  }
  for (size_t p = nextPositional; p < positionals.size(); ++p)
    if (positionals[p].required)
      return makeError(command + ": missing " + positionals[p].name +
                       " (see '" + command + " --help')");
  return llvm::Error::success();
}

std::string FlagParser::usage() const {
  std::string text = "usage: " + command;
  for (const Positional &p : positionals)
    text += p.required ? " " + p.name : " [" + p.name + "]";
  text += " [flags]\n\n" + summary + "\n";
  if (!positionals.empty() || !specs.empty())
    text += "\n";
  auto line = [&](const std::string &left, const std::string &help) {
    std::string padded = "  " + left;
    if (padded.size() < 26)
      padded.resize(26, ' ');
    else
      padded += "  ";
    text += padded + help + "\n";
  };
  for (const Positional &p : positionals)
    line(p.name, p.help);
  for (const Spec &s : specs)
    line(s.takesValue ? s.name + " " + s.metavar : s.name, s.help);
  return text;
}

namespace {

/// `text` as a finite number >= 0 (> 0 when `positive`) and <= `max`: the
/// check every number flag of parseNonNegative and parseSeconds makes.
std::optional<double> numberIn(const std::string &text, bool positive,
                               double max) {
  double value;
  if (llvm::StringRef(text).getAsDouble(value) || !std::isfinite(value) ||
      !(positive ? value > 0 : value >= 0) || value > max)
    return std::nullopt;
  return value;
}

} // namespace

llvm::Expected<double> parseNonNegative(const std::string &flag,
                                        const std::string &text) {
  if (auto value = numberIn(text, /*positive=*/false, HUGE_VAL))
    return *value;
  return makeError(flag + ": expected a finite number >= 0, got '" + text +
                   "'");
}

int printGroupUsage(bool asked, const std::string &usage) {
  (asked ? llvm::outs() : llvm::errs()) << usage;
  return asked ? kExitOk : kExitUserError;
}

llvm::Expected<double> parseSeconds(const std::string &flag,
                                    const std::string &text,
                                    SecondsRange range) {
  if (auto value = numberIn(text, range.positive, range.max))
    return *value;
  std::string bounds = range.positive ? "> 0" : ">= 0";
  if (std::isfinite(range.max)) {
    char max[32];
    std::snprintf(max, sizeof(max), "%.15g", range.max);
    bounds += std::string(" and <= ") + max;
  }
  return makeError(flag + ": expected seconds, a number " + bounds +
                   ", got '" + text + "'");
}

} // namespace hatc
