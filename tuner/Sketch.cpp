//===- Sketch.cpp - Knob domains, sampling, mutation, the search space ----===//
#include "hatc/Tuner/Sketch.h"
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Runtime/Cuda.h"
#include "hatc/Runtime/HwaccDevice.h"
#include "hatc/Support/Error.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/ADT/StringMap.h"

#include <thread>

using namespace mlir;

namespace hatc::tuner {

//===----------------------------------------------------------------------===//
// Workload and target facts
//===----------------------------------------------------------------------===//

static std::string typeName(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  getElementTypeOrSelf(type).print(os);
  return text;
}

WorkloadShape analyzeWorkload(Workload &workload) {
  WorkloadShape shape;
  shape.constantWeights = !workload.measurePath.empty();
  linalg::LinalgOp anchor;
  double anchorFlops = -1;
  workload.entry().walk([&](linalg::LinalgOp op) {
    bool gemm = isGemmLike(classifyOp(op));
    shape.gemmOps += gemm;
    double flops = describeTask(op).flops;
    // GEMM-like ops anchor before anything else; then the heaviest op.
    double rank = flops + (gemm ? 1e30 : 0);
    if (flops > 0 && rank > anchorFlops) {
      anchorFlops = rank;
      anchor = op;
    }
  });
  if (!anchor)
    return shape;
  shape.anchorOp = anchor->getName().getStringRef().str();
  SmallVector<int64_t> ranges = anchor.getStaticLoopRanges();
  if (isa<linalg::Conv2DNchwFchwOp>(anchor.getOperation()) &&
      ranges.size() == 7) {
    // Loops n, f, oh, ow, c, kh, kw: in conv_2d_nhwc_hwcf's order (n, oh,
    // ow, f, kh, kw, c), the conv view the sketches and features read; the
    // hwacc pipeline makes it that op.
    ranges = {ranges[0], ranges[2], ranges[3], ranges[1],
              ranges[5], ranges[6], ranges[4]};
  }
  shape.loopRanges.assign(ranges.begin(), ranges.end());
  Task anchorTask = describeTask(anchor);
  shape.anchorLoops = anchorTask.loopRanges;
  shape.anchorIterators = anchorTask.iteratorTypes;
  if (auto index = anchor->getAttrOfType<IntegerAttr>(kOpIndexAttr))
    shape.anchorIndex = index.getInt();
  shape.elemType = typeName(anchor.getDpsInputs().front().getType());
  shape.accType = typeName(anchor.getDpsInits().front().getType());
  shape.anchor = classifyOp(anchor);
  shape.hasElementwiseConsumer = elementwiseConsumerOf(anchor) != nullptr;
  shape.initProducer = hasInitProducer(anchor);
  shape.initFill = initIsFill(anchor);
  shape.initShared = initIsShared(anchor);
  shape.gathers = gathers(anchor);
  return shape;
}

llvm::Expected<TargetFacts> TargetFacts::of(const Target &target) {
  TargetFacts facts;
  facts.kind = target.kind;
  facts.threads = resolveThreads(0, target); // callers lower it to --threads
  if (target.kind == TargetKind::Hwacc) {
    HwaccParams params;
    if (auto error = HwaccParams::fromJson(target.params, target.path, params))
      return makeError(*error);
    facts.arrayDim = params.dim;
    facts.scratchpadRows = params.scratchpadRows(4);
    facts.accumulatorRows = params.accumulatorRows();
    return facts;
  }
  if (target.kind == TargetKind::Gpu) {
    if (auto device = cuda::deviceInfo()) {
      if (device->sharedBytesPerBlock)
        facts.gpuSharedBytes = int64_t(device->sharedBytesPerBlock);
      if (device->multiprocessors > 0)
        facts.gpuMultiprocessors = device->multiprocessors;
    }
    return facts;
  }
  // The same reading of the host the default schedule takes.
  CpuFacts host = CpuFacts::host(facts.threads);
  facts.vectorLanes = host.vectorLanes;
  facts.vectorRegisters = host.vectorRegisters;
  facts.l1Bytes = host.l1Bytes;
  facts.l2Bytes = host.l2Bytes;
  facts.cores = host.cores;
  facts.vnni = host.vnni;
  facts.bf16Dot = host.bf16Dot;
  facts.amxInt8 = host.amxInt8;
  facts.amxBf16 = host.amxBf16;
  for (const std::string &feature : target.disabledFeatures) {
    if (feature == "amx-tile" || feature == "amx-int8")
      facts.amxInt8 = false;
    if (feature == "amx-tile" || feature == "amx-bf16")
      facts.amxBf16 = false;
    if (feature == "avx512vnni")
      facts.vnni = false;
    if (feature == "avx512bf16")
      facts.bf16Dot = false;
  }
  return facts;
}

//===----------------------------------------------------------------------===//
// Sketch
//===----------------------------------------------------------------------===//

std::optional<std::string> Sketch::checkDomains(const Config &config) const {
  if (!config.is_object())
    return "a config is a JSON object";
  if (config.value("sketch", "") != name())
    return "config is for sketch '" + config.value("sketch", "?") +
           "', not '" + name() + "'";
  for (const KnobSpec &knob : specs) {
    auto it = config.find(knob.name);
    if (it == config.end() && knob.absentMeans)
      continue;
    if (it == config.end())
      return "missing knob '" + knob.name + "'";
    if (std::find(knob.domain.begin(), knob.domain.end(), *it) ==
        knob.domain.end())
      return "knob '" + knob.name + "' = " + it->dump() +
             " is outside its domain";
  }
  for (const auto &[key, value] : config.items())
    if (key != "sketch" &&
        std::none_of(specs.begin(), specs.end(),
                     [&](const KnobSpec &k) { return k.name == key; }))
      return "unknown knob '" + key + "' for sketch '" + name() + "'";
  return std::nullopt;
}

std::optional<std::string> Sketch::invalidReason(const Config &config) const {
  return checkDomains(config);
}

Config Sketch::sampleAny(Rng &rng) const {
  Config config = {{"sketch", name()}};
  for (const KnobSpec &knob : specs) {
    std::uniform_int_distribution<size_t> pick(0, knob.domain.size() - 1);
    config[knob.name] = knob.domain[pick(rng)];
  }
  return config;
}

std::optional<Config> Sketch::sample(Rng &rng, int tries) const {
  for (int i = 0; i < tries; ++i) {
    Config config = sampleAny(rng);
    if (isValid(config))
      return config;
  }
  return std::nullopt;
}

Config Sketch::mutate(const Config &config, Rng &rng) const {
  Config out = config;
  if (specs.empty())
    return out;
  std::uniform_real_distribution<double> coin(0, 1);
  int changes = coin(rng) < 0.3 ? 2 : 1;
  for (int c = 0; c < changes; ++c) {
    std::uniform_int_distribution<size_t> pickKnob(0, specs.size() - 1);
    const KnobSpec &knob = specs[pickKnob(rng)];
    if (knob.domain.size() < 2)
      continue;
    auto it = std::find(knob.domain.begin(), knob.domain.end(),
                        out.value(knob.name, nlohmann::json()));
    size_t index = it == knob.domain.end() ? 0 : it - knob.domain.begin();
    if (coin(rng) < 0.7) {
      // A step to a neighbour: similar configs run similarly.
      if (index == 0)
        ++index;
      else if (index + 1 == knob.domain.size())
        --index;
      else
        index += coin(rng) < 0.5 ? 1 : size_t(-1);
    } else {
      std::uniform_int_distribution<size_t> pick(0, knob.domain.size() - 1);
      size_t next = pick(rng);
      index = next == index ? (next + 1) % knob.domain.size() : next;
    }
    out[knob.name] = knob.domain[index];
  }
  return out;
}

Config Sketch::crossover(const Config &a, const Config &b, Rng &rng) const {
  Config out = a;
  std::bernoulli_distribution fromB(0.5);
  for (const KnobSpec &knob : specs)
    if (b.contains(knob.name) && fromB(rng))
      out[knob.name] = b[knob.name];
  return out;
}

//===----------------------------------------------------------------------===//
// SearchSpace
//===----------------------------------------------------------------------===//

SearchSpace::SearchSpace(WorkloadShape shape, TargetFacts target)
    : workloadShape(std::move(shape)), targetFacts(target),
      sketches(sketchesFor(workloadShape, targetFacts)) {}

const Sketch *SearchSpace::find(const std::string &name) const {
  for (const auto &sketch : sketches)
    if (sketch->name() == name)
      return sketch.get();
  return nullptr;
}

std::optional<Config> SearchSpace::sample(Rng &rng) const {
  if (sketches.empty())
    return std::nullopt;
  std::uniform_int_distribution<size_t> pick(0, sketches.size() - 1);
  for (size_t attempt = 0; attempt < sketches.size() * 2; ++attempt)
    if (auto config = sketches[pick(rng)]->sample(rng))
      return config;
  return std::nullopt;
}

Config SearchSpace::mutate(const Config &config, Rng &rng) const {
  const Sketch *sketch = find(config.value("sketch", ""));
  return sketch ? sketch->mutate(config, rng) : config;
}

Config SearchSpace::crossover(const Config &a, const Config &b,
                              Rng &rng) const {
  const Sketch *sketch = find(a.value("sketch", ""));
  if (!sketch || a.value("sketch", "") != b.value("sketch", ""))
    return a;
  return sketch->crossover(a, b, rng);
}

std::optional<std::string>
SearchSpace::invalidReason(const Config &config) const {
  if (!config.is_object())
    return std::string("a config is a JSON object of knobs, {\"sketch\": "
                       "NAME, ...}");
  auto name = config.find("sketch");
  if (name == config.end() || !name->is_string())
    return std::string("its \"sketch\" is missing or not a string");
  const Sketch *sketch = find(name->get<std::string>());
  if (!sketch)
    return "no sketch '" + name->get<std::string>() +
           "' for this workload and target";
  return sketch->invalidReason(config);
}

llvm::Expected<std::string> SearchSpace::script(const Config &config) const {
  if (auto reason = invalidReason(config))
    return makeError("invalid config " + config.dump() + ": " + *reason);
  return find(config.value("sketch", ""))->script(config);
}

} // namespace hatc::tuner
