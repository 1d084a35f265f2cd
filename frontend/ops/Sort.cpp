//===- Sort.cpp - ONNX TopK and RoiAlign -> linalg ------------------------===//
//
// No sort op: TopK ranks every element along the axis and then gathers by
// rank, both as reductions over the axis (O(n^2) along it).
//
//   rank[.., i, ..]   = count over j of before(x[..j..], j, x[..i..], i)
//                       where before means a greater value (smaller with
//                       largest=0), or an equal value at a lower index; NaN
//                       counts as greater than every number, as numpy sorts.
//   values[.., p, ..] = x[.., j, ..] for the j whose rank is p (p < k), and
//   indices[.., p, ..] = j: one two-output generic reducing over j.
//
// RoiAlign averages (or takes the max of) bilinear samples of the feature
// map over a grid of sampling points in each output bin; the grid sizes are
// fixed at import time (from sampling_ratio, or from the rois when it is 0
// and the rois are known then).
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

#include "mlir/IR/AffineMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;

namespace hatc::frontend {

namespace {

//===----------------------------------------------------------------------===//
// TopK
//===----------------------------------------------------------------------===//

/// Whether x orders strictly before y by value: x > y (x < y when
/// `!largest`), NaN above every number. `equal` is set to whether they
/// compare equal (both NaN included).
Value orderedBefore(OpBuilder &b, Location loc, Value x, Value y, bool largest,
                    Value &equal) {
  if (isa<FloatType>(x.getType())) {
    Value xNan = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x);
    Value yNan = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, y, y);
    Value bothNan = b.create<arith::AndIOp>(loc, xNan, yNan);
    equal = b.create<arith::OrIOp>(
        loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x, y),
        bothNan);
    Value trueV = scalarConstant(b, loc, b.getI1Type(), 1);
    Value notXNan = b.create<arith::XOrIOp>(loc, xNan, trueV);
    Value notYNan = b.create<arith::XOrIOp>(loc, yNan, trueV);
    if (largest) // x > y, or x NaN and y not
      return b.create<arith::OrIOp>(
          loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x, y),
          b.create<arith::AndIOp>(loc, xNan, notYNan));
    // x < y, or y NaN and x not
    return b.create<arith::OrIOp>(
        loc, b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, y),
        b.create<arith::AndIOp>(loc, yNan, notXNan));
  }
  equal = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, x, y);
  return b.create<arith::CmpIOp>(
      loc, largest ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::slt, x,
      y);
}

