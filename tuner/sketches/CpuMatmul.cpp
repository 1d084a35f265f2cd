//===- CpuMatmul.cpp - cpu_matmul: threads, cache and register tiles ------===//
//
//   matmul / batch_matmul (+ a fused elementwise consumer): threads over
//   scf.forall, cache tiles with interchange, a vectorized register tile
//   lowered to vector.fma, k-unrolling, packing and padding of panels.
//
//===----------------------------------------------------------------------===//
#include "tuner/sketches/Common.h"
#include "tuner/sketches/Sketches.h"

#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner::sketches {
namespace {

/// Constant weights from this size on are taken to come from memory in a
/// model run (BERT's 2.25 MiB and larger; the MLP's 1.5 MiB, whose model's
/// 2.6 MB of weights stay in the L3, are not).
constexpr int64_t kWeightsFromMemory = int64_t(2) << 20;

class CpuMatmulSketch : public Sketch {
public:
  CpuMatmulSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    batched = shape.anchor == WorkloadShape::Anchor::BatchMatmul;
    size_t off = batched ? 1 : 0;
    if (batched)
      B = shape.loopRanges[0];
    M = shape.loopRanges[off];
    N = shape.loopRanges[off + 1];
    K = shape.loopRanges[off + 2];
    specs = {{"par", threadCounts(target)},
             {"mc", ints({8, 16, 32, 64, 128, 256})},
             {"nc", ints({16, 32, 64, 128, 256, 512})},
             {"kc", ints({16, 32, 64, 128, 256, 512})},
             {"mr", ints({1, 2, 4, 6, 8})},
             {"nr", nrDomain(target, /*widest=*/true)},
             {"k_unroll", ints({1, 2, 4})},
             {"order", {"mnk", "nmk"}},
             {"pack", ints({0, 1})}};
    // 2: B in nr-wide panels (CpuMatmulParams::panels), f32 matmuls.
    if (!panelShapeReason(cpuShapeOf(shape))) {
      specs[8] = {"pack", ints({0, 1, 2})};
      // A model's large weights come from memory on each run (a BERT
      // layer's 28 MB do not stay in the L3), but stay cached while the
      // task is measured alone. Packed into panels at compile time (free)
      // they are read block by block and the kernel prefetches the next
      // block (hatc-prefetch-weights); unpacked, it does not. Measured
      // alone, unpacked configs won by 1-3% and then ran slower in the
      // model (BERT: its Q/K/V matmuls' tuned pack=0 made the tuned
      // library slower than the default one), so such tasks keep panels.
      weightsFromMemory =
          shape.constantWeights && !batched &&
          K * N * cpuShapeOf(shape).elemBytes() >= kWeightsFromMemory;
      if (weightsFromMemory)
        specs[8] = {"pack", ints({2})};
    }
    // A batch matmul's configs had no fuse before it was offered to them.
    if (shape.hasElementwiseConsumer)
      specs.push_back({"fuse", ints({0, 1}), nlohmann::json(0)});
    // i8 / bf16 where the host has their dot products: FMAs on widened
    // values (1) or a dot product of a k group per step (4 or 2).
    dotGroup = cpuShapeOf(shape).dotGroup(cpuFactsOf(target));
    if (dotGroup)
      specs.push_back({"dot_group", ints({1, dotGroup})});
  }
  std::string name() const override { return "cpu_matmul"; }

  cost_model::SketchDescription describe(const Config &c) const override {
    cost_model::CpuGemmKnobs k = gemmKnobs(c);
    k.orderNmk = knobIs(c, "order", "nmk");
    k.pack = knobOr0(c, "pack") != 0;
    k.panels = knobOr0(c, "pack") == 2;
    k.fuse = knobOr0(c, "fuse") != 0;
    k.dotGroup = std::max<int64_t>(1, knobOr0(c, "dot_group"));
    CpuMatmulParams p;
    p.par = k.par, p.nr = k.nr, p.pack = k.pack, p.panels = k.panels;
    k.splitN = p.splitsN(cpuShapeOf(shape));
    return {cost_model::FSketchCpuMatmul, k};
  }
  bool takesDefault() const override {
    return defaultFamilyIs<CpuMatmulParams>(cpuShapeOf(shape), target);
  }

