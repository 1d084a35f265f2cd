//===- Conv.cpp - ONNX Conv, ConvTranspose, pooling, Pad, Resize ----------===//
//
//   Conv(X[N,C,H,W], W[F,C/G,KH,KW], B) -> tensor.pad(0) -> linalg.conv_2d_*
//     (NGCHW/GFCHW reshapes when grouped; a generic for grouped 1-D/3-D),
//     accumulating into B broadcast. ConvTranspose: strided insert_slice into
//     zeros, then a stride-1 conv with the flipped, transposed weight.
//   Max/Average/LpPool -> tensor.pad(-inf/0) -> linalg.pooling_nchw_* or a
//     generic window reduction; averages divide by a host-computed count.
//   Pad(edge/reflect), Resize, Upsample -> linalg.generic over the output
//     reading the source by linalg.index + tensor.extract; Resize goes one
//     axis at a time with host-computed tap index/weight tables.
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

#include "mlir/IR/AffineMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;

namespace hatc::frontend {

namespace {

bool isFloat(Type type) { return isa<FloatType>(type); }

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

SmallVector<int64_t> shapeOf(Value value) {
  return SmallVector<int64_t>(tensorType(value).getShape());
}

/// x ^ signbit: maps unsigned order onto signed order (and back), so that
/// a signed max pools unsigned integers (uint8) correctly.
Value flipSignBit(OpBuilder &b, Location loc, Value x) {
  Type element = tensorType(x).getElementType();
  double sign = lowestValue(element);
  auto result =
      elementwise(b, loc, ValueRange{x}, element,
                  [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                    return nb.create<arith::XOrIOp>(
                        nl, args[0], scalarConstant(nb, nl, element, sign));
                  });
  return cantFail(std::move(result));
}

/// Whether a max over input `i` must go through flipSignBit.
bool isUnsignedMax(NodeContext &node, size_t i) {
  Type element = node.inputElementType(i);
  return isa<IntegerType>(element) && !element.isInteger(1) &&
         node.inputIsUnsigned(i);
}

Value indexConstant(OpBuilder &b, Location loc, int64_t value) {
  return b.create<arith::ConstantIndexOp>(loc, value);
}

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Pads each dim by low/high (value `padValue`); negative amounts crop.
Value padOrCrop(OpBuilder &b, Location loc, Value input,
                ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                double padValue) {
  auto type = tensorType(input);
  Type element = type.getElementType();
  int64_t rank = type.getRank();
  bool crop = false, pad = false;
  for (int64_t i = 0; i < rank; ++i) {
    crop |= low[i] < 0 || high[i] < 0;
    pad |= low[i] > 0 || high[i] > 0;
  }
  Value value = input;
  if (crop) {
    SmallVector<OpFoldResult> offsets, sizes, strides;
    SmallVector<int64_t> shape;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t offset = std::max<int64_t>(0, -low[i]);
      int64_t size =
          type.getDimSize(i) - offset - std::max<int64_t>(0, -high[i]);
      offsets.push_back(b.getIndexAttr(offset));
      sizes.push_back(b.getIndexAttr(size));
      strides.push_back(b.getIndexAttr(1));
      shape.push_back(size);
    }
    value = b.create<tensor::ExtractSliceOp>(
        loc, RankedTensorType::get(shape, element), value, offsets, sizes,
        strides);
  }
  if (!pad)
    return value;
  SmallVector<OpFoldResult> lows, highs;
  SmallVector<int64_t> shape = shapeOf(value);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t l = std::max<int64_t>(0, low[i]), h = std::max<int64_t>(0, high[i]);
    lows.push_back(b.getIndexAttr(l));
    highs.push_back(b.getIndexAttr(h));
    shape[i] += l + h;
  }
  Value scalar = scalarConstant(b, loc, element, padValue);
  return b.create<tensor::PadOp>(loc, RankedTensorType::get(shape, element),
                                 value, lows, highs, scalar);
}

/// Broadcasts `input` into a new tensor of `shape`; `added` are the result
/// dims `input` lacks.
Value broadcastTo(OpBuilder &b, Location loc, Value input,
                  ArrayRef<int64_t> shape, ArrayRef<int64_t> added) {
  Value init = emptyTensor(b, loc, shape, tensorType(input).getElementType());
  return b.create<linalg::BroadcastOp>(loc, input, init, added).getResult()[0];
}

Value constantTensor(OpBuilder &b, Location loc, DenseElementsAttr attr) {
  return b.create<arith::ConstantOp>(loc, attr);
}

// --- Sliding windows: sizes, strides, dilations, pads. ---

struct Window {
  SmallVector<int64_t> in, kernel, strides, dilations, padBegin, padEnd, out;
  int64_t rank() const { return in.size(); }
  /// Extra zeros/-inf beyond padEnd that ceil_mode's last window reaches.
  int64_t extraEnd(int64_t i) const {
    int64_t need = (out[i] - 1) * strides[i] +
                   (kernel[i] - 1) * dilations[i] + 1;
    return std::max<int64_t>(0, need - (in[i] + padBegin[i] + padEnd[i]));
  }
};

llvm::Expected<Window> makeWindow(NodeContext &node, ArrayRef<int64_t> in,
                                  ArrayRef<int64_t> kernel, bool ceilMode) {
  Window w;
  size_t k = in.size();
  w.in.assign(in.begin(), in.end());
  w.kernel.assign(kernel.begin(), kernel.end());
  for (int64_t size : kernel)
    if (size < 1)
      return node.error("kernel sizes must be positive");
  std::vector<int64_t> ones(k, 1);
  std::vector<int64_t> strides = node.attrInts("strides", ones);
  std::vector<int64_t> dilations = node.attrInts("dilations", ones);
  std::vector<int64_t> pads = node.attrInts("pads", std::vector<int64_t>(2 * k));
  if (strides.empty())
    strides = ones;
  if (dilations.empty())
    dilations = ones;
  if (pads.empty())
    pads.assign(2 * k, 0);
  if (strides.size() != k || dilations.size() != k || pads.size() != 2 * k)
    return node.error("strides, dilations and pads must match the " +
                      std::to_string(k) + " spatial dims");
  std::string autoPad = node.attrString("auto_pad", "NOTSET");
  if (autoPad.empty())
    autoPad = "NOTSET";
  if (autoPad != "NOTSET" && autoPad != "VALID" && autoPad != "SAME_UPPER" &&
      autoPad != "SAME_LOWER")
    return node.error("unknown auto_pad '" + autoPad + "'");
  for (size_t i = 0; i < k; ++i) {
    int64_t s = strides[i], d = dilations[i];
    if (s < 1 || d < 1)
      return node.error("strides and dilations must be positive");
    int64_t extent = (kernel[i] - 1) * d + 1;
    int64_t pb = 0, pe = 0, out;
    if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
      out = ceilDiv(in[i], s);
      int64_t total = std::max<int64_t>(0, (out - 1) * s + extent - in[i]);
      pb = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
      pe = total - pb;
    } else {
      if (autoPad == "NOTSET") {
        pb = pads[i];
        pe = pads[i + k];
      }
      int64_t span = in[i] + pb + pe - extent;
      if (span < 0)
        return node.error("the window (extent " + std::to_string(extent) +
                          ") is larger than the padded input (" +
                          std::to_string(in[i] + pb + pe) + ")");
      out = (ceilMode ? ceilDiv(span, s) : span / s) + 1;
      // The last window must start inside the input or its begin padding.
      if (ceilMode && (out - 1) * s >= in[i] + pb)
        --out;
    }
    w.strides.push_back(s);
    w.dilations.push_back(d);
    w.padBegin.push_back(pb);
    w.padEnd.push_back(pe);
    w.out.push_back(out);
  }
  return w;
}

/// Pads [N, C, spatial...] for `w` (its pads plus ceil_mode's extra).
Value padForWindow(OpBuilder &b, Location loc, Value input, const Window &w,
                   double padValue) {
  SmallVector<int64_t> low = {0, 0}, high = {0, 0};
  for (int64_t i = 0; i < w.rank(); ++i) {
    low.push_back(w.padBegin[i]);
    high.push_back(w.padEnd[i] + w.extraEnd(i));
  }
  return padOrCrop(b, loc, input, low, high, padValue);
}

