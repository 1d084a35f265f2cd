//===- ExpandMath.cpp - math ops LLVM 19 cannot lower, expanded -----------===//
//
//   math.tanh  ->  math.exp + arith (MLIR's populateExpandTanhPattern)
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_EXPANDMATH
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

struct ExpandMathPass : public impl::ExpandMathBase<ExpandMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateExpandTanhPattern(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
} // namespace hatc
