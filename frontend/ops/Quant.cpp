//===- Quant.cpp - ONNX quantized ops -> integer linalg -------------------===//
//
//   QuantizeLinear(x, s, zp)   -> generic: sat(roundeven(x / s) + zp)
//   DequantizeLinear(x, s, zp) -> generic: float(ext(x) - ext(zp)) * s
//   DynamicQuantizeLinear(x)   -> min/max reductions, then the above (uint8)
//   MatMulInteger(A, B, za, zb) -> one i32 contraction generic over
//     (batch..., m, n, k) whose body extends and subtracts the zero points
//   ConvInteger(x, w, zx, zw)  -> i32 (x - zx), (w - zw), pad 0, conv in i32;
//     or, for a constant int8 weight without a zero point, the conv of the
//     8-bit values (i8 x i8 -> i32) minus zx x sum w (narrowIntegerConv)
//   QLinearMatMul / QLinearConv -> the i32 result, then requantized:
//     sat(roundeven(acc * (s_a * s_b / s_y)) + z_y)
// uint8 is i8 in the IR: signedness comes from NodeContext::inputIsUnsigned
// (zero-extension) and the output's zero point type (saturation range).
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

#include "mlir/IR/AffineMap.h"

#include <cmath>

using namespace mlir;

namespace hatc::frontend {

namespace {

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

/// An integer scalar as i32, zero-extended when it is unsigned.
Value toI32(OpBuilder &b, Location loc, Value x, bool isUnsigned) {
  return convertScalar(b, loc, x, b.getI32Type(), isUnsigned);
}

/// roundeven(v) (float) clamped to `type`'s range (unsigned: [0, 2^w-1])
/// and converted to `type` (an 8-bit integer). `integral`: v is a whole
/// number already (a rounded value plus a zero point), not rounded again.
Value saturate(OpBuilder &b, Location loc, Value v, Type type,
               bool isUnsigned, bool integral = false) {
  unsigned width = type.getIntOrFloatBitWidth();
  double low = isUnsigned ? 0 : lowestValue(type);
  double high = isUnsigned ? std::ldexp(1.0, width) - 1 : highestValue(type);
  Type f = v.getType();
  if (!integral)
    v = b.create<math::RoundEvenOp>(loc, v);
  v = b.create<arith::MaximumFOp>(loc, v, scalarConstant(b, loc, f, low));
  v = b.create<arith::MinimumFOp>(loc, v, scalarConstant(b, loc, f, high));
  // Clamped to 8 bits, so i32 holds it (a vector of i64 conversions is
  // twice the instructions).
  Value wide = b.create<arith::FPToSIOp>(loc, b.getI32Type(), v);
  return b.create<arith::TruncIOp>(loc, type, wide);
}

/// A scale or zero point (input `i`) shaped to broadcast against a tensor
/// of `shape`: rank 0 when it holds one value, else [1,..,C,..,1] along
/// `axis` (per-axis). `axis` < 0: only one value is allowed.
llvm::Expected<Value> paramFor(NodeContext &node, size_t i,
                               ArrayRef<int64_t> shape, int64_t axis,
                               StringRef what) {
  RankedTensorType type = node.inputType(i);
  if (type.getNumElements() == 1)
    return reshape(node.b, node.loc, node.input(i), {});
  if (axis >= 0 && axis < int64_t(shape.size()) && type.getRank() == 1 &&
      type.getDimSize(0) == shape[axis]) {
    SmallVector<int64_t> perAxis(shape.size(), 1);
    perAxis[axis] = shape[axis];
    return reshape(node.b, node.loc, node.input(i), perAxis);
  }
  if (axis < 0)
    return node.error(what + " must hold one value; it has shape " +
                      shapeText(type.getShape()));
  return node.error(what + " must hold one value or one per index of axis " +
                    std::to_string(axis) + " (" + std::to_string(shape[axis]) +
                    "); it has shape " + shapeText(type.getShape()));
}

/// The 8-bit output type and signedness a zero point input `i` sets
/// (uint8 when absent).
llvm::Expected<std::pair<Type, bool>> quantizedType(NodeContext &node,
                                                    size_t i) {
  if (!node.hasInput(i))
    return std::make_pair(Type(node.b.getIntegerType(8)), true);
  Type type = node.inputElementType(i);
  if (!type.isInteger(8))
    return node.error("the output zero point must be int8 or uint8");
  return std::make_pair(type, node.inputIsUnsigned(i));
}

llvm::Error convertQuantizeLinear(NodeContext &node) {
  Type floatType = node.inputElementType(1);
  if (!isa<FloatType>(floatType))
    return node.error("y_scale must be a float tensor");
  auto out = quantizedType(node, 2);
  if (!out)
    return out.takeError();
  auto [outType, outUnsigned] = *out;
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t axis = -1;
  if (node.inputType(1).getNumElements() != 1) {
    auto normalized =
        node.normalizeAxis(node.attrInt("axis", 1), node.inputRank(0));
    if (!normalized)
      return normalized.takeError();
    axis = *normalized;
  }
  SmallVector<Value> inputs = {node.input(0)};
  auto scale = paramFor(node, 1, shape, axis, "y_scale");
  if (!scale)
    return scale.takeError();
  inputs.push_back(*scale);
  bool withZero = node.hasInput(2);
  bool zeroUnsigned = node.inputIsUnsigned(2);
  if (withZero) {
    auto zero = paramFor(node, 2, shape, axis, "y_zero_point");
    if (!zero)
      return zero.takeError();
    inputs.push_back(*zero);
  }
  auto result = elementwise(
      node.b, node.loc, inputs, outType,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value x = convertScalar(b, loc, args[0], floatType);
        Value q = b.create<arith::DivFOp>(loc, x, args[1]);
        q = b.create<math::RoundEvenOp>(loc, q);
        if (withZero)
          q = b.create<arith::AddFOp>(
              loc, q, convertScalar(b, loc, args[2], floatType, zeroUnsigned));
        return saturate(b, loc, q, outType, outUnsigned, /*integral=*/true);
      });
  if (!result)
    return node.error(llvm::toString(result.takeError()));
  node.setOutput(0, *result);
  node.setOutputUnsigned(0, outUnsigned);
  return llvm::Error::success();
}

llvm::Error convertDequantizeLinear(NodeContext &node) {
  Type floatType = node.inputElementType(1);
  if (!isa<FloatType>(floatType))
    return node.error("x_scale must be a float tensor");
  Type xType = node.inputElementType(0);
  if (!isa<IntegerType>(xType) || xType.isInteger(1))
    return node.error("x must be an int8, uint8 or int32 tensor");
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t axis = -1;
  if (node.inputType(1).getNumElements() != 1) {
    auto normalized =
        node.normalizeAxis(node.attrInt("axis", 1), node.inputRank(0));
    if (!normalized)
      return normalized.takeError();
    axis = *normalized;
  }
  bool xUnsigned = node.inputIsUnsigned(0);
  bool zeroUnsigned = node.inputIsUnsigned(2);
  SmallVector<Value> inputs = {node.input(0)};
  auto scale = paramFor(node, 1, shape, axis, "x_scale");
  if (!scale)
    return scale.takeError();
  inputs.push_back(*scale);
  bool withZero = node.hasInput(2);
  if (withZero) {
    auto zero = paramFor(node, 2, shape, axis, "x_zero_point");
    if (!zero)
      return zero.takeError();
    inputs.push_back(*zero);
  }
  auto result =
      elementwise(node.b, node.loc, inputs, floatType,
                  [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                    Value x = toI32(b, loc, args[0], xUnsigned);
                    if (withZero)
                      x = b.create<arith::SubIOp>(
                          loc, x, toI32(b, loc, args[2], zeroUnsigned));
                    Value f = convertScalar(b, loc, x, floatType);
                    return b.create<arith::MulFOp>(loc, f, args[1]);
                  });
  if (!result)
    return node.error(llvm::toString(result.takeError()));
  node.setOutput(0, *result);
  return llvm::Error::success();
}

/// DynamicQuantizeLinear (uint8): the scale spans [min(x, 0), max(x, 0)]
/// over 0..255 and the zero point maps 0 exactly.
llvm::Error convertDynamicQuantizeLinear(NodeContext &node) {
  OpBuilder &b = node.b;
  Location loc = node.loc;
  Type f = node.inputElementType(0);
  if (!isa<FloatType>(f))
    return node.error("x must be a float tensor");
  Value x = node.input(0);
  SmallVector<int64_t> all;
  for (int64_t i = 0; i < node.inputRank(0); ++i)
    all.push_back(i);
  Value minX = reduce(
      b, loc, x, all, false, highestValue(f),
      [](OpBuilder &nb, Location nl, ValueRange args) {
        return nb.create<arith::MinimumFOp>(nl, args[1], args[0]).getResult();
      });
  Value maxX = reduce(
      b, loc, x, all, false, lowestValue(f),
      [](OpBuilder &nb, Location nl, ValueRange args) {
        return nb.create<arith::MaximumFOp>(nl, args[1], args[0]).getResult();
      });
  auto low = [&](OpBuilder &nb, Location nl, Value v) -> Value {
    return nb.create<arith::MinimumFOp>(nl, v, scalarConstant(nb, nl, f, 0));
  };
  auto scale = elementwise(
      b, loc, ValueRange{minX, maxX}, f,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value high = nb.create<arith::MaximumFOp>(nl, args[1],
                                                  scalarConstant(nb, nl, f, 0));
        Value range = nb.create<arith::SubFOp>(nl, high, low(nb, nl, args[0]));
        return nb.create<arith::DivFOp>(nl, range,
                                        scalarConstant(nb, nl, f, 255));
      });
  if (!scale)
    return node.error(llvm::toString(scale.takeError()));
  Type i8 = b.getIntegerType(8);
  auto zero = elementwise(
      b, loc, ValueRange{minX, *scale}, i8,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value q = nb.create<arith::DivFOp>(nl, low(nb, nl, args[0]), args[1]);
        q = nb.create<arith::SubFOp>(nl, scalarConstant(nb, nl, f, 0), q);
        return saturate(nb, nl, q, i8, /*isUnsigned=*/true);
      });
  if (!zero)
    return node.error(llvm::toString(zero.takeError()));
  auto y = elementwise(
      b, loc, ValueRange{x, *scale, *zero}, i8,
      [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
        Value q = nb.create<arith::DivFOp>(nl, args[0], args[1]);
        q = nb.create<math::RoundEvenOp>(nl, q);
        q = nb.create<arith::AddFOp>(
            nl, q, convertScalar(nb, nl, args[2], f, /*fromUnsigned=*/true));
        return saturate(nb, nl, q, i8, /*isUnsigned=*/true, /*integral=*/true);
      });
  if (!y)
    return node.error(llvm::toString(y.takeError()));
  node.setOutput(0, *y);
  node.setOutputUnsigned(0, true);
  node.setOutput(1, *scale);
  node.setOutput(2, *zero);
  node.setOutputUnsigned(2, true);
  return llvm::Error::success();
}

