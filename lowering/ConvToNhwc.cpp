//===- ConvToNhwc.cpp - NCHW convolutions in the layout hwacc takes -------===//
//
//   linalg.conv_2d_nchw_fchw   -> transposes + linalg.conv_2d_nhwc_hwcf
//                                 + a transpose of the result
//   linalg.conv_2d_ngchw_gfchw -> one conv_2d_nchw_fchw per group (few
//                                 groups), then as above
//   linalg.depthwise_conv_2d_nchw_chw -> depthwise_conv_2d_nhwc_hwc
//                                 (option depthwise: the CPU layout)
//   linalg.pooling_nchw_max / _sum -> pooling_nhwc_max / _sum (option
//                                 pooling: the CPU layout)
//   linalg.conv_2d_ngchw_gfchw -> one conv_2d_nhwc_hwcf per group on
//                                 channel slices of one NHWC input and
//                                 output (option grouped-nhwc: the CPU
//                                 layout)
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_CONVTONHWC
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// Where NCHW dimension i goes in NHWC.
constexpr int64_t kNchwToNhwc[] = {0, 3, 1, 2};
/// Permutations in linalg.transpose's sense: result dim i is input dim
/// perm[i].
constexpr int64_t kToNhwc[] = {0, 2, 3, 1};   // NCHW -> NHWC
constexpr int64_t kToHwcf[] = {2, 3, 1, 0};   // FCHW -> HWCF
constexpr int64_t kFromNhwc[] = {0, 3, 1, 2}; // NHWC -> NCHW

/// Element types the array computes (as in LinalgToHwacc.cpp): converting
/// anything else would only slow the host down.
bool offloadableTypes(Type a, Type b, Type c) {
  return (a.isF32() && b.isF32() && c.isF32()) ||
         (a.isSignlessInteger(8) && b.isSignlessInteger(8) &&
          c.isSignlessInteger(32));
}

/// An empty tensor shaped like `source` with its dimensions permuted.
Value emptyPermuted(OpBuilder &b, Location loc, Value source,
                    ArrayRef<int64_t> perm) {
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, source);
  SmallVector<OpFoldResult> permuted;
  for (int64_t p : perm)
    permuted.push_back(sizes[p]);
  return b.create<tensor::EmptyOp>(loc, permuted,
                                   getElementTypeOrSelf(source.getType()));
}

Value transpose(OpBuilder &b, Location loc, Value source,
                ArrayRef<int64_t> perm) {
  Value init = emptyPermuted(b, loc, source, perm);
  return b.create<linalg::TransposeOp>(loc, source, init, perm).getResult()[0];
}

/// The accumulator of an NCHW conv in NHWC. A fill or a broadcast (of a
/// bias) is redone in the new layout, so no transpose is needed and the
/// hwacc lowering still sees a zero fill right before the conv; anything
/// else is transposed.
Value nhwcInit(OpBuilder &b, Location loc, Value init) {
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    Value empty = emptyPermuted(b, loc, init, kToNhwc);
    return b.create<linalg::FillOp>(loc, fill.getInputs().front(), empty)
        .getResult(0);
  }
  if (auto broadcast = init.getDefiningOp<linalg::BroadcastOp>()) {
    // The dimensions the input keeps must stay in order in NHWC.
    ArrayRef<int64_t> added = broadcast.getDimensions();
    SmallVector<int64_t> kept, newAdded;
    for (int64_t d = 0; d < 4; ++d)
      (llvm::is_contained(added, d) ? newAdded : kept)
          .push_back(kNchwToNhwc[d]);
    if (llvm::is_sorted(kept)) {
      llvm::sort(newAdded);
      Value empty = emptyPermuted(b, loc, init, kToNhwc);
      return b
          .create<linalg::BroadcastOp>(loc, broadcast.getInput(), empty,
                                       newAdded)
          .getResult()[0];
    }
  }
  return transpose(b, loc, init, kToNhwc);
}

/// Erases `value`'s producer (and what only it used) once nothing reads it.
void eraseIfDead(RewriterBase &rewriter, Value value) {
  Operation *op = value.getDefiningOp();
  if (!op || !op->use_empty() ||
      !isa<linalg::FillOp, linalg::BroadcastOp, linalg::TransposeOp,
           tensor::EmptyOp>(op))
    return;
  SmallVector<Value> operands(op->getOperands());
  rewriter.eraseOp(op);
  for (Value operand : operands)
    eraseIfDead(rewriter, operand);
}

