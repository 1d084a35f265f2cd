//===- X86DotProducts.cpp - i8/bf16 contractions to VNNI and BF16 dots ---===//
//
//   vector.contract (extsi i8, extsi i8) -> i32   ->   vpdpbusd per row x 16
//   vector.contract (extf bf16, extf bf16) -> f32 ->   vdpbf16ps per row x 16
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_X86DOTPRODUCTS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// 16 i32 or f32 accumulators: one AVX-512 register (what cpu_conv's
/// dot tiles are sized by).
constexpr int64_t kLanes = kDotLanes;

enum class DotKind { Vnni, Bf16 };

/// The narrow operand under a widening cast, or null when there is none of
/// the kind the instruction computes (sign extension for i8).
Value narrowOperand(Value v, DotKind kind) {
  if (kind == DotKind::Vnni) {
    auto ext = v.getDefiningOp<arith::ExtSIOp>();
    return ext ? ext.getIn() : Value();
  }
  if (auto ext = v.getDefiningOp<arith::ExtFOp>())
    return ext.getIn();
  // A mixed-precision contract (bf16 operands, f32 accumulator) extends
  // its operands itself.
  return v;
}

/// Interleaves `lo` and `hi` element by element: lo0 hi0 lo1 hi1 ...
Value interleave(PatternRewriter &b, Location loc, Value lo, Value hi) {
  int64_t n = cast<VectorType>(lo.getType()).getNumElements();
  SmallVector<int64_t> mask;
  for (int64_t i = 0; i < n; ++i) {
    mask.push_back(i);
    mask.push_back(n + i);
  }
  return b.create<vector::ShuffleOp>(loc, lo, hi, mask);
}

Value bitcastTo(PatternRewriter &b, Location loc, Value v, int64_t count,
                Type element) {
  return b.create<vector::BitCastOp>(loc, VectorType::get({count}, element),
                                     v);
}

Value slice1d(PatternRewriter &b, Location loc, Value v, int64_t offset,
              int64_t size) {
  return b.create<vector::ExtractStridedSliceOp>(
      loc, v, ArrayRef<int64_t>{offset}, ArrayRef<int64_t>{size},
      ArrayRef<int64_t>{1});
}

struct DotContraction : public OpRewritePattern<vector::ContractionOp> {
  DotContraction(MLIRContext *context, bool vnni, bool bf16)
      : OpRewritePattern(context), vnni(vnni), bf16(bf16) {}

  LogicalResult matchAndRewrite(vector::ContractionOp op,
                                PatternRewriter &b) const override {
    if (op.getKind() != vector::CombiningKind::ADD || op.isMasked())
      return failure();
    auto accType = dyn_cast<VectorType>(op.getAccType());
    if (!accType || accType.getRank() < 1 || accType.getRank() > 2 ||
        accType.isScalable())
      return failure();
    // C(m, n) += A(m, k) * B(k, n), nothing transposed; or one row of it,
    // c(n) += a(k) * B(k, n) (a strided conv's register tile, which the
    // vectorizer unrolls into one such contraction per output position).
    bool oneRow = accType.getRank() == 1;
    MLIRContext *context = op.getContext();
    using Exprs = ArrayRef<AffineExpr>;
    SmallVector<AffineMap> maps;
    if (oneRow) {
      AffineExpr n, k;
      bindDims(context, n, k);
      maps = AffineMap::inferFromExprList(
          ArrayRef<Exprs>{Exprs{k}, Exprs{k, n}, Exprs{n}}, context);
    } else {
      AffineExpr m, n, k;
      bindDims(context, m, n, k);
      maps = AffineMap::inferFromExprList(
          ArrayRef<Exprs>{Exprs{m, k}, Exprs{k, n}, Exprs{m, n}}, context);
    }
    SmallVector<AffineMap> opMaps = op.getIndexingMapsArray();
    if (opMaps != maps)
      return failure();
    Type accElement = accType.getElementType();
    DotKind kind;
    if (accElement.isInteger(32))
      kind = DotKind::Vnni;
    else if (accElement.isF32())
      kind = DotKind::Bf16;
    else
      return failure();
    if ((kind == DotKind::Vnni && !vnni) || (kind == DotKind::Bf16 && !bf16))
      return failure();
    Value lhs = narrowOperand(op.getLhs(), kind),
          rhs = narrowOperand(op.getRhs(), kind);
    if (!lhs || !rhs)
      return failure();
    Type narrow = kind == DotKind::Vnni ? Type(b.getI8Type())
                                        : Type(b.getBF16Type());
    auto lhsType = cast<VectorType>(lhs.getType());
    auto rhsType = cast<VectorType>(rhs.getType());
    if (lhsType.getElementType() != narrow ||
        rhsType.getElementType() != narrow)
      return failure();
    int64_t M = oneRow ? 1 : accType.getDimSize(0),
            N = accType.getDimSize(oneRow ? 0 : 1),
            K = lhsType.getDimSize(oneRow ? 0 : 1);
    int64_t group = kind == DotKind::Vnni ? 4 : 2; // k values per 32 bits
    if (K % group || N % kLanes)
      return failure();

    Location loc = op.getLoc();
    Type i32 = b.getI32Type();
    auto wide = VectorType::get({kLanes}, i32);
    auto accRow = VectorType::get({kLanes}, accElement);
    StringRef intrinsic = kind == DotKind::Vnni
                              ? "llvm.x86.avx512.vpdpbusd.512"
                              : "llvm.x86.avx512bf16.dpbf16ps.512";
    auto dot = [&](Value acc, Value a, Value bv) -> Value {
      return b
          .create<LLVM::CallIntrinsicOp>(loc, accRow, intrinsic,
                                         ValueRange{acc, a, bv})
          .getResult(0);
    };
    // The accumulators, one vector per row and 16 columns.
    int64_t blocks = N / kLanes;
    SmallVector<SmallVector<Value>> acc(M);
    for (int64_t i = 0; i < M; ++i) {
      Value row = oneRow ? op.getAcc()
                         : Value(b.create<vector::ExtractOp>(loc, op.getAcc(),
                                                             i));
      for (int64_t c = 0; c < blocks; ++c)
        acc[i].push_back(slice1d(b, loc, row, c * kLanes, kLanes));
    }
    SmallVector<Value> lhsRows, rhsRows;
    for (int64_t i = 0; i < M; ++i)
      lhsRows.push_back(oneRow ? lhs
                               : Value(b.create<vector::ExtractOp>(loc, lhs,
                                                                   i)));
    for (int64_t p = 0; p < K; ++p)
      rhsRows.push_back(b.create<vector::ExtractOp>(loc, rhs, p));
    // 0x80 in every byte: the sign shift of A, and its compensation.
    Value signBytes = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(wide, b.getI32IntegerAttr(
                                              int32_t(0x80808080u))));
    Value zeros =
        b.create<arith::ConstantOp>(loc, wide, b.getZeroAttr(wide));
    Value signWord = b.create<arith::ConstantOp>(
        loc, b.getI32IntegerAttr(int32_t(0x80808080u)));

