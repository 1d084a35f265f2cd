//===- LinalgToHwacc.cpp - Offload GEMM-like linalg ops to hwacc ----------===//
//
//   linalg.matmul                -> hwacc.matmul
//   linalg.batch_matmul          -> scf.for %b { hwacc.matmul on A[b], B[b], C[b] }
//   linalg.conv_2d_nhwc_hwcf     -> im2col (linalg.generic, host) + hwacc.matmul
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_LOWERLINALGTOHWACC
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// Element types the array computes: f32 x f32 -> f32, i8 x i8 -> i32.
bool offloadableTypes(Type a, Type b, Type c) {
  return (a.isF32() && b.isF32() && c.isF32()) ||
         (a.isSignlessInteger(8) && b.isSignlessInteger(8) &&
          c.isSignlessInteger(32));
}

Type elemOf(Value v) { return cast<MemRefType>(v.getType()).getElementType(); }

/// A linalg.fill of zero into `buffer` right before `op`: the accelerator
/// overwrites, so the fill can go.
linalg::FillOp zeroFillBefore(Operation *op, Value buffer) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
  if (!fill || fill.getOutputs().front() != buffer)
    return {};
  Attribute value;
  if (!matchPattern(fill.getInputs().front(), m_Constant(&value)))
    return {};
  if (auto f = dyn_cast<FloatAttr>(value); f && f.getValue().isZero())
    return fill;
  if (auto i = dyn_cast<IntegerAttr>(value); i && i.getValue().isZero())
    return fill;
  return {};
}

struct Settings {
  SmallVector<int64_t, 3> tile;
  std::string dataflow, loopOrder;
  bool doubleBuffer;
};

class LowerLinalgToHwaccPass
    : public impl::LowerLinalgToHwaccBase<LowerLinalgToHwaccPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    hwacc::TargetAttr target = hwacc::lookupTarget(module);
    if (!target) {
      target = hwacc::TargetAttr::getChecked(
          [&] { return module.emitError(); }, ctx, int64_t(arrayDim),
          int64_t(scratchpadRows), int64_t(accumulatorRows));
      if (!target)
        return signalPassFailure();
      module->setAttr(hwacc::kTargetAttrName, target);
    }
    if (!tile.empty() && tile.size() != 3) {
      module.emitError("hatc-lower-linalg-to-hwacc: tile needs three "
                       "sizes tm,tn,tk");
      return signalPassFailure();
    }

    SmallVector<linalg::LinalgOp> candidates;
    module.walk([&](linalg::LinalgOp op) {
      if (isa<linalg::MatmulOp, linalg::BatchMatmulOp,
              linalg::Conv2DNhwcHwcfOp>(op) &&
          op.hasPureBufferSemantics() && !op->hasAttr(kOnHost))
        candidates.push_back(op);
    });
    IRRewriter rewriter(ctx);
    for (linalg::LinalgOp op : candidates) {
      LogicalResult result = success();
      if (auto mm = dyn_cast<linalg::MatmulOp>(op.getOperation()))
        result = lowerMatmul(rewriter, mm, target);
      else if (auto bmm = dyn_cast<linalg::BatchMatmulOp>(op.getOperation()))
        result = lowerBatchMatmul(rewriter, bmm, target);
      else
        result = lowerConv(rewriter, cast<linalg::Conv2DNhwcHwcfOp>(op),
                           target);
      if (failed(result))
        return signalPassFailure();
    }
    bracketHostWork(module);
  }

  /// hatc_hwacc_host_begin/end calls around each linalg op left on the host,
  /// so the device model counts its wall time (see HwaccAbi.h); a GEMM the
  /// schedule kept there (hwacc.on_host) begins with
  /// hatc_hwacc_host_kept_begin, so that its time counts in the schedule's.
  void bracketHostWork(ModuleOp module) {
    SmallVector<linalg::LinalgOp> hostOps;
    module.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() &&
          !op->getParentOfType<linalg::LinalgOp>())
        hostOps.push_back(op);
    });
    if (hostOps.empty())
      return;
    OpBuilder b(module.getBodyRegion());
    auto declare = [&](StringRef name) {
      if (!module.lookupSymbol<func::FuncOp>(name)) {
        b.setInsertionPointToStart(module.getBody());
        auto fn = b.create<func::FuncOp>(module.getLoc(), name,
                                         b.getFunctionType({}, {}));
        fn.setPrivate();
      }
    };
    declare(kHostBegin);
    declare(kHostEnd);
    if (llvm::any_of(hostOps,
                     [](linalg::LinalgOp op) { return op->hasAttr(kOnHost); }))
      declare(kHostKeptBegin);
    for (linalg::LinalgOp op : hostOps) {
      b.setInsertionPoint(op);
      b.create<func::CallOp>(op.getLoc(),
                             op->hasAttr(kOnHost) ? kHostKeptBegin : kHostBegin,
                             TypeRange{});
      b.setInsertionPointAfter(op);
      b.create<func::CallOp>(op.getLoc(), kHostEnd, TypeRange{});
    }
  }
  static constexpr llvm::StringLiteral kOnHost = "hwacc.on_host";
  static constexpr llvm::StringLiteral kHostBegin = "hatc_hwacc_host_begin";
  static constexpr llvm::StringLiteral kHostKeptBegin =
      "hatc_hwacc_host_kept_begin";
  static constexpr llvm::StringLiteral kHostEnd = "hatc_hwacc_host_end";

