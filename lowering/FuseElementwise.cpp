//===- FuseElementwise.cpp - Elementwise chains as one linalg.generic -----===//
//
//   generic(parallel) -> generic(parallel | reduction)
//     -> one generic (upstream linalg elementwise fusion, our control)
//   expand_shape -> generic  -> generic on collapsed loops -> expand_shape
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

bool allParallel(linalg::GenericOp op) {
  return op.getNumParallelLoops() == op.getNumLoops();
}

class FuseElementwisePass
    : public impl::FuseElementwiseBase<FuseElementwisePass> {
public:
  using Base::Base;

  /// Whether upstream fusion may fuse the producer of `operand` into its
  /// owner.
  bool shouldFuse(OpOperand *operand) const {
    auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
    auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
    if (!producer || !consumer || !allParallel(producer))
      return false;
    if (!intoReductions && !allParallel(consumer))
      return false;
    // One consumer (possibly reading the value several times): no work is
    // duplicated.
    llvm::SmallPtrSet<Operation *, 4> users(producer->getUsers().begin(),
                                            producer->getUsers().end());
    if (users.size() == 1)
      return true;
    if (!recompute)
      return false;
    // Recompute only what dies once fused into all its users, and only
    // small bodies.
    int64_t bodyOps =
        std::distance(producer.getBody()->begin(), producer.getBody()->end());
    if (bodyOps - 1 > maxRecomputeOps)
      return false;
    return llvm::all_of(users, [&](Operation *user) {
      auto generic = dyn_cast<linalg::GenericOp>(user);
      return generic && (intoReductions || allParallel(generic));
    });
  }

  void runOnOperation() override {
    if (maxRecomputeOps < 0) {
      getOperation()->emitError()
          << "hatc-fuse-elementwise: max-recompute-ops must be 0 or more";
      return signalPassFailure();
    }
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    linalg::ControlFusionFn control = [this](OpOperand *operand) {
      return shouldFuse(operand);
    };
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    if (collapseReshapes) {
      // A reshape between an anchor (matmul on 2-D) and its elementwise
      // consumer (bias add on 3-D): the consumer runs on the anchor's shape.
      linalg::ControlFusionFn collapse = [](OpOperand *operand) {
        return isa_and_nonnull<tensor::ExpandShapeOp>(
            operand->get().getDefiningOp());
      };
      linalg::populateFoldReshapeOpsByCollapsingPatterns(patterns, collapse);
    }
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace hatc
