//===- DeferAccumulatorReads.cpp - register tiles start from zero --------===//
//
//   %c = vector.transfer_read %C[i, j]          %r = scf.for ... iter_args(%acc = 0)
//   %r = scf.for ... iter_args(%acc = %c)  ->   %c = vector.transfer_read %C[i, j]
//   vector.transfer_write %r, %C[i, j]          %s = arith.addf %r, %c
//                                               vector.transfer_write %s, %C[i, j]
//
// when the loop only adds to %acc. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_DEFERACCUMULATORREADS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// A row: the static indices of one innermost 1-D vector of a value (all
/// dims but the last).
using Row = SmallVector<int64_t>;

/// Whether an accumulator of `type` is worth checking row by row.
constexpr int64_t kMaxRows = 256;

/// Checks that a loop's body yields, for its accumulator argument, a value
/// whose every row is the same row of the argument plus terms that do not
/// depend on the argument: the loop is acc + f(), f independent of acc.
class AdditiveCheck {
public:
  AdditiveCheck(BlockArgument acc, Region &body) : acc(acc), body(body) {}

  /// The row of `acc` that row `row` of `v` adds to, or nullopt when `v`'s
  /// row is not the argument's row plus independent terms.
  std::optional<Row> trace(Value v, Row row) {
    if (v == acc)
      return row;
    Operation *op = v.getDefiningOp();
    if (!op || !body.isAncestor(op->getParentRegion()))
      return std::nullopt;
    if (auto insert = dyn_cast<vector::InsertOp>(op)) {
      ArrayRef<int64_t> at = insert.getStaticPosition();
      if (ShapedType::isDynamicShape(at))
        return std::nullopt;
      // A position as long as the row inserts lanes into it (or a scalar
      // into a 1-D vector): not a whole row.
      if (at.size() > row.size())
        return llvm::equal(at.take_front(row.size()), row)
                   ? std::nullopt
                   : trace(insert.getDest(), row);
      if (llvm::equal(at, ArrayRef<int64_t>(row).take_front(at.size())))
        return trace(insert.getSource(), Row(row.begin() + at.size(), row.end()));
      return trace(insert.getDest(), row);
    }
    if (auto extract = dyn_cast<vector::ExtractOp>(op)) {
      ArrayRef<int64_t> at = extract.getStaticPosition();
      if (ShapedType::isDynamicShape(at) || !isa<VectorType>(v.getType()))
        return std::nullopt;
      Row inner(at.begin(), at.end());
      inner.append(row.begin(), row.end());
      return trace(extract.getVector(), inner);
    }
    if (auto broadcast = dyn_cast<vector::BroadcastOp>(op)) {
      // Only new leading unit dims (a row stays one row).
      auto from = dyn_cast<VectorType>(broadcast.getSourceType());
      VectorType to = broadcast.getResultVectorType();
      if (!from || from.getShape() !=
                       to.getShape().take_back(from.getRank()))
        return std::nullopt;
      int64_t added = to.getRank() - from.getRank();
      if (llvm::any_of(to.getShape().take_front(added),
                       [](int64_t d) { return d != 1; }))
        return std::nullopt;
      return trace(broadcast.getSource(), Row(row.begin() + added, row.end()));
    }
    if (auto fma = dyn_cast<vector::FMAOp>(op)) {
      if (dependsOnAcc(fma.getLhs()) || dependsOnAcc(fma.getRhs()))
        return std::nullopt;
      return trace(fma.getAcc(), row);
    }
    if (auto contract = dyn_cast<vector::ContractionOp>(op)) {
      if (contract.getKind() != vector::CombiningKind::ADD ||
          contract.getAccType() != v.getType() ||
          dependsOnAcc(contract.getLhs()) || dependsOnAcc(contract.getRhs()))
        return std::nullopt;
      return trace(contract.getAcc(), row);
    }
    if (isa<arith::AddFOp, arith::AddIOp>(op)) {
      Value lhs = op->getOperand(0), rhs = op->getOperand(1);
      bool inLhs = dependsOnAcc(lhs), inRhs = dependsOnAcc(rhs);
      if (inLhs == inRhs)
        return std::nullopt;
      return trace(inLhs ? lhs : rhs, row);
    }
    return std::nullopt;
  }

  bool dependsOnAcc(Value v) {
    if (v == acc)
      return true;
    Operation *op = v.getDefiningOp();
    if (!op || !body.isAncestor(op->getParentRegion()))
      return false; // defined outside the loop, or another block argument
    auto [it, inserted] = depends.try_emplace(op, false);
    if (!inserted)
      return it->second;
    // Ops with regions (nested loops) are not looked into: assume the worst.
    bool result = op->getNumRegions() ||
                  llvm::any_of(op->getOperands(), [&](Value operand) {
                    return dependsOnAcc(operand);
                  });
    depends[op] = result; // not `it`: the recursion may have grown the map
    return result;
  }

private:
  BlockArgument acc;
  Region &body;
  llvm::DenseMap<Operation *, bool> depends;
};

/// Every row of a vector of `shape` (all dims but the last), in order.
StaticTileOffsetRange rowsOf(ArrayRef<int64_t> shape) {
  ArrayRef<int64_t> outer = shape.drop_back();
  return StaticTileOffsetRange(outer, Row(outer.size(), 1));
}

