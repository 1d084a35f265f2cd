//===- Matmul.cpp - ONNX MatMul, Gemm, Einsum -> linalg contractions ------===//
//
//   MatMul(A[b,M,K], B[K,N]) -> collapse A to [b*M,K], linalg.matmul, expand;
//   batched operands broadcast, collapse to [B,M,K] -> linalg.batch_matmul.
//   Einsum -> one linalg.generic whose indexing maps are its subscripts.
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

#include <map>

using namespace mlir;

namespace hatc::frontend {

namespace {

bool isFloat(Type type) { return isa<FloatType>(type); }

int64_t product(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape)
    count *= d;
  return count;
}

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

/// `x` broadcast to `shape` (a copy), or `x` when it already has it.
llvm::Expected<Value> broadcastTo(OpBuilder &b, Location loc, Value x,
                                  ArrayRef<int64_t> shape) {
  auto type = cast<RankedTensorType>(x.getType());
  if (type.getShape() == shape)
    return x;
  return elementwise(
      b, loc, ValueRange{x}, type.getElementType(),
      [](OpBuilder &, Location, ValueRange args) { return args[0]; }, shape);
}

llvm::Error convertMatMul(NodeContext &node) {
  OpBuilder &b = node.b;
  Location loc = node.loc;
  Value lhs = node.input(0), rhs = node.input(1);
  SmallVector<int64_t> lhsShape(node.inputShape(0));
  SmallVector<int64_t> rhsShape(node.inputShape(1));
  Type element = node.inputElementType(0);
  if (element != node.inputElementType(1))
    return node.error("operands have different element types");
  if (lhsShape.empty() || rhsShape.empty())
    return node.error("operands must have rank 1 or more");
  // numpy: a 1-D operand gains a dim (removed from the result again).
  bool lhsVector = lhsShape.size() == 1, rhsVector = rhsShape.size() == 1;
  if (lhsVector) {
    lhsShape.insert(lhsShape.begin(), 1);
    lhs = reshape(b, loc, lhs, lhsShape);
  }
  if (rhsVector) {
    rhsShape.push_back(1);
    rhs = reshape(b, loc, rhs, rhsShape);
  }
  int64_t m = lhsShape[lhsShape.size() - 2], k = lhsShape.back();
  int64_t n = rhsShape.back();
  if (rhsShape[rhsShape.size() - 2] != k)
    return node.error("shapes " + shapeText(node.inputShape(0)) + " and " +
                      shapeText(node.inputShape(1)) +
                      " do not agree on the contracted dim");
  SmallVector<int64_t> lhsBatch(lhsShape.begin(), lhsShape.end() - 2);
  SmallVector<int64_t> rhsBatch(rhsShape.begin(), rhsShape.end() - 2);
  auto batch = broadcastShapes({lhsBatch, rhsBatch});
  if (!batch)
    return node.error("batch dims " + shapeText(lhsBatch) + " and " +
                      shapeText(rhsBatch) + " do not broadcast");
  SmallVector<int64_t> outShape(*batch);
  outShape.push_back(m);
  outShape.push_back(n);

  Value result;
  if (product(rhsBatch) == 1) {
    // B is one matrix: fold A's batch dims into M.
    Value lhs2d = reshape(b, loc, lhs, {product(lhsBatch) * m, k});
    Value rhs2d = reshape(b, loc, rhs, {k, n});
    result = matmul2d(b, loc, lhs2d, rhs2d);
  } else {
    SmallVector<int64_t> lhsFull(*batch), rhsFull(*batch);
    lhsFull.append({m, k});
    rhsFull.append({k, n});
    auto lhsB = broadcastTo(b, loc, lhs, lhsFull);
    if (!lhsB)
      return node.error(llvm::toString(lhsB.takeError()));
    auto rhsB = broadcastTo(b, loc, rhs, rhsFull);
    if (!rhsB)
      return node.error(llvm::toString(rhsB.takeError()));
    int64_t count = product(*batch);
    Value lhs3d = reshape(b, loc, *lhsB, {count, m, k});
    Value rhs3d = reshape(b, loc, *rhsB, {count, k, n});
    Value acc = filledTensor(b, loc, {count, m, n}, element, 0);
    result = b.create<linalg::BatchMatmulOp>(loc, ValueRange{lhs3d, rhs3d},
                                             ValueRange{acc})
                 .getResult(0);
  }
  if (lhsVector)
    outShape.erase(outShape.end() - 2);
  if (rhsVector)
    outShape.pop_back();
  node.setOutput(0, reshape(b, loc, result, outShape));
  return llvm::Error::success();
}

llvm::Error convertGemm(NodeContext &node) {
  OpBuilder &b = node.b;
  Location loc = node.loc;
  if (node.inputRank(0) != 2 || node.inputRank(1) != 2)
    return node.error("A and B must be 2-D");
  Type element = node.inputElementType(0);
  Value lhs = node.input(0), rhs = node.input(1);
  if (node.attrInt("transA", 0) != 0)
    lhs = transpose(b, loc, lhs, {1, 0});
  if (node.attrInt("transB", 0) != 0)
    rhs = transpose(b, loc, rhs, {1, 0});
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  if (lhsType.getDimSize(1) != rhsType.getDimSize(0))
    return node.error("op(A) " + shapeText(lhsType.getShape()) + " and op(B) " +
                      shapeText(rhsType.getShape()) + " do not agree on K");
  double alpha = node.attrFloat("alpha", 1.0f);
  double beta = node.attrFloat("beta", 1.0f);
  Value product = matmul2d(b, loc, lhs, rhs);
  bool withC = node.hasInput(2) && beta != 0;
  if (!withC && alpha == 1) {
    node.setOutput(0, product);
    return llvm::Error::success();
  }
  SmallVector<Value> inputs = {product};
  if (withC)
    inputs.push_back(node.input(2));
  SmallVector<int64_t> shape = {lhsType.getDimSize(0), rhsType.getDimSize(1)};
  auto result = elementwise(
      b, loc, inputs, element,
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        bool f = isFloat(element);
        Value v = args[0];
        if (alpha != 1) {
          Value a = scalarConstant(b, loc, element, alpha);
          v = f ? b.create<arith::MulFOp>(loc, v, a).getResult()
                : b.create<arith::MulIOp>(loc, v, a).getResult();
        }
        if (!withC)
          return v;
        Value c = args[1];
        if (beta != 1) {
          Value bc = scalarConstant(b, loc, element, beta);
          c = f ? b.create<arith::MulFOp>(loc, c, bc).getResult()
                : b.create<arith::MulIOp>(loc, c, bc).getResult();
        }
        return f ? b.create<arith::AddFOp>(loc, v, c).getResult()
                 : b.create<arith::AddIOp>(loc, v, c).getResult();
      },
      ArrayRef<int64_t>(shape));
  if (!result)
    return node.error(llvm::toString(result.takeError()));
  auto type = cast<RankedTensorType>((*result).getType());
  if (type.getShape() != ArrayRef<int64_t>(shape))
    return node.error("C " + shapeText(node.inputShape(2)) +
                      " does not broadcast to " + shapeText(shape));
  node.setOutput(0, *result);
  return llvm::Error::success();
}

