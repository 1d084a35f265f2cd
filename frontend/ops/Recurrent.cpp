//===- Recurrent.cpp - ONNX RNN, GRU, LSTM unrolled over time -------------===//
//
// The sequence length is static, so the recurrence is unrolled at import
// time. Per direction:
//   XW = X[seq*batch, input] x W^T[input, gates*hidden] + biases   (one matmul)
//   per step t: HR = H x R^T (linalg.matmul), then the cell's gates and
//   activations as elementwise linalg.generics on column slices of XW[t]
//   and HR; H (and C) feed the next step, Y is assembled by insert_slice.
// Constant sequence_lens shorter than the sequence mask the steps past each
// batch entry's length (H and C kept, Y zero), which gives ONNX's semantics
// for both directions.
//
//===----------------------------------------------------------------------===//
#include "../Importer.h"

#include "llvm/ADT/StringExtras.h"

#include <optional>

using namespace mlir;

namespace hatc::frontend {

namespace {

enum class CellKind { Rnn, Gru, Lstm };

SmallVector<OpFoldResult> indexAttrs(OpBuilder &b, ArrayRef<int64_t> values) {
  SmallVector<OpFoldResult> result;
  for (int64_t v : values)
    result.push_back(b.getIndexAttr(v));
  return result;
}

/// A static extract_slice (unit strides); `resultShape` may drop unit dims.
Value extractSlice(OpBuilder &b, Location loc, Value source,
                   ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes,
                   ArrayRef<int64_t> resultShape) {
  auto type = cast<RankedTensorType>(source.getType());
  auto resultType = RankedTensorType::get(resultShape, type.getElementType());
  SmallVector<int64_t> strides(offsets.size(), 1);
  return b.create<tensor::ExtractSliceOp>(
      loc, resultType, source, indexAttrs(b, offsets), indexAttrs(b, sizes),
      indexAttrs(b, strides));
}

/// Inserts `source` into `dest` at `offsets` over `sizes` (the source may
/// lack the unit dims of `sizes`).
Value insertSlice(OpBuilder &b, Location loc, Value source, Value dest,
                  ArrayRef<int64_t> offsets, ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> strides(offsets.size(), 1);
  return b.create<tensor::InsertSliceOp>(
      loc, source, dest, indexAttrs(b, offsets), indexAttrs(b, sizes),
      indexAttrs(b, strides));
}

/// Columns [from, from + count) of a 2-D tensor.
Value columns(OpBuilder &b, Location loc, Value x, int64_t from,
              int64_t count) {
  int64_t rows = cast<RankedTensorType>(x.getType()).getDimSize(0);
  return extractSlice(b, loc, x, {0, from}, {rows, count}, {rows, count});
}

std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

struct ActivationInfo {
  const char *name; // lower case
  bool usesAlpha, usesBeta;
  float alpha, beta; // defaults
};

constexpr ActivationInfo kActivations[] = {
    {"relu", false, false, 0, 0},
    {"tanh", false, false, 0, 0},
    {"sigmoid", false, false, 0, 0},
    {"affine", true, true, 1, 0},
    {"leakyrelu", true, false, 0.01f, 0},
    {"thresholdedrelu", true, false, 1, 0},
    {"scaledtanh", true, true, 1, 1},
    {"hardsigmoid", true, true, 0.2f, 0.5f},
    {"elu", true, false, 1, 0},
    {"softsign", false, false, 0, 0},
    {"softplus", false, false, 0, 0},
};

struct Activation {
  std::string name; // lower case
  double alpha = 0, beta = 0;
};

/// Scalar float arithmetic inside a generic's body, with the activations.
struct ScalarOps : FloatMath {
  Value sigmoid(Value x) {
    Value one = cst(1);
    return div(one, add(one, exp(b.create<arith::NegFOp>(loc, x))));
  }

