//===- FreshResults.cpp - Every function result its own op and buffer ----===//
//
//   tensors:  return %v (not a linalg result, or returned twice)
//               -> return (identity linalg.generic copy of %v)
//   memrefs:  return %arg / %buf twice -> return (alloc + copy of it)
//
// See the pass descriptions (FreshResults, DistinctResultBuffers) in
// Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_FRESHRESULTS
#define GEN_PASS_DEF_DISTINCTRESULTBUFFERS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

Value identityCopy(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, value);
  Value init = b.create<tensor::EmptyOp>(loc, sizes, type.getElementType());
  AffineMap id = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{type}, ValueRange{value}, ValueRange{init},
          ArrayRef<AffineMap>{id, id}, iterators,
          [](OpBuilder &nested, Location loc, ValueRange args) {
            nested.create<linalg::YieldOp>(loc, args[0]);
          })
      .getResult(0);
}

class FreshResultsPass : public impl::FreshResultsBase<FreshResultsPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    getOperation().walk([](func::ReturnOp ret) {
      OpBuilder b(ret);
      SmallVector<Value> seen;
      for (OpOperand &operand : ret->getOpOperands()) {
        Value value = operand.get();
        if (!isa<RankedTensorType>(value.getType()))
          continue;
        bool fresh = isa_and_nonnull<linalg::LinalgOp>(value.getDefiningOp());
        if (!fresh || llvm::is_contained(seen, value))
          operand.set(identityCopy(b, ret.getLoc(), value));
        seen.push_back(value);
      }
    });
  }
};

class DistinctResultBuffersPass
    : public impl::DistinctResultBuffersBase<DistinctResultBuffersPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    WalkResult walked = getOperation().walk([&](func::ReturnOp ret) {
      OpBuilder b(ret);
      Location loc = ret.getLoc();
      SmallVector<Value> seen;
      for (OpOperand &operand : ret->getOpOperands()) {
        Value value = operand.get();
        auto type = dyn_cast<MemRefType>(value.getType());
        if (!type)
          continue;
        bool again = llvm::is_contained(seen, value);
        seen.push_back(value);
        if ((!again && !isa<BlockArgument>(value)) ||
            !type.getLayout().isIdentity())
          continue;
        if (!copy) {
          ret.emitError() << "result " << operand.getOperandNumber()
                          << (again ? " is a value returned before it"
                                    : " is an input of the function")
                          << ": this target cannot copy it on the host; "
                             "return a value the function computes";
          return WalkResult::interrupt();
        }
        SmallVector<Value> sizes;
        for (int64_t d = 0; d < type.getRank(); ++d)
          if (type.isDynamicDim(d))
            sizes.push_back(b.create<memref::DimOp>(loc, value, d));
        Value fresh = b.create<memref::AllocOp>(loc, type, sizes);
        b.create<memref::CopyOp>(loc, value, fresh);
        operand.set(fresh);
      }
      return WalkResult::advance();
    });
    if (walked.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
} // namespace hatc
