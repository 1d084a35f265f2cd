//===- CpuElementwise.cpp - cpu_elementwise: threads x vectorized tiles ---===//
//===----------------------------------------------------------------------===//
#include "tuner/sketches/Common.h"
#include "tuner/sketches/Sketches.h"

#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner::sketches {
namespace {

/// The column chunks cpu_elementwise vectorizes the inner loop in.
constexpr int64_t kColumnChunks[] = {16, 32, 64, 128, 256};

class CpuElementwiseSketch : public Sketch {
public:
  CpuElementwiseSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    specs = {{"par", threadCounts(target)},
             {"rows", ints({1, 2, 4, 8})},
             {"cols", std::vector<json>(std::begin(kColumnChunks),
                                        std::end(kColumnChunks))}};
  }
  std::string name() const override { return "cpu_elementwise"; }

  cost_model::SketchDescription describe(const Config &c) const override {
    cost_model::CpuElementwiseKnobs k;
    k.par = knobOr0(c, "par"), k.rows = knobOr0(c, "rows");
    k.cols = knobOr0(c, "cols");
    return {cost_model::FSketchCpuElementwise, k};
  }
  bool takesDefault() const override {
    return defaultFamilyIs<CpuElementwiseParams>(cpuShapeOf(shape), target);
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = parReason(c, target))
      return reason;
    if (auto reason = checkDomains(c))
      return reason;
    const auto &r = shape.loopRanges;
    if (r.size() < 2)
      return "cpu_elementwise needs at least two loops";
    int64_t par = knob(c, "par"), rows = knob(c, "rows"), cols = knob(c, "cols");
    if (r.front() % (par * rows))
      return llvm::formatv("par x rows = {0} does not divide the {1} outer "
                           "iterations",
                           par * rows, r.front())
          .str();
    if (r.back() % cols)
      return llvm::formatv("cols={0} does not divide the inner extent {1}",
                           cols, r.back())
          .str();
    if (cols % target.vectorLanes)
      return llvm::formatv("cols={0} is not a multiple of the {1} lanes", cols,
                           target.vectorLanes)
          .str();
    return std::nullopt;
  }

  CpuElementwiseParams params(const Config &c) const {
    CpuElementwiseParams p;
    p.par = knob(c, "par"), p.rows = knob(c, "rows"), p.cols = knob(c, "cols");
    return p;
  }

  std::optional<Config> analyticalDefault() const override {
    auto p = deriveCpuElementwise(cpuShapeOf(shape), cpuFactsOf(target));
    if (!p)
      return std::nullopt;
    Config c = {{"sketch", name()},
                {"par", p->par},
                {"rows", p->rows},
                {"cols", p->cols}};
    return c;
  }

  std::string script(const Config &c) const override {
    CpuScheduleScript s("hatc sketch cpu_elementwise: " + c.dump());
    s.elementwise(s.match({shape.anchorOp}), cpuShapeOf(shape), params(c));
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
};

} // namespace

bool fitsCpuElementwise(const WorkloadShape &shape, const TargetFacts &target) {
  const auto &r = shape.loopRanges;
  if (r.size() < 2)
    return false;
  for (int64_t cols : kColumnChunks)
    if (r.back() % cols == 0 && cols % target.vectorLanes == 0)
      return true;
  return false;
}

std::unique_ptr<Sketch> makeCpuElementwiseSketch(const WorkloadShape &shape,
                                                 const TargetFacts &target) {
  return std::make_unique<CpuElementwiseSketch>(shape, target);
}

} // namespace hatc::tuner::sketches
