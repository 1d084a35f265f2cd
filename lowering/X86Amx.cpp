//===- X86Amx.cpp - AMX micro-tiles of cpu_matmul_amx to tile ops ---------===//
//
//   linalg.generic {hatc.amx_micro_tile} on memrefs (a packed i8 or bf16
//   matmul micro-tile)  ->  amx.tile_load / tile_muli|tile_mulf / tile_store
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/MapVector.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

#include <array>
#include <functional>

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_X86AMX
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

constexpr int64_t kTileRows = 16, kTileRowBytes = 64;

/// The arithmetic of a micro-tile's body: i8 x i8 -> i32 (each operand
/// sign- or zero-extended) or bf16 x bf16 -> f32.
struct Body {
  bool integer = false, zextLhs = false, zextRhs = false;
};

/// `v` widened from a block argument: the extension op's kind, or failure.
FailureOr<bool> zeroExtendedArg(Value v, bool integer) {
  Operation *ext = v.getDefiningOp();
  if (!ext || ext->getNumOperands() != 1 ||
      !isa<BlockArgument>(ext->getOperand(0)))
    return failure();
  if (integer && isa<arith::ExtSIOp>(ext))
    return false;
  if (integer && isa<arith::ExtUIOp>(ext))
    return true;
  if (!integer && isa<arith::ExtFOp>(ext))
    return false;
  return failure();
}

FailureOr<Body> matchBody(linalg::GenericOp op) {
  Block &block = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(block.getTerminator());
  Value acc = block.getArgument(2);
  Body body;
  Operation *add = yield.getOperand(0).getDefiningOp();
  if (!add || add->getNumOperands() != 2)
    return failure();
  body.integer = isa<arith::AddIOp>(add);
  if (!body.integer && !isa<arith::AddFOp>(add))
    return failure();
  Value product = add->getOperand(0) == acc ? add->getOperand(1)
                                            : add->getOperand(0);
  if (add->getOperand(0) != acc && add->getOperand(1) != acc)
    return failure();
  Operation *mul = product.getDefiningOp();
  if (!mul || (body.integer ? !isa<arith::MulIOp>(mul)
                            : !isa<arith::MulFOp>(mul)))
    return failure();
  auto lhs = zeroExtendedArg(mul->getOperand(0), body.integer);
  auto rhs = zeroExtendedArg(mul->getOperand(1), body.integer);
  if (failed(lhs) || failed(rhs))
    return failure();
  // Operand order: the product of A's element with B's.
  if (cast<BlockArgument>(mul->getOperand(0).getDefiningOp()->getOperand(0))
              .getArgNumber() != 0 ||
      cast<BlockArgument>(mul->getOperand(1).getDefiningOp()->getOperand(0))
              .getArgNumber() != 1)
    return failure();
  body.zextLhs = *lhs, body.zextRhs = *rhs;
  // Nothing else in the body.
  if (block.getOperations().size() != 5)
    return failure();
  return body;
}

/// Whether the tiles take `body` on these types: i8 x i8 -> i32 in groups
/// of 4, or bf16 x bf16 -> f32 in groups of 2.
bool tileTypes(const Body &body, Type narrow, Type wide, int64_t group) {
  return body.integer ? narrow.isInteger(8) && wide.isInteger(32) && group == 4
                      : narrow.isBF16() && wide.isF32() && group == 2;
}

/// acc += a x b on the tiles: tdpbssd (and its unsigned forms) or
/// tdpbf16ps.
Value tileProduct(OpBuilder &b, Location loc, const Body &body, Value aTile,
                  Value bTile, Value acc) {
  if (!body.integer)
    return b.create<amx::TileMulFOp>(loc, acc.getType(), aTile, bTile, acc);
  auto mul = b.create<amx::TileMulIOp>(loc, acc.getType(), aTile, bTile, acc);
  if (body.zextLhs)
    mul.setIsZextLhs(true);
  if (body.zextRhs)
    mul.setIsZextRhs(true);
  return mul;
}

/// Static shape and strides of a memref, with the innermost `contiguous`
/// dims packed (row-major, unit innermost stride).
bool packedInner(MemRefType type, int64_t contiguous) {
  if (!type.hasStaticShape())
    return false;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)))
    return false;
  int64_t expected = 1;
  for (int64_t d = type.getRank() - 1; d >= type.getRank() - contiguous;
       --d) {
    if (strides[d] != expected)
      return false;
    expected *= type.getDimSize(d);
  }
  return true;
}

