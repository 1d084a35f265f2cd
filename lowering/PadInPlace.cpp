//===- PadInPlace.cpp - Padded values written into their padded buffer ----===//
//
//   tensor.pad %x (constant value)  ->  empty + fill (block start)
//                                       + insert_slice %x into the interior
//   tensor.empty with n uses         ->  n tensor.empty ops
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
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
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

/// `pad` as a filled buffer with its source inserted; the empty and fill
/// go at the start of the block, so they dominate the source's producer
/// (empty tensor elimination puts the producer's destination after them).
void rewritePad(tensor::PadOp pad, TypedAttr value) {
  RankedTensorType type = pad.getResultType();
  Location loc = pad.getLoc();
  OpBuilder b(pad.getContext());
  b.setInsertionPointToStart(pad->getBlock());
  Value fillValue = b.create<arith::ConstantOp>(loc, value);
  Value empty =
      b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType());
  Value filled = b.create<linalg::FillOp>(loc, fillValue, empty)->getResult(0);
  b.setInsertionPoint(pad);
  SmallVector<OpFoldResult> sizes, strides(type.getRank(), b.getIndexAttr(1));
  for (int64_t size : pad.getSourceType().getShape())
    sizes.push_back(b.getIndexAttr(size));
  Value inserted = b.create<tensor::InsertSliceOp>(
      loc, pad.getSource(), filled, pad.getMixedLowPad(), sizes, strides);
  pad.getResult().replaceAllUsesWith(inserted);
  pad.erase();
}

struct PadInPlacePass
    : public PassWrapper<PadInPlacePass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PadInPlacePass)

  StringRef getArgument() const final { return "hatc-pad-in-place"; }
  StringRef getDescription() const final {
    return "Let a padded value's producer write into the padded buffer: "
           "constant tensor.pad -> filled buffer + insert_slice, one "
           "tensor.empty per use, then empty tensor elimination";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, linalg::LinalgDialect,
                    tensor::TensorDialect>();
  }

  void runOnOperation() override {
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
    for (auto [pad, value] : pads)
      rewritePad(pad, value);
    // Only where there were pads: elsewhere (an accumulator left
    // uninitialized, say) the buffers stay what they were.
    IRRewriter rewriter(&getContext());
    if (failed(bufferization::eliminateEmptyTensors(rewriter, getOperation())))
      return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> createPadInPlacePass() {
  return std::make_unique<PadInPlacePass>();
}

void registerPadInPlacePass() { PassRegistration<PadInPlacePass>(); }

} // namespace hatc
