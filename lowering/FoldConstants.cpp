//===- FoldConstants.cpp - Weight-only subgraphs computed at compile time -===//
//
//   linalg.transpose / linalg.broadcast / tensor.{expand,collapse}_shape
//     of a constant                        -> a constant
//   conv + generic{a[c] * x + b[c]}        -> conv with scaled filter and
//     (BatchNormalization, bias, scale)       bias a * bias + b
//   matmul(A, constant B of N columns)     -> matmul(A, B padded with zero
//     (option pad-matmul-columns)             columns), result sliced to N
//   NHWC conv(x, constant filter whose   -> the filter's rows padded by a
//     rows are 1 KiB apart)                  cache line, sliced back
//     (option pad-conv-filters)
//
// See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "hatc/Lowering/Passes.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cstring>

using namespace mlir;

namespace hatc {
#define GEN_PASS_DEF_FOLDCONSTANTS
#include "hatc/Lowering/Passes.h.inc"
} // namespace hatc

namespace hatc {
namespace {

//===----------------------------------------------------------------------===//
// Constant data as bytes
//===----------------------------------------------------------------------===//

/// A constant's elements, row-major, splats expanded.
struct ConstantData {
  RankedTensorType type;
  int64_t elementBytes = 0;
  std::vector<char> bytes;
  std::string name; // resource key, a hint for the folded blob's name
};

/// Bytes per element of types whose dense and resource storage is plain
/// packed bytes (not i1, which DenseElementsAttr packs as bits; not index).
int64_t storageBytes(Type element) {
  if (!isa<FloatType, IntegerType>(element))
    return 0;
  unsigned bits = element.getIntOrFloatBitWidth();
  return bits % 8 == 0 ? bits / 8 : 0;
}

std::optional<ConstantData> readConstant(Value value) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  ConstantData data;
  data.type = type;
  data.elementBytes = storageBytes(type.getElementType());
  if (data.elementBytes == 0)
    return std::nullopt;
  size_t size = size_t(type.getNumElements()) * data.elementBytes;
  if (auto dense = dyn_cast<DenseIntOrFPElementsAttr>(attr)) {
    ArrayRef<char> raw = dense.getRawData();
    if (dense.isSplat()) {
      if (raw.size() != size_t(data.elementBytes))
        return std::nullopt;
      data.bytes.reserve(size);
      for (int64_t i = 0, e = type.getNumElements(); i < e; ++i)
        data.bytes.insert(data.bytes.end(), raw.begin(), raw.end());
      return data;
    }
    if (raw.size() != size)
      return std::nullopt;
    data.bytes.assign(raw.begin(), raw.end());
    return data;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    DenseResourceElementsHandle handle = resource.getRawHandle();
    const AsmResourceBlob *blob = handle.getBlob();
    if (!blob) // elided, or never given data
      return std::nullopt;
    ArrayRef<char> raw = blob->getData();
    if (raw.size() != size)
      return std::nullopt;
    data.bytes.assign(raw.begin(), raw.end());
    data.name = handle.getKey().str();
    return data;
  }
  return std::nullopt;
}

/// A constant op holding `bytes` as `type`: a dense_resource blob (named
/// after `hint`) above `threshold` elements, else a dense attribute.
Value makeConstant(PatternRewriter &rewriter, Location loc,
                   RankedTensorType type, ArrayRef<char> bytes,
                   StringRef hint, int64_t threshold) {
  TypedAttr attr;
  if (type.getNumElements() > threshold) {
    std::string name = (hint.empty() ? "folded" : hint.str() + "_folded");
    AsmResourceBlob blob =
        HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignof(double));
    attr = DenseResourceElementsAttr::get(type, name, std::move(blob));
  } else {
    attr = DenseElementsAttr::getFromRawBuffer(type, bytes);
  }
  return rewriter.create<arith::ConstantOp>(loc, attr);
}

/// `data` with its last dim padded with zeros to `padded` elements, as a
/// constant (a matmul's B to more columns, a conv filter's rows by a
/// cache line).
Value paddedLastDim(PatternRewriter &rewriter, Location loc,
                    const ConstantData &data, int64_t padded,
                    int64_t threshold) {
  SmallVector<int64_t> shape(data.type.getShape());
  int64_t last = shape.back(), width = data.elementBytes;
  int64_t rows = data.type.getNumElements() / last;
  std::vector<char> bytes(size_t(rows * padded * width), 0);
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(bytes.data() + r * padded * width,
                data.bytes.data() + r * last * width, size_t(last * width));
  shape.back() = padded;
  return makeConstant(rewriter, loc,
                      RankedTensorType::get(shape, data.type.getElementType()),
                      bytes, data.name, threshold);
}

SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = int64_t(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Copies elements of `source` into a tensor of `resultShape`: result
/// element at index r comes from source element sum_i r[i] * strides[i]
/// (stride 0 for broadcast dims).
std::vector<char> gather(const ConstantData &source,
                         ArrayRef<int64_t> resultShape,
                         ArrayRef<int64_t> sourceStrides) {
  int64_t count = 1;
  for (int64_t d : resultShape)
    count *= d;
  int64_t width = source.elementBytes;
  std::vector<char> out(size_t(count) * width);
  SmallVector<int64_t> index(resultShape.size(), 0);
  for (int64_t linear = 0; linear < count; ++linear) {
    int64_t offset = 0;
    for (size_t i = 0; i < index.size(); ++i)
      offset += index[i] * sourceStrides[i];
    std::memcpy(out.data() + linear * width,
                source.bytes.data() + offset * width, width);
    for (int64_t i = int64_t(index.size()) - 1; i >= 0; --i) {
      if (++index[i] < resultShape[i])
        break;
      index[i] = 0;
    }
  }
  return out;
}

//===----------------------------------------------------------------------===//
// Data movement of constants
//===----------------------------------------------------------------------===//

struct FoldConstantTranspose : OpRewritePattern<linalg::TransposeOp> {
  FoldConstantTranspose(MLIRContext *context, int64_t threshold)
      : OpRewritePattern(context), threshold(threshold) {}

  LogicalResult matchAndRewrite(linalg::TransposeOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    auto data = readConstant(op.getInput());
    if (!data)
      return rewriter.notifyMatchFailure(op, "input is not a readable constant");
    auto resultType = cast<RankedTensorType>(op.getResult()[0].getType());
    // Result dim i is input dim perm[i].
    SmallVector<int64_t> inputStrides = rowMajorStrides(data->type.getShape());
    SmallVector<int64_t> strides;
    for (int64_t p : op.getPermutation())
      strides.push_back(inputStrides[p]);
    std::vector<char> bytes = gather(*data, resultType.getShape(), strides);
    rewriter.replaceOp(op, makeConstant(rewriter, op.getLoc(), resultType,
                                        bytes, data->name, threshold));
    return success();
  }

  int64_t threshold;
};

struct FoldConstantBroadcast : OpRewritePattern<linalg::BroadcastOp> {
  FoldConstantBroadcast(MLIRContext *context, int64_t threshold,
                        int64_t maxElements)
      : OpRewritePattern(context), threshold(threshold),
        maxElements(maxElements) {}

  LogicalResult matchAndRewrite(linalg::BroadcastOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    auto resultType = cast<RankedTensorType>(op.getResult()[0].getType());
    if (!resultType.hasStaticShape() ||
        resultType.getNumElements() > maxElements)
      return rewriter.notifyMatchFailure(op, "result too large to fold");
    // An accumulator (a conv's bias) stays a broadcast: a constant there
    // would be copied into the output buffer on every run.
    for (OpOperand &use : op->getResult(0).getUses()) {
      auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
      if (dps && dps.isDpsInit(&use))
        return rewriter.notifyMatchFailure(op, "is an accumulator");
    }
    auto data = readConstant(op.getInput());
    if (!data)
      return rewriter.notifyMatchFailure(op, "input is not a readable constant");
    SmallVector<int64_t> inputStrides = rowMajorStrides(data->type.getShape());
    SmallVector<int64_t> strides;
    ArrayRef<int64_t> added = op.getDimensions();
    size_t next = 0;
    for (int64_t d = 0; d < resultType.getRank(); ++d)
      strides.push_back(llvm::is_contained(added, d) ? 0
                                                      : inputStrides[next++]);
    std::vector<char> bytes = gather(*data, resultType.getShape(), strides);
    rewriter.replaceOp(op, makeConstant(rewriter, op.getLoc(), resultType,
                                        bytes, data->name, threshold));
    return success();
  }

  int64_t threshold, maxElements;
};

/// expand_shape / collapse_shape: the same bytes under a new type.
template <typename ReshapeOp>
struct FoldConstantReshape : OpRewritePattern<ReshapeOp> {
  FoldConstantReshape(MLIRContext *context, int64_t threshold)
      : OpRewritePattern<ReshapeOp>(context), threshold(threshold) {}

  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto resultType = dyn_cast<RankedTensorType>(op.getResult().getType());
    if (!resultType || !resultType.hasStaticShape())
      return failure();
    auto data = readConstant(op.getSrc());
    if (!data)
      return rewriter.notifyMatchFailure(op, "source is not a readable constant");
    rewriter.replaceOp(op, makeConstant(rewriter, op.getLoc(), resultType,
                                        data->bytes, data->name, threshold));
    return success();
  }

  int64_t threshold;
};

