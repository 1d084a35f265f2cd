//===- Builders.cpp - IR helpers shared by the ONNX op converters ---------===//
#include "Importer.h"

#include "mlir/IR/AffineMap.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace hatc::frontend {

Value emptyTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                  Type elementType) {
  return b.create<tensor::EmptyOp>(loc, shape, elementType);
}

TypedAttr scalarAttr(Type type, double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return FloatAttr::get(floatType, value);
  auto intType = cast<IntegerType>(type);
  if (intType.getWidth() == 1)
    return IntegerAttr::get(intType, value != 0 ? 1 : 0);
  return IntegerAttr::get(intType, APInt(intType.getWidth(), int64_t(value),
                                         /*isSigned=*/true));
}

Value scalarConstant(OpBuilder &b, Location loc, Type type, double value) {
  return b.create<arith::ConstantOp>(loc, scalarAttr(type, value));
}

Value filledTensor(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Type elementType, double value) {
  Value empty = emptyTensor(b, loc, shape, elementType);
  Value scalar = scalarConstant(b, loc, elementType, value);
  return b.create<linalg::FillOp>(loc, scalar, empty).getResult(0);
}

double lowestValue(Type type) {
  if (isa<FloatType>(type))
    return -std::numeric_limits<double>::infinity();
  unsigned width = cast<IntegerType>(type).getWidth();
  if (width == 1)
    return 0;
  return double(APInt::getSignedMinValue(width).getSExtValue());
}

double highestValue(Type type) {
  if (isa<FloatType>(type))
    return std::numeric_limits<double>::infinity();
  unsigned width = cast<IntegerType>(type).getWidth();
  if (width == 1)
    return 1;
  return double(APInt::getSignedMaxValue(width).getSExtValue());
}

std::optional<SmallVector<int64_t>>
broadcastShapes(ArrayRef<SmallVector<int64_t>> shapes) {
  size_t rank = 0;
  for (const auto &shape : shapes)
    rank = std::max(rank, shape.size());
  SmallVector<int64_t> result(rank, 1);
  for (const auto &shape : shapes) {
    size_t offset = rank - shape.size();
    for (size_t i = 0; i < shape.size(); ++i) {
      int64_t &dim = result[offset + i];
      if (shape[i] == dim || shape[i] == 1)
        continue;
      if (dim != 1)
        return std::nullopt;
      dim = shape[i];
    }
  }
  return result;
}

llvm::Expected<Value> elementwise(OpBuilder &b, Location loc,
                                  ValueRange inputs, Type resultElementType,
                                  const BodyBuilder &body,
                                  std::optional<ArrayRef<int64_t>> resultShape) {
  SmallVector<SmallVector<int64_t>> shapes;
  for (Value input : inputs)
    shapes.emplace_back(cast<RankedTensorType>(input.getType()).getShape());
  if (resultShape)
    shapes.emplace_back(*resultShape);
  auto shape = broadcastShapes(shapes);
  if (!shape) {
    std::string text;
    for (const auto &s : shapes) {
      text += text.empty() ? "" : " and ";
      text += "[";
      for (size_t i = 0; i < s.size(); ++i)
        text += (i ? "," : "") + std::to_string(s[i]);
      text += "]";
    }
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "shapes " + text + " do not broadcast");
  }
  int64_t rank = shape->size();
  MLIRContext *context = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs) {
    ArrayRef<int64_t> inShape =
        cast<RankedTensorType>(input.getType()).getShape();
    int64_t offset = rank - int64_t(inShape.size());
    SmallVector<AffineExpr> exprs;
    for (int64_t i = 0; i < int64_t(inShape.size()); ++i)
      exprs.push_back(inShape[i] == 1 && (*shape)[offset + i] != 1
                          ? getAffineConstantExpr(0, context)
                          : getAffineDimExpr(offset + i, context));
    maps.push_back(AffineMap::get(rank, 0, exprs, context));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  Value init = emptyTensor(b, loc, *shape, resultElementType);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, init.getType(), inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        nested.create<linalg::YieldOp>(nestedLoc, result);
      });
  return generic.getResult(0);
}

