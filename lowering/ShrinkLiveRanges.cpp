//===- ShrinkLiveRanges.cpp - Temporaries live from first to last use -----===//
//
//   %a = alloc; <other ops>; ...uses of %a...; <other ops>; dealloc %a
//     -> <other ops>; %a = alloc; ...uses of %a...; dealloc %a; <other ops>
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Bufferization/Transforms/BufferViewFlowAnalysis.h"
#include "mlir/Interfaces/CallInterfaces.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_SHRINKLIVERANGES
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// A use after which the buffer may still be read or written: a callee may
/// keep it, and an address taken as an integer is followed by nothing.
bool mayOutliveItsOp(Operation *user) {
  return isa<CallOpInterface, memref::ExtractAlignedPointerAsIndexOp>(user);
}

/// The ops of `alloc`'s block that use it, in order; empty where a use is
/// in no op of the block.
SmallVector<Operation *> usesInBlock(memref::AllocOp alloc) {
  Block *block = alloc->getBlock();
  SmallVector<Operation *> uses;
  for (Operation *user : alloc->getUsers()) {
    Operation *ancestor = block->findAncestorOpInBlock(*user);
    if (!ancestor)
      return {};
    uses.push_back(ancestor);
  }
  llvm::sort(uses, [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  });
  uses.erase(std::unique(uses.begin(), uses.end()), uses.end());
  return uses;
}

/// A fill of the whole of `alloc` by a value defined before it (a padded
/// input's zero border, which canonicalization leaves at the top of the
/// function): it moves down with the alloc.
bool isInitialFill(Operation *op, memref::AllocOp alloc) {
  auto fill = dyn_cast<linalg::FillOp>(op);
  return fill && fill.getOutputs().size() == 1 &&
         fill.getOutputs()[0] == alloc.getResult() &&
         llvm::all_of(fill.getInputs(), [&](Value v) {
           Operation *def = v.getDefiningOp();
           return !def || (def->getBlock() == alloc->getBlock() &&
                           def->isBeforeInBlock(alloc));
         });
}

/// The last op of `dealloc`'s block that uses its buffer (itself or any
/// view of it); nullptr where the dealloc must stay: the buffer is not an
/// alloc of this block, or a use escapes the block or may outlive its op.
Operation *lastUse(memref::DeallocOp dealloc,
                   const BufferViewFlowAnalysis &aliases) {
  Value buffer = dealloc.getMemref();
  Block *block = dealloc->getBlock();
  auto alloc = buffer.getDefiningOp<memref::AllocOp>();
  if (!alloc || alloc->getBlock() != block)
    return nullptr;
  Operation *last = alloc;
  for (Value alias : aliases.resolve(buffer))
    for (Operation *user : alias.getUsers()) {
      if (user == dealloc)
        continue;
      if (mayOutliveItsOp(user))
        return nullptr;
      Operation *ancestor = block->findAncestorOpInBlock(*user);
      if (!ancestor || !ancestor->isBeforeInBlock(dealloc))
        return nullptr;
      if (last->isBeforeInBlock(ancestor))
        last = ancestor;
    }
  return last;
}

class ShrinkLiveRangesPass
    : public impl::ShrinkLiveRangesBase<ShrinkLiveRangesPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    // Allocs first: a dealloc's last use is then found against the
    // alloc's new place (it never moves past one of its uses).
    SmallVector<std::pair<SmallVector<Operation *, 2>, Operation *>> sinks;
    getOperation().walk([&](memref::AllocOp alloc) {
      SmallVector<Operation *> uses = usesInBlock(alloc);
      if (uses.empty())
        return;
      SmallVector<Operation *, 2> moving = {alloc};
      if (uses.size() > 1 && isInitialFill(uses[0], alloc))
        moving.push_back(uses[0]);
      Operation *before = uses[moving.size() - 1];
      if (moving.back()->getNextNode() != before)
        sinks.push_back({moving, before});
    });
    for (auto &[moving, before] : sinks)
      for (Operation *op : moving)
        op->moveBefore(before);

    BufferViewFlowAnalysis aliases(getOperation());
    SmallVector<std::pair<Operation *, Operation *>> hoists;
    getOperation().walk([&](memref::DeallocOp dealloc) {
      if (Operation *last = lastUse(dealloc, aliases))
        if (last->getNextNode() != dealloc.getOperation())
          hoists.push_back({dealloc, last});
    });
    for (auto [dealloc, last] : hoists)
      dealloc->moveAfter(last);
  }
};

} // namespace
} // namespace hatc