// --- Integer matmul. ---

/// A quantized operand: its value and zero point (null when absent), with
/// their signedness. The zero point is rank 0 (per tensor) or rank 1 (per
/// row of A / column of B).
struct Operand {
  Value value;
  bool isUnsigned = false;
  Value zero;
  bool zeroUnsigned = false;
};

/// `operand`'s zero point input `i`: one value, or one per index of the
/// dim of size `perDim` (rows of A, columns of B).
llvm::Error readZero(NodeContext &node, size_t i, int64_t perDim,
                     StringRef what, Operand &operand) {
  if (!node.hasInput(i))
    return llvm::Error::success();
  RankedTensorType type = node.inputType(i);
  operand.zeroUnsigned = node.inputIsUnsigned(i);
  if (type.getNumElements() == 1) {
    operand.zero = reshape(node.b, node.loc, node.input(i), {});
    return llvm::Error::success();
  }
  if (type.getNumElements() == perDim) {
    operand.zero = reshape(node.b, node.loc, node.input(i), {perDim});
    return llvm::Error::success();
  }
  return node.error(what + " must hold one value or " + std::to_string(perDim) +
                    "; it has shape " + shapeText(type.getShape()));
}

/// Shapes of a MatMul with numpy's 1-D promotion and batch broadcasting.
struct MatmulShape {
  SmallVector<int64_t> lhs, rhs, batch, result;
  int64_t m = 0, k = 0, n = 0;
  bool lhsVector = false, rhsVector = false;
};

