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
             {"nr", ints({16, 32, 48, 64})},
             {"k_unroll", ints({1, 2, 4})},
             {"order", {"mnk", "nmk"}},
             {"pack", ints({0, 1})}};
    if (shape.hasElementwiseConsumer && !batched)
      specs.push_back({"fuse", ints({0, 1})});
  }
  std::string name() const override { return "cpu_matmul"; }

  /// Tile sizes clamped to what a thread's part of the problem has.
  struct Tiles {
    int64_t rows, mc, nc, kc;
  };
  Tiles tiles(const Config &c) const {
    int64_t par = knob(c, "par");
    // Threads split the batch when there is one, else the rows.
    int64_t rows = batched ? M : (M + par - 1) / par;
    return {rows, std::min(knob(c, "mc"), rows), std::min(knob(c, "nc"), N),
            std::min(knob(c, "kc"), K)};
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = checkDomains(c))
      return reason;
    int64_t par = knob(c, "par"), mr = knob(c, "mr"), nr = knob(c, "nr");
    bool pack = knob(c, "pack"), fuse = c.value("fuse", 0);
    Tiles t = tiles(c);
    if (par > target.cores * 2)
      return llvm::formatv("par {0} oversubscribes {1} cores", par,
                           target.cores)
          .str();
    if (auto reason = registerTileReason(mr, nr, target))
      return reason;
    if (auto reason = panelReason(t.kc, t.nc, shape.elemType, target))
      return reason;
    if (batched && B % par)
      return llvm::formatv("par={0} does not divide the batch {1}", par, B)
          .str();
    if (!batched && M % par && !pack)
      return llvm::formatv("par={0} does not divide M={1}; needs pack=1 "
                           "(padding)",
                           par, M)
          .str();
    if (!pack && (t.rows % t.mc || N % t.nc || K % t.kc))
      return llvm::formatv("cache tiles {0}x{1}x{2} do not divide "
                           "{3}x{4}x{5}; needs pack=1 (padding)",
                           t.mc, t.nc, t.kc, t.rows, N, K)
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
    if (fuse) {
      if (M % par)
        return llvm::formatv("fusion needs par={0} to divide M={1}", par, M)
            .str();
      if (N % target.vectorLanes)
        return llvm::formatv("fusion vectorizes the consumer by {0} lanes, "
                             "which do not divide N={1}",
                             target.vectorLanes, N)
            .str();
    }
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    Tiles t = tiles(c);
    int64_t par = knob(c, "par"), mr = knob(c, "mr"), nr = knob(c, "nr"),
            unroll = knob(c, "k_unroll");
    bool pack = knob(c, "pack"), fuse = c.value("fuse", 0);
    bool nmk = c.at("order") == "nmk";
    Script s("hatc sketch cpu_matmul: " + c.dump());
    std::string op = s.match(shape.anchorOp);
    std::string consumer;
    if (fuse) {
      // Tile the consumer over threads and pull the matmul (and its fill)
      // into each thread's tile.
      std::string cons = s.fresh("consumer");
      s.line(cons + " = transform.get_consumers_of_result " + op +
             "[0] : (!transform.any_op) -> !transform.any_op");
      std::string fill = s.producerOf(op, 2);
      auto [tiledConsumer, forall] = s.forall(cons, {par, 0});
      auto [fused, forall2] = s.fuse(op, forall);
      s.fuse(fill, forall2);
      op = fused;
      consumer = tiledConsumer;
    } else if (par > 1) {
      op = s.forall(op, batched ? std::vector<int64_t>{par, 0, 0, 0}
                                : std::vector<int64_t>{par, 0, 0})
               .first;
    }
    std::vector<int64_t> cache = {t.mc, t.nc, t.kc};
    std::vector<int64_t> reg = {mr, nr, 1};
    std::vector<int64_t> order =
        nmk ? std::vector<int64_t>{1, 0, 2} : std::vector<int64_t>{0, 1, 2};
    if (batched) {
      cache.insert(cache.begin(), 1);
      reg.insert(reg.begin(), 0);
      order = nmk ? std::vector<int64_t>{0, 2, 1, 3}
                  : std::vector<int64_t>{0, 1, 2, 3};
    }
    op = s.tile(op, cache, order).first;
    if (pack) {
      // Pad the cache tile to its static size, copying the A and B panels
      // into contiguous buffers (packing); the pads become fill + copy.
      std::string zero = zeroOf(shape.elemType), acc = zeroOf(shape.accType);
      std::string padded = s.fresh("padded"), pad = s.fresh("pad"),
                  copy = s.fresh("copy");
      std::string dims = batched ? "[0, 1, 2, 3]" : "[0, 1, 2]";
      std::string multiple = batched ? list({1, mr, nr, 1}) : list({mr, nr, 1});
      s.line(padded + ", " + pad + ", " + copy +
             " = transform.structured.pad " + op + " pad_to_multiple_of " +
             multiple + " {padding_values = [" +
             zero + ", " + zero + ", " + acc + "], padding_dimensions = " +
             dims +
             ", pack_paddings = [1, 1, 0], copy_back_op = \"linalg.copy\"} : "
             "(!transform.any_op) -> (!transform.any_op, !transform.any_op, "
             "!transform.any_op)");
      std::string pads = s.fresh("pads"), dps = s.fresh("dps");
      s.line(pads + " = transform.structured.match ops{[\"tensor.pad\"]} in "
                    "%root : (!transform.any_op) -> !transform.any_op");
      s.line(dps + " = transform.structured.rewrite_in_destination_passing_"
                   "style " +
             pads + " : (!transform.any_op) -> !transform.any_op");
      op = padded;
    }
    std::string loops = s.vectorizedTile(op, reg);
    if (fuse) {
      auto [tile, l] = s.tile(consumer, {1, target.vectorLanes});
      s.line("transform.structured.vectorize " + tile + " : !transform.any_op");
    }
    s.finishRegisterTile(loops + "#2", unroll);
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  bool batched = false;
  int64_t B = 1, M = 0, N = 0, K = 0;
};

} // namespace

std::unique_ptr<Sketch> makeCpuMatmulSketch(const WorkloadShape &shape,
                                            const TargetFacts &target) {
  return std::make_unique<CpuMatmulSketch>(shape, target);
}

} // namespace hatc::tuner::sketches
