//===- Scatter.cpp - ONNX CumSum, Scatter*, GridSample, Det, ... ----------===//
//
// Every op here is a gather over its output: each result element is
// computed from its coordinates (linalg.index) by reading its inputs with
// tensor.extract.
//
//   CumSum          -> a generic with one extra reduction dim j over the
//                      axis, adding x[.., j, ..] where j precedes i.
//   ScatterElements -> a generic over data's shape (initialized with data)
//   Scatter, ScatterND with extra reduction dims over the update positions;
//                      an update whose index hits the element replaces or
//                      combines with the accumulator, in update order (so
//                      the last of duplicate indices wins for "none").
//   GridSample      -> per output element, the 1/4/16 taps of X with their
//                      weights, padding handled on the coordinates.
//   ReverseSequence -> x[b, len[b]-1-t] for t < len[b].
//   Det             -> per matrix, Gaussian elimination with partial
//                      pivoting unrolled in the body (closed form <= 3x3).
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

#include "mlir/IR/AffineMap.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;

namespace hatc::frontend {

namespace {

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

/// Terse scalar arithmetic for generic bodies.
struct Arith {
  OpBuilder &b;
  Location loc;

  Value index(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value cst(Type type, double v) { return scalarConstant(b, loc, type, v); }
  Value toIndex(Value v) {
    return b.create<arith::IndexCastOp>(loc, b.getIndexType(), v);
  }
  Value cmpi(arith::CmpIPredicate p, Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, p, x, y);
  }
  Value cmpf(arith::CmpFPredicate p, Value x, Value y) {
    return b.create<arith::CmpFOp>(loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return b.create<arith::SelectOp>(loc, c, x, y);
  }
  Value andi(Value x, Value y) {
    if (!x)
      return y;
    return b.create<arith::AndIOp>(loc, x, y);
  }
  bool isFloat(Value v) { return isa<FloatType>(v.getType()); }
  Value add(Value x, Value y) {
    if (isFloat(x))
      return b.create<arith::AddFOp>(loc, x, y);
    return b.create<arith::AddIOp>(loc, x, y);
  }
  Value sub(Value x, Value y) {
    if (isFloat(x))
      return b.create<arith::SubFOp>(loc, x, y);
    return b.create<arith::SubIOp>(loc, x, y);
  }
  Value mul(Value x, Value y) {
    if (isFloat(x))
      return b.create<arith::MulFOp>(loc, x, y);
    return b.create<arith::MulIOp>(loc, x, y);
  }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }
  Value neg(Value x) { return b.create<arith::NegFOp>(loc, x); }
  Value abs(Value x) { return b.create<math::AbsFOp>(loc, x); }
  Value floor(Value x) { return b.create<math::FloorOp>(loc, x); }
  /// Clamps an index-typed value to [0, size - 1].
  Value clampIndex(Value i, int64_t size) {
    Value lo = index(0), hi = index(size - 1);
    i = select(cmpi(arith::CmpIPredicate::slt, i, lo), lo, i);
    return select(cmpi(arith::CmpIPredicate::sgt, i, hi), hi, i);
  }
  /// An integer index element as `index`, negative values counted from
  /// `size`.
  Value wrapIndex(Value v, int64_t size) {
    Value i = toIndex(v);
    Value negative = cmpi(arith::CmpIPredicate::slt, i, index(0));
    return select(negative, b.create<arith::AddIOp>(loc, i, index(size)), i);
  }
};

using ScanBody = std::function<Value(
    OpBuilder &, Location, ArrayRef<Value> coords, ValueRange args, Value acc)>;

/// A linalg.generic whose result has `init`'s shape (its dims are the
/// leading, parallel loops) and that also iterates the trailing reduction
/// dims `extra`; `inputs` are read through `inputMaps` over all the dims.
/// When no input covers the extra dims, `addExtent` adds a filled operand
/// of shape `extra` that only gives the loops their sizes. The body gets
/// every loop's coordinate, the input scalars and the accumulator.
Value scanGeneric(OpBuilder &b, Location loc, Value init,
                  ArrayRef<int64_t> extra, ValueRange inputs,
                  ArrayRef<AffineMap> inputMaps, bool addExtent,
                  const ScanBody &body) {
  auto type = cast<RankedTensorType>(init.getType());
  int64_t rank = type.getRank(), loops = rank + extra.size();
  MLIRContext *context = b.getContext();
  SmallVector<Value> operands(inputs);
  SmallVector<AffineMap> maps(inputMaps);
  if (addExtent && !extra.empty()) {
    operands.push_back(filledTensor(b, loc, extra, b.getI8Type(), 0));
    SmallVector<AffineExpr> exprs;
    for (int64_t d = rank; d < loops; ++d)
      exprs.push_back(getAffineDimExpr(d, context));
    maps.push_back(AffineMap::get(loops, 0, exprs, context));
  }
  size_t numInputs = inputs.size();
  SmallVector<AffineExpr> outExprs;
  for (int64_t d = 0; d < rank; ++d)
    outExprs.push_back(getAffineDimExpr(d, context));
  maps.push_back(AffineMap::get(loops, 0, outExprs, context));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.append(extra.size(), utils::IteratorType::reduction);
  auto generic = b.create<linalg::GenericOp>(
      loc, type, operands, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        SmallVector<Value> coords;
        for (int64_t d = 0; d < loops; ++d)
          coords.push_back(nested.create<linalg::IndexOp>(nestedLoc, d));
        Value result = body(nested, nestedLoc, coords,
                            args.take_front(numInputs), args.back());
        nested.create<linalg::YieldOp>(nestedLoc, result);
      });
  return generic.getResult(0);
}

/// A parallel linalg.generic over `shape` computing each element from its
/// coordinates (everything it needs is read with tensor.extract).
Value indexGeneric(
    OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type elementType,
    const std::function<Value(OpBuilder &, Location, ArrayRef<Value>)> &body) {
  Value init = emptyTensor(b, loc, shape, elementType);
  return scanGeneric(b, loc, init, {}, {}, {}, false,
                     [&](OpBuilder &nested, Location nestedLoc,
                         ArrayRef<Value> coords, ValueRange,
                         Value) { return body(nested, nestedLoc, coords); });
}

//===----------------------------------------------------------------------===//
// CumSum
//===----------------------------------------------------------------------===//

llvm::Error convertCumSum(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  if (rank == 0)
    return node.error("its input is a scalar; CumSum needs rank >= 1");
  auto axisValues = node.constantInts(1, "axis");
  if (!axisValues)
    return axisValues.takeError();
  if (axisValues->size() != 1)
    return node.error(
        llvm::formatv("axis has {0} values; expected one", axisValues->size()));
  auto axisOr = node.normalizeAxis((*axisValues)[0], rank);
  if (!axisOr)
    return axisOr.takeError();
  int64_t axis = *axisOr;
  bool exclusive = node.attrInt("exclusive", 0) != 0;
  bool reverse = node.attrInt("reverse", 0) != 0;
  Type type = node.inputElementType(0);
  if (!isa<FloatType, IntegerType>(type) || type.isInteger(1))
    return node.error("CumSum of bool is not supported");

  // y[.., i, ..] = sum over j of x[.., j, ..] where j is before i (after
  // it when reversed; i itself unless exclusive).
  MLIRContext *context = node.context();
  SmallVector<AffineExpr> exprs;
  for (int64_t d = 0; d < rank; ++d)
    exprs.push_back(getAffineDimExpr(d == axis ? rank : d, context));
  AffineMap xMap = AffineMap::get(rank + 1, 0, exprs, context);
  arith::CmpIPredicate pred =
      reverse
          ? (exclusive ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::sge)
          : (exclusive ? arith::CmpIPredicate::slt : arith::CmpIPredicate::sle);
  Value init = filledTensor(node.b, node.loc, shape, type, 0);
  node.setOutput(
      0, scanGeneric(node.b, node.loc, init, {shape[axis]},
                     ValueRange{node.input(0)}, {xMap}, false,
                     [&](OpBuilder &b, Location loc, ArrayRef<Value> coords,
                         ValueRange args, Value acc) {
                       Arith a{b, loc};
                       Value take = a.cmpi(pred, coords[rank], coords[axis]);
                       Value x = a.select(take, args[0], a.cst(type, 0));
                       return a.add(acc, x);
                     }));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// ScatterElements, Scatter, ScatterND
//===----------------------------------------------------------------------===//

using Combine = std::function<Value(Arith &, Value acc, Value update)>;

/// The reduction attribute as a combiner of the accumulator with an update.
llvm::Expected<Combine> reductionOf(NodeContext &node) {
  std::string reduction = node.attrString("reduction", "none");
  if (reduction == "none")
    return Combine([](Arith &, Value, Value update) { return update; });
  if (reduction == "add")
    return Combine(
        [](Arith &a, Value acc, Value update) { return a.add(acc, update); });
  if (reduction == "mul")
    return Combine(
        [](Arith &a, Value acc, Value update) { return a.mul(acc, update); });
  if (reduction == "max" || reduction == "min") {
    bool max = reduction == "max";
    return Combine([max](Arith &a, Value acc, Value update) -> Value {
      if (a.isFloat(acc))
        return max ? a.b.create<arith::MaximumFOp>(a.loc, acc, update)
                         .getResult()
                   : a.b.create<arith::MinimumFOp>(a.loc, acc, update)
                         .getResult();
      return max ? a.b.create<arith::MaxSIOp>(a.loc, acc, update).getResult()
                 : a.b.create<arith::MinSIOp>(a.loc, acc, update).getResult();
    });
  }
  return node.error("reduction '" + reduction +
                    "' is not supported (none, add, mul, max, min)");
}

/// ScatterElements (and Scatter, opset 9-10): for each data element c, the
/// updates at positions p = c with p[axis] = k (k over indices' axis dim)
/// whose index equals c[axis].
llvm::Error convertScatterElements(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  ArrayRef<int64_t> indicesShape = node.inputShape(1);
  int64_t rank = in.size();
  if (rank == 0)
    return node.error("its data is a scalar; it needs rank >= 1");
  if (node.inputShape(2) != indicesShape)
    return node.error("indices " + shapeText(indicesShape) + " and updates " +
                      shapeText(node.inputShape(2)) + " differ in shape");
  if (int64_t(indicesShape.size()) != rank)
    return node.error("data " + shapeText(in) + " and indices " +
                      shapeText(indicesShape) + " differ in rank");
  auto axisOr = node.normalizeAxis(node.attrInt("axis", 0), rank);
  if (!axisOr)
    return axisOr.takeError();
  int64_t axis = *axisOr;
  for (int64_t d = 0; d < rank; ++d)
    if (d != axis && indicesShape[d] > in[d])
      return node.error(
          llvm::formatv("indices dim {0} ({1}) is larger than data's ({2})", d,
                        indicesShape[d], in[d]));
  auto combine = reductionOf(node);
  if (!combine)
    return combine.takeError();
  if (node.inputType(1).getNumElements() == 0) {
    node.setOutput(0, node.input(0));
    return llvm::Error::success();
  }
  Value indices = node.input(1), updates = node.input(2);
  SmallVector<int64_t> iShape(indicesShape), dShape(in);
  node.setOutput(
      0,
      scanGeneric(
          node.b, node.loc, node.input(0), {indicesShape[axis]}, {}, {}, true,
          [&](OpBuilder &b, Location loc, ArrayRef<Value> coords, ValueRange,
              Value acc) {
            Arith a{b, loc};
            Value valid;
            SmallVector<Value> at;
            for (int64_t d = 0; d < rank; ++d) {
              if (d == axis) {
                at.push_back(coords[rank]);
                continue;
              }
              at.push_back(coords[d]);
              if (iShape[d] == dShape[d])
                continue;
              // Data elements beyond the indices' extent get no update.
              valid = a.andi(valid, a.cmpi(arith::CmpIPredicate::slt, coords[d],
                                           a.index(iShape[d])));
              at.back() = a.clampIndex(coords[d], iShape[d]);
            }
            Value index = b.create<tensor::ExtractOp>(loc, indices, at);
            Value hit = a.andi(valid, a.cmpi(arith::CmpIPredicate::eq,
                                             a.wrapIndex(index, dShape[axis]),
                                             coords[axis]));
            Value update = b.create<tensor::ExtractOp>(loc, updates, at);
            return a.select(hit, (*combine)(a, acc, update), acc);
          }));
  return llvm::Error::success();
}

/// ScatterND: for each data element c, the update rows p (over indices'
/// leading dims) whose index tuple equals c's leading k coordinates.
llvm::Error convertScatterND(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  ArrayRef<int64_t> indicesShape = node.inputShape(1);
  ArrayRef<int64_t> updatesShape = node.inputShape(2);
  int64_t rank = in.size(), q = indicesShape.size();
  if (rank == 0 || q == 0)
    return node.error("its data and indices need rank >= 1");
  int64_t k = indicesShape.back();
  if (k < 1 || k > rank)
    return node.error(llvm::formatv(
        "index tuples of length {0} do not fit data of rank {1}", k, rank));
  SmallVector<int64_t> expected(indicesShape.drop_back());
  llvm::append_range(expected, in.drop_front(k));
  if (updatesShape != ArrayRef<int64_t>(expected))
    return node.error("updates " + shapeText(updatesShape) +
                      " should have shape " + shapeText(expected) +
                      " (indices' leading dims, then data's trailing dims)");
  auto combine = reductionOf(node);
  if (!combine)
    return combine.takeError();
  if (node.inputType(2).getNumElements() == 0) {
    node.setOutput(0, node.input(0));
    return llvm::Error::success();
  }
  // Loops: data dims c (parallel), then update rows p (reduction).
  MLIRContext *context = node.context();
  int64_t loops = rank + q - 1;
  SmallVector<AffineExpr> exprs;
  for (int64_t d = rank; d < loops; ++d)
    exprs.push_back(getAffineDimExpr(d, context));
  for (int64_t d = k; d < rank; ++d)
    exprs.push_back(getAffineDimExpr(d, context));
  AffineMap updatesMap = AffineMap::get(loops, 0, exprs, context);
  Value indices = node.input(1);
  SmallVector<int64_t> dShape(in);
  node.setOutput(
      0, scanGeneric(node.b, node.loc, node.input(0), indicesShape.drop_back(),
                     ValueRange{node.input(2)}, {updatesMap}, false,
                     [&](OpBuilder &b, Location loc, ArrayRef<Value> coords,
                         ValueRange args, Value acc) {
                       Arith a{b, loc};
                       SmallVector<Value> at(coords.drop_front(rank));
                       at.push_back(Value());
                       Value hit;
                       for (int64_t j = 0; j < k; ++j) {
                         at.back() = a.index(j);
                         Value index =
                             b.create<tensor::ExtractOp>(loc, indices, at);
                         hit = a.andi(hit, a.cmpi(arith::CmpIPredicate::eq,
                                                  a.wrapIndex(index, dShape[j]),
                                                  coords[j]));
                       }
                       return a.select(hit, (*combine)(a, acc, args[0]), acc);
                     }));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// GridSample
//===----------------------------------------------------------------------===//

/// GridSample's options.
struct GridSampleSpec {
  std::string mode, padding;
  bool alignCorners;
  int64_t height, width;
  Type type;
};

/// One GridSample output element (coords: n, c, h, w) of X `x` sampled at
/// grid `g`'s point (n, h, w), as PyTorch's grid_sample computes it.
Value sampleGrid(OpBuilder &b, Location loc, const GridSampleSpec &spec,
                 Value x, Value g, ArrayRef<Value> coords) {
  const std::string &mode = spec.mode, &padding = spec.padding;
  bool alignCorners = spec.alignCorners;
  int64_t height = spec.height, width = spec.width;
  Type type = spec.type;
  Arith a{b, loc};
  auto c = [&](double v) { return a.cst(type, v); };
  auto minf = [&](Value p, Value q) {
    return a.select(a.cmpf(arith::CmpFPredicate::OLT, p, q), p, q);
  };
  auto maxf = [&](Value p, Value q) {
    return a.select(a.cmpf(arith::CmpFPredicate::OGT, p, q), p, q);
  };
  // Grid value in [-1, 1] -> pixel coordinate.
  auto unnormalize = [&](Value v, int64_t size) {
    Value one = c(1);
    if (alignCorners)
      return a.mul(a.div(a.add(v, one), c(2)), c(size - 1));
    return a.div(a.sub(a.mul(a.add(v, one), c(size)), one), c(2));
  };
  auto clip = [&](Value v, int64_t size) {
    return minf(maxf(v, c(0)), c(size - 1));
  };
  auto reflect = [&](Value v, int64_t twiceLow, int64_t twiceHigh) {
    if (twiceLow == twiceHigh)
      return c(0);
    double low = twiceLow / 2.0, span = (twiceHigh - twiceLow) / 2.0;
    Value t = a.abs(a.sub(v, c(low)));
    Value extra = b.create<arith::RemFOp>(loc, t, c(span));
    Value flips = a.floor(a.div(t, c(span)));
    Value odd = a.cmpf(arith::CmpFPredicate::OEQ,
                       b.create<arith::RemFOp>(loc, flips, c(2)), c(1));
    return a.select(odd, a.add(a.sub(c(span), extra), c(low)),
                    a.add(extra, c(low)));
  };
  // Padding applied to a coordinate.
  auto pad = [&](Value v, int64_t size) {
    if (padding == "border")
      return clip(v, size);
    if (padding == "reflection") {
      v = alignCorners ? reflect(v, 0, 2 * (size - 1))
                       : reflect(v, -1, 2 * size - 1);
      return clip(v, size);
    }
    return v;
  };
  // X at integral (float) coordinates; 0 outside.
  auto read = [&](Value fx, Value fy) {
    Value inside = a.cmpf(arith::CmpFPredicate::OGE, fx, c(0));
    inside =
        a.andi(inside, a.cmpf(arith::CmpFPredicate::OLE, fx, c(width - 1)));
    inside = a.andi(inside, a.cmpf(arith::CmpFPredicate::OGE, fy, c(0)));
    inside =
        a.andi(inside, a.cmpf(arith::CmpFPredicate::OLE, fy, c(height - 1)));
    auto toIndex = [&](Value v, int64_t size) {
      // A NaN or out-of-range coordinate reads element 0 (then
      // masked).
      Value safe =
          a.select(a.cmpf(arith::CmpFPredicate::OGE, v, c(0)), v, c(0));
      safe = minf(safe, c(size - 1));
      return a.toIndex(b.create<arith::FPToSIOp>(loc, b.getI64Type(), safe));
    };
    Value v = b.create<tensor::ExtractOp>(loc, x,
                                          ValueRange{coords[0], coords[1],
                                                     toIndex(fy, height),
                                                     toIndex(fx, width)});
    return a.select(inside, v, c(0));
  };

  Value zero = a.index(0), one = a.index(1);
  Value gx = b.create<tensor::ExtractOp>(
      loc, g, ValueRange{coords[0], coords[2], coords[3], zero});
  Value gy = b.create<tensor::ExtractOp>(
      loc, g, ValueRange{coords[0], coords[2], coords[3], one});
  gx = convertScalar(b, loc, gx, type);
  gy = convertScalar(b, loc, gy, type);
  Value ix = unnormalize(gx, width), iy = unnormalize(gy, height);

  if (mode == "nearest") {
    ix = b.create<math::RoundEvenOp>(loc, pad(ix, width));
    iy = b.create<math::RoundEvenOp>(loc, pad(iy, height));
    return read(ix, iy);
  }
  if (mode == "bilinear") {
    ix = pad(ix, width);
    iy = pad(iy, height);
    Value x0 = a.floor(ix), y0 = a.floor(iy);
    Value x1 = a.add(x0, c(1)), y1 = a.add(y0, c(1));
    Value wx1 = a.sub(ix, x0), wx0 = a.sub(x1, ix);
    Value wy1 = a.sub(iy, y0), wy0 = a.sub(y1, iy);
    Value sum = a.mul(read(x0, y0), a.mul(wx0, wy0));
    sum = a.add(sum, a.mul(read(x1, y0), a.mul(wx1, wy0)));
    sum = a.add(sum, a.mul(read(x0, y1), a.mul(wx0, wy1)));
    return a.add(sum, a.mul(read(x1, y1), a.mul(wx1, wy1)));
  }
  // Bicubic: 4x4 taps around floor(coordinate), padding per tap,
  // convolution coefficients with A = -0.75.
  const double A = -0.75;
  auto near = [&](Value t) { // |t| <= 1
    return a.add(a.mul(a.mul(a.sub(a.mul(c(A + 2), t), c(A + 3)), t), t), c(1));
  };
  auto far = [&](Value t) { // 1 < |t| < 2
    Value r = a.sub(a.mul(c(A), t), c(5 * A));
    r = a.add(a.mul(r, t), c(8 * A));
    return a.sub(a.mul(r, t), c(4 * A));
  };
  auto coefficients = [&](Value t) {
    Value u = a.sub(c(1), t);
    return SmallVector<Value>{far(a.add(t, c(1))), near(t), near(u),
                              far(a.add(u, c(1)))};
  };
  Value x0 = a.floor(ix), y0 = a.floor(iy);
  SmallVector<Value> wx = coefficients(a.sub(ix, x0));
  SmallVector<Value> wy = coefficients(a.sub(iy, y0));
  Value result;
  for (int64_t j = 0; j < 4; ++j) {
    Value ty = b.create<math::TruncOp>(loc, pad(a.add(y0, c(j - 1)), height));
    Value row;
    for (int64_t i = 0; i < 4; ++i) {
      Value tx = b.create<math::TruncOp>(loc, pad(a.add(x0, c(i - 1)), width));
      Value term = a.mul(read(tx, ty), wx[i]);
      row = row ? a.add(row, term) : term;
    }
    Value term = a.mul(row, wy[j]);
    result = result ? a.add(result, term) : term;
  }
  return result;
}

/// GridSample (opset 16, 4-D X): as PyTorch's grid_sample, which the ONNX
/// definition follows.
llvm::Error convertGridSample(NodeContext &node) {
  ArrayRef<int64_t> in = node.inputShape(0);
  ArrayRef<int64_t> grid = node.inputShape(1);
  if (in.size() != 4)
    return node.error("X " + shapeText(in) +
                      " is not 4-D (N, C, H, W); only 2-D sampling is "
                      "supported");
  if (grid.size() != 4 || grid[0] != in[0] || grid[3] != 2)
    return node.error("grid " + shapeText(grid) + " should be (N, H_out, " +
                      "W_out, 2) with N = " + std::to_string(in[0]));
  Type type = node.inputElementType(0);
  if (!isa<FloatType>(type))
    return node.error("X of a non-float type is not supported");
  std::string mode = node.attrString("mode", "bilinear");
  if (mode == "linear")
    mode = "bilinear";
  if (mode == "cubic")
    mode = "bicubic";
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
    return node.error("mode '" + mode +
                      "' is not supported (bilinear, nearest, bicubic)");
  std::string padding = node.attrString("padding_mode", "zeros");
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return node.error("padding_mode '" + padding +
                      "' is not supported (zeros, border, reflection)");
  bool alignCorners = node.attrInt("align_corners", 0) != 0;
  int64_t height = in[2], width = in[3];
  if (height == 0 || width == 0)
    return node.error("X has an empty spatial dim");

  GridSampleSpec spec{mode, padding, alignCorners, height, width, type};
  Value x = node.input(0), g = node.input(1);
  SmallVector<int64_t> shape{in[0], in[1], grid[1], grid[2]};
  node.setOutput(
      0, indexGeneric(node.b, node.loc, shape, type,
                      [&](OpBuilder &b, Location loc, ArrayRef<Value> coords) {
                        return sampleGrid(b, loc, spec, x, g, coords);
                      }));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// ReverseSequence, Det
//===----------------------------------------------------------------------===//

llvm::Error convertReverseSequence(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  if (rank < 2)
    return node.error("its input has rank " + std::to_string(rank) +
                      "; ReverseSequence needs rank >= 2");
  int64_t batchAxis = node.attrInt("batch_axis", 1);
  int64_t timeAxis = node.attrInt("time_axis", 0);
  if (!((batchAxis == 0 && timeAxis == 1) || (batchAxis == 1 && timeAxis == 0)))
    return node.error(llvm::formatv(
        "batch_axis {0} and time_axis {1} must be 0 and 1 in some order",
        batchAxis, timeAxis));
  if (node.inputShape(1) != ArrayRef<int64_t>{shape[batchAxis]})
    return node.error("sequence_lens " + shapeText(node.inputShape(1)) +
                      " should be [" + std::to_string(shape[batchAxis]) + "]");
  int64_t steps = shape[timeAxis];
  if (steps == 0 || shape[batchAxis] == 0) {
    node.setOutput(0, node.input(0));
    return llvm::Error::success();
  }
  Value x = node.input(0), lens = node.input(1);
  node.setOutput(
      0,
      indexGeneric(node.b, node.loc, shape, node.inputElementType(0),
                   [&](OpBuilder &b, Location loc, ArrayRef<Value> coords) {
                     Arith a{b, loc};
                     Value t = coords[timeAxis];
                     Value len = a.toIndex(b.create<tensor::ExtractOp>(
                         loc, lens, ValueRange{coords[batchAxis]}));
                     Value reversed = b.create<arith::SubIOp>(
                         loc, b.create<arith::SubIOp>(loc, len, a.index(1)), t);
                     Value inside = a.cmpi(arith::CmpIPredicate::slt, t, len);
                     SmallVector<Value> source(coords);
                     source[timeAxis] =
                         a.clampIndex(a.select(inside, reversed, t), steps);
                     return b.create<tensor::ExtractOp>(loc, x, source);
                   }));
  return llvm::Error::success();
}

/// The determinant of the m x m matrix `e` (row-major scalars).
Value determinant(Arith &a, SmallVector<Value> e, int64_t m) {
  auto at = [&](int64_t i, int64_t j) -> Value & { return e[i * m + j]; };
  if (m == 1)
    return at(0, 0);
  if (m == 2)
    return a.sub(a.mul(at(0, 0), at(1, 1)), a.mul(at(0, 1), at(1, 0)));
  if (m == 3) {
    auto minor = [&](int64_t j0, int64_t j1) {
      return a.sub(a.mul(at(1, j0), at(2, j1)), a.mul(at(1, j1), at(2, j0)));
    };
    Value r = a.mul(at(0, 0), minor(1, 2));
    r = a.sub(r, a.mul(at(0, 1), minor(0, 2)));
    return a.add(r, a.mul(at(0, 2), minor(0, 1)));
  }
  // Gaussian elimination with partial pivoting: rows are swapped by
  // selects so that row k holds the largest |pivot| of column k.
  Type type = e[0].getType();
  Value zero = a.cst(type, 0);
  Value det = a.cst(type, 1);
  for (int64_t k = 0; k < m; ++k) {
    for (int64_t i = k + 1; i < m; ++i) {
      Value swap =
          a.cmpf(arith::CmpFPredicate::OGT, a.abs(at(i, k)), a.abs(at(k, k)));
      for (int64_t j = k; j < m; ++j) {
        Value top = at(k, j), other = at(i, j);
        at(k, j) = a.select(swap, other, top);
        at(i, j) = a.select(swap, top, other);
      }
      det = a.select(swap, a.neg(det), det);
    }
    Value pivot = at(k, k);
    det = a.mul(det, pivot);
    Value singular = a.cmpf(arith::CmpFPredicate::OEQ, pivot, zero);
    for (int64_t i = k + 1; i < m; ++i) {
      Value factor = a.select(singular, zero, a.div(at(i, k), pivot));
      for (int64_t j = k + 1; j < m; ++j)
        at(i, j) = a.sub(at(i, j), a.mul(factor, at(k, j)));
    }
  }
  return det;
}

llvm::Error convertDet(NodeContext &node) {
  ArrayRef<int64_t> shape = node.inputShape(0);
  int64_t rank = shape.size();
  if (rank < 2 || shape[rank - 1] != shape[rank - 2])
    return node.error("input " + shapeText(shape) +
                      " is not a (batch of) square matrices");
  Type type = node.inputElementType(0);
  if (!isa<FloatType>(type))
    return node.error("Det of a non-float type is not supported");
  int64_t m = shape.back();
  constexpr int64_t kMaxOrder = 16;
  if (m > kMaxOrder)
    return node.error(llvm::formatv(
        "matrices of order {0} are not supported (at most {1}: the "
        "elimination is unrolled)",
        m, kMaxOrder));
  SmallVector<int64_t> batch(shape.drop_back(2));
  Value x = node.input(0);
  node.setOutput(
      0,
      indexGeneric(node.b, node.loc, batch, type,
                   [&](OpBuilder &b, Location loc, ArrayRef<Value> coords) {
                     Arith a{b, loc};
                     if (m == 0)
                       return a.cst(type, 1);
                     SmallVector<Value> e;
                     SmallVector<Value> at(coords);
                     at.append(2, Value());
                     for (int64_t i = 0; i < m; ++i)
                       for (int64_t j = 0; j < m; ++j) {
                         at[rank - 2] = a.index(i);
                         at[rank - 1] = a.index(j);
                         e.push_back(b.create<tensor::ExtractOp>(loc, x, at));
                       }
                     return determinant(a, e, m);
                   }));
  return llvm::Error::success();
}

} // namespace

void registerScatterOps(ConverterRegistry &r) {
  r["CumSum"] = {convertCumSum, 11};
  r["Scatter"] = {convertScatterElements, 9, 10};
  r["ScatterElements"] = {convertScatterElements, 11};
  r["ScatterND"] = {convertScatterND, 11};
  r["GridSample"] = {convertGridSample, 16};
  r["ReverseSequence"] = {convertReverseSequence, 10};
  r["Det"] = {convertDet, 11};
}

} // namespace hatc::frontend
