//===- Common.h - What the sketches share -----------------------*- C++ -*-===//
//
// Knob domains, constraint helpers and the transform-script writer that the
// sketches in tuner/sketches/ share. Internal to hatc_tuner.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TUNER_SKETCHES_COMMON_H
#define HATC_TUNER_SKETCHES_COMMON_H

#include "hatc/Lowering/Schedule.h"
#include "hatc/Tuner/Sketch.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hatc::tuner::sketches {

using json = nlohmann::json;

std::vector<json> ints(std::initializer_list<int64_t> values);

/// Thread counts for `par` knobs: powers of two up to the core count (at
/// least 4, so a small machine still sees oversubscription), and the core
/// count itself.
std::vector<json> threadCounts(const TargetFacts &target);

/// The divisors of n in [lo, hi], ascending; {n} when there are none (a
/// small extent is one whole tile).
std::vector<json> divisorsIn(int64_t n, int64_t lo, int64_t hi);

/// "[a, b, c]".
std::string list(const std::vector<int64_t> &values);

/// `n` results of !transform.any_op, for a tiling op's type signature.
std::string anyOps(size_t n);

/// The zero of an element type as an attribute: "0.0 : f32", "0 : i8".
std::string zeroOf(const std::string &type);

/// A transform script being written: one named sequence over %root.
class Script {
public:
  explicit Script(std::string comment) {
    text = "// " + comment +
           "\nmodule attributes {transform.with_named_sequence} {\n"
           "  transform.named_sequence @__transform_main(%root: "
           "!transform.any_op {transform.readonly}) {\n";
  }
  Script &line(const std::string &l) {
    text += "    " + l + "\n";
    return *this;
  }
  std::string match(const std::string &op) {
    std::string h = fresh("op");
    line(h + " = transform.structured.match ops{[\"" + op +
         "\"]} in %root : (!transform.any_op) -> !transform.any_op");
    return h;
  }
  /// scf.forall over threads; returns {tiled op, forall}.
  std::pair<std::string, std::string>
  forall(const std::string &op, const std::vector<int64_t> &numThreads) {
    std::string t = fresh("par"), f = fresh("forall");
    line(t + ", " + f + " = transform.structured.tile_using_forall " + op +
         " num_threads " + list(numThreads) +
         " : (!transform.any_op) -> (!transform.any_op, !transform.any_op)");
    return {t, f};
  }
  /// fuse_into_containing_op; returns {fused producer, containing op}.
  std::pair<std::string, std::string> fuse(const std::string &producer,
                                           const std::string &containing) {
    std::string fused = fresh("fused"), loop = fresh("forall");
    line(fused + ", " + loop +
         " = transform.structured.fuse_into_containing_op " + producer +
         " into " + containing +
         " : (!transform.any_op, !transform.any_op) -> "
         "(!transform.any_op, !transform.any_op)");
    return {fused, loop};
  }
  /// The op producing operand `operand` of `op`.
  std::string producerOf(const std::string &op, int operand) {
    std::string h = fresh("producer");
    line(h + " = transform.get_producer_of_operand " + op + "[" +
         std::to_string(operand) +
         "] : (!transform.any_op) -> !transform.any_op");
    return h;
  }
  /// scf.for tiling; returns {tiled op, loops handle prefix}. Loop i is
  /// "<prefix>#i".
  std::pair<std::string, std::string>
  tile(const std::string &op, const std::vector<int64_t> &sizes,
       const std::vector<int64_t> &interchange = {}) {
    size_t loops = llvm::count_if(sizes, [](int64_t s) { return s != 0; });
    std::string t = fresh("tiled"), l = fresh("loops");
    line(t + ", " + l + ":" + std::to_string(loops) +
         " = transform.structured.tile_using_for " + op + " tile_sizes " +
         list(sizes) +
         (interchange.empty() ? "" : " interchange = " + list(interchange)) +
         " : (!transform.any_op) -> (" + anyOps(loops + 1) + ")");
    return {t, l};
  }
  std::string func() {
    if (funcHandle.empty())
      funcHandle = match("func.func");
    return funcHandle;
  }
  /// Vector patterns that turn vectorized contractions into vector.fma.
  void lowerContractions() { text += contractionsToFmaText(func(), "    "); }
  void cleanup() {
    std::string f = func();
    line("transform.apply_patterns to " + f + " {");
    line("  transform.apply_patterns.canonicalization");
    line("} : !transform.any_op");
    line("transform.apply_cse to " + f + " : !transform.any_op");
  }
  /// Tiles `op` by the register tile `sizes` and vectorizes it; returns the
  /// loops handle prefix.
  std::string vectorizedTile(const std::string &op,
                             const std::vector<int64_t> &sizes) {
    auto [micro, loops] = tile(op, sizes);
    line("transform.structured.vectorize " + micro + " : !transform.any_op");
    return loops;
  }
  /// After vectorizedTile (and any other vectorization): contractions to
  /// vector.fma, the accumulator hoisted out of the k loop `kLoop`, which is
  /// unrolled, and a cleanup.
  void finishRegisterTile(const std::string &kLoop, int64_t unroll) {
    lowerContractions();
    line("transform.loop.hoist_loop_invariant_subsets " + kLoop +
         " : !transform.any_op");
    if (unroll > 1)
      line("transform.loop.unroll " + kLoop + " {factor = " +
           std::to_string(unroll) + "} : !transform.any_op");
    cleanup();
  }
  std::string finish() {
    return text + "    transform.yield\n  }\n}\n";
  }
  std::string fresh(const std::string &base) {
    return "%" + base + std::to_string(counter++);
  }

private:
  std::string text, funcHandle;
  int counter = 0;
};

/// An integer knob of a config.
int64_t knob(const Config &c, const char *name);

/// Why an mr x nr register tile of accumulators (plus a row of B and a
/// broadcast A element) cannot be vectorized without spilling, or nullopt.
/// The knobs are named in the reason: `rowsKnob` (mr) and `colsKnob` (nr,
/// the vectorized dim).
std::optional<std::string>
registerTileReason(int64_t mr, int64_t nr, const TargetFacts &target,
                   const char *rowsKnob = "mr", const char *colsKnob = "nr");

/// Why a kc x nc B panel does not stay in L2, or nullopt.
std::optional<std::string> panelReason(int64_t kc, int64_t nc,
                                       const std::string &elemType,
                                       const TargetFacts &target);

} // namespace hatc::tuner::sketches

#endif // HATC_TUNER_SKETCHES_COMMON_H