/// The 2-D view of `source` dims [0, rank-2] x [rank-1 ...]: rows of the
/// first dim (after dropping unit dims of `offsets`/`sizes`), one row the
/// rest collapsed.
Value rows2d(OpBuilder &b, Location loc, Value source,
             ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes) {
  auto type = cast<MemRefType>(source.getType());
  SmallVector<OpFoldResult> strides(type.getRank(), b.getIndexAttr(1));
  SmallVector<OpFoldResult> sizeAttrs;
  SmallVector<int64_t> kept;
  for (int64_t s : sizes) {
    sizeAttrs.push_back(b.getIndexAttr(s));
    if (s != 1)
      kept.push_back(s);
  }
  Value view = source;
  if (kept.size() != sizes.size() ||
      llvm::any_of(offsets, [](OpFoldResult o) {
        return getConstantIntValue(o) != 0;
      })) {
    auto viewType = cast<MemRefType>(memref::SubViewOp::inferRankReducedResultType(
        kept, type, offsets, sizeAttrs, strides));
    view = b.create<memref::SubViewOp>(loc, viewType, source, offsets,
                                       sizeAttrs, strides);
  }
  auto viewType = cast<MemRefType>(view.getType());
  if (viewType.getRank() == 2)
    return view;
  SmallVector<ReassociationIndices> groups = {{0}, {}};
  for (int64_t d = 1; d < viewType.getRank(); ++d)
    groups[1].push_back(d);
  return b.create<memref::CollapseShapeOp>(loc, view, groups);
}

/// `view` (2-D, unit inner stride, static row stride s) as an r x s memref
/// with the same start: MLIR 19 lowers amx.tile_load/store with the size of
/// the last dim as the row stride, so the view's last dim must be s.
FailureOr<Value> rowStrideView(OpBuilder &b, Location loc, Value view) {
  auto type = cast<MemRefType>(view.getType());
  SmallVector<int64_t> strides;
  int64_t offset;
  if (type.getRank() != 2 || failed(getStridesAndOffset(type, strides, offset)) ||
      ShapedType::isDynamic(strides[0]) || strides[1] != 1)
    return failure();
  if (strides[0] == type.getDimSize(1))
    return view;
  auto metadata = b.create<memref::ExtractStridedMetadataOp>(loc, view);
  int64_t rows = type.getDimSize(0), stride = strides[0];
  OpFoldResult start = ShapedType::isDynamic(offset)
                           ? OpFoldResult(metadata.getOffset())
                           : OpFoldResult(b.getIndexAttr(offset));
  auto layout = StridedLayoutAttr::get(b.getContext(), offset, {stride, 1});
  auto result = MemRefType::get({rows, stride}, type.getElementType(), layout,
                                type.getMemorySpace());
  return b.create<memref::ReinterpretCastOp>(
                 loc, result, metadata.getBaseBuffer(), start,
                 ArrayRef<OpFoldResult>{b.getIndexAttr(rows),
                                        b.getIndexAttr(stride)},
                 ArrayRef<OpFoldResult>{b.getIndexAttr(stride),
                                        b.getIndexAttr(1)})
      .getResult();
}

/// The buffer a view (subview, reshape, cast) of it is made from.
Value rootBuffer(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(def))
      v = view.getViewSource();
    else
      break;
  }
  return v;
}

/// `op`'s ancestor in the function body's block.
Operation *topLevel(Operation *op) {
  while (op->getParentOp() && !isa<func::FuncOp>(op->getParentOp()))
    op = op->getParentOp();
  return op;
}

/// The non-view users of `buffer` and of every view of it.
void usersThroughViews(Value buffer, SmallVectorImpl<Operation *> &out) {
  for (Operation *user : buffer.getUsers()) {
    if (auto view = dyn_cast<ViewLikeOpInterface>(user);
        view && view.getViewSource() == buffer) {
      for (Value result : user->getResults())
        usersThroughViews(result, out);
      continue;
    }
    out.push_back(user);
  }
}

bool isZero(Value v) {
  Attribute value;
  if (!matchPattern(v, m_Constant(&value)))
    return false;
  if (auto i = dyn_cast<IntegerAttr>(value))
    return i.getValue().isZero();
  if (auto f = dyn_cast<FloatAttr>(value))
    return f.getValue().isPosZero();
  return false;
}