  CpuMatmulParams params(const Config &c) const {
    CpuMatmulParams p;
    p.par = knob(c, "par"), p.mc = knob(c, "mc"), p.nc = knob(c, "nc");
    p.kc = knob(c, "kc"), p.mr = knob(c, "mr"), p.nr = knob(c, "nr");
    p.kUnroll = knob(c, "k_unroll");
    p.orderNmk = c.at("order") == "nmk";
    p.pack = knob(c, "pack") != 0;
    p.panels = knob(c, "pack") == 2;
    p.fuse = c.value("fuse", 0);
    p.dotGroup = c.value("dot_group", 1);
    return p;
  }
  /// Tile sizes clamped to what a thread's part of the problem has.
  CpuMatmulParams::Tiles tiles(const Config &c) const {
    return params(c).tiles(cpuShapeOf(shape));
  }

  std::optional<Config> analyticalDefault() const override {
    auto p = deriveCpuMatmul(cpuShapeOf(shape), cpuFactsOf(target));
    if (!p)
      return std::nullopt;
    Config c = {{"sketch", name()},  {"par", p->par},
                {"mc", p->mc},       {"nc", p->nc},
                {"kc", p->kc},       {"mr", p->mr},
                {"nr", p->nr},       {"k_unroll", p->kUnroll},
                {"order", p->orderNmk ? "nmk" : "mnk"},
                {"pack", p->panels ? 2 : int64_t(p->pack)}};
    if (shape.hasElementwiseConsumer && !batched)
      c["fuse"] = int64_t(p->fuse);
    if (dotGroup)
      c["dot_group"] = p->dotGroup;
    return c;
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = parReason(c, target))
      return reason;
    if (auto reason = checkDomains(c))
      return reason;
    int64_t par = knob(c, "par"), mr = knob(c, "mr"), nr = knob(c, "nr");
    bool pack = knob(c, "pack"), fuse = c.value("fuse", 0);
    CpuMatmulParams::Tiles t = tiles(c);
    if (auto reason = registerTileReason(mr, nr, target))
      return reason;
    if (auto reason = panelReason(t.kc, t.nc, shape.elemType, target))
      return reason;
    if (batched && B % par)
      return llvm::formatv("par={0} does not divide the batch {1}", par, B)
          .str();
    // In place, the threads split M evenly, or N where few rows each
    // would leave them (CpuMatmulParams::splitsN: a one-row product).
    if (!batched && M % par && !pack &&
        !params(c).splitsN(cpuShapeOf(shape)))
      return llvm::formatv("par={0} does not divide M={1}; needs pack=1 "
                           "(padding)",
                           par, M)
          .str();
    if (!pack && (t.rows % t.mc || t.cols % t.nc || K % t.kc))
      return llvm::formatv("cache tiles {0}x{1}x{2} do not divide "
                           "{3}x{4}x{5}; needs pack=1 (padding)",
                           t.mc, t.nc, t.kc, t.rows, t.cols, K)
          .str();
    // Without padding the register tile must divide the cache tile; with
    // it, the packed panels are padded to a multiple of the register tile.
    if (!pack && t.mc % mr)
      return llvm::formatv("register rows mr={0} do not divide the cache "
                           "tile mc={1}; needs pack=1 (padding)",
                           mr, t.mc)
          .str();
    if (!pack && t.nc % nr)
      return llvm::formatv("register cols nr={0} do not divide the cache "
                           "tile nc={1}; needs pack=1 (padding)",
                           nr, t.nc)
          .str();
    if (mr > t.mc || nr > t.nc + target.vectorLanes - 1)
      return llvm::formatv("the {0}x{1} register tile is larger than the "
                           "{2}x{3} cache tile",
                           mr, nr, t.mc, t.nc)
          .str();
    if (knob(c, "pack") == 2)
      if (auto reason = panelMatmulReason(cpuShapeOf(shape), params(c)))
        return reason;
    // The prefetch serves a block of the weights that two register tiles
    // or more read in turn (it spreads the next block over their steps);
    // with mc = mr the kernel's loop has no such loop around it, and BERT's
    // tuned mc = mr = 8 configs ran slower in the model than the default.
    if (weightsFromMemory && t.mc < 2 * mr)
      return llvm::formatv("a model's weights of {0} MiB come from memory: "
                           "their blocks are prefetched for two register "
                           "tiles or more (mc >= 2 * mr), not mc={1}, mr={2}",
                           kWeightsFromMemory >> 20, t.mc, mr)
          .str();
    int64_t group = c.value("dot_group", 1);
    if (group > 1 && !pack && t.kc % group)
      return llvm::formatv("dot_group={0} does not divide the k tile {1}; "
                           "needs pack=1 (padding)",
                           group, t.kc)
          .str();
    if (fuse) {
      if (!batched && M % par) // a batch matmul's threads divide B (above)
        return llvm::formatv("fusion needs par={0} to divide M={1}", par, M)
            .str();
      if (t.cols % target.vectorLanes)
        return llvm::formatv("fusion vectorizes the consumer by {0} lanes, "
                             "which do not divide a thread's {1} columns",
                             target.vectorLanes, t.cols)
            .str();
    }
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    CpuScheduleScript s("hatc sketch cpu_matmul: " + c.dump());
    s.matmul(s.match({shape.anchorOp}), cpuShapeOf(shape), params(c),
             target.vectorLanes);
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  bool batched = false;
  /// A model's weights of kWeightsFromMemory or more (see the constructor).
  bool weightsFromMemory = false;
  int64_t dotGroup = 0; // 0: no dot-product instruction for these types
  int64_t B = 1, M = 0, N = 0, K = 0;
};

