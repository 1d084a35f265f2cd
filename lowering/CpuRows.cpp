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
//   row chain (those ops of one softmax or layernorm, rowChainFrom)
//     -> the last op over scf.forall, then one row at a time, the others
//        fused into both loops: each row read once, kept in registers
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
/// microseconds) pays: smaller than the compute-bound ops' 2^18 points.
constexpr int64_t kRowsMinPointsPerThread = int64_t(1) << 15;

/// A row wider than this many vectors is reduced in chunks of
/// `kChunkVectors` (or the largest power of two below it that divides the
/// row): a vector<768xf32> is 48 registers' worth, whose tree spills.
constexpr int64_t kWholeRowVectors = 16;
constexpr int64_t kChunkVectors = 8;

/// A row chain's rows are vectorized whole and kept in registers (or the
/// stack) between its ops: up to this many elements a row (a BERT-large
/// layernorm's 1024). Longer rows stay separate ops, each chunked.
constexpr int64_t kMaxChainRow = 1024;

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
  vectorize(tiled, /*vectorizeNdExtract=*/shape.gathers);
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

namespace {

/// An op of a row chain over `ranges`: all loops parallel but maybe the
/// innermost, every map a projected permutation.
bool isRowOp(mlir::linalg::LinalgOp op, llvm::ArrayRef<int64_t> ranges) {
  if (!op || mlir::isa<mlir::linalg::FillOp>(op.getOperation()) ||
      op.getNumDpsInits() != 1 || op->getNumResults() != 1 ||
      !op.hasPureTensorSemantics() || op.getNumReductionLoops() > 1)
    return false;
  if (llvm::ArrayRef<int64_t>(op.getStaticLoopRanges()) != ranges)
    return false;
  auto iterators = op.getIteratorTypesArray();
  for (size_t i = 0; i + 1 < iterators.size(); ++i)
    if (iterators[i] != mlir::utils::IteratorType::parallel)
      return false;
  return llvm::all_of(op.getIndexingMapsArray(), [](mlir::AffineMap map) {
    return map.isProjectedPermutation();
  });
}

/// Whether `map` reads a row-chain value row by row: its results are the
/// first loops in order (the outer ones, and the innermost for a whole row).
bool readsByRows(mlir::AffineMap map) {
  for (auto [i, expr] : llvm::enumerate(map.getResults())) {
    auto dim = mlir::dyn_cast<mlir::AffineDimExpr>(expr);
    if (!dim || dim.getPosition() != i)
      return false;
  }
  return map.getNumResults() + 1 >= map.getNumDims();
}

} // namespace