/// The kernel shape: the attribute when set, else `fromWeight`.
llvm::Expected<SmallVector<int64_t>>
kernelShape(NodeContext &node, ArrayRef<int64_t> fromWeight, size_t rank) {
  std::vector<int64_t> attr = node.attrInts("kernel_shape");
  if (attr.empty()) {
    if (fromWeight.empty())
      return node.error("kernel_shape is required");
    return SmallVector<int64_t>(fromWeight);
  }
  if (attr.size() != rank)
    return node.error("kernel_shape has " + std::to_string(attr.size()) +
                      " dims for " + std::to_string(rank) + " spatial dims");
  if (!fromWeight.empty() && ArrayRef<int64_t>(attr) != fromWeight)
    return node.error("kernel_shape does not match the weight's shape");
  return SmallVector<int64_t>(attr.begin(), attr.end());
}

// --- Convolution. ---

/// out[N, F, O...] += padded[N, C, ...] * weight[F, C/G, K...], strided and
/// dilated, over `groups` groups; `init` is the accumulator.
Value emitConv(OpBuilder &b, Location loc, Value padded, Value weight,
               Value init, int64_t groups, ArrayRef<int64_t> strides,
               ArrayRef<int64_t> dilations) {
  SmallVector<int64_t> inShape = shapeOf(padded), wShape = shapeOf(weight),
                       outShape = shapeOf(init);
  int64_t k = inShape.size() - 2;
  int64_t n = inShape[0], c = inShape[1], f = wShape[0];
  int64_t cg = c / groups, fg = f / groups;
  Type initType = init.getType();
  auto stridesAttr = b.getI64TensorAttr(strides);
  auto dilationsAttr = b.getI64TensorAttr(dilations);
  if (groups == 1) {
    if (k == 1)
      return b.create<linalg::Conv1DNcwFcwOp>(loc, initType,
                                              ValueRange{padded, weight}, init,
                                              stridesAttr, dilationsAttr)
          .getResult(0);
    if (k == 2)
      return b.create<linalg::Conv2DNchwFchwOp>(loc, initType,
                                                ValueRange{padded, weight},
                                                init, stridesAttr,
                                                dilationsAttr)
          .getResult(0);
    if (k == 3)
      return b.create<linalg::Conv3DNcdhwFcdhwOp>(loc, initType,
                                                  ValueRange{padded, weight},
                                                  init, stridesAttr,
                                                  dilationsAttr)
          .getResult(0);
  }
  if (k == 2 && cg == 1 && fg == 1) {
    Value w = reshape(b, loc, weight, {f, wShape[2], wShape[3]});
    return b.create<linalg::DepthwiseConv2DNchwChwOp>(
               loc, initType, ValueRange{padded, w}, init, stridesAttr,
               dilationsAttr)
        .getResult(0);
  }
  // Grouped: N,G,C/G,... and G,F/G,C/G,K...; result N,G,F/G,O... .
  SmallVector<int64_t> gIn = {n, groups, cg}, gW = {groups, fg, cg},
                       gOut = {n, groups, fg};
  gIn.append(inShape.begin() + 2, inShape.end());
  gW.append(wShape.begin() + 2, wShape.end());
  gOut.append(outShape.begin() + 2, outShape.end());
  Value in = reshape(b, loc, padded, gIn);
  Value w = reshape(b, loc, weight, gW);
  Value acc = reshape(b, loc, init, gOut);
  Value result;
  if (k == 2) {
    result = b.create<linalg::Conv2DNgchwGfchwOp>(
                  loc, acc.getType(), ValueRange{in, w}, acc, stridesAttr,
                  dilationsAttr)
                 .getResult(0);
  } else {
    // Loops: n, g, fg, o[k], c, kk[k].
    MLIRContext *ctx = b.getContext();
    int64_t loops = 4 + 2 * k;
    auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    SmallVector<AffineExpr> inExprs = {dim(0), dim(1), dim(3 + k)};
    SmallVector<AffineExpr> wExprs = {dim(1), dim(2), dim(3 + k)};
    SmallVector<AffineExpr> outExprs = {dim(0), dim(1), dim(2)};
    for (int64_t i = 0; i < k; ++i) {
      inExprs.push_back(dim(3 + i) * strides[i] +
                        dim(4 + k + i) * dilations[i]);
      wExprs.push_back(dim(4 + k + i));
      outExprs.push_back(dim(3 + i));
    }
    SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, inExprs, ctx),
                                   AffineMap::get(loops, 0, wExprs, ctx),
                                   AffineMap::get(loops, 0, outExprs, ctx)};
    SmallVector<utils::IteratorType> iterators(3 + k,
                                               utils::IteratorType::parallel);
    iterators.append(1 + k, utils::IteratorType::reduction);
    result = b.create<linalg::GenericOp>(
                  loc, acc.getType(), ValueRange{in, w}, ValueRange{acc}, maps,
                  iterators,
                  [&](OpBuilder &nb, Location nl, ValueRange args) {
                    Value x = args[0], y = args[1];
                    Type t = args[2].getType();
                    if (x.getType() != t)
                      x = convertScalar(nb, nl, x, t);
                    if (y.getType() != t)
                      y = convertScalar(nb, nl, y, t);
                    nb.create<linalg::YieldOp>(
                        nl, addValues(nb, nl, args[2], mulValues(nb, nl, x, y)));
                  })
                 .getResult(0);
  }
  return reshape(b, loc, result, outShape);
}

/// The accumulator [N, F, O...]: the bias broadcast, or zeros.
Value convInit(NodeContext &node, ArrayRef<int64_t> outShape, Type element,
               size_t biasInput) {
  if (!node.hasInput(biasInput))
    return filledTensor(node.b, node.loc, outShape, element, 0);
  SmallVector<int64_t> added = {0};
  for (size_t i = 2; i < outShape.size(); ++i)
    added.push_back(i);
  return broadcastTo(node.b, node.loc, node.input(biasInput), outShape,
                     added);
}

llvm::Error convertConv(NodeContext &node) {
  int64_t rank = node.inputRank(0);
  if (rank < 3 || rank > 5)
    return node.error("only 1-D, 2-D and 3-D convolutions are supported");
  if (node.inputRank(1) != rank)
    return node.error("the weight's rank differs from the input's");
  ArrayRef<int64_t> xShape = node.inputShape(0), wShape = node.inputShape(1);
  Type element = node.inputElementType(0);
  int64_t groups = node.attrInt("group", 1);
  int64_t c = xShape[1], f = wShape[0];
  if (groups < 1 || c % groups || f % groups || wShape[1] * groups != c)
    return node.error("channels (" + std::to_string(c) + " in, " +
                      std::to_string(f) + " out, " +
                      std::to_string(wShape[1]) +
                      " per group) do not fit group " +
                      std::to_string(groups));
  if (node.hasInput(2) &&
      (node.inputRank(2) != 1 || node.inputShape(2)[0] != f))
    return node.error("the bias must have shape [" + std::to_string(f) + "]");
  auto kernel = kernelShape(node, wShape.drop_front(2), rank - 2);
  if (!kernel)
    return kernel.takeError();
  auto w = makeWindow(node, xShape.drop_front(2), *kernel, false);
  if (!w)
    return w.takeError();
  Value padded = padForWindow(node.b, node.loc, node.input(0), *w, 0);
  SmallVector<int64_t> outShape = {xShape[0], f};
  outShape.append(w->out.begin(), w->out.end());
  Value init = convInit(node, outShape, element, 2);
  node.setOutput(0, emitConv(node.b, node.loc, padded, node.input(1), init,
                             groups, w->strides, w->dilations));
  return llvm::Error::success();
}

