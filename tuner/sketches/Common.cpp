//===- Common.cpp - What the sketches share -------------------------------===//
#include "tuner/sketches/Common.h"

#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner::sketches {

std::vector<json> ints(std::initializer_list<int64_t> values) {
  return std::vector<json>(values.begin(), values.end());
}

std::vector<json> threadCounts(const TargetFacts &target) {
  std::vector<json> out;
  int64_t most = std::max<int64_t>(4, target.cores);
  for (int64_t p = 1; p <= most; p *= 2)
    out.push_back(p);
  if (target.cores > 4 && (target.cores & (target.cores - 1)))
    out.push_back(target.cores);
  return out;
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

std::string list(const std::vector<int64_t> &values) {
  return "[" +
         llvm::join(llvm::map_range(values,
                                    [](int64_t v) { return std::to_string(v); }),
                    ", ") +
         "]";
}

/// `n` results of !transform.any_op, for a tiling op's type signature.
std::string anyOps(size_t n) {
  std::vector<std::string> types(n, "!transform.any_op");
  return llvm::join(types, ", ");
}

std::string zeroOf(const std::string &type) {
  return type[0] == 'f' ? "0.0 : " + type : "0 : " + type;
}

int64_t knob(const Config &c, const char *name) { return c.at(name).get<int64_t>(); }

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
  int64_t elemBytes = elemType == "i8" ? 1 : 4;
  if (kc * nc * elemBytes > target.l2Bytes)
    return llvm::formatv("the B panel kc x nc = {0}x{1} ({2} KiB) exceeds "
                         "the L2 cache ({3} KiB)",
                         kc, nc, kc * nc * elemBytes / 1024,
                         target.l2Bytes / 1024)
        .str();
  return std::nullopt;
}
} // namespace hatc::tuner::sketches
