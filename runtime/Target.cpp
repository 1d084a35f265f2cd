//===- Target.cpp - Target descriptions --------------------------------===//
#include "hatc/Runtime/Target.h"
#include "hatc/Runtime/Cuda.h"
#include "hatc/Config.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Nesting.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/xxhash.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace hatc {

const char *targetKindName(TargetKind kind) {
  switch (kind) {
  case TargetKind::Cpu: return "cpu";
  case TargetKind::Gpu: return "gpu";
  case TargetKind::Hwacc: return "hwacc";
  }
  return "?";
}

std::string configsDir() {
  if (const char *home = std::getenv("HATC_HOME"))
    return (llvm::Twine(home) + "/configs").str();
  return std::string(HATC_SOURCE_DIR) + "/configs";
}

std::string Target::fingerprint() const {
  switch (kind) {
  case TargetKind::Cpu: {
    std::vector<std::string> features;
    for (const auto &f : llvm::sys::getHostCPUFeatures())
      if (f.getValue())
        features.push_back(f.getKey().str());
    std::sort(features.begin(), features.end());
    std::string text = llvm::join(features, ",");
    // Features the description turns off change what schedules may use.
    if (!disabledFeatures.empty())
      text += ";disabled:" + llvm::join(disabledFeatures, ",");
    // So do facts pinned in place of the host's.
    if (const char *facts = std::getenv(kCpuFactsEnv); facts && *facts)
      text += ";facts:" + std::string(facts);
    uint64_t hash = llvm::xxh3_64bits(text);
    return "cpu:" + llvm::sys::getHostCPUName().str() + ":" +
           std::to_string(std::thread::hardware_concurrency()) + "c:" +
           llvm::utohexstr(hash, /*LowerCase=*/true);
  }
  case TargetKind::Gpu: {
    // The GPU found here and its driver: tunings do not carry across them.
    std::string device = "none";
    if (auto info = cuda::deviceInfo())
      device = info->name + "/" + info->chip() + "/driver" +
               std::to_string(info->driverVersion);
    return "gpu:" + name + ":" + device + ":" +
           llvm::utohexstr(llvm::xxh3_64bits(params.dump()),
                           /*LowerCase=*/true);
  }
  case TargetKind::Hwacc: {
    std::string text = params.dump();
    return std::string(targetKindName(kind)) + ":" + name + ":" +
           llvm::utohexstr(llvm::xxh3_64bits(text), /*LowerCase=*/true);
  }
  }
  return "";
}

llvm::Expected<Target> parseTarget(const nlohmann::json &json,
                                   const std::string &origin) {
  if (!json.is_object())
    return makeError(origin + ": a target description is a JSON object");
  auto kindIt = json.find("kind");
  if (kindIt == json.end() || !kindIt->is_string())
    return makeError(origin + ": missing string field \"kind\" (cpu, gpu or "
                              "hwacc)");
  Target target;
  std::string kind = kindIt->get<std::string>();
  if (kind == "cpu")
    target.kind = TargetKind::Cpu;
  else if (kind == "gpu")
    target.kind = TargetKind::Gpu;
  else if (kind == "hwacc")
    target.kind = TargetKind::Hwacc;
  else
    return makeError(origin + ": unknown target kind \"" + kind +
                     "\" (expected cpu, gpu or hwacc)");
  auto nameIt = json.find("name");
  if (nameIt != json.end() && !nameIt->is_string())
    return makeError(origin + ": field \"name\" must be a string");
  target.name = nameIt != json.end() ? nameIt->get<std::string>() : kind;
  auto threadsIt = json.find("threads");
  if (threadsIt != json.end()) {
    if (!threadsIt->is_number_integer() || threadsIt->get<int64_t>() < 1 ||
        threadsIt->get<int64_t>() > kMaxThreads)
      return makeError(origin + ": field \"threads\" must be an integer "
                                "from 1 to " +
                       std::to_string(kMaxThreads) + ", got " +
                       threadsIt->dump());
    target.threads = threadsIt->get<int>();
  }
  auto disabledIt = json.find("disable_features");
  if (disabledIt != json.end()) {
    if (target.kind != TargetKind::Cpu)
      return makeError(origin + ": field \"disable_features\" is for cpu "
                                "targets");
    if (!disabledIt->is_array())
      return makeError(origin + ": field \"disable_features\" must be an "
                                "array of CPU feature names, got " +
                       disabledIt->dump());
    for (const auto &feature : *disabledIt) {
      if (!feature.is_string() || feature.get<std::string>().empty())
        return makeError(origin + ": field \"disable_features\" holds " +
                         feature.dump() + ", not a CPU feature name");
      target.disabledFeatures.push_back(feature.get<std::string>());
    }
    std::sort(target.disabledFeatures.begin(), target.disabledFeatures.end());
  }
  target.params = json;
  return target;
}

int hostCores() {
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

int resolveThreads(int64_t requested, const Target &target) {
  if (requested > 0)
    return int(std::min<int64_t>(requested, kMaxThreads));
  if (target.threads > 0)
    return target.threads;
  return hostCores();
}

llvm::Expected<Target> resolveTarget(const std::string &spec) {
  std::string path = spec;
  if (spec == "cpu" || spec == "gpu" || spec == "hwacc")
    path = configsDir() + "/targets/" + spec + ".json";
  else if (!llvm::StringRef(spec).ends_with(".json"))
    return makeError("unknown target '" + spec +
                     "' (expected cpu, gpu, hwacc or a path to a target "
                     ".json)");
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return makeError(path + ": cannot read target: " +
                     buffer.getError().message());
  if (std::string problem = nestingProblem((*buffer)->getBuffer());
      !problem.empty())
    return makeError(path + ": " + problem);
  nlohmann::json json = nlohmann::json::parse(
      (*buffer)->getBuffer().begin(), (*buffer)->getBuffer().end(), nullptr,
      /*allow_exceptions=*/false);
  if (json.is_discarded())
    return makeError(path + ": not valid JSON");
  auto target = parseTarget(json, path);
  if (target)
    target->path = path;
  return target;
}

} // namespace hatc
