//===- ExpandMath.cpp - math ops LLVM 19 cannot lower, rewritten ----------===//
//
//   math.tanh            ->  math.exp + arith (populateExpandTanhPattern)
//   math.erf on f32      ->  a polynomial (populatePolynomialApproximateErfPattern)
//   math.erf on f64, atan, atan2, asin, acos, sinh, cosh, tan, asinh, acosh,
//   atanh, cbrt          ->  calls of libm (erf, atanf, ...; vectors unrolled)
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_EXPANDMATH
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// The math ops convert-math-to-llvm leaves alone in MLIR 19.
bool needsLibm(Operation *op) {
  return isa<math::ErfOp, math::AtanOp, math::Atan2Op, math::AsinOp,
             math::AcosOp, math::SinhOp, math::CoshOp, math::TanOp,
             math::AsinhOp, math::AcoshOp, math::AtanhOp, math::CbrtOp>(op);
}

struct ExpandMathPass : public impl::ExpandMathBase<ExpandMathPass> {
  void runOnOperation() override {
    {
      RewritePatternSet patterns(&getContext());
      populateExpandTanhPattern(patterns);
      // f32 (scalar or vector) only; an f64 erf goes to libm below.
      populatePolynomialApproximateErfPattern(patterns);
      if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                              std::move(patterns))))
        return signalPassFailure();
    }
    // libm for the rest: only these ops, so that the ones with an LLVM
    // intrinsic (sin, floor, ...) keep it.
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (needsLibm(op))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    RewritePatternSet patterns(&getContext());
    populateMathToLibmConversionPatterns(patterns);
    GreedyRewriteConfig config;
    config.strictMode = GreedyRewriteStrictness::ExistingAndNewOps;
    if (failed(applyOpPatternsAndFold(ops, std::move(patterns), config)))
      return signalPassFailure();
    WalkResult left = getOperation().walk([&](Operation *op) {
      if (!needsLibm(op))
        return WalkResult::advance();
      op->emitError() << "hatc-expand-math: no lowering for "
                      << op->getName() << " on " << op->getResultTypes()[0];
      return WalkResult::interrupt();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace hatc
