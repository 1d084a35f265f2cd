//===- CpuConv.cpp - cpu_conv and cpu_conv_im2col -------------------------===//
//
//   conv_2d_nhwc_hwcf direct: tiled, 1-D-decomposed, vectorized;
//   or as a GEMM on its patch matrix, each thread building its own rows;
//   or, i8 and bf16 on a host with AMX, in AMX micro-tiles.
//
//===----------------------------------------------------------------------===//
#include "tuner/sketches/Common.h"
#include "tuner/sketches/Sketches.h"

#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner::sketches {
namespace {

/// Channels a step: 1, then multiples of 4 up to 64, and all of them where
/// there are fewer than 64 that no step divides (an RGB stem's 3: a whole
/// filter row a step takes all).
std::vector<json> channelSteps(int64_t C) {
  std::vector<json> steps = ints({1, 4, 8, 16, 32, 64});
  if (C < 64 && C > 1 && C % 4)
    steps.push_back(C);
  return steps;
}

class CpuConvSketch : public Sketch {
public:
  CpuConvSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    // Loops: n, oh, ow, f, kh, kw, c.
    const auto &r = shape.loopRanges;
    OH = r[1], OW = r[2], F = r[3], KH = r[4], C = r[6];
    specs = {{"par", threadCounts(target)},
             {"ow_t", ints({1, 2, 4, 7, 8, 14})},
             {"f_t", ints({4, 8, 16, 32, 48, 64})},
             {"c_t", channelSteps(C)},
             {"hoist", ints({0, 1})},
             // Threads over the filters instead of the rows (added later:
             // configs recorded without it split the rows).
             {"par_f", ints({0, 1}), json(0)},
             // A thread's filter tiles outermost, and a whole filter row a
             // step (added later still: absent, neither).
             {"f_outer", ints({0, 1}), json(0)},
             {"whole_kw", ints({0, 1}), json(0)}};
  }
  std::string name() const override { return "cpu_conv"; }

  cost_model::SketchDescription describe(const Config &c) const override {
    cost_model::CpuConvKnobs k;
    k.par = knobOr0(c, "par"), k.owT = knobOr0(c, "ow_t");
    k.fT = knobOr0(c, "f_t"), k.cT = knobOr0(c, "c_t");
    k.hoist = knobOr0(c, "hoist") != 0;
    CpuConvParams p;
    p.fT = k.fT, p.cT = k.cT;
    p.dotGroup = dotGroup();
    k.dotGroup = p.usesDots() ? p.dotGroup : 1;
    return {cost_model::FSketchCpuConv, k};
  }
  bool takesDefault() const override {
    return defaultFamilyIs<CpuConvParams>(cpuShapeOf(shape), target);
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = parReason(c, target))
      return reason;
    if (auto reason = checkDomains(c))
      return reason;
    int64_t par = knob(c, "par"), ow = knob(c, "ow_t"), f = knob(c, "f_t"),
            ch = knob(c, "c_t");
    bool parF = knobOr0(c, "par_f") != 0;
    if (!parF && OH % par)
      return llvm::formatv("par={0} does not divide the {1} output rows", par,
                           OH)
          .str();
    if (parF && F % (par * f))
      return llvm::formatv("par={0} x f_t={1} does not divide the {2} "
                           "filters (par_f=1)",
                           par, f, F)
          .str();
    if (OW % ow)
      return llvm::formatv("ow_t={0} does not divide the output width {1}", ow,
                           OW)
          .str();
    if (F % f)
      return llvm::formatv("f_t={0} does not divide the {1} filters", f, F)
          .str();
    if (C % ch)
      return llvm::formatv("c_t={0} does not divide the {1} channels", ch, C)
          .str();
    bool wholeKw = knobOr0(c, "whole_kw") != 0;
    if (knob(c, "hoist") && ch == C && !wholeKw)
      return llvm::formatv("hoist=1 needs a channel loop to hoist out of, but "
                           "c_t={0} covers all {1} channels",
                           ch, C)
          .str();
    if (knob(c, "hoist") && wholeKw && KH == 1 && ch == C)
      return llvm::formatv("hoist=1 needs a loop to hoist out of, but "
                           "whole_kw=1 and c_t={0} cover a 1-row filter",
                           ch)
          .str();
    // Whole vectors of filters, or one part of a vector (24 filters on 16
    // lanes run as tiles of 8).
    if (f % target.vectorLanes && target.vectorLanes % f)
      return llvm::formatv("f_t={0} is neither a multiple nor a part of the "
                           "{1} vector lanes",
                           f, target.vectorLanes)
          .str();
    CpuConvParams p = params(c);
    if (!fitsConvRegisters(ow, f, cpuFactsOf(target), p.usesDots()))
      return llvm::formatv("an ow_t x f_t = {0}x{1} tile of accumulators "
                           "does not fit the {2} vector registers{3}",
                           ow, f, target.vectorRegisters,
                           p.usesDots() ? " (with the dot products' second "
                                          "vector per filter vector)"
                                        : "")
          .str();
    return std::nullopt;
  }

  CpuConvParams params(const Config &c) const {
    CpuConvParams p;
    p.par = knob(c, "par"), p.owT = knob(c, "ow_t"), p.fT = knob(c, "f_t");
    p.cT = knob(c, "c_t"), p.hoist = knob(c, "hoist");
    p.parF = knobOr0(c, "par_f") != 0;
    p.fOuter = knobOr0(c, "f_outer") != 0;
    p.wholeKw = knobOr0(c, "whole_kw") != 0;
    p.dotGroup = dotGroup();
    return p;
  }

  /// k elements per dot-product step on this host (1: none).
  int64_t dotGroup() const {
    return std::max<int64_t>(
        1, cpuShapeOf(shape).dotGroup(cpuFactsOf(target)));
  }

  std::optional<Config> analyticalDefault() const override {
    auto p = deriveCpuConv(cpuShapeOf(shape), cpuFactsOf(target));
    if (!p)
      return std::nullopt;
    Config c = {{"sketch", name()}, {"par", p->par},   {"ow_t", p->owT},
                {"f_t", p->fT},     {"c_t", p->cT},
                {"hoist", int64_t(p->hoist)}, {"par_f", int64_t(p->parF)},
                {"f_outer", int64_t(p->fOuter)},
                {"whole_kw", int64_t(p->wholeKw)}};
    return c;
  }

  std::string script(const Config &c) const override {
    CpuScheduleScript s("hatc sketch cpu_conv: " + c.dump());
    s.conv(s.match({shape.anchorOp}), cpuShapeOf(shape), params(c));
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  int64_t OH = 1, OW = 1, F = 1, KH = 1, C = 1;
};