    // 128 x (the column sums of B), which the sign shift of A adds to
    // every row: summed over the groups, subtracted from each row once at
    // the end (the sums wrap alike in any order).
    SmallVector<Value> compensation(blocks, zeros);
    for (int64_t g = 0; g < K / group; ++g) {
      // B: the group's k values of each column side by side.
      SmallVector<Value> bBlocks;
      for (int64_t c = 0; c < blocks; ++c) {
        SmallVector<Value> parts;
        for (int64_t t = 0; t < group; ++t)
          parts.push_back(
              slice1d(b, loc, rhsRows[g * group + t], c * kLanes, kLanes));
        Value packed;
        if (kind == DotKind::Bf16) {
          packed = interleave(b, loc, parts[0], parts[1]); // 32 x bf16
        } else {
          Value lo = interleave(b, loc, parts[0], parts[1]); // 32 x i8
          Value hi = interleave(b, loc, parts[2], parts[3]);
          Value words = interleave(b, loc,
                                   bitcastTo(b, loc, lo, 16, b.getI16Type()),
                                   bitcastTo(b, loc, hi, 16, b.getI16Type()));
          packed = bitcastTo(b, loc, words, kLanes, i32);
          compensation[c] = dot(compensation[c], signBytes, packed);
        }
        bBlocks.push_back(packed);
      }
      // A: the group's k values of a row as one 32-bit word, broadcast.
      for (int64_t i = 0; i < M; ++i) {
        Value word = bitcastTo(b, loc,
                               slice1d(b, loc, lhsRows[i], g * group, group),
                               1, i32);
        Value scalar = b.create<vector::ExtractOp>(loc, word, 0);
        if (kind == DotKind::Vnni) // signed -> unsigned bytes: a + 128
          scalar = b.create<arith::XOrIOp>(loc, scalar, signWord);
        Value splat = b.create<vector::BroadcastOp>(loc, wide, scalar);
        if (kind == DotKind::Bf16)
          splat = bitcastTo(b, loc, splat, 2 * kLanes, b.getBF16Type());
        for (int64_t c = 0; c < blocks; ++c)
          acc[i][c] = dot(acc[i][c], splat, bBlocks[c]);
      }
    }
    if (kind == DotKind::Vnni)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t c = 0; c < blocks; ++c)
          acc[i][c] = b.create<arith::SubIOp>(loc, acc[i][c], compensation[c]);

    Value result =
        b.create<arith::ConstantOp>(loc, accType, b.getZeroAttr(accType));
    for (int64_t i = 0; i < M; ++i) {
      Value row = b.create<arith::ConstantOp>(
          loc, VectorType::get({N}, accElement),
          b.getZeroAttr(VectorType::get({N}, accElement)));
      for (int64_t c = 0; c < blocks; ++c)
        row = b.create<vector::InsertStridedSliceOp>(
            loc, acc[i][c], row, ArrayRef<int64_t>{c * kLanes},
            ArrayRef<int64_t>{1});
      result = oneRow ? row : b.create<vector::InsertOp>(loc, row, result, i);
    }
    b.replaceOp(op, result);
    return success();
  }

  bool vnni, bf16;
};

struct X86DotProductsPass
    : public impl::X86DotProductsBase<X86DotProductsPass> {
  using X86DotProductsBase::X86DotProductsBase;

  void runOnOperation() override {
    bool vnni = false, bf16 = false;
    if (features == "host") {
      llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
      vnni = host.lookup("avx512vnni");
      bf16 = host.lookup("avx512bf16");
    } else {
      llvm::SmallVector<llvm::StringRef> names;
      llvm::StringRef(features).split(names, ',', -1, /*KeepEmpty=*/false);
      for (llvm::StringRef name : names) {
        name = name.trim();
        if (name == "avx512vnni")
          vnni = true;
        else if (name == "avx512bf16")
          bf16 = true;
        else {
          getOperation().emitError()
              << "hatc-x86-dot-products: unknown feature '" << name
              << "' (expected host, or avx512vnni and avx512bf16)";
          return signalPassFailure();
        }
      }
    }
    if (!vnni && !bf16)
      return;
    RewritePatternSet patterns(&getContext());
    patterns.add<DotContraction>(&getContext(), vnni, bf16);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
} // namespace hatc
