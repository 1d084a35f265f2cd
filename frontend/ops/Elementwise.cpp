//===- Elementwise.cpp - ONNX elementwise ops -> linalg.generic -----------===//
//
//   Add(A[2,1,4], B[3,1]) -> linalg.generic over [2,3,4], numpy broadcasting
//   in the indexing maps (a size-1 dim reads index 0), one scalar op a body.
//
// Inputs known at import time (shape arithmetic) fold on the host instead.
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

#include <cmath>

using namespace mlir;

namespace hatc::frontend {

namespace {

using HostFn = std::function<double(ArrayRef<double>)>;

bool isFloat(Type type) { return isa<FloatType>(type); }

/// Folds `fn` over constant inputs broadcast numpy-style, when every input
/// is known and the result is small (shape arithmetic). Returns false when
/// it cannot.
bool tryFold(NodeContext &node, ArrayRef<size_t> inputs, Type resultType,
             const HostFn &fn) {
  if (!fn)
    return false;
  SmallVector<std::vector<double>> values;
  SmallVector<SmallVector<int64_t>> shapes;
  for (size_t i : inputs) {
    auto constant = node.constantInput(i);
    if (!constant || constant->getNumElements() > 4096)
      return false;
    values.push_back(doublesOf(*constant));
    shapes.emplace_back(constant->getType().getShape());
  }
  auto shape = broadcastShapes(shapes);
  if (!shape)
    return false;
  int64_t count = 1;
  for (int64_t d : *shape)
    count *= d;
  std::vector<double> result(count);
  SmallVector<double> args(inputs.size());
  int64_t rank = shape->size();
  for (int64_t flat = 0; flat < count; ++flat) {
    for (size_t k = 0; k < inputs.size(); ++k) {
      // The input's element for result index `flat`, broadcast.
      int64_t rest = flat, index = 0, stride = 1;
      int64_t inRank = shapes[k].size();
      for (int64_t d = rank - 1; d >= 0; --d) {
        int64_t coord = rest % (*shape)[d];
        rest /= (*shape)[d];
        int64_t inDim = d - (rank - inRank);
        if (inDim < 0)
          continue;
        int64_t size = shapes[k][inDim];
        index += (size == 1 ? 0 : coord) * stride;
        stride *= size;
      }
      args[k] = values[k][index];
    }
    result[flat] = fn(args);
  }
  node.setConstantOutput(0, doublesAttr(resultType, *shape, result));
  return true;
}

/// Builds the node's elementwise op over inputs `inputs` (all, when empty).
llvm::Error emitElementwise(NodeContext &node, Type resultType,
                            const BodyBuilder &body, const HostFn &fold = {},
                            SmallVector<size_t> inputs = {}) {
  if (inputs.empty())
    for (size_t i = 0; i < node.numInputs(); ++i)
      if (node.hasInput(i))
        inputs.push_back(i);
  if (tryFold(node, inputs, resultType, fold))
    return llvm::Error::success();
  SmallVector<Value> values;
  for (size_t i : inputs)
    values.push_back(node.input(i));
  auto result = elementwise(node.b, node.loc, values, resultType, body);
  if (!result)
    return node.error(llvm::toString(result.takeError()));
  node.setOutput(0, *result);
  return llvm::Error::success();
}

// --- Unary float ops: math/arith on one scalar. ---

using UnaryFn = std::function<Value(OpBuilder &, Location, Value,
                                    NodeContext &)>;

Value cst(OpBuilder &b, Location loc, Value like, double v) {
  return scalarConstant(b, loc, like.getType(), v);
}

void addUnary(ConverterRegistry &r, StringRef name, UnaryFn fn,
              std::function<double(double)> host = {}) {
  r[name] = {[fn, host](NodeContext &node) -> llvm::Error {
    Type type = node.inputElementType(0);
    HostFn fold;
    if (host)
      fold = [host](ArrayRef<double> a) { return host(a[0]); };
    return emitElementwise(
        node, type,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return fn(b, loc, args[0], node);
        },
        fold, {0});
  }};
}

Value sigmoid(OpBuilder &b, Location loc, Value x) {
  // 1 / (1 + exp(-x))
  Value neg = b.create<arith::NegFOp>(loc, x);
  Value e = b.create<math::ExpOp>(loc, neg);
  Value one = cst(b, loc, x, 1.0);
  return b.create<arith::DivFOp>(loc, one,
                                 b.create<arith::AddFOp>(loc, one, e));
}

Value clampValue(OpBuilder &b, Location loc, Value x, Value low, Value high,
                 bool isUnsigned = false) {
  if (isFloat(x.getType())) {
    if (low)
      x = b.create<arith::MaximumFOp>(loc, x, low);
    if (high)
      x = b.create<arith::MinimumFOp>(loc, x, high);
    return x;
  }
  if (low)
    x = isUnsigned ? b.create<arith::MaxUIOp>(loc, x, low).getResult()
                   : b.create<arith::MaxSIOp>(loc, x, low).getResult();
  if (high)
    x = isUnsigned ? b.create<arith::MinUIOp>(loc, x, high).getResult()
                   : b.create<arith::MinSIOp>(loc, x, high).getResult();
  return x;
}

// --- Binary ops. ---

enum class Arith { Add, Sub, Mul, Div, Pow, Min, Max, Mod, FMod };

/// `isUnsigned`: integer operands are unsigned ONNX types.
/// Integer division or remainder that cannot trap: a zero divisor gives 0
/// (ONNX leaves it undefined; x86 would raise SIGFPE and kill the process),
/// and signed MIN / -1 wraps (quotient -x, remainder 0) instead of trapping.
Value safeIntDivide(OpBuilder &b, Location loc, Value x, Value y,
                    bool remainder, bool isUnsigned) {
  Value zero = cst(b, loc, y, 0), one = cst(b, loc, y, 1);
  Value byZero =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, y, zero);
  if (isUnsigned) {
    Value safe = b.create<arith::SelectOp>(loc, byZero, one, y);
    Value r = remainder ? b.create<arith::RemUIOp>(loc, x, safe).getResult()
                        : b.create<arith::DivUIOp>(loc, x, safe).getResult();
    return b.create<arith::SelectOp>(loc, byZero, zero, r);
  }
  Value byMinusOne = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, y,
                                             cst(b, loc, y, -1));
  Value special = b.create<arith::OrIOp>(loc, byZero, byMinusOne);
  Value safe = b.create<arith::SelectOp>(loc, special, one, y);
  Value r = remainder ? b.create<arith::RemSIOp>(loc, x, safe).getResult()
                      : b.create<arith::DivSIOp>(loc, x, safe).getResult();
  Value minusOneResult =
      remainder ? zero : b.create<arith::SubIOp>(loc, zero, x).getResult();
  r = b.create<arith::SelectOp>(loc, byMinusOne, minusOneResult, r);
  return b.create<arith::SelectOp>(loc, byZero, zero, r);
}