//===----------------------------------------------------------------------===//
// Per-channel affine consumers folded into convolutions
//===----------------------------------------------------------------------===//

/// Where a convolution keeps its output channels.
struct ConvLayout {
  int64_t outputChannelDim; // in the output (and the loop of the consumer)
  int64_t filterChannelDim; // in the filter
};

std::optional<ConvLayout> convLayout(Operation *op) {
  if (isa<linalg::Conv2DNchwFchwOp>(op))
    return ConvLayout{1, 0};
  if (isa<linalg::DepthwiseConv2DNchwChwOp>(op))
    return ConvLayout{1, 0};
  if (isa<linalg::Conv2DNhwcHwcfOp>(op))
    return ConvLayout{3, 3};
  if (isa<linalg::DepthwiseConv2DNhwcHwcOp>(op))
    return ConvLayout{3, 2};
  return std::nullopt;
}

double loadElement(const ConstantData &data, int64_t index) {
  if (data.elementBytes == 4) {
    float v;
    std::memcpy(&v, data.bytes.data() + index * 4, 4);
    return v;
  }
  double v;
  std::memcpy(&v, data.bytes.data() + index * 8, 8);
  return v;
}

void storeElement(std::vector<char> &bytes, Type element, int64_t index,
                  double value) {
  if (element.isF32()) {
    float v = float(value);
    std::memcpy(bytes.data() + index * 4, &v, 4);
    return;
  }
  std::memcpy(bytes.data() + index * 8, &value, 8);
}

/// `scale * x + offset`, per channel; `dependsOnX` false means a constant
/// (scale all zero).
struct PerChannelAffine {
  bool dependsOnX = false;
  std::vector<double> scale, offset;
};

/// The per-channel values of constant `operand` read through `map`, whose
/// results may only be the channel loop, a constant 0, or nothing
/// (a scalar).
std::optional<std::vector<double>> perChannel(Value operand, AffineMap map,
                                              int64_t channelLoop,
                                              int64_t channels) {
  auto data = readConstant(operand);
  if (!data || (!data->type.getElementType().isF32() &&
                !data->type.getElementType().isF64()))
    return std::nullopt;
  SmallVector<int64_t> strides = rowMajorStrides(data->type.getShape());
  std::vector<double> values(channels);
  for (int64_t c = 0; c < channels; ++c) {
    int64_t offset = 0;
    for (auto [i, expr] : llvm::enumerate(map.getResults())) {
      if (auto dim = dyn_cast<AffineDimExpr>(expr)) {
        if (dim.getPosition() != channelLoop)
          return std::nullopt;
        if (data->type.getDimSize(i) == 1)
          continue; // broadcast along the channels
        if (data->type.getDimSize(i) != channels)
          return std::nullopt;
        offset += c * strides[i];
        continue;
      }
      auto cst = dyn_cast<AffineConstantExpr>(expr);
      if (!cst || cst.getValue() != 0)
        return std::nullopt;
    }
    values[c] = loadElement(*data, offset);
  }
  return values;
}

