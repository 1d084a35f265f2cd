//===- Gpu.cpp - gpu_matmul, gpu_elementwise: blocks x threads ------------===//
//===----------------------------------------------------------------------===//
#include "tuner/sketches/Common.h"
#include "tuner/sketches/Sketches.h"
#include "hatc/Lowering/GpuPipeline.h"

#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner::sketches {
namespace {

/// Blocks of bm x bn outputs (divisors of the shape, so thread tiles are
/// static), tm x tn per thread; for matmuls a k step bk and optionally its
/// A and B tiles in shared memory, copied vec elements at a time, and the
/// thread's tile as register-held outer products (reg). The script
/// comes from lowering's gpuScheduleText, as the default GPU schedule does.
class GpuSketch : public Sketch {
public:
  GpuSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target),
        matmul(shape.anchor == WorkloadShape::Anchor::Matmul) {
    const auto &r = shape.loopRanges;
    specs = {{"bm", divisorsIn(r[0], 1, 128)},
             {"bn", divisorsIn(r[1], 1, 128)},
             {"tm", ints({1, 2, 4, 8})},
             {"tn", ints({1, 2, 4, 8})}};
    if (matmul) {
      specs.push_back({"bk", ints({4, 8, 16, 32})});
      specs.push_back({"promote", {false, true}});
      specs.push_back({"vec", ints({1, 2, 4})});
      specs.push_back({"reg", {false, true}});
    }
  }
  std::string name() const override {
    return matmul ? "gpu_matmul" : "gpu_elementwise";
  }

  cost_model::SketchDescription describe(const Config &c) const override {
    cost_model::GpuKernelKnobs k;
    k.bm = knobOr0(c, "bm"), k.bn = knobOr0(c, "bn");
    k.tm = knobOr0(c, "tm"), k.tn = knobOr0(c, "tn");
    k.bk = knobOr0(c, "bk"), k.vec = knobOr0(c, "vec");
    k.promote = knobOr0(c, "promote") != 0;
    k.registerTile = knobOr0(c, "reg") != 0;
    return {matmul ? cost_model::FSketchGpuMatmul
                   : cost_model::FSketchGpuElementwise,
            k};
  }

  GpuSchedule schedule(const Config &c) const {
    GpuSchedule g;
    g.blockM = knob(c, "bm"), g.blockN = knob(c, "bn");
    g.threadM = knob(c, "tm"), g.threadN = knob(c, "tn");
    if (matmul) {
      g.blockK = knob(c, "bk");
      g.promote = c.at("promote").get<bool>();
      g.vectorWidth = knob(c, "vec");
      g.registerTile = c.at("reg").get<bool>();
    }
    return g;
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = checkDomains(c))
      return reason;
    GpuSchedule g = schedule(c);
    if (g.blockM % g.threadM || g.blockN % g.threadN)
      return llvm::formatv("thread tile {0}x{1} does not divide the block "
                           "tile {2}x{3}",
                           g.threadM, g.threadN, g.blockM, g.blockN)
          .str();
    int64_t threads = (g.blockM / g.threadM) * (g.blockN / g.threadN);
    if (threads < 32 || threads > target.gpuMaxThreads)
      return llvm::formatv("{0} threads per block (needs 32 to {1})", threads,
                           target.gpuMaxThreads)
          .str();
    if (g.threadM * g.threadN > 64)
      return llvm::formatv("{0} outputs per thread would spill registers",
                           g.threadM * g.threadN)
          .str();
    if (!matmul)
      return std::nullopt;
    int64_t K = shape.loopRanges[2];
    if (g.blockK > K)
      return llvm::formatv("bk={0} exceeds K={1}", g.blockK, K).str();
    if (!g.promote) {
      if (g.vectorWidth != 1)
        return std::string("vec applies to shared-memory copies only "
                           "(promote=false needs vec=1)");
      return std::nullopt;
    }
    if (K % g.blockK)
      return llvm::formatv("promotion needs bk={0} to divide K={1}", g.blockK,
                           K)
          .str();
    int64_t bytes = 4 * (g.blockM * g.blockK + g.blockK * g.blockN);
    if (bytes > target.gpuSharedBytes)
      return llvm::formatv("A and B tiles need {0} bytes of shared memory, a "
                           "block has {1}",
                           bytes, target.gpuSharedBytes)
          .str();
    if (g.blockK % g.vectorWidth || g.blockN % g.vectorWidth)
      return llvm::formatv("vec={0} does not divide the copied rows (bk={1}, "
                           "bn={2})",
                           g.vectorWidth, g.blockK, g.blockN)
          .str();
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    return gpuScheduleText(schedule(c), matmul,
                           "hatc sketch " + name() + ": " + c.dump());
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  bool matmul;
};

} // namespace

std::unique_ptr<Sketch> makeGpuSketch(const WorkloadShape &shape,
                                      const TargetFacts &target) {
  return std::make_unique<GpuSketch>(shape, target);
}

} // namespace hatc::tuner::sketches
