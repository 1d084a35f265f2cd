//===- Reduction.cpp - ONNX reductions and normalizations -> linalg -------===//
//
//   ReduceSum(X[2,3,4], axes=[1]) -> fill(0) + linalg.generic (reduction
//   over d1), then elementwise pre/post steps (abs, square, /count, log).
//   Softmax / norms chain keepdims reductions and broadcasting generics.
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace hatc::frontend {

namespace {

bool isFloat(Type type) { return isa<FloatType>(type); }

Value cst(OpBuilder &b, Location loc, Value like, double v) {
  return scalarConstant(b, loc, like.getType(), v);
}

Value absOf(OpBuilder &b, Location loc, Value x) {
  if (isFloat(x.getType()))
    return b.create<math::AbsFOp>(loc, x);
  return b.create<math::AbsIOp>(loc, x);
}

/// A float math function applied to a scalar of any type (integers go
/// through f64 and back, truncating like numpy's astype).
Value viaFloat(OpBuilder &b, Location loc, Value x,
               const std::function<Value(OpBuilder &, Location, Value)> &fn) {
  if (isFloat(x.getType()))
    return fn(b, loc, x);
  Type f64 = b.getF64Type();
  Value r = fn(b, loc, convertScalar(b, loc, x, f64));
  return convertScalar(b, loc, r, x.getType());
}

/// `elementwise` with its error named after the node.
llvm::Expected<Value> ew(NodeContext &node, ValueRange inputs, Type type,
                         const BodyBuilder &body) {
  auto result = elementwise(node.b, node.loc, inputs, type, body);
  if (!result)
    return node.error(llvm::toString(result.takeError()));
  return *result;
}

/// Normalized, sorted, deduplicated axes.
llvm::Expected<SmallVector<int64_t>>
normalizeAxes(NodeContext &node, ArrayRef<int64_t> axes, int64_t rank) {
  SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    auto normalized = node.normalizeAxis(axis, rank);
    if (!normalized)
      return normalized.takeError();
    if (!llvm::is_contained(result, *normalized))
      result.push_back(*normalized);
  }
  llvm::sort(result);
  return result;
}

SmallVector<int64_t> allAxes(int64_t from, int64_t rank) {
  SmallVector<int64_t> axes;
  for (int64_t i = from; i < rank; ++i)
    axes.push_back(i);
  return axes;
}

SmallVector<int64_t> reducedShape(ArrayRef<int64_t> shape,
                                  ArrayRef<int64_t> axes, bool keepDims) {
  SmallVector<int64_t> result;
  for (int64_t i = 0; i < int64_t(shape.size()); ++i) {
    if (!llvm::is_contained(axes, int64_t(i)))
      result.push_back(shape[i]);
    else if (keepDims)
      result.push_back(1);
  }
  return result;
}

int64_t countOver(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes) {
  int64_t count = 1;
  for (int64_t axis : axes)
    count *= shape[axis];
  return count;
}

Value sumOver(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
              bool keepDims) {
  return reduce(b, loc, x, axes, keepDims, 0,
                [](OpBuilder &b, Location loc, ValueRange args) {
                  return addValues(b, loc, args[1], args[0]);
                });
}

Value maxOver(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
              bool keepDims) {
  Type type = cast<RankedTensorType>(x.getType()).getElementType();
  return reduce(b, loc, x, axes, keepDims, lowestValue(type),
                [](OpBuilder &b, Location loc, ValueRange args) {
                  return maxValues(b, loc, args[1], args[0]);
                });
}

//===----------------------------------------------------------------------===//
// Reduce*
//===----------------------------------------------------------------------===//

enum class ReduceKind {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  LogSum,
  LogSumExp,
  SumSquare
};

/// Folds a Sum/Mean/Max/Min/Prod of a small constant input (shape
/// arithmetic such as ReduceProd(Shape(x))) on the host; false when it
/// cannot.
bool tryFoldReduce(NodeContext &node, ReduceKind kind, ArrayRef<int64_t> axes,
                   bool keepDims) {
  if (kind != ReduceKind::Sum && kind != ReduceKind::Mean &&
      kind != ReduceKind::Max && kind != ReduceKind::Min &&
      kind != ReduceKind::Prod)
    return false;
  auto constant = node.constantInput(0);
  if (!constant || constant->getNumElements() > 4096)
    return false;
  Type element = constant->getElementType();
  std::vector<double> values = doublesOf(*constant);
  ArrayRef<int64_t> shape = constant->getType().getShape();
  SmallVector<int64_t> outShape = reducedShape(shape, axes, keepDims);
  int64_t outCount = 1;
  for (int64_t d : outShape)
    outCount *= d;
  double init = kind == ReduceKind::Max    ? lowestValue(element)
                : kind == ReduceKind::Min  ? highestValue(element)
                : kind == ReduceKind::Prod ? 1
                                           : 0;
  std::vector<double> result(outCount, init);
  int64_t rank = shape.size();
  for (int64_t flat = 0; flat < int64_t(values.size()); ++flat) {
    // The output position of input element `flat`.
    int64_t rest = flat, out = 0, stride = 1;
    for (int64_t d = rank - 1; d >= 0; --d) {
      int64_t coord = rest % shape[d];
      rest /= shape[d];
      if (llvm::is_contained(axes, d))
        continue;
      out += coord * stride;
      stride *= shape[d];
    }
    double &acc = result[out];
    double v = values[flat];
    switch (kind) {
    case ReduceKind::Max:
      acc = std::max(acc, v);
      break;
    case ReduceKind::Min:
      acc = std::min(acc, v);
      break;
    case ReduceKind::Prod:
      acc *= v;
      break;
    default:
      acc += v;
    }
  }
  if (kind == ReduceKind::Mean) {
    double count = double(countOver(shape, axes));
    for (double &v : result)
      v = isFloat(element) ? v / count : std::trunc(v / count);
  }
  node.setConstantOutput(0, doublesAttr(element, outShape, result));
  return true;
}

llvm::Error convertReduce(NodeContext &node, ReduceKind kind) {
  OpBuilder &b = node.b;
  Location loc = node.loc;
  RankedTensorType type = node.inputType(0);
  Type element = type.getElementType();
  int64_t rank = type.getRank();
  bool axesFromInput = kind == ReduceKind::Sum && node.opset >= 13;
  std::vector<int64_t> rawAxes;
  if (axesFromInput) {
    if (node.hasInput(1)) {
      auto axes = node.constantInts(1, "axes");
      if (!axes)
        return axes.takeError();
      rawAxes = *axes;
    }
  } else {
    rawAxes = node.attrInts("axes");
  }
  bool keepDims = node.attrInt("keepdims", 1) != 0;
  if (rawAxes.empty() && node.attrInt("noop_with_empty_axes", 0) != 0) {
    node.setOutput(0, node.input(0));
    return llvm::Error::success();
  }
  SmallVector<int64_t> axes;
  if (rawAxes.empty()) {
    axes = allAxes(0, rank);
  } else {
    auto normalized = normalizeAxes(node, rawAxes, rank);
    if (!normalized)
      return normalized.takeError();
    axes = *normalized;
  }
  if ((kind == ReduceKind::LogSum || kind == ReduceKind::LogSumExp) &&
      !isFloat(element))
    return node.error("needs a floating-point input, got " +
                      llvm::Twine(node.node.op_type()) + " on integers");
  if (tryFoldReduce(node, kind, axes, keepDims))
    return llvm::Error::success();
  Value x = node.input(0);

  if (kind == ReduceKind::LogSumExp) {
    // max + log(sum(exp(x - max))), with a non-finite max taken as 0.
    Value m = maxOver(b, loc, x, axes, /*keepDims=*/true);
    auto safeMax = [](OpBuilder &b, Location loc, Value m) {
      Value inf = cst(b, loc, m, std::numeric_limits<double>::infinity());
      Value absM = b.create<math::AbsFOp>(loc, m);
      Value finite =
          b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, absM, inf);
      return b.create<arith::SelectOp>(loc, finite, m, cst(b, loc, m, 0))
          .getResult();
    };
    auto e = ew(node, {x, m}, element,
                [&](OpBuilder &b, Location loc, ValueRange args) {
                  Value d = b.create<arith::SubFOp>(loc, args[0],
                                                    safeMax(b, loc, args[1]));
                  return b.create<math::ExpOp>(loc, d).getResult();
                });
    if (!e)
      return e.takeError();
    Value s = sumOver(b, loc, *e, axes, /*keepDims=*/true);
    auto r =
        ew(node, {s, m}, element,
           [&](OpBuilder &b, Location loc, ValueRange args) {
             Value log = b.create<math::LogOp>(loc, args[0]);
             return b.create<arith::AddFOp>(loc, log, safeMax(b, loc, args[1]))
                 .getResult();
           });
    if (!r)
      return r.takeError();
    Value result = *r;
    if (!keepDims)
      result =
          reshape(b, loc, result, reducedShape(type.getShape(), axes, false));
    node.setOutput(0, result);
    return llvm::Error::success();
  }

  double init = 0;
  if (kind == ReduceKind::Max)
    init = lowestValue(element);
  else if (kind == ReduceKind::Min)
    init = highestValue(element);
  else if (kind == ReduceKind::Prod)
    init = 1;
  Value acc =
      reduce(b, loc, x, axes, keepDims, init,
             [kind](OpBuilder &b, Location loc, ValueRange args) -> Value {
               Value v = args[0], acc = args[1];
               switch (kind) {
               case ReduceKind::Max:
                 return maxValues(b, loc, acc, v);
               case ReduceKind::Min:
                 return minValues(b, loc, acc, v);
               case ReduceKind::Prod:
                 return mulValues(b, loc, acc, v);
               case ReduceKind::L1:
                 return addValues(b, loc, acc, absOf(b, loc, v));
               case ReduceKind::L2:
               case ReduceKind::SumSquare:
                 return addValues(b, loc, acc, mulValues(b, loc, v, v));
               default:
                 return addValues(b, loc, acc, v);
               }
             });

  BodyBuilder post;
  int64_t count = countOver(type.getShape(), axes);
  if (kind == ReduceKind::Mean)
    post = [count](OpBuilder &b, Location loc, ValueRange args) {
      return divValues(b, loc, args[0], cst(b, loc, args[0], double(count)));
    };
  else if (kind == ReduceKind::L2)
    post = [](OpBuilder &b, Location loc, ValueRange args) {
      return viaFloat(b, loc, args[0], [](OpBuilder &b, Location loc, Value v) {
        return b.create<math::SqrtOp>(loc, v).getResult();
      });
    };
  else if (kind == ReduceKind::LogSum)
    post = [](OpBuilder &b, Location loc, ValueRange args) {
      return b.create<math::LogOp>(loc, args[0]).getResult();
    };
  if (post) {
    auto r = ew(node, {acc}, element, post);
    if (!r)
      return r.takeError();
    acc = *r;
  }
  node.setOutput(0, acc);
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// ArgMax / ArgMin / Hardmax
//===----------------------------------------------------------------------===//

/// The row-major index of the current iteration over `axes` (i64).
Value linearIndex(OpBuilder &b, Location loc, ArrayRef<int64_t> axes,
                  ArrayRef<int64_t> shape) {
  Type i64 = b.getI64Type();
  Value result;
  for (int64_t axis : axes) {
    Value index = b.create<linalg::IndexOp>(loc, axis);
    index = b.create<arith::IndexCastOp>(loc, i64, index);
    if (!result) {
      result = index;
      continue;
    }
    Value size = scalarConstant(b, loc, i64, double(shape[axis]));
    result = b.create<arith::AddIOp>(
        loc, b.create<arith::MulIOp>(loc, result, size), index);
  }
  return result;
}

/// The i64 index (row-major over `axes`) of the largest (`isMax`) or
/// smallest element, keeping the reduced dims as 1. Ties go to the first
/// index, or the last with `last`; the combine is order-independent.
Value argIndex(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> axes,
               bool isMax, bool last) {
  auto type = cast<RankedTensorType>(x.getType());
  Type element = type.getElementType();
  int64_t rank = type.getRank();
  MLIRContext *context = b.getContext();
  SmallVector<int64_t> outShape = reducedShape(type.getShape(), axes, true);
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    outExprs.push_back(reduced ? getAffineConstantExpr(0, context)
                               : getAffineDimExpr(i, context));
  }
  AffineMap outMap = AffineMap::get(rank, 0, outExprs, context);
  Type i64 = b.getI64Type();
  Value values =
      filledTensor(b, loc, outShape, element,
                   isMax ? lowestValue(element) : highestValue(element));
  Value indices =
      filledTensor(b, loc, outShape, i64,
                   last ? -1.0 : double(std::numeric_limits<int64_t>::max()));
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank), outMap,
                                 outMap};
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<int64_t> axesCopy(axes);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{values.getType(), indices.getType()}, ValueRange{x},
      ValueRange{values, indices}, maps, iterators,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value v = args[0], accV = args[1], accI = args[2];
        Value index = linearIndex(b, loc, axesCopy, shape);
        Value better, equal;
        if (isFloat(element)) {
          better = b.create<arith::CmpFOp>(loc,
                                           isMax ? arith::CmpFPredicate::OGT
                                                 : arith::CmpFPredicate::OLT,
                                           v, accV);
          equal =
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, v, accV);
        } else {
          better = b.create<arith::CmpIOp>(loc,
                                           isMax ? arith::CmpIPredicate::sgt
                                                 : arith::CmpIPredicate::slt,
                                           v, accV);
          equal =
              b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, v, accV);
        }
        Value tie = b.create<arith::CmpIOp>(
            loc, last ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::slt,
            index, accI);
        Value take = b.create<arith::OrIOp>(
            loc, better, b.create<arith::AndIOp>(loc, equal, tie));
        Value newV = b.create<arith::SelectOp>(loc, take, v, accV);
        Value newI = b.create<arith::SelectOp>(loc, take, index, accI);
        b.create<linalg::YieldOp>(loc, ValueRange{newV, newI});
      });
  return generic.getResult(1);
}