Value binary(OpBuilder &b, Location loc, Arith op, Value x, Value y,
             bool isUnsigned = false) {
  bool f = isFloat(x.getType());
  if (!f && isUnsigned) {
    switch (op) {
    case Arith::Div: return safeIntDivide(b, loc, x, y, false, true);
    case Arith::Min: return b.create<arith::MinUIOp>(loc, x, y);
    case Arith::Max: return b.create<arith::MaxUIOp>(loc, x, y);
    case Arith::Mod:
    case Arith::FMod: return safeIntDivide(b, loc, x, y, true, true);
    case Arith::Pow: {
      Type f64 = b.getF64Type();
      Value r = b.create<math::PowFOp>(loc, convertScalar(b, loc, x, f64, true),
                                       convertScalar(b, loc, y, f64, true));
      r = b.create<math::RoundOp>(loc, r);
      return convertScalar(b, loc, r, x.getType(), false, true);
    }
    default: break;
    }
  }
  switch (op) {
  case Arith::Add:
    return f ? b.create<arith::AddFOp>(loc, x, y).getResult()
             : b.create<arith::AddIOp>(loc, x, y).getResult();
  case Arith::Sub:
    return f ? b.create<arith::SubFOp>(loc, x, y).getResult()
             : b.create<arith::SubIOp>(loc, x, y).getResult();
  case Arith::Mul:
    return f ? b.create<arith::MulFOp>(loc, x, y).getResult()
             : b.create<arith::MulIOp>(loc, x, y).getResult();
  case Arith::Div:
    return f ? b.create<arith::DivFOp>(loc, x, y).getResult()
             : safeIntDivide(b, loc, x, y, false, false);
  case Arith::Min:
    return f ? b.create<arith::MinimumFOp>(loc, x, y).getResult()
             : b.create<arith::MinSIOp>(loc, x, y).getResult();
  case Arith::Max:
    return f ? b.create<arith::MaximumFOp>(loc, x, y).getResult()
             : b.create<arith::MaxSIOp>(loc, x, y).getResult();
  case Arith::Pow: {
    if (f) {
      if (y.getType() != x.getType())
        y = convertScalar(b, loc, y, x.getType());
      return b.create<math::PowFOp>(loc, x, y);
    }
    // Integer power by float pow, rounded back.
    Type f64 = b.getF64Type();
    Value r = b.create<math::PowFOp>(loc, convertScalar(b, loc, x, f64),
                                     convertScalar(b, loc, y, f64));
    r = b.create<math::RoundOp>(loc, r);
    return convertScalar(b, loc, r, x.getType());
  }
  case Arith::FMod:
    return f ? b.create<arith::RemFOp>(loc, x, y).getResult()
             : safeIntDivide(b, loc, x, y, true, false);
  case Arith::Mod: {
    if (f)
      return b.create<arith::RemFOp>(loc, x, y);
    // Python-style: the result takes the divisor's sign.
    Value r = safeIntDivide(b, loc, x, y, true, false);
    Value zero = cst(b, loc, x, 0);
    Value rNonZero =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, r, zero);
    Value rNeg =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, r, zero);
    Value yNeg =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, y, zero);
    Value differ = b.create<arith::XOrIOp>(loc, rNeg, yNeg);
    Value fix = b.create<arith::AndIOp>(loc, rNonZero, differ);
    Value adjusted = b.create<arith::AddIOp>(loc, r, y);
    return b.create<arith::SelectOp>(loc, fix, adjusted, r);
  }
  }
  return {};
}