/// Evaluates the body of `generic` as a per-channel affine function of
/// its input `xIndex`; nullopt when it is not one.
std::optional<PerChannelAffine> evaluateAffineBody(linalg::GenericOp generic,
                                                   unsigned xIndex,
                                                   int64_t channelLoop,
                                                   int64_t channels) {
  Block &body = generic.getRegion().front();
  DenseMap<Value, PerChannelAffine> values;
  auto constant = [&](std::vector<double> v) {
    PerChannelAffine a;
    a.scale.assign(channels, 0.0);
    a.offset = std::move(v);
    return a;
  };
  for (OpOperand *input : generic.getDpsInputOperands()) {
    unsigned i = input->getOperandNumber();
    Value arg = body.getArgument(i);
    if (i == xIndex) {
      PerChannelAffine x;
      x.dependsOnX = true;
      x.scale.assign(channels, 1.0);
      x.offset.assign(channels, 0.0);
      values[arg] = x;
      continue;
    }
    auto v = perChannel(input->get(), generic.getMatchingIndexingMap(input),
                        channelLoop, channels);
    if (!v)
      return std::nullopt;
    values[arg] = constant(std::move(*v));
  }
  // Scalar constants may live outside the body (canonicalization hoists
  // them).
  auto lookup = [&](Value v) -> const PerChannelAffine * {
    auto it = values.find(v);
    if (it != values.end())
      return &it->second;
    FloatAttr f;
    if (!matchPattern(v, m_Constant(&f)))
      return nullptr;
    return &(values[v] =
                 constant(std::vector<double>(channels, f.getValueAsDouble())));
  };
  for (Operation &op : body.without_terminator()) {
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      auto f = dyn_cast<FloatAttr>(cst.getValue());
      if (!f)
        return std::nullopt;
      values[cst] = constant(std::vector<double>(channels, f.getValueAsDouble()));
      continue;
    }
    if (op.getNumResults() != 1)
      return std::nullopt;
    // Copies: lookup may grow `values`, which moves its entries.
    SmallVector<PerChannelAffine> argValues;
    for (Value operand : op.getOperands()) {
      const PerChannelAffine *a = lookup(operand);
      if (!a)
        return std::nullopt;
      argValues.push_back(*a);
    }
    SmallVector<const PerChannelAffine *> args;
    for (const PerChannelAffine &a : argValues)
      args.push_back(&a);
    PerChannelAffine r;
    r.scale.resize(channels);
    r.offset.resize(channels);
    if (isa<arith::AddFOp, arith::SubFOp>(op)) {
      double sign = isa<arith::SubFOp>(op) ? -1.0 : 1.0;
      r.dependsOnX = args[0]->dependsOnX || args[1]->dependsOnX;
      for (int64_t c = 0; c < channels; ++c) {
        r.scale[c] = args[0]->scale[c] + sign * args[1]->scale[c];
        r.offset[c] = args[0]->offset[c] + sign * args[1]->offset[c];
      }
    } else if (isa<arith::MulFOp>(op)) {
      if (args[0]->dependsOnX && args[1]->dependsOnX)
        return std::nullopt;
      const PerChannelAffine *x = args[0]->dependsOnX ? args[0] : args[1];
      const PerChannelAffine *k = args[0]->dependsOnX ? args[1] : args[0];
      r.dependsOnX = x->dependsOnX;
      for (int64_t c = 0; c < channels; ++c) {
        r.scale[c] = x->scale[c] * k->offset[c];
        r.offset[c] = x->offset[c] * k->offset[c];
      }
    } else if (isa<arith::DivFOp>(op)) {
      if (args[1]->dependsOnX)
        return std::nullopt;
      r.dependsOnX = args[0]->dependsOnX;
      for (int64_t c = 0; c < channels; ++c) {
        r.scale[c] = args[0]->scale[c] / args[1]->offset[c];
        r.offset[c] = args[0]->offset[c] / args[1]->offset[c];
      }
    } else if (isa<arith::NegFOp>(op)) {
      r.dependsOnX = args[0]->dependsOnX;
      for (int64_t c = 0; c < channels; ++c) {
        r.scale[c] = -args[0]->scale[c];
        r.offset[c] = -args[0]->offset[c];
      }
    } else if (isa<math::SqrtOp, math::RsqrtOp>(op)) {
      if (args[0]->dependsOnX)
        return std::nullopt;
      bool reciprocal = isa<math::RsqrtOp>(op);
      for (int64_t c = 0; c < channels; ++c) {
        double s = std::sqrt(args[0]->offset[c]);
        r.offset[c] = reciprocal ? 1.0 / s : s;
        r.scale[c] = 0.0;
      }
    } else {
      return std::nullopt;
    }
    values[op.getResult(0)] = std::move(r);
  }
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  const PerChannelAffine *result = lookup(yield.getOperand(0));
  if (!result || !result->dependsOnX)
    return std::nullopt;
  for (int64_t c = 0; c < channels; ++c)
    if (!std::isfinite(result->scale[c]) || !std::isfinite(result->offset[c]))
      return std::nullopt;
  return *result;
}

