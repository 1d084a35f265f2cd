//===- GpuFpContract.cpp - fastmath<contract> in GPU kernels --------------===//
//
//   arith.mulf / addf / ... inside gpu.launch  ->  the same, fastmath<contract>
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_GPUFPCONTRACT
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

struct GpuFpContractPass : public impl::GpuFpContractBase<GpuFpContractPass> {
  void runOnOperation() override {
    getOperation().walk([](gpu::LaunchOp launch) {
      launch.getBody().walk([](arith::ArithFastMathInterface op) {
        Operation *raw = op.getOperation();
        arith::FastMathFlagsAttr flags = op.getFastMathFlagsAttr();
        arith::FastMathFlags value =
            (flags ? flags.getValue() : arith::FastMathFlags::none) |
            arith::FastMathFlags::contract;
        raw->setAttr(op.getFastMathAttrName(),
                     arith::FastMathFlagsAttr::get(raw->getContext(), value));
      });
    });
  }
};

} // namespace
} // namespace hatc