llvm::Expected<MatmulShape> matmulShape(NodeContext &node, size_t lhs,
                                        size_t rhs) {
  MatmulShape s;
  s.lhs.assign(node.inputShape(lhs).begin(), node.inputShape(lhs).end());
  s.rhs.assign(node.inputShape(rhs).begin(), node.inputShape(rhs).end());
  if (s.lhs.empty() || s.rhs.empty())
    return node.error("operands must have rank 1 or more");
  s.lhsVector = s.lhs.size() == 1;
  s.rhsVector = s.rhs.size() == 1;
  if (s.lhsVector)
    s.lhs.insert(s.lhs.begin(), 1);
  if (s.rhsVector)
    s.rhs.push_back(1);
  s.m = s.lhs[s.lhs.size() - 2];
  s.k = s.lhs.back();
  s.n = s.rhs.back();
  if (s.rhs[s.rhs.size() - 2] != s.k)
    return node.error("shapes " + shapeText(node.inputShape(lhs)) + " and " +
                      shapeText(node.inputShape(rhs)) +
                      " do not agree on the contracted dim");
  SmallVector<int64_t> lhsBatch(s.lhs.begin(), s.lhs.end() - 2);
  SmallVector<int64_t> rhsBatch(s.rhs.begin(), s.rhs.end() - 2);
  auto batch = broadcastShapes({lhsBatch, rhsBatch});
  if (!batch)
    return node.error("batch dims " + shapeText(lhsBatch) + " and " +
                      shapeText(rhsBatch) + " do not broadcast");
  s.batch = *batch;
  s.result = s.batch;
  if (!s.lhsVector)
    s.result.push_back(s.m);
  if (!s.rhsVector)
    s.result.push_back(s.n);
  return s;
}