llvm::Error convertArg(NodeContext &node, bool isMax) {
  int64_t rank = node.inputRank(0);
  auto axis = node.normalizeAxis(node.attrInt("axis", 0), rank);
  if (!axis)
    return axis.takeError();
  bool keepDims = node.attrInt("keepdims", 1) != 0;
  bool last = node.attrInt("select_last_index", 0) != 0;
  Value index = argIndex(node.b, node.loc, node.input(0), {*axis}, isMax, last);
  if (!keepDims)
    index = reshape(node.b, node.loc, index,
                    reducedShape(node.inputShape(0), {*axis}, false));
  node.setOutput(0, index);
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Softmax / LogSoftmax / Hardmax
//===----------------------------------------------------------------------===//

/// The dims the softmax family normalizes over: opset < 13 flattens from
/// `axis` (default 1) on, later opsets take the one `axis` (default -1).
llvm::Expected<SmallVector<int64_t>> softmaxAxes(NodeContext &node) {
  int64_t rank = node.inputRank(0);
  bool old = node.opset < 13;
  auto axis = node.normalizeAxis(node.attrInt("axis", old ? 1 : -1), rank);
  if (!axis)
    return axis.takeError();
  if (old)
    return allAxes(*axis, rank);
  return SmallVector<int64_t>{*axis};
}

enum class SoftmaxKind { Softmax, LogSoftmax, Hardmax };

llvm::Error convertSoftmax(NodeContext &node, SoftmaxKind kind) {
  OpBuilder &b = node.b;
  Location loc = node.loc;
  auto axesOr = softmaxAxes(node);
  if (!axesOr)
    return axesOr.takeError();
  SmallVector<int64_t> axes = *axesOr;
  Value x = node.input(0);
  RankedTensorType type = node.inputType(0);
  Type element = type.getElementType();

  if (kind == SoftmaxKind::Hardmax) {
    Value index = argIndex(b, loc, x, axes, /*isMax=*/true, /*last=*/false);
    int64_t rank = type.getRank();
    MLIRContext *context = b.getContext();
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < rank; ++i)
      exprs.push_back(llvm::is_contained(axes, i)
                          ? getAffineConstantExpr(0, context)
                          : getAffineDimExpr(i, context));
    SmallVector<AffineMap> maps = {AffineMap::get(rank, 0, exprs, context),
                                   b.getMultiDimIdentityMap(rank)};
    Value init = emptyTensor(b, loc, type.getShape(), element);
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    SmallVector<int64_t> shape(type.getShape());
    auto generic = b.create<linalg::GenericOp>(
        loc, init.getType(), ValueRange{index}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location loc, ValueRange args) {
          Value here = linearIndex(b, loc, axes, shape);
          Value hit = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                              here, args[0]);
          Value one = scalarConstant(b, loc, element, 1);
          Value zero = scalarConstant(b, loc, element, 0);
          b.create<linalg::YieldOp>(
              loc, b.create<arith::SelectOp>(loc, hit, one, zero).getResult());
        });
    node.setOutput(0, generic.getResult(0));
    return llvm::Error::success();
  }

  if (!isFloat(element))
    return node.error("needs a floating-point input");
  Value m = maxOver(b, loc, x, axes, /*keepDims=*/true);
  if (kind == SoftmaxKind::Softmax) {
    auto e = ew(node, {x, m}, element,
                [](OpBuilder &b, Location loc, ValueRange args) {
                  Value d = b.create<arith::SubFOp>(loc, args[0], args[1]);
                  return b.create<math::ExpOp>(loc, d).getResult();
                });
    if (!e)
      return e.takeError();
    Value s = sumOver(b, loc, *e, axes, /*keepDims=*/true);
    auto y =
        ew(node, {*e, s}, element,
           [](OpBuilder &b, Location loc, ValueRange args) {
             return b.create<arith::DivFOp>(loc, args[0], args[1]).getResult();
           });
    if (!y)
      return y.takeError();
    node.setOutput(0, *y);
    return llvm::Error::success();
  }
  // LogSoftmax: (x - max) - log(sum(exp(x - max))).
  auto d = ew(
      node, {x, m}, element, [](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::SubFOp>(loc, args[0], args[1]).getResult();
      });
  if (!d)
    return d.takeError();
  Value s =
      reduce(b, loc, *d, axes, /*keepDims=*/true, 0,
             [](OpBuilder &b, Location loc, ValueRange args) {
               Value e = b.create<math::ExpOp>(loc, args[0]);
               return b.create<arith::AddFOp>(loc, args[1], e).getResult();
             });
  auto y = ew(node, {*d, s}, element,
              [](OpBuilder &b, Location loc, ValueRange args) {
                Value log = b.create<math::LogOp>(loc, args[1]);
                return b.create<arith::SubFOp>(loc, args[0], log).getResult();
              });
  if (!y)
    return y.takeError();
  node.setOutput(0, *y);
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Normalizations
//===----------------------------------------------------------------------===//