/// The conv's accumulator as one value per output channel: a fill of a
/// constant, or a broadcast of a constant along every other dim.
std::optional<std::vector<double>> accumulatorBias(Value init,
                                                   int64_t channelDim,
                                                   int64_t channels) {
  if (auto fill = init.getDefiningOp<linalg::FillOp>()) {
    FloatAttr value;
    if (!matchPattern(fill.getInputs().front(), m_Constant(&value)))
      return std::nullopt;
    return std::vector<double>(channels, value.getValueAsDouble());
  }
  auto broadcast = init.getDefiningOp<linalg::BroadcastOp>();
  if (!broadcast)
    return std::nullopt;
  int64_t rank = cast<RankedTensorType>(init.getType()).getRank();
  SmallVector<int64_t> kept;
  for (int64_t d = 0; d < rank; ++d)
    if (!llvm::is_contained(broadcast.getDimensions(), d))
      kept.push_back(d);
  if (kept.size() != 1 || kept[0] != channelDim)
    return std::nullopt;
  auto data = readConstant(broadcast.getInput());
  if (!data || (!data->type.getElementType().isF32() &&
                !data->type.getElementType().isF64()))
    return std::nullopt;
  std::vector<double> bias(channels);
  for (int64_t c = 0; c < channels; ++c)
    bias[c] = loadElement(*data, c);
  return bias;
}

struct FoldAffineIntoConv : OpRewritePattern<linalg::GenericOp> {
  FoldAffineIntoConv(MLIRContext *context, int64_t threshold)
      : OpRewritePattern(context), threshold(threshold) {}

  LogicalResult matchAndRewrite(linalg::GenericOp generic,
                                PatternRewriter &rewriter) const override {
    if (!generic.hasPureTensorSemantics() || generic.getNumDpsInits() != 1 ||
        generic.getNumParallelLoops() != generic.getNumLoops())
      return failure();
    OpOperand *out = generic.getDpsInitOperand(0);
    if (!generic.getMatchingIndexingMap(out).isIdentity() ||
        generic.payloadUsesValueFromOperand(out))
      return failure();
    // The one input that is a convolution's result.
    Operation *conv = nullptr;
    unsigned xIndex = 0;
    for (OpOperand *input : generic.getDpsInputOperands()) {
      Operation *producer = input->get().getDefiningOp();
      if (!producer || !convLayout(producer))
        continue;
      if (conv)
        return rewriter.notifyMatchFailure(generic, "two convolution inputs");
      conv = producer;
      xIndex = input->getOperandNumber();
      if (!generic.getMatchingIndexingMap(input).isIdentity())
        return failure();
    }
    if (!conv || !conv->getResult(0).hasOneUse())
      return rewriter.notifyMatchFailure(generic, "no single-use conv input");
    auto linalgConv = cast<linalg::LinalgOp>(conv);
    if (!linalgConv.hasPureTensorSemantics())
      return failure();
    ConvLayout layout = *convLayout(conv);
    auto resultType = cast<RankedTensorType>(conv->getResult(0).getType());
    Type element = resultType.getElementType();
    if ((!element.isF32() && !element.isF64()) ||
        resultType != generic.getResult(0).getType() ||
        !resultType.hasStaticShape())
      return failure();
    int64_t channels = resultType.getDimSize(layout.outputChannelDim);

    auto affine = evaluateAffineBody(generic, xIndex, layout.outputChannelDim,
                                     channels);
    if (!affine)
      return rewriter.notifyMatchFailure(generic,
                                         "body is not per-channel affine");
    Value filterValue = linalgConv.getDpsInputOperand(1)->get();
    auto filter = readConstant(filterValue);
    if (!filter || filter->type.getElementType() != element ||
        filter->type.getDimSize(layout.filterChannelDim) != channels)
      return rewriter.notifyMatchFailure(generic, "filter is not a constant");
    Value init = linalgConv.getDpsInitOperand(0)->get();
    auto bias = accumulatorBias(init, layout.outputChannelDim, channels);
    if (!bias)
      return rewriter.notifyMatchFailure(generic,
                                         "accumulator is not a constant bias");

    // Filter scaled per output channel, bias moved through the affine map.
    std::vector<char> scaled(filter->bytes.size());
    ArrayRef<int64_t> filterShape = filter->type.getShape();
    SmallVector<int64_t> strides = rowMajorStrides(filterShape);
    for (int64_t i = 0, e = filter->type.getNumElements(); i < e; ++i) {
      int64_t c = (i / strides[layout.filterChannelDim]) %
                  filterShape[layout.filterChannelDim];
      storeElement(scaled, element, i,
                   loadElement(*filter, i) * affine->scale[c]);
    }
    auto biasType = RankedTensorType::get({channels}, element);
    std::vector<char> newBias(size_t(channels) * filter->elementBytes);
    for (int64_t c = 0; c < channels; ++c)
      storeElement(newBias, element, c,
                   affine->scale[c] * (*bias)[c] + affine->offset[c]);

    Location loc = conv->getLoc();
    rewriter.setInsertionPoint(conv);
    Value newFilter = makeConstant(rewriter, loc, filter->type, scaled,
                                   filter->name, threshold);
    Value biasConst =
        makeConstant(rewriter, loc, biasType, newBias, "", threshold);
    Value empty = rewriter.create<tensor::EmptyOp>(loc, resultType.getShape(),
                                                   element);
    SmallVector<int64_t> added;
    for (int64_t d = 0; d < resultType.getRank(); ++d)
      if (d != layout.outputChannelDim)
        added.push_back(d);
    Value acc = rewriter
                    .create<linalg::BroadcastOp>(loc, biasConst, empty, added)
                    .getResult()[0];
    Operation *folded = rewriter.clone(*conv);
    folded->setOperand(1, newFilter);
    folded->setOperand(linalgConv.getDpsInitOperand(0)->getOperandNumber(),
                       acc);
    rewriter.replaceOp(generic, folded->getResults());
    rewriter.eraseOp(conv);
    return success();
  }