llvm::Error convertTopK(NodeContext &node) {
  auto type = node.inputType(0);
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rank = shape.size();
  if (rank == 0)
    return node.error("its input is a scalar; TopK needs rank >= 1");
  Type element = type.getElementType();
  if (element.isInteger(1))
    return node.error("TopK of bool is not supported");
  auto axisOr = node.normalizeAxis(node.attrInt("axis", -1), rank);
  if (!axisOr)
    return axisOr.takeError();
  int64_t axis = *axisOr;
  int64_t k;
  if (node.opset < 10) {
    if (!node.hasAttr("k"))
      return node.error("attribute 'k' is missing");
    k = node.attrInt("k", 0);
  } else {
    if (!node.hasInput(1))
      return node.error("input 'K' is missing");
    auto values = node.constantInts(1, "K");
    if (!values)
      return values.takeError();
    if (values->size() != 1)
      return node.error(
          llvm::formatv("K has {0} values; expected one", values->size()));
    k = (*values)[0];
  }
  int64_t n = shape[axis];
  if (k < 0 || k > n)
    return node.error(llvm::formatv("K = {0} is outside [0, {1}] (the size "
                                    "of axis {2})",
                                    k, n, axis));
  bool largest = node.attrInt("largest", 1) != 0;
  // sorted=0 leaves the order unspecified: sorted order is one.

  OpBuilder &b = node.b;
  Location loc = node.loc;
  MLIRContext *context = node.context();
  Type i64 = b.getI64Type();
  // Loops: the input's dims, then j over the axis (a reduction).
  SmallVector<AffineExpr> ident, atJ;
  for (int64_t d = 0; d < rank; ++d) {
    ident.push_back(getAffineDimExpr(d, context));
    atJ.push_back(getAffineDimExpr(d == axis ? rank : d, context));
  }
  AffineMap identMap = AffineMap::get(rank + 1, 0, ident, context);
  AffineMap atJMap = AffineMap::get(rank + 1, 0, atJ, context);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value x = node.input(0);

  // rank[.., i, ..]: how many elements come before x[.., i, ..].
  Value rankInit = filledTensor(b, loc, shape, i64, 0);
  auto rankOp = b.create<linalg::GenericOp>(
      loc, TypeRange{rankInit.getType()}, ValueRange{x, x},
      ValueRange{rankInit}, ArrayRef<AffineMap>{identMap, atJMap, identMap},
      iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value xi = args[0], xj = args[1], count = args[2];
        Value i = nb.create<linalg::IndexOp>(nl, axis);
        Value j = nb.create<linalg::IndexOp>(nl, rank);
        Value equal;
        Value before = orderedBefore(nb, nl, xj, xi, largest, equal);
        Value lower =
            nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::ult, j, i);
        before = nb.create<arith::OrIOp>(
            nl, before, nb.create<arith::AndIOp>(nl, equal, lower));
        Value one = nb.create<arith::ExtUIOp>(nl, i64, before);
        nb.create<linalg::YieldOp>(nl,
                                   Value(nb.create<arith::AddIOp>(nl, count,
                                                                  one)));
      });
  Value ranks = rankOp.getResult(0);

  // values/indices[.., p, ..] = the element (and its j) whose rank is p.
  SmallVector<int64_t> outShape(shape);
  outShape[axis] = k;
  Value valuesInit = filledTensor(b, loc, outShape, element, 0);
  Value indicesInit = filledTensor(b, loc, outShape, i64, 0);
  auto gather = b.create<linalg::GenericOp>(
      loc, TypeRange{valuesInit.getType(), indicesInit.getType()},
      ValueRange{x, ranks}, ValueRange{valuesInit, indicesInit},
      ArrayRef<AffineMap>{atJMap, atJMap, identMap, identMap}, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value xj = args[0], rj = args[1], accV = args[2], accI = args[3];
        Value p = nb.create<arith::IndexCastOp>(
            nl, i64, nb.create<linalg::IndexOp>(nl, axis));
        Value j = nb.create<arith::IndexCastOp>(
            nl, i64, nb.create<linalg::IndexOp>(nl, rank));
        Value hit =
            nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::eq, rj, p);
        Value v = nb.create<arith::SelectOp>(nl, hit, xj, accV);
        Value idx = nb.create<arith::SelectOp>(nl, hit, j, accI);
        nb.create<linalg::YieldOp>(nl, ValueRange{v, idx});
      });
  if (node.wantsOutput(0))
    node.setOutput(0, gather.getResult(0));
  if (node.wantsOutput(1))
    node.setOutput(1, gather.getResult(1));
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// RoiAlign
//===----------------------------------------------------------------------===//

