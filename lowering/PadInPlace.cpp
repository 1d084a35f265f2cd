//===- PadInPlace.cpp - Padded values written into their padded buffer ----===//
//
//   tensor.pad %x (constant value)  ->  empty + a fill of each border strip
//                                       (block start) + insert_slice %x
//                                       into the interior
//   tensor.empty with n uses         ->  n tensor.empty ops
//   linalg.fill of an empty, the destination of n ops
//                                    ->  n fills (each of its own empty)
//
// See PadInPlace.h. Example (what tests/lit/cpu/pad-in-place.mlir checks):
//
//   %r = linalg.generic ... outs(%e : tensor<1x56x56x64xf32>)
//   %p = tensor.pad %r low[0, 1, 1, 0] high[0, 1, 1, 0] { tensor.yield %zero }
//   // becomes
//   %pe = tensor.empty() : tensor<1x58x58x64xf32>
//   %pf = linalg.fill ins(%zero : f32) outs(%pe : tensor<1x58x58x64xf32>)
//   ...
//   %r = linalg.generic ... outs(%e : tensor<1x56x56x64xf32>)
//   %p = tensor.insert_slice %r into %pf[0, 1, 1, 0] [1, 56, 56, 64] [1, 1, 1, 1]
//
// and empty tensor elimination (run here, where there were pads) then makes
// %e a slice of %pf.
//
// TODO: move the declaration into Passes.td with the other passes; it is
// a PassWrapper so that adding it left Passes.h.inc (included by most of
// lowering/) unchanged.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/PadInPlace.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/Transforms/Transforms.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace hatc {
namespace {

/// The constant a pad fills with, if it is one.
TypedAttr constantPadValue(tensor::PadOp pad) {
  Value value = pad.getConstantPaddingValue();
  TypedAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return {};
  return attr;
}

/// `pad` as a buffer whose border is filled, with its source inserted
/// into the rest; the empty and the border go at the start of the block,
/// so they dominate the source's producer (empty tensor elimination puts
/// the producer's destination after them). Only the border is filled:
/// the source overwrites the interior, and a fill of the whole buffer was
/// a serial pass over it on every run (ResNet-18's MaxPool input, 114 x
/// 114 x 64 floats, against a border of 452 x 64).
tensor::InsertSliceOp rewritePad(tensor::PadOp pad, TypedAttr value) {
  RankedTensorType type = pad.getResultType();
  ArrayRef<int64_t> shape = type.getShape();
  ArrayRef<int64_t> source = pad.getSourceType().getShape();
  ArrayRef<int64_t> low = pad.getStaticLow(), high = pad.getStaticHigh();
  Location loc = pad.getLoc();
  OpBuilder b(pad.getContext());
  b.setInsertionPointToStart(pad->getBlock());
  Value fillValue = b.create<arith::ConstantOp>(loc, value);
  Value padded = b.create<tensor::EmptyOp>(loc, shape, type.getElementType());
  SmallVector<OpFoldResult> unit(type.getRank(), b.getIndexAttr(1));
  // Pads by run-time amounts (in a static shape): the whole buffer.
  // Otherwise, per padded dim, a strip below and one above the source,
  // whole along the other dims (the corners are filled twice).
  if (llvm::any_of(low, ShapedType::isDynamic) ||
      llvm::any_of(high, ShapedType::isDynamic))
    padded = b.create<linalg::FillOp>(loc, fillValue, padded)->getResult(0);
  else
    for (int64_t d = 0; d < type.getRank(); ++d)
      for (auto [offset, size] : {std::pair(int64_t(0), low[d]),
                                  std::pair(low[d] + source[d], high[d])}) {
        if (size == 0)
          continue;
        SmallVector<int64_t> stripShape(shape);
        stripShape[d] = size;
        SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
        offsets[d] = b.getIndexAttr(offset);
        Value strip =
            b.create<tensor::EmptyOp>(loc, stripShape, type.getElementType());
        Value filled =
            b.create<linalg::FillOp>(loc, fillValue, strip)->getResult(0);
        padded = b.create<tensor::InsertSliceOp>(
            loc, filled, padded, offsets,
            getAsIndexOpFoldResult(b.getContext(), stripShape), unit);
      }
  b.setInsertionPoint(pad);
  Value inserted = b.create<tensor::InsertSliceOp>(
      loc, pad.getSource(), padded, pad.getMixedLowPad(),
      getAsIndexOpFoldResult(b.getContext(), source), unit);
  pad.getResult().replaceAllUsesWith(inserted);
  pad.erase();
  return inserted.getDefiningOp<tensor::InsertSliceOp>();
}

/// Other readers of a padded value after it is inserted (a residual add
/// reading a block's input, which its first conv reads padded) read it
/// from the padded buffer's interior instead. Once the value's producer
/// writes into that interior, the insertion writes the buffer the value
/// lives in, and one-shot bufferization saw each later read of the value
/// as a read after that write: it copied the value out and back around
/// its producer, two serial copies a run (14 in ResNet-18).
void readFromInterior(tensor::InsertSliceOp inserted) {
  Value source = inserted.getSource();
  SmallVector<OpOperand *> later;
  for (OpOperand &use : source.getUses()) {
    Operation *user = inserted->getBlock()->findAncestorOpInBlock(
        *use.getOwner());
    if (user && user != inserted && inserted->isBeforeInBlock(user))
      later.push_back(&use);
  }
  if (later.empty())
    return;
  OpBuilder b(inserted->getContext());
  b.setInsertionPointAfter(inserted);
  Value interior = b.create<tensor::ExtractSliceOp>(
      inserted.getLoc(), inserted.getSourceType(), inserted.getResult(),
      inserted.getMixedOffsets(), inserted.getMixedSizes(),
      inserted.getMixedStrides());
  for (OpOperand *use : later)
    use->set(interior);
}

/// The ops making `value` from nothing: a tensor.empty, or a reshape of
/// one (hatc-decompose-tensor-ops expands a packed result's empty), in
/// order; empty where `value` is something else.
SmallVector<Operation *> emptyChain(Value value) {
  Operation *def = value.getDefiningOp();
  if (isa_and_nonnull<tensor::EmptyOp>(def))
    return {def};
  if (isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(def))
    if (Operation *empty = def->getOperand(0).getDefiningOp();
        isa_and_nonnull<tensor::EmptyOp>(empty) && empty->hasOneUse())
      return {empty, def};
  return {};
}

/// Whether `use` is a destination its owner writes into (bufferized in
/// place where nothing else reads it after).
bool writesInto(OpOperand &use) {
  Operation *owner = use.getOwner();
  if (auto dps = dyn_cast<DestinationStyleOpInterface>(owner))
    return dps.isDpsInit(&use);
  if (auto forall = dyn_cast<scf::ForallOp>(owner))
    return llvm::is_contained(forall.getOutputsMutable(), use);
  if (auto loop = dyn_cast<scf::ForOp>(owner))
    return llvm::is_contained(loop.getInitArgsMutable(), use);
  return false;
}

struct PadInPlacePass
    : public PassWrapper<PadInPlacePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PadInPlacePass)

  StringRef getArgument() const final { return "hatc-pad-in-place"; }
  StringRef getDescription() const final {
    return "Let a padded value's producer write into the padded buffer: "
           "constant tensor.pad -> filled buffer + insert_slice, one fill "
           "per writer, one tensor.empty per use, then empty tensor "
           "elimination";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, linalg::LinalgDialect,
                    scf::SCFDialect, tensor::TensorDialect>();
  }

  void runOnOperation() override {
    // Every op writing into a filled empty tensor its own fill. CSE merges
    // the equal zero fills of equal-shaped results (a model's convs of one
    // shape), and one-shot-bufferize then copies the shared fill for each
    // writer but the last: in the int8 ResNet-50 stage, eight copies of
    // 0.8 to 3.2 MB a run, and the AMX convs loaded their accumulators
    // instead of starting from zero (hatc-x86-amx sees a fill per buffer).
    SmallVector<std::pair<linalg::FillOp, SmallVector<Operation *>>> fills;
    getOperation()->walk([&](linalg::FillOp fill) {
      SmallVector<Operation *> chain = emptyChain(fill.getOutputs()[0]);
      if (fill.hasPureTensorSemantics() && !chain.empty())
        fills.push_back({fill, chain});
    });
    for (auto &[fill, chain] : fills) {
      SmallVector<OpOperand *> writers;
      bool read = false;
      for (OpOperand &use : fill->getResult(0).getUses()) {
        if (writesInto(use))
          writers.push_back(&use);
        else
          read = true;
      }
      // In program order (the use list is not); the first writer keeps
      // the fill unless something also reads it.
      llvm::sort(writers, [](OpOperand *x, OpOperand *y) {
        Operation *a = x->getOwner(), *b = y->getOwner();
        return a->getBlock() == b->getBlock() ? a->isBeforeInBlock(b)
                                              : a < b;
      });
      for (OpOperand *use : llvm::drop_begin(writers, read ? 0 : 1)) {
        OpBuilder b(use->getOwner());
        IRMapping map;
        for (Operation *op : chain)
          b.clone(*op, map);
        use->set(b.clone(*fill, map)->getResult(0));
      }
    }
    // Every use of an empty tensor its own: elimination replaces an empty
    // tensor only where all its uses lead to the same insertion.
    SmallVector<tensor::EmptyOp> empties;
    getOperation()->walk([&](tensor::EmptyOp op) { empties.push_back(op); });
    for (tensor::EmptyOp empty : empties) {
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : empty->getUses())
        uses.push_back(&use);
      for (OpOperand *use : llvm::drop_begin(uses)) {
        OpBuilder b(use->getOwner());
        use->set(b.clone(*empty)->getResult(0));
      }
    }
    SmallVector<std::pair<tensor::PadOp, TypedAttr>> pads;
    getOperation()->walk([&](tensor::PadOp pad) {
      // Graph-level pads only: those inside a schedule's loops (packing)
      // are the schedule's to place.
      if (!isa<func::FuncOp>(pad->getParentOp()) ||
          !pad.getResultType().hasStaticShape() ||
          !pad.getSourceType().hasStaticShape())
        return;
      if (TypedAttr value = constantPadValue(pad))
        pads.push_back({pad, value});
    });
    if (pads.empty())
      return;
    SmallVector<tensor::InsertSliceOp> insertions;
    for (auto [pad, value] : pads)
      insertions.push_back(rewritePad(pad, value));
    // Only where there were pads: elsewhere (an accumulator left
    // uninitialized, say) the buffers stay what they were.
    IRRewriter rewriter(&getContext());
    if (failed(bufferization::eliminateEmptyTensors(rewriter, getOperation())))
      return signalPassFailure();
    for (tensor::InsertSliceOp inserted : insertions)
      readFromInterior(inserted);
  }
};

} // namespace

std::unique_ptr<Pass> createPadInPlacePass() {
  return std::make_unique<PadInPlacePass>();
}

void registerPadInPlacePass() { PassRegistration<PadInPlacePass>(); }

} // namespace hatc