  int64_t threshold;
};

/// The columns a matmul's constant B is padded to: the next multiple of 64
/// (of 16 where that adds more than an eighth), none where 16 divides N
/// already or padding would add more than an eighth.
std::optional<int64_t> paddedColumns(int64_t n) {
  if (n % 16 == 0)
    return std::nullopt;
  for (int64_t step : {64, 16}) {
    int64_t padded = (n + step - 1) / step * step;
    if ((padded - n) * 8 <= n)
      return padded;
  }
  return std::nullopt;
}

/// A matmul whose B is a constant with a column count no register tile
/// divides (a classifier's 1000 classes, a vocabulary): the same matmul on
/// B padded with zero columns, its result sliced back. The schedules then
/// read B in place or fold its panels at compile time, where its cache
/// tiles were padded (copied) on every run. MobileNetV2's 1x1280 x
/// 1280x1000 head: 163 us before.
struct PadConstantMatmulColumns : OpRewritePattern<linalg::MatmulOp> {
  PadConstantMatmulColumns(MLIRContext *context, int64_t threshold)
      : OpRewritePattern(context), threshold(threshold) {}

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    auto fill = op.getOutputs()[0].getDefiningOp<linalg::FillOp>();
    if (!fill)
      return rewriter.notifyMatchFailure(op, "the accumulator is not a fill");
    auto data = readConstant(op.getInputs()[1]);
    if (!data || data->type.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "B is not a readable constant");
    int64_t N = data->type.getDimSize(1);
    std::optional<int64_t> padded = paddedColumns(N);
    if (!padded)
      return rewriter.notifyMatchFailure(op, "N needs no padding");
    Location loc = op.getLoc();
    Value b = paddedLastDim(rewriter, loc, *data, *padded, threshold);
    auto resultType = cast<RankedTensorType>(op.getResult(0).getType());
    int64_t M = resultType.getDimSize(0);
    Value empty = rewriter.create<tensor::EmptyOp>(
        loc, ArrayRef<int64_t>{M, *padded}, resultType.getElementType());
    Value acc = rewriter
                    .create<linalg::FillOp>(loc, fill.getInputs().front(),
                                            empty)
                    .getResult(0);
    Value product = rewriter
                        .create<linalg::MatmulOp>(
                            loc, acc.getType(),
                            ValueRange{op.getInputs()[0], b}, ValueRange{acc})
                        .getResult(0);
    SmallVector<OpFoldResult> offsets(2, rewriter.getIndexAttr(0)),
        sizes = {rewriter.getIndexAttr(M), rewriter.getIndexAttr(N)},
        strides(2, rewriter.getIndexAttr(1));
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(op, resultType, product,
                                                        offsets, sizes, strides);
    return success();
  }

  int64_t threshold;
};

