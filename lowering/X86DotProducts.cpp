//===- X86DotProducts.cpp - i8/bf16 contractions to VNNI and BF16 dots ---===//
//
//   vector.contract (extsi i8, extsi i8) -> i32   ->   vpdpbusd per row x 16
//   vector.contract (extf bf16, extf bf16) -> f32 ->   vdpbf16ps per row x 16
//
// and hatc-x86-dot-row-sums, which moves the sign handling of an i8 matmul
// whose C starts from a fill out of its register tiles. See the pass
// descriptions in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/CpuSchedules.h"
#include "hatc/Lowering/Passes.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_X86DOTPRODUCTS
#define GEN_PASS_DEF_X86DOTROWSUMS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

/// 16 i32 or f32 accumulators: one AVX-512 register (what cpu_conv's
/// dot tiles are sized by).
constexpr int64_t kLanes = kDotLanes;

enum class DotKind { Vnni, Bf16 };

/// An operand of the dot products: its narrow values, and for i8 how the
/// contraction widens them.
struct NarrowOperand {
  Value values;
  /// Zero- (not sign-) extended: the unsigned side of `vpdpbusd`.
  bool isUnsigned = false;
  /// Zero-extended from `values` xor 0x80: signed bytes shifted by 128
  /// (hatc-x86-dot-row-sums), which the kernel shifts as it loads them.
  bool flipped = false;
};

/// Whether `v` is 0x80 in every byte.
bool isSignBytes(Value v) {
  DenseIntElementsAttr bytes;
  return matchPattern(v, m_Constant(&bytes)) && bytes.isSplat() &&
         bytes.getElementType().isInteger(8) &&
         bytes.getSplatValue<APInt>().getZExtValue() == 0x80;
}