/// The write of the loop's `index`th result back where its initial value
/// was read, or null.
vector::TransferWriteOp writeBack(scf::ForOp loop, unsigned index,
                                  vector::TransferReadOp read) {
  Value result = loop.getResult(index);
  if (!result.hasOneUse())
    return {};
  auto write = dyn_cast<vector::TransferWriteOp>(*result.getUsers().begin());
  if (!write || write.getVector() != result || write.getMask() ||
      read.getMask() || write.getSource() != read.getSource() ||
      write.getIndices() != read.getIndices() ||
      write.getPermutationMap() != read.getPermutationMap() ||
      write.getInBoundsAttr() != read.getInBoundsAttr())
    return {};
  return write;
}

/// Whether `op` (or, for a loop or an if, an op in its body) may write,
/// allocate or free memory; unknown effects may.
bool mayWriteMemory(Operation *op) {
  auto effects = getEffectsRecursively(op);
  return !effects ||
         llvm::any_of(*effects, [](const MemoryEffects::EffectInstance &e) {
           return isa<MemoryEffects::Write, MemoryEffects::Free,
                      MemoryEffects::Allocate>(e.getEffect());
         });
}

/// Whether memory holds the same values at `write` as at `read`, so the
/// read can move to just before the write: both in `loop`'s block, read
/// before the loop and write after it, and nothing from the read to the
/// write (the loop included) writes memory. An op in between could write
/// C (a matmul before this one, sharing its initial buffer).
bool sameMemoryAt(vector::TransferReadOp read, scf::ForOp loop,
                  vector::TransferWriteOp write) {
  Block *block = loop->getBlock();
  if (read->getBlock() != block || write->getBlock() != block ||
      !read->isBeforeInBlock(loop) || !loop->isBeforeInBlock(write))
    return false;
  for (Operation *op = read->getNextNode(); op != write.getOperation();
       op = op->getNextNode())
    if (mayWriteMemory(op))
      return false;
  return true;
}

/// Prefetches (for writing, into L1) each cache line of the vector `read`
/// reads, before `loop`: the lines arrive while the loop computes.
void prefetchRows(OpBuilder &b, vector::TransferReadOp read) {
  auto memref = dyn_cast<MemRefType>(read.getSource().getType());
  VectorType type = read.getVectorType();
  if (!memref || !read.getPermutationMap().isMinorIdentity() ||
      type.getRank() > memref.getRank())
    return;
  int64_t elemBytes = type.getElementTypeBitWidth() / 8;
  if (elemBytes == 0)
    return;
  int64_t lineElems = std::max<int64_t>(1, 64 / elemBytes);
  Location loc = read.getLoc();
  int64_t first = memref.getRank() - type.getRank();
  auto offset = [&](Value index, int64_t by) -> Value {
    if (by == 0)
      return index;
    Value c = b.create<arith::ConstantIndexOp>(loc, by);
    return b.create<arith::AddIOp>(loc, index, c);
  };
  for (Row row : rowsOf(type.getShape())) {
    SmallVector<Value> rowStart(read.getIndices());
    for (auto [d, r] : llvm::enumerate(row))
      rowStart[first + d] = offset(rowStart[first + d], r);
    for (int64_t lane = 0; lane < type.getShape().back(); lane += lineElems) {
      SmallVector<Value> indices = rowStart;
      indices.back() = offset(rowStart.back(), lane);
      b.create<memref::PrefetchOp>(loc, read.getSource(), indices,
                                   /*isWrite=*/true, /*localityHint=*/3,
                                   /*isDataCache=*/true);
    }
  }
}

bool deferIfAdditive(scf::ForOp loop, unsigned index) {
  auto read =
      loop.getInitArgs()[index].getDefiningOp<vector::TransferReadOp>();
  if (!read || !isa<MemRefType>(read.getSource().getType()))
    return false;
  auto type = dyn_cast<VectorType>(read.getVectorType());
  if (!type || type.isScalable() || type.getRank() == 0 ||
      type.getNumElements() / type.getShape().back() > kMaxRows)
    return false;
  Type element = type.getElementType();
  if (!isa<FloatType>(element) && !element.isSignlessInteger())
    return false;
  vector::TransferWriteOp write = writeBack(loop, index, read);
  if (!write || !sameMemoryAt(read, loop, write))
    return false;
  BlockArgument acc = loop.getRegionIterArgs()[index];
  Value yielded = loop.getYieldedValues()[index];
  AdditiveCheck check(acc, loop.getRegion());
  for (Row row : rowsOf(type.getShape())) {
    std::optional<Row> from = check.trace(yielded, row);
    if (!from || *from != row)
      return false;
  }

  // Start from zero; read the old value after the loop and add it.
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  prefetchRows(b, read);
  Value zero = b.create<arith::ConstantOp>(loc, type, b.getZeroAttr(type));
  loop.getInitArgsMutable()[index].assign(zero);
  b.setInsertionPoint(write);
  Value old;
  if (read->use_empty()) {
    read->moveBefore(write);
    old = read.getResult();
  } else {
    old = b.clone(*read)->getResult(0);
  }
  Value sum = isa<FloatType>(element)
                  ? b.create<arith::AddFOp>(loc, loop.getResult(index), old)
                        .getResult()
                  : b.create<arith::AddIOp>(loc, loop.getResult(index), old)
                        .getResult();
  write.getVectorMutable().assign(sum);
  return true;
}

struct DeferAccumulatorReadsPass
    : public impl::DeferAccumulatorReadsBase<DeferAccumulatorReadsPass> {
  void runOnOperation() override {
    SmallVector<scf::ForOp> loops;
    getOperation()->walk([&](scf::ForOp loop) { loops.push_back(loop); });
    for (scf::ForOp loop : loops)
      for (unsigned i = 0, e = loop.getNumRegionIterArgs(); i < e; ++i)
        deferIfAdditive(loop, i);
  }
};

} // namespace
} // namespace hatc
