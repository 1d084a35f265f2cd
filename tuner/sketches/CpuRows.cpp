//===- CpuRows.cpp - cpu_rows: threads x rows x vectorized row chunks -----===//
//
//   row op (outer loops parallel, innermost reduction or parallel)
//     -> scf.forall over the largest outer loop (par)
//     -> one row at a time, `chunk` elements a vector step (0: the row)
//
// The space of softmax's and layernorm's pieces (CpuRowsParams in
// CpuSchedules.h): how many threads, and how much of a row one vector op
// takes: a whole row reduced by one tree, or chunks reduced in turn into a
// register accumulator.
//
//===----------------------------------------------------------------------===//
#include "tuner/sketches/Common.h"
#include "tuner/sketches/Sketches.h"

#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner::sketches {
namespace {

class CpuRowsSketch : public Sketch {
public:
  CpuRowsSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target), rowShape(rowShapeOf(shape)) {
    reduction = !rowShape.parallel.empty() && !rowShape.parallel.back();
    // The loop deriveCpuRows threads: the largest outer one.
    const auto &r = rowShape.loopRanges;
    if (!r.empty())
      threadsDim = largestParallelLoop(rowShape, r.size() - 1);
    if (threadsDim >= 0)
      outerExtent = r[size_t(threadsDim)];
    std::vector<json> chunks;
    if (reduction)
      chunks.push_back(0);
    for (int64_t vectors : {1, 2, 4, 8, 16})
      chunks.push_back(vectors * target.vectorLanes);
    specs = {{"par", threadCounts(target)}, {"chunk", chunks}};
  }
  std::string name() const override { return "cpu_rows"; }

  /// The anchor as the family reads it: its own loops and iterators.
  static CpuOpShape rowShapeOf(const WorkloadShape &shape) {
    CpuOpShape out = cpuShapeOf(shape);
    out.loopRanges = shape.anchorLoops;
    out.parallel.clear();
    for (const std::string &it : shape.anchorIterators)
      out.parallel.push_back(it == "parallel");
    return out;
  }

  cost_model::SketchDescription describe(const Config &c) const override {
    // The elementwise family's estimates: threads, and a chunk as columns.
    cost_model::CpuElementwiseKnobs k;
    k.par = knobOr0(c, "par"), k.rows = 1, k.cols = knobOr0(c, "chunk");
    return {std::nullopt, k};
  }
  bool takesDefault() const override {
    return defaultFamilyIs<CpuRowsParams>(rowShape, target);
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = parReason(c, target))
      return reason;
    if (auto reason = checkDomains(c))
      return reason;
    if (!isRowsShape(rowShape, reduction))
      return std::string("cpu_rows needs static loops, all parallel but the "
                         "innermost");
    int64_t par = knob(c, "par"), chunk = knob(c, "chunk");
    int64_t inner = rowShape.loopRanges.back();
    if (par > 1 && par > outerExtent)
      return llvm::formatv("par={0} exceeds the largest outer loop ({1})",
                           par, outerExtent)
          .str();
    if (chunk > 0 && inner % chunk)
      return llvm::formatv("chunk={0} does not divide the row ({1})", chunk,
                           inner)
          .str();
    if (chunk == 0 && inner % target.vectorLanes)
      return llvm::formatv("a row of {0} is not whole vectors of {1} lanes",
                           inner, target.vectorLanes)
          .str();
    return std::nullopt;
  }

  CpuRowsParams params(const Config &c) const {
    CpuRowsParams p;
    p.par = knob(c, "par"), p.chunk = knob(c, "chunk");
    p.threadsDim = p.par > 1 ? threadsDim : -1;
    return p;
  }

  std::optional<Config> analyticalDefault() const override {
    auto p = deriveCpuRows(rowShape, cpuFactsOf(target));
    if (!p)
      return std::nullopt;
    return Config{{"sketch", name()}, {"par", p->par}, {"chunk", p->chunk}};
  }

  std::string script(const Config &c) const override {
    CpuScheduleScript s("hatc sketch cpu_rows: " + c.dump());
    mlir::Value op = shape.anchorIndex
                         ? s.matchIndexed(shape.anchorOp, *shape.anchorIndex)
                         : s.match({shape.anchorOp});
    s.rows(op, rowShape, params(c));
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  CpuOpShape rowShape;
  bool reduction = false;
  int64_t threadsDim = -1, outerExtent = 1;
};

} // namespace

bool fitsCpuRows(const WorkloadShape &shape) {
  CpuOpShape rows = CpuRowsSketch::rowShapeOf(shape);
  return !rows.parallel.empty() && isRowsShape(rows, !rows.parallel.back());
}

std::unique_ptr<Sketch> makeCpuRowsSketch(const WorkloadShape &shape,
                                          const TargetFacts &target) {
  return std::make_unique<CpuRowsSketch>(shape, target);
}

} // namespace hatc::tuner::sketches
