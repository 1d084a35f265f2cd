//===- PropagateTransposes.cpp - Layout transposes to the graph edges -----===//
//
//   transpose(transpose(x, p), q)        -> x (or one transpose)
//   elementwise generic(transpose(x, p)) -> transpose(generic'(x), p)
//   pad(transpose(x, p))                 -> transpose(pad'(x), p)
//   reduction generic(transpose(x, p))   -> generic'(x), permuted map
//   insert_slice chain into tensor.empty of transpose(x_i, p) (a Concat)
//                                        -> transpose(chain'(x_i), p)
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"
#include "hatc/Lowering/Workload.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_PROPAGATETRANSPOSES
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

struct ComposeTransposes : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<linalg::TransposeOp>();
    if (!inner || !op.hasPureTensorSemantics())
      return failure();
    ArrayRef<int64_t> p = inner.getPermutation(), q = op.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t i : q)
      composed.push_back(p[i]);
    bool identity = true;
    for (auto [i, d] : llvm::enumerate(composed))
      identity &= int64_t(i) == d;
    if (identity) {
      rewriter.replaceOp(op, inner.getInput());
      return success();
    }
    rewriter.replaceOp(op, transposedTensor(rewriter, op.getLoc(),
                                            inner.getInput(), composed));
    return success();
  }
};

/// Per-dim values of transpose(x, perm) (sizes, offsets, pads) in x's dim
/// order: result dim i of the transpose is x's dim perm[i].
template <typename T>
SmallVector<T> untransposed(ArrayRef<T> values, ArrayRef<int64_t> perm) {
  SmallVector<T> out(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    out[perm[i]] = values[i];
  return out;
}

/// The map that reads, in loops ordered like x, what `map` read in loops
/// ordered like transpose(x, perm): old loop i is new loop perm[i].
AffineMap inUntransposedLoops(AffineMap map, ArrayRef<int64_t> perm,
                              MLIRContext *context) {
  SmallVector<AffineExpr> oldLoops;
  for (int64_t p : perm)
    oldLoops.push_back(getAffineDimExpr(p, context));
  return map.compose(AffineMap::get(perm.size(), 0, oldLoops, context));
}

struct SinkTransposeThroughElementwise : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() ||
        op.getNumParallelLoops() != op.getNumLoops())
      return failure();
    for (OpOperand &init : op.getDpsInitsMutable())
      if (!op.getMatchingIndexingMap(&init).isIdentity() ||
          op.payloadUsesValueFromOperand(&init))
        return failure();
    // Every full-size input is a transpose by the same permutation.
    std::optional<SmallVector<int64_t>> perm;
    for (OpOperand *input : op.getDpsInputOperands()) {
      if (!op.getMatchingIndexingMap(input).isIdentity())
        continue;
      auto transpose = input->get().getDefiningOp<linalg::TransposeOp>();
      if (!transpose)
        return rewriter.notifyMatchFailure(op, "an input is not transposed");
      SmallVector<int64_t> p(transpose.getPermutation());
      if (perm && *perm != p)
        return rewriter.notifyMatchFailure(op, "different permutations");
      perm = p;
    }
    if (!perm)
      return failure();

    MLIRContext *context = op.getContext();
    Location loc = op.getLoc();
    int64_t rank = op.getNumLoops();
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (OpOperand *input : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(input);
      if (map.isIdentity()) {
        inputs.push_back(
            input->get().getDefiningOp<linalg::TransposeOp>().getInput());
        maps.push_back(AffineMap::getMultiDimIdentityMap(rank, context));
        continue;
      }
      inputs.push_back(input->get());
      maps.push_back(inUntransposedLoops(map, *perm, context));
    }
    SmallVector<Value> inits;
    SmallVector<Type> resultTypes;
    for (Value init : op.getDpsInits()) {
      auto type = cast<RankedTensorType>(init.getType());
      inits.push_back(rewriter.create<tensor::EmptyOp>(
          loc, untransposed(type.getShape(), *perm), type.getElementType()));
      resultTypes.push_back(inits.back().getType());
      maps.push_back(AffineMap::getMultiDimIdentityMap(rank, context));
    }
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, resultTypes, inputs, inits, maps, op.getIteratorTypesArray());
    rewriter.inlineRegionBefore(op.getRegion(), generic.getRegion(),
                                generic.getRegion().begin());
    SmallVector<Value> results;
    for (Value result : generic.getResults())
      results.push_back(transposedTensor(rewriter, loc, result, *perm));
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct SinkTransposeThroughPad : OpRewritePattern<tensor::PadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::PadOp op,
                                PatternRewriter &rewriter) const override {
    auto transpose = op.getSource().getDefiningOp<linalg::TransposeOp>();
    Value padValue = op.getConstantPaddingValue();
    if (!transpose || !padValue)
      return failure();
    ArrayRef<int64_t> perm = transpose.getPermutation();
    SmallVector<OpFoldResult> low = op.getMixedLowPad(),
                              high = op.getMixedHighPad();
    auto sourceType = cast<RankedTensorType>(transpose.getInput().getType());
    auto resultType = RankedTensorType::get(
        untransposed(op.getResultType().getShape(), perm),
        sourceType.getElementType());
    auto pad = rewriter.create<tensor::PadOp>(
        op.getLoc(), resultType, transpose.getInput(),
        untransposed<OpFoldResult>(low, perm),
        untransposed<OpFoldResult>(high, perm), padValue, op.getNofold());
    rewriter.replaceOp(op, transposedTensor(rewriter, op.getLoc(), pad, perm));
    return success();
  }
};