llvm::Error convertRoiAlign(NodeContext &node) {
  if (!node.hasInput(0) || !node.hasInput(1) || !node.hasInput(2))
    return node.error("RoiAlign takes X, rois and batch_indices");
  auto xType = node.inputType(0);
  if (xType.getRank() != 4)
    return node.error(llvm::formatv("X has rank {0}; RoiAlign takes "
                                    "(N, C, H, W)",
                                    xType.getRank()));
  Type element = xType.getElementType();
  if (!isa<FloatType>(element))
    return node.error("RoiAlign takes a float X");
  ArrayRef<int64_t> roisShape = node.inputShape(1);
  if (roisShape.size() != 2 || roisShape[1] != 4)
    return node.error("rois must have shape (num_rois, 4)");
  int64_t numRois = roisShape[0];
  ArrayRef<int64_t> batchShape = node.inputShape(2);
  if (batchShape.size() != 1 || batchShape[0] != numRois)
    return node.error(llvm::formatv("batch_indices must have shape ({0})",
                                    numRois));
  if (!isa<IntegerType>(node.inputElementType(2)))
    return node.error("batch_indices must be integers");
  std::string mode = node.attrString("mode", "avg");
  if (mode != "avg" && mode != "max")
    return node.error("mode '" + mode + "' is not 'avg' or 'max'");
  bool isMax = mode == "max";
  std::string transform = node.attrString(
      "coordinate_transformation_mode",
      node.opset >= 16 ? "half_pixel" : "output_half_pixel");
  if (transform != "half_pixel" && transform != "output_half_pixel")
    return node.error("coordinate_transformation_mode '" + transform +
                      "' is not 'half_pixel' or 'output_half_pixel'");
  bool halfPixel = transform == "half_pixel";
  int64_t outH = node.attrInt("output_height", 1);
  int64_t outW = node.attrInt("output_width", 1);
  int64_t samplingRatio = node.attrInt("sampling_ratio", 0);
  double spatialScale = node.attrFloat("spatial_scale", 1.0f);
  if (outH <= 0 || outW <= 0)
    return node.error("output_height and output_width must be positive");
  if (samplingRatio < 0)
    return node.error("sampling_ratio must be >= 0");
  int64_t batch = xType.getDimSize(0), channels = xType.getDimSize(1);
  int64_t height = xType.getDimSize(2), width = xType.getDimSize(3);
  double offset = halfPixel ? 0.5 : 0.0;

  // The sampling grid's extent: fixed, or (adaptive) the largest
  // ceil(roi size / output size) over the rois, which must then be known.
  int64_t gridH = samplingRatio, gridW = samplingRatio;
  if (samplingRatio == 0) {
    auto rois = node.constantDoubles(1, "rois (sampling_ratio 0 sizes the "
                                        "sampling grid from them)");
    if (!rois)
      return rois.takeError();
    gridH = gridW = 1;
    for (int64_t r = 0; r < numRois; ++r) {
      const double *roi = rois->data() + 4 * r;
      double roiW = (roi[2] - roi[0]) * spatialScale;
      double roiH = (roi[3] - roi[1]) * spatialScale;
      if (!halfPixel) {
        roiW = std::max(roiW, 1.0);
        roiH = std::max(roiH, 1.0);
      }
      gridH = std::max(gridH, int64_t(std::ceil(roiH / double(outH))));
      gridW = std::max(gridW, int64_t(std::ceil(roiW / double(outW))));
    }
  }

  OpBuilder &b = node.b;
  Location loc = node.loc;
  MLIRContext *context = node.context();
  Value x = node.input(0);
  Value rois = castTensor(b, loc, node.input(1), element);
  Value batchIndices = node.input(2);
  SmallVector<int64_t> outShape = {numRois, channels, outH, outW};
  Value init = filledTensor(b, loc, outShape, element,
                            isMax ? lowestValue(element) : 0.0);
  // Loops (r, c, ph, pw, iy, ix); an i8 operand of the grid's shape gives
  // iy and ix their extents.
  Value extent = filledTensor(b, loc, {gridH, gridW}, b.getI8Type(), 0);
  AffineMap extentMap = AffineMap::get(
      6, 0, {getAffineDimExpr(4, context), getAffineDimExpr(5, context)},
      context);
  AffineMap outMap = AffineMap::get(
      6, 0,
      {getAffineDimExpr(0, context), getAffineDimExpr(1, context),
       getAffineDimExpr(2, context), getAffineDimExpr(3, context)},
      context);
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators.append(2, utils::IteratorType::reduction);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{init.getType()}, ValueRange{extent}, ValueRange{init},
      ArrayRef<AffineMap>{extentMap, outMap}, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        FloatMath m{nb, nl, element};
        Value acc = args[1];
        SmallVector<Value> idx;
        for (int64_t d = 0; d < 6; ++d)
          idx.push_back(nb.create<linalg::IndexOp>(nl, d));
        Value r = idx[0], c = idx[1];
        auto roiAt = [&](int64_t k) {
          Value kk = nb.create<arith::ConstantIndexOp>(nl, k);
          return nb.create<tensor::ExtractOp>(nl, rois, ValueRange{r, kk})
              .getResult();
        };
        Value scale = m.cst(spatialScale), off = m.cst(offset);
        Value startW = m.sub(m.mul(roiAt(0), scale), off);
        Value startH = m.sub(m.mul(roiAt(1), scale), off);
        Value endW = m.sub(m.mul(roiAt(2), scale), off);
        Value endH = m.sub(m.mul(roiAt(3), scale), off);
        Value roiW = m.sub(endW, startW), roiH = m.sub(endH, startH);
        if (!halfPixel) {
          roiW = m.max(roiW, m.cst(1));
          roiH = m.max(roiH, m.cst(1));
        }
        Value binH = m.div(roiH, m.cst(double(outH)));
        Value binW = m.div(roiW, m.cst(double(outW)));
        Value gH, gW;
        if (samplingRatio > 0) {
          gH = gW = m.cst(double(samplingRatio));
        } else {
          gH = nb.create<math::CeilOp>(nl, binH);
          gW = nb.create<math::CeilOp>(nl, binW);
        }
        Value count = m.max(m.mul(gH, gW), m.cst(1));
        Value iy = m.fromIndex(idx[4]), ix = m.fromIndex(idx[5]);
        Value inGrid = m.andi(m.lt(iy, gH), m.lt(ix, gW));
        Value half = m.cst(0.5);
        Value y = m.add(m.add(startH, m.mul(m.fromIndex(idx[2]), binH)),
                        m.div(m.mul(m.add(iy, half), binH), gH));
        Value xc = m.add(m.add(startW, m.mul(m.fromIndex(idx[3]), binW)),
                         m.div(m.mul(m.add(ix, half), binW), gW));
        Value fH = m.cst(double(height)), fW = m.cst(double(width));
        Value outside =
            m.ori(m.ori(m.lt(y, m.cst(-1)), m.gt(y, fH)),
                  m.ori(m.lt(xc, m.cst(-1)), m.gt(xc, fW)));
        // Clamped into [0, size] (also keeps the index conversions in
        // range for samples outside, whose weights are zero).
        y = m.min(m.max(y, m.cst(0)), fH);
        xc = m.min(m.max(xc, m.cst(0)), fW);
        // The low and high taps; at or past the last row/column both are
        // the last one.
        auto taps = [&](Value &coord, int64_t size, Value &low, Value &high) {
          Value lowF = nb.create<math::FloorOp>(nl, coord);
          Value last = m.cst(double(size - 1));
          Value atEdge = nb.create<arith::CmpFOp>(
              nl, arith::CmpFPredicate::OGE, lowF, last);
          lowF = m.select(atEdge, last, lowF);
          coord = m.select(atEdge, last, coord);
          Value highF = m.select(atEdge, last, m.add(lowF, m.cst(1)));
          Value frac = m.sub(coord, lowF);
          low = m.toIndex(lowF);
          high = m.toIndex(highF);
          return frac;
        };
        Value yLow, yHigh, xLow, xHigh;
        Value ly = taps(y, height, yLow, yHigh);
        Value lx = taps(xc, width, xLow, xHigh);
        Value hy = m.sub(m.cst(1), ly), hx = m.sub(m.cst(1), lx);
        Value zero = m.cst(0);
        Value w1 = m.select(outside, zero, m.mul(hy, hx));
        Value w2 = m.select(outside, zero, m.mul(hy, lx));
        Value w3 = m.select(outside, zero, m.mul(ly, hx));
        Value w4 = m.select(outside, zero, m.mul(ly, lx));
        // The roi's image, clamped into range.
        Value bi =
            nb.create<tensor::ExtractOp>(nl, batchIndices, ValueRange{r});
        Value n = nb.create<arith::IndexCastOp>(nl, nb.getIndexType(), bi);
        Value zeroI = nb.create<arith::ConstantIndexOp>(nl, 0);
        Value lastN = nb.create<arith::ConstantIndexOp>(nl, batch - 1);
        n = nb.create<arith::MaxSIOp>(nl, n, zeroI);
        n = nb.create<arith::MinSIOp>(nl, n, lastN);
        auto at = [&](Value yy, Value xx) {
          return nb.create<tensor::ExtractOp>(nl, x, ValueRange{n, c, yy, xx})
              .getResult();
        };
        Value p1 = m.mul(w1, at(yLow, xLow)), p2 = m.mul(w2, at(yLow, xHigh));
        Value p3 = m.mul(w3, at(yHigh, xLow)), p4 = m.mul(w4, at(yHigh, xHigh));
        Value result;
        if (isMax) {
          Value v = m.max(m.max(p1, p2), m.max(p3, p4));
          result = m.select(inGrid, m.max(acc, v), acc);
        } else {
          Value v = m.div(m.add(m.add(p1, p2), m.add(p3, p4)), count);
          result = m.select(inGrid, m.add(acc, v), acc);
        }
        nb.create<linalg::YieldOp>(nl, result);
      });
  Value y = generic.getResult(0);
  if (isMax) {
    // A bin without sampling points (an empty roi) is 0.
    double lowest = lowestValue(element);
    auto fixed = elementwise(
        b, loc, ValueRange{y}, element,
        [lowest](OpBuilder &nb, Location nl, ValueRange args) {
          Type type = args[0].getType();
          Value none = nb.create<arith::CmpFOp>(
              nl, arith::CmpFPredicate::OEQ, args[0],
              scalarConstant(nb, nl, type, lowest));
          return nb.create<arith::SelectOp>(nl, none,
                                            scalarConstant(nb, nl, type, 0),
                                            args[0])
              .getResult();
        });
    if (!fixed)
      return node.error(llvm::toString(fixed.takeError()));
    y = *fixed;
  }
  node.setOutput(0, y);
  return llvm::Error::success();
}

} // namespace

void registerSortOps(ConverterRegistry &registry) {
  registry["TopK"] = {convertTopK, 1, 17};
  registry["RoiAlign"] = {convertRoiAlign, 10, 17};
}

} // namespace hatc::frontend