/// hwacc.* attributes (a schedule's tile, dataflow, ...) and anything else
/// a schedule put on the op travel to its replacement; not linalg's own
/// cache of the old op's indexing maps.
void copyDiscardableAttrs(Operation *from, Operation *to) {
  for (NamedAttribute attr : from->getDiscardableAttrs())
    if (!attr.getName().strref().starts_with("linalg."))
      to->setAttr(attr.getName(), attr.getValue());
}

/// An NCHW conv or pool `op` -> transposes of its input (to NHWC) and
/// filter (by `filterPermutation`; kept where that is empty) + the NHWC op
/// `NhwcConv` + a transpose of the result back to NCHW.
template <typename NhwcConv, typename NchwConv>
LogicalResult rewriteToNhwc(RewriterBase &rewriter, NchwConv op,
                            ArrayRef<int64_t> filterPermutation) {
  Value input = op.getInputs()[0], filter = op.getInputs()[1],
        init = op.getOutputs()[0];
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value nhwcInput = transpose(rewriter, loc, input, kToNhwc);
  // No permutation: the operand is kept (a pooling window, shape only).
  Value nhwcFilter = filterPermutation.empty()
                         ? filter
                         : transpose(rewriter, loc, filter, filterPermutation);
  // Last before the conv: a zero fill must stay right before it.
  Value nhwcAcc = nhwcInit(rewriter, loc, init);
  auto conv = rewriter.create<NhwcConv>(
      loc, nhwcAcc.getType(), ValueRange{nhwcInput, nhwcFilter},
      ValueRange{nhwcAcc}, op.getStrides(), op.getDilations());
  copyDiscardableAttrs(op, conv);
  Value result = transpose(rewriter, loc, conv.getResult(0), kFromNhwc);
  rewriter.replaceOp(op, result);
  eraseIfDead(rewriter, init);
  return success();
}

LogicalResult rewriteNchw(RewriterBase &rewriter, linalg::Conv2DNchwFchwOp op) {
  return rewriteToNhwc<linalg::Conv2DNhwcHwcfOp>(rewriter, op, kToHwcf);
}

/// depthwise_conv_2d_nchw_chw -> transposes + depthwise_conv_2d_nhwc_hwc
/// + a transpose of the result (for the CPU: channels innermost).
LogicalResult rewriteDepthwise(RewriterBase &rewriter,
                               linalg::DepthwiseConv2DNchwChwOp op) {
  constexpr int64_t kChwToHwc[] = {1, 2, 0};
  return rewriteToNhwc<linalg::DepthwiseConv2DNhwcHwcOp>(rewriter, op,
                                                         kChwToHwc);
}

/// pooling_nchw_{max,sum} -> a transpose of the input to NHWC +
/// pooling_nhwc_{max,sum} (the window operand as it was) + a transpose of
/// the result back to NCHW.
template <typename NhwcPool, typename NchwPool>
LogicalResult rewritePooling(RewriterBase &rewriter, NchwPool op) {
  return rewriteToNhwc<NhwcPool>(rewriter, op, /*filterPermutation=*/{});
}

/// One conv_2d_nchw_fchw per group on rank-reduced slices, each result
/// inserted into the accumulator.
void splitGroups(RewriterBase &rewriter, linalg::Conv2DNgchwGfchwOp op) {
  Value input = op.getInputs()[0], filter = op.getInputs()[1],
        acc = op.getOutputs()[0];
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  int64_t groups = cast<RankedTensorType>(input.getType()).getDimSize(1);
  // Slices [.., g, ..] of `source` along dimension `dim`, that dimension
  // dropped.
  auto slice = [&](Value source, int64_t dim, int64_t g) -> Value {
    auto type = cast<RankedTensorType>(source.getType());
    SmallVector<OpFoldResult> offsets(type.getRank(), rewriter.getIndexAttr(0));
    offsets[dim] = rewriter.getIndexAttr(g);
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, source);
    sizes[dim] = rewriter.getIndexAttr(1);
    SmallVector<OpFoldResult> strides(type.getRank(), rewriter.getIndexAttr(1));
    SmallVector<int64_t> shape(type.getShape());
    shape.erase(shape.begin() + dim);
    auto resultType = RankedTensorType::get(shape, type.getElementType());
    return rewriter.create<tensor::ExtractSliceOp>(loc, resultType, source,
                                                   offsets, sizes, strides);
  };
  for (int64_t g = 0; g < groups; ++g) {
    Value groupAcc = slice(acc, 1, g);
    auto conv = rewriter.create<linalg::Conv2DNchwFchwOp>(
        loc, groupAcc.getType(),
        ValueRange{slice(input, 1, g), slice(filter, 0, g)},
        ValueRange{groupAcc}, op.getStrides(), op.getDilations());
    copyDiscardableAttrs(op, conv);
    auto accType = cast<RankedTensorType>(acc.getType());
    SmallVector<OpFoldResult> offsets(5, rewriter.getIndexAttr(0));
    offsets[1] = rewriter.getIndexAttr(g);
    SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, acc);
    sizes[1] = rewriter.getIndexAttr(1);
    SmallVector<OpFoldResult> strides(accType.getRank(),
                                      rewriter.getIndexAttr(1));
    acc = rewriter.create<tensor::InsertSliceOp>(loc, conv.getResult(0), acc,
                                                 offsets, sizes, strides);
  }
  rewriter.replaceOp(op, acc);
}

