//===- HwaccToLLVM.cpp - hwacc instructions -> calls of the C ABI ---------===//
//
//   hwacc.mvin %A[%i, %j] to sp[%a] size [%r, %c]
//     -> llvm.call @hatc_hwacc_mvin(&A[i][j], stride(A), a, r, c)
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/IR/PatternMatch.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_CONVERTHWACCTOLLVM
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

class AbiBuilder {
public:
  AbiBuilder(ModuleOp module) : module(module), ctx(module.getContext()) {}

  /// Declares (once) and calls `name` with `args`.
  void call(OpBuilder &b, Location loc, StringRef name, ValueRange args) {
    auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
    if (!fn) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      SmallVector<Type> types;
      for (Value v : args)
        types.push_back(v.getType());
      fn = b.create<LLVM::LLVMFuncOp>(
          module.getLoc(), name,
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), types));
    }
    b.create<LLVM::CallOp>(loc, fn, args);
  }

  Value i64(OpBuilder &b, Location loc, Value index) {
    if (index.getType().isInteger(1))
      return b.create<arith::ExtUIOp>(loc, b.getI64Type(), index);
    return b.create<arith::IndexCastOp>(loc, b.getI64Type(), index);
  }
  Value i64(OpBuilder &b, Location loc, int64_t v) {
    return b.create<arith::ConstantIntOp>(loc, v, 64);
  }

  /// Pointer to memref[row][col] and the row stride (in elements).
  std::pair<Value, Value> element(OpBuilder &b, Location loc, Value memref,
                                  Value row, Value col) {
    auto type = cast<MemRefType>(memref.getType());
    auto meta = b.create<memref::ExtractStridedMetadataOp>(loc, memref);
    Value base = b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, memref);
    Value offset = meta.getOffset();
    Value rowStride = meta.getStrides()[0], colStride = meta.getStrides()[1];
    Value index = b.create<arith::AddIOp>(
        loc, offset,
        b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, row, rowStride),
                                b.create<arith::MulIOp>(loc, col, colStride)));
    unsigned bytes = type.getElementTypeBitWidth() / 8;
    Value byteOffset = b.create<arith::MulIOp>(
        loc, index, b.create<arith::ConstantIndexOp>(loc, bytes));
    Value address = i64(b, loc, b.create<arith::AddIOp>(loc, base, byteOffset));
    Value pointer = b.create<LLVM::IntToPtrOp>(
        loc, LLVM::LLVMPointerType::get(ctx), address);
    return {pointer, i64(b, loc, rowStride)};
  }

private:
  ModuleOp module;
  MLIRContext *ctx;
};

int64_t dataflowCode(StringRef dataflow) { return dataflow == "ws" ? 1 : 0; }

class ConvertHwaccToLLVMPass
    : public impl::ConvertHwaccToLLVMBase<ConvertHwaccToLLVMPass> {
public:
  void runOnOperation() override {
    ModuleOp module = getOperation();
    AbiBuilder abi(module);
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<hwacc::HwaccDialect>(op->getDialect()))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      OpBuilder b(op);
      Location loc = op->getLoc();
      if (auto config = dyn_cast<hwacc::ConfigOp>(op)) {
        Type elem = config.getElem(), out = config.getOut();
        abi.call(b, loc, "hatc_hwacc_config",
                 {abi.i64(b, loc, dataflowCode(config.getDataflow())),
                  abi.i64(b, loc, elem.isF32() ? 0 : 1),
                  abi.i64(b, loc, out.isSignlessInteger(8) ? 1 : 0),
                  b.create<arith::ConstantOp>(loc, config.getScaleAttr()),
                  abi.i64(b, loc, config.getRelu() ? 1 : 0)});
      } else if (auto mvin = dyn_cast<hwacc::MvinOp>(op)) {
        auto [ptr, stride] =
            abi.element(b, loc, mvin.getSrc(), mvin.getRow(), mvin.getCol());
        abi.call(b, loc, mvin.getAcc() ? "hatc_hwacc_mvin_acc" : "hatc_hwacc_mvin",
                 {ptr, stride, abi.i64(b, loc, mvin.getAddr()),
                  abi.i64(b, loc, mvin.getRows()),
                  abi.i64(b, loc, mvin.getCols())});
      } else if (auto preload = dyn_cast<hwacc::PreloadOp>(op)) {
        abi.call(b, loc, "hatc_hwacc_preload",
                 {abi.i64(b, loc, preload.getBAddr()),
                  abi.i64(b, loc, preload.getCAddr()),
                  abi.i64(b, loc, preload.getK()),
                  abi.i64(b, loc, preload.getN()),
                  abi.i64(b, loc, preload.getAccumulate())});
      } else if (auto compute = dyn_cast<hwacc::ComputeOp>(op)) {
        abi.call(b, loc, "hatc_hwacc_compute",
                 {abi.i64(b, loc, compute.getAAddr()),
                  abi.i64(b, loc, compute.getM()),
                  abi.i64(b, loc, compute.getK())});
      } else if (auto mvout = dyn_cast<hwacc::MvoutOp>(op)) {
        auto [ptr, stride] =
            abi.element(b, loc, mvout.getDst(), mvout.getRow(), mvout.getCol());
        abi.call(b, loc, "hatc_hwacc_mvout",
                 {ptr, stride, abi.i64(b, loc, mvout.getAddr()),
                  abi.i64(b, loc, mvout.getRows()),
                  abi.i64(b, loc, mvout.getCols())});
      } else if (isa<hwacc::FenceOp>(op)) {
        abi.call(b, loc, "hatc_hwacc_fence", {});
      } else {
        op->emitOpError("must be lowered by hatc-lower-hwacc before "
                        "hatc-convert-hwacc-to-llvm");
        return signalPassFailure();
      }
      op->erase();
    }
  }
};

} // namespace
} // namespace hatc
