//===- Common.cpp - What the sketches share -------------------------------===//
#include "tuner/sketches/Common.h"
#include "hatc/Support/Json.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner::sketches {

std::vector<json> ints(std::initializer_list<int64_t> values) {
  return std::vector<json>(values.begin(), values.end());
}

std::vector<json> threadCounts(const TargetFacts &target) {
  std::vector<int64_t> choices = threadChoices(target.threads);
  return std::vector<json>(choices.begin(), choices.end());
}

std::vector<json> nrDomain(const TargetFacts &target, bool widest) {
  std::vector<int64_t> widths = registerTileWidths(cpuFactsOf(target));
  if (widest)
    widths.push_back((target.vectorRegisters >= 32 ? 8 : 6) *
                     target.vectorLanes);
  return std::vector<json>(widths.begin(), widths.end());
}

std::optional<std::string> parReason(const Config &c,
                                     const TargetFacts &target) {
  if (!c.is_object())
    return std::nullopt;
  auto it = c.find("par");
  if (it == c.end() || !it->is_number_integer())
    return std::nullopt;
  int64_t par = it->get<int64_t>(), threads = std::max<int64_t>(1, target.threads);
  if (par > threads)
    return llvm::formatv("par={0} exceeds the {1} kernel threads the "
                         "candidates run with",
                         par, threads)
        .str();
  return std::nullopt;
}

/// The divisors of n in [lo, hi], ascending; {n} when there are none (a
/// small extent is one whole tile).
std::vector<json> divisorsIn(int64_t n, int64_t lo, int64_t hi) {
  std::vector<json> out;
  for (int64_t d = std::max<int64_t>(lo, 1); d <= std::min(n, hi); ++d)
    if (n % d == 0)
      out.push_back(d);
  if (out.empty())
    out.push_back(n);
  return out;
}

CpuOpShape cpuShapeOf(const WorkloadShape &shape) {
  CpuOpShape out;
  out.opClass = shape.anchor;
  out.opName = shape.anchorOp;
  out.loopRanges = shape.loopRanges;
  out.elemType = shape.elemType;
  out.accType = shape.accType;
  out.hasElementwiseConsumer = shape.hasElementwiseConsumer;
  out.initProducer = shape.initProducer;
  out.initFill = shape.initFill;
  out.initShared = shape.initShared;
  out.gathers = shape.gathers;
  // A model's task is measured with its weights as constants; its
  // matmul's B is taken to be one, as the default that runs sees it. The
  // sketches' analytical default (a default record's description, and a
  // seed of the search) then matches the schedule measured.
  out.constantB = shape.constantWeights;
  return out;
}

CpuFacts cpuFactsOf(const TargetFacts &target) {
  CpuFacts out;
  out.vectorLanes = target.vectorLanes;
  out.vectorRegisters = target.vectorRegisters;
  out.l1Bytes = target.l1Bytes;
  out.l2Bytes = target.l2Bytes;
  out.cores = target.cores;
  out.threads = std::max<int64_t>(1, target.threads);
  out.vnni = target.vnni;
  out.bf16Dot = target.bf16Dot;
  out.amxInt8 = target.amxInt8;
  out.amxBf16 = target.amxBf16;
  return out;
}

int64_t knob(const Config &c, const char *name) { return c.at(name).get<int64_t>(); }

int64_t knobOr0(const Config &c, const char *name) {
  return jsonIntOr0(c, name);
}

cost_model::CpuGemmKnobs gemmKnobs(const Config &c) {
  cost_model::CpuGemmKnobs k;
  k.par = knobOr0(c, "par"), k.mc = knobOr0(c, "mc");
  k.nc = knobOr0(c, "nc"), k.kc = knobOr0(c, "kc");
  k.mr = knobOr0(c, "mr"), k.nr = knobOr0(c, "nr");
  k.kUnroll = knobOr0(c, "k_unroll");
  return k;
}

bool knobIs(const Config &c, const char *name, const char *value) {
  if (!c.is_object())
    return false;
  auto it = c.find(name);
  return it != c.end() && it->is_string() && it->get<std::string>() == value;
}

/// Why an mr x nr register tile of accumulators (plus a row of B and a
/// broadcast A element) cannot be vectorized without spilling, or nullopt.
/// The knobs are named in the reason: `rowsKnob` (mr) and `colsKnob` (nr,
/// the vectorized dim).
std::optional<std::string>
registerTileReason(int64_t mr, int64_t nr, const TargetFacts &target,
                   const char *rowsKnob, const char *colsKnob) {
  if (nr % target.vectorLanes)
    return llvm::formatv("{0}={1} is not a multiple of the {2} vector lanes",
                         colsKnob, nr, target.vectorLanes)
        .str();
  int64_t vectors = nr / target.vectorLanes;
  int64_t registers = mr * vectors + vectors + 1;
  if (registers > target.vectorRegisters)
    return llvm::formatv("a {0}x{1} register tile needs {2} vector "
                         "registers, the target has {3} ({4} x {5} too big)",
                         mr, nr, registers, target.vectorRegisters, rowsKnob,
                         colsKnob)
        .str();
  return std::nullopt;
}

/// Why a kc x nc B panel does not stay in L2, or nullopt.
std::optional<std::string> panelReason(int64_t kc, int64_t nc,
                                       const std::string &elemType,
                                       const TargetFacts &target) {
  CpuOpShape shape;
  shape.elemType = elemType;
  int64_t elemBytes = shape.elemBytes();
  if (kc * nc * elemBytes > target.l2Bytes)
    return llvm::formatv("the B panel kc x nc = {0}x{1} ({2} KiB) exceeds "
                         "the L2 cache ({3} KiB)",
                         kc, nc, kc * nc * elemBytes / 1024,
                         target.l2Bytes / 1024)
        .str();
  return std::nullopt;
}
} // namespace hatc::tuner::sketches