double hostBinary(Arith op, double x, double y, bool isInt) {
  switch (op) {
  case Arith::Add: return x + y;
  case Arith::Sub: return x - y;
  case Arith::Mul: return x * y;
  case Arith::Div: return isInt ? (y == 0 ? 0 : std::trunc(x / y)) : x / y;
  case Arith::Pow: return std::pow(x, y);
  case Arith::Min: return std::min(x, y);
  case Arith::Max: return std::max(x, y);
  case Arith::FMod: return std::fmod(x, y);
  case Arith::Mod: {
    if (y == 0)
      return 0;
    double r = std::fmod(x, y);
    return (r != 0 && ((r < 0) != (y < 0))) ? r + y : r;
  }
  }
  return 0;
}

/// Add, Sub, ..., and the variadic Min/Max/Sum/Mean.
void addBinary(ConverterRegistry &r, StringRef name, Arith op) {
  r[name] = {[kind = op](NodeContext &node) -> llvm::Error {
    Type type = node.inputElementType(0);
    bool isInt = !isFloat(type);
    bool isUnsigned = isInt && node.inputIsUnsigned(0);
    Arith op = kind == Arith::Mod && node.attrInt("fmod", 0) ? Arith::FMod
                                                              : kind;
    HostFn fold;
    // Host folding reads integers as signed: leave unsigned ones to the IR.
    if (!isUnsigned)
      fold = [op, isInt](ArrayRef<double> a) {
        double acc = a[0];
        for (double v : a.drop_front())
          acc = hostBinary(op, acc, v, isInt);
        return acc;
      };
    return emitElementwise(
        node, type,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          Value acc = args[0];
          for (Value v : args.drop_front())
            acc = binary(b, loc, op, acc, v, isUnsigned);
          return acc;
        },
        fold);
  }};
}

enum class Compare { Eq, Lt, Gt, Le, Ge };

void addCompare(ConverterRegistry &r, StringRef name, Compare cmp) {
  r[name] = {[cmp](NodeContext &node) -> llvm::Error {
    Type i1 = node.b.getI1Type();
    bool isUnsigned = node.inputIsUnsigned(0);
    HostFn fold;
    if (!isUnsigned)
      fold = [cmp](ArrayRef<double> a) -> double {
        switch (cmp) {
        case Compare::Eq: return a[0] == a[1];
        case Compare::Lt: return a[0] < a[1];
        case Compare::Gt: return a[0] > a[1];
        case Compare::Le: return a[0] <= a[1];
        case Compare::Ge: return a[0] >= a[1];
        }
        return 0;
      };
    return emitElementwise(
        node, i1,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value x = args[0], y = args[1];
          if (isFloat(x.getType())) {
            arith::CmpFPredicate p[] = {
                arith::CmpFPredicate::OEQ, arith::CmpFPredicate::OLT,
                arith::CmpFPredicate::OGT, arith::CmpFPredicate::OLE,
                arith::CmpFPredicate::OGE};
            return b.create<arith::CmpFOp>(loc, p[int(cmp)], x, y);
          }
          arith::CmpIPredicate p[] = {
              arith::CmpIPredicate::eq, arith::CmpIPredicate::slt,
              arith::CmpIPredicate::sgt, arith::CmpIPredicate::sle,
              arith::CmpIPredicate::sge};
          if (x.getType().isInteger(1) || isUnsigned) {
            arith::CmpIPredicate u[] = {
                arith::CmpIPredicate::eq, arith::CmpIPredicate::ult,
                arith::CmpIPredicate::ugt, arith::CmpIPredicate::ule,
                arith::CmpIPredicate::uge};
            return b.create<arith::CmpIOp>(loc, u[int(cmp)], x, y);
          }
          return b.create<arith::CmpIOp>(loc, p[int(cmp)], x, y);
        },
        fold);
  }};
}