/// Mean over `axes` (keepdims), and x - mean.
struct Centered {
  Value mean;
  Value diff;
};

llvm::Expected<Centered> center(NodeContext &node, Value x,
                                ArrayRef<int64_t> axes) {
  auto type = cast<RankedTensorType>(x.getType());
  Type element = type.getElementType();
  double count = double(countOver(type.getShape(), axes));
  Value sum = sumOver(node.b, node.loc, x, axes, /*keepDims=*/true);
  auto mean = ew(node, {sum}, element,
                 [count](OpBuilder &b, Location loc, ValueRange args) {
                   return divValues(b, loc, args[0], cst(b, loc, args[0], count));
                 });
  if (!mean)
    return mean.takeError();
  auto diff = ew(node, {x, *mean}, element,
                 [](OpBuilder &b, Location loc, ValueRange args) {
                   return subValues(b, loc, args[0], args[1]);
                 });
  if (!diff)
    return diff.takeError();
  return Centered{*mean, *diff};
}

/// 1 / sqrt(mean(diff^2 over axes) + epsilon), keepdims.
llvm::Expected<Value> invStdDev(NodeContext &node, Value diff,
                                ArrayRef<int64_t> axes, double epsilon) {
  auto type = cast<RankedTensorType>(diff.getType());
  double count = double(countOver(type.getShape(), axes));
  Value squares =
      reduce(node.b, node.loc, diff, axes, /*keepDims=*/true, 0,
             [](OpBuilder &b, Location loc, ValueRange args) {
               Value sq = b.create<arith::MulFOp>(loc, args[0], args[0]);
               return b.create<arith::AddFOp>(loc, args[1], sq).getResult();
             });
  return ew(node, {squares}, type.getElementType(),
            [=](OpBuilder &b, Location loc, ValueRange args) {
              Value var = b.create<arith::DivFOp>(loc, args[0],
                                                  cst(b, loc, args[0], count));
              Value sum = b.create<arith::AddFOp>(
                  loc, var, cst(b, loc, args[0], epsilon));
              Value root = b.create<math::SqrtOp>(loc, sum);
              return b.create<arith::DivFOp>(loc, cst(b, loc, root, 1.0), root)
                  .getResult();
            });
}