/// The narrow operand under a widening cast, or nullopt when there is none
/// of a kind the instruction computes (sign or zero extension for i8).
std::optional<NarrowOperand> narrowOperand(Value v, DotKind kind) {
  if (kind == DotKind::Vnni) {
    if (auto ext = v.getDefiningOp<arith::ExtSIOp>())
      return NarrowOperand{ext.getIn()};
    auto ext = v.getDefiningOp<arith::ExtUIOp>();
    if (!ext)
      return std::nullopt;
    auto flip = ext.getIn().getDefiningOp<arith::XOrIOp>();
    if (flip && isSignBytes(flip.getRhs()))
      return NarrowOperand{flip.getLhs(), true, true};
    return NarrowOperand{ext.getIn(), true};
  }
  if (auto ext = v.getDefiningOp<arith::ExtFOp>())
    return NarrowOperand{ext.getIn()};
  // A mixed-precision contract (bf16 operands, f32 accumulator) extends
  // its operands itself.
  return NarrowOperand{v};
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

/// The dims of a contraction that are not of size 1: m (A and C), n (B and
/// C) and k (A and B, reduced); -1 where there is none (m of one row).
struct DotDims {
  int64_t m = -1, n = -1, k = -1;
  int64_t M = 1, N = 1, K = 1;
  /// B's k values of each column side by side (B read as n x k): the
  /// dot products' own layout, a panel packed for them. Its k is one
  /// group; `ko` (-1 where it is a unit dim) counts the groups.
  bool packedRhs = false;
  int64_t ko = -1, KO = 1;
};

/// The position of each non-unit dim of `map`'s results, in order.
SmallVector<int64_t> nonUnitDims(AffineMap map, ArrayRef<int64_t> bounds) {
  SmallVector<int64_t> dims;
  for (AffineExpr e : map.getResults()) {
    int64_t d = cast<AffineDimExpr>(e).getPosition();
    if (bounds[d] != 1)
      dims.push_back(d);
  }
  return dims;
}

/// Reads the contraction as C(m, n) += A(m, k) * B(k, n), or as
/// C(m, n) += A(m, ko, k) * B(ko, n, k) (B packed in k groups), unit dims
/// aside: what tiling a matmul to its register tile leaves (the panel and
/// k-group dims of size 1).
std::optional<DotDims> matchDims(vector::ContractionOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  for (AffineMap map : maps)
    if (!map.isProjectedPermutation(/*allowZeroInResults=*/false))
      return std::nullopt;
  SmallVector<int64_t> bounds;
  op.getIterationBounds(bounds);
  SmallVector<int64_t> lhs = nonUnitDims(maps[0], bounds),
                       rhs = nonUnitDims(maps[1], bounds),
                       acc = nonUnitDims(maps[2], bounds);
  DotDims d;
  // C: [m,] n; A: [m,] [ko,] k; B: k, n or [ko,] n, k.
  if (acc.empty() || acc.size() > 2 || lhs.empty())
    return std::nullopt;
  d.n = acc.back();
  d.k = lhs.back();
  bool hasM = acc.size() == 2;
  if (hasM) {
    d.m = acc.front();
    if (lhs.front() != d.m)
      return std::nullopt;
  }
  size_t lhsOuter = lhs.size() - 1 - (hasM ? 1 : 0); // ko in A
  if (lhsOuter > 1)
    return std::nullopt;
  if (lhsOuter == 1)
    d.ko = lhs[lhs.size() - 2];
  if (d.ko >= 0)
    d.packedRhs = rhs == SmallVector<int64_t>{d.ko, d.n, d.k};
  else if (rhs == SmallVector<int64_t>{d.n, d.k})
    d.packedRhs = true;
  else if (rhs != SmallVector<int64_t>{d.k, d.n})
    return std::nullopt;
  if (d.ko >= 0 && !d.packedRhs)
    return std::nullopt;
  // Each operand's last dim is the one its 1-D vectors run along.
  auto last = [](AffineMap map) {
    return cast<AffineDimExpr>(map.getResults().back()).getPosition();
  };
  if (last(maps[0]) != d.k || last(maps[2]) != d.n ||
      last(maps[1]) != (d.packedRhs ? d.k : d.n))
    return std::nullopt;
  auto reduced = [&](int64_t dim) {
    return vector::isReductionIterator(op.getIteratorTypes()[dim]);
  };
  if (!reduced(d.k) || reduced(d.n) || (d.ko >= 0 && !reduced(d.ko)))
    return std::nullopt;
  // Every other dim is a unit one: nothing is summed or broadcast over it.
  d.M = d.m < 0 ? 1 : bounds[d.m];
  d.N = bounds[d.n];
  d.K = bounds[d.k];
  d.KO = d.ko < 0 ? 1 : bounds[d.ko];
  return d;
}

/// Positions into an operand (of `map`, with `rank` trailing results
/// materialized) that fix each (dim, index) of `fixed` and every other dim
/// but the last at 0: the 1-D vector along the operand's last dim.
/// Nullopt where a fixed dim is not materialized.
std::optional<SmallVector<int64_t>>
positions(AffineMap map, int64_t rank,
          ArrayRef<std::pair<int64_t, int64_t>> fixed) {
  SmallVector<int64_t> pos;
  ArrayRef<AffineExpr> results = map.getResults();
  for (AffineExpr e : results.drop_back()) {
    int64_t d = cast<AffineDimExpr>(e).getPosition(), at = 0;
    for (auto [dim, index] : fixed)
      if (dim == d)
        at = index;
    pos.push_back(at);
  }
  // A broadcast operand was looked through: its leading (unit) dims are
  // not materialized.
  int64_t dropped = int64_t(results.size()) - rank;
  for (int64_t i = 0; i < dropped; ++i)
    if (pos[i] != 0)
      return std::nullopt;
  return SmallVector<int64_t>(pos.begin() + dropped, pos.end());
}

Value extractVector(PatternRewriter &b, Location loc, Value v,
                    ArrayRef<int64_t> pos) {
  if (pos.empty())
    return v;
  return b.create<vector::ExtractOp>(loc, v, pos);
}

/// `v` without broadcast unit leading dims.
Value throughBroadcast(Value v) {
  auto bc = v.getDefiningOp<vector::BroadcastOp>();
  if (!bc)
    return v;
  auto from = dyn_cast<VectorType>(bc.getSourceType());
  auto to = cast<VectorType>(bc.getResultVectorType());
  if (!from)
    return v;
  int64_t lead = to.getRank() - from.getRank();
  if (llvm::any_of(to.getShape().take_front(lead),
                   [](int64_t size) { return size != 1; }) ||
      to.getShape().drop_front(lead) != from.getShape())
    return v;
  return bc.getSource();
}

/// The read of a packed B panel whose blocks (16 columns x a k group, 64
/// contiguous bytes) can be loaded straight from memory: its minor dims
/// ([groups,] columns, the group) contiguous in its buffer. Null where
/// `rhs` is not such a read.
vector::TransferReadOp packedPanelRead(Value rhs) {
  auto read = rhs.getDefiningOp<vector::TransferReadOp>();
  if (!read || read.getMask() || read.hasOutOfBoundsDim() ||
      !read.getPermutationMap().isMinorIdentity())
    return {};
  auto memref = dyn_cast<MemRefType>(read.getSource().getType());
  auto vec = read.getVectorType();
  int64_t rank = vec.getRank();
  if (!memref || rank < 2 || rank > 3 || memref.getRank() < rank)
    return {};
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(memref, strides, offset)))
    return {};
  int64_t group = vec.getDimSize(rank - 1);
  if (strides.back() != 1 || strides[strides.size() - 2] != group ||
      memref.getShape().back() != group ||
      !matchPattern(read.getIndices().back(), m_Zero()))
    return {};
  return read;
}

