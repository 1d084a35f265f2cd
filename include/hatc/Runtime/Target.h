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
#include <vector>

namespace hatc {

enum class TargetKind { Cpu, Gpu, Hwacc };

const char *targetKindName(TargetKind kind);

struct Target {
  TargetKind kind = TargetKind::Cpu;
  std::string name;        // "host", "hwacc-16x16", ...
  std::string path;        // the JSON it came from, empty for built-ins
  /// Kernel threads a description asks for ("threads", 1..kMaxThreads); 0
  /// when it leaves it to the run (see resolveThreads).
  int threads = 0;
  /// CPU only: host features schedules must not use ("disable_features",
  /// LLVM's names: "avx512vnni", "avx512bf16"); part of the fingerprint.
  std::vector<std::string> disabledFeatures;
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

/// The most kernel threads a run or a target description may ask for.
inline constexpr int kMaxThreads = 1024;
/// Cores of this machine (at least 1).
int hostCores();

/// The environment variable that makes CPU schedules derive as for another
/// vector unit and caches than the host's ("lanes=16,registers=32,l1=48K,
/// l2=1M", see CpuFacts::host): tests pin it so that the tiles they check
/// do not depend on the machine that runs them. It is part of the CPU
/// fingerprint, so records taken under it stay apart.
inline constexpr const char *kCpuFactsEnv = "HATC_CPU_FACTS";
/// The one rule for how many threads kernels run with: `requested` when it
/// is positive (--threads), else the target description's "threads", else
/// one per core.
int resolveThreads(int64_t requested, const Target &target);

/// The folder holding configs/ (HATC_HOME, else the source tree).
std::string configsDir();

} // namespace hatc

#endif // HATC_RUNTIME_TARGET_H
