//===- Loss.cpp - ONNX NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss ===//
//
//   NegativeLogLikelihoodLoss(X[N,C,d..], T[N,d..], W[C]) -> one
//   linalg.generic over T's shape that reads X[n, T[n,d..], d..] and W[T]
//   with tensor.extract (the class clamped into range; an ignored target
//   gives loss 0 and weight 0), then a full reduction for sum / mean (mean
//   divides by the sum of the gathered weights).
//   SoftmaxCrossEntropyLoss is the same on log-softmax(X) along axis 1,
//   which is also its optional second output.
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

using namespace mlir;

namespace hatc::frontend {

namespace {

enum class Reduction { None, Sum, Mean };

llvm::Expected<Reduction> reductionOf(NodeContext &node) {
  std::string reduction = node.attrString("reduction", "mean");
  if (reduction == "none")
    return Reduction::None;
  if (reduction == "sum")
    return Reduction::Sum;
  if (reduction == "mean")
    return Reduction::Mean;
  return node.error("unsupported reduction '" + reduction +
                    "' (expected none, sum or mean)");
}

/// What the per-target gather needs to know.
struct LossSpec {
  /// The [N, C, d..] scores (log-probabilities) to gather from.
  Value scores;
  /// The [N, d..] integer class indices.
  Value target;
  /// The optional [C] class weights.
  Value weight;
  /// The target value to ignore, when there is one.
  std::optional<int64_t> ignoreIndex;
};

/// The target element's class as an in-range `index` (clamped into
/// [0, C)), and whether the target is ignored (null when nothing is).
std::pair<Value, Value> classOf(OpBuilder &b, Location loc, Value target,
                                int64_t numClasses,
                                std::optional<int64_t> ignoreIndex) {
  Value ignored;
  if (ignoreIndex) {
    Value ii = scalarConstant(b, loc, target.getType(), *ignoreIndex);
    ignored =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, target, ii);
  }
  Value cls = b.create<arith::IndexCastOp>(loc, b.getIndexType(), target);
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  Value last = b.create<arith::ConstantIndexOp>(loc, numClasses - 1);
  cls = b.create<arith::MaxSIOp>(loc, cls, zero);
  cls = b.create<arith::MinSIOp>(loc, cls, last);
  if (ignored)
    cls = b.create<arith::SelectOp>(loc, ignored, zero, cls);
  return {cls, ignored};
}

/// The target element's weight: W[class] (or 1), 0 when ignored.
Value weightOf(OpBuilder &b, Location loc, const LossSpec &spec, Value cls,
               Value ignored, Type element) {
  Value w = spec.weight
                ? b.create<tensor::ExtractOp>(loc, spec.weight, ValueRange{cls})
                      .getResult()
                : scalarConstant(b, loc, element, 1);
  if (!ignored)
    return w;
  Value zero = scalarConstant(b, loc, element, 0);
  return b.create<arith::SelectOp>(loc, ignored, zero, w);
}

/// A linalg.generic over the target's shape whose body gets the target
/// element's coordinates and value.
Value overTargets(OpBuilder &b, Location loc, Value target, Type element,
                  const std::function<Value(OpBuilder &, Location,
                                            ArrayRef<Value>, Value)> &body) {
  auto type = cast<RankedTensorType>(target.getType());
  int64_t rank = type.getRank();
  Value init = emptyTensor(b, loc, type.getShape(), element);
  SmallVector<AffineMap> maps(2, b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, init.getType(), ValueRange{target}, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        SmallVector<Value> coords;
        for (int64_t d = 0; d < rank; ++d)
          coords.push_back(nested.create<linalg::IndexOp>(nestedLoc, d));
        nested.create<linalg::YieldOp>(
            nestedLoc, body(nested, nestedLoc, coords, args[0]));
      });
  return generic.getResult(0);
}

Value sumAll(OpBuilder &b, Location loc, Value x) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  SmallVector<int64_t> axes;
  for (int64_t i = 0; i < rank; ++i)
    axes.push_back(i);
  return reduce(
      b, loc, x, axes, /*keepDims=*/false, 0,
      [](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::AddFOp>(loc, args[1], args[0]).getResult();
      });
}

