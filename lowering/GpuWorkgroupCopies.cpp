//===- GpuWorkgroupCopies.cpp - Shared-memory tiles for gpu.launch --------===//
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_GPUWORKGROUPCOPIES
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// Set on a gpu.launch by a schedule (transform.annotate): the copy vector
/// width for that launch, overriding the pass option.
constexpr llvm::StringLiteral kVectorWidthAttr = "hatc.copy_vector_width";

bool inWorkgroupMemory(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  if (!memref)
    return false;
  auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(memref.getMemorySpace());
  return space && space.getValue() == gpu::AddressSpace::Workgroup;
}

/// Turns a host alloc of workgroup memory into attributions of the launches
/// that use it.
LogicalResult sinkIntoLaunches(memref::AllocOp alloc) {
  llvm::MapVector<gpu::LaunchOp, SmallVector<OpOperand *>> usesByLaunch;
  SmallVector<Operation *> deallocs;
  for (OpOperand &use : alloc->getUses()) {
    Operation *user = use.getOwner();
    if (isa<memref::DeallocOp>(user)) {
      deallocs.push_back(user);
      continue;
    }
    auto launch = user->getParentOfType<gpu::LaunchOp>();
    if (!launch)
      return alloc.emitError("workgroup buffer used outside any gpu.launch "
                             "(by ")
             << user->getName() << ")";
    usesByLaunch[launch].push_back(&use);
  }
  if (alloc.getType().getNumDynamicDims() != 0 ||
      !alloc.getDynamicSizes().empty())
    return alloc.emitError("workgroup buffers need a static shape");
  for (auto &[launch, uses] : usesByLaunch) {
    BlockArgument attribution =
        launch.addWorkgroupAttribution(alloc.getType(), alloc.getLoc());
    for (OpOperand *use : uses)
      use->set(attribution);
  }
  for (Operation *dealloc : deallocs)
    dealloc->erase();
  alloc.erase();
  return success();
}

/// The largest of {width, 2, 1} that divides `size`.
int64_t chunkWidth(int64_t size, int64_t width) {
  for (int64_t w : {width, int64_t(2), int64_t(1)})
    if (w >= 1 && w <= width && size % w == 0)
      return w;
  return 1;
}

/// Replaces `copy` (static shapes, innermost stride 1 on both sides) by a
/// loop in which the block's threads move vector chunks in turn.
LogicalResult distributeCopy(memref::CopyOp copy, int64_t vectorWidth) {
  auto sourceType = cast<MemRefType>(copy.getSource().getType());
  auto targetType = cast<MemRefType>(copy.getTarget().getType());
  if (!sourceType.hasStaticShape() || sourceType.getRank() == 0)
    return copy.emitError("workgroup copies need a static shape of rank >= 1");
  auto innermostUnit = [](MemRefType type) {
    SmallVector<int64_t> strides;
    int64_t offset;
    return succeeded(getStridesAndOffset(type, strides, offset)) &&
           strides.back() == 1;
  };
  ArrayRef<int64_t> shape = sourceType.getShape();
  int64_t width = chunkWidth(shape.back(), vectorWidth);
  if (!innermostUnit(sourceType) || !innermostUnit(targetType))
    width = 1;

  OpBuilder b(copy);
  Location loc = copy.getLoc();
  auto index = [&](int64_t v) {
    return b.create<arith::ConstantIndexOp>(loc, v).getResult();
  };
  // Linear thread id and block size.
  Value tx = b.create<gpu::ThreadIdOp>(loc, gpu::Dimension::x);
  Value ty = b.create<gpu::ThreadIdOp>(loc, gpu::Dimension::y);
  Value tz = b.create<gpu::ThreadIdOp>(loc, gpu::Dimension::z);
  Value bx = b.create<gpu::BlockDimOp>(loc, gpu::Dimension::x);
  Value by = b.create<gpu::BlockDimOp>(loc, gpu::Dimension::y);
  Value bz = b.create<gpu::BlockDimOp>(loc, gpu::Dimension::z);
  Value bxy = b.create<arith::MulIOp>(loc, bx, by);
  Value threads = b.create<arith::MulIOp>(loc, bxy, bz);
  Value tid = b.create<arith::AddIOp>(
      loc, tx,
      b.create<arith::AddIOp>(loc, b.create<arith::MulIOp>(loc, ty, bx),
                              b.create<arith::MulIOp>(loc, tz, bxy)));

  int64_t chunksPerRow = shape.back() / width;
  int64_t chunks = chunksPerRow;
  for (int64_t d : shape.drop_back())
    chunks *= d;
  auto loop = b.create<scf::ForOp>(loc, tid, index(chunks), threads);
  b.setInsertionPointToStart(loop.getBody());
  // Delinearize the chunk number into indices, innermost first.
  Value rest = loop.getInductionVar();
  SmallVector<Value> indices(shape.size());
  indices.back() = b.create<arith::MulIOp>(
      loc, b.create<arith::RemUIOp>(loc, rest, index(chunksPerRow)),
      index(width));
  rest = b.create<arith::DivUIOp>(loc, rest, index(chunksPerRow));
  for (int64_t d = int64_t(shape.size()) - 2; d >= 0; --d) {
    indices[d] = d == 0 ? rest
                        : b.create<arith::RemUIOp>(loc, rest, index(shape[d]))
                              .getResult();
    if (d > 0)
      rest = b.create<arith::DivUIOp>(loc, rest, index(shape[d]));
  }
  Type elementType = sourceType.getElementType();
  if (width == 1) {
    Value value = b.create<memref::LoadOp>(loc, copy.getSource(), indices);
    b.create<memref::StoreOp>(loc, value, copy.getTarget(), indices);
  } else {
    auto vectorType = VectorType::get({width}, elementType);
    Value value =
        b.create<vector::LoadOp>(loc, vectorType, copy.getSource(), indices);
    b.create<vector::StoreOp>(loc, value, copy.getTarget(), indices);
  }
  copy.erase();
  return success();
}

struct GpuWorkgroupCopiesPass
    : public impl::GpuWorkgroupCopiesBase<GpuWorkgroupCopiesPass> {
  using GpuWorkgroupCopiesBase::GpuWorkgroupCopiesBase;

  void runOnOperation() override {
    if (vectorWidth < 1) {
      getOperation().emitError("vector-width must be at least 1");
      return signalPassFailure();
    }
    SmallVector<memref::AllocOp> allocs;
    getOperation().walk([&](memref::AllocOp alloc) {
      if (inWorkgroupMemory(alloc.getType()) &&
          !alloc->getParentOfType<gpu::LaunchOp>())
        allocs.push_back(alloc);
    });
    for (memref::AllocOp alloc : allocs)
      if (failed(sinkIntoLaunches(alloc)))
        return signalPassFailure();

    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      if (copy->getParentOfType<gpu::LaunchOp>() &&
          (inWorkgroupMemory(copy.getSource().getType()) ||
           inWorkgroupMemory(copy.getTarget().getType())))
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      int64_t width = vectorWidth;
      auto launch = copy->getParentOfType<gpu::LaunchOp>();
      if (auto attr = launch->getAttrOfType<IntegerAttr>(kVectorWidthAttr))
        width = attr.getInt();
      if (width < 1) {
        launch.emitError(kVectorWidthAttr) << " must be at least 1";
        return signalPassFailure();
      }
      if (failed(distributeCopy(copy, width)))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace hatc