//===----------------------------------------------------------------------===//
// cpu_conv_im2col
//===----------------------------------------------------------------------===//

/// The convolution of one image as a GEMM: convert_conv2d_to_img2col builds
/// the (OH*OW) x (KH*KW*C) patch matrix and a contraction with the
/// (KH*KW*C) x F filter, the unit batch dim is folded away (the vectorizer
/// turns a contraction with a leading unit dim into scalar code), the GEMM
/// is tiled like cpu_matmul (threads over patch rows, cache tiles, a
/// vectorized register tile) and each thread builds its own rows of the
/// patch matrix (the im2col generic fused into the thread's loop), `copy`
/// elements at a time.
class CpuConvIm2colSketch : public Sketch {
public:
  CpuConvIm2colSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    // Loops: n, oh, ow, f, kh, kw, c.
    const auto &r = shape.loopRanges;
    images = r[0], M = r[1] * r[2], N = r[3], K = r[4] * r[5] * r[6];
    specs = {{"par", threadCounts(target)},
             {"mc", divisorsIn(M, 8, 256)},
             {"nc", divisorsIn(N, 16, 512)},
             {"kc", divisorsIn(K, 16, 1024)},
             {"mr", ints({1, 2, 4, 6, 7, 8})},
             {"nr", nrDomain(target, /*widest=*/false)},
             {"k_unroll", ints({1, 2, 4})},
             {"copy", ints({16, 32, 64})}};
  }
  std::string name() const override { return "cpu_conv_im2col"; }

  /// The GEMM on the patch matrix, tiled as cpu_matmul tiles a matmul, plus
  /// the patch copy.
  cost_model::SketchDescription describe(const Config &c) const override {
    cost_model::CpuGemmKnobs k = gemmKnobs(c);
    k.copy = knobOr0(c, "copy");
    return {cost_model::FSketchCpuConvIm2col, k};
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = parReason(c, target))
      return reason;
    if (auto reason = checkDomains(c))
      return reason;
    int64_t par = knob(c, "par"), mc = knob(c, "mc"), nc = knob(c, "nc"),
            kc = knob(c, "kc"), mr = knob(c, "mr"), nr = knob(c, "nr"),
            copy = knob(c, "copy");
    if (images != 1)
      return llvm::formatv("cpu_conv_im2col takes one image, not {0}", images)
          .str();
    if (M % par)
      return llvm::formatv("par={0} does not divide the {1} patch rows", par,
                           M)
          .str();
    if ((M / par) % mc)
      return llvm::formatv("mc={0} does not divide a thread's {1} patch rows",
                           mc, M / par)
          .str();
    if (N % nc)
      return llvm::formatv("nc={0} does not divide the {1} filters", nc, N)
          .str();
    if (mc % mr || nc % nr)
      return llvm::formatv("the {0}x{1} register tile does not divide the "
                           "{2}x{3} cache tile",
                           mr, nr, mc, nc)
          .str();
    if (auto reason = registerTileReason(mr, nr, target))
      return reason;
    if (auto reason = panelReason(kc, nc, shape.elemType, target))
      return reason;
    if (K % copy || copy % target.vectorLanes)
      return llvm::formatv("copy={0} must divide the patch length {1} and be "
                           "a multiple of the {2} vector lanes",
                           copy, K, target.vectorLanes)
          .str();
    return std::nullopt;
  }

  CpuConvIm2colParams params(const Config &c) const {
    CpuConvIm2colParams p;
    p.par = knob(c, "par"), p.mc = knob(c, "mc"), p.nc = knob(c, "nc");
    p.kc = knob(c, "kc"), p.mr = knob(c, "mr"), p.nr = knob(c, "nr");
    p.kUnroll = knob(c, "k_unroll"), p.copy = knob(c, "copy");
    return p;
  }

  std::optional<Config> analyticalDefault() const override {
    auto p = deriveCpuConvIm2col(cpuShapeOf(shape), cpuFactsOf(target));
    if (!p)
      return std::nullopt;
    Config c = {{"sketch", name()}, {"par", p->par},
                {"mc", p->mc},      {"nc", p->nc},
                {"kc", p->kc},      {"mr", p->mr},
                {"nr", p->nr},      {"k_unroll", p->kUnroll},
                {"copy", p->copy}};
    return c;
  }

  std::string script(const Config &c) const override {
    CpuScheduleScript s("hatc sketch cpu_conv_im2col: " + c.dump());
    s.convIm2col(s.match({shape.anchorOp}), cpuShapeOf(shape), params(c));
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  int64_t images = 1, M = 1, N = 1, K = 1; // M x N x K: the GEMM per image
};