/// A grouped conv on the NHWC layout: the input (N, G, C, H, W) collapsed
/// to NCHW and transposed once to NHWC; per group g, a conv_2d_nhwc_hwcf
/// of its channel slice [g C, (g + 1) C) with its filters (the whole
/// filter transposed once to G, KH, KW, C, F, a constant), accumulating
/// into the output's channel slice [g F, (g + 1) F); the NHWC output
/// transposed back and expanded to (N, G, F, OH, OW). The transposes meet
/// the neighbours' in hatc-propagate-transposes.
void groupsOnNhwc(RewriterBase &rewriter, linalg::Conv2DNgchwGfchwOp op) {
  Value input = op.getInputs()[0], filter = op.getInputs()[1],
        init = op.getOutputs()[0];
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto inType = cast<RankedTensorType>(input.getType());
  auto outType = cast<RankedTensorType>(init.getType());
  int64_t N = inType.getDimSize(0), G = inType.getDimSize(1),
          C = inType.getDimSize(2), H = inType.getDimSize(3),
          W = inType.getDimSize(4), F = outType.getDimSize(2),
          OH = outType.getDimSize(3), OW = outType.getDimSize(4);
  auto filterType = cast<RankedTensorType>(filter.getType());
  int64_t KH = filterType.getDimSize(3), KW = filterType.getDimSize(4);
  Type element = outType.getElementType();
  SmallVector<ReassociationIndices> groupsAndChannels = {{0}, {1, 2}, {3},
                                                         {4}};
  Value nchw = rewriter.create<tensor::CollapseShapeOp>(loc, input,
                                                        groupsAndChannels);
  Value nhwc = transpose(rewriter, loc, nchw, kToNhwc);
  // G, F, C, KH, KW -> G, KH, KW, C, F.
  Value filters = transpose(rewriter, loc, filter, {0, 3, 4, 2, 1});
  Value acc;
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    Value empty = rewriter.create<tensor::EmptyOp>(
        loc, ArrayRef<int64_t>{N, OH, OW, G * F}, element);
    acc = rewriter.create<linalg::FillOp>(loc, fill.getInputs().front(), empty)
              .getResult(0);
  } else {
    Value initNchw = rewriter.create<tensor::CollapseShapeOp>(
        loc, init, groupsAndChannels);
    acc = transpose(rewriter, loc, initNchw, kToNhwc);
  }
  auto index = [&](int64_t v) -> OpFoldResult {
    return rewriter.getIndexAttr(v);
  };
  SmallVector<OpFoldResult> ones(4, index(1));
  Value result = acc;
  for (int64_t g = 0; g < G; ++g) {
    Value in = rewriter.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get({N, H, W, C}, element), nhwc,
        SmallVector<OpFoldResult>{index(0), index(0), index(0), index(g * C)},
        SmallVector<OpFoldResult>{index(N), index(H), index(W), index(C)},
        ones);
    Value w = rewriter.create<tensor::ExtractSliceOp>(
        loc,
        RankedTensorType::get({KH, KW, C, F}, filterType.getElementType()),
        filters,
        SmallVector<OpFoldResult>{index(g), index(0), index(0), index(0),
                                  index(0)},
        SmallVector<OpFoldResult>{index(1), index(KH), index(KW), index(C),
                                  index(F)},
        SmallVector<OpFoldResult>(5, index(1)));
    SmallVector<OpFoldResult> outOffsets = {index(0), index(0), index(0),
                                            index(g * F)};
    SmallVector<OpFoldResult> outSizes = {index(N), index(OH), index(OW),
                                          index(F)};
    Value groupAcc = rewriter.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get({N, OH, OW, F}, element), acc, outOffsets,
        outSizes, ones);
    auto conv = rewriter.create<linalg::Conv2DNhwcHwcfOp>(
        loc, groupAcc.getType(), ValueRange{in, w}, ValueRange{groupAcc},
        op.getStrides(), op.getDilations());
    copyDiscardableAttrs(op, conv);
    result = rewriter.create<tensor::InsertSliceOp>(
        loc, conv.getResult(0), result, outOffsets, outSizes, ones);
  }
  Value back = transpose(rewriter, loc, result, kFromNhwc);
  rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, outType, back,
                                                     groupsAndChannels);
  eraseIfDead(rewriter, init);
}