/// Checks the scores / target / weight shapes and types.
llvm::Error checkInputs(NodeContext &node, const LossSpec &spec) {
  auto scores = cast<RankedTensorType>(spec.scores.getType());
  auto target = cast<RankedTensorType>(spec.target.getType());
  if (!isa<FloatType>(scores.getElementType()))
    return node.error("needs floating-point scores");
  if (scores.getRank() < 2)
    return node.error("needs scores of rank 2 or more ([N, C, d1..]), got "
                      "rank " +
                      llvm::Twine(scores.getRank()));
  if (!isa<IntegerType>(target.getElementType()))
    return node.error("needs integer targets");
  if (target.getRank() != scores.getRank() - 1)
    return node.error("needs a target of rank " +
                      llvm::Twine(scores.getRank() - 1) +
                      " ([N, d1..]), got "
                      "rank " +
                      llvm::Twine(target.getRank()));
  for (int64_t i = 0; i < target.getRank(); ++i) {
    int64_t want = scores.getDimSize(i == 0 ? 0 : i + 1);
    if (target.getDimSize(i) != want)
      return node.error("target dim " + llvm::Twine(i) + " is " +
                        llvm::Twine(target.getDimSize(i)) +
                        ", the scores say " + llvm::Twine(want));
  }
  if (scores.getDimSize(1) < 1)
    return node.error("needs at least one class");
  if (!spec.weight)
    return llvm::Error::success();
  auto weight = cast<RankedTensorType>(spec.weight.getType());
  if (weight.getRank() != 1 || weight.getDimSize(0) != scores.getDimSize(1))
    return node.error("needs a weight of shape [" +
                      llvm::Twine(scores.getDimSize(1)) + "]");
  if (weight.getElementType() != scores.getElementType())
    return node.error("needs a weight of the scores' element type");
  return llvm::Error::success();
}

/// The loss of `spec` (negated gathered scores, weighted) reduced as
/// `reduction` asks.
llvm::Expected<Value> nllLoss(NodeContext &node, const LossSpec &spec,
                              Reduction reduction) {
  if (auto err = checkInputs(node, spec))
    return std::move(err);
  OpBuilder &b = node.b;
  Location loc = node.loc;
  auto scoresType = cast<RankedTensorType>(spec.scores.getType());
  Type element = scoresType.getElementType();
  int64_t numClasses = scoresType.getDimSize(1);

  Value loss = overTargets(
      b, loc, spec.target, element,
      [&](OpBuilder &b, Location loc, ArrayRef<Value> coords, Value t) {
        auto [cls, ignored] = classOf(b, loc, t, numClasses, spec.ignoreIndex);
        SmallVector<Value> at = {coords[0], cls};
        at.append(coords.begin() + 1, coords.end());
        Value x = b.create<tensor::ExtractOp>(loc, spec.scores, at);
        Value l = b.create<arith::NegFOp>(loc, x);
        if (spec.weight) {
          Value w = weightOf(b, loc, spec, cls, Value(), element);
          l = b.create<arith::MulFOp>(loc, l, w);
        }
        if (!ignored)
          return l;
        Value zero = scalarConstant(b, loc, element, 0);
        return b.create<arith::SelectOp>(loc, ignored, zero, l).getResult();
      });
  if (reduction == Reduction::None)
    return loss;

  Value sum = sumAll(b, loc, loss);
  if (reduction == Reduction::Sum)
    return sum;

  // Mean: divided by the sum of the gathered weights, which is the count of
  // targets when there are no weights and nothing is ignored.
  Value total;
  if (spec.weight || spec.ignoreIndex) {
    Value weights =
        overTargets(b, loc, spec.target, element,
                    [&](OpBuilder &b, Location loc, ArrayRef<Value>, Value t) {
                      auto [cls, ignored] =
                          classOf(b, loc, t, numClasses, spec.ignoreIndex);
                      return weightOf(b, loc, spec, cls, ignored, element);
                    });
    total = sumAll(b, loc, weights);
  } else {
    total = filledTensor(
        b, loc, {}, element,
        double(cast<RankedTensorType>(spec.target.getType()).getNumElements()));
  }
  auto mean = elementwise(
      b, loc, {sum, total}, element,
      [](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::DivFOp>(loc, args[0], args[1]).getResult();
      });
  if (!mean)
    return node.error(llvm::toString(mean.takeError()));
  return *mean;
}