/// W[C, F/G, K...] -> W'[F, C/G, K...] with the kernel flipped:
/// W'[g*F/G + f, c, k] = W[g*C/G + c, f, K-1-k].
Value flipWeight(OpBuilder &b, Location loc, Value weight, int64_t groups) {
  SmallVector<int64_t> wShape = shapeOf(weight);
  int64_t k = wShape.size() - 2;
  int64_t cg = wShape[0] / groups, fg = wShape[1];
  SmallVector<int64_t> shape = {fg * groups, cg};
  shape.append(wShape.begin() + 2, wShape.end());
  Type element = tensorType(weight).getElementType();
  Value init = emptyTensor(b, loc, shape, element);
  int64_t rank = shape.size();
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, init.getType(), ValueRange{}, ValueRange{init}, maps,
          iterators,
          [&](OpBuilder &nb, Location nl, ValueRange) {
            Value fIdx = nb.create<linalg::IndexOp>(nl, 0);
            Value cIdx = nb.create<linalg::IndexOp>(nl, 1);
            Value fgValue = indexConstant(nb, nl, fg);
            Value g = nb.create<arith::DivUIOp>(nl, fIdx, fgValue);
            Value fInGroup = nb.create<arith::RemUIOp>(nl, fIdx, fgValue);
            Value src0 = nb.create<arith::AddIOp>(
                nl, nb.create<arith::MulIOp>(nl, g, indexConstant(nb, nl, cg)),
                cIdx);
            SmallVector<Value> indices = {src0, fInGroup};
            for (int64_t i = 0; i < k; ++i) {
              Value idx = nb.create<linalg::IndexOp>(nl, 2 + i);
              indices.push_back(nb.create<arith::SubIOp>(
                  nl, indexConstant(nb, nl, wShape[2 + i] - 1), idx));
            }
            Value v = nb.create<tensor::ExtractOp>(nl, weight, indices);
            nb.create<linalg::YieldOp>(nl, v);
          })
      .getResult(0);
}

llvm::Error convertConvTranspose(NodeContext &node) {
  int64_t rank = node.inputRank(0);
  if (rank < 3 || rank > 5)
    return node.error("only 1-D, 2-D and 3-D transposed convolutions are "
                      "supported");
  if (node.inputRank(1) != rank)
    return node.error("the weight's rank differs from the input's");
  ArrayRef<int64_t> xShape = node.inputShape(0), wShape = node.inputShape(1);
  Type element = node.inputElementType(0);
  int64_t k = rank - 2;
  int64_t groups = node.attrInt("group", 1);
  int64_t c = xShape[1];
  if (groups < 1 || c % groups || wShape[0] != c)
    return node.error("the weight's first dim must equal the input channels "
                      "and divide by group");
  int64_t f = wShape[1] * groups;
  if (node.hasInput(2) &&
      (node.inputRank(2) != 1 || node.inputShape(2)[0] != f))
    return node.error("the bias must have shape [" + std::to_string(f) + "]");
  auto kernel = kernelShape(node, wShape.drop_front(2), k);
  if (!kernel)
    return kernel.takeError();
  std::vector<int64_t> ones(k, 1), zeros(k, 0);
  std::vector<int64_t> strides = node.attrInts("strides", ones);
  std::vector<int64_t> dilations = node.attrInts("dilations", ones);
  std::vector<int64_t> outPad = node.attrInts("output_padding", zeros);
  std::vector<int64_t> pads = node.attrInts("pads", std::vector<int64_t>(2 * k));
  std::vector<int64_t> outputShape = node.attrInts("output_shape");
  if (strides.empty())
    strides = ones;
  if (dilations.empty())
    dilations = ones;
  if (outPad.empty())
    outPad = zeros;
  if (pads.empty())
    pads.assign(2 * k, 0);
  if (outputShape.size() > size_t(k))
    outputShape.erase(outputShape.begin(),
                      outputShape.end() - k); // N, C given too
  if (strides.size() != size_t(k) || dilations.size() != size_t(k) ||
      outPad.size() != size_t(k) || pads.size() != size_t(2 * k) ||
      (!outputShape.empty() && outputShape.size() != size_t(k)))
    return node.error("strides, dilations, output_padding, pads and "
                      "output_shape must match the spatial dims");
  std::string autoPad = node.attrString("auto_pad", "NOTSET");
  if (autoPad.empty())
    autoPad = "NOTSET";

  // Zero-insert X by the strides into a zero tensor that also holds the
  // conv's padding; crop where the pads exceed the kernel's extent.
  SmallVector<int64_t> zShape = {xShape[0], c}, offsets = {0, 0},
                       cropLow = {0, 0}, cropHigh = {0, 0};
  SmallVector<int64_t> outShape = {xShape[0], f};
  for (int64_t i = 0; i < k; ++i) {
    int64_t in = xShape[2 + i], s = strides[i], d = dilations[i];
    if (s < 1 || d < 1)
      return node.error("strides and dilations must be positive");
    int64_t extent = ((*kernel)[i] - 1) * d + 1;
    int64_t full = s * (in - 1) + outPad[i] + extent;
    int64_t pb = pads[i], pe = pads[i + k];
    if (!outputShape.empty() || autoPad == "SAME_UPPER" ||
        autoPad == "SAME_LOWER") {
      int64_t target = outputShape.empty() ? in * s : outputShape[i];
      int64_t total = full - target;
      if (total < 0) {
        // A larger output_shape extends the end, as output_padding does.
        pb = 0;
        pe = total;
      } else if (autoPad == "SAME_UPPER") {
        pb = total / 2;
        pe = total - pb;
      } else {
        pe = total / 2;
        pb = total - pe;
      }
    } else if (autoPad == "VALID") {
      pb = pe = 0;
    }
    int64_t low = extent - 1 - pb, high = extent - 1 - pe + outPad[i];
    int64_t size = (in - 1) * s + 1;
    zShape.push_back(size + std::max<int64_t>(0, low) +
                     std::max<int64_t>(0, high));
    offsets.push_back(std::max<int64_t>(0, low));
    cropLow.push_back(std::min<int64_t>(0, low));
    cropHigh.push_back(std::min<int64_t>(0, high));
    int64_t out = full - pb - pe;
    if (out < 1)
      return node.error("the output would be empty");
    outShape.push_back(out);
  }
  OpBuilder &b = node.b;
  Location loc = node.loc;
  Value zeros0 = filledTensor(b, loc, zShape, element, 0);
  SmallVector<OpFoldResult> offs, sizes, steps;
  for (int64_t i = 0; i < rank; ++i) {
    offs.push_back(b.getIndexAttr(offsets[i]));
    sizes.push_back(b.getIndexAttr(xShape[i]));
    steps.push_back(b.getIndexAttr(i < 2 ? 1 : strides[i - 2]));
  }
  Value z = b.create<tensor::InsertSliceOp>(loc, node.input(0), zeros0, offs,
                                            sizes, steps);
  z = padOrCrop(b, loc, z, cropLow, cropHigh, 0);
  Value weight = flipWeight(b, loc, node.input(1), groups);
  Value init = convInit(node, outShape, element, 2);
  SmallVector<int64_t> unit(k, 1);
  node.setOutput(0, emitConv(b, loc, z, weight, init, groups, unit,
                             SmallVector<int64_t>(dilations.begin(),
                                                  dilations.end())));
  return llvm::Error::success();
}

// --- Pooling. ---

enum class Pool { Max, Average, Lp };