enum class Logic { And, Or, Xor };

void addLogic(ConverterRegistry &r, StringRef name, Logic logic) {
  r[name] = {[logic](NodeContext &node) -> llvm::Error {
    return emitElementwise(
        node, node.b.getI1Type(),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          switch (logic) {
          case Logic::And: return b.create<arith::AndIOp>(loc, args[0], args[1]);
          case Logic::Or: return b.create<arith::OrIOp>(loc, args[0], args[1]);
          case Logic::Xor: return b.create<arith::XOrIOp>(loc, args[0], args[1]);
          }
          return {};
        },
        [logic](ArrayRef<double> a) -> double {
          bool x = a[0] != 0, y = a[1] != 0;
          return logic == Logic::And ? (x && y)
                 : logic == Logic::Or ? (x || y)
                                      : (x != y);
        });
  }};
}

/// Clip: bounds from attributes (opset < 11) or optional inputs; a bound
/// computed at run time is one more (broadcast scalar) operand.
llvm::Error convertClip(NodeContext &node) {
  Type type = node.inputElementType(0);
  bool isUnsigned = !isFloat(type) && node.inputIsUnsigned(0);
  std::optional<double> low, high;
  // Which operand of the body a run-time bound is (0: none).
  size_t lowArg = 0, highArg = 0;
  SmallVector<size_t> inputs = {0};
  if (node.opset < 11) {
    low = node.attrFloat("min", -std::numeric_limits<float>::max());
    high = node.attrFloat("max", std::numeric_limits<float>::max());
  } else {
    for (size_t i : {size_t(1), size_t(2)}) {
      if (!node.hasInput(i))
        continue;
      if (node.inputType(i).getNumElements() != 1)
        return node.error("its min and max must be scalars");
      if (!node.constantInput(i)) {
        (i == 1 ? lowArg : highArg) = inputs.size();
        inputs.push_back(i);
        continue;
      }
      auto values = node.constantDoubles(i, i == 1 ? "min" : "max");
      if (!values)
        return values.takeError();
      (i == 1 ? low : high) = (*values)[0];
    }
  }
  return emitElementwise(
      node, type,
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value lowValue = low      ? cst(b, loc, args[0], *low)
                         : lowArg ? args[lowArg]
                                  : Value();
        Value highValue = high      ? cst(b, loc, args[0], *high)
                          : highArg ? args[highArg]
                                    : Value();
        return clampValue(b, loc, args[0], lowValue, highValue, isUnsigned);
      },
      isUnsigned ? HostFn() : [&](ArrayRef<double> a) {
        double v = a[0];
        if (low)
          v = std::max(v, *low);
        if (lowArg)
          v = std::max(v, a[lowArg]);
        if (high)
          v = std::min(v, *high);
        if (highArg)
          v = std::min(v, a[highArg]);
        return v;
      },
      inputs);
}

llvm::Error castTo(NodeContext &node, Type type, bool toUnsigned) {
  bool fromUnsigned = node.inputIsUnsigned(0);
  node.setOutputUnsigned(0, toUnsigned);
  HostFn fold;
  // Host folding reads and writes integers as signed.
  if (!fromUnsigned && !toUnsigned)
    fold = [type](ArrayRef<double> a) {
      if (type.isInteger(1))
        return double(a[0] != 0);
      if (!isa<FloatType>(type))
        return std::trunc(a[0]);
      return a[0];
    };
  return emitElementwise(node, type,
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           return convertScalar(b, loc, args[0], type,
                                                fromUnsigned, toUnsigned);
                         },
                         fold, {0});
}

llvm::Error convertCast(NodeContext &node) {
  int to = int(node.attrInt("to", 0));
  Type type = elementTypeFor(node.context(), to);
  if (!type)
    return node.error("cast to " + onnxTypeName(to) + " is not supported");
  return castTo(node, type, isUnsignedOnnxType(to));
}

/// CastLike: Cast to the element type of input 1.
llvm::Error convertCastLike(NodeContext &node) {
  return castTo(node, node.inputElementType(1), node.inputIsUnsigned(1));
}

/// IsNaN, IsInf: i1 from a float comparison.
llvm::Error convertIsNaN(NodeContext &node) {
  return emitElementwise(
      node, node.b.getI1Type(),
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO,
                                       args[0], args[0]);
      },
      [](ArrayRef<double> a) { return double(std::isnan(a[0])); }, {0});
}