/// sum_k (ext(a) - za) * (ext(b) - zb) in i32 over [batch..., M, N]: one
/// generic over (batch..., m, n, k).
Value integerMatmul(OpBuilder &b, Location loc, const MatmulShape &s,
                    const Operand &lhs, const Operand &rhs) {
  MLIRContext *ctx = b.getContext();
  int64_t nb = s.batch.size(), loops = nb + 3;
  auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  auto operandMap = [&](ArrayRef<int64_t> shape, AffineExpr row,
                        AffineExpr col) {
    SmallVector<AffineExpr> exprs;
    int64_t batchRank = shape.size() - 2, offset = nb - batchRank;
    for (int64_t i = 0; i < batchRank; ++i)
      exprs.push_back(shape[i] == 1 && s.batch[offset + i] != 1
                          ? getAffineConstantExpr(0, ctx)
                          : dim(offset + i));
    exprs.push_back(row);
    exprs.push_back(col);
    return AffineMap::get(loops, 0, exprs, ctx);
  };
  auto zeroMap = [&](Value zero, AffineExpr along) {
    SmallVector<AffineExpr> exprs;
    if (tensorType(zero).getRank() == 1)
      exprs.push_back(along);
    return AffineMap::get(loops, 0, exprs, ctx);
  };
  AffineExpr m = dim(nb), n = dim(nb + 1), k = dim(nb + 2);
  Value a = reshape(b, loc, lhs.value, s.lhs);
  Value bv = reshape(b, loc, rhs.value, s.rhs);
  SmallVector<Value> inputs = {a, bv};
  SmallVector<AffineMap> maps = {operandMap(s.lhs, m, k),
                                 operandMap(s.rhs, k, n)};
  if (lhs.zero) {
    inputs.push_back(lhs.zero);
    maps.push_back(zeroMap(lhs.zero, m));
  }
  if (rhs.zero) {
    inputs.push_back(rhs.zero);
    maps.push_back(zeroMap(rhs.zero, n));
  }
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i < nb + 2; ++i)
    outExprs.push_back(dim(i));
  maps.push_back(AffineMap::get(loops, 0, outExprs, ctx));
  SmallVector<int64_t> full(s.batch);
  full.append({s.m, s.n});
  Value acc = filledTensor(b, loc, full, b.getI32Type(), 0);
  SmallVector<utils::IteratorType> iterators(nb + 2,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  auto generic = b.create<linalg::GenericOp>(
      loc, acc.getType(), inputs, ValueRange{acc}, maps, iterators,
      [&](OpBuilder &nb2, Location nl, ValueRange args) {
        Value x = toI32(nb2, nl, args[0], lhs.isUnsigned);
        Value y = toI32(nb2, nl, args[1], rhs.isUnsigned);
        size_t next = 2;
        if (lhs.zero)
          x = nb2.create<arith::SubIOp>(
              nl, x, toI32(nb2, nl, args[next++], lhs.zeroUnsigned));
        if (rhs.zero)
          y = nb2.create<arith::SubIOp>(
              nl, y, toI32(nb2, nl, args[next++], rhs.zeroUnsigned));
        Value product = nb2.create<arith::MulIOp>(nl, x, y);
        nb2.create<linalg::YieldOp>(nl, ValueRange{nb2.create<arith::AddIOp>(
                                            nl, args.back(), product)});
      });
  return reshape(b, loc, generic.getResult(0), s.result);
}

bool isInt8(Type type) { return type.isInteger(8); }

llvm::Error convertMatMulInteger(NodeContext &node) {
  if (!isInt8(node.inputElementType(0)) || !isInt8(node.inputElementType(1)))
    return node.error("A and B must be int8 or uint8 tensors");
  auto s = matmulShape(node, 0, 1);
  if (!s)
    return s.takeError();
  Operand lhs{node.input(0), node.inputIsUnsigned(0)};
  Operand rhs{node.input(1), node.inputIsUnsigned(1)};
  if (llvm::Error err = readZero(node, 2, s->m, "a_zero_point", lhs))
    return err;
  if (llvm::Error err = readZero(node, 3, s->n, "b_zero_point", rhs))
    return err;
  node.setOutput(0, integerMatmul(node.b, node.loc, *s, lhs, rhs));
  node.setOutputUnsigned(0, false);
  return llvm::Error::success();
}

/// sat(roundeven(float(acc [+ bias]) * (sa * sb / sy)) + zy): `scales` are
/// sa, sb, sy broadcastable to `acc`; `zero` is zy or null.
llvm::Expected<Value> requantize(NodeContext &node, Value acc, Value bias,
                                 ArrayRef<Value> scales, Value zero,
                                 Type outType, bool outUnsigned,
                                 bool zeroUnsigned) {
  Type f = tensorType(scales[0]).getElementType();
  // The multiplier s_a * s_b / s_y on the scales alone (one value, or one
  // per channel): constant scales fold to one constant, so the per-element
  // body multiplies once instead of computing it for every element.
  auto multiplier = elementwise(
      node.b, node.loc, scales, f,
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value m = b.create<arith::MulFOp>(loc, args[0], args[1]);
        return b.create<arith::DivFOp>(loc, m, args[2]);
      });
  if (!multiplier)
    return multiplier.takeError();
  SmallVector<Value> inputs = {acc, *multiplier};
  if (zero)
    inputs.push_back(zero);
  if (bias)
    inputs.push_back(bias);
  return elementwise(
      node.b, node.loc, inputs, outType,
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value sum = args[0];
        if (bias)
          sum = b.create<arith::AddIOp>(loc, sum, args.back());
        Value v = convertScalar(b, loc, sum, f);
        v = b.create<arith::MulFOp>(loc, v, args[1]);
        v = b.create<math::RoundEvenOp>(loc, v);
        if (zero)
          v = b.create<arith::AddFOp>(
              loc, v, convertScalar(b, loc, args[2], f, zeroUnsigned));
        return saturate(b, loc, v, outType, outUnsigned, /*integral=*/true);
      });
}

/// A float scale input shaped per tensor (rank 0) or per index of
/// `shape`'s dim `axis`.
llvm::Expected<Value> scaleFor(NodeContext &node, size_t i,
                               ArrayRef<int64_t> shape, int64_t axis,
                               StringRef what) {
  if (!isa<FloatType>(node.inputElementType(i)))
    return node.error(what + " must be a float tensor");
  return paramFor(node, i, shape, axis, what);
}

