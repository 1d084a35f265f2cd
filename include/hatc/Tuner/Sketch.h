//===- Sketch.h - Schedule spaces: sketches with knobs ---------*- C++ -*-===//
//
// A sketch is a parameterized schedule for one kind of op on one kind of
// target: knobs with finite domains, constraints (isValid, with a reason),
// and a printer that turns a config into a transform-dialect script that
// stock `mlir-opt-19 --transform-interpreter` accepts. A config is the
// sketch name plus one value per knob, as JSON ({"sketch": ..., knobs...});
// its canonical text is what the database hashes.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TUNER_SKETCH_H
#define HATC_TUNER_SKETCH_H

#include "hatc/CostModel/Features.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Target.h"

#include "llvm/Support/Error.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace hatc::tuner {

using Rng = std::mt19937_64;
using Config = nlohmann::json; // {"sketch": "...", "<knob>": value, ...}

/// A knob and its domain, in an order where neighbours are similar (so a
/// mutation can step to the next value).
struct KnobSpec {
  std::string name;
  std::vector<nlohmann::json> domain;
  /// For a knob added to a space after configs without it were recorded
  /// (an older log, a hand-written config): the value its absence means,
  /// so that such a config stays valid. Configs the tuner makes name it.
  std::optional<nlohmann::json> absentMeans;
};

/// What the sketches need to know about a workload: its anchor op (the one
/// the schedule is built around) and that op's sizes.
struct WorkloadShape {
  using Anchor = OpClass; // classifyOp of the anchor
  Anchor anchor = Anchor::Other;
  std::string anchorOp;           // "linalg.matmul", ...
  std::vector<int64_t> loopRanges; // of the anchor
  std::string elemType;           // of the anchor's first input: "f32", "i8"
  std::string accType;            // of its output
  /// An all-parallel linalg.generic consuming the anchor's result element
  /// for element (bias + ReLU after a matmul or conv): a fusion candidate.
  bool hasElementwiseConsumer = false;
  /// The anchor's init is a fill (shared or not) or a broadcast used only
  /// there (a conv's bias): conv schedules fuse it into their tiles
  /// (hasInitProducer).
  bool initProducer = false;
  bool initFill = false; // that init is a linalg.fill (initIsFill)
  bool initShared = false; // that init has other users (initIsShared)
  bool gathers = false;    // the body reads a tensor by position (gathers)
  int64_t gemmOps = 0; // matmul, batch_matmul and conv ops in the workload
  /// The anchor's own loops, in its order (loopRanges reorders an NCHW
  /// conv), and its hatc.op_index when its name's ops differ in the
  /// workload (a reduction generic next to elementwise ones): what a
  /// script matching the anchor alone needs (cpu_generic).
  std::vector<int64_t> anchorLoops;
  std::vector<std::string> anchorIterators; // "parallel" | "reduction"
  std::optional<int64_t> anchorIndex;
  /// Measured with its weights as constants (a model's task: its
  /// Workload::measurePath), so the kernel packs them at compile time.
  bool constantWeights = false;
};

WorkloadShape analyzeWorkload(Workload &workload);

/// Facts about the target that constraints use.
struct TargetFacts {
  TargetKind kind = TargetKind::Cpu;
  int64_t vectorLanes = 16; // f32 lanes of the widest vector unit
  int64_t vectorRegisters = 32;
  int64_t l1Bytes = 32 << 10;
  int64_t l2Bytes = 1 << 20;
  int64_t cores = 2;
  /// The kernel threads the candidates will run with: every `par`-like
  /// knob stays at or below it. `of` sets the core count; a caller that
  /// runs kernels on fewer threads lowers it.
  int64_t threads = 2;
  /// Dot-product instructions the CPU has and the target description does
  /// not turn off ("disable_features"): AVX-512 VNNI and BF16.
  bool vnni = false, bf16Dot = false;
  bool amxInt8 = false, amxBf16 = false; // AMX tiles for i8 / bf16
  // hwacc
  int64_t arrayDim = 16, scratchpadRows = 4096, accumulatorRows = 1024;
  // gpu
  int64_t gpuMaxThreads = 1024, gpuSharedBytes = 48 * 1024,
          gpuMultiprocessors = 132;

  static llvm::Expected<TargetFacts> of(const Target &target);
};

class Sketch {
public:
  virtual ~Sketch() = default;
  virtual std::string name() const = 0;
  const std::vector<KnobSpec> &knobs() const { return specs; }

  /// Why `config` cannot work (a constraint it breaks), or nullopt. Cheap:
  /// no building.
  virtual std::optional<std::string> invalidReason(const Config &config) const;
  bool isValid(const Config &config) const { return !invalidReason(config); }
  /// The transform-dialect script for a valid config.
  virtual std::string script(const Config &config) const = 0;
  /// What the cost model's features read of `config`: this sketch's one-hot
  /// feature and its knobs as a schedule family the estimates know. Any
  /// config, valid or not; knobs it lacks (or mistypes) read as 0.
  virtual cost_model::SketchDescription describe(const Config &config) const = 0;
  /// The config the default schedule derives for this sketch's op from the
  /// target's facts (CpuSchedules.h), where it has one: where tuning
  /// starts. Meant to be valid (TunerDefaultsTest checks it is); callers
  /// still check.
  virtual std::optional<Config> analyticalDefault() const {
    return std::nullopt;
  }
  /// Whether the target's default schedule for this op is this sketch's
  /// family (lowering's deriveCpuSchedule): the default's record is then
  /// described to the cost model as analyticalDefault() is.
  virtual bool takesDefault() const { return false; }

  /// Any value of each knob, valid or not.
  Config sampleAny(Rng &rng) const;
  /// A valid config (rejection sampling); nullopt if none was found.
  std::optional<Config> sample(Rng &rng, int tries = 2000) const;
  /// One or two knobs moved, to a neighbouring value or a random one.
  Config mutate(const Config &config, Rng &rng) const;
  /// Each knob from either parent.
  Config crossover(const Config &a, const Config &b, Rng &rng) const;

protected:
  /// Domain membership and the sketch name; subclasses add their rules.
  std::optional<std::string> checkDomains(const Config &config) const;
  std::vector<KnobSpec> specs;
};

/// The sketches that apply to `workload` on `target` (possibly none).
std::vector<std::unique_ptr<Sketch>>
sketchesFor(const WorkloadShape &shape, const TargetFacts &target);

/// All sketches of a workload on a target, as one space.
class SearchSpace {
public:
  SearchSpace(WorkloadShape shape, TargetFacts target);
  bool empty() const { return sketches.empty(); }
  const std::vector<std::unique_ptr<Sketch>> &all() const { return sketches; }
  const Sketch *find(const std::string &name) const;
  const WorkloadShape &shape() const { return workloadShape; }

  std::optional<Config> sample(Rng &rng) const;
  Config mutate(const Config &config, Rng &rng) const;
  Config crossover(const Config &a, const Config &b, Rng &rng) const;
  std::optional<std::string> invalidReason(const Config &config) const;
  /// The script of a valid config; an error for an unknown sketch.
  llvm::Expected<std::string> script(const Config &config) const;

private:
  WorkloadShape workloadShape;
  TargetFacts targetFacts;
  std::vector<std::unique_ptr<Sketch>> sketches;
};

} // namespace hatc::tuner

#endif // HATC_TUNER_SKETCH_H