/// Block `column / 16` of k group `groupIndex` of a packed panel's read.
Value loadPackedBlock(PatternRewriter &b, Location loc,
                      vector::TransferReadOp read, int64_t groupIndex,
                      int64_t column) {
  auto vec = read.getVectorType();
  int64_t rank = vec.getRank();
  SmallVector<Value> indices(read.getIndices());
  auto advance = [&](Value &index, int64_t by) {
    if (by)
      index = b.create<arith::AddIOp>(
          loc, index, b.create<arith::ConstantIndexOp>(loc, by));
  };
  advance(indices[indices.size() - 2], column);
  if (rank == 3)
    advance(indices[indices.size() - 3], groupIndex);
  auto type = VectorType::get({kLanes * vec.getDimSize(rank - 1)},
                              vec.getElementType());
  return b.create<vector::LoadOp>(loc, type, read.getSource(), indices);
}

struct DotContraction : public OpRewritePattern<vector::ContractionOp> {
  DotContraction(MLIRContext *context, bool vnni, bool bf16)
      : OpRewritePattern(context), vnni(vnni), bf16(bf16) {}

  LogicalResult matchAndRewrite(vector::ContractionOp op,
                                PatternRewriter &b) const override {
    if (op.getKind() != vector::CombiningKind::ADD || op.isMasked())
      return failure();
    auto accType = dyn_cast<VectorType>(op.getAccType());
    if (!accType || accType.isScalable())
      return failure();
    // C(m, n) += A(m, k) * B(k, n), nothing transposed, or with B's k
    // values of a column side by side (a panel packed for the dots); or
    // one row of it, c(n) += a(k) * B(k, n) (a strided conv's register
    // tile, which the vectorizer unrolls into one such contraction per
    // output position). Dims of size 1 may come between.
    std::optional<DotDims> dims = matchDims(op);
    if (!dims)
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
    std::optional<NarrowOperand> lhsOperand =
        narrowOperand(throughBroadcast(op.getLhs()), kind);
    std::optional<NarrowOperand> rhsOperand =
        narrowOperand(throughBroadcast(op.getRhs()), kind);
    // vpdpbusd multiplies unsigned bytes by signed ones: two unsigned
    // operands are left to the generic lowering.
    if (!lhsOperand || !rhsOperand ||
        (lhsOperand->isUnsigned && rhsOperand->isUnsigned) ||
        lhsOperand->flipped)
      return failure();
    Value lhs = lhsOperand->values, rhs = rhsOperand->values;
    // Both signed: A is shifted to unsigned in the kernel and 128 x (the
    // column sums of B) subtracted.
    bool compensate = kind == DotKind::Vnni && !lhsOperand->isUnsigned &&
                      !rhsOperand->isUnsigned;
    Type narrow = kind == DotKind::Vnni ? Type(b.getI8Type())
                                        : Type(b.getBF16Type());
    auto lhsType = cast<VectorType>(lhs.getType());
    auto rhsType = cast<VectorType>(rhs.getType());
    if (lhsType.getElementType() != narrow ||
        rhsType.getElementType() != narrow)
      return failure();
    int64_t M = dims->M, N = dims->N, K = dims->K;
    int64_t group = kind == DotKind::Vnni ? 4 : 2; // k values per 32 bits
    if (K % group || N % kLanes || (dims->packedRhs && K != group))
      return failure();
    // The k groups: of a packed B, its ko dim; else K / group.
    int64_t groups = dims->packedRhs ? dims->KO : K / group;
    vector::TransferReadOp panel;
    if (dims->packedRhs) {
      // A read that is not of a contiguous panel leaves the contraction to
      // the generic lowering.
      panel = packedPanelRead(rhs);
      if (!panel || panel.getVectorType().getRank() != (dims->ko < 0 ? 2 : 3))
        return failure();
    }
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    auto at = [&](int64_t operand, Value v,
                  ArrayRef<std::pair<int64_t, int64_t>> fixed) {
      return positions(maps[operand],
                       cast<VectorType>(v.getType()).getRank(), fixed);
    };

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
    int64_t blocks = N / kLanes;
    // Positions of the 1-D vectors: C's rows; A's rows (per k group of a
    // packed B); B's k rows (of an unpacked one).
    SmallVector<SmallVector<int64_t>> accPos, rhsPos;
    SmallVector<SmallVector<SmallVector<int64_t>>> lhsPos(M);
    auto add = [](SmallVector<SmallVector<int64_t>> &to,
                  std::optional<SmallVector<int64_t>> pos) {
      if (pos)
        to.push_back(std::move(*pos));
      return pos.has_value();
    };
    for (int64_t i = 0; i < M; ++i) {
      if (!add(accPos, at(2, op.getAcc(), {{dims->m, i}})))
        return failure();
      for (int64_t g = 0; g < (dims->packedRhs ? groups : 1); ++g)
        if (!add(lhsPos[i], at(0, lhs, {{dims->m, i}, {dims->ko, g}})))
          return failure();
    }
    if (!dims->packedRhs)
      for (int64_t p = 0; p < K; ++p)
        if (!add(rhsPos, at(1, rhs, {{dims->k, p}})))
          return failure();

    // The accumulators, one vector per row and 16 columns.
    SmallVector<SmallVector<Value>> acc(M);
    for (int64_t i = 0; i < M; ++i) {
      Value row = extractVector(b, loc, op.getAcc(), accPos[i]);
      for (int64_t c = 0; c < blocks; ++c)
        acc[i].push_back(slice1d(b, loc, row, c * kLanes, kLanes));
    }
    // A's rows, once each (of an unpacked B: all its k groups).
    SmallVector<Value> lhsRows;
    if (!dims->packedRhs)
      for (int64_t i = 0; i < M; ++i)
        lhsRows.push_back(extractVector(b, loc, lhs, lhsPos[i][0]));
    // A's k values of row i and k group g, as one 32-bit word.
    auto lhsWord = [&](int64_t i, int64_t g) -> Value {
      Value values = dims->packedRhs
                         ? extractVector(b, loc, lhs, lhsPos[i][g])
                         : slice1d(b, loc, lhsRows[i], g * group, group);
      return b.create<vector::ExtractOp>(
          loc, bitcastTo(b, loc, values, 1, i32), 0);
    };
    SmallVector<Value> rhsRows;
    for (ArrayRef<int64_t> pos : rhsPos)
      rhsRows.push_back(extractVector(b, loc, rhs, pos));
    // 0x80 in every byte: the sign shift of A, and its compensation.
    Value signBytes = b.create<arith::ConstantOp>(
        loc, DenseElementsAttr::get(wide, b.getI32IntegerAttr(
                                              int32_t(0x80808080u))));
    Value zeros =
        b.create<arith::ConstantOp>(loc, wide, b.getZeroAttr(wide));

    // 128 x (the column sums of B), which the sign shift of A adds to
    // every row: summed over the groups, subtracted from each row once at
    // the end (the sums wrap alike in any order).
    SmallVector<Value> compensation(blocks, zeros);
    for (int64_t g = 0; g < groups; ++g) {
      // B: the group's k values of each column side by side.
      SmallVector<Value> bBlocks;
      for (int64_t c = 0; c < blocks; ++c) {
        Value packed;
        if (dims->packedRhs) {
          packed = loadPackedBlock(b, loc, panel, g, c * kLanes);
          packed = kind == DotKind::Bf16
                       ? packed
                       : bitcastTo(b, loc, packed, kLanes, i32);
        } else {
          SmallVector<Value> parts;
          for (int64_t t = 0; t < group; ++t)
            parts.push_back(
                slice1d(b, loc, rhsRows[g * group + t], c * kLanes, kLanes));
          if (kind == DotKind::Bf16) {
            packed = interleave(b, loc, parts[0], parts[1]); // 32 x bf16
          } else {
            Value lo = interleave(b, loc, parts[0], parts[1]); // 32 x i8
            Value hi = interleave(b, loc, parts[2], parts[3]);
            Value words = interleave(
                b, loc, bitcastTo(b, loc, lo, 16, b.getI16Type()),
                bitcastTo(b, loc, hi, 16, b.getI16Type()));
            packed = bitcastTo(b, loc, words, kLanes, i32);
          }
        }
        if (compensate)
          compensation[c] = dot(compensation[c], signBytes, packed);
        if (rhsOperand->flipped)
          packed = b.create<arith::XOrIOp>(loc, packed, signBytes);
        bBlocks.push_back(packed);
      }
      // A: the group's k values of a row as one 32-bit word, broadcast.
      for (int64_t i = 0; i < M; ++i) {
        Value splat = b.create<vector::BroadcastOp>(loc, wide, lhsWord(i, g));
        // Signed -> unsigned bytes (a + 128) on the broadcast vector: the
        // word is then broadcast straight from memory. Measured (VNNI,
        // 1024^3, 2 threads): 1.54 ms against 1.66 with a scalar xor
        // before the broadcast (a load to a general register, and a move).
        if (compensate)
          splat = b.create<arith::XOrIOp>(loc, splat, signBytes);
        if (kind == DotKind::Bf16)
          splat = bitcastTo(b, loc, splat, 2 * kLanes, b.getBF16Type());
        // The unsigned bytes go first: A's (shifted, or zero-extended) or
        // B's (zero-extended, or shifted for signed A: then A's signed
        // words are the broadcast operand, and C's initial value holds
        // the compensation).
        bool bUnsigned = kind == DotKind::Vnni && rhsOperand->isUnsigned;
        for (int64_t c = 0; c < blocks; ++c)
          acc[i][c] = bUnsigned ? dot(acc[i][c], bBlocks[c], splat)
                                : dot(acc[i][c], splat, bBlocks[c]);
      }
    }
    if (compensate)
      for (int64_t i = 0; i < M; ++i)
        for (int64_t c = 0; c < blocks; ++c)
          acc[i][c] = b.create<arith::SubIOp>(loc, acc[i][c], compensation[c]);

    Value result =
        b.create<arith::ConstantOp>(loc, accType, b.getZeroAttr(accType));
    auto rowType = VectorType::get({N}, accElement);
    for (int64_t i = 0; i < M; ++i) {
      Value row = b.create<arith::ConstantOp>(loc, rowType,
                                              b.getZeroAttr(rowType));
      for (int64_t c = 0; c < blocks; ++c)
        row = b.create<vector::InsertStridedSliceOp>(
            loc, acc[i][c], row, ArrayRef<int64_t>{c * kLanes},
            ArrayRef<int64_t>{1});
      result = accPos[i].empty()
                   ? row
                   : b.create<vector::InsertOp>(loc, row, result, accPos[i]);
    }
    b.replaceOp(op, result);
    return success();
  }