llvm::Error convertIsInf(NodeContext &node) {
  bool negative = node.attrInt("detect_negative", 1) != 0;
  bool positive = node.attrInt("detect_positive", 1) != 0;
  return emitElementwise(
      node, node.b.getI1Type(),
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value x = args[0];
        Value result = scalarConstant(b, loc, b.getI1Type(), 0);
        double inf = std::numeric_limits<double>::infinity();
        if (positive)
          result = b.create<arith::OrIOp>(
              loc, result,
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x,
                                      cst(b, loc, x, inf)));
        if (negative)
          result = b.create<arith::OrIOp>(
              loc, result,
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x,
                                      cst(b, loc, x, -inf)));
        return result;
      },
      [=](ArrayRef<double> a) {
        return double(std::isinf(a[0]) &&
                      ((a[0] > 0 && positive) || (a[0] < 0 && negative)));
      },
      {0});
}

/// Shrink: x < -lambd ? x + bias : x > lambd ? x - bias : 0.
llvm::Error convertShrink(NodeContext &node) {
  double lambd = node.attrFloat("lambd", 0.5f);
  double bias = node.attrFloat("bias", 0.0f);
  Type type = node.inputElementType(0);
  return emitElementwise(
      node, type,
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        Value x = args[0];
        bool f = isFloat(x.getType());
        Value low, high;
        if (f) {
          low = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x,
                                        cst(b, loc, x, -lambd));
          high = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x,
                                         cst(b, loc, x, lambd));
        } else {
          // Compare in f64: lambd need not be an integer.
          Value xf = convertScalar(b, loc, x, b.getF64Type());
          low = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, xf,
                                        cst(b, loc, xf, -lambd));
          high = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, xf,
                                         cst(b, loc, xf, lambd));
        }
        Value plus = binary(b, loc, Arith::Add, x, cst(b, loc, x, bias));
        Value minus = binary(b, loc, Arith::Sub, x, cst(b, loc, x, bias));
        Value r = b.create<arith::SelectOp>(loc, high, minus, cst(b, loc, x, 0));
        return b.create<arith::SelectOp>(loc, low, plus, r);
      },
      [=](ArrayRef<double> a) {
        return a[0] < -lambd ? a[0] + bias : a[0] > lambd ? a[0] - bias : 0;
      },
      {0});
}

llvm::Error convertWhere(NodeContext &node) {
  Type type = node.inputElementType(1);
  return emitElementwise(
      node, type,
      [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
        return b.create<arith::SelectOp>(loc, args[0], args[1], args[2]);
      },
      [](ArrayRef<double> a) { return a[0] != 0 ? a[1] : a[2]; });
}

llvm::Error convertIdentity(NodeContext &node) {
  if (auto constant = node.constantInput(0)) {
    node.setConstantOutput(0, *constant);
    return llvm::Error::success();
  }
  node.setOutput(0, node.input(0));
  return llvm::Error::success();
}

/// Dropout at inference: the input, and an all-true mask when asked for.
/// Training mode with a nonzero ratio, both known at import time, draws a
/// random mask: an error. A ratio or training_mode computed at run time is
/// taken as inference (hatc cannot draw masks).
llvm::Error convertDropout(NodeContext &node) {
  if (node.hasInput(2)) {
    auto known = [&](size_t i) -> std::optional<double> {
      auto value = node.constantInput(i);
      if (!value || value->getNumElements() != 1)
        return std::nullopt;
      return doublesOf(*value)[0];
    };
    std::optional<double> ratio = node.hasInput(1) ? known(1) : 0.5;
    std::optional<double> training = known(2);
    if (training && *training != 0 && ratio && *ratio != 0)
      return node.error("training-mode dropout (random masks) is not "
                        "supported; export the model for inference");
  }
  if (llvm::Error err = convertIdentity(node))
    return err;
  if (node.wantsOutput(1))
    node.setOutput(1, filledTensor(node.b, node.loc, node.inputShape(0),
                                   node.b.getI1Type(), 1));
  return llvm::Error::success();
}

/// PRelu. Before opset 7 a 1-D slope of the channel count applies along
/// axis 1 (legacy broadcasting); from 7 on, numpy broadcasting.
llvm::Error convertPRelu(NodeContext &node) {
  Type type = node.inputElementType(0);
  ArrayRef<int64_t> shape = node.inputShape(0);
  ArrayRef<int64_t> slopeShape = node.inputShape(1);
  if (node.opset < 7 && slopeShape.size() == 1 && shape.size() > 2 &&
      slopeShape[0] == shape[1] && slopeShape[0] != shape.back()) {
    SmallVector<int64_t> channel(shape.size() - 1, 1);
    channel[0] = slopeShape[0];
    Value slope = reshape(node.b, node.loc, node.input(1), channel);
    auto result = elementwise(
        node.b, node.loc, ValueRange{node.input(0), slope}, type,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          Value x = args[0];
          Value neg = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x,
                                              cst(b, loc, x, 0));
          Value scaled = b.create<arith::MulFOp>(loc, x, args[1]);
          return b.create<arith::SelectOp>(loc, neg, scaled, x);
        });
    if (!result)
      return node.error(llvm::toString(result.takeError()));
    node.setOutput(0, *result);
    return llvm::Error::success();
  }
  return emitElementwise(node, type,
                         [&](OpBuilder &b, Location loc, ValueRange args) {
                           Value x = args[0], slope = args[1];
                           Value zero = cst(b, loc, x, 0);
                           Value neg = b.create<arith::CmpFOp>(
                               loc, arith::CmpFPredicate::OLT, x, zero);
                           Value scaled = b.create<arith::MulFOp>(loc, x, slope);
                           return b.create<arith::SelectOp>(loc, neg, scaled, x)
                               .getResult();
                         });
}

