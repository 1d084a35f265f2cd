//===- GpuDeviceBuffers.cpp - Host temporaries -> GPU memory --------------===//
//
//   memref.alloc (host function, top level)  ->  gpu.alloc + gpu.dealloc
//                                                before every return
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_GPUDEVICEBUFFERS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// The first use of `value` (or of a view of it) that host code would
/// execute, or nullptr when every use is inside a gpu.launch. Deallocs of
/// the buffer itself are collected, not counted.
Operation *firstHostUse(Value value, SmallVectorImpl<Operation *> &deallocs) {
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    if (user->getParentOfType<gpu::LaunchOp>())
      continue;
    if (isa<memref::DeallocOp>(user)) {
      deallocs.push_back(user);
      continue;
    }
    // Views only compute a descriptor on the host; their uses decide.
    if (isa<ViewLikeOpInterface, memref::CastOp>(user) &&
        user->getNumResults() == 1) {
      if (Operation *hostUse = firstHostUse(user->getResult(0), deallocs))
        return hostUse;
      continue;
    }
    return user;
  }
  return nullptr;
}

LogicalResult moveToDevice(memref::AllocOp alloc) {
  auto function = alloc->getParentOfType<func::FuncOp>();
  if (alloc->getBlock() != &function.getBody().front())
    return alloc.emitError("a GPU temporary must be allocated at the top "
                           "level of the host function, not in a host loop");
  SmallVector<Operation *> deallocs;
  if (Operation *hostUse = firstHostUse(alloc, deallocs))
    return alloc.emitError("a GPU temporary is used by host code (")
           << hostUse->getName() << "), which cannot read device memory";

  OpBuilder b(alloc);
  Location loc = alloc.getLoc();
  Type tokenType = b.getType<gpu::AsyncTokenType>();
  auto wait = [&](ValueRange dependencies) {
    return b.create<gpu::WaitOp>(loc, tokenType, dependencies).getAsyncToken();
  };
  Value ready = wait({});
  auto device = b.create<gpu::AllocOp>(
      loc, alloc.getType(), tokenType, ValueRange{ready},
      alloc.getDynamicSizes(), alloc.getSymbolOperands(),
      /*hostShared=*/false);
  b.create<gpu::WaitOp>(loc, Type(), ValueRange{device.getAsyncToken()});
  alloc.replaceAllUsesWith(device.getMemref());
  for (Operation *dealloc : deallocs)
    dealloc->erase();
  alloc.erase();

  // Free it when the function returns; each launch before has synchronized.
  for (Block &block : function.getBody())
    if (auto ret = dyn_cast<func::ReturnOp>(block.getTerminator())) {
      b.setInsertionPoint(ret);
      Value start = wait({});
      Value freed =
          b.create<gpu::DeallocOp>(loc, tokenType, ValueRange{start},
                                   device.getMemref())
              .getAsyncToken();
      b.create<gpu::WaitOp>(loc, Type(), ValueRange{freed});
    }
  return success();
}

bool inDefaultMemory(MemRefType type) {
  Attribute space = type.getMemorySpace();
  if (!space)
    return true;
  auto integer = dyn_cast<IntegerAttr>(space);
  return integer && integer.getInt() == 0;
}

struct GpuDeviceBuffersPass
    : public impl::GpuDeviceBuffersBase<GpuDeviceBuffersPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocOp> allocs;
    for (auto function : getOperation().getOps<func::FuncOp>())
      function.walk([&](memref::AllocOp alloc) {
        if (inDefaultMemory(alloc.getType()) &&
            !alloc->getParentOfType<gpu::LaunchOp>())
          allocs.push_back(alloc);
      });
    for (memref::AllocOp alloc : allocs)
      if (failed(moveToDevice(alloc)))
        return signalPassFailure();
  }
};

} // namespace
} // namespace hatc