/// out[N, C, O...] = combine over the window of padded[N, C, O*s + K*d].
Value windowReduce(OpBuilder &b, Location loc, Value padded, const Window &w,
                   double init, Pool kind, int64_t p) {
  SmallVector<int64_t> inShape = shapeOf(padded);
  Type element = tensorType(padded).getElementType();
  int64_t k = w.rank();
  SmallVector<int64_t> outShape = {inShape[0], inShape[1]};
  outShape.append(w.out.begin(), w.out.end());
  Value acc = filledTensor(b, loc, outShape, element, init);
  Value window = emptyTensor(b, loc, w.kernel, element);
  auto stridesAttr = b.getI64TensorAttr(w.strides);
  auto dilationsAttr = b.getI64TensorAttr(w.dilations);
  if (k == 2 && kind == Pool::Max)
    return b.create<linalg::PoolingNchwMaxOp>(
                loc, acc.getType(), ValueRange{padded, window}, acc,
                stridesAttr, dilationsAttr)
        .getResult(0);
  if (k == 2 && kind == Pool::Average)
    return b.create<linalg::PoolingNchwSumOp>(
                loc, acc.getType(), ValueRange{padded, window}, acc,
                stridesAttr, dilationsAttr)
        .getResult(0);
  MLIRContext *ctx = b.getContext();
  int64_t loops = 2 + 2 * k;
  auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> inExprs = {dim(0), dim(1)}, winExprs,
                          outExprs = {dim(0), dim(1)};
  for (int64_t i = 0; i < k; ++i) {
    inExprs.push_back(dim(2 + i) * w.strides[i] +
                      dim(2 + k + i) * w.dilations[i]);
    winExprs.push_back(dim(2 + k + i));
    outExprs.push_back(dim(2 + i));
  }
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, inExprs, ctx),
                                 AffineMap::get(loops, 0, winExprs, ctx),
                                 AffineMap::get(loops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(2 + k,
                                             utils::IteratorType::parallel);
  iterators.append(k, utils::IteratorType::reduction);
  return b
      .create<linalg::GenericOp>(
          loc, acc.getType(), ValueRange{padded, window}, ValueRange{acc},
          maps, iterators,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value x = args[0], a = args[2];
            Value r;
            if (kind == Pool::Max) {
              r = maxValues(nb, nl, a, x);
            } else if (kind == Pool::Average) {
              r = addValues(nb, nl, a, x);
            } else {
              Value ax = nb.create<math::AbsFOp>(nl, x);
              Value powered =
                  p == 1   ? ax
                  : p == 2 ? nb.create<arith::MulFOp>(nl, ax, ax).getResult()
                           : nb.create<math::PowFOp>(
                                   nl, ax,
                                   scalarConstant(nb, nl, x.getType(), p))
                                 .getResult();
              r = nb.create<arith::AddFOp>(nl, a, powered);
            }
            nb.create<linalg::YieldOp>(nl, r);
          })
      .getResult(0);
}

/// sum^(1/p), elementwise.
llvm::Expected<Value> lpRoot(OpBuilder &b, Location loc, Value sum, int64_t p) {
  if (p == 1)
    return sum;
  Type element = tensorType(sum).getElementType();
  return elementwise(b, loc, {sum}, element,
                     [&](OpBuilder &nb, Location nl, ValueRange args) {
                       if (p == 2)
                         return nb.create<math::SqrtOp>(nl, args[0])
                             .getResult();
                       return nb
                           .create<math::PowFOp>(
                               nl, args[0],
                               scalarConstant(nb, nl, args[0].getType(),
                                              1.0 / double(p)))
                           .getResult();
                     });
}

/// The number of window elements each output averages over: inside the
/// input only, or (count_include_pad) inside the explicitly padded input.
/// Returns [O...] counts (one per output position).
std::vector<double> windowCounts(const Window &w, bool includePad) {
  int64_t k = w.rank();
  std::vector<std::vector<double>> perDim(k);
  for (int64_t i = 0; i < k; ++i) {
    int64_t lo = includePad ? -w.padBegin[i] : 0;
    int64_t hi = includePad ? w.in[i] + w.padEnd[i] : w.in[i];
    for (int64_t o = 0; o < w.out[i]; ++o) {
      int64_t count = 0;
      for (int64_t j = 0; j < w.kernel[i]; ++j) {
        int64_t pos = o * w.strides[i] + j * w.dilations[i] - w.padBegin[i];
        count += pos >= lo && pos < hi;
      }
      perDim[i].push_back(double(count));
    }
  }
  std::vector<double> counts = {1.0};
  for (int64_t i = 0; i < k; ++i) {
    std::vector<double> next;
    for (double c : counts)
      for (double d : perDim[i])
        next.push_back(c * d);
    counts = std::move(next);
  }
  return counts;
}

/// MaxPool with Indices: one generic carrying (max, flat input index); the
/// first maximum in window order wins. Indices flatten [N, C, spatial...]
/// of the unpadded input, spatial row-major (storage_order 0) or
/// column-major (1).
std::pair<Value, Value> maxPoolWithIndices(OpBuilder &b, Location loc,
                                           Value padded, const Window &w,
                                           ArrayRef<int64_t> xShape,
                                           bool columnMajor) {
  SmallVector<int64_t> inShape = shapeOf(padded);
  Type element = tensorType(padded).getElementType();
  int64_t k = w.rank();
  SmallVector<int64_t> outShape = {inShape[0], inShape[1]};
  outShape.append(w.out.begin(), w.out.end());
  Value acc = filledTensor(b, loc, outShape, element, lowestValue(element));
  Value accIdx = filledTensor(b, loc, outShape, b.getI64Type(), 0);
  Value window = emptyTensor(b, loc, w.kernel, element);
  MLIRContext *ctx = b.getContext();
  int64_t loops = 2 + 2 * k;
  auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
  SmallVector<AffineExpr> inExprs = {dim(0), dim(1)}, winExprs,
                          outExprs = {dim(0), dim(1)};
  for (int64_t i = 0; i < k; ++i) {
    inExprs.push_back(dim(2 + i) * w.strides[i] +
                      dim(2 + k + i) * w.dilations[i]);
    winExprs.push_back(dim(2 + k + i));
    outExprs.push_back(dim(2 + i));
  }
  AffineMap outMap = AffineMap::get(loops, 0, outExprs, ctx);
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, inExprs, ctx),
                                 AffineMap::get(loops, 0, winExprs, ctx),
                                 outMap, outMap};
  SmallVector<utils::IteratorType> iterators(2 + k,
                                             utils::IteratorType::parallel);
  iterators.append(k, utils::IteratorType::reduction);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{acc.getType(), accIdx.getType()},
      ValueRange{padded, window}, ValueRange{acc, accIdx}, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value x = args[0], best = args[2], bestIdx = args[3];
        Value greater =
            isFloat(element)
                ? nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OGT, x,
                                           best)
                      .getResult()
                : nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::sgt, x,
                                           best)
                      .getResult();
        // Flat index of the element in the unpadded input.
        Value n = nb.create<linalg::IndexOp>(nl, 0);
        Value c = nb.create<linalg::IndexOp>(nl, 1);
        Value flat = nb.create<arith::AddIOp>(
            nl, nb.create<arith::MulIOp>(nl, n, indexConstant(nb, nl, xShape[1])),
            c);
        SmallVector<Value> pos;
        for (int64_t i = 0; i < k; ++i) {
          Value o = nb.create<linalg::IndexOp>(nl, 2 + i);
          Value kk = nb.create<linalg::IndexOp>(nl, 2 + k + i);
          Value p = nb.create<arith::AddIOp>(
              nl,
              nb.create<arith::MulIOp>(nl, o,
                                       indexConstant(nb, nl, w.strides[i])),
              nb.create<arith::MulIOp>(nl, kk,
                                       indexConstant(nb, nl, w.dilations[i])));
          pos.push_back(nb.create<arith::SubIOp>(
              nl, p, indexConstant(nb, nl, w.padBegin[i])));
        }
        int64_t spatial = 1;
        for (int64_t i = 0; i < k; ++i)
          spatial *= xShape[2 + i];
        Value inner = indexConstant(nb, nl, 0);
        for (int64_t j = 0; j < k; ++j) {
          int64_t i = columnMajor ? k - 1 - j : j;
          inner = nb.create<arith::AddIOp>(
              nl,
              nb.create<arith::MulIOp>(nl, inner,
                                       indexConstant(nb, nl, xShape[2 + i])),
              pos[i]);
        }
        flat = nb.create<arith::AddIOp>(
            nl,
            nb.create<arith::MulIOp>(nl, flat, indexConstant(nb, nl, spatial)),
            inner);
        Value flat64 =
            nb.create<arith::IndexCastOp>(nl, nb.getI64Type(), flat);
        Value v = nb.create<arith::SelectOp>(nl, greater, x, best);
        Value i = nb.create<arith::SelectOp>(nl, greater, flat64, bestIdx);
        nb.create<linalg::YieldOp>(nl, ValueRange{v, i});
      });
  return {generic.getResult(0), generic.getResult(1)};
}