/// log-softmax of `x` along axis 1: (x - max) - log(sum(exp(x - max))).
llvm::Expected<Value> logSoftmax(NodeContext &node, Value x) {
  OpBuilder &b = node.b;
  Location loc = node.loc;
  Type element = cast<RankedTensorType>(x.getType()).getElementType();
  Value max = reduce(
      b, loc, x, {1}, /*keepDims=*/true, lowestValue(element),
      [](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::MaximumFOp>(loc, args[1], args[0]).getResult();
      });
  auto shifted = elementwise(
      b, loc, {x, max}, element,
      [](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::SubFOp>(loc, args[0], args[1]).getResult();
      });
  if (!shifted)
    return node.error(llvm::toString(shifted.takeError()));
  Value sum =
      reduce(b, loc, *shifted, {1}, /*keepDims=*/true, 0,
             [](OpBuilder &b, Location loc, ValueRange args) {
               Value e = b.create<math::ExpOp>(loc, args[0]);
               return b.create<arith::AddFOp>(loc, args[1], e).getResult();
             });
  auto y = elementwise(
      b, loc, {*shifted, sum}, element,
      [](OpBuilder &b, Location loc, ValueRange args) {
        Value log = b.create<math::LogOp>(loc, args[1]);
        return b.create<arith::SubFOp>(loc, args[0], log).getResult();
      });
  if (!y)
    return node.error(llvm::toString(y.takeError()));
  return *y;
}

LossSpec specOf(NodeContext &node, Value scores) {
  LossSpec spec;
  spec.scores = scores;
  spec.target = node.input(1);
  if (node.hasInput(2))
    spec.weight = node.input(2);
  if (node.hasAttr("ignore_index"))
    spec.ignoreIndex = node.attrInt("ignore_index", 0);
  return spec;
}

llvm::Error convertNllLoss(NodeContext &node) {
  if (!node.hasInput(0) || !node.hasInput(1))
    return node.error("needs input and target");
  auto reduction = reductionOf(node);
  if (!reduction)
    return reduction.takeError();
  auto loss = nllLoss(node, specOf(node, node.input(0)), *reduction);
  if (!loss)
    return loss.takeError();
  node.setOutput(0, *loss);
  return llvm::Error::success();
}

llvm::Error convertSoftmaxCrossEntropy(NodeContext &node) {
  if (!node.hasInput(0) || !node.hasInput(1))
    return node.error("needs scores and labels");
  auto reduction = reductionOf(node);
  if (!reduction)
    return reduction.takeError();
  if (node.inputRank(0) < 2)
    return node.error("needs scores of rank 2 or more ([N, C, d1..]), got "
                      "rank " +
                      llvm::Twine(node.inputRank(0)));
  if (!isa<FloatType>(node.inputElementType(0)))
    return node.error("needs floating-point scores");
  auto logProb = logSoftmax(node, node.input(0));
  if (!logProb)
    return logProb.takeError();
  auto loss = nllLoss(node, specOf(node, *logProb), *reduction);
  if (!loss)
    return loss.takeError();
  node.setOutput(0, *loss);
  if (node.wantsOutput(1))
    node.setOutput(1, *logProb);
  return llvm::Error::success();
}

} // namespace

void registerLossOps(ConverterRegistry &r) {
  r["NegativeLogLikelihoodLoss"] = {convertNllLoss, 12, 17};
  r["SoftmaxCrossEntropyLoss"] = {convertSoftmaxCrossEntropy, 12, 17};
}

} // namespace hatc::frontend
