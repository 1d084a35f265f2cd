//===- OwnInits.cpp - Every linalg op its own accumulator init -------------===//
//
//   %f = fill; op1 outs(%f); op2 outs(%f)
//     -> %f = fill; op1 outs(%f); %f2 = fill (clone); op2 outs(%f2)
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_OWNINITS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

class OwnInitsPass : public impl::OwnInitsBase<OwnInitsPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> inits;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (isa<linalg::FillOp, linalg::BroadcastOp>(op.getOperation()) &&
          !op->getResult(0).hasOneUse())
        inits.push_back(op);
    });
    for (linalg::LinalgOp init : inits) {
      // The accumulator uses, in program order (a value's use list is not).
      SmallVector<OpOperand *> accumulators;
      for (OpOperand &use : init->getResult(0).getUses()) {
        auto user = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
        // Nested users (in another op's region) keep sharing it.
        if (user && isa<linalg::LinalgOp>(use.getOwner()) &&
            user.isDpsInit(&use) &&
            use.getOwner()->getBlock() == init->getBlock())
          accumulators.push_back(&use);
      }
      llvm::sort(accumulators, [](OpOperand *a, OpOperand *b) {
        return a->getOwner()->isBeforeInBlock(b->getOwner());
      });
      if (accumulators.size() < 2)
        continue;
      for (OpOperand *use : llvm::drop_begin(accumulators)) {
        OpBuilder b(use->getOwner());
        IRMapping mapping;
        OpOperand &out = init.getDpsInitsMutable()[0];
        if (auto empty = out.get().getDefiningOp<tensor::EmptyOp>())
          mapping.map(out.get(), b.clone(*empty)->getResult(0));
        use->set(b.clone(*init, mapping)->getResult(0));
      }
    }
  }
};

} // namespace
} // namespace hatc
