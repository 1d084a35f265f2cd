//===- DecomposeTensorOps.cpp - tensor ops bufferization cannot take -----===//
//
//   tensor.concat  ->  tensor.empty + one tensor.insert_slice per operand
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

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
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace hatc