/// A per-channel parameter [C] shaped [C,1,...,1] to broadcast against an
/// input of `rank` whose channel dim is 1.
Value channelParam(NodeContext &node, size_t i, int64_t rank) {
  Value param = node.input(i);
  ArrayRef<int64_t> shape = node.inputShape(i);
  if (shape.size() != 1 || rank <= 2)
    return param;
  SmallVector<int64_t> target(rank - 1, 1);
  target[0] = shape[0];
  return reshape(node.b, node.loc, param, target);
}

llvm::Error convertLayerNorm(NodeContext &node) {
  RankedTensorType type = node.inputType(0);
  Type element = type.getElementType();
  if (!isFloat(element))
    return node.error("needs a floating-point input");
  int64_t rank = type.getRank();
  auto axis = node.normalizeAxis(node.attrInt("axis", -1), rank);
  if (!axis)
    return axis.takeError();
  SmallVector<int64_t> axes = allAxes(*axis, rank);
  double epsilon = node.attrFloat("epsilon", 1e-5f);
  auto centered = center(node, node.input(0), axes);
  if (!centered)
    return centered.takeError();
  auto inv = invStdDev(node, centered->diff, axes, epsilon);
  if (!inv)
    return inv.takeError();
  SmallVector<Value> inputs = {centered->diff, *inv, node.input(1)};
  bool hasBias = node.hasInput(2);
  if (hasBias)
    inputs.push_back(node.input(2));
  auto y = ew(node, inputs, element,
              [hasBias](OpBuilder &b, Location loc, ValueRange args) {
                Value v = b.create<arith::MulFOp>(loc, args[0], args[1]);
                v = b.create<arith::MulFOp>(loc, v, args[2]);
                if (hasBias)
                  v = b.create<arith::AddFOp>(loc, v, args[3]);
                return v;
              });
  if (!y)
    return y.takeError();
  node.setOutput(0, *y);
  if (node.wantsOutput(1))
    node.setOutput(1, centered->mean);
  if (node.wantsOutput(2))
    node.setOutput(2, *inv);
  return llvm::Error::success();
}