llvm::Error convertQLinearMatMul(NodeContext &node) {
  if (!isInt8(node.inputElementType(0)) || !isInt8(node.inputElementType(3)))
    return node.error("a and b must be int8 or uint8 tensors");
  for (size_t i : {1, 2, 4, 5, 6, 7})
    if (!node.hasInput(i))
      return node.error("all eight inputs are required");
  auto s = matmulShape(node, 0, 3);
  if (!s)
    return s.takeError();
  Operand lhs{node.input(0), node.inputIsUnsigned(0)};
  Operand rhs{node.input(3), node.inputIsUnsigned(3)};
  if (llvm::Error err = readZero(node, 2, s->m, "a_zero_point", lhs))
    return err;
  if (llvm::Error err = readZero(node, 5, s->n, "b_zero_point", rhs))
    return err;
  auto out = quantizedType(node, 7);
  if (!out)
    return out.takeError();
  Value acc = integerMatmul(node.b, node.loc, *s, lhs, rhs);
  // Scales against the result [batch..., M, N] (1-D operands drop M / N).
  SmallVector<int64_t> mn(s->batch);
  mn.append({s->m, s->n});
  int64_t rank = mn.size();
  acc = reshape(node.b, node.loc, acc, mn);
  auto aScale = scaleFor(node, 1, mn, rank - 2, "a_scale");
  if (!aScale)
    return aScale.takeError();
  auto bScale = scaleFor(node, 4, mn, rank - 1, "b_scale");
  if (!bScale)
    return bScale.takeError();
  auto yScale = scaleFor(node, 6, mn, -1, "y_scale");
  if (!yScale)
    return yScale.takeError();
  auto yZero = paramFor(node, 7, mn, -1, "y_zero_point");
  if (!yZero)
    return yZero.takeError();
  auto result =
      requantize(node, acc, Value(), {*aScale, *bScale, *yScale}, *yZero,
                 out->first, out->second, node.inputIsUnsigned(7));
  if (!result)
    return node.error(llvm::toString(result.takeError()));
  node.setOutput(0, reshape(node.b, node.loc, *result, s->result));
  node.setOutputUnsigned(0, out->second);
  return llvm::Error::success();
}

// --- Integer convolution. ---

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The window of ConvInteger / QLinearConv, and (shiftConvOperands) the
/// padded, zero-point-shifted i32 input and the shifted i32 weight.
struct ConvSetup {
  Value input, weight;
  SmallVector<int64_t> strides, dilations, outShape;
  /// The input's padding per dim (N and C included, 0).
  SmallVector<int64_t> low, high;
  int64_t groups = 1;
};

/// ext(v) - ext(zero) in i32, elementwise; `zero` rank 0 or broadcastable.
llvm::Expected<Value> shifted(NodeContext &node, Value v, bool isUnsigned,
                              Value zero, bool zeroUnsigned) {
  SmallVector<Value> inputs = {v};
  if (zero)
    inputs.push_back(zero);
  return elementwise(node.b, node.loc, inputs, node.b.getI32Type(),
                     [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
                       Value x = toI32(b, loc, args[0], isUnsigned);
                       if (zero)
                         x = b.create<arith::SubIOp>(
                             loc, x, toI32(b, loc, args[1], zeroUnsigned));
                       return x;
                     });
}

