//===- Common.h - What the sketches share -----------------------*- C++ -*-===//
//
// Knob domains, constraint helpers and the transform-script writer that the
// sketches in tuner/sketches/ share. Internal to hatc_tuner.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TUNER_SKETCHES_COMMON_H
#define HATC_TUNER_SKETCHES_COMMON_H

#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Lowering/ScriptBuilder.h"
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

/// Thread counts for `par` knobs: powers of two up to the kernel threads
/// (TargetFacts::threads), and that count itself.
std::vector<json> threadCounts(const TargetFacts &target);

/// `nr` knob domains in vectors of the target's lanes: 1 to 4
/// (hatc::registerTileWidths), and with `widest` also 8 vectors with 32
/// registers or 6 with 16 (the widest one-row tile they hold). cpu_matmul:
/// {16, 32, 48, 64, 128} on AVX-512, {8, 16, 24, 32, 48} on AVX2.
/// AVX-512's widths on AVX2 left few valid tiles (6 of 100 samples of a
/// 257x129x67 matmul): 8 vectors and more do not fit 16 registers.
std::vector<json> nrDomain(const TargetFacts &target, bool widest);

/// Why the config's `par` exceeds the kernel threads, or nullopt (also
/// when it has no integer `par`). Checked before the domains, so the
/// reason names the thread count.
std::optional<std::string> parReason(const Config &c,
                                     const TargetFacts &target);

/// The divisors of n in [lo, hi], ascending; {n} when there are none (a
/// small extent is one whole tile).
std::vector<json> divisorsIn(int64_t n, int64_t lo, int64_t hi);

/// A sketch's transform script being built (ScriptBuilder, over a
/// read-only %root), with the steps several sketches take.
class Script : public ScriptBuilder {
public:
  using ScriptBuilder::ScriptBuilder;
  using ScriptBuilder::cleanup;

  mlir::Value match(llvm::StringRef op) { return ScriptBuilder::match({op}); }
  /// Canonicalization and CSE on the function.
  void cleanup() { cleanup(func()); }
};

/// The schedule families' view of a workload's anchor and of the target
/// (CpuSchedules.h): the CPU sketches print their scripts with those steps.
CpuOpShape cpuShapeOf(const WorkloadShape &shape);
CpuFacts cpuFactsOf(const TargetFacts &target);

/// An integer knob of a config.
int64_t knob(const Config &c, const char *name);

/// For takesDefault(): whether the CPU default schedule of an op of
/// `shape` (deriveCpuSchedule) is the family whose parameters are `Params`.
template <typename Params>
bool defaultFamilyIs(const CpuOpShape &shape, const TargetFacts &target) {
  return target.kind == TargetKind::Cpu &&
         std::holds_alternative<Params>(
             deriveCpuSchedule(shape, cpuFactsOf(target)));
}

/// For describe(), which takes any config: a numeric knob (booleans as
/// 0/1), 0 when it is missing or not a number.
int64_t knobOr0(const Config &c, const char *name);
/// The knobs cpu_matmul and cpu_conv_im2col share (threads, cache and
/// register tiles, k unrolling), as the cost model reads them.
cost_model::CpuGemmKnobs gemmKnobs(const Config &c);
/// For describe(): whether the string knob `name` is `value`.
bool knobIs(const Config &c, const char *name, const char *value);

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