private:
  /// Settings for one op: its hwacc.* attributes, else the pass options,
  /// else defaults; tiles clamped to the (dim-rounded) problem size.
  FailureOr<Settings> settingsFor(Operation *op, hwacc::TargetAttr target,
                                  int64_t m, int64_t n, int64_t k,
                                  Type elemType) {
    int64_t dim = target.getDim();
    Settings s;
    s.dataflow = dataflow;
    s.loopOrder = loopOrder;
    s.doubleBuffer = doubleBuffer;
    if (auto attr = op->getAttrOfType<DenseI64ArrayAttr>("hwacc.tile")) {
      s.tile.assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
    } else if (auto attr = op->getAttrOfType<ArrayAttr>("hwacc.tile")) {
      for (Attribute a : attr)
        if (auto i = dyn_cast<IntegerAttr>(a))
          s.tile.push_back(i.getInt());
    } else if (!tile.empty()) {
      s.tile.assign(tile.begin(), tile.end());
    }
    if (auto attr = op->getAttrOfType<StringAttr>("hwacc.dataflow"))
      s.dataflow = attr.str();
    if (auto attr = op->getAttrOfType<StringAttr>("hwacc.loop_order"))
      s.loopOrder = attr.str();
    if (auto attr = op->getAttrOfType<BoolAttr>("hwacc.double_buffer"))
      s.doubleBuffer = attr.getValue();

    auto roundUp = [&](int64_t x) { return (x + dim - 1) / dim * dim; };
    if (s.tile.empty()) {
      // 4 x 4 blocks per tile side, shrunk until the tiles fit.
      s.tile = {4 * dim, 4 * dim, 4 * dim};
      int64_t spRows = hwacc::scratchpadRowsFor(target, elemType);
      auto fits = [&] {
        int64_t buffers = s.doubleBuffer ? 2 : 1;
        return buffers * (s.tile[0] * s.tile[2] + s.tile[2] * s.tile[1]) /
                       dim <=
                   spRows &&
               s.tile[0] * s.tile[1] / dim <= target.getAccumulatorRows();
      };
      while (!fits() && s.tile[2] > dim)
        s.tile[2] /= 2;
      while (!fits() && (s.tile[0] > dim || s.tile[1] > dim)) {
        s.tile[0] = std::max(dim, s.tile[0] / 2);
        s.tile[1] = std::max(dim, s.tile[1] / 2);
      }
    }
    if (s.tile.size() != 3)
      return op->emitError("hwacc.tile must have three sizes [tm, tn, tk]");
    // A tile larger than the problem only wastes memory.
    if (!ShapedType::isDynamic(m))
      s.tile[0] = std::min(s.tile[0], roundUp(m));
    if (!ShapedType::isDynamic(n))
      s.tile[1] = std::min(s.tile[1], roundUp(n));
    if (!ShapedType::isDynamic(k))
      s.tile[2] = std::min(s.tile[2], roundUp(k));
    return s;
  }

  FailureOr<hwacc::MatmulOp> createMatmul(IRRewriter &rewriter, Operation *op,
                                          Value a, Value b, Value c,
                                          bool accumulate,
                                          hwacc::TargetAttr target) {
    auto at = cast<MemRefType>(a.getType()), bt = cast<MemRefType>(b.getType());
    FailureOr<Settings> s =
        settingsFor(op, target, at.getDimSize(0), bt.getDimSize(1),
                    at.getDimSize(1), at.getElementType());
    if (failed(s))
      return failure();
    auto mm = rewriter.create<hwacc::MatmulOp>(
        op->getLoc(), a, b, c, rewriter.getDenseI64ArrayAttr(s->tile),
        rewriter.getStringAttr(s->dataflow),
        rewriter.getStringAttr(s->loopOrder),
        s->doubleBuffer ? rewriter.getUnitAttr() : UnitAttr(),
        accumulate ? rewriter.getUnitAttr() : UnitAttr());
    if (failed(mm.verify()))
      return failure();
    return mm;
  }

  LogicalResult lowerMatmul(IRRewriter &rewriter, linalg::MatmulOp op,
                            hwacc::TargetAttr target) {
    Value a = op.getInputs()[0], b = op.getInputs()[1],
          c = op.getOutputs()[0];
    if (!offloadableTypes(elemOf(a), elemOf(b), elemOf(c)) ||
        op.getCast() != linalg::TypeFn::cast_signed)
      return success(); // stays on the host
    linalg::FillOp fill = zeroFillBefore(op, c);
    rewriter.setInsertionPoint(op);
    if (failed(createMatmul(rewriter, op, a, b, c, !fill, target)))
      return failure();
    if (fill)
      rewriter.eraseOp(fill);
    rewriter.eraseOp(op);
    return success();
  }

  LogicalResult lowerBatchMatmul(IRRewriter &rewriter,
                                 linalg::BatchMatmulOp op,
                                 hwacc::TargetAttr target) {
    Value a = op.getInputs()[0], b = op.getInputs()[1],
          c = op.getOutputs()[0];
    if (!offloadableTypes(elemOf(a), elemOf(b), elemOf(c)))
      return success();
    linalg::FillOp fill = zeroFillBefore(op, c);
    Location loc = op.getLoc();
    rewriter.setInsertionPoint(op);
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    Value batch = rewriter.create<memref::DimOp>(loc, a, 0);
    auto loop = rewriter.create<scf::ForOp>(loc, zero, batch, one);
    rewriter.setInsertionPointToStart(loop.getBody());
    Value iv = loop.getInductionVar();
    auto slice = [&](Value matrix) -> Value {
      auto type = cast<MemRefType>(matrix.getType());
      SmallVector<OpFoldResult> offsets = {iv, rewriter.getIndexAttr(0),
                                           rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes = {rewriter.getIndexAttr(1)};
      for (int64_t d = 1; d < 3; ++d)
        sizes.push_back(type.isDynamicDim(d)
                            ? OpFoldResult(rewriter.create<memref::DimOp>(
                                  loc, matrix, d).getResult())
                            : OpFoldResult(rewriter.getIndexAttr(
                                  type.getDimSize(d))));
      SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
      auto resultType = cast<MemRefType>(
          memref::SubViewOp::inferRankReducedResultType(
              {type.getDimSize(1), type.getDimSize(2)}, type, offsets, sizes,
              strides));
      return rewriter.create<memref::SubViewOp>(loc, resultType, matrix,
                                                offsets, sizes, strides);
    };
    Value a2 = slice(a), b2 = slice(b), c2 = slice(c);
    if (failed(createMatmul(rewriter, op, a2, b2, c2, !fill, target)))
      return failure();
    if (fill)
      rewriter.eraseOp(fill);
    rewriter.eraseOp(op);
    return success();
  }

  LogicalResult lowerConv(IRRewriter &rewriter, linalg::Conv2DNhwcHwcfOp op,
                          hwacc::TargetAttr target) {
    Value input = op.getInputs()[0], filter = op.getInputs()[1],
          output = op.getOutputs()[0];
    auto inT = cast<MemRefType>(input.getType());
    auto fT = cast<MemRefType>(filter.getType());
    auto outT = cast<MemRefType>(output.getType());
    if (!offloadableTypes(inT.getElementType(), fT.getElementType(),
                          outT.getElementType()))
      return success();
    if (!inT.hasStaticShape() || !fT.hasStaticShape() ||
        !outT.hasStaticShape() || !fT.getLayout().isIdentity() ||
        !outT.getLayout().isIdentity())
      return success(); // im2col needs static, contiguous filter and output
    auto strides = llvm::to_vector(op.getStrides().getValues<int64_t>());
    auto dilations = llvm::to_vector(op.getDilations().getValues<int64_t>());
    int64_t n = outT.getDimSize(0), oh = outT.getDimSize(1),
            ow = outT.getDimSize(2);
    int64_t kh = fT.getDimSize(0), kw = fT.getDimSize(1),
            c = fT.getDimSize(2);
    Location loc = op.getLoc();
    MLIRContext *ctx = rewriter.getContext();
    linalg::FillOp fill = zeroFillBefore(op, output);
    rewriter.setInsertionPoint(op);

    // im2col[(n, oh, ow), (kh, kw, c)] = input[n, oh*s0 + kh*d0, ow*s1 + kw*d1, c]
    Type elem = inT.getElementType();
    auto colsT = MemRefType::get({n * oh * ow, kh * kw * c}, elem);
    Value cols = rewriter.create<memref::AllocOp>(
        loc, colsT, rewriter.getI64IntegerAttr(64));
    auto cols6T = MemRefType::get({n, oh, ow, kh, kw, c}, elem);
    Value cols6 = rewriter.create<memref::ExpandShapeOp>(
        loc, cols6T, cols,
        ArrayRef<ReassociationIndices>{{0, 1, 2}, {3, 4, 5}});
    AffineExpr d0, d1, d2, d3, d4, d5;
    bindDims(ctx, d0, d1, d2, d3, d4, d5);
    auto inputMap = AffineMap::get(
        6, 0,
        {d0, d1 * strides[0] + d3 * dilations[0],
         d2 * strides[1] + d4 * dilations[1], d5},
        ctx);
    auto identity = AffineMap::getMultiDimIdentityMap(6, ctx);
    rewriter.create<linalg::GenericOp>(
        loc, TypeRange(), ValueRange{input}, ValueRange{cols6},
        ArrayRef<AffineMap>{inputMap, identity},
        SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel),
        [](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(l, args[0]);
        });
    Value filter2 = rewriter.create<memref::CollapseShapeOp>(
        loc, filter, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
    Value output2 = rewriter.create<memref::CollapseShapeOp>(
        loc, output, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
    if (failed(createMatmul(rewriter, op, cols, filter2, output2, !fill,
                            target)))
      return failure();
    rewriter.create<memref::DeallocOp>(loc, cols);
    if (fill)
      rewriter.eraseOp(fill);
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace
} // namespace hatc