llvm::Expected<ConvSetup> setupConv(NodeContext &node, size_t x, size_t w) {
  if (!isInt8(node.inputElementType(x)) || !isInt8(node.inputElementType(w)))
    return node.error("x and w must be int8 or uint8 tensors");
  int64_t rank = node.inputRank(x);
  if (rank < 3 || rank > 5)
    return node.error("only 1-D, 2-D and 3-D convolutions are supported");
  if (node.inputRank(w) != rank)
    return node.error("the weight's rank differs from the input's");
  ArrayRef<int64_t> xShape = node.inputShape(x), wShape = node.inputShape(w);
  ConvSetup setup;
  setup.groups = node.attrInt("group", 1);
  int64_t c = xShape[1], f = wShape[0], k = rank - 2;
  if (setup.groups < 1 || c % setup.groups || f % setup.groups ||
      wShape[1] * setup.groups != c)
    return node.error("channels (" + std::to_string(c) + " in, " +
                      std::to_string(f) + " out, " + std::to_string(wShape[1]) +
                      " per group) do not fit group " +
                      std::to_string(setup.groups));
  ArrayRef<int64_t> kernel = wShape.drop_front(2);
  std::vector<int64_t> kernelAttr = node.attrInts("kernel_shape");
  if (!kernelAttr.empty() && ArrayRef<int64_t>(kernelAttr) != kernel)
    return node.error("kernel_shape does not match the weight's shape");
  std::vector<int64_t> ones(k, 1);
  std::vector<int64_t> strides = node.attrInts("strides", ones);
  std::vector<int64_t> dilations = node.attrInts("dilations", ones);
  std::vector<int64_t> pads =
      node.attrInts("pads", std::vector<int64_t>(2 * k));
  if (strides.empty())
    strides = ones;
  if (dilations.empty())
    dilations = ones;
  if (pads.empty())
    pads.assign(2 * k, 0);
  if (int64_t(strides.size()) != k || int64_t(dilations.size()) != k ||
      int64_t(pads.size()) != 2 * k)
    return node.error("strides, dilations and pads must match the " +
                      std::to_string(k) + " spatial dims");
  std::string autoPad = node.attrString("auto_pad", "NOTSET");
  if (autoPad.empty())
    autoPad = "NOTSET";
  if (autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER")
    return node.error("unknown auto_pad '" + autoPad + "'");
  SmallVector<int64_t> low = {0, 0}, high = {0, 0};
  setup.outShape = {xShape[0], f};
  for (int64_t i = 0; i < k; ++i) {
    int64_t s = strides[i], d = dilations[i], in = xShape[2 + i];
    if (s < 1 || d < 1)
      return node.error("strides and dilations must be positive");
    int64_t extent = (kernel[i] - 1) * d + 1;
    int64_t pb = 0, pe = 0, out;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      out = ceilDiv(in, s);
      int64_t total = std::max<int64_t>(0, (out - 1) * s + extent - in);
      pb = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      if (autoPad == "NOTSET") {
        pb = pads[i];
        pe = pads[i + k];
      }
      if (pb < 0 || pe < 0)
        return node.error("pads must not be negative");
      int64_t span = in + pb + pe - extent;
      if (span < 0)
        return node.error("the window (extent " + std::to_string(extent) +
                          ") is larger than the padded input (" +
                          std::to_string(in + pb + pe) + ")");
      out = span / s + 1;
    }
    low.push_back(pb);
    high.push_back(pe);
    setup.outShape.push_back(out);
  }
  setup.strides.assign(strides.begin(), strides.end());
  setup.dilations.assign(dilations.begin(), dilations.end());
  setup.low = low, setup.high = high;

  return setup;
}

/// setup.input and setup.weight: x - x_zero_point (one value) in i32,
/// padded with 0 (the zero point's value), and w - w_zero_point (one
/// value, or one per output channel).
llvm::Error shiftConvOperands(NodeContext &node, ConvSetup &setup, size_t x,
                              size_t xZero, size_t w, size_t wZero) {
  ArrayRef<int64_t> xShape = node.inputShape(x), wShape = node.inputShape(w);
  int64_t rank = xShape.size();
  ArrayRef<int64_t> low = setup.low, high = setup.high;
  // x - x_zero_point (one value), padded with 0: the zero point's value.
  Value xz;
  if (node.hasInput(xZero)) {
    auto zero = paramFor(node, xZero, xShape, -1, "x_zero_point");
    if (!zero)
      return zero.takeError();
    xz = *zero;
  }
  auto xs = shifted(node, node.input(x), node.inputIsUnsigned(x), xz,
                    node.inputIsUnsigned(xZero));
  if (!xs)
    return node.error(llvm::toString(xs.takeError()));
  setup.input = *xs;
  if (llvm::any_of(low, [](int64_t v) { return v != 0; }) ||
      llvm::any_of(high, [](int64_t v) { return v != 0; })) {
    SmallVector<int64_t> padded(xShape);
    SmallVector<OpFoldResult> lows, highs;
    for (int64_t i = 0; i < rank; ++i) {
      padded[i] += low[i] + high[i];
      lows.push_back(node.b.getIndexAttr(low[i]));
      highs.push_back(node.b.getIndexAttr(high[i]));
    }
    Type i32 = node.b.getI32Type();
    setup.input = node.b.create<tensor::PadOp>(
        node.loc, RankedTensorType::get(padded, i32), setup.input, lows, highs,
        scalarConstant(node.b, node.loc, i32, 0));
  }
  // w - w_zero_point (one value, or one per output channel).
  Value wz;
  if (node.hasInput(wZero)) {
    auto zero = paramFor(node, wZero, wShape, 0, "w_zero_point");
    if (!zero)
      return zero.takeError();
    wz = *zero;
  }
  auto ws = shifted(node, node.input(w), node.inputIsUnsigned(w), wz,
                    node.inputIsUnsigned(wZero));
  if (!ws)
    return node.error(llvm::toString(ws.takeError()));
  setup.weight = *ws;
  return llvm::Error::success();
}

