//===- CpuRows.cpp - cpu_rows: row reductions and row-wise ops, vectorized ===//
//
//   op over rows (outer loops parallel, innermost reduction or parallel)
//     -> scf.forall over the largest outer loop
//     -> scf.for over the rows (and the row's chunks)
//     -> vectorized: a reduction becomes vector.multi_reduction, lowered to
//        one vector.reduction per row (a tree of vector ops once the CPU
//        pipeline lets it reassociate)
//
// Softmax and layernorm import as such ops (max, exp, sum, divide; mean,
// centre, variance, normalize), each a row of 128 or 768 floats. The
// generic schedule ran them with the reduction in order, one scalar add
// per element.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/CpuSchedules.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Vector/TransformOps/VectorTransformOps.h"

#include <algorithm>

namespace hatc {

namespace {

/// Threads for a row op: at least this many iteration points each. These
/// ops stream memory at a few points a nanosecond, so a thread's share
/// should take some tens of microseconds before a fork and join (a few
/// microseconds) pays: smaller than the compute-bound ops' million points.
constexpr int64_t kRowsMinPointsPerThread = int64_t(1) << 15;

/// A row wider than this many vectors is reduced in chunks of
/// `kChunkVectors` (or the largest power of two below it that divides the
/// row): a vector<768xf32> is 48 registers' worth, whose tree spills.
constexpr int64_t kWholeRowVectors = 16;
constexpr int64_t kChunkVectors = 8;

} // namespace

bool isRowsShape(const CpuOpShape &shape, bool reduction) {
  const auto &r = shape.loopRanges;
  size_t n = r.size();
  if (n < 2 || shape.parallel.size() != n)
    return false;
  if (llvm::any_of(r, [](int64_t extent) {
        return extent <= 0 || mlir::ShapedType::isDynamic(extent);
      }))
    return false;
  for (size_t i = 0; i + 1 < n; ++i)
    if (!shape.parallel[i])
      return false;
  return shape.parallel.back() != reduction;
}

std::optional<CpuRowsParams> deriveCpuRows(const CpuOpShape &shape,
                                           const CpuFacts &facts) {
  if (shape.parallel.empty())
    return std::nullopt;
  bool reduction = !shape.parallel.back();
  if (!isRowsShape(shape, reduction))
    return std::nullopt;
  const auto &r = shape.loopRanges;
  int64_t lanes = std::max<int64_t>(1, facts.vectorLanes), inner = r.back();
  if (inner % lanes)
    return std::nullopt;
  CpuRowsParams p;
  if (reduction) {
    p.chunk = 0;
    if (inner > kWholeRowVectors * lanes) {
      p.chunk = lanes; // the least that divides (inner is whole vectors)
      for (int64_t vectors = kChunkVectors; vectors > 1; vectors /= 2)
        if (inner % (vectors * lanes) == 0) {
          p.chunk = vectors * lanes;
          break;
        }
    }
  } else {
    // Up to four vectors a step, as cpu_elementwise.
    for (int64_t vectors : {4, 2, 1})
      if (inner % (vectors * lanes) == 0) {
        p.chunk = vectors * lanes;
        break;
      }
  }
  int64_t points = 1;
  for (int64_t e : r)
    points = std::min<int64_t>(points * e, int64_t(1) << 40);
  // The outer loops (all parallel: isRowsShape).
  p.threadsDim = largestParallelLoop(shape, r.size() - 1);
  int64_t extent = p.threadsDim >= 0 ? r[size_t(p.threadsDim)] : 1;
  int64_t most = std::max<int64_t>(1, points / kRowsMinPointsPerThread);
  int64_t par = 1;
  for (int64_t t : threadChoices(facts.threads))
    if (t <= most && t <= extent)
      par = std::max(par, t);
  p.par = par;
  if (p.par < 2)
    p.threadsDim = -1, p.par = 1;
  // An all-parallel op is cpu_elementwise's, unless that leaves threads
  // idle that these rows would use (a softmax's exp over 1x12x128x128:
  // too few points for its million a thread, or a unit first loop).
  if (!reduction)
    if (auto elementwise = deriveCpuElementwise(shape, facts))
      if (elementwise->par >= p.par)
        return std::nullopt;
  return p;
}

bool cpuRowsTakes(mlir::Operation *operation) {
  auto op = mlir::dyn_cast<mlir::linalg::LinalgOp>(operation);
  if (!op || op.getNumDpsInits() != 1 || op.getNumReductionLoops() > 1)
    return false;
  // A row is read whole by one operand at least (a softmax's scores); the
  // others are broadcasts along it (a row's max, a layernorm's gamma).
  // What reads no operand in full is a contraction (a matmul with a
  // transposed operand): its rows would each be a dot product.
  unsigned loops = op.getNumLoops();
  bool readsRow = llvm::any_of(op.getDpsInputOperands(),
                               [&](mlir::OpOperand *input) {
                                 mlir::AffineMap map =
                                     op.getMatchingIndexingMap(input);
                                 return map.isPermutation() &&
                                        map.getNumResults() == loops;
                               });
  if (!readsRow)
    return false;
  return mlir::succeeded(mlir::linalg::vectorizeOpPrecondition(operation));
}

void CpuScheduleScript::rows(mlir::Value op, const CpuOpShape &shape,
                             const CpuRowsParams &p) {
  scheduled = true;
  size_t loops = shape.loopRanges.size();
  if (p.threadsDim >= 0 && p.par > 1) {
    std::vector<int64_t> threads(loops, 0);
    threads[size_t(p.threadsDim)] = p.par;
    op = tileForallThreads(op, threads).first;
  }
  std::vector<int64_t> sizes(loops, 1);
  sizes.back() = p.chunk;
  auto [tiled, forLoops] = tileFor(op, sizes);
  vectorize(tiled);
  bool reduction = !shape.parallel.empty() && !shape.parallel.back();
  if (!reduction)
    return;
  // Only the loop's own multi_reductions: a matmul vectorized before it
  // keeps its own for the contraction patterns of finish().
  // A chunked row reads and writes its scalar accumulator once a chunk
  // (hoist_loop_invariant_subsets does not pair the permuted transfers
  // on the loop's iter_arg): a load and a store a chunk of several
  // vectors.
  applyPatterns(forLoops.back(), [](mlir::OpBuilder &b, mlir::Location loc) {
    b.create<mlir::transform::ApplyLowerMultiReductionPatternsOp>(
        loc, mlir::vector::VectorMultiReductionLowering::InnerReduction);
  });
}

} // namespace hatc