/// BatchNormalization with training_mode=1 (opset 14+): normalizes with
/// the batch's statistics (over every dim but C) and updates the running
/// mean and variance by `momentum`.
llvm::Error convertBatchNormTraining(NodeContext &node) {
  OpBuilder &b = node.b;
  Location loc = node.loc;
  RankedTensorType type = node.inputType(0);
  Type element = type.getElementType();
  int64_t rank = type.getRank();
  if (rank < 2)
    return node.error("needs an input of rank 2 or more (N, C, ...)");
  double epsilon = node.attrFloat("epsilon", 1e-5f);
  double momentum = node.attrFloat("momentum", 0.9f);
  SmallVector<int64_t> axes = {0};
  axes.append(allAxes(2, rank));
  auto centered = center(node, node.input(0), axes);
  if (!centered)
    return centered.takeError();
  double count = double(countOver(type.getShape(), axes));
  Value squares =
      reduce(b, loc, centered->diff, axes, /*keepDims=*/true, 0,
             [](OpBuilder &b, Location loc, ValueRange args) {
               Value sq = b.create<arith::MulFOp>(loc, args[0], args[0]);
               return b.create<arith::AddFOp>(loc, args[1], sq).getResult();
             });
  auto var =
      ew(node, {squares}, element,
         [count](OpBuilder &b, Location loc, ValueRange args) {
           return b
               .create<arith::DivFOp>(loc, args[0], cst(b, loc, args[0], count))
               .getResult();
         });
  if (!var)
    return var.takeError();
  auto y = ew(node,
              {centered->diff, *var, channelParam(node, 1, rank),
               channelParam(node, 2, rank)},
              element, [epsilon](OpBuilder &b, Location loc, ValueRange args) {
                Value denom = b.create<math::SqrtOp>(
                    loc, b.create<arith::AddFOp>(
                             loc, args[1], cst(b, loc, args[1], epsilon)));
                Value v = b.create<arith::DivFOp>(loc, args[0], denom);
                v = b.create<arith::MulFOp>(loc, v, args[2]);
                return b.create<arith::AddFOp>(loc, v, args[3]).getResult();
              });
  if (!y)
    return y.takeError();
  node.setOutput(0, *y);
  // running = input * momentum + batch * (1 - momentum), shaped [C].
  SmallVector<int64_t> channels = {type.getDimSize(1)};
  auto update = [&](size_t output, size_t input, Value batch) -> llvm::Error {
    if (!node.wantsOutput(output))
      return llvm::Error::success();
    auto running =
        ew(node, {node.input(input), reshape(b, loc, batch, channels)}, element,
           [momentum](OpBuilder &b, Location loc, ValueRange args) {
             Value kept = b.create<arith::MulFOp>(
                 loc, args[0], cst(b, loc, args[0], momentum));
             Value added = b.create<arith::MulFOp>(
                 loc, args[1], cst(b, loc, args[1], 1 - momentum));
             return b.create<arith::AddFOp>(loc, kept, added).getResult();
           });
    if (!running)
      return running.takeError();
    node.setOutput(output, *running);
    return llvm::Error::success();
  };
  if (llvm::Error err = update(1, 3, centered->mean))
    return err;
  return update(2, 4, *var);
}

