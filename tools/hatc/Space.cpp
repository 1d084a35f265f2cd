//===- Space.cpp - hatc space: inspect a workload's schedule space --------===//
#include "Commands.h"
#include "Common.h"
#include "Flags.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Nesting.h"
#include "hatc/Tuner/Sketch.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace hatc {

int spaceCommand(const Args &args) {
  CompileRequest request;
  int64_t samples = 0, seed = 0;
  std::string scriptFor;
  bool any = false;
  FlagParser parser("hatc space",
                    "Shows the schedule space of a workload on a target: "
                    "its sketches and knob\ndomains, random configs (--sample "
                    "N, one JSON object per line, with the reason\nwhen "
                    "--any lets invalid ones through), or the transform "
                    "script of a config.");
  parser.positional("WORKLOAD.mlir", &request.workloadPath, "the workload");
  addTargetFlags(parser, request);
  parser.option("--sample", &samples, "N", "print N random configs", 0);
  parser.option("--seed", &seed, "S", "RNG seed (default 0)", 0);
  parser.flag("--any", &any,
              "sample every knob freely; print why invalid ones are");
  parser.option("--script", &scriptFor, "CONFIG",
                "print the transform script of CONFIG (JSON text or a "
                ".json file)");
  int64_t threads = 0;
  addThreadsFlag(parser, threads);
  if (auto exit = parseFlags(parser, args))
    return *exit;
  // A model is many tasks, each with its own space.
  if (llvm::Error err =
          refuseModel("space", request.workloadPath, kModelTaskFilesHint))
    return reportError(std::move(err));
  auto inputs = loadCompileInputs(request);
  if (!inputs)
    return reportError(inputs.takeError());
  auto facts = spaceFactsFor(*inputs, threads);
  if (!facts)
    return reportError(facts.takeError());
  tuner::SearchSpace space(tuner::analyzeWorkload(inputs->workload), *facts);
  if (space.empty())
    return reportError(makeError("no sketch applies to " +
                                 inputs->workload.key() + " on " +
                                 targetKindName(inputs->target.kind)));

  if (parser.given("--script") && scriptFor.empty())
    return reportError(makeError("--script: expects a config (JSON text or "
                                 "a .json file), got ''"));
  if (!scriptFor.empty()) {
    std::string text = scriptFor;
    if (llvm::StringRef(scriptFor).ends_with(".json")) {
      auto buffer = llvm::MemoryBuffer::getFile(scriptFor, true);
      if (!buffer)
        return reportError(makeError(scriptFor + ": cannot read: " +
                                     buffer.getError().message()));
      text = (*buffer)->getBuffer().str();
    }
    if (std::string problem = nestingProblem(text); !problem.empty())
      return reportError(makeError("--script: the config " + problem));
    nlohmann::json config =
        nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded()) {
      // A path that does not end in .json is read as JSON text; say so
      // rather than only that it does not parse.
      if (text == scriptFor && llvm::sys::fs::exists(scriptFor))
        return reportError(makeError(
            "--script: " + scriptFor + " is a " +
            (llvm::sys::fs::is_directory(scriptFor) ? "folder" : "file") +
            ", not a config (JSON text, or a file whose name ends in .json)"));
      return reportError(makeError("--script: not valid JSON: " + text));
    }
    auto script = space.script(config);
    if (!script)
      return reportError(script.takeError());
    llvm::outs() << *script;
    return kExitOk;
  }

  tuner::Rng rng{static_cast<uint64_t>(seed)};
  if (samples > 0) {
    for (int64_t i = 0; i < samples; ++i) {
      if (any) {
        std::uniform_int_distribution<size_t> pick(0, space.all().size() - 1);
        tuner::Config config = space.all()[pick(rng)]->sampleAny(rng);
        auto reason = space.invalidReason(config);
        nlohmann::json line = {{"config", config}, {"valid", !reason}};
        if (reason)
          line["reason"] = *reason;
        llvm::outs() << line.dump() << "\n";
        continue;
      }
      auto config = space.sample(rng);
      if (!config)
        return reportError(makeError("no valid config found"));
      llvm::outs() << config->dump() << "\n";
    }
    return kExitOk;
  }
  llvm::outs() << "workload  " << inputs->workload.key() << "\n";
  for (const auto &sketch : space.all()) {
    llvm::outs() << "sketch    " << sketch->name() << "\n";
    for (const tuner::KnobSpec &knob : sketch->knobs()) {
      std::string domain;
      for (const nlohmann::json &v : knob.domain)
        domain += (domain.empty() ? "" : " ") + v.dump();
      llvm::outs() << "  " << knob.name << ": " << domain << "\n";
    }
  }
  return kExitOk;
}

} // namespace hatc