//===----------------------------------------------------------------------===//
// Einsum
//===----------------------------------------------------------------------===//

/// A subscript label: a letter's code, or kEllipsis + j for the j-th
/// (right-aligned) dim an ellipsis stands for.
constexpr int kEllipsis = 1000;

/// One term's labels; `ellipsis` is where "..." sits (or -1).
struct Term {
  SmallVector<int> letters;
  int ellipsis = -1;
};

llvm::Expected<Term> parseTerm(NodeContext &node, StringRef text) {
  Term term;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.') {
      if (term.ellipsis >= 0 || !text.substr(i).starts_with("..."))
        return node.error("malformed ellipsis in '" + text + "'");
      term.ellipsis = term.letters.size();
      i += 2;
      continue;
    }
    if (!llvm::isAlpha(c))
      return node.error("unexpected character '" + Twine(c) +
                        "' in the equation");
    term.letters.push_back(c);
  }
  return term;
}

/// The term's labels for an operand of `rank`, with its ellipsis expanded
/// to the last dims of `ellipsisRank` broadcast dims.
llvm::Expected<SmallVector<int>> expandTerm(NodeContext &node, const Term &term,
                                            int64_t rank,
                                            int64_t ellipsisRank) {
  int64_t covered = rank - int64_t(term.letters.size());
  if (covered < 0 || (term.ellipsis < 0 && covered != 0))
    return node.error("a term has " + Twine(term.letters.size()) +
                      " subscripts for an operand of rank " + Twine(rank));
  SmallVector<int> labels(term.letters.begin(),
                          term.letters.begin() + std::max(term.ellipsis, 0));
  for (int64_t j = 0; j < covered; ++j)
    labels.push_back(kEllipsis + int(ellipsisRank - covered + j));
  if (term.ellipsis >= 0)
    labels.append(term.letters.begin() + term.ellipsis, term.letters.end());
  else
    labels.assign(term.letters.begin(), term.letters.end());
  return labels;
}

