//===- DropKeptDims.cpp - Reductions write their rows without the kept 1s -===//
//
//   %r = generic {out: (d0, d1, d2) -> (d0, d1, 0)} -> tensor<1x128x1xf32>
//   %y = generic ins(%x, %r) {(d0, d1, d2) -> (d0, d1, 0)}
//     -> %r = generic {out: (d0, d1, d2) -> (d0, d1)} -> tensor<1x128xf32>
//        %y = generic ins(%x, %r) {(d0, d1, d2) -> (d0, d1)}
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_DROPKEPTDIMS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// The results of `map` that read a unit dim of `type` at constant 0.
llvm::SmallBitVector keptDims(AffineMap map, RankedTensorType type) {
  llvm::SmallBitVector kept(map.getNumResults());
  for (auto [i, expr] : llvm::enumerate(map.getResults())) {
    auto constant = dyn_cast<AffineConstantExpr>(expr);
    kept[i] = constant && constant.getValue() == 0 && type.getDimSize(i) == 1;
  }
  return kept;
}

AffineMap dropResults(AffineMap map, const llvm::SmallBitVector &drop) {
  SmallVector<AffineExpr> results;
  for (auto [i, expr] : llvm::enumerate(map.getResults()))
    if (!drop[i])
      results.push_back(expr);
  return AffineMap::get(map.getNumDims(), map.getNumSymbols(), results,
                        map.getContext());
}

RankedTensorType dropDims(RankedTensorType type,
                          const llvm::SmallBitVector &drop) {
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (!drop[i])
      shape.push_back(type.getDimSize(i));
  return RankedTensorType::get(shape, type.getElementType());
}

/// Rewrites one reduction; returns whether it did.
bool dropKeptDims(linalg::GenericOp op) {
  if (op.getNumReductionLoops() == 0 || op.getNumDpsInits() != 1 ||
      op->getNumResults() != 1)
    return false;
  OpOperand *init = op.getDpsInitOperand(0);
  auto type = dyn_cast<RankedTensorType>(init->get().getType());
  if (!type || !type.hasStaticShape())
    return false;
  AffineMap outMap = op.getMatchingIndexingMap(init);
  llvm::SmallBitVector kept = keptDims(outMap, type);
  if (kept.none() || kept.all())
    return false;
  RankedTensorType rows = dropDims(type, kept);
  auto reassociation = getReassociationIndicesForReshape(type, rows);
  if (!reassociation)
    return false;

  OpBuilder b(op);
  Location loc = op.getLoc();
  // The init: a fill of its own on a smaller empty (CSE may have shared
  // the old one), else collapsed.
  Value newInit;
  auto fill = init->get().getDefiningOp<linalg::FillOp>();
  if (fill) {
    b.setInsertionPoint(fill);
    Value empty = b.create<tensor::EmptyOp>(fill.getLoc(), rows.getShape(),
                                            rows.getElementType());
    newInit = b.create<linalg::FillOp>(fill.getLoc(), fill.value(), empty)
                  ->getResult(0);
    b.setInsertionPoint(op);
  } else {
    newInit = b.create<tensor::CollapseShapeOp>(loc, rows, init->get(),
                                                *reassociation);
  }
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  maps.back() = dropResults(outMap, kept);
  auto reduced = b.create<linalg::GenericOp>(
      loc, TypeRange{rows}, op.getDpsInputs(), ValueRange{newInit}, maps,
      op.getIteratorTypesArray());
  reduced->setDiscardableAttrs(op->getDiscardableAttrDictionary());
  reduced.getRegion().takeBody(op.getRegion());
  Value result = reduced->getResult(0);

  // Generic consumers that read the kept dims at constant 0 read the rows;
  // any other user gets the old shape back.
  Value expanded;
  for (OpOperand &use : llvm::make_early_inc_range(op->getResult(0).getUses())) {
    auto user = dyn_cast<linalg::GenericOp>(use.getOwner());
    if (user && user.isDpsInput(&use)) {
      AffineMap map = user.getMatchingIndexingMap(&use);
      if (keptDims(map, type) == kept) {
        SmallVector<AffineMap> userMaps = user.getIndexingMapsArray();
        userMaps[use.getOperandNumber()] = dropResults(map, kept);
        user.setIndexingMapsAttr(b.getAffineMapArrayAttr(userMaps));
        use.set(result);
        continue;
      }
    }
    if (!expanded) {
      b.setInsertionPointAfter(reduced);
      expanded = b.create<tensor::ExpandShapeOp>(loc, type, result,
                                                 *reassociation);
    }
    use.set(expanded);
  }
  op->erase();
  if (fill && fill->use_empty())
    fill->erase();
  return true;
}

class DropKeptDimsPass : public impl::DropKeptDimsBase<DropKeptDimsPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::GenericOp> reductions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.getNumReductionLoops() > 0)
        reductions.push_back(op);
    });
    for (linalg::GenericOp op : reductions)
      dropKeptDims(op);
  }
};

} // namespace
} // namespace hatc
