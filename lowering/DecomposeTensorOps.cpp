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
  }
};

} // namespace
} // namespace hatc
