//===- WidenI1VectorMemory.cpp - bool vectors load and store bytes ------===//
//
//   llvm.store %v : vector<16xi1>   ->   llvm.store (llvm.zext %v) : vector<16xi8>
//   llvm.load : vector<16xi1>       ->   llvm.trunc (llvm.load : vector<16xi8>)
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_WIDENI1VECTORMEMORY
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// vector<N x i8> for a vector<N x i1>, else null.
VectorType bytesFor(Type type) {
  auto vector = dyn_cast<VectorType>(type);
  if (!vector || !vector.getElementType().isInteger(1))
    return {};
  return vector.clone(IntegerType::get(type.getContext(), 8));
}

struct WidenI1VectorMemoryPass
    : public impl::WidenI1VectorMemoryBase<WidenI1VectorMemoryPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<LLVM::StoreOp, LLVM::LoadOp, LLVM::MaskedStoreOp,
              LLVM::MaskedLoadOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      // Stores (plain and masked): the value is operand 0.
      if (isa<LLVM::StoreOp, LLVM::MaskedStoreOp>(op)) {
        if (VectorType bytes = bytesFor(op->getOperand(0).getType()))
          op->setOperand(0,
                         b.create<LLVM::ZExtOp>(loc, bytes, op->getOperand(0)));
        continue;
      }
      // Loads: load bytes, truncate to i1 (each byte holds 0 or 1).
      Type type = op->getResult(0).getType();
      VectorType bytes = bytesFor(type);
      if (!bytes)
        continue;
      Operation *wide = b.clone(*op);
      wide->getResult(0).setType(bytes);
      // A masked load's pass-through value (operand 2) has the result type.
      if (isa<LLVM::MaskedLoadOp>(op) && op->getNumOperands() > 2) {
        b.setInsertionPoint(wide);
        wide->setOperand(
            2, b.create<LLVM::ZExtOp>(loc, bytes, op->getOperand(2)));
      }
      b.setInsertionPointAfter(wide);
      Value narrow = b.create<LLVM::TruncOp>(loc, type, wide->getResult(0));
      op->getResult(0).replaceAllUsesWith(narrow);
      op->erase();
    }
  }
};

} // namespace
} // namespace hatc