  bool vnni, bf16;
};

/// The `features` option of both passes: host, or a comma list.
LogicalResult parseFeatures(StringRef pass, StringRef features, Operation *op,
                            bool &vnni, bool &bf16) {
  if (features == "host") {
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    vnni = host.lookup("avx512vnni");
    bf16 = host.lookup("avx512bf16");
    return success();
  }
  llvm::SmallVector<llvm::StringRef> names;
  features.split(names, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef name : names) {
    name = name.trim();
    if (name == "avx512vnni")
      vnni = true;
    else if (name == "avx512bf16")
      bf16 = true;
    else
      return op->emitError()
             << pass << ": unknown feature '" << name
             << "' (expected host, or avx512vnni and avx512bf16)";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// hatc-x86-dot-row-sums: signed A on vpdpbusd's signed side.
//===----------------------------------------------------------------------===//

/// `v` (a tensor, or a vector a loop carries) followed up the loops a
/// schedule made, through their loop-carried values (scf.for iter_args,
/// scf.forall shared outputs) and the slices taken in them, to where it
/// starts: a value of the function's body (a slice there is a value of its
/// own), or of a loop body. Each slice's dim-0 offset is added to
/// `rowOffsets` when given.
Value chainStart(Value v, SmallVector<OpFoldResult> *rowOffsets = nullptr) {
  while (true) {
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      Operation *parent = arg.getOwner()->getParentOp();
      OpOperand *init = nullptr;
      if (auto loop = dyn_cast<scf::ForOp>(parent))
        init = loop.getTiedLoopInit(arg);
      else if (auto forall = dyn_cast<scf::ForallOp>(parent))
        init = arg.getArgNumber() >= forall.getRank()
                   ? forall.getTiedOpOperand(arg)
                   : nullptr;
      if (!init)
        return v;
      v = init->get();
      continue;
    }
    auto slice = v.getDefiningOp<tensor::ExtractSliceOp>();
    if (!slice || isa<func::FuncOp>(slice->getParentOp()) ||
        slice.getSourceType().getRank() != slice.getResultType().getRank())
      return v;
    if (rowOffsets)
      rowOffsets->push_back(slice.getMixedOffsets().front());
    v = slice.getSource();
  }
}

/// The tensor read by `v`, a transfer_read of a whole tile (in bounds, no
/// permutation, as many dims as the tensor); null otherwise.
vector::TransferReadOp tileRead(Value v) {
  auto read = v.getDefiningOp<vector::TransferReadOp>();
  if (!read || read.getMask() || read.hasOutOfBoundsDim() ||
      !read.getPermutationMap().isIdentity() ||
      !isa<RankedTensorType>(read.getSource().getType()))
    return {};
  return read;
}

/// The fill a register tile's accumulators start from: through the loops
/// carrying them (as vectors, then as the tensor they are read from).
linalg::FillOp accumulatorFill(Value acc) {
  acc = chainStart(acc);
  while (auto previous = acc.getDefiningOp<vector::ContractionOp>())
    acc = chainStart(previous.getAcc());
  vector::TransferReadOp read = tileRead(acc);
  if (!read)
    return {};
  return chainStart(read.getSource()).getDefiningOp<linalg::FillOp>();
}

/// An i8 x i8 -> i32 register tile that the dot products take, read as
/// C(m, n) += A(m, k) * B(k, n) with A's and C's rows their dim 0: the
/// fill C starts from and the tensor A's rows are read from.
struct RowSumTile {
  linalg::FillOp fill;
  Value a;
};

std::optional<RowSumTile> matchRowSumTile(vector::ContractionOp op) {
  auto accType = dyn_cast<VectorType>(op.getAccType());
  if (op.getKind() != vector::CombiningKind::ADD || op.isMasked() ||
      !accType || !accType.getElementType().isInteger(32))
    return std::nullopt;
  std::optional<DotDims> dims = matchDims(op);
  if (!dims || dims->m < 0 || dims->K % 4 || dims->N % kLanes ||
      (dims->packedRhs && dims->K != 4))
    return std::nullopt;
  auto signedBytes = [](Value v) -> Value {
    auto ext = throughBroadcast(v).getDefiningOp<arith::ExtSIOp>();
    if (!ext || !getElementTypeOrSelf(ext.getIn()).isInteger(8))
      return {};
    return ext.getIn();
  };
  Value lhs = signedBytes(op.getLhs());
  if (!lhs || !signedBytes(op.getRhs()))
    return std::nullopt;
  // Dim 0 of A's and of C's tiles is m.
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto leading = [](AffineMap map) {
    return cast<AffineDimExpr>(map.getResult(0)).getPosition();
  };
  if (leading(maps[0]) != dims->m || leading(maps[2]) != dims->m)
    return std::nullopt;
  vector::TransferReadOp aRead = tileRead(lhs);
  if (!aRead)
    return std::nullopt;
  // A whole, as the function has it: its rows are summed in full, which
  // is what the tiles of a matmul reduce over (its k, or k in groups of a
  // packed A; a padding is zeros, as the tiles read them).
  Value a = chainStart(aRead.getSource());
  Block *block = a.getParentBlock();
  if (!block || !isa<func::FuncOp>(block->getParentOp()) ||
      !cast<RankedTensorType>(a.getType()).hasStaticShape())
    return std::nullopt;
  linalg::FillOp fill = accumulatorFill(op.getAcc());
  if (!fill)
    return std::nullopt;
  return RowSumTile{fill, a};
}

/// C's initial values c - 128 x sum(A's row), written over the fill's
/// tensor: its row r is A's row `rowOffset` + r.
Value writeRowSums(OpBuilder &b, Location loc, linalg::FillOp fill, Value a,
                   Value rowOffset) {
  auto aType = cast<RankedTensorType>(a.getType());
  int64_t k = 1;
  for (int64_t size : aType.getShape().drop_front())
    k *= size;
  // A as rows x k.
  Value rowsOfA = a;
  if (aType.getRank() > 2) {
    ReassociationIndices inner;
    for (int64_t d = 1; d < aType.getRank(); ++d)
      inner.push_back(d);
    rowsOfA = b.create<tensor::CollapseShapeOp>(
        loc, a, ArrayRef<ReassociationIndices>{{0}, inner});
  }
  Type i32 = b.getI32Type();
  constexpr int64_t kChunk = 64; // bytes of A summed per step
  auto bytesType = VectorType::get({kChunk}, b.getI8Type());
  auto wide = VectorType::get({kChunk}, i32);
  auto index = [&](int64_t v) -> Value {
    return b.create<arith::ConstantIndexOp>(loc, v);
  };
  Value zeros = b.create<arith::ConstantOp>(loc, wide, b.getZeroAttr(wide));
  Value pad = b.create<arith::ConstantIntOp>(loc, 0, 8);
  Value shift = b.create<arith::ConstantIntOp>(loc, 7, 32);
  Value c = fill.getInputs()[0];
  auto dest = cast<RankedTensorType>(fill.getResult(0).getType());
  // Each row is written as vectors of its trailing dims (up to 4096
  // values), in loops over the others.
  int64_t rank = dest.getRank(), vectorFrom = rank, values = 1;
  while (vectorFrom > 1 &&
         values * dest.getDimSize(vectorFrom - 1) <= 4096) {
    values *= dest.getDimSize(vectorFrom - 1);
    --vectorFrom;
  }
  if (vectorFrom == rank)
    --vectorFrom; // one long innermost dim: one vector all the same
  auto rowVector = VectorType::get(dest.getShape().drop_front(vectorFrom), i32);
  Value zero = index(0), one = index(1), kEnd = index(k),
        kStep = index(kChunk);
  // The loops over a row's outer dims.
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 1; d < vectorFrom; ++d) {
    lbs.push_back(zero);
    ubs.push_back(index(dest.getDimSize(d)));
    steps.push_back(one);
  }

  auto rowLoop = b.create<scf::ForOp>(
      loc, zero, index(dest.getDimSize(0)), one,
      ValueRange{fill.getOutputs()[0]},
      [&](OpBuilder &b, Location loc, Value r, ValueRange args) {
        Value row = b.create<arith::AddIOp>(loc, rowOffset, r);
        auto sums = b.create<scf::ForOp>(
            loc, zero, kEnd, kStep, ValueRange{zeros},
            [&](OpBuilder &b, Location loc, Value at, ValueRange partial) {
              Value bytes = b.create<vector::TransferReadOp>(
                  loc, bytesType, rowsOfA, ValueRange{row, at}, pad,
                  ArrayRef<bool>{k % kChunk == 0});
              // Sign-extended and added in i32 lanes (about 8 vector
              // instructions per 64 bytes: a few us a MB).
              Value sum = b.create<arith::AddIOp>(
                  loc, partial[0],
                  b.create<arith::ExtSIOp>(loc, wide, bytes));
              b.create<scf::YieldOp>(loc, sum);
            });
        Value total = b.create<vector::ReductionOp>(
            loc, vector::CombiningKind::ADD, sums.getResult(0));
        Value start = b.create<arith::SubIOp>(
            loc, c, b.create<arith::ShLIOp>(loc, total, shift));
        Value splat = b.create<vector::BroadcastOp>(loc, rowVector, start);
        scf::LoopNest nest = scf::buildLoopNest(
            b, loc, lbs, ubs, steps, ValueRange{args[0]},
            [&](OpBuilder &b, Location loc, ValueRange ivs,
                ValueRange tensor) -> scf::ValueVector {
              SmallVector<Value> at{r};
              at.append(ivs.begin(), ivs.end());
              at.resize(rank, zero);
              SmallVector<bool> inBounds(rowVector.getRank(), true);
              return {b.create<vector::TransferWriteOp>(loc, splat, tensor[0],
                                                        at, inBounds)
                          .getResult()};
            });
        b.create<scf::YieldOp>(loc, nest.results);
      });
  return rowLoop.getResult(0);
}