llvm::Error convertBatchNorm(NodeContext &node) {
  RankedTensorType type = node.inputType(0);
  if (!isFloat(type.getElementType()))
    return node.error("needs a floating-point input");
  for (size_t i = 1; i <= 4; ++i)
    if (!node.hasInput(i))
      return node.error("input " + llvm::Twine(i) + " is missing");
  if (node.attrInt("training_mode", 0) != 0)
    return convertBatchNormTraining(node);
  for (size_t i = 1; i < node.numOutputs(); ++i)
    if (node.wantsOutput(i))
      return node.error("output " + llvm::Twine(i) +
                        " (running or saved statistics) is only computed in "
                        "training; hatc imports opset < 14 BatchNormalization "
                        "in inference form");
  if (node.opset < 7 && node.hasAttr("is_test") &&
      node.attrInt("is_test", 0) == 0)
    return node.error("is_test=0 (training) is not supported");
  int64_t rank = type.getRank();
  double epsilon = node.attrFloat("epsilon", 1e-5f);
  SmallVector<Value> inputs = {node.input(0)};
  for (size_t i = 1; i <= 4; ++i)
    inputs.push_back(channelParam(node, i, rank));
  auto y = ew(
      node, inputs, type.getElementType(),
      [epsilon](OpBuilder &b, Location loc, ValueRange args) {
        Value x = args[0], scale = args[1], bias = args[2], mean = args[3],
              var = args[4];
        Value denom = b.create<math::SqrtOp>(
            loc, b.create<arith::AddFOp>(loc, var, cst(b, loc, var, epsilon)));
        Value v = b.create<arith::SubFOp>(loc, x, mean);
        v = b.create<arith::DivFOp>(loc, v, denom);
        v = b.create<arith::MulFOp>(loc, v, scale);
        return b.create<arith::AddFOp>(loc, v, bias).getResult();
      });
  if (!y)
    return y.takeError();
  node.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Error convertInstanceNorm(NodeContext &node) {
  RankedTensorType type = node.inputType(0);
  if (!isFloat(type.getElementType()))
    return node.error("needs a floating-point input");
  int64_t rank = type.getRank();
  if (rank < 3)
    return node.error("needs an input of rank 3 or more (N, C, D...)");
  SmallVector<int64_t> axes = allAxes(2, rank);
  double epsilon = node.attrFloat("epsilon", 1e-5f);
  auto centered = center(node, node.input(0), axes);
  if (!centered)
    return centered.takeError();
  auto inv = invStdDev(node, centered->diff, axes, epsilon);
  if (!inv)
    return inv.takeError();
  auto y = ew(node,
              {centered->diff, *inv, channelParam(node, 1, rank),
               channelParam(node, 2, rank)},
              type.getElementType(),
              [](OpBuilder &b, Location loc, ValueRange args) {
                Value v = b.create<arith::MulFOp>(loc, args[0], args[1]);
                v = b.create<arith::MulFOp>(loc, v, args[2]);
                return b.create<arith::AddFOp>(loc, v, args[3]).getResult();
              });
  if (!y)
    return y.takeError();
  node.setOutput(0, *y);
  return llvm::Error::success();
}

llvm::Error convertMeanVarianceNorm(NodeContext &node) {
  RankedTensorType type = node.inputType(0);
  Type element = type.getElementType();
  if (!isFloat(element))
    return node.error("needs a floating-point input");
  auto axes =
      normalizeAxes(node, node.attrInts("axes", {0, 2, 3}), type.getRank());
  if (!axes)
    return axes.takeError();
  Value x = node.input(0);
  double count = double(countOver(type.getShape(), *axes));
  Value sum = sumOver(node.b, node.loc, x, *axes, /*keepDims=*/true);
  Value squares =
      reduce(node.b, node.loc, x, *axes, /*keepDims=*/true, 0,
             [](OpBuilder &b, Location loc, ValueRange args) {
               Value sq = b.create<arith::MulFOp>(loc, args[0], args[0]);
               return b.create<arith::AddFOp>(loc, args[1], sq).getResult();
             });
  // (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9)
  auto y = ew(node, {x, sum, squares}, element,
              [count](OpBuilder &b, Location loc, ValueRange args) {
                Value n = cst(b, loc, args[0], count);
                Value mean = b.create<arith::DivFOp>(loc, args[1], n);
                Value meanSq = b.create<arith::DivFOp>(loc, args[2], n);
                Value var = b.create<arith::SubFOp>(
                    loc, meanSq, b.create<arith::MulFOp>(loc, mean, mean));
                Value std = b.create<math::SqrtOp>(loc, var);
                std = b.create<arith::AddFOp>(loc, std, cst(b, loc, std, 1e-9));
                Value d = b.create<arith::SubFOp>(loc, args[0], mean);
                return b.create<arith::DivFOp>(loc, d, std).getResult();
              });
  if (!y)
    return y.takeError();
  node.setOutput(0, *y);
  return llvm::Error::success();
}

/// LRN: x / (bias + alpha/size * sum of x^2 over a channel window)^beta.
/// The window sum reads x^2 padded along C through a map d1 + dk.
llvm::Error convertLRN(NodeContext &node) {
  OpBuilder &b = node.b;
  Location loc = node.loc;
  RankedTensorType type = node.inputType(0);
  Type element = type.getElementType();
  if (!isFloat(element))
    return node.error("needs a floating-point input");
  int64_t rank = type.getRank();
  if (rank < 2)
    return node.error("needs an input of rank 2 or more (N, C, ...)");
  if (!node.hasAttr("size"))
    return node.error("the 'size' attribute is required");
  int64_t size = node.attrInt("size", 1);
  if (size < 1)
    return node.error("size must be positive");
  double alpha = node.attrFloat("alpha", 1e-4f);
  double beta = node.attrFloat("beta", 0.75f);
  double bias = node.attrFloat("bias", 1.0f);
  Value x = node.input(0);
  auto squares =
      ew(node, {x}, element, [](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::MulFOp>(loc, args[0], args[0]).getResult();
      });
  if (!squares)
    return squares.takeError();
  int64_t before = (size - 1) / 2;
  int64_t after = size - 1 - before;
  SmallVector<OpFoldResult> low(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> high(rank, b.getIndexAttr(0));
  low[1] = b.getIndexAttr(before);
  high[1] = b.getIndexAttr(after);
  SmallVector<int64_t> paddedShape(type.getShape());
  paddedShape[1] += size - 1;
  Value padded = b.create<tensor::PadOp>(
      loc, RankedTensorType::get(paddedShape, element), *squares, low, high,
      scalarConstant(b, loc, element, 0));
  MLIRContext *context = b.getContext();
  SmallVector<AffineExpr> readExprs;
  for (int64_t i = 0; i < rank; ++i)
    readExprs.push_back(i == 1 ? getAffineDimExpr(1, context) +
                                     getAffineDimExpr(rank, context)
                               : getAffineDimExpr(i, context));
  SmallVector<AffineMap> maps = {
      AffineMap::get(rank + 1, 0, readExprs, context),
      AffineMap::get(rank + 1, 0, getAffineDimExpr(rank, context)),
      AffineMap::getMultiDimIdentityMap(rank + 1, context)
          .getMajorSubMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value window = emptyTensor(b, loc, {size}, element);
  Value acc = filledTensor(b, loc, type.getShape(), element, 0);
  auto sum = b.create<linalg::GenericOp>(
      loc, acc.getType(), ValueRange{padded, window}, ValueRange{acc}, maps,
      iterators, [](OpBuilder &b, Location loc, ValueRange args) {
        b.create<linalg::YieldOp>(
            loc, b.create<arith::AddFOp>(loc, args[2], args[0]).getResult());
      });
  auto y =
      ew(node, {x, sum.getResult(0)}, element,
         [=](OpBuilder &b, Location loc, ValueRange args) {
           Value scaled = b.create<arith::MulFOp>(
               loc, args[1], cst(b, loc, args[1], alpha / double(size)));
           Value base =
               b.create<arith::AddFOp>(loc, scaled, cst(b, loc, scaled, bias));
           Value p = b.create<math::PowFOp>(loc, base, cst(b, loc, base, beta));
           return b.create<arith::DivFOp>(loc, args[0], p).getResult();
         });
  if (!y)
    return y.takeError();
  node.setOutput(0, *y);
  return llvm::Error::success();
}

} // namespace

void registerReductionOps(ConverterRegistry &r) {
  auto addReduce = [&](StringRef name, ReduceKind kind) {
    r[name] = {[kind](NodeContext &node) { return convertReduce(node, kind); }};
  };
  addReduce("ReduceSum", ReduceKind::Sum);
  addReduce("ReduceMean", ReduceKind::Mean);
  addReduce("ReduceMax", ReduceKind::Max);
  addReduce("ReduceMin", ReduceKind::Min);
  addReduce("ReduceProd", ReduceKind::Prod);
  addReduce("ReduceL1", ReduceKind::L1);
  addReduce("ReduceL2", ReduceKind::L2);
  addReduce("ReduceLogSum", ReduceKind::LogSum);
  addReduce("ReduceLogSumExp", ReduceKind::LogSumExp);
  addReduce("ReduceSumSquare", ReduceKind::SumSquare);
  r["ArgMax"] = {[](NodeContext &node) { return convertArg(node, true); }};
  r["ArgMin"] = {[](NodeContext &node) { return convertArg(node, false); }};
  auto addSoftmax = [&](StringRef name, SoftmaxKind kind) {
    r[name] = {
        [kind](NodeContext &node) { return convertSoftmax(node, kind); }};
  };
  addSoftmax("Softmax", SoftmaxKind::Softmax);
  addSoftmax("LogSoftmax", SoftmaxKind::LogSoftmax);
  addSoftmax("Hardmax", SoftmaxKind::Hardmax);
  r["LayerNormalization"] = {convertLayerNorm, 17, 17};
  r["BatchNormalization"] = {convertBatchNorm};
  r["InstanceNormalization"] = {convertInstanceNorm};
  r["MeanVarianceNormalization"] = {convertMeanVarianceNorm, 9, 17};
  r["LRN"] = {convertLRN};
}

} // namespace hatc::frontend