/// The zero fill the micro-tiles `tiles` (all accumulating into one buffer,
/// each over the whole of K) may replace by zeroed accumulator tiles: the
/// only op writing the buffer before them, every other use after them.
/// The schedule's tiles cover the buffer (cpu_matmul_amx's shapes tile
/// evenly), so no element is left to the fill.
linalg::FillOp replaceableFill(Value buffer, ArrayRef<linalg::GenericOp> tiles) {
  SmallVector<Operation *> users;
  usersThroughViews(buffer, users);
  llvm::SmallPtrSet<Operation *, 8> tileOps;
  for (linalg::GenericOp tile : tiles)
    tileOps.insert(tile);
  linalg::FillOp fill;
  Operation *firstTile = nullptr, *lastTile = nullptr;
  for (linalg::GenericOp tile : tiles) {
    Operation *top = topLevel(tile);
    if (!firstTile || top->isBeforeInBlock(firstTile))
      firstTile = top;
    if (!lastTile || lastTile->isBeforeInBlock(top))
      lastTile = top;
  }
  for (Operation *user : users) {
    if (tileOps.contains(user))
      continue;
    if (auto f = dyn_cast<linalg::FillOp>(user); f && !fill && isZero(f.value()) &&
        topLevel(f)->getBlock() == firstTile->getBlock() &&
        topLevel(f)->isBeforeInBlock(firstTile) &&
        rootBuffer(f.output()) == buffer &&
        cast<MemRefType>(f.output().getType()).getNumElements() ==
            cast<MemRefType>(buffer.getType()).getNumElements()) {
      fill = f;
      continue;
    }
    Operation *top = topLevel(user);
    if (top == lastTile || top->getBlock() != lastTile->getBlock() ||
        top->isBeforeInBlock(lastTile))
      return {};
  }
  return fill;
}

/// `expr` as a sum of coefficient x dim, or failure (constants, symbols,
/// mods and the like).
FailureOr<SmallVector<int64_t>> linearCoefficients(AffineExpr expr,
                                                   unsigned numDims) {
  SmallVector<int64_t> coefficients(numDims, 0);
  std::function<bool(AffineExpr, int64_t)> add = [&](AffineExpr e,
                                                     int64_t scale) {
    if (auto dim = dyn_cast<AffineDimExpr>(e)) {
      coefficients[dim.getPosition()] += scale;
      return true;
    }
    auto bin = dyn_cast<AffineBinaryOpExpr>(e);
    if (!bin)
      return false;
    if (bin.getKind() == AffineExprKind::Add)
      return add(bin.getLHS(), scale) && add(bin.getRHS(), scale);
    if (bin.getKind() != AffineExprKind::Mul)
      return false;
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getRHS()))
      return add(bin.getLHS(), scale * c.getValue());
    if (auto c = dyn_cast<AffineConstantExpr>(bin.getLHS()))
      return add(bin.getRHS(), scale * c.getValue());
    return false;
  };
  if (!add(expr, 1))
    return failure();
  return coefficients;
}

/// The rows x (inner dims collapsed) view of `source` at `offsets`, taking
/// `sizes` with `strides`, its unit dims dropped (at most one non-unit dim
/// before the contiguous inner ones).
Value stridedRows(OpBuilder &b, Location loc, Value source,
                  ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes,
                  ArrayRef<int64_t> strides) {
  auto type = cast<MemRefType>(source.getType());
  SmallVector<OpFoldResult> sizeAttrs, strideAttrs;
  SmallVector<int64_t> kept;
  for (auto [size, stride] : llvm::zip(sizes, strides)) {
    sizeAttrs.push_back(b.getIndexAttr(size));
    strideAttrs.push_back(b.getIndexAttr(stride));
    if (size != 1)
      kept.push_back(size);
  }
  auto viewType = cast<MemRefType>(memref::SubViewOp::inferRankReducedResultType(
      kept, type, offsets, sizeAttrs, strideAttrs));
  Value view = b.create<memref::SubViewOp>(loc, viewType, source, offsets,
                                           sizeAttrs, strideAttrs);
  if (viewType.getRank() == 2)
    return view;
  SmallVector<ReassociationIndices> groups = {{0}, {}};
  for (int64_t d = 1; d < viewType.getRank(); ++d)
    groups[1].push_back(d);
  return b.create<memref::CollapseShapeOp>(loc, view, groups);
}

/// Static strides of `type`, or failure.
FailureOr<SmallVector<int64_t>> staticStrides(MemRefType type) {
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(type, strides, offset)) ||
      llvm::any_of(strides, ShapedType::isDynamic))
    return failure();
  return strides;
}