/// cpu_matmul_amx (CpuSchedules.h): AMX tiles for i8 and bf16 matmuls.
/// Shapes that do not tile into 16-row, 64-byte tiles have no valid config
/// (cpu_matmul takes them).
class CpuMatmulAmxSketch : public Sketch {
public:
  CpuMatmulAmxSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    specs = {{"par", threadCounts(target)},
             {"mt", ints({16, 32})},
             {"nt", ints({16, 32})},
             {"kc", ints({32, 64, 128, 256, 512, 1024, 2048})},
             {"nc", ints({32, 64, 128, 256, 512, 1024, 2048, 4096})}};
  }
  std::string name() const override { return "cpu_matmul_amx"; }

  CpuAmxMatmulParams params(const Config &c) const {
    CpuAmxMatmulParams p;
    p.par = knob(c, "par"), p.mt = knob(c, "mt"), p.nt = knob(c, "nt");
    p.kc = knob(c, "kc"), p.nc = knob(c, "nc");
    return p;
  }

  cost_model::SketchDescription describe(const Config &c) const override {
    // Described as a packed cpu_matmul whose register tile is the
    // micro-tile (the schema has no AMX family of its own yet).
    cost_model::CpuGemmKnobs k;
    CpuAmxMatmulParams p = params(c);
    k.par = p.par, k.mc = p.mt, k.nc = p.nc, k.kc = p.kc;
    k.mr = p.mt, k.nr = p.nt, k.kUnroll = 1, k.pack = true, k.amx = true;
    return {cost_model::FSketchCpuMatmul, k};
  }
  bool takesDefault() const override {
    return defaultFamilyIs<CpuAmxMatmulParams>(cpuShapeOf(shape), target);
  }

  std::optional<Config> analyticalDefault() const override {
    auto p = deriveCpuAmxMatmul(cpuShapeOf(shape), cpuFactsOf(target));
    if (!p)
      return std::nullopt;
    return Config{{"sketch", name()}, {"par", p->par}, {"mt", p->mt},
                  {"nt", p->nt},      {"kc", p->kc},   {"nc", p->nc}};
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = parReason(c, target))
      return reason;
    if (auto reason = checkDomains(c))
      return reason;
    return amxMatmulReason(cpuShapeOf(shape), params(c), cpuFactsOf(target));
  }

  std::string script(const Config &c) const override {
    CpuScheduleScript s("hatc sketch cpu_matmul_amx: " + c.dump());
    s.amxMatmul(s.match({shape.anchorOp}), cpuShapeOf(shape), params(c));
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
};

} // namespace

std::unique_ptr<Sketch> makeCpuMatmulAmxSketch(const WorkloadShape &shape,
                                               const TargetFacts &target) {
  return std::make_unique<CpuMatmulAmxSketch>(shape, target);
}

std::unique_ptr<Sketch> makeCpuMatmulSketch(const WorkloadShape &shape,
                                            const TargetFacts &target) {
  return std::make_unique<CpuMatmulSketch>(shape, target);
}

} // namespace hatc::tuner::sketches