llvm::SmallVector<mlir::Operation *>
rowChainFrom(mlir::Operation *reduction) {
  auto first = mlir::dyn_cast<mlir::linalg::LinalgOp>(reduction);
  if (!first || first.getNumReductionLoops() != 1)
    return {};
  llvm::SmallVector<int64_t> ranges = first.getStaticLoopRanges();
  if (ranges.size() < 2 || ranges.back() > kMaxChainRow ||
      llvm::any_of(ranges, [](int64_t r) { return r <= 0 ||
                                               mlir::ShapedType::isDynamic(r); }) ||
      !isRowOp(first, ranges) ||
      !readsByRows(first.getMatchingIndexingMap(first.getDpsInitOperand(0))))
    return {};
  mlir::Block *block = reduction->getBlock();
  llvm::SmallVector<mlir::Operation *> chain;
  llvm::SmallPtrSet<mlir::Operation *, 8> members;
  // `op`'s operands: chain values read by rows, its own fill, or values
  // defined before the chain; returns whether it may join (and adds it).
  auto join = [&](mlir::linalg::LinalgOp op) {
    mlir::Operation *fill = nullptr;
    for (mlir::OpOperand &operand : op->getOpOperands()) {
      mlir::Value value = operand.get();
      mlir::Operation *def = value.getDefiningOp();
      if (def && members.contains(def)) {
        if (!readsByRows(op.getMatchingIndexingMap(&operand)))
          return false;
        continue;
      }
      if (def && op.isDpsInit(&operand) &&
          mlir::isa<mlir::linalg::FillOp>(def) && value.hasOneUse() &&
          def->getBlock() == block) {
        fill = def;
        continue;
      }
      // (A tensor.empty or a constant made in between reads nothing.)
      if (def && def->getBlock() == block && !chain.empty() &&
          def->getNumOperands() > 0 && !def->isBeforeInBlock(reduction))
        return false;
    }
    if (fill)
      chain.push_back(fill), members.insert(fill);
    chain.push_back(op), members.insert(op);
    return true;
  };
  if (!join(first))
    return {};
  while (true) {
    mlir::Operation *next = nullptr;
    for (mlir::Operation *member : chain)
      for (mlir::Operation *user : member->getUsers())
        if (!members.contains(user) && user->getBlock() == block &&
            (!next || user->isBeforeInBlock(next)))
          next = user;
    auto op = mlir::dyn_cast_or_null<mlir::linalg::LinalgOp>(next);
    if (!op || !isRowOp(op, ranges) || !join(op))
      break;
  }
  // Only the last member's value leaves the chain: cut it back to there.
  auto usedOutside = [&](mlir::Operation *member, size_t end) {
    return llvm::any_of(member->getUsers(), [&](mlir::Operation *user) {
      auto found = llvm::find(chain, user);
      return found == chain.end() || size_t(found - chain.begin()) >= end;
    });
  };
  size_t end = chain.size();
  for (; end > 0; --end) {
    bool ok = true;
    for (size_t i = 0; i + 1 < end && ok; ++i)
      ok = !usedOutside(chain[i], end);
    if (ok && !mlir::isa<mlir::linalg::FillOp>(chain[end - 1]))
      break;
  }
  chain.resize(end);
  int64_t compute = llvm::count_if(chain, [](mlir::Operation *op) {
    return !mlir::isa<mlir::linalg::FillOp>(op);
  });
  if (compute < 2)
    return {};
  return chain;
}

CpuRowChainParams deriveCpuRowChain(mlir::Operation *reduction,
                                    const CpuFacts &facts) {
  CpuRowChainParams p;
  if (auto rows = deriveCpuRows(cpuOpShapeOf(reduction), facts)) {
    p.threadsDim = rows->threadsDim;
    p.par = rows->par;
  }
  return p;
}

void CpuScheduleScript::rowChain(llvm::ArrayRef<mlir::Value> members,
                                 size_t loops, const CpuRowChainParams &p) {
  scheduled = true;
  // The last member is tiled; the others, last first, are fused into its
  // loops: first the threads' forall, then the loop over single rows.
  llvm::SmallVector<mlir::Value> fused(members.begin(), members.end());
  mlir::Value last = fused.back(), containing;
  if (p.threadsDim >= 0 && p.par > 1) {
    std::vector<int64_t> threads(loops, 0);
    threads[size_t(p.threadsDim)] = p.par;
    std::tie(last, containing) = tileForallThreads(last, threads);
    for (size_t i = fused.size() - 1; i-- > 0;)
      std::tie(fused[i], containing) = fuseInto(fused[i], containing);
  }
  std::vector<int64_t> rows(loops, 1);
  rows.back() = 0;
  auto [tiled, forLoops] = tileFor(last, rows);
  fused.back() = tiled;
  containing = forLoops.back();
  for (size_t i = fused.size() - 1; i-- > 0;)
    std::tie(fused[i], containing) = fuseInto(fused[i], containing);
  for (mlir::Value op : fused)
    vectorize(op);
  applyPatterns(containing, [](mlir::OpBuilder &b, mlir::Location loc) {
    b.create<mlir::transform::ApplyLowerMultiReductionPatternsOp>(
        loc, mlir::vector::VectorMultiReductionLowering::InnerReduction);
  });
}

} // namespace hatc