llvm::Error convertPool(NodeContext &node, Pool kind) {
  int64_t rank = node.inputRank(0);
  if (rank < 3 || rank > 5)
    return node.error("only 1-D, 2-D and 3-D pooling is supported");
  Type element = node.inputElementType(0);
  if (kind != Pool::Max && !isFloat(element))
    return node.error("average and Lp pooling need a float input");
  ArrayRef<int64_t> xShape = node.inputShape(0);
  auto kernel = kernelShape(node, {}, rank - 2);
  if (!kernel)
    return kernel.takeError();
  bool ceilMode = node.attrInt("ceil_mode", 0) != 0;
  auto w = makeWindow(node, xShape.drop_front(2), *kernel, ceilMode);
  if (!w)
    return w.takeError();
  OpBuilder &b = node.b;
  Location loc = node.loc;
  double init = kind == Pool::Max ? lowestValue(element) : 0.0;
  bool flip = kind == Pool::Max && isUnsignedMax(node, 0);
  Value input = flip ? flipSignBit(b, loc, node.input(0)) : node.input(0);
  Value padded = padForWindow(b, loc, input, *w, init);
  if (kind == Pool::Max && node.wantsOutput(1)) {
    auto [values, indices] =
        maxPoolWithIndices(b, loc, padded, *w, xShape,
                           node.attrInt("storage_order", 0) != 0);
    node.setOutput(0, flip ? flipSignBit(b, loc, values) : values);
    node.setOutput(1, indices);
    return llvm::Error::success();
  }
  int64_t p = node.attrInt("p", 2);
  Value result = windowReduce(b, loc, padded, *w, init, kind, p);
  if (kind == Pool::Lp) {
    auto root = lpRoot(b, loc, result, p);
    if (!root)
      return node.error(llvm::toString(root.takeError()));
    result = *root;
  }
  if (kind == Pool::Average) {
    bool includePad = node.attrInt("count_include_pad", 0) != 0;
    std::vector<double> counts = windowCounts(*w, includePad);
    bool uniform = llvm::all_equal(counts);
    Value divisor;
    SmallVector<Value> inputs = {result};
    if (!uniform) {
      SmallVector<int64_t> countShape = {1, 1};
      countShape.append(w->out.begin(), w->out.end());
      inputs.push_back(
          constantTensor(b, loc, doublesAttr(element, countShape, counts)));
    }
    double scalar = counts.front();
    auto divided = elementwise(
        b, loc, inputs, element,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value d = uniform ? scalarConstant(nb, nl, element, scalar)
                            : args[1];
          return nb.create<arith::DivFOp>(nl, args[0], d).getResult();
        });
    if (!divided)
      return node.error(llvm::toString(divided.takeError()));
    result = *divided;
  }
  node.setOutput(0, flip ? flipSignBit(b, loc, result) : result);
  return llvm::Error::success();
}

llvm::Error convertGlobalPool(NodeContext &node, Pool kind) {
  int64_t rank = node.inputRank(0);
  if (rank < 3)
    return node.error("the input needs spatial dims");
  Type element = node.inputElementType(0);
  if (kind != Pool::Max && !isFloat(element))
    return node.error("average and Lp pooling need a float input");
  SmallVector<int64_t> axes;
  double count = 1;
  for (int64_t i = 2; i < rank; ++i) {
    axes.push_back(i);
    count *= node.inputShape(0)[i];
  }
  OpBuilder &b = node.b;
  Location loc = node.loc;
  int64_t p = node.attrInt("p", 2);
  bool flip = kind == Pool::Max && isUnsignedMax(node, 0);
  Value input = flip ? flipSignBit(b, loc, node.input(0)) : node.input(0);
  if (kind == Pool::Lp) {
    auto powered = elementwise(
        b, loc, {input}, element,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          Value ax = nb.create<math::AbsFOp>(nl, args[0]);
          if (p == 1)
            return ax;
          if (p == 2)
            return nb.create<arith::MulFOp>(nl, ax, ax).getResult();
          return nb
              .create<math::PowFOp>(nl, ax,
                                    scalarConstant(nb, nl, element, p))
              .getResult();
        });
    if (!powered)
      return node.error(llvm::toString(powered.takeError()));
    input = *powered;
  }
  Value result = reduce(
      b, loc, input, axes, /*keepDims=*/true,
      kind == Pool::Max ? lowestValue(element) : 0.0,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        return kind == Pool::Max ? maxValues(nb, nl, args[1], args[0])
                                 : addValues(nb, nl, args[1], args[0]);
      });
  if (kind == Pool::Average) {
    auto divided = elementwise(
        b, loc, {result}, element,
        [&](OpBuilder &nb, Location nl, ValueRange args) {
          return nb
              .create<arith::DivFOp>(nl, args[0],
                                     scalarConstant(nb, nl, element, count))
              .getResult();
        });
    if (!divided)
      return node.error(llvm::toString(divided.takeError()));
    result = *divided;
  } else if (kind == Pool::Lp) {
    auto root = lpRoot(b, loc, result, p);
    if (!root)
      return node.error(llvm::toString(root.takeError()));
    result = *root;
  }
  node.setOutput(0, flip ? flipSignBit(b, loc, result) : result);
  return llvm::Error::success();
}