struct X86AmxPass : public impl::X86AmxBase<X86AmxPass> {
  using X86AmxBase::X86AmxBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::GenericOp> tiles;
    module.walk([&](linalg::GenericOp op) {
      if (op->hasAttr(kAmxMicroTileAttr))
        tiles.push_back(op);
    });
    if (tiles.empty())
      return;
    if (features != "host" && features != "amx") {
      module.emitError() << "hatc-x86-amx: unknown features '" << features
                         << "' (expected host or amx)";
      return signalPassFailure();
    }
    if (features == "host" &&
        !llvm::sys::getHostCPUFeatures().lookup("amx-tile")) {
      tiles.front().emitError()
          << "hatc-x86-amx: this schedule uses AMX tiles (cpu_matmul_amx), "
             "which this CPU does not have; tune or compile it for this "
             "host without them";
      return signalPassFailure();
    }
    // Micro-tiles over the whole of K into a zero-filled buffer start
    // from zeroed tiles, and the fill goes (a 4 MB memset on 1024^3 i32).
    llvm::MapVector<Value, SmallVector<linalg::GenericOp>> byOutput;
    for (linalg::GenericOp op : tiles)
      if (op.hasPureBufferSemantics() && (isConv(op) ? wholeConvReduction(op)
                                                      : wholeK(op)))
        byOutput[rootBuffer(op.getDpsInits()[0])].push_back(op);
    llvm::SmallPtrSet<Operation *, 8> zeroed;
    for (auto &[buffer, group] : byOutput)
      if (linalg::FillOp fill = replaceableFill(buffer, group)) {
        for (linalg::GenericOp op : group)
          zeroed.insert(op);
        fill.erase();
      }
    for (linalg::GenericOp op : tiles)
      if (failed(isConv(op) ? rewriteConv(op, zeroed.contains(op))
                            : rewrite(op, zeroed.contains(op))))
        return signalPassFailure();
    requestTilePermission(module);
  }

  /// Whether the micro-tile's k block is all of K: A's buffer (M x K, or
  /// its M x K/g x g reshape) has no more k than the tile takes.
  static bool wholeK(linalg::GenericOp op) {
    auto tileA = dyn_cast<MemRefType>(op.getDpsInputs()[0].getType());
    auto rootA =
        dyn_cast<MemRefType>(rootBuffer(op.getDpsInputs()[0]).getType());
    if (!tileA || !rootA || tileA.getRank() != 3 || !rootA.hasStaticShape() ||
        !tileA.hasStaticShape())
      return false;
    int64_t k = tileA.getDimSize(1) * tileA.getDimSize(2);
    if (rootA.getRank() == 2)
      return rootA.getDimSize(1) == k;
    if (rootA.getRank() == 3)
      return rootA.getDimSize(1) * rootA.getDimSize(2) == k;
    return false;
  }

  /// A cpu_conv_amx micro-tile: loops (n, oh, ow, f/16, kh, kw, c/g, f%16,
  /// c%g).
  static bool isConv(linalg::GenericOp op) { return op.getNumLoops() == 9; }

  /// Whether the conv micro-tile takes the whole of the filter's kh, kw
  /// and channels (its buffer KH x KW x F/16 x C/g x 16 x g).
  static bool wholeConvReduction(linalg::GenericOp op) {
    auto tile = dyn_cast<MemRefType>(op.getDpsInputs()[1].getType());
    auto root =
        dyn_cast<MemRefType>(rootBuffer(op.getDpsInputs()[1]).getType());
    if (!tile || !root || tile.getRank() != 6 || root.getRank() != 6 ||
        !tile.hasStaticShape() || !root.hasStaticShape())
      return false;
    return llvm::all_of(std::array<int64_t, 3>{0, 1, 3}, [&](int64_t d) {
      return tile.getDimSize(d) == root.getDimSize(d);
    });
  }

  /// A conv micro-tile: per output row of `OT` positions (tiles of up to
  /// 16 rows) and up to 2 x 16 filters, straight-line over kh, kw and the
  /// channels in 64-byte steps. An A tile is 16 input positions' channels
  /// loaded in place from the NHWC input (row stride: the conv's stride
  /// times the channels), a B tile 16 channel groups of the packed filter.
  LogicalResult rewriteConv(linalg::GenericOp op, bool zeroInit) {
    auto fail = [&](const Twine &why) {
      return op.emitError() << "hatc-x86-amx: cannot lower this conv "
                               "micro-tile: "
                            << why;
    };
    if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1)
      return fail("expected an input and a filter into an output, on memrefs");
    auto inType = cast<MemRefType>(op.getDpsInputs()[0].getType());
    auto fType = cast<MemRefType>(op.getDpsInputs()[1].getType());
    auto outType = cast<MemRefType>(op.getDpsInits()[0].getType());
    if (inType.getRank() != 5 || fType.getRank() != 6 ||
        outType.getRank() != 5 || !inType.hasStaticShape() ||
        !fType.hasStaticShape() || !outType.hasStaticShape())
      return fail("expected static N x H x W x C/g x g input, KH x KW x "
                  "F/16 x C/g x 16 x g filter, N x OH x OW x F/16 x 16 "
                  "output");
    // Indexing: the packed NHWC conv's, strides and dilations read off
    // the input's row and column expressions.
    MLIRContext *ctx = op.getContext();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    auto dims = [&](ArrayRef<unsigned> positions) {
      SmallVector<AffineExpr> exprs;
      for (unsigned p : positions)
        exprs.push_back(getAffineDimExpr(p, ctx));
      return AffineMap::get(9, 0, exprs, ctx);
    };
    if (maps[1] != dims({4, 5, 3, 6, 7, 8}) ||
        maps[2] != dims({0, 1, 2, 3, 7}) ||
        maps[0].getNumResults() != 5 ||
        maps[0].getResult(0) != getAffineDimExpr(0, ctx) ||
        maps[0].getResult(3) != getAffineDimExpr(6, ctx) ||
        maps[0].getResult(4) != getAffineDimExpr(8, ctx))
      return fail("indexing maps are not the packed NHWC conv's");
    auto rowTerms = linearCoefficients(maps[0].getResult(1), 9);
    auto colTerms = linearCoefficients(maps[0].getResult(2), 9);
    if (failed(rowTerms) || failed(colTerms))
      return fail("the input's row or column is not linear in the loops");
    // The row stride only places the tile's input view (one output row a
    // micro-tile); within it, kh steps rows by the dilation.
    int64_t dilationH = (*rowTerms)[4], strideW = (*colTerms)[2],
            dilationW = (*colTerms)[5];
    for (unsigned d = 0; d < 9; ++d)
      if (((*rowTerms)[d] && d != 1 && d != 4) ||
          ((*colTerms)[d] && d != 2 && d != 5))
        return fail("the input's row or column reads another loop");
    FailureOr<Body> body = matchBody(op);
    if (failed(body))
      return fail("the body is not a widening multiply-accumulate");
    Type narrow = inType.getElementType(), wide = outType.getElementType();
    int64_t group = inType.getDimSize(4);
    if (!tileTypes(*body, narrow, wide, group) ||
        fType.getElementType() != narrow)
      return fail("expected i8 x i8 -> i32 with channel groups of 4 or "
                  "bf16 x bf16 -> f32 with groups of 2");
    int64_t KH = fType.getDimSize(0), KW = fType.getDimSize(1),
            panels = fType.getDimSize(2), groupsC = fType.getDimSize(3),
            positions = outType.getDimSize(2);
    if (outType.getDimSize(0) != 1 || outType.getDimSize(1) != 1 ||
        inType.getDimSize(0) != 1)
      return fail("expected one image and one output row");
    if (fType.getDimSize(4) != kTileRows || fType.getDimSize(5) != group ||
        outType.getDimSize(3) != panels || outType.getDimSize(4) != kTileRows ||
        inType.getDimSize(3) != groupsC || groupsC % kTileRows)
      return fail("channels and filters do not tile into 16-row, 64-byte "
                  "AMX tiles");
    SmallVector<int64_t> rowTiles;
    for (int64_t r = 0; r < positions; r += kTileRows)
      rowTiles.push_back(std::min(kTileRows, positions - r));
    int64_t tilesM = rowTiles.size();
    if (tilesM * panels + tilesM + panels > 8)
      return fail("the micro-tile needs more than 8 tile registers");
    auto inStrides = staticStrides(inType);
    auto fStrides = staticStrides(fType);
    auto outStrides = staticStrides(outType);
    if (failed(inStrides) || failed(fStrides) || failed(outStrides) ||
        !packedInner(inType, 2) || !packedInner(fType, 2) ||
        !packedInner(outType, 1))
      return fail("an operand's strides are not static, or its rows not "
                  "contiguous");

    OpBuilder b(op);
    Location loc = op.getLoc();
    Value in = op.getDpsInputs()[0], filter = op.getDpsInputs()[1],
          out = op.getDpsInits()[0];
    auto at = [&](int64_t v) -> OpFoldResult { return b.getIndexAttr(v); };
    Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
    auto wideView = [&](Value view) -> FailureOr<Value> {
      return rowStrideView(b, loc, view);
    };
    int64_t rowElems = kTileRowBytes / narrow.getIntOrFloatBitWidth() * 8;
    // Accumulator views and tiles: rows of output positions, 16 filters.
    SmallVector<Value> cViews, acc;
    for (int64_t i = 0; i < tilesM; ++i)
      for (int64_t j = 0; j < panels; ++j) {
        FailureOr<Value> view = wideView(stridedRows(
            b, loc, out, {at(0), at(0), at(i * kTileRows), at(j), at(0)},
            {1, 1, rowTiles[i], 1, kTileRows}, {1, 1, 1, 1, 1}));
        if (failed(view))
          return fail("the output's row stride is not static");
        cViews.push_back(*view);
        auto type = VectorType::get({rowTiles[i], kTileRows}, wide);
        acc.push_back(zeroInit ? Value(b.create<amx::TileZeroOp>(loc, type))
                               : Value(b.create<amx::TileLoadOp>(
                                     loc, type, *view, ValueRange{zero, zero})));
      }
    // Step (kh, kw, s)'s A and B tiles, in that order; loaded one step
    // ahead where that leaves a tile register free. With all 8 taken (7-row
    // tiles, 2 x 16 filters), LLVM 19 ran out of tile registers on a model
    // with two such convs in one function; without the look-ahead, 14 x 32
    // ran as fast as 28 x 32 (ResNet-50 3x3 in i8, 1 thread, 0.11 ms).
    int64_t channelSteps = groupsC / kTileRows;
    auto loadStep = [&](int64_t step) -> FailureOr<SmallVector<Value>> {
      int64_t s = step % channelSteps, kw = step / channelSteps % KW,
              kh = step / channelSteps / KW;
      SmallVector<Value> tiles;
      for (int64_t i = 0; i < tilesM; ++i) {
        FailureOr<Value> view = wideView(stridedRows(
            b, loc, in,
            {at(0), at(kh * dilationH),
             at(i * kTileRows * strideW + kw * dilationW), at(s * kTileRows),
             at(0)},
            {1, 1, rowTiles[i], kTileRows, group}, {1, 1, strideW, 1, 1}));
        if (failed(view))
          return failure();
        tiles.push_back(b.create<amx::TileLoadOp>(
            loc, VectorType::get({rowTiles[i], rowElems}, narrow), *view,
            ValueRange{zero, zero}));
      }
      for (int64_t j = 0; j < panels; ++j) {
        FailureOr<Value> view = wideView(stridedRows(
            b, loc, filter,
            {at(kh), at(kw), at(j), at(s * kTileRows), at(0), at(0)},
            {1, 1, 1, kTileRows, kTileRows, group}, {1, 1, 1, 1, 1, 1}));
        if (failed(view))
          return failure();
        tiles.push_back(b.create<amx::TileLoadOp>(
            loc, VectorType::get({kTileRows, rowElems}, narrow), *view,
            ValueRange{zero, zero}));
      }
      return tiles;
    };
    int64_t steps = KH * KW * channelSteps;
    bool ahead = tilesM * panels + 2 * (tilesM + panels) < 8;
    FailureOr<SmallVector<Value>> next = loadStep(0);
    for (int64_t step = 0; step < steps; ++step) {
      if (failed(next))
        return fail("the input's or filter's row stride is not static");
      SmallVector<Value> tiles = *next;
      if (ahead && step + 1 < steps)
        next = loadStep(step + 1);
      for (int64_t i = 0; i < tilesM; ++i)
        for (int64_t j = 0; j < panels; ++j) {
          Value &c = acc[i * panels + j];
          c = tileProduct(b, loc, *body, tiles[i], tiles[tilesM + j], c);
        }
      if (!ahead && step + 1 < steps)
        next = loadStep(step + 1);
    }
    for (auto [view, tile] : llvm::zip(cViews, acc))
      b.create<amx::TileStoreOp>(loc, view, ValueRange{zero, zero}, tile);
    op.erase();
    return success();
  }

  LogicalResult rewrite(linalg::GenericOp op, bool zeroInit) {
    auto fail = [&](const Twine &why) {
      return op.emitError() << "hatc-x86-amx: cannot lower this micro-tile: "
                            << why;
    };
    if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1)
      return fail("expected A and B into C, on memrefs");
    auto aType = cast<MemRefType>(op.getDpsInputs()[0].getType());
    auto bType = cast<MemRefType>(op.getDpsInputs()[1].getType());
    auto cType = cast<MemRefType>(op.getDpsInits()[0].getType());
    if (aType.getRank() != 3 || bType.getRank() != 4 || cType.getRank() != 3)
      return fail("expected A m x k/g x g, B n/16 x k/g x 16 x g, "
                  "C m x n/16 x 16");
    // Indexing (m, n/16, k/g, n%16, k%g), as the packed matmul writes it.
    MLIRContext *ctx = op.getContext();
    AffineExpr m, nb, kb, n, k;
    bindDims(ctx, m, nb, kb, n, k);
    using Exprs = ArrayRef<AffineExpr>;
    auto maps = AffineMap::inferFromExprList(
        ArrayRef<Exprs>{Exprs{m, kb, k}, Exprs{nb, kb, n, k}, Exprs{m, nb, n}},
        ctx);
    if (op.getIndexingMapsArray() != maps)
      return fail("indexing maps are not the packed matmul's");
    FailureOr<Body> body = matchBody(op);
    if (failed(body))
      return fail("the body is not a widening multiply-accumulate");
    Type narrow = aType.getElementType(), wide = cType.getElementType();
    int64_t group = aType.getDimSize(2);
    if (!tileTypes(*body, narrow, wide, group) ||
        bType.getElementType() != narrow)
      return fail("expected i8 x i8 -> i32 with k groups of 4 or bf16 x bf16 "
                  "-> f32 with k groups of 2");
    int64_t rowsM = aType.getDimSize(0), groupsK = aType.getDimSize(1),
            panels = bType.getDimSize(0);
    // One tile row holds 16 groups (64 bytes) of k.
    if (rowsM % kTileRows || groupsK % kTileRows ||
        bType.getDimSize(1) != groupsK || bType.getDimSize(2) != kTileRows ||
        bType.getDimSize(3) != group || cType.getDimSize(0) != rowsM ||
        cType.getDimSize(1) != panels || cType.getDimSize(2) != kTileRows)
      return fail("shapes do not tile into 16-row, 64-byte AMX tiles");
    int64_t tilesM = rowsM / kTileRows;
    if (tilesM * panels + tilesM + panels > 8)
      return fail("the micro-tile needs more than 8 tile registers");
    if (!packedInner(aType, 2) || !packedInner(bType, 3) ||
        !packedInner(cType, 1))
      return fail("an operand's rows are not contiguous");

    OpBuilder b(op);
    Location loc = op.getLoc();
    llvm::DenseMap<int64_t, Value> constants;
    auto index = [&](int64_t v) -> Value {
      Value &c = constants[v];
      if (!c)
        c = b.create<arith::ConstantIndexOp>(loc, v);
      return c;
    };
    Value zero = index(0);
    OpFoldResult zeroAttr = b.getIndexAttr(0);
    Value a2 = rows2d(b, loc, op.getDpsInputs()[0], {zeroAttr, zeroAttr, zeroAttr},
                      {rowsM, groupsK, group});
    SmallVector<Value> bPanels, cPanels;
    for (int64_t j = 0; j < panels; ++j) {
      OpFoldResult jAttr = b.getIndexAttr(j);
      bPanels.push_back(rows2d(b, loc, op.getDpsInputs()[1],
                               {jAttr, zeroAttr, zeroAttr, zeroAttr},
                               {1, groupsK, kTileRows, group}));
      cPanels.push_back(rows2d(b, loc, op.getDpsInits()[0],
                               {zeroAttr, jAttr, zeroAttr},
                               {rowsM, 1, kTileRows}));
    }
    // Each 2-D view as wide as its row stride (see rowStrideView).
    bool strided = true;
    auto widen = [&](Value &view) {
      FailureOr<Value> wide = rowStrideView(b, loc, view);
      if (failed(wide))
        strided = false;
      else
        view = *wide;
    };
    widen(a2);
    for (Value &v : bPanels)
      widen(v);
    for (Value &v : cPanels)
      widen(v);
    if (!strided)
      return fail("an operand's row stride is not static");
    int64_t rowElems = kTileRowBytes / narrow.getIntOrFloatBitWidth() * 8;
    auto operandTile = VectorType::get({kTileRows, rowElems}, narrow);
    auto accTile = VectorType::get({kTileRows, kTileRows}, wide);
    // The accumulators stay in tile registers over the whole k block:
    // straight-line code (LLVM 19 cannot carry AMX tiles through a loop's
    // block arguments as MLIR lowers them).
    SmallVector<Value> acc;
    for (int64_t i = 0; i < tilesM; ++i)
      for (int64_t j = 0; j < panels; ++j)
        acc.push_back(zeroInit ? Value(b.create<amx::TileZeroOp>(loc, accTile))
                               : Value(b.create<amx::TileLoadOp>(
                                     loc, accTile, cPanels[j],
                                     ValueRange{index(i * kTileRows), zero})));
    // Step s's A and B tiles; loaded one step ahead where the registers
    // allow (accumulators + two steps' operands <= 8), so the loads
    // overlap the previous step's products instead of waiting to reuse
    // their registers.
    int64_t steps = groupsK / kTileRows;
    auto loadStep = [&](int64_t s) {
      SmallVector<Value> tiles;
      for (int64_t i = 0; i < tilesM; ++i)
        tiles.push_back(b.create<amx::TileLoadOp>(
            loc, operandTile, a2,
            ValueRange{index(i * kTileRows), index(s * rowElems)}));
      for (int64_t j = 0; j < panels; ++j)
        tiles.push_back(b.create<amx::TileLoadOp>(
            loc, operandTile, bPanels[j],
            ValueRange{index(s * kTileRows), zero}));
      return tiles;
    };
    bool ahead = tilesM * panels + 2 * (tilesM + panels) <= 8;
    SmallVector<Value> next = loadStep(0);
    for (int64_t s = 0; s < steps; ++s) {
      SmallVector<Value> tiles = next;
      if (ahead && s + 1 < steps)
        next = loadStep(s + 1);
      for (int64_t i = 0; i < tilesM; ++i)
        for (int64_t j = 0; j < panels; ++j) {
          Value &c = acc[i * panels + j];
          c = tileProduct(b, loc, *body, tiles[i], tiles[tilesM + j], c);
        }
      if (!ahead && s + 1 < steps)
        next = loadStep(s + 1);
    }
    for (int64_t i = 0; i < tilesM; ++i)
      for (int64_t j = 0; j < panels; ++j)
        b.create<amx::TileStoreOp>(loc, cPanels[j],
                                   ValueRange{index(i * kTileRows), zero},
                                   acc[i * panels + j]);
    op.erase();
    return success();
  }

  /// Linux grants a process the AMX tile state only on request
  /// (arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)); without it the
  /// first tile instruction faults. A constructor of the module asks when
  /// the code is loaded.
  void requestTilePermission(ModuleOp module) {
    constexpr char kPermit[] = "__hatc_amx_permit";
    if (module.lookupSymbol(kPermit))
      return;
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    Location loc = module.getLoc();
    MLIRContext *ctx = module.getContext();
    Type i64 = b.getI64Type();
    auto syscallType = LLVM::LLVMFunctionType::get(i64, {i64}, true);
    if (!module.lookupSymbol("syscall"))
      b.create<LLVM::LLVMFuncOp>(loc, "syscall", syscallType);
    auto permit = b.create<LLVM::LLVMFuncOp>(
        loc, kPermit, LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {}),
        LLVM::Linkage::Internal);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(permit.addEntryBlock(b));
    constexpr int64_t kArchPrctl = 158, kReqXcompPerm = 0x1023,
                      kXtileData = 18;
    SmallVector<Value> args;
    for (int64_t v : {kArchPrctl, kReqXcompPerm, kXtileData})
      args.push_back(b.create<LLVM::ConstantOp>(loc, i64, v));
    // A failure shows as the tile instruction's fault; nothing to do here.
    b.create<LLVM::CallOp>(loc, syscallType, "syscall", args);
    b.create<LLVM::ReturnOp>(loc, ValueRange());
    b.setInsertionPointToEnd(module.getBody());
    b.create<LLVM::GlobalCtorsOp>(loc, b.getArrayAttr({FlatSymbolRefAttr::get(ctx, kPermit)}),
                                  b.getI32ArrayAttr({0}));
  }
};

} // namespace
} // namespace hatc