/// An NHWC conv whose constant HWCF filter has rows (one per kh, kw, c) a
/// multiple of 1 KiB apart reads each register tile's filter slice from
/// addresses that share a few L1 sets: its fT filters of every row map to
/// the same sets and evict each other before the next output tile reads
/// them again. The same conv on a filter whose rows are padded by one cache
/// line (zeros the slice never reads) and sliced back reads them from all
/// sets. Only where the tile streams many rows: ResNet-18's 14x14 256 ->
/// 256 3x3 (2,304 rows) ran at 750 us on 2 threads, 540 padded; a 56x56
/// 64 -> 256 1x1 (64 rows) gained nothing.
struct PadConvFilterRows : OpRewritePattern<linalg::Conv2DNhwcHwcfOp> {
  static constexpr int64_t kAliasBytes = 1024, kLineBytes = 64,
                           kMinRows = 512;

  PadConvFilterRows(MLIRContext *context, int64_t threshold)
      : OpRewritePattern(context), threshold(threshold) {}

  LogicalResult matchAndRewrite(linalg::Conv2DNhwcHwcfOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    Value filter = op.getInputs()[1];
    auto data = readConstant(filter);
    if (!data || data->type.getRank() != 4)
      return rewriter.notifyMatchFailure(op, "not a readable constant filter");
    ArrayRef<int64_t> shape = data->type.getShape();
    int64_t rows = shape[0] * shape[1] * shape[2], F = shape[3];
    int64_t width = data->elementBytes;
    if ((F * width) % kAliasBytes || rows < kMinRows ||
        kLineBytes % width)
      return rewriter.notifyMatchFailure(op, "rows do not alias");
    Location loc = op.getLoc();
    Value wide = paddedLastDim(rewriter, loc, *data, F + kLineBytes / width,
                               threshold);
    SmallVector<OpFoldResult> offsets(4, rewriter.getIndexAttr(0)),
        sizes = getAsIndexOpFoldResult(rewriter.getContext(), shape),
        strides(4, rewriter.getIndexAttr(1));
    Value slice = rewriter.create<tensor::ExtractSliceOp>(
        loc, data->type, wide, offsets, sizes, strides);
    rewriter.modifyOpInPlace(op, [&] { op->setOperand(1, slice); });
    return success();
  }

  int64_t threshold;
};

class FoldConstantsPass : public impl::FoldConstantsBase<FoldConstantsPass> {
public:
  using Base::Base;

  void runOnOperation() override {
    if (resourceThreshold < 0 || maxBroadcastElements < 0) {
      getOperation()->emitError()
          << "hatc-fold-constants: resource-threshold and "
             "max-broadcast-elements must be 0 or more";
      return signalPassFailure();
    }
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    patterns.add<FoldConstantTranspose>(context, resourceThreshold);
    patterns.add<FoldConstantBroadcast>(context, resourceThreshold,
                                        maxBroadcastElements);
    patterns.add<FoldConstantReshape<tensor::ExpandShapeOp>,
                 FoldConstantReshape<tensor::CollapseShapeOp>>(
        context, resourceThreshold);
    if (foldIntoConv)
      patterns.add<FoldAffineIntoConv>(context, resourceThreshold);
    if (padMatmulColumns)
      patterns.add<PadConstantMatmulColumns>(context, resourceThreshold);
    if (failed(applyPatternsAndFoldGreedily(getOperation(),
                                            std::move(patterns))))
      return signalPassFailure();
    // Last, so that no fold above meets a sliced filter.
    if (padConvFilters) {
      RewritePatternSet pad(context);
      pad.add<PadConvFilterRows>(context, resourceThreshold);
      if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(pad))))
        return signalPassFailure();
    }
  }
};

} // namespace
} // namespace hatc