/// MaxUnpool: out[n, c, p] = X[n, c, o] for the window o covering p whose
/// index I[n, c, o] names p (flat over [N, C, default spatial]); a
/// reduction over the <= ceil(K/S) windows covering each output position,
/// reading X and I by tensor.extract. A larger output_shape pads the end.
llvm::Error convertMaxUnpool(NodeContext &node) {
  int64_t rank = node.inputRank(0);
  if (rank < 3)
    return node.error("the input needs spatial dims");
  if (node.inputShape(1) != node.inputShape(0))
    return node.error("the indices' shape differs from the input's");
  ArrayRef<int64_t> xShape = node.inputShape(0);
  Type element = node.inputElementType(0);
  int64_t k = rank - 2;
  auto kernel = kernelShape(node, {}, k);
  if (!kernel)
    return kernel.takeError();
  std::vector<int64_t> strides = node.attrInts("strides");
  std::vector<int64_t> pads = node.attrInts("pads");
  if (strides.empty())
    strides.assign(k, 1);
  if (pads.empty())
    pads.assign(2 * k, 0);
  if (strides.size() != size_t(k) || pads.size() != size_t(2 * k))
    return node.error("strides and pads must match the spatial dims");
  SmallVector<int64_t> outShape = {xShape[0], xShape[1]}, reach;
  for (int64_t i = 0; i < k; ++i) {
    if (strides[i] < 1)
      return node.error("strides must be positive");
    outShape.push_back((xShape[2 + i] - 1) * strides[i] + (*kernel)[i] -
                       pads[i] - pads[i + k]);
    reach.push_back(ceilDiv((*kernel)[i], strides[i]));
  }
  std::vector<int64_t> finalShape(outShape.begin(), outShape.end());
  if (node.hasInput(2)) {
    auto given = node.constantInts(2, "output_shape");
    if (!given)
      return given.takeError();
    if (given->size() != size_t(rank))
      return node.error("output_shape must have one value per dim");
    for (int64_t i = 0; i < rank; ++i)
      if ((*given)[i] < outShape[i])
        return node.error("output_shape is smaller than the unpooled shape");
    finalShape = *given;
  }
  OpBuilder &b = node.b;
  Location loc = node.loc;
  Value x = node.input(0), indices = node.input(1);
  Value init = filledTensor(b, loc, outShape, element, 0);
  Value window = emptyTensor(b, loc, reach, element);
  MLIRContext *ctx = b.getContext();
  int64_t loops = rank + k;
  SmallVector<AffineExpr> outExprs, winExprs;
  for (int64_t i = 0; i < rank; ++i)
    outExprs.push_back(getAffineDimExpr(i, ctx));
  for (int64_t i = 0; i < k; ++i)
    winExprs.push_back(getAffineDimExpr(rank + i, ctx));
  SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, winExprs, ctx),
                                 AffineMap::get(loops, 0, outExprs, ctx)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.append(k, utils::IteratorType::reduction);
  Value result =
      b.create<linalg::GenericOp>(
           loc, init.getType(), ValueRange{window}, ValueRange{init}, maps,
           iterators,
           [&](OpBuilder &nb, Location nl, ValueRange args) {
             Value zero = indexConstant(nb, nl, 0);
             Value n = nb.create<linalg::IndexOp>(nl, 0);
             Value c = nb.create<linalg::IndexOp>(nl, 1);
             Value flat = nb.create<arith::AddIOp>(
                 nl,
                 nb.create<arith::MulIOp>(nl, n,
                                          indexConstant(nb, nl, xShape[1])),
                 c);
             Value valid = nb.create<arith::ConstantIntOp>(nl, 1, 1);
             SmallVector<Value> at = {n, c};
             for (int64_t i = 0; i < k; ++i) {
               Value p = nb.create<linalg::IndexOp>(nl, 2 + i);
               Value r = nb.create<linalg::IndexOp>(nl, rank + i);
               flat = nb.create<arith::AddIOp>(
                   nl,
                   nb.create<arith::MulIOp>(
                       nl, flat, indexConstant(nb, nl, outShape[2 + i])),
                   p);
               // o = (p + pb) / s - r, a window that starts at or before p.
               Value shifted = nb.create<arith::AddIOp>(
                   nl, p, indexConstant(nb, nl, pads[i]));
               Value o = nb.create<arith::SubIOp>(
                   nl,
                   nb.create<arith::DivUIOp>(
                       nl, shifted, indexConstant(nb, nl, strides[i])),
                   r);
               // Valid when 0 <= o < in and p < o*s - pb + K.
               Value end = nb.create<arith::AddIOp>(
                   nl,
                   nb.create<arith::MulIOp>(nl, o,
                                            indexConstant(nb, nl, strides[i])),
                   indexConstant(nb, nl, (*kernel)[i]));
               Value ok = nb.create<arith::AndIOp>(
                   nl,
                   nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::sge, o,
                                            zero),
                   nb.create<arith::CmpIOp>(
                       nl, arith::CmpIPredicate::slt, o,
                       indexConstant(nb, nl, xShape[2 + i])));
               ok = nb.create<arith::AndIOp>(
                   nl, ok,
                   nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::slt,
                                            shifted, end));
               valid = nb.create<arith::AndIOp>(nl, valid, ok);
               Value clamped = nb.create<arith::MaxSIOp>(nl, o, zero);
               clamped = nb.create<arith::MinSIOp>(
                   nl, clamped, indexConstant(nb, nl, xShape[2 + i] - 1));
               at.push_back(clamped);
             }
             Value idx = nb.create<tensor::ExtractOp>(nl, indices, at);
             Value v = nb.create<tensor::ExtractOp>(nl, x, at);
             Value flat64 = nb.create<arith::IndexCastOp>(
                 nl, idx.getType(), flat);
             Value match = nb.create<arith::AndIOp>(
                 nl, valid,
                 nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::eq, idx,
                                          flat64));
             nb.create<linalg::YieldOp>(
                 nl, nb.create<arith::SelectOp>(nl, match, v, args.back())
                         .getResult());
           })
          .getResult(0);
  SmallVector<int64_t> low(rank, 0), high;
  for (int64_t i = 0; i < rank; ++i)
    high.push_back(finalShape[i] - outShape[i]);
  node.setOutput(0, padOrCrop(b, loc, result, low, high, 0));
  return llvm::Error::success();
}

// --- Pad. ---

/// A generic over `shape` whose element is `source` at the index
/// `sourceIndex` computes from the output index per dim.
using IndexFn = std::function<Value(OpBuilder &, Location, int64_t dim,
                                    Value index)>;

Value gatherBy(OpBuilder &b, Location loc, Value source,
               ArrayRef<int64_t> shape, const IndexFn &sourceIndex) {
  Type element = tensorType(source).getElementType();
  Value init = emptyTensor(b, loc, shape, element);
  int64_t rank = shape.size();
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          loc, init.getType(), ValueRange{}, ValueRange{init}, maps,
          iterators,
          [&](OpBuilder &nb, Location nl, ValueRange) {
            SmallVector<Value> indices;
            for (int64_t i = 0; i < rank; ++i)
              indices.push_back(
                  sourceIndex(nb, nl, i, nb.create<linalg::IndexOp>(nl, i)));
            nb.create<linalg::YieldOp>(
                nl, nb.create<tensor::ExtractOp>(nl, source, indices)
                        .getResult());
          })
      .getResult(0);
}

llvm::Error convertPad(NodeContext &node) {
  int64_t rank = node.inputRank(0);
  Type element = node.inputElementType(0);
  std::string mode = node.attrString("mode", "constant");
  std::vector<int64_t> pads;
  double value = 0;
  if (node.opset < 11) {
    pads = node.attrInts(node.hasAttr("pads") ? "pads" : "paddings");
    value = node.attrFloat("value", 0.0f);
  } else {
    auto padsInput = node.constantInts(1, "pads");
    if (!padsInput)
      return padsInput.takeError();
    pads = *padsInput;
    if (node.hasInput(2)) {
      auto values = node.constantDoubles(2, "constant_value");
      if (!values)
        return values.takeError();
      if (values->size() > 1)
        return node.error("constant_value must be a scalar");
      if (!values->empty())
        value = values->front();
    }
    if (node.hasInput(3))
      return node.error("the axes input is not supported");
  }
  if (pads.size() != size_t(2 * rank))
    return node.error("pads has " + std::to_string(pads.size()) +
                      " values for rank " + std::to_string(rank));
  ArrayRef<int64_t> low(pads.data(), rank), high(pads.data() + rank, rank);
  // Negative pads crop; they cannot crop more than the axis holds.
  ArrayRef<int64_t> inShape = node.inputShape(0);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t cropped = -std::min<int64_t>(0, low[i]) -
                      std::min<int64_t>(0, high[i]);
    if (!ShapedType::isDynamic(inShape[i]) && cropped > inShape[i])
      return node.error(llvm::formatv("pads crop {0} from axis {1} of size "
                                      "{2}",
                                      cropped, i, inShape[i])
                            .str());
  }
  OpBuilder &b = node.b;
  Location loc = node.loc;
  if (mode == "constant") {
    // A standalone pad: crop, then insert into a filled tensor (a
    // linalg.fill the pipeline can schedule, unlike a lone tensor.pad).
    SmallVector<int64_t> cropLow, cropHigh;
    for (int64_t i = 0; i < rank; ++i) {
      cropLow.push_back(std::min<int64_t>(0, low[i]));
      cropHigh.push_back(std::min<int64_t>(0, high[i]));
    }
    Value source = padOrCrop(b, loc, node.input(0), cropLow, cropHigh, 0);
    SmallVector<int64_t> srcShape = shapeOf(source), shape;
    SmallVector<OpFoldResult> offsets, sizes, strides;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t l = std::max<int64_t>(0, low[i]);
      shape.push_back(srcShape[i] + l + std::max<int64_t>(0, high[i]));
      offsets.push_back(b.getIndexAttr(l));
      sizes.push_back(b.getIndexAttr(srcShape[i]));
      strides.push_back(b.getIndexAttr(1));
    }
    if (shape == srcShape) {
      node.setOutput(0, source);
      return llvm::Error::success();
    }
    Value filled = filledTensor(b, loc, shape, element, value);
    node.setOutput(0, b.create<tensor::InsertSliceOp>(loc, source, filled,
                                                      offsets, sizes,
                                                      strides));
    return llvm::Error::success();
  }
  if (mode != "edge" && mode != "reflect")
    return node.error("pad mode '" + mode + "' is not supported");
  // Crop the negative parts first, then pad by reading mirrored/clamped.
  SmallVector<int64_t> cropLow, cropHigh, padLow, shape;
  for (int64_t i = 0; i < rank; ++i) {
    cropLow.push_back(std::min<int64_t>(0, low[i]));
    cropHigh.push_back(std::min<int64_t>(0, high[i]));
  }
  Value source = padOrCrop(b, loc, node.input(0), cropLow, cropHigh, 0);
  SmallVector<int64_t> srcShape = shapeOf(source);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t l = std::max<int64_t>(0, low[i]), h = std::max<int64_t>(0, high[i]);
    if ((l || h) && srcShape[i] == 0)
      return node.error("cannot pad an empty dim in mode " + mode);
    if (mode == "reflect" && (l >= srcShape[i] || h >= srcShape[i]) &&
        (l || h))
      return node.error("reflect pads must be smaller than the dim");
    padLow.push_back(l);
    shape.push_back(srcShape[i] + l + h);
  }
  bool reflect = mode == "reflect";
  node.setOutput(
      0, gatherBy(b, loc, source, shape,
                  [&](OpBuilder &nb, Location nl, int64_t i, Value index) {
                    if (shape[i] == srcShape[i])
                      return index;
                    int64_t n = srcShape[i];
                    Value j = nb.create<arith::SubIOp>(
                        nl, index, indexConstant(nb, nl, padLow[i]));
                    Value zero = indexConstant(nb, nl, 0);
                    Value last = indexConstant(nb, nl, n - 1);
                    if (!reflect) {
                      j = nb.create<arith::MaxSIOp>(nl, j, zero);
                      return nb.create<arith::MinSIOp>(nl, j, last)
                          .getResult();
                    }
                    Value neg = nb.create<arith::CmpIOp>(
                        nl, arith::CmpIPredicate::slt, j, zero);
                    j = nb.create<arith::SelectOp>(
                        nl, neg, nb.create<arith::SubIOp>(nl, zero, j), j);
                    Value over = nb.create<arith::CmpIOp>(
                        nl, arith::CmpIPredicate::sgt, j, last);
                    Value mirrored = nb.create<arith::SubIOp>(
                        nl, indexConstant(nb, nl, 2 * (n - 1)), j);
                    return nb.create<arith::SelectOp>(nl, over, mirrored, j)
                        .getResult();
                  }));
  return llvm::Error::success();
}