/// `op`'s B zero-extended from its bytes xor 0x80 (b + 128): the tile then
/// adds 128 x its part of A's row sums, which C's initial value takes off.
void shiftRhs(OpBuilder &b, vector::ContractionOp op) {
  b.setInsertionPoint(op);
  Location loc = op.getLoc();
  Value rhs = op.getRhs();
  auto broadcast = rhs.getDefiningOp<vector::BroadcastOp>();
  auto ext = throughBroadcast(rhs).getDefiningOp<arith::ExtSIOp>();
  auto bytes = cast<VectorType>(ext.getIn().getType());
  Value signBytes = b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(bytes, b.getI8IntegerAttr(-128)));
  Value flipped = b.create<arith::XOrIOp>(loc, ext.getIn(), signBytes);
  Value widened = b.create<arith::ExtUIOp>(loc, ext.getType(), flipped);
  if (broadcast)
    widened = b.create<vector::BroadcastOp>(
        loc, broadcast.getResultVectorType(), widened);
  op.getRhsMutable().assign(widened);
}

/// Replaces `fill` by C's initial values from A's row sums, where its rows
/// are A's (from the offset of a thread's slice); false where they are not.
bool startFromRowSums(linalg::FillOp fill, Value a) {
  SmallVector<OpFoldResult> offsets;
  Value whole = chainStart(fill.getOutputs()[0], &offsets);
  auto wholeType = dyn_cast<RankedTensorType>(whole.getType());
  auto destType = cast<RankedTensorType>(fill.getResult(0).getType());
  if (!fill.getResult(0).hasOneUse() || !wholeType ||
      !destType.hasStaticShape() ||
      wholeType.getDimSize(0) !=
          cast<RankedTensorType>(a.getType()).getDimSize(0))
    return false;
  OpBuilder b(fill);
  Location loc = fill.getLoc();
  Value rowOffset = b.create<arith::ConstantIndexOp>(loc, 0);
  for (OpFoldResult offset : offsets)
    rowOffset = b.create<arith::AddIOp>(
        loc, rowOffset, getValueOrCreateConstantIndexOp(b, loc, offset));
  Value start = writeRowSums(b, loc, fill, a, rowOffset);
  fill.getResult(0).replaceAllUsesWith(start);
  fill.erase();
  return true;
}