Value floatSelect(OpBuilder &b, Location loc, arith::CmpFPredicate pred,
                  Value x, double threshold, Value ifTrue, Value ifFalse) {
  Value cond = b.create<arith::CmpFOp>(loc, pred, x, cst(b, loc, x, threshold));
  return b.create<arith::SelectOp>(loc, cond, ifTrue, ifFalse);
}

} // namespace

void registerElementwiseOps(ConverterRegistry &r) {
  addBinary(r, "Add", Arith::Add);
  addBinary(r, "Sub", Arith::Sub);
  addBinary(r, "Mul", Arith::Mul);
  addBinary(r, "Div", Arith::Div);
  addBinary(r, "Pow", Arith::Pow);
  addBinary(r, "Min", Arith::Min);
  addBinary(r, "Max", Arith::Max);
  addBinary(r, "Sum", Arith::Add);
  addBinary(r, "Mod", Arith::Mod);
  r["Mean"] = {[](NodeContext &node) -> llvm::Error {
    Type type = node.inputElementType(0);
    double count = 0;
    for (size_t i = 0; i < node.numInputs(); ++i)
      count += node.hasInput(i);
    return emitElementwise(node, type,
                           [&](OpBuilder &b, Location loc, ValueRange args) {
                             Value acc = args[0];
                             for (Value v : args.drop_front())
                               acc = binary(b, loc, Arith::Add, acc, v);
                             return binary(b, loc, Arith::Div, acc,
                                           cst(b, loc, acc, count));
                           });
  }};
  addCompare(r, "Equal", Compare::Eq);
  addCompare(r, "Less", Compare::Lt);
  addCompare(r, "Greater", Compare::Gt);
  addCompare(r, "LessOrEqual", Compare::Le);
  addCompare(r, "GreaterOrEqual", Compare::Ge);
  addLogic(r, "And", Logic::And);
  addLogic(r, "Or", Logic::Or);
  addLogic(r, "Xor", Logic::Xor);
  r["Not"] = {[](NodeContext &node) -> llvm::Error {
    return emitElementwise(
        node, node.b.getI1Type(),
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return b.create<arith::XOrIOp>(loc, args[0],
                                         cst(b, loc, args[0], 1));
        },
        [](ArrayRef<double> a) { return double(a[0] == 0); });
  }};
  r["BitShift"] = {
      [](NodeContext &node) -> llvm::Error {
        std::string direction = node.attrString("direction");
        if (direction != "LEFT" && direction != "RIGHT")
          return node.error("direction must be LEFT or RIGHT, not '" +
                            direction + "'");
        Type type = node.inputElementType(0);
        if (isFloat(type) || type.isInteger(1))
          return node.error("BitShift needs unsigned integer inputs");
        bool left = direction == "LEFT";
        // Inputs are unsigned: a right shift is logical; shifting by the width
        // or more gives 0 (arith leaves it undefined).
        return emitElementwise(
            node, type,
            [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
              Value x = args[0], y = args[1];
              unsigned width = type.getIntOrFloatBitWidth();
              Value shifted =
                  left ? b.create<arith::ShLIOp>(loc, x, y).getResult()
                       : b.create<arith::ShRUIOp>(loc, x, y).getResult();
              Value inRange = b.create<arith::CmpIOp>(
                  loc, arith::CmpIPredicate::ult, y, cst(b, loc, y, width));
              return b.create<arith::SelectOp>(loc, inRange, shifted,
                                               cst(b, loc, x, 0));
            });
      },
      11};
  r["Where"] = {convertWhere};
  r["Clip"] = {convertClip};
  r["Cast"] = {convertCast};
  r["CastLike"] = {convertCastLike, 15};
  r["IsNaN"] = {convertIsNaN};
  r["IsInf"] = {convertIsInf};
  r["Shrink"] = {convertShrink};
  r["Identity"] = {convertIdentity};
  r["Dropout"] = {convertDropout};
  r["PRelu"] = {convertPRelu};

  addUnary(r, "Relu", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return clampValue(b, loc, x, cst(b, loc, x, 0), Value());
  }, [](double x) { return std::max(x, 0.0); });
  addUnary(r, "Neg", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    if (isFloat(x.getType()))
      return b.create<arith::NegFOp>(loc, x).getResult();
    return b.create<arith::SubIOp>(loc, cst(b, loc, x, 0), x).getResult();
  }, [](double x) { return -x; });
  addUnary(
      r, "Abs",
      [](OpBuilder &b, Location loc, Value x, NodeContext &node) {
        if (isFloat(x.getType()))
          return b.create<math::AbsFOp>(loc, x).getResult();
        if (node.inputIsUnsigned(0))
          return x;
        return b.create<math::AbsIOp>(loc, x).getResult();
      },
      [](double x) { return std::fabs(x); });
  addUnary(
      r, "Sign",
      [](OpBuilder &b, Location loc, Value x, NodeContext &node) {
        Value zero = cst(b, loc, x, 0), one = cst(b, loc, x, 1),
              minusOne = cst(b, loc, x, -1);
        Value pos, neg;
        if (node.inputIsUnsigned(0) && !isFloat(x.getType())) {
          pos = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, x, zero);
          return b.create<arith::SelectOp>(loc, pos, one, zero).getResult();
        }
        if (isFloat(x.getType())) {
          pos =
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x, zero);
          neg =
              b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, zero);
        } else {
          pos =
              b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, x, zero);
          neg =
              b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x, zero);
        }
        Value r = b.create<arith::SelectOp>(loc, neg, minusOne, zero);
        return b.create<arith::SelectOp>(loc, pos, one, r).getResult();
      },
      [](double x) { return double((x > 0) - (x < 0)); });
  addUnary(r, "Sigmoid", [](OpBuilder &b, Location loc, Value x,
                            NodeContext &) { return sigmoid(b, loc, x); });
  addUnary(r, "Tanh", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::TanhOp>(loc, x).getResult();
  });
  addUnary(r, "Exp", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::ExpOp>(loc, x).getResult();
  });
  addUnary(r, "Log", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::LogOp>(loc, x).getResult();
  });
  addUnary(r, "Sqrt", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::SqrtOp>(loc, x).getResult();
  }, [](double x) { return std::sqrt(x); });
  addUnary(r, "Erf", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::ErfOp>(loc, x).getResult();
  });
  addUnary(r, "Floor", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::FloorOp>(loc, x).getResult();
  }, [](double x) { return std::floor(x); });
  addUnary(r, "Ceil", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::CeilOp>(loc, x).getResult();
  }, [](double x) { return std::ceil(x); });
  addUnary(r, "Round", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::RoundEvenOp>(loc, x).getResult();
  }, [](double x) { return std::nearbyint(x); });
  addUnary(r, "Sin", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::SinOp>(loc, x).getResult();
  });
  addUnary(r, "Cos", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    return b.create<math::CosOp>(loc, x).getResult();
  });