// --- Resize / Upsample. ---

struct ResizeMode {
  std::string mode = "nearest";
  std::string transform = "half_pixel";
  std::string nearest = "round_prefer_floor"; // or "simple" (opset <= 10)
  double cubicA = -0.75;
  bool excludeOutside = false;
  double extrapolation = 0;
};

/// One axis's taps: for output coordinate o, taps idx[o*T + t] with
/// weights w[o*T + t]; idx -1 marks an extrapolated coordinate.
struct Taps {
  int64_t count = 1;
  std::vector<int64_t> idx;
  std::vector<double> weights;
};

Taps computeTaps(const ResizeMode &m, int64_t in, int64_t out, double scale,
                 double roiStart, double roiEnd) {
  Taps taps;
  taps.count = m.mode == "nearest" ? 1 : m.mode == "linear" ? 2 : 4;
  double outWidth = scale * double(in);
  for (int64_t o = 0; o < out; ++o) {
    double x = double(o), xo;
    bool outside = false;
    if (m.transform == "align_corners") {
      xo = outWidth == 1 ? 0.0 : x * double(in - 1) / (outWidth - 1);
    } else if (m.transform == "asymmetric") {
      xo = x / scale;
    } else if (m.transform == "tf_crop_and_resize") {
      xo = out == 1 ? (roiEnd - roiStart) * double(in - 1) / 2
                    : x * (roiEnd - roiStart) * double(in - 1) /
                          double(out - 1);
      xo += roiStart * double(in - 1);
      outside = xo < 0 || xo > double(in - 1);
    } else if (m.transform == "pytorch_half_pixel") {
      xo = outWidth == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    } else if (m.transform == "tf_half_pixel_for_nn") {
      xo = (x + 0.5) / scale;
    } else {
      xo = (x + 0.5) / scale - 0.5;
    }
    auto clampIdx = [&](int64_t i) {
      return std::min<int64_t>(std::max<int64_t>(i, 0), in - 1);
    };
    if (outside) {
      for (int64_t t = 0; t < taps.count; ++t) {
        taps.idx.push_back(-1);
        taps.weights.push_back(0);
      }
      continue;
    }
    double fl = std::floor(xo);
    bool integral = fl == xo;
    if (taps.count == 1) {
      double frac = xo - fl;
      int64_t pick;
      if (integral)
        pick = int64_t(xo);
      else if (m.nearest == "floor")
        pick = int64_t(fl);
      else if (m.nearest == "ceil")
        pick = int64_t(fl) + 1;
      else if (m.nearest == "round_prefer_ceil")
        pick = int64_t(fl) + (frac >= 0.5 ? 1 : 0);
      else if (m.nearest == "simple")
        pick = scale < 1 ? int64_t(fl) + 1 : int64_t(fl);
      else
        pick = int64_t(fl) + (frac > 0.5 ? 1 : 0);
      taps.idx.push_back(clampIdx(pick));
      taps.weights.push_back(1);
      continue;
    }
    int64_t ceilX = int64_t(std::ceil(xo));
    double r = xo - double(ceilX - 1); // in (0, 1]
    std::vector<double> coeffs;
    if (taps.count == 2) {
      coeffs = {1 - r, r};
    } else {
      double a = m.cubicA;
      auto far = [&](double s) { return ((a * s - 5 * a) * s + 8 * a) * s - 4 * a; };
      auto near = [&](double s) {
        return ((a + 2) * s - (a + 3)) * s * s + 1;
      };
      coeffs = {far(r + 1), near(r), near(1 - r), far(2 - r)};
    }
    int64_t base = ceilX - taps.count / 2;
    if (m.excludeOutside) {
      double sum = 0;
      for (int64_t t = 0; t < taps.count; ++t) {
        int64_t i = base + t;
        if (i < 0 || i >= in)
          coeffs[t] = 0;
        sum += coeffs[t];
      }
      for (double &cf : coeffs)
        cf /= sum;
    }
    for (int64_t t = 0; t < taps.count; ++t) {
      taps.idx.push_back(clampIdx(base + t));
      taps.weights.push_back(coeffs[t]);
    }
  }
  return taps;
}

bool isIdentity(const Taps &taps, int64_t in, int64_t out) {
  if (in != out)
    return false;
  for (int64_t o = 0; o < out; ++o) {
    double sum = 0;
    for (int64_t t = 0; t < taps.count; ++t) {
      int64_t i = taps.idx[o * taps.count + t];
      double w = taps.weights[o * taps.count + t];
      if (i < 0 || (w != 0 && i != o))
        return false;
      sum += w;
    }
    if (sum != 1)
      return false;
  }
  return true;
}