llvm::Error convertEinsum(NodeContext &node) {
  OpBuilder &b = node.b;
  Location loc = node.loc;
  std::string equation;
  for (char c : node.attrString("equation"))
    if (c != ' ')
      equation.push_back(c);
  if (equation.empty())
    return node.error("the 'equation' attribute is required");
  StringRef text(equation);
  auto [lhsText, outText] = text.split("->");
  bool explicitOutput = text.contains("->");
  SmallVector<StringRef> termTexts;
  lhsText.split(termTexts, ',');
  size_t numOperands = node.numInputs();
  if (termTexts.size() != numOperands)
    return node.error("the equation has " + Twine(termTexts.size()) +
                      " input terms for " + Twine(numOperands) + " inputs");
  Type element = node.inputElementType(0);
  SmallVector<Term> terms;
  int64_t ellipsisRank = 0;
  for (size_t i = 0; i < numOperands; ++i) {
    if (!node.hasInput(i))
      return node.error("input " + Twine(i) + " is missing");
    if (node.inputElementType(i) != element)
      return node.error("inputs have different element types");
    auto term = parseTerm(node, termTexts[i]);
    if (!term)
      return term.takeError();
    if (term->ellipsis >= 0)
      ellipsisRank = std::max(ellipsisRank, node.inputRank(i) -
                                                int64_t(term->letters.size()));
    terms.push_back(*term);
  }
  // Each operand's labels, and each label's size (the broadcast of its
  // occurrences).
  SmallVector<SmallVector<int>> operandLabels;
  std::map<int, int64_t> sizes;
  std::map<int, int> occurrences;
  SmallVector<int> firstSeen;
  for (size_t i = 0; i < numOperands; ++i) {
    auto labels = expandTerm(node, terms[i], node.inputRank(i), ellipsisRank);
    if (!labels)
      return labels.takeError();
    ArrayRef<int64_t> shape = node.inputShape(i);
    for (size_t d = 0; d < labels->size(); ++d) {
      int label = (*labels)[d];
      ++occurrences[label];
      auto [it, inserted] = sizes.try_emplace(label, shape[d]);
      if (inserted) {
        firstSeen.push_back(label);
        continue;
      }
      if (it->second == shape[d] || shape[d] == 1)
        continue;
      if (it->second != 1)
        return node.error("subscript sizes " + Twine(it->second) + " and " +
                          Twine(shape[d]) + " disagree");
      it->second = shape[d];
    }
    operandLabels.push_back(*labels);
  }
  SmallVector<int> outLabels;
  if (explicitOutput) {
    auto term = parseTerm(node, outText);
    if (!term)
      return term.takeError();
    auto labels = expandTerm(node, *term,
                             int64_t(term->letters.size()) +
                                 (term->ellipsis >= 0 ? ellipsisRank : 0),
                             ellipsisRank);
    if (!labels)
      return labels.takeError();
    outLabels = *labels;
  } else {
    for (int64_t j = 0; j < ellipsisRank; ++j)
      outLabels.push_back(kEllipsis + int(j));
    for (auto [label, count] : occurrences)
      if (label < kEllipsis && count == 1)
        outLabels.push_back(label);
  }
  for (size_t i = 0; i < outLabels.size(); ++i) {
    if (!sizes.count(outLabels[i]))
      return node.error("output subscript '" + Twine(char(outLabels[i])) +
                        "' is in no input");
    if (llvm::is_contained(ArrayRef<int>(outLabels).take_front(i),
                           outLabels[i]))
      return node.error("output subscript '" + Twine(char(outLabels[i])) +
                        "' repeats");
  }
  // Loops: the output's labels (parallel), then the rest (reduction).
  SmallVector<int> loops(outLabels);
  for (int label : firstSeen)
    if (!llvm::is_contained(loops, label))
      loops.push_back(label);
  auto loopOf = [&](int label) {
    return int(llvm::find(loops, label) - loops.begin());
  };
  MLIRContext *context = b.getContext();
  int64_t numLoops = loops.size();
  SmallVector<AffineMap> maps;
  SmallVector<Value> inputs;
  for (size_t i = 0; i < numOperands; ++i) {
    ArrayRef<int64_t> shape = node.inputShape(i);
    SmallVector<AffineExpr> exprs;
    for (size_t d = 0; d < shape.size(); ++d) {
      int label = operandLabels[i][d];
      exprs.push_back(shape[d] == 1 && sizes[label] != 1
                          ? getAffineConstantExpr(0, context)
                          : getAffineDimExpr(loopOf(label), context));
    }
    maps.push_back(AffineMap::get(numLoops, 0, exprs, context));
    inputs.push_back(node.input(i));
  }
  SmallVector<int64_t> outShape;
  SmallVector<AffineExpr> outExprs;
  for (size_t i = 0; i < outLabels.size(); ++i) {
    outShape.push_back(sizes[outLabels[i]]);
    outExprs.push_back(getAffineDimExpr(i, context));
  }
  maps.push_back(AffineMap::get(numLoops, 0, outExprs, context));
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < numLoops; ++i)
    iterators.push_back(i < int64_t(outLabels.size())
                            ? utils::IteratorType::parallel
                            : utils::IteratorType::reduction);
  Value acc = filledTensor(b, loc, outShape, element, 0);
  bool f = isFloat(element);
  auto generic = b.create<linalg::GenericOp>(
      loc, acc.getType(), inputs, ValueRange{acc}, maps, iterators,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value v = args[0];
        for (Value x : args.drop_front().drop_back())
          v = f ? b.create<arith::MulFOp>(loc, v, x).getResult()
                : b.create<arith::MulIOp>(loc, v, x).getResult();
        Value sum =
            f ? b.create<arith::AddFOp>(loc, args.back(), v).getResult()
              : b.create<arith::AddIOp>(loc, args.back(), v).getResult();
        b.create<linalg::YieldOp>(loc, sum);
      });
  node.setOutput(0, generic.getResult(0));
  return llvm::Error::success();
}

} // namespace

void registerMatmulOps(ConverterRegistry &r) {
  r["MatMul"] = {convertMatMul};
  r["Gemm"] = {convertGemm};
  r["Einsum"] = {convertEinsum, 12, 17};
}

} // namespace hatc::frontend
