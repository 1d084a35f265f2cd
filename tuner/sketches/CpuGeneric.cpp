//===- CpuGeneric.cpp - cpu_generic: threads x a tile, then the interchange ===//
//
//   any linalg op -> scf.forall over its outermost parallel loop (par)
//                 -> scf.for tiles of its innermost parallel loop (tile)
//                 -> generic, reductions before the innermost parallel loop
//
// The space of an op no other CPU sketch takes (NCHW, depthwise and grouped
// convs, pooling, reductions, softmax and layernorm pieces, matmuls with a
// transposed operand): the default schedule's loop order, which LLVM
// vectorizes, plus threads and a tile of the output row that keeps it in
// cache while the reductions run.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/DefaultSchedule.h"
#include "tuner/sketches/Common.h"
#include "tuner/sketches/Sketches.h"

#include "mlir/Dialect/Linalg/TransformOps/LinalgTransformOps.h"
#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner::sketches {
namespace {

class CpuGenericSketch : public Sketch {
public:
  CpuGenericSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    const auto &loops = shape.anchorLoops;
    const auto &iters = shape.anchorIterators;
    for (size_t i = 0; i < loops.size() && i < iters.size(); ++i) {
      if (iters[i] != "parallel")
        continue;
      if (!outer && loops[i] > 1)
        outer = i;
      inner = i;
    }
    std::vector<json> tiles = {0};
    if (inner)
      for (int64_t t : {4, 8, 16, 32, 64, 128})
        if (t < loops[*inner] && loops[*inner] % t == 0)
          tiles.push_back(t);
    specs = {{"par", threadCounts(target)}, {"tile", tiles}};
  }
  std::string name() const override { return "cpu_generic"; }

  cost_model::SketchDescription describe(const Config &c) const override {
    // The elementwise family's estimates: threads, and the tile as columns.
    cost_model::CpuElementwiseKnobs k;
    k.par = knobOr0(c, "par"), k.rows = 1, k.cols = knobOr0(c, "tile");
    return {std::nullopt, k};
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = parReason(c, target))
      return reason;
    if (auto reason = checkDomains(c))
      return reason;
    int64_t par = knob(c, "par");
    if (par > 1 && (!outer || shape.anchorLoops[*outer] < par))
      return llvm::formatv("par={0} exceeds the outermost parallel loop ({1})",
                           par, outer ? shape.anchorLoops[*outer] : 1)
          .str();
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    size_t loops = shape.anchorLoops.size();
    Script s("hatc sketch cpu_generic: " + c.dump());
    mlir::OpBuilder &b = s.builder();
    mlir::Value op = shape.anchorIndex
                         ? s.matchIndexed(shape.anchorOp, *shape.anchorIndex)
                         : s.match(shape.anchorOp);
    int64_t par = knob(c, "par"), tile = knob(c, "tile");
    if (par > 1) {
      std::vector<int64_t> threads(*outer + 1, 0);
      threads[*outer] = par;
      op = s.tileForallThreads(op, threads).first;
    }
    if (tile > 0) {
      std::vector<int64_t> sizes(loops, 0);
      sizes[*inner] = tile;
      op = s.tileFor(op, sizes).first;
    }
    std::vector<int64_t> permutation =
        innermostParallelPermutation(shape.anchorIterators);
    if (!permutation.empty()) {
      mlir::Value generic =
          b.create<mlir::transform::GeneralizeOp>(s.loc(), s.anyOp(), op);
      b.create<mlir::transform::InterchangeOp>(s.loc(), s.anyOp(), generic,
                                               permutation);
    }
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  std::optional<size_t> outer, inner; // parallel loops threaded and tiled
};

} // namespace

std::unique_ptr<Sketch> makeCpuGenericSketch(const WorkloadShape &shape,
                                             const TargetFacts &target) {
  return std::make_unique<CpuGenericSketch>(shape, target);
}

} // namespace hatc::tuner::sketches
