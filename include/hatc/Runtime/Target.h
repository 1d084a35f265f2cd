//===- Target.h - Hardware targets hatc compiles and measures for -*- C++ -*-===//
//
// A target is a kind (cpu | gpu | hwacc) plus hardware parameters, read from
// configs/targets/*.json. `--target` takes a kind, which picks
// configs/targets/<kind>.json, or a path to such a file.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_RUNTIME_TARGET_H
#define HATC_RUNTIME_TARGET_H

#include "llvm/Support/Error.h"

#include <nlohmann/json.hpp>
#include <string>

namespace hatc {

enum class TargetKind { Cpu, Gpu, Hwacc };

const char *targetKindName(TargetKind kind);

struct Target {
  TargetKind kind = TargetKind::Cpu;
  std::string name;        // "host", "hwacc-16x16", ...
  std::string path;        // the JSON it came from, empty for built-ins
  nlohmann::json params;   // the whole description

  /// What makes measurements on this target comparable: the CPU model and
  /// features and core count; the device-model parameters; the GPU name.
  std::string fingerprint() const;
};

/// `spec` is "cpu", "gpu", "hwacc" or a path to a target JSON file.
llvm::Expected<Target> resolveTarget(const std::string &spec);
/// Parses and validates a target description; `origin` names it in errors.
llvm::Expected<Target> parseTarget(const nlohmann::json &json,
                                   const std::string &origin);

/// The folder holding configs/ (HATC_HOME, else the source tree).
std::string configsDir();

} // namespace hatc

#endif // HATC_RUNTIME_TARGET_H
