//===- ExpandMath.cpp - math ops LLVM 19 cannot lower, rewritten ----------===//
//
//   math.powf by a constant 2, 3, 0.5, -1, ... -> multiplies, sqrt, a divide
//                           (populateMathAlgebraicSimplificationPatterns)
//   math.tanh            ->  math.exp + arith (populateExpandTanhPattern)
//   math.erf on f32      ->  a polynomial (populatePolynomialApproximateErfPattern)
//   math.exp on f32 vectors -> range reduction and a polynomial (VectorExpF32)
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
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

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

/// exp on a vector of f32 -> Cephes' range reduction and degree-6
/// polynomial (about 1 ulp). LLVM 19 lowers llvm.exp on a vector to one
/// expf call per lane, which made a vectorized softmax slower than its
/// scalar loop; a scalar exp keeps its libm call.
struct VectorExpF32 : OpRewritePattern<math::ExpOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(math::ExpOp op,
                                PatternRewriter &rewriter) const override {
    auto type = dyn_cast<VectorType>(op.getType());
    if (!type || !type.getElementType().isF32())
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    auto intType = type.clone(b.getI32Type());
    auto f = [&](float v) -> Value {
      return b.create<arith::ConstantOp>(
          DenseElementsAttr::get(type, ArrayRef<Attribute>{b.getF32FloatAttr(v)}));
    };
    auto i = [&](int32_t v) -> Value {
      return b.create<arith::ConstantOp>(DenseElementsAttr::get(
          intType, ArrayRef<Attribute>{b.getI32IntegerAttr(v)}));
    };
    // Products and the sums they feed may contract into FMAs (the
    // polynomial is most of the work; an FMA rounds once, so the result
    // is as close or closer).
    auto contract = arith::FastMathFlags::contract;
    auto mul = [&](Value x, Value y) {
      return b.create<arith::MulFOp>(x, y, contract);
    };
    auto add = [&](Value x, Value y) {
      return b.create<arith::AddFOp>(x, y, contract);
    };
    auto sub = [&](Value x, Value y) {
      return b.create<arith::SubFOp>(x, y, contract);
    };
    // Past these exp(x) is inf or below the smallest normal float (0 here).
    const float hi = 88.72283935546875f, lo = -87.33654022216797f;
    Value input = op.getOperand(), high = f(hi), low = f(lo);
    // Clamped by compare and select, not minimumf / maximumf: a NaN
    // compares false and passes through, as those would pass it, and each
    // select is one vminps / vmaxps on x86 where minimumf is a min, a NaN
    // test and a blend. `above` also picks the result's inf below.
    Value above =
        b.create<arith::CmpFOp>(arith::CmpFPredicate::OGT, input, high);
    Value x = b.create<arith::SelectOp>(above, high, input);
    x = b.create<arith::SelectOp>(
        b.create<arith::CmpFOp>(arith::CmpFPredicate::OLT, x, low), low, x);
    // x = n ln2 + r, |r| <= ln2 / 2, ln2 in two parts for the precision.
    Value n =
        b.create<math::FloorOp>(add(mul(x, f(1.44269504088896341f)), f(0.5f)));
    Value r = sub(x, mul(n, f(0.693359375f)));
    r = sub(r, mul(n, f(-2.12194440e-4f)));
    Value y = f(1.9875691500e-4f);
    for (float c : {1.3981999507e-3f, 8.3334519073e-3f, 4.1665795894e-2f,
                    1.6666665459e-1f, 5.0000001201e-1f})
      y = add(mul(y, r), f(c));
    y = add(add(mul(y, mul(r, r)), r), f(1.0f));
    // 2^n as two powers of two (n in [-126, 128]: each half's exponent
    // is a normal float's).
    Value ni = b.create<arith::FPToSIOp>(intType, n);
    Value n1 = b.create<arith::ShRSIOp>(ni, i(1));
    Value n2 = b.create<arith::SubIOp>(ni, n1);
    auto pow2 = [&](Value e) -> Value {
      Value bits =
          b.create<arith::ShLIOp>(b.create<arith::AddIOp>(e, i(127)), i(23));
      return b.create<arith::BitcastOp>(type, bits);
    };
    Value result = mul(mul(y, pow2(n1)), pow2(n2));
    Value below =
        b.create<arith::CmpFOp>(arith::CmpFPredicate::OLT, input, low);
    result = b.create<arith::SelectOp>(
        above, f(std::numeric_limits<float>::infinity()), result);
    result = b.create<arith::SelectOp>(below, f(0.0f), result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ExpandMathPass : public impl::ExpandMathBase<ExpandMathPass> {
  void runOnOperation() override {
    {
      RewritePatternSet patterns(&getContext());
      // A GELU's x^3 (tanh form) went to llvm.pow, a powf call per
      // element: 100 of the 104 us of a 32x512x128 matmul + GELU.
      populateMathAlgebraicSimplificationPatterns(patterns);
      populateExpandTanhPattern(patterns);
      patterns.add<VectorExpF32>(&getContext());
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