//===----------------------------------------------------------------------===//
// cpu_conv_amx
//===----------------------------------------------------------------------===//

/// cpu_conv_amx (CpuSchedules.h): AMX tiles for i8 and bf16 NHWC convs,
/// their A tiles loaded straight from the input. Channels that are not
/// whole 64-byte tile rows have no valid config (cpu_conv takes them).
class CpuConvAmxSketch : public Sketch {
public:
  CpuConvAmxSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    specs = {{"par", threadCounts(target)},
             {"ow_t", ints({4, 7, 8, 14, 16, 28, 32})},
             {"f_t", ints({16, 32})}};
  }
  std::string name() const override { return "cpu_conv_amx"; }

  CpuAmxConvParams params(const Config &c) const {
    CpuAmxConvParams p;
    p.par = knob(c, "par"), p.owT = knob(c, "ow_t"), p.fT = knob(c, "f_t");
    return p;
  }

  /// A cpu_conv tile of ow_t x f_t over all the channels, on AMX.
  cost_model::SketchDescription describe(const Config &c) const override {
    cost_model::CpuConvKnobs k;
    k.par = knobOr0(c, "par"), k.owT = knobOr0(c, "ow_t");
    k.fT = knobOr0(c, "f_t");
    k.cT = shape.loopRanges.size() == 7 ? shape.loopRanges[6] : 0;
    k.dotGroup = std::max<int64_t>(1, cpuShapeOf(shape).narrowGroup());
    k.amx = true;
    return {cost_model::FSketchCpuConv, k};
  }
  bool takesDefault() const override {
    return defaultFamilyIs<CpuAmxConvParams>(cpuShapeOf(shape), target);
  }

  std::optional<Config> analyticalDefault() const override {
    auto p = deriveCpuAmxConv(cpuShapeOf(shape), cpuFactsOf(target));
    if (!p)
      return std::nullopt;
    return Config{{"sketch", name()},
                  {"par", p->par},
                  {"ow_t", p->owT},
                  {"f_t", p->fT}};
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = parReason(c, target))
      return reason;
    if (auto reason = checkDomains(c))
      return reason;
    return amxConvReason(cpuShapeOf(shape), params(c), cpuFactsOf(target));
  }

  std::string script(const Config &c) const override {
    CpuScheduleScript s("hatc sketch cpu_conv_amx: " + c.dump());
    s.amxConv(s.match({shape.anchorOp}), cpuShapeOf(shape), params(c));
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
};

} // namespace

std::unique_ptr<Sketch> makeCpuConvSketch(const WorkloadShape &shape,
                                          const TargetFacts &target) {
  return std::make_unique<CpuConvSketch>(shape, target);
}

std::unique_ptr<Sketch> makeCpuConvIm2colSketch(const WorkloadShape &shape,
                                                const TargetFacts &target) {
  return std::make_unique<CpuConvIm2colSketch>(shape, target);
}

std::unique_ptr<Sketch> makeCpuConvAmxSketch(const WorkloadShape &shape,
                                             const TargetFacts &target) {
  return std::make_unique<CpuConvAmxSketch>(shape, target);
}

} // namespace hatc::tuner::sketches