  Value apply(const Activation &act, Value x) {
    const std::string &n = act.name;
    if (n == "tanh")
      return b.create<math::TanhOp>(loc, x);
    if (n == "sigmoid")
      return sigmoid(x);
    if (n == "relu")
      return max(x, cst(0));
    if (n == "affine")
      return add(mul(cst(act.alpha), x), cst(act.beta));
    if (n == "leakyrelu")
      return select(lt(x, cst(0)), mul(cst(act.alpha), x), x);
    if (n == "thresholdedrelu")
      return select(lt(cst(act.alpha), x), x, cst(0));
    if (n == "scaledtanh")
      return mul(cst(act.alpha),
                 b.create<math::TanhOp>(loc, mul(cst(act.beta), x)));
    if (n == "hardsigmoid")
      return max(cst(0), min(cst(1), add(mul(cst(act.alpha), x),
                                                   cst(act.beta))));
    if (n == "elu")
      return select(lt(x, cst(0)),
                    mul(cst(act.alpha), sub(exp(x), cst(1))), x);
    if (n == "softsign")
      return div(x, add(cst(1), b.create<math::AbsFOp>(loc, x)));
    assert(n == "softplus" && "activation names are checked when parsed");
    return b.create<math::LogOp>(loc, add(cst(1), exp(x)));
  }
};

//===----------------------------------------------------------------------===//
// The unrolled recurrence
//===----------------------------------------------------------------------===//

class Recurrence {
public:
  Recurrence(NodeContext &node, CellKind kind)
      : node(node), kind(kind), b(node.b), loc(node.loc) {}

  llvm::Error convert();

private:
  llvm::Error readOperands();
  llvm::Error readActivations();
  llvm::Error readSequenceLengths();
  llvm::Error runDirection(int64_t d);

  /// One elementwise generic over [batch, hidden] operands.
  llvm::Expected<Value>
  map(ValueRange inputs,
      const std::function<Value(ScalarOps &, ValueRange)> &body);
  /// `x`, clipped to [-clip, clip] when the attribute is set.
  Value clipped(ScalarOps &ops, Value x) {
    if (!clip)
      return x;
    return ops.min(ops.max(x, ops.cst(-*clip)), ops.cst(*clip));
  }
  const Activation &act(int64_t d, int64_t k) {
    return activations[d * activationsPerDirection + k];
  }

  /// The cell: new H (and C for LSTM) from this step's XW slice.
  llvm::Error step(int64_t d, Value xw, Value &h, Value &c);

  NodeContext &node;
  CellKind kind;
  OpBuilder &b;
  Location loc;
  Type element;

  int64_t gates = 1, activationsPerDirection = 1;
  int64_t seq = 0, batch = 0, inputSize = 0, hidden = 0, numDirections = 1;
  bool reverseOnly = false, layout = false;
  bool linearBeforeReset = false, inputForget = false;
  std::optional<double> clip;
  SmallVector<Activation> activations;
  /// Per batch entry; empty when every entry runs the whole sequence.
  std::vector<int64_t> lengths;

  Value x, w, r, bias, initialH, initialC, peepholes;
  Value y, yH, yC;