Value reduce(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
             bool keepDims, double init, const BodyBuilder &combine) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  MLIRContext *context = b.getContext();
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = llvm::is_contained(axes, i);
    iterators.push_back(reduced ? utils::IteratorType::reduction
                                : utils::IteratorType::parallel);
    if (reduced && !keepDims)
      continue;
    outShape.push_back(reduced ? 1 : type.getDimSize(i));
    outExprs.push_back(reduced ? getAffineConstantExpr(0, context)
                               : getAffineDimExpr(i, context));
  }
  Value acc = filledTensor(b, loc, outShape, type.getElementType(), init);
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank),
                                 AffineMap::get(rank, 0, outExprs, context)};
  auto generic = b.create<linalg::GenericOp>(
      loc, acc.getType(), ValueRange{input}, ValueRange{acc}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        nested.create<linalg::YieldOp>(nestedLoc,
                                       combine(nested, nestedLoc, args));
      });
  return generic.getResult(0);
}

Value addValues(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::AddFOp>(loc, x, y);
  return b.create<arith::AddIOp>(loc, x, y);
}

Value subValues(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::SubFOp>(loc, x, y);
  return b.create<arith::SubIOp>(loc, x, y);
}

Value mulValues(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::MulFOp>(loc, x, y);
  return b.create<arith::MulIOp>(loc, x, y);
}

Value divValues(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::DivFOp>(loc, x, y);
  return b.create<arith::DivSIOp>(loc, x, y);
}

Value maxValues(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::MaximumFOp>(loc, x, y);
  return b.create<arith::MaxSIOp>(loc, x, y);
}

Value minValues(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::MinimumFOp>(loc, x, y);
  return b.create<arith::MinSIOp>(loc, x, y);
}

Value matmul2d(OpBuilder &b, Location loc, Value lhs, Value rhs) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  Value acc =
      filledTensor(b, loc, {lhsType.getDimSize(0), rhsType.getDimSize(1)},
                   lhsType.getElementType(), 0);
  return b.create<linalg::MatmulOp>(loc, ValueRange{lhs, rhs}, ValueRange{acc})
      .getResult(0);
}

Value transpose(OpBuilder &b, Location loc, Value input,
                ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(input.getType());
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity &= perm[i] == int64_t(i);
  if (identity)
    return input;
  SmallVector<int64_t> shape;
  for (int64_t p : perm)
    shape.push_back(type.getDimSize(p));
  Value init = emptyTensor(b, loc, shape, type.getElementType());
  return b.create<linalg::TransposeOp>(loc, input, init, perm).getResult()[0];
}

Value reshape(OpBuilder &b, Location loc, Value input,
              ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getShape() == shape)
    return input;
  Type element = type.getElementType();
  auto all = [](int64_t rank) {
    ReassociationIndices indices;
    for (int64_t i = 0; i < rank; ++i)
      indices.push_back(i);
    return indices;
  };
  Value flat = input;
  int64_t count = type.getNumElements();
  if (type.getRank() == 0) {
    flat = b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get({1}, element), input,
        SmallVector<ReassociationIndices>{});
  } else if (type.getRank() > 1) {
    flat = b.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({count}, element), input,
        SmallVector<ReassociationIndices>{all(type.getRank())});
  }
  if (shape.size() == 1)
    return flat;
  if (shape.empty())
    return b.create<tensor::CollapseShapeOp>(
        loc, RankedTensorType::get({}, element), flat,
        SmallVector<ReassociationIndices>{});
  return b.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get(shape, element), flat,
      SmallVector<ReassociationIndices>{all(shape.size())});
}