/// Resizes `input` along `axis` by `taps`:
/// out[.., o, ..] = sum_t w[o, t] * in[.., idx[o, t], ..].
Value resizeAxis(OpBuilder &b, Location loc, Value input, int64_t axis,
                 int64_t out, const Taps &taps, const ResizeMode &m) {
  SmallVector<int64_t> shape = shapeOf(input);
  Type element = tensorType(input).getElementType();
  int64_t rank = shape.size();
  shape[axis] = out;
  MLIRContext *ctx = b.getContext();
  int64_t count = taps.count;
  Value idx = constantTensor(
      b, loc, intsAttr(b.getI64Type(), {out, count}, taps.idx));
  SmallVector<Value> ins = {idx};
  AffineMap tableMap = AffineMap::get(
      rank + 1, 0,
      {getAffineDimExpr(axis, ctx), getAffineDimExpr(rank, ctx)}, ctx);
  SmallVector<AffineMap> maps = {tableMap};
  if (count > 1) {
    ins.push_back(constantTensor(
        b, loc, doublesAttr(element, {out, count}, taps.weights)));
    maps.push_back(tableMap);
  }
  SmallVector<AffineExpr> outExprs;
  for (int64_t i = 0; i < rank; ++i)
    outExprs.push_back(getAffineDimExpr(i, ctx));
  maps.push_back(AffineMap::get(rank + 1, 0, outExprs, ctx));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators.push_back(utils::IteratorType::reduction);
  Value init = filledTensor(b, loc, shape, element, 0);
  bool crop = m.transform == "tf_crop_and_resize";
  return b
      .create<linalg::GenericOp>(
          loc, init.getType(), ins, ValueRange{init}, maps, iterators,
          [&](OpBuilder &nb, Location nl, ValueRange args) {
            Value i64 = args[0];
            Value acc = args.back();
            Value zero64 = scalarConstant(nb, nl, i64.getType(), 0);
            Value outside;
            if (crop) {
              outside = nb.create<arith::CmpIOp>(
                  nl, arith::CmpIPredicate::slt, i64, zero64);
              i64 = nb.create<arith::MaxSIOp>(nl, i64, zero64);
            }
            SmallVector<Value> indices;
            for (int64_t i = 0; i < rank; ++i)
              indices.push_back(
                  i == axis
                      ? nb.create<arith::IndexCastOp>(nl, nb.getIndexType(),
                                                      i64)
                            .getResult()
                      : nb.create<linalg::IndexOp>(nl, i).getResult());
            Value x = nb.create<tensor::ExtractOp>(nl, input, indices);
            Value r = count == 1
                          ? x
                          : addValues(nb, nl, acc,
                                      mulValues(nb, nl, args[1], x));
            if (crop)
              r = nb.create<arith::SelectOp>(
                  nl, outside,
                  scalarConstant(nb, nl, element, m.extrapolation), r);
            nb.create<linalg::YieldOp>(nl, r);
          })
      .getResult(0);
}

llvm::Error emitResize(NodeContext &node, const ResizeMode &m,
                       std::vector<double> scales, std::vector<int64_t> sizes,
                       std::vector<double> roi) {
  int64_t rank = node.inputRank(0);
  ArrayRef<int64_t> inShape = node.inputShape(0);
  Type element = node.inputElementType(0);
  if (m.mode != "nearest" && m.mode != "linear" && m.mode != "cubic")
    return node.error("resize mode '" + m.mode + "' is not supported");
  if (m.mode != "nearest" && !isFloat(element))
    return node.error("linear and cubic resize need a float input");
  static const char *transforms[] = {
      "half_pixel",         "asymmetric",         "align_corners",
      "pytorch_half_pixel", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  if (!llvm::is_contained(transforms, m.transform))
    return node.error("coordinate_transformation_mode '" + m.transform +
                      "' is not supported");
  if (!scales.empty() && scales.size() != size_t(rank))
    return node.error("scales has " + std::to_string(scales.size()) +
                      " values for rank " + std::to_string(rank));
  if (!sizes.empty() && sizes.size() != size_t(rank))
    return node.error("sizes has " + std::to_string(sizes.size()) +
                      " values for rank " + std::to_string(rank));
  if (scales.empty() && sizes.empty())
    return node.error("needs scales or sizes");
  if (m.transform == "tf_crop_and_resize" && roi.size() != size_t(2 * rank))
    return node.error("tf_crop_and_resize needs an roi of 2 x rank values");
  Value value = node.input(0);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t in = inShape[i];
    int64_t out;
    double scale;
    if (!sizes.empty()) {
      out = sizes[i];
      scale = double(out) / double(in);
    } else {
      scale = scales[i];
      if (scale <= 0)
        return node.error("scales must be positive");
      out = int64_t(std::floor(scale * double(in)));
    }
    if (out < 1)
      return node.error("the output would be empty");
    double roiStart = roi.empty() ? 0 : roi[i];
    double roiEnd = roi.empty() ? 1 : roi[i + rank];
    Taps taps = computeTaps(m, in, out, scale, roiStart, roiEnd);
    if (isIdentity(taps, in, out))
      continue;
    value = resizeAxis(node.b, node.loc, value, i, out, taps, m);
  }
  node.setOutput(0, value);
  return llvm::Error::success();
}

/// Scales or sizes from an optional input: empty when absent or empty.
llvm::Error optionalDoubles(NodeContext &node, size_t i, StringRef what,
                            std::vector<double> &out) {
  if (!node.hasInput(i))
    return llvm::Error::success();
  auto values = node.constantDoubles(i, what);
  if (!values)
    return values.takeError();
  out = *values;
  return llvm::Error::success();
}

llvm::Error convertResize(NodeContext &node) {
  ResizeMode m;
  m.mode = node.attrString("mode", "nearest");
  std::vector<double> scales, roi;
  std::vector<int64_t> sizes;
  if (node.opset < 11) {
    m.transform = "asymmetric";
    m.nearest = "simple";
    if (llvm::Error err = optionalDoubles(node, 1, "scales", scales))
      return err;
  } else {
    m.transform = node.attrString("coordinate_transformation_mode",
                                  "half_pixel");
    m.nearest = node.attrString("nearest_mode", "round_prefer_floor");
    m.cubicA = node.attrFloat("cubic_coeff_a", -0.75f);
    m.excludeOutside = node.attrInt("exclude_outside", 0) != 0;
    m.extrapolation = node.attrFloat("extrapolation_value", 0.0f);
    if (m.transform == "tf_crop_and_resize")
      if (llvm::Error err = optionalDoubles(node, 1, "roi", roi))
        return err;
    if (llvm::Error err = optionalDoubles(node, 2, "scales", scales))
      return err;
    if (node.hasInput(3)) {
      auto values = node.constantInts(3, "sizes");
      if (!values)
        return values.takeError();
      sizes = *values;
    }
    if (!scales.empty() && !sizes.empty())
      return node.error("only one of scales and sizes may be given");
  }
  if (node.hasAttr("keep_aspect_ratio_policy") || node.hasAttr("axes") ||
      node.attrInt("antialias", 0))
    return node.error("antialias, axes and keep_aspect_ratio_policy are not "
                      "supported");
  return emitResize(node, m, scales, sizes, roi);
}

llvm::Error convertUpsample(NodeContext &node) {
  ResizeMode m;
  m.mode = node.attrString("mode", "nearest");
  if (m.mode == "bilinear")
    m.mode = "linear";
  m.transform = "asymmetric";
  m.nearest = "simple";
  std::vector<double> scales;
  if (node.hasAttr("scales")) {
    for (float s : node.attrFloats("scales"))
      scales.push_back(s);
  } else if (llvm::Error err = optionalDoubles(node, 1, "scales", scales)) {
    return err;
  }
  if (m.mode != "nearest" && m.mode != "linear")
    return node.error("upsample mode '" + m.mode + "' is not supported");
  return emitResize(node, m, scales, {}, {});
}

} // namespace

void registerConvOps(ConverterRegistry &r) {
  r["Conv"] = {convertConv};
  r["ConvTranspose"] = {convertConvTranspose};
  r["MaxPool"] = {[](NodeContext &node) {
    return convertPool(node, Pool::Max);
  }};
  r["AveragePool"] = {[](NodeContext &node) {
    return convertPool(node, Pool::Average);
  }};
  r["LpPool"] = {[](NodeContext &node) { return convertPool(node, Pool::Lp); }};
  r["GlobalMaxPool"] = {[](NodeContext &node) {
    return convertGlobalPool(node, Pool::Max);
  }};
  r["GlobalAveragePool"] = {[](NodeContext &node) {
    return convertGlobalPool(node, Pool::Average);
  }};
  r["GlobalLpPool"] = {[](NodeContext &node) {
    return convertGlobalPool(node, Pool::Lp);
  }};
  r["MaxUnpool"] = {convertMaxUnpool, 9, 17};
  r["Pad"] = {convertPad};
  r["Resize"] = {convertResize, 10, 17};
  r["Upsample"] = {convertUpsample, 7, 9};
}

} // namespace hatc::frontend
