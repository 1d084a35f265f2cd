//===- DecomposeTensorOps.cpp - tensor ops bufferization cannot take -----===//
//
//   tensor.concat  ->  tensor.empty + one tensor.insert_slice per operand
//   tensor.pack / unpack  ->  a reshape, else pad + reshape + transpose
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_DECOMPOSETENSOROPS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// The tensor.empty a value's buffer comes from, following destinations:
/// a DPS op's tied init, scf.forall's shared_outs, scf.for's iter_args.
tensor::EmptyOp destinationEmpty(Value v) {
  for (int steps = 0; steps < 16 && v; ++steps) {
    if (auto empty = v.getDefiningOp<tensor::EmptyOp>())
      return empty;
    auto result = dyn_cast<OpResult>(v);
    if (!result)
      return {};
    Operation *op = result.getOwner();
    if (auto dps = dyn_cast<DestinationStyleOpInterface>(op))
      v = dps.getTiedOpOperand(result)->get();
    else if (auto forall = dyn_cast<scf::ForallOp>(op))
      v = forall.getOutputs()[result.getResultNumber()];
    else if (auto loop = dyn_cast<scf::ForOp>(op))
      v = loop.getInitArgs()[result.getResultNumber()];
    else
      return {};
  }
  return {};
}

/// A collapse_shape of a value computed into a tensor.empty (a packed
/// result, after its unpack became a reshape): the empty becomes the
/// expand_shape of an empty of the collapsed shape, so that the result
/// bufferizes into the collapsed buffer itself (the function's output
/// once results become out-params) instead of a temporary and a copy.
void expandEmptiesOfCollapses(Operation *root) {
  SmallVector<tensor::CollapseShapeOp> collapses;
  root->walk([&](tensor::CollapseShapeOp op) { collapses.push_back(op); });
  for (tensor::CollapseShapeOp collapse : collapses) {
    tensor::EmptyOp empty = destinationEmpty(collapse.getSrc());
    if (!empty || empty.getType() != collapse.getSrcType() ||
        !empty.getType().hasStaticShape() || !empty->hasOneUse())
      continue;
    OpBuilder b(empty);
    Value flat = b.create<tensor::EmptyOp>(
        empty.getLoc(), collapse.getResultType().getShape(),
        collapse.getResultType().getElementType());
    Value expanded = b.create<tensor::ExpandShapeOp>(
        empty.getLoc(), empty.getType(), flat,
        collapse.getReassociationIndices());
    empty.replaceAllUsesWith(expanded);
    empty.erase();
  }
}

struct DecomposeTensorOpsPass
    : public impl::DecomposeTensorOpsBase<DecomposeTensorOpsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    tensor::populateDecomposeTensorConcatPatterns(patterns);
    tensor::populateSimplifyPackAndUnpackPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
    // The packs left move data: pad, reshape and transpose.
    SmallVector<Operation *> packs;
    getOperation().walk([&](Operation *op) {
      if (isa<tensor::PackOp, tensor::UnPackOp>(op))
        packs.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : packs) {
      rewriter.setInsertionPoint(op);
      bool lowered =
          isa<tensor::PackOp>(op)
              ? succeeded(linalg::lowerPack(rewriter, cast<tensor::PackOp>(op)))
              : succeeded(
                    linalg::lowerUnPack(rewriter, cast<tensor::UnPackOp>(op)));
      if (!lowered) {
        op->emitError() << "hatc-decompose-tensor-ops: cannot lower this "
                        << op->getName() << " for bufferization";
        return signalPassFailure();
      }
    }
    expandEmptiesOfCollapses(getOperation());
  }
};

} // namespace
} // namespace hatc
