//===- PrefetchWeights.cpp - Prefetch the next block of the weights --------===//
//
//   scf.for %k (innermost) { read of subview(get_global @W)[.., %k, ..] }
//     -> each line of the read prefetched one trip of %k ahead
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_PREFETCHWEIGHTS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// The constant global a chain of unit-stride, rank-preserving subviews
/// starts from, and the subviews from the read's source outwards.
struct WeightView {
  memref::GetGlobalOp global;
  SmallVector<memref::SubViewOp> subviews;
};

std::optional<WeightView> weightViewOf(Value source, int64_t minBytes) {
  WeightView view;
  while (auto subview = source.getDefiningOp<memref::SubViewOp>()) {
    if (subview.getSourceType().getRank() != subview.getType().getRank() ||
        !llvm::all_of(subview.getStaticStrides(),
                      [](int64_t s) { return s == 1; }))
      return std::nullopt;
    view.subviews.push_back(subview);
    source = subview.getSource();
  }
  view.global = source.getDefiningOp<memref::GetGlobalOp>();
  if (!view.global)
    return std::nullopt;
  auto global = SymbolTable::lookupNearestSymbolFrom<memref::GlobalOp>(
      view.global, view.global.getNameAttr());
  if (!global || !global.getConstant())
    return std::nullopt;
  MemRefType type = global.getType();
  if (!type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !type.getElementType().isIntOrFloat())
    return std::nullopt;
  int64_t bytes =
      type.getNumElements() * type.getElementTypeBitWidth() / 8;
  if (bytes < minBytes)
    return std::nullopt;
  return view;
}

class PrefetchWeightsPass
    : public impl::PrefetchWeightsBase<PrefetchWeightsPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    SmallVector<vector::TransferReadOp> reads;
    getOperation()->walk([&](vector::TransferReadOp read) {
      reads.push_back(read);
    });
    for (vector::TransferReadOp read : reads)
      prefetchAhead(read);
  }

private:
  void prefetchAhead(vector::TransferReadOp read) {
    auto loop = dyn_cast<scf::ForOp>(read->getParentOp());
    auto outer = loop ? dyn_cast<scf::ForOp>(loop->getParentOp()) : nullptr;
    if (!outer || !read.getPermutationMap().isMinorIdentity() ||
        read.getMask())
      return;
    bool innermost = true;
    loop.getBody()->walk([&](LoopLikeOpInterface) { innermost = false; });
    auto trip = [](scf::ForOp f) {
      return constantTripCount(f.getLowerBound(), f.getUpperBound(),
                               f.getStep());
    };
    std::optional<int64_t> trips = trip(loop), outerTrips = trip(outer);
    if (!innermost || !trips || *trips <= 0 || !outerTrips || *outerTrips <= 0)
      return;
    VectorType type = read.getVectorType();
    int64_t elemBytes = type.getElementTypeBitWidth() / 8;
    if (elemBytes == 0 || type.getRank() != 1)
      return;
    std::optional<WeightView> view =
        weightViewOf(read.getSource(), minBytes);
    if (!view)
      return;
    // The read's indices in the global: its own plus each subview's
    // offsets, each a constant, the loop's induction variable, or defined
    // outside the outer loop (the block is the same for all the outer
    // loop's iterations). The dim the loop walks is the one that takes
    // the variable (exactly one).
    Value iv = loop.getInductionVar();
    int64_t rank = cast<MemRefType>(read.getSource().getType()).getRank();
    SmallVector<std::pair<int64_t, OpFoldResult>> offsets; // (dim, offset)
    for (auto [d, index] : llvm::enumerate(read.getIndices()))
      offsets.emplace_back(d, index);
    for (memref::SubViewOp subview : view->subviews)
      for (auto [d, offset] : llvm::enumerate(subview.getMixedOffsets()))
        offsets.emplace_back(d, offset);
    int64_t walked = -1;
    for (auto [d, offset] : offsets) {
      auto value = dyn_cast<Value>(offset);
      if (!value || getConstantIntValue(value))
        continue;
      if (value == iv)
        walked = walked == -1 ? d : -2;
      else if (!value.getParentRegion()->isProperAncestor(&outer.getRegion()))
        return;
    }
    if (walked < 0)
      return;
    // One line a trip of the loop: iteration k of the outer loop's
    // iteration o prefetches line (o * trips + k) mod (the block's lines)
    // of the next block (the loop's rows `trips` ahead): a whole block
    // every few register tiles, one prefetch per step of the kernel.
    int64_t lineElems = std::max<int64_t>(1, 64 / elemBytes);
    int64_t linesPerRow =
        std::max<int64_t>(1, type.getShape().back() / lineElems);
    OpBuilder b(read);
    Location loc = read.getLoc();
    auto constant = [&](int64_t v) -> Value {
      return b.create<arith::ConstantIndexOp>(loc, v);
    };
    auto iteration = [&](scf::ForOp f, Value at) -> Value {
      return b.createOrFold<arith::DivUIOp>(
          loc, b.createOrFold<arith::SubIOp>(loc, at, f.getLowerBound()),
          f.getStep());
    };
    Value lineNo = b.createOrFold<arith::RemUIOp>(
        loc,
        b.createOrFold<arith::AddIOp>(
            loc,
            b.createOrFold<arith::MulIOp>(
                loc, iteration(outer, outer.getInductionVar()),
                constant(*trips)),
            iteration(loop, iv)),
        constant(*trips * linesPerRow));
    Value row = b.createOrFold<arith::AddIOp>(
        loc, b.createOrFold<arith::DivUIOp>(loc, lineNo, constant(linesPerRow)),
        constant(*trips));
    Value lane = b.createOrFold<arith::MulIOp>(
        loc, b.createOrFold<arith::RemUIOp>(loc, lineNo, constant(linesPerRow)),
        constant(lineElems));
    Value ahead = b.createOrFold<arith::AddIOp>(
        loc, b.createOrFold<arith::MulIOp>(loc, row, loop.getStep()),
        loop.getLowerBound());
    SmallVector<Value> indices(rank);
    auto add = [&](int64_t d, OpFoldResult offset) {
      if (isConstantIntValue(offset, 0) && offset != OpFoldResult(iv))
        return;
      Value value = offset == OpFoldResult(iv)
                        ? ahead
                        : getValueOrCreateConstantIndexOp(b, loc, offset);
      indices[d] = indices[d]
                       ? b.createOrFold<arith::AddIOp>(loc, indices[d], value)
                       : value;
    };
    for (auto [d, offset] : offsets)
      add(d, offset);
    add(rank - 1, lane);
    for (Value &index : indices)
      if (!index)
        index = constant(0);
    b.create<memref::PrefetchOp>(loc, view->global.getResult(), indices,
                                 /*isWrite=*/false, /*localityHint=*/2,
                                 /*isDataCache=*/true);
  }
};

} // namespace
} // namespace hatc