/// out[N, F, O...] = sum padded[N, C, O*s + K*d] * weight[F, C/G, K...] in
/// i32: linalg.conv_2d_nchw_fchw for an ungrouped 2-D conv, else a generic
/// over (n, g, f/g, o..., c/g, k...).
Value emitIntegerConv(OpBuilder &b, Location loc, const ConvSetup &setup) {
  Type i32 = b.getI32Type();
  Value init = filledTensor(b, loc, setup.outShape, i32, 0);
  SmallVector<int64_t> inShape(tensorType(setup.input).getShape());
  SmallVector<int64_t> wShape(tensorType(setup.weight).getShape());
  int64_t k = inShape.size() - 2, groups = setup.groups;
  if (groups == 1 && k == 2)
    return b
        .create<linalg::Conv2DNchwFchwOp>(
            loc, init.getType(), ValueRange{setup.input, setup.weight}, init,
            b.getI64TensorAttr(setup.strides),
            b.getI64TensorAttr(setup.dilations))
        .getResult(0);
  int64_t n = inShape[0], cg = inShape[1] / groups, fg = wShape[0] / groups;
  SmallVector<int64_t> gIn = {n, groups, cg}, gW = {groups, fg, cg},
                       gOut = {n, groups, fg};
  gIn.append(inShape.begin() + 2, inShape.end());
  gW.append(wShape.begin() + 2, wShape.end());
  gOut.append(setup.outShape.begin() + 2, setup.outShape.end());
  Value in = reshape(b, loc, setup.input, gIn);
  Value w = reshape(b, loc, setup.weight, gW);
  Value acc = reshape(b, loc, init, gOut);
  MLIRContext *ctx = b.getContext();
  int64_t loops = 4 + 2 * k;
  auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> inExprs = {dim(0), dim(1), dim(3 + k)};
  SmallVector<AffineExpr> wExprs = {dim(1), dim(2), dim(3 + k)};
  SmallVector<AffineExpr> outExprs = {dim(0), dim(1), dim(2)};
  for (int64_t i = 0; i < k; ++i) {
    inExprs.push_back(dim(3 + i) * setup.strides[i] +
                      dim(4 + k + i) * setup.dilations[i]);
    wExprs.push_back(dim(4 + k + i));
    outExprs.push_back(dim(3 + i));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, inExprs, ctx),
                                 AffineMap::get(loops, 0, wExprs, ctx),
                                 AffineMap::get(loops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(3 + k,
                                             utils::IteratorType::parallel);
  iterators.append(1 + k, utils::IteratorType::reduction);
  Value result =
      b.create<linalg::GenericOp>(
           loc, acc.getType(), ValueRange{in, w}, ValueRange{acc}, maps,
           iterators,
           [&](OpBuilder &nb, Location nl, ValueRange args) {
             Value product = nb.create<arith::MulIOp>(nl, args[0], args[1]);
             nb.create<linalg::YieldOp>(nl, ValueRange{nb.create<arith::AddIOp>(
                                                nl, args[2], product)});
           })
          .getResult(0);
  return reshape(b, loc, result, setup.outShape);
}

/// The conv on the 8-bit values themselves, where that is exact and cheap
/// to correct: an ungrouped 2-D conv of a constant int8 weight whose zero
/// point is absent or all 0, and an input zero point known at import time.
/// Then sum (x - zx) w = sum x' w - zx' sum w, where x' = x (int8) or
/// x - 128 (uint8, its top bit flipped) and zx' the zero point shifted
/// alike; the padding (0 after the shift) pads x' with zx'. The conv reads
/// i8 x i8 -> i32, which the CPU schedules run on VNNI or AMX tiles
/// (cpu_conv_amx) instead of i32 multiplies; sum w is a constant per
/// filter. Nullopt where the conditions do not hold (shiftConvOperands' i32 conv
/// takes it).
std::optional<Value> narrowIntegerConv(NodeContext &node,
                                       const ConvSetup &setup, size_t x,
                                       size_t xZero, size_t w, size_t wZero) {
  if (setup.groups != 1 || setup.outShape.size() != 4 ||
      node.inputIsUnsigned(w))
    return std::nullopt;
  std::optional<DenseElementsAttr> weight = node.constantInput(w);
  if (!weight)
    return std::nullopt;
  if (node.hasInput(wZero)) {
    std::optional<DenseElementsAttr> zero = node.constantInput(wZero);
    if (!zero || llvm::any_of(intsOf(*zero), [](int64_t v) { return v; }))
      return std::nullopt;
  }
  bool xUnsigned = node.inputIsUnsigned(x);
  int64_t zx = 0;
  if (node.hasInput(xZero)) {
    std::optional<DenseElementsAttr> zero = node.constantInput(xZero);
    if (!zero || zero->getNumElements() != 1)
      return std::nullopt;
    zx = intsOf(*zero)[0];
    // uint8 is i8 in the IR: its values read back signed.
    if (node.inputIsUnsigned(xZero))
      zx &= 0xff;
  }
  int64_t shift = xUnsigned ? 128 : 0, zxNarrow = zx - shift;
  OpBuilder &b = node.b;
  Location loc = node.loc;
  Type i8 = b.getI8Type(), i32 = b.getI32Type();
  Value input = node.input(x);
  if (xUnsigned) {
    auto flipped = elementwise(
        b, loc, {input}, i8, [&](OpBuilder &nb, Location nl, ValueRange args) {
          return nb.create<arith::XOrIOp>(
                       nl, args[0], scalarConstant(nb, nl, i8, -128))
              .getResult();
        });
    if (!flipped) {
      llvm::consumeError(flipped.takeError());
      return std::nullopt;
    }
    input = *flipped;
  }
  if (llvm::any_of(setup.low, [](int64_t v) { return v; }) ||
      llvm::any_of(setup.high, [](int64_t v) { return v; })) {
    SmallVector<int64_t> padded(tensorType(input).getShape());
    SmallVector<OpFoldResult> lows, highs;
    for (size_t i = 0; i < padded.size(); ++i) {
      padded[i] += setup.low[i] + setup.high[i];
      lows.push_back(b.getIndexAttr(setup.low[i]));
      highs.push_back(b.getIndexAttr(setup.high[i]));
    }
    input = b.create<tensor::PadOp>(loc, RankedTensorType::get(padded, i8),
                                    input, lows, highs,
                                    scalarConstant(b, loc, i8, zxNarrow));
  }
  Value init = filledTensor(b, loc, setup.outShape, i32, 0);
  Value conv = b.create<linalg::Conv2DNchwFchwOp>(
                    loc, init.getType(), ValueRange{input, node.input(w)},
                    init, b.getI64TensorAttr(setup.strides),
                    b.getI64TensorAttr(setup.dilations))
                   .getResult(0);
  if (zxNarrow == 0)
    return conv;
  // zx' x sum of each filter's weights, per output channel.
  std::vector<int64_t> values = intsOf(*weight);
  int64_t filters = setup.outShape[1];
  int64_t perFilter = int64_t(values.size()) / filters;
  std::vector<int64_t> correction(filters, 0);
  for (int64_t f = 0; f < filters; ++f)
    for (int64_t i = 0; i < perFilter; ++i)
      correction[f] += zxNarrow * values[f * perFilter + i];
  Value perChannel = b.create<arith::ConstantOp>(
      loc, intsAttr(i32, {1, filters, 1, 1}, correction));
  auto corrected = elementwise(
      b, loc, {conv, perChannel}, i32,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        return nb.create<arith::SubIOp>(nl, args[0], args[1]).getResult();
      });
  if (!corrected) {
    llvm::consumeError(corrected.takeError());
    return std::nullopt;
  }
  return *corrected;
}