Value convertScalar(OpBuilder &b, Location loc, Value value, Type to,
                    bool fromUnsigned, bool toUnsigned) {
  Type from = value.getType();
  if (from == to)
    return value;
  auto fromFloat = dyn_cast<FloatType>(from);
  auto toFloat = dyn_cast<FloatType>(to);
  if (fromFloat && toFloat)
    return fromFloat.getWidth() < toFloat.getWidth()
               ? b.create<arith::ExtFOp>(loc, to, value).getResult()
               : b.create<arith::TruncFOp>(loc, to, value).getResult();
  if (toFloat) {
    if (from.isInteger(1) || fromUnsigned)
      return b.create<arith::UIToFPOp>(loc, to, value);
    return b.create<arith::SIToFPOp>(loc, to, value);
  }
  if (to.isInteger(1)) {
    Value zero = scalarConstant(b, loc, from, 0);
    if (fromFloat)
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, value,
                                     zero);
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, value, zero);
  }
  unsigned toWidth = cast<IntegerType>(to).getWidth();
  if (fromFloat && toUnsigned && toWidth < 64) {
    // Through i64, so that out-of-range values wrap instead of poisoning.
    Value wide = b.create<arith::FPToSIOp>(loc, b.getI64Type(), value);
    return b.create<arith::TruncIOp>(loc, to, wide);
  }
  if (fromFloat && toUnsigned)
    return b.create<arith::FPToUIOp>(loc, to, value);
  if (fromFloat)
    return b.create<arith::FPToSIOp>(loc, to, value);
  unsigned fromWidth = cast<IntegerType>(from).getWidth();
  if (fromWidth == 1 || (fromUnsigned && fromWidth < toWidth))
    return b.create<arith::ExtUIOp>(loc, to, value);
  if (fromWidth < toWidth)
    return b.create<arith::ExtSIOp>(loc, to, value);
  return b.create<arith::TruncIOp>(loc, to, value);
}

Value castTensor(OpBuilder &b, Location loc, Value input, Type to,
                 bool fromUnsigned, bool toUnsigned) {
  auto type = cast<RankedTensorType>(input.getType());
  if (type.getElementType() == to)
    return input;
  auto result =
      elementwise(b, loc, ValueRange{input}, to,
                  [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
                    return convertScalar(nested, nestedLoc, args[0], to,
                                         fromUnsigned, toUnsigned);
                  });
  // One input always broadcasts with itself.
  return cantFail(std::move(result));
}

std::vector<int64_t> intsOf(DenseElementsAttr attr) {
  std::vector<int64_t> values;
  Type element = attr.getElementType();
  if (isa<FloatType>(element)) {
    for (const APFloat &v : attr.getValues<APFloat>())
      values.push_back(int64_t(v.convertToDouble()));
    return values;
  }
  bool boolean = element.isInteger(1);
  for (const APInt &v : attr.getValues<APInt>())
    values.push_back(boolean ? int64_t(v.getZExtValue()) : v.getSExtValue());
  return values;
}

std::vector<double> doublesOf(DenseElementsAttr attr) {
  std::vector<double> values;
  Type element = attr.getElementType();
  if (auto floatType = dyn_cast<FloatType>(element)) {
    for (APFloat v : attr.getValues<APFloat>()) {
      bool lost = false;
      v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
      values.push_back(v.convertToDouble());
    }
    return values;
  }
  for (int64_t v : intsOf(attr))
    values.push_back(double(v));
  return values;
}

DenseElementsAttr intsAttr(Type elementType, ArrayRef<int64_t> shape,
                           ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get(shape, elementType);
  if (isa<FloatType>(elementType)) {
    SmallVector<double> asDoubles(values.begin(), values.end());
    return doublesAttr(elementType, shape, asDoubles);
  }
  unsigned width = cast<IntegerType>(elementType).getWidth();
  if (width == 1) {
    SmallVector<bool> bits;
    for (int64_t v : values)
      bits.push_back(v != 0);
    return DenseElementsAttr::get(type, bits);
  }
  SmallVector<APInt> ints;
  for (int64_t v : values)
    ints.push_back(APInt(width, v, /*isSigned=*/true));
  return DenseElementsAttr::get(type, ints);
}

DenseElementsAttr doublesAttr(Type elementType, ArrayRef<int64_t> shape,
                              ArrayRef<double> values) {
  auto type = RankedTensorType::get(shape, elementType);
  auto floatType = dyn_cast<FloatType>(elementType);
  if (!floatType) {
    SmallVector<int64_t> ints;
    for (double v : values)
      ints.push_back(int64_t(v));
    return intsAttr(elementType, shape, ints);
  }
  SmallVector<APFloat> floats;
  for (double v : values) {
    APFloat f(v);
    bool lost = false;
    f.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
              &lost);
    floats.push_back(f);
  }
  return DenseElementsAttr::get(type, floats);
}

} // namespace hatc::frontend