template <typename ConvOp> bool convertible(ConvOp op, bool anyType) {
  if (!op.hasPureTensorSemantics() || op->hasAttr("hwacc.on_host"))
    return false;
  return anyType || offloadableTypes(getElementTypeOrSelf(op.getInputs()[0]),
                          getElementTypeOrSelf(op.getInputs()[1]),
                          getElementTypeOrSelf(op.getOutputs()[0]));
}

class ConvToNhwcPass : public impl::ConvToNhwcBase<ConvToNhwcPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::Conv2DNgchwGfchwOp> grouped;
    getOperation()->walk([&](linalg::Conv2DNgchwGfchwOp op) {
      auto type = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
      if (convertible(op, anyType) && type && !type.isDynamicDim(1) &&
          type.getDimSize(1) <= maxGroups)
        grouped.push_back(op);
    });
    for (linalg::Conv2DNgchwGfchwOp op : grouped)
      splitGroups(rewriter, op);
    if (groupedNhwc) {
      SmallVector<linalg::Conv2DNgchwGfchwOp> rest;
      getOperation()->walk([&](linalg::Conv2DNgchwGfchwOp op) {
        auto type = dyn_cast<RankedTensorType>(op.getInputs()[0].getType());
        auto out = dyn_cast<RankedTensorType>(op.getOutputs()[0].getType());
        auto filter = dyn_cast<RankedTensorType>(op.getInputs()[1].getType());
        if (convertible(op, anyType) && type && type.hasStaticShape() &&
            out && out.hasStaticShape() && filter && filter.hasStaticShape())
          rest.push_back(op);
      });
      for (linalg::Conv2DNgchwGfchwOp op : rest)
        groupsOnNhwc(rewriter, op);
    }

    SmallVector<linalg::Conv2DNchwFchwOp> convs;
    getOperation()->walk([&](linalg::Conv2DNchwFchwOp op) {
      if (convertible(op, anyType))
        convs.push_back(op);
    });
    for (linalg::Conv2DNchwFchwOp op : convs)
      if (failed(rewriteNchw(rewriter, op)))
        return signalPassFailure();

    if (pooling) {
      SmallVector<Operation *> pools;
      getOperation()->walk([&](Operation *op) {
        if (isa<linalg::PoolingNchwMaxOp, linalg::PoolingNchwSumOp>(op) &&
            cast<linalg::LinalgOp>(op).hasPureTensorSemantics() &&
            !op->hasAttr("hwacc.on_host"))
          pools.push_back(op);
      });
      for (Operation *op : pools) {
        auto max = dyn_cast<linalg::PoolingNchwMaxOp>(op);
        if (failed(max ? rewritePooling<linalg::PoolingNhwcMaxOp>(rewriter, max)
                       : rewritePooling<linalg::PoolingNhwcSumOp>(
                             rewriter, cast<linalg::PoolingNchwSumOp>(op))))
          return signalPassFailure();
      }
    }

    if (!depthwise)
      return;
    SmallVector<linalg::DepthwiseConv2DNchwChwOp> depthwiseConvs;
    getOperation()->walk([&](linalg::DepthwiseConv2DNchwChwOp op) {
      if (convertible(op, anyType))
        depthwiseConvs.push_back(op);
    });
    for (linalg::DepthwiseConv2DNchwChwOp op : depthwiseConvs)
      if (failed(rewriteDepthwise(rewriter, op)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace hatc