#define HATC_MATH_UNARY(NAME, OP, HOST)                                        \
  addUnary(                                                                    \
      r, NAME,                                                                 \
      [](OpBuilder &b, Location loc, Value x, NodeContext &) {                 \
        return b.create<math::OP>(loc, x).getResult();                         \
      },                                                                       \
      [](double x) { return HOST(x); })
  HATC_MATH_UNARY("Tan", TanOp, std::tan);
  HATC_MATH_UNARY("Asin", AsinOp, std::asin);
  HATC_MATH_UNARY("Acos", AcosOp, std::acos);
  HATC_MATH_UNARY("Atan", AtanOp, std::atan);
  HATC_MATH_UNARY("Sinh", SinhOp, std::sinh);
  HATC_MATH_UNARY("Cosh", CoshOp, std::cosh);
  HATC_MATH_UNARY("Asinh", AsinhOp, std::asinh);
  HATC_MATH_UNARY("Acosh", AcoshOp, std::acosh);
  HATC_MATH_UNARY("Atanh", AtanhOp, std::atanh);
#undef HATC_MATH_UNARY
  addUnary(r, "Mish", [](OpBuilder &b, Location loc, Value x, NodeContext &) {
    // x * tanh(softplus(x)), softplus as in Softplus below.
    Value zero = cst(b, loc, x, 0);
    Value relu = b.create<arith::MaximumFOp>(loc, x, zero);
    Value negAbs = b.create<arith::NegFOp>(loc, b.create<math::AbsFOp>(loc, x));
    Value l = b.create<math::Log1pOp>(loc, b.create<math::ExpOp>(loc, negAbs));
    Value sp = b.create<arith::AddFOp>(loc, relu, l);
    return b.create<arith::MulFOp>(loc, x, b.create<math::TanhOp>(loc, sp))
        .getResult();
  });
  addUnary(r, "Reciprocal", [](OpBuilder &b, Location loc, Value x,
                               NodeContext &) {
    return b.create<arith::DivFOp>(loc, cst(b, loc, x, 1), x).getResult();
  }, [](double x) { return 1 / x; });
  addUnary(r, "Softplus", [](OpBuilder &b, Location loc, Value x,
                             NodeContext &) {
    // log(1 + exp(x)), written to stay finite for large x:
    // max(x, 0) + log(1 + exp(-|x|)).
    Value zero = cst(b, loc, x, 0);
    Value relu = b.create<arith::MaximumFOp>(loc, x, zero);
    Value negAbs = b.create<arith::NegFOp>(loc, b.create<math::AbsFOp>(loc, x));
    Value l = b.create<math::Log1pOp>(loc, b.create<math::ExpOp>(loc, negAbs));
    return b.create<arith::AddFOp>(loc, relu, l).getResult();
  });
  addUnary(r, "Softsign", [](OpBuilder &b, Location loc, Value x,
                             NodeContext &) {
    Value d = b.create<arith::AddFOp>(loc, cst(b, loc, x, 1),
                                      b.create<math::AbsFOp>(loc, x));
    return b.create<arith::DivFOp>(loc, x, d).getResult();
  });
  addUnary(r, "LeakyRelu", [](OpBuilder &b, Location loc, Value x,
                              NodeContext &node) {
    Value scaled = b.create<arith::MulFOp>(
        loc, x, cst(b, loc, x, node.attrFloat("alpha", 0.01f)));
    return floatSelect(b, loc, arith::CmpFPredicate::OLT, x, 0, scaled, x);
  });
  addUnary(r, "Elu", [](OpBuilder &b, Location loc, Value x,
                        NodeContext &node) {
    Value em1 = b.create<math::ExpM1Op>(loc, x);
    Value scaled = b.create<arith::MulFOp>(
        loc, em1, cst(b, loc, x, node.attrFloat("alpha", 1.0f)));
    return floatSelect(b, loc, arith::CmpFPredicate::OLT, x, 0, scaled, x);
  });
  addUnary(r, "Celu", [](OpBuilder &b, Location loc, Value x,
                         NodeContext &node) {
    double alpha = node.attrFloat("alpha", 1.0f);
    Value em1 = b.create<math::ExpM1Op>(
        loc, b.create<arith::DivFOp>(loc, x, cst(b, loc, x, alpha)));
    Value scaled = b.create<arith::MulFOp>(loc, em1, cst(b, loc, x, alpha));
    return floatSelect(b, loc, arith::CmpFPredicate::OLT, x, 0, scaled, x);
  });
  addUnary(r, "Selu", [](OpBuilder &b, Location loc, Value x,
                         NodeContext &node) {
    double alpha = node.attrFloat("alpha", 1.67326319217681884765625f);
    double gamma = node.attrFloat("gamma", 1.05070102214813232421875f);
    Value em1 = b.create<math::ExpM1Op>(loc, x);
    Value neg = b.create<arith::MulFOp>(loc, em1, cst(b, loc, x, alpha));
    Value r = floatSelect(b, loc, arith::CmpFPredicate::OLE, x, 0, neg, x);
    return b.create<arith::MulFOp>(loc, r, cst(b, loc, x, gamma)).getResult();
  });
  addUnary(r, "ThresholdedRelu", [](OpBuilder &b, Location loc, Value x,
                                    NodeContext &node) {
    return floatSelect(b, loc, arith::CmpFPredicate::OGT, x,
                       node.attrFloat("alpha", 1.0f), x, cst(b, loc, x, 0));
  });
  addUnary(r, "HardSigmoid", [](OpBuilder &b, Location loc, Value x,
                                NodeContext &node) {
    Value y = b.create<arith::AddFOp>(
        loc,
        b.create<arith::MulFOp>(loc, x,
                                cst(b, loc, x, node.attrFloat("alpha", 0.2f))),
        cst(b, loc, x, node.attrFloat("beta", 0.5f)));
    return clampValue(b, loc, y, cst(b, loc, x, 0), cst(b, loc, x, 1));
  });
  addUnary(r, "HardSwish", [](OpBuilder &b, Location loc, Value x,
                              NodeContext &) {
    // x * max(0, min(1, x / 6 + 0.5))
    Value y = b.create<arith::AddFOp>(
        loc, b.create<arith::MulFOp>(loc, x, cst(b, loc, x, 1.0 / 6)),
        cst(b, loc, x, 0.5));
    y = clampValue(b, loc, y, cst(b, loc, x, 0), cst(b, loc, x, 1));
    return b.create<arith::MulFOp>(loc, x, y).getResult();
  });
}

} // namespace hatc::frontend