struct X86DotRowSumsPass
    : public impl::X86DotRowSumsBase<X86DotRowSumsPass> {
  using X86DotRowSumsBase::X86DotRowSumsBase;

  void runOnOperation() override {
    bool vnni = false, bf16 = false;
    if (failed(parseFeatures(getArgument(), features, getOperation(), vnni,
                             bf16)))
      return signalPassFailure();
    if (!vnni)
      return;
    // The tiles of each fill, all of which must be taken (each adds 128 x
    // its part of A's row sums), and the A they read.
    llvm::MapVector<Operation *, SmallVector<vector::ContractionOp>> tiles;
    llvm::DenseMap<Operation *, Value> aOf;
    llvm::DenseSet<Operation *> refused;
    getOperation().walk([&](vector::ContractionOp op) {
      std::optional<RowSumTile> tile = matchRowSumTile(op);
      if (!tile) {
        if (linalg::FillOp fill = accumulatorFill(op.getAcc()))
          refused.insert(fill);
        return;
      }
      auto [it, inserted] = aOf.try_emplace(tile->fill, tile->a);
      if (!inserted && it->second != tile->a)
        refused.insert(tile->fill);
      tiles[tile->fill].push_back(op);
    });
    OpBuilder b(&getContext());
    for (auto &[fill, ops] : tiles)
      if (!refused.contains(fill) &&
          startFromRowSums(cast<linalg::FillOp>(fill), aOf.lookup(fill)))
        for (vector::ContractionOp op : ops)
          shiftRhs(b, op);
  }
};

struct X86DotProductsPass
    : public impl::X86DotProductsBase<X86DotProductsPass> {
  using X86DotProductsBase::X86DotProductsBase;

  void runOnOperation() override {
    bool vnni = false, bf16 = false;
    if (failed(parseFeatures(getArgument(), features, getOperation(), vnni,
                             bf16)))
      return signalPassFailure();
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