  // Per direction.
  Value xwAll;          // [seq, batch, gates*hidden], biases added
  Value rT;             // [hidden, gates*hidden] (GRU without lbr: z, r only)
  Value rhT;            // GRU without lbr: [hidden, hidden]
  Value recurrentBiasH; // GRU with lbr: Rbh [hidden], or null
  Value pI, pO, pF;     // LSTM peepholes [hidden], or null
};

llvm::Error Recurrence::readOperands() {
  if (node.inputRank(0) != 3)
    return node.error("X must be 3-D, got " + shapeText(node.inputShape(0)));
  element = node.inputElementType(0);
  if (!isa<FloatType>(element))
    return node.error("X must have a floating-point element type");
  layout = node.attrInt("layout", 0) != 0;
  x = node.input(0);
  if (layout)
    x = transpose(b, loc, x, {1, 0, 2});
  ArrayRef<int64_t> xShape = cast<RankedTensorType>(x.getType()).getShape();
  seq = xShape[0];
  batch = xShape[1];
  inputSize = xShape[2];
  if (seq == 0 || batch == 0)
    return node.error("empty sequences or batches are not supported");

  std::string direction = node.attrString("direction", "forward");
  if (direction == "bidirectional")
    numDirections = 2;
  else if (direction == "reverse")
    reverseOnly = true;
  else if (direction != "forward")
    return node.error("unknown direction '" + direction +
                      "' (expected forward, reverse or bidirectional)");

  if (!node.hasInput(1) || !node.hasInput(2))
    return node.error("W and R are required");
  if (node.inputRank(1) != 3 || node.inputRank(2) != 3)
    return node.error("W and R must be 3-D");
  hidden = node.attrInt("hidden_size", node.inputShape(2)[2]);
  SmallVector<int64_t> wShape = {numDirections, gates * hidden, inputSize};
  SmallVector<int64_t> rShape = {numDirections, gates * hidden, hidden};
  if (node.inputShape(1) != ArrayRef<int64_t>(wShape))
    return node.error("W is " + shapeText(node.inputShape(1)) + ", expected " +
                      shapeText(wShape));
  if (node.inputShape(2) != ArrayRef<int64_t>(rShape))
    return node.error("R is " + shapeText(node.inputShape(2)) + ", expected " +
                      shapeText(rShape));
  for (size_t i = 1; i < node.numInputs(); ++i)
    if (node.hasInput(i) && i != 4 && node.inputElementType(i) != element)
      return node.error("input " + llvm::Twine(i) +
                        " has a different element type than X");
  w = node.input(1);
  r = node.input(2);

  if (node.hasInput(3)) {
    SmallVector<int64_t> bShape = {numDirections, 2 * gates * hidden};
    if (node.inputShape(3) != ArrayRef<int64_t>(bShape))
      return node.error("B is " + shapeText(node.inputShape(3)) +
                        ", expected " + shapeText(bShape));
    bias = node.input(3);
  }

  SmallVector<int64_t> stateShape = {numDirections, batch, hidden};
  SmallVector<int64_t> givenStateShape =
      layout ? SmallVector<int64_t>{batch, numDirections, hidden} : stateShape;
  auto readState = [&](size_t i, StringRef name, Value &state) -> llvm::Error {
    if (!node.hasInput(i))
      return llvm::Error::success();
    if (node.inputShape(i) != ArrayRef<int64_t>(givenStateShape))
      return node.error(name + " is " + shapeText(node.inputShape(i)) +
                        ", expected " + shapeText(givenStateShape));
    state = node.input(i);
    if (layout)
      state = transpose(b, loc, state, {1, 0, 2});
    return llvm::Error::success();
  };
  if (llvm::Error err = readState(5, "initial_h", initialH))
    return err;
  if (kind != CellKind::Lstm)
    return llvm::Error::success();
  if (llvm::Error err = readState(6, "initial_c", initialC))
    return err;
  if (node.hasInput(7)) {
    SmallVector<int64_t> pShape = {numDirections, 3 * hidden};
    if (node.inputShape(7) != ArrayRef<int64_t>(pShape))
      return node.error("P is " + shapeText(node.inputShape(7)) +
                        ", expected " + shapeText(pShape));
    peepholes = node.input(7);
  }
  return llvm::Error::success();
}

llvm::Error Recurrence::readActivations() {
  std::vector<std::string> names;
  if (const onnx::AttributeProto *attr = node.attr("activations"))
    for (const std::string &name : attr->strings())
      names.push_back(name);
  if (names.empty()) {
    if (kind == CellKind::Rnn)
      names = {"Tanh"};
    else if (kind == CellKind::Gru)
      names = {"Sigmoid", "Tanh"};
    else
      names = {"Sigmoid", "Tanh", "Tanh"};
  }
  // One list may serve both directions.
  if (numDirections == 2 && int64_t(names.size()) == activationsPerDirection) {
    std::vector<std::string> forward = names;
    names.insert(names.end(), forward.begin(), forward.end());
  }
  if (int64_t(names.size()) != activationsPerDirection * numDirections)
    return node.error("expected " +
                      llvm::Twine(activationsPerDirection * numDirections) +
                      " activations, got " + llvm::Twine(names.size()));
  // activation_alpha/beta are consumed in order by the functions that use
  // them; missing values take the function's default.
  std::vector<float> alphas = node.attrFloats("activation_alpha");
  std::vector<float> betas = node.attrFloats("activation_beta");
  size_t nextAlpha = 0, nextBeta = 0;
  for (const std::string &name : names) {
    std::string lower = llvm::StringRef(name).lower();
    const ActivationInfo *info = nullptr;
    for (const ActivationInfo &candidate : kActivations)
      if (lower == candidate.name)
        info = &candidate;
    if (!info)
      return node.error("unsupported activation '" + name + "'");
    Activation act{lower, info->alpha, info->beta};
    if (info->usesAlpha && nextAlpha < alphas.size())
      act.alpha = alphas[nextAlpha++];
    if (info->usesBeta && nextBeta < betas.size())
      act.beta = betas[nextBeta++];
    activations.push_back(act);
  }
  return llvm::Error::success();
}

llvm::Error Recurrence::readSequenceLengths() {
  if (!node.hasInput(4))
    return llvm::Error::success();
  if (node.inputShape(4) != ArrayRef<int64_t>{batch})
    return node.error("sequence_lens is " + shapeText(node.inputShape(4)) +
                      ", expected [" + llvm::Twine(batch) + "]");
  std::optional<DenseElementsAttr> constant = node.constantInput(4);
  if (!constant)
    return node.error("sequence_lens must be known at import time (the "
                      "recurrence is unrolled over static lengths)");
  std::vector<int64_t> values = intsOf(*constant);
  for (int64_t v : values)
    if (v < 0 || v > seq)
      return node.error("sequence_lens value " + llvm::Twine(v) +
                        " is outside [0, " + llvm::Twine(seq) + "]");
  if (llvm::all_of(values, [&](int64_t v) { return v == seq; }))
    return llvm::Error::success();
  lengths = values;
  return llvm::Error::success();
}

llvm::Expected<Value>
Recurrence::map(ValueRange inputs,
                const std::function<Value(ScalarOps &, ValueRange)> &body) {
  SmallVector<int64_t> shape = {batch, hidden};
  return elementwise(
      b, loc, inputs, element,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        ScalarOps ops{{nested, nestedLoc, element}};
        return body(ops, args);
      },
      ArrayRef<int64_t>(shape));
}

llvm::Error Recurrence::step(int64_t d, Value xw, Value &h, Value &c) {
  int64_t H = hidden;
  if (kind == CellKind::Rnn) {
    Value hr = matmul2d(b, loc, h, rT);
    auto next = map({xw, hr}, [&](ScalarOps &ops, ValueRange a) {
      return ops.apply(act(d, 0), clipped(ops, ops.add(a[0], a[1])));
    });
    if (!next)
      return next.takeError();
    h = *next;
    return llvm::Error::success();
  }

  if (kind == CellKind::Gru) {
    // Gate order z, r, h.
    Value hr = matmul2d(b, loc, h, rT);
    Value xz = columns(b, loc, xw, 0, H), xr = columns(b, loc, xw, H, H);
    Value xh = columns(b, loc, xw, 2 * H, H);
    Value hz = columns(b, loc, hr, 0, H), hrr = columns(b, loc, hr, H, H);
    const Activation &f = act(d, 0), &g = act(d, 1);
    SmallVector<Value> inputs = {xz, hz, xh, h};
    if (linearBeforeReset) {
      // ht = g(xh + r * (H Rh^T + Rbh))
      inputs.append({xr, hrr, columns(b, loc, hr, 2 * H, H)});
      if (recurrentBiasH)
        inputs.push_back(recurrentBiasH);
    } else {
      // ht = g(xh + (r * H) Rh^T)
      auto reset = map({xr, hrr, h}, [&](ScalarOps &ops, ValueRange a) {
        return ops.mul(ops.apply(f, clipped(ops, ops.add(a[0], a[1]))), a[2]);
      });
      if (!reset)
        return reset.takeError();
      inputs.push_back(matmul2d(b, loc, *reset, rhT));
    }
    bool withBias = bool(recurrentBiasH);
    auto next = map(inputs, [&](ScalarOps &ops, ValueRange a) {
      Value z = ops.apply(f, clipped(ops, ops.add(a[0], a[1])));
      Value pre;
      if (linearBeforeReset) {
        Value rGate = ops.apply(f, clipped(ops, ops.add(a[4], a[5])));
        Value hh = withBias ? ops.add(a[6], a[7]) : a[6];
        pre = ops.add(a[2], ops.mul(rGate, hh));
      } else {
        pre = ops.add(a[2], a[4]);
      }
      Value candidate = ops.apply(g, clipped(ops, pre));
      // (1 - z) * ht + z * H
      return ops.add(ops.mul(ops.sub(ops.cst(1), z), candidate),
                     ops.mul(z, a[3]));
    });
    if (!next)
      return next.takeError();
    h = *next;
    return llvm::Error::success();
  }

  // LSTM, gate order i, o, f, c.
  Value hr = matmul2d(b, loc, h, rT);
  const Activation &f = act(d, 0), &g = act(d, 1), &hAct = act(d, 2);
  SmallVector<Value> cellInputs = {columns(b, loc, xw, 0, H),
                                   columns(b, loc, hr, 0, H),
                                   columns(b, loc, xw, 2 * H, H),
                                   columns(b, loc, hr, 2 * H, H),
                                   columns(b, loc, xw, 3 * H, H),
                                   columns(b, loc, hr, 3 * H, H),
                                   c};
  bool withPeepholes = bool(pI);
  if (withPeepholes)
    cellInputs.append({pI, pF});
  bool coupled = inputForget;
  auto nextC = map(cellInputs, [&](ScalarOps &ops, ValueRange a) {
    Value cPrev = a[6];
    Value preI = ops.add(a[0], a[1]);
    Value preF = ops.add(a[2], a[3]);
    if (withPeepholes) {
      preI = ops.add(preI, ops.mul(a[7], cPrev));
      preF = ops.add(preF, ops.mul(a[8], cPrev));
    }
    Value i = ops.apply(f, clipped(ops, preI));
    Value forget = coupled ? ops.sub(ops.cst(1), i)
                           : ops.apply(f, clipped(ops, preF));
    Value cand = ops.apply(g, clipped(ops, ops.add(a[4], a[5])));
    return ops.add(ops.mul(forget, cPrev), ops.mul(i, cand));
  });
  if (!nextC)
    return nextC.takeError();
  SmallVector<Value> outInputs = {columns(b, loc, xw, H, H),
                                  columns(b, loc, hr, H, H), *nextC};
  if (withPeepholes)
    outInputs.push_back(pO);
  auto nextH = map(outInputs, [&](ScalarOps &ops, ValueRange a) {
    Value pre = ops.add(a[0], a[1]);
    if (withPeepholes)
      pre = ops.add(pre, ops.mul(a[3], a[2]));
    Value o = ops.apply(f, clipped(ops, pre));
    return ops.mul(o, ops.apply(hAct, a[2]));
  });
  if (!nextH)
    return nextH.takeError();
  h = *nextH;
  c = *nextC;
  return llvm::Error::success();
}

llvm::Error Recurrence::runDirection(int64_t d) {
  int64_t H = hidden, gh = gates * hidden;
  bool reverse = reverseOnly || d == 1;

  // XW for all steps at once, with the input-side and the foldable
  // recurrent-side biases.
  Value wd =
      extractSlice(b, loc, w, {d, 0, 0}, {1, gh, inputSize}, {gh, inputSize});
  Value xFlat = reshape(b, loc, x, {seq * batch, inputSize});
  Value xw = matmul2d(b, loc, xFlat, transpose(b, loc, wd, {1, 0}));
  recurrentBiasH = nullptr;
  if (bias) {
    Value wb = extractSlice(b, loc, bias, {d, 0}, {1, gh}, {gh});
    Value rb = extractSlice(b, loc, bias, {d, gh}, {1, gh}, {gh});
    if (kind == CellKind::Gru && linearBeforeReset) {
      // Rbh sits inside the reset gate's product: keep it apart.
      recurrentBiasH = extractSlice(b, loc, rb, {2 * H}, {H}, {H});
      rb = insertSlice(b, loc, filledTensor(b, loc, {H}, element, 0), rb,
                       {2 * H}, {H});
    }
    auto biased =
        elementwise(b, loc, ValueRange{xw, wb, rb}, element,
                    [&](OpBuilder &nested, Location nestedLoc, ValueRange a) {
                      ScalarOps ops{{nested, nestedLoc, element}};
                      return ops.add(a[0], ops.add(a[1], a[2]));
                    });
    if (!biased)
      return biased.takeError();
    xw = *biased;
  }
  xwAll = reshape(b, loc, xw, {seq, batch, gh});

  Value rd = extractSlice(b, loc, r, {d, 0, 0}, {1, gh, H}, {gh, H});
  Value rdT = transpose(b, loc, rd, {1, 0});
  rT = rdT;
  if (kind == CellKind::Gru && !linearBeforeReset) {
    rT = columns(b, loc, rdT, 0, 2 * H);
    rhT = columns(b, loc, rdT, 2 * H, H);
  }
  pI = pO = pF = nullptr;
  if (peepholes) {
    pI = extractSlice(b, loc, peepholes, {d, 0}, {1, H}, {H});
    pO = extractSlice(b, loc, peepholes, {d, H}, {1, H}, {H});
    pF = extractSlice(b, loc, peepholes, {d, 2 * H}, {1, H}, {H});
  }

  auto stateOf = [&](Value initial) {
    if (!initial)
      return filledTensor(b, loc, {batch, H}, element, 0);
    return extractSlice(b, loc, initial, {d, 0, 0}, {1, batch, H}, {batch, H});
  };
  Value h = stateOf(initialH);
  Value c = kind == CellKind::Lstm ? stateOf(initialC) : Value();

  for (int64_t s = 0; s < seq; ++s) {
    int64_t t = reverse ? seq - 1 - s : s;
    // Which batch entries run this step (all, when lengths are full).
    SmallVector<double> active(batch, 1);
    int64_t numActive = batch;
    if (!lengths.empty()) {
      numActive = 0;
      for (int64_t i = 0; i < batch; ++i) {
        active[i] = t < lengths[i] ? 1 : 0;
        numActive += t < lengths[i];
      }
    }
    if (numActive == 0)
      continue;
    Value xwStep =
        extractSlice(b, loc, xwAll, {t, 0, 0}, {1, batch, gh}, {batch, gh});
    Value newH = h, newC = c;
    if (llvm::Error err = step(d, xwStep, newH, newC))
      return err;
    Value out = newH;
    if (numActive < batch) {
      // Finished entries keep their state and output zeros.
      Value mask = b.create<arith::ConstantOp>(
          loc, doublesAttr(element, {batch, 1}, active));
      auto keep = [&](Value next, Value prev) -> llvm::Expected<Value> {
        return map({mask, next, prev}, [](ScalarOps &ops, ValueRange a) {
          Value on = ops.b.create<arith::CmpFOp>(
              ops.loc, arith::CmpFPredicate::ONE, a[0], ops.cst(0));
          return ops.select(on, a[1], a[2]);
        });
      };
      auto zeros = filledTensor(b, loc, {batch, H}, element, 0);
      auto keptH = keep(newH, h);
      if (!keptH)
        return keptH.takeError();
      auto masked = keep(newH, zeros);
      if (!masked)
        return masked.takeError();
      out = *masked;
      newH = *keptH;
      if (c) {
        auto keptC = keep(newC, c);
        if (!keptC)
          return keptC.takeError();
        newC = *keptC;
      }
    }
    h = newH;
    c = newC;
    if (y)
      y = insertSlice(b, loc, out, y, {t, d, 0, 0}, {1, 1, batch, H});
  }
  if (yH)
    yH = insertSlice(b, loc, h, yH, {d, 0, 0}, {1, batch, H});
  if (yC)
    yC = insertSlice(b, loc, c, yC, {d, 0, 0}, {1, batch, H});
  return llvm::Error::success();
}

llvm::Error Recurrence::convert() {
  if (kind == CellKind::Gru) {
    gates = 3;
    activationsPerDirection = 2;
    linearBeforeReset = node.attrInt("linear_before_reset", 0) != 0;
  } else if (kind == CellKind::Lstm) {
    gates = 4;
    activationsPerDirection = 3;
    inputForget = node.attrInt("input_forget", 0) != 0;
  }
  if (node.hasAttr("clip"))
    clip = node.attrFloat("clip", 0);
  if (llvm::Error err = readOperands())
    return err;
  if (llvm::Error err = readActivations())
    return err;
  if (llvm::Error err = readSequenceLengths())
    return err;

  if (node.wantsOutput(0))
    y = filledTensor(b, loc, {seq, numDirections, batch, hidden}, element, 0);
  if (node.wantsOutput(1))
    yH = filledTensor(b, loc, {numDirections, batch, hidden}, element, 0);
  if (kind == CellKind::Lstm && node.wantsOutput(2))
    yC = filledTensor(b, loc, {numDirections, batch, hidden}, element, 0);
  for (int64_t d = 0; d < numDirections; ++d)
    if (llvm::Error err = runDirection(d))
      return err;

  if (y)
    node.setOutput(0, layout ? transpose(b, loc, y, {2, 0, 1, 3}) : y);
  if (yH)
    node.setOutput(1, layout ? transpose(b, loc, yH, {1, 0, 2}) : yH);
  if (yC)
    node.setOutput(2, layout ? transpose(b, loc, yC, {1, 0, 2}) : yC);
  return llvm::Error::success();
}

Converter converterFor(CellKind kind) {
  return [kind](NodeContext &node) { return Recurrence(node, kind).convert(); };
}

} // namespace

void registerRecurrentOps(ConverterRegistry &r) {
  r["RNN"] = {converterFor(CellKind::Rnn), 7, 17};
  r["GRU"] = {converterFor(CellKind::Gru), 7, 17};
  r["LSTM"] = {converterFor(CellKind::Lstm), 7, 17};
}

} // namespace hatc::frontend