struct AbsorbTransposeIntoReduction : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() ||
        op.getNumReductionLoops() == 0)
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    bool changed = false;
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto transpose = input->get().getDefiningOp<linalg::TransposeOp>();
      if (!transpose ||
          !llvm::all_of(transpose->getUsers(),
                        [](Operation *u) { return isa<linalg::GenericOp>(u); }))
        continue;
      // Operand dim i of the transpose is x dim perm[i].
      ArrayRef<int64_t> perm = transpose.getPermutation();
      AffineMap map = maps[input->getOperandNumber()];
      maps[input->getOperandNumber()] = AffineMap::get(
          map.getNumDims(), 0, untransposed(map.getResults(), perm),
          op.getContext());
      rewriter.modifyOpInPlace(op, [&] { input->set(transpose.getInput()); });
      changed = true;
    }
    if (!changed)
      return failure();
    rewriter.modifyOpInPlace(op, [&] {
      op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    });
    return success();
  }
};

/// A concatenation as the importer writes it (tensor.insert_slice of each
/// input into the previous result, starting from a tensor.empty) whose
/// inputs are all transposes by one permutation: the chain in the
/// untransposed layout (offsets and sizes permuted), then one transpose of
/// its result. Matched at the chain's last insert.
struct SinkTransposeThroughConcat : OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::InsertSliceOp op,
                                PatternRewriter &rewriter) const override {
    // Not the last insert of its chain: the next one matches.
    if (op->hasOneUse() && isa<tensor::InsertSliceOp>(*op->user_begin()))
      return failure();
    SmallVector<tensor::InsertSliceOp> chain;
    Value dest = op.getResult();
    while (auto insert = dest.getDefiningOp<tensor::InsertSliceOp>()) {
      if (!chain.empty() && !insert->hasOneUse())
        return failure();
      chain.push_back(insert);
      dest = insert.getDest();
    }
    auto empty = dest.getDefiningOp<tensor::EmptyOp>();
    if (!empty || chain.size() < 2)
      return failure();
    std::optional<SmallVector<int64_t>> perm;
    for (tensor::InsertSliceOp insert : chain) {
      auto transpose = insert.getSource().getDefiningOp<linalg::TransposeOp>();
      if (!transpose || insert.getSourceType().getRank() !=
                            insert.getResultType().getRank() ||
          !insert.hasUnitStride() || !insert.getResultType().hasStaticShape())
        return failure();
      SmallVector<int64_t> p(transpose.getPermutation());
      if (perm && *perm != p)
        return failure();
      perm = p;
    }
    Location loc = op.getLoc();
    auto type = op.getResultType();
    Value result = rewriter.create<tensor::EmptyOp>(
        loc, untransposed(type.getShape(), *perm), type.getElementType());
    for (tensor::InsertSliceOp insert : llvm::reverse(chain)) {
      Value source =
          insert.getSource().getDefiningOp<linalg::TransposeOp>().getInput();
      result = rewriter.create<tensor::InsertSliceOp>(
          insert.getLoc(), source, result,
          untransposed<OpFoldResult>(insert.getMixedOffsets(), *perm),
          untransposed<OpFoldResult>(insert.getMixedSizes(), *perm),
          insert.getMixedStrides());
    }
    rewriter.replaceOp(op, transposedTensor(rewriter, loc, result, *perm));
    return success();
  }
};

class PropagateTransposesPass
    : public impl::PropagateTransposesBase<PropagateTransposesPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<ComposeTransposes, SinkTransposeThroughElementwise,
                 SinkTransposeThroughPad, SinkTransposeThroughConcat,
                 AbsorbTransposeIntoReduction>(context);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace hatc