/// The i32 conv of ConvInteger / QLinearConv: on the 8-bit values where
/// narrowIntegerConv applies, else on the shifted i32 values.
llvm::Expected<Value> integerConv(NodeContext &node, ConvSetup &setup,
                                  size_t x, size_t xZero, size_t w,
                                  size_t wZero) {
  if (auto narrow = narrowIntegerConv(node, setup, x, xZero, w, wZero))
    return *narrow;
  if (llvm::Error err = shiftConvOperands(node, setup, x, xZero, w, wZero))
    return std::move(err);
  return emitIntegerConv(node.b, node.loc, setup);
}

llvm::Error convertConvInteger(NodeContext &node) {
  auto setup = setupConv(node, 0, 1);
  if (!setup)
    return setup.takeError();
  auto conv = integerConv(node, *setup, 0, 2, 1, 3);
  if (!conv)
    return conv.takeError();
  node.setOutput(0, *conv);
  node.setOutputUnsigned(0, false);
  return llvm::Error::success();
}

llvm::Error convertQLinearConv(NodeContext &node) {
  for (size_t i : {1, 2, 4, 5, 6, 7})
    if (!node.hasInput(i))
      return node.error("inputs 0 to 7 are required");
  auto setup = setupConv(node, 0, 3);
  if (!setup)
    return setup.takeError();
  auto out = quantizedType(node, 7);
  if (!out)
    return out.takeError();
  auto conv = integerConv(node, *setup, 0, 2, 3, 5);
  if (!conv)
    return conv.takeError();
  Value acc = *conv;
  ArrayRef<int64_t> outShape = setup->outShape;
  auto xScale = scaleFor(node, 1, outShape, -1, "x_scale");
  if (!xScale)
    return xScale.takeError();
  auto wScale = scaleFor(node, 4, outShape, 1, "w_scale");
  if (!wScale)
    return wScale.takeError();
  auto yScale = scaleFor(node, 6, outShape, -1, "y_scale");
  if (!yScale)
    return yScale.takeError();
  auto yZero = paramFor(node, 7, outShape, -1, "y_zero_point");
  if (!yZero)
    return yZero.takeError();
  Value bias;
  if (node.hasInput(8)) {
    int64_t f = outShape[1];
    if (!node.inputElementType(8).isInteger(32) ||
        node.inputType(8).getNumElements() != f)
      return node.error("the bias B must be an int32 tensor of shape [" +
                        std::to_string(f) + "]");
    auto b = paramFor(node, 8, outShape, 1, "B");
    if (!b)
      return b.takeError();
    bias = *b;
  }
  auto result = requantize(node, acc, bias, {*xScale, *wScale, *yScale}, *yZero,
                           out->first, out->second, node.inputIsUnsigned(7));
  if (!result)
    return node.error(llvm::toString(result.takeError()));
  node.setOutput(0, *result);
  node.setOutputUnsigned(0, out->second);
  return llvm::Error::success();
}

} // namespace

void registerQuantOps(ConverterRegistry &r) {
  r["QuantizeLinear"] = {convertQuantizeLinear, 10};
  r["DequantizeLinear"] = {convertDequantizeLinear, 10};
  r["DynamicQuantizeLinear"] = {convertDynamicQuantizeLinear, 11};
  r["MatMulInteger"] = {convertMatMulInteger, 10};
  r["ConvInteger"] = {convertConvInteger, 10};
  r["QLinearMatMul"] = {convertQLinearMatMul, 10};
  r["QLinearConv"] = {convertQLinearConv, 10};
}

} // namespace hatc::frontend
