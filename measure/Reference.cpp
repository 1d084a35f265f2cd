//===- Reference.cpp - Independent reference results for workloads --------===//
//
// Nothing here shares code with hatc's compile path: float (batch) matmuls go
// to OpenBLAS dgemm, integer matmuls and NHWC convolutions to plain loops,
// and every other linalg op to a scalar interpreter of its body that walks
// the op's iteration space in double precision.
//
//===----------------------------------------------------------------------===//
#include "hatc/Measure/Reference.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Support/Diagnostics.h"
#include "hatc/Support/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cblas.h>
#include <cmath>
#include <cstring>
#include <optional>

using namespace mlir;

namespace hatc {
namespace {

llvm::Error errorAt(Operation *op, const llvm::Twine &message) {
  std::string where = formatLocation(op->getLoc());
  return makeError((where.empty() ? "" : where + ": ") + message);
}

std::vector<int64_t> shapeOf(Value value) {
  auto type = cast<ShapedType>(value.getType());
  return {type.getShape().begin(), type.getShape().end()};
}

int64_t product(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// Wraps an integer value held in a double to a signed `bits`-wide integer.
double wrapSigned(double value, unsigned bits) {
  if (bits >= 64 || bits == 1)
    return value;
  int64_t x = static_cast<int64_t>(value);
  unsigned shift = 64 - bits;
  x = static_cast<int64_t>(static_cast<uint64_t>(x) << shift) >> shift;
  return static_cast<double>(x);
}

double asUnsigned(double value, unsigned bits) {
  if (bits >= 64)
    return static_cast<double>(static_cast<uint64_t>(int64_t(value)));
  uint64_t mask = (uint64_t(1) << bits) - 1;
  return static_cast<double>(static_cast<uint64_t>(int64_t(value)) & mask);
}

unsigned bitWidthOf(Type type) {
  if (auto intType = dyn_cast<IntegerType>(type))
    return intType.getWidth();
  if (type.isIndex())
    return 64;
  return 0;
}

//===----------------------------------------------------------------------===//
// Scalar interpreter of a linalg body.
//===----------------------------------------------------------------------===//

/// Evaluates an affine expression at integer dims.
int64_t evalAffine(AffineExpr expr, const int64_t *dims) {
  switch (expr.getKind()) {
  case AffineExprKind::Constant:
    return cast<AffineConstantExpr>(expr).getValue();
  case AffineExprKind::DimId:
    return dims[cast<AffineDimExpr>(expr).getPosition()];
  case AffineExprKind::SymbolId:
    return 0;
  default: {
    auto bin = cast<AffineBinaryOpExpr>(expr);
    int64_t l = evalAffine(bin.getLHS(), dims), r = evalAffine(bin.getRHS(), dims);
    switch (expr.getKind()) {
    case AffineExprKind::Add: return l + r;
    case AffineExprKind::Mul: return l * r;
    case AffineExprKind::Mod: return ((l % r) + r) % r;
    case AffineExprKind::FloorDiv:
      return l / r - ((l % r != 0) && ((l < 0) != (r < 0)));
    case AffineExprKind::CeilDiv:
      return l / r + ((l % r != 0) && ((l < 0) == (r < 0)));
    default: return 0;
    }
  }
  }
}

struct Instr {
  Operation *op;
  std::vector<int> operands; // slots
  int result = -1;           // slot
  unsigned resultBits = 0;   // integer width of the result, 0 for floats
  unsigned operandBits = 0;  // integer width of operand 0
  double constant = 0;
  bool roundToF32 = false;   // an f32 result, rounded to f32 (roundF32)
  const RefTensor *table = nullptr; // tensor.extract: the tensor it reads
};

class BodyInterpreter {
public:
  /// `captured` gives the value of scalars defined above the body (an
  /// arith.constant of the function, say).
  /// `roundF32`: f32 results are rounded to f32 after each op, as the
  /// kernels compute them, rather than kept in double. Elementwise bodies
  /// take it: a quantizer's roundeven(acc x scale) then meets its ties
  /// where the kernel does (in double, one in 2^29 of them rounds the
  /// other way: an 8-bit output one apart). A reduction keeps double: its
  /// sum is more exact than any order of f32 additions.
  /// `tensors` gives the tensors of the function a gather's tensor.extract
  /// reads by position.
  static llvm::Expected<BodyInterpreter>
  compile(Block &block, const llvm::DenseMap<Value, double> &captured,
          const llvm::DenseMap<Value, RefTensor> &tensors,
          bool roundF32 = false) {
    BodyInterpreter interp;
    for (BlockArgument arg : block.getArguments())
      interp.slots[arg] = int(arg.getArgNumber());
    int next = int(block.getNumArguments());
    for (Operation &op : block) {
      Instr instr;
      instr.op = &op;
      if (auto extract = dyn_cast<tensor::ExtractOp>(op)) {
        auto it = tensors.find(extract.getTensor());
        if (it == tensors.end())
          return errorAt(&op, "reference: tensor.extract reads a tensor "
                              "with no value");
        instr.table = &it->second;
      }
      for (Value operand : op.getOperands()) {
        if (instr.table && operand == op.getOperand(0))
          continue; // the tensor itself: no slot

        auto it = interp.slots.find(operand);
        if (it == interp.slots.end()) {
          auto cap = captured.find(operand);
          if (cap == captured.end())
            return errorAt(&op, "reference: the body uses a value defined "
                                "outside it that is not a scalar constant");
          interp.capturedValues.push_back({next, cap->second});
          interp.slots[operand] = next;
          it = interp.slots.find(operand);
          ++next;
        }
        instr.operands.push_back(it->second);
      }
      if (op.getNumOperands())
        instr.operandBits = bitWidthOf(op.getOperand(0).getType());
      if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
        if (auto f = dyn_cast<FloatAttr>(constant.getValue()))
          instr.constant = f.getValueAsDouble();
        else if (auto i = dyn_cast<IntegerAttr>(constant.getValue()))
          instr.constant = double(i.getValue().getSExtValue());
        else
          return errorAt(&op, "reference: unsupported constant");
      } else if (!isKnown(&op)) {
        return errorAt(&op, llvm::formatv("reference: unsupported op '{0}'",
                                          op.getName().getStringRef()));
      }
      if (op.getNumResults() == 1) {
        instr.result = next;
        instr.resultBits = bitWidthOf(op.getResult(0).getType());
        instr.roundToF32 = roundF32 && op.getResult(0).getType().isF32();
        interp.slots[op.getResult(0)] = next++;
      }
      interp.program.push_back(std::move(instr));
    }
    interp.numSlots = next;
    return interp;
  }

  int numSlots = 0;
  /// The first tensor.extract outside its tensor, described; run() keeps
  /// going and the caller reports it.
  mutable std::optional<std::string> outOfRange;
  /// (slot, value) of captured scalars; the caller seeds them once.
  std::vector<std::pair<int, double>> capturedValues;

  /// Runs the body; `values` holds the block arguments on entry. Returns the
  /// yielded slots.
  const std::vector<int> &run(std::vector<double> &values,
                              const int64_t *indices) const {
    for (const Instr &in : program) {
      Operation *op = in.op;
      auto v = [&](int i) { return values[in.operands[i]]; };
      double r = 0;
      if (isa<linalg::YieldOp>(op))
        return in.operands;
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        r = double(indices[index.getDim()]);
      } else if (in.table) {
        // Row-major position. An index outside the tensor is an error
        // (the kernel would read outside it): the first is kept for the
        // caller, and the element reads 0.
        const std::vector<int64_t> &shape = in.table->shape;
        int64_t flat = 0;
        bool inside = true;
        for (size_t d = 0; d < shape.size(); ++d) {
          int64_t i = int64_t(v(int(d)));
          if ((i < 0 || i >= shape[d]) && inside && !outOfRange)
            outOfRange = llvm::formatv("index {0} of dim {1} (size {2})", i,
                                       d, shape[d])
                             .str();
          inside &= i >= 0 && i < shape[d];
          flat = flat * shape[d] + i;
        }
        r = inside ? in.table->data[size_t(flat)] : 0;
      } else if (isa<arith::ConstantOp>(op)) {
        r = in.constant;
      } else if (isa<arith::AddFOp>(op)) {
        r = v(0) + v(1);
      } else if (isa<arith::SubFOp>(op)) {
        r = v(0) - v(1);
      } else if (isa<arith::MulFOp>(op)) {
        r = v(0) * v(1);
      } else if (isa<arith::DivFOp>(op)) {
        r = v(0) / v(1);
      } else if (isa<arith::NegFOp>(op)) {
        r = -v(0);
      } else if (isa<arith::MaximumFOp>(op)) {
        r = (std::isnan(v(0)) || std::isnan(v(1))) ? NAN : std::max(v(0), v(1));
      } else if (isa<arith::MinimumFOp>(op)) {
        r = (std::isnan(v(0)) || std::isnan(v(1))) ? NAN : std::min(v(0), v(1));
      } else if (isa<arith::MaxNumFOp>(op)) {
        r = std::fmax(v(0), v(1));
      } else if (isa<arith::MinNumFOp>(op)) {
        r = std::fmin(v(0), v(1));
      } else if (isa<arith::AddIOp>(op)) {
        r = wrapSigned(v(0) + v(1), in.resultBits);
      } else if (isa<arith::SubIOp>(op)) {
        r = wrapSigned(v(0) - v(1), in.resultBits);
      } else if (isa<arith::MulIOp>(op)) {
        r = wrapSigned(double(int64_t(v(0)) * int64_t(v(1))), in.resultBits);
      } else if (isa<arith::MaxSIOp>(op)) {
        r = std::max(v(0), v(1));
      } else if (isa<arith::MinSIOp>(op)) {
        r = std::min(v(0), v(1));
      } else if (isa<arith::ExtSIOp, arith::SIToFPOp, arith::ExtFOp,
                     arith::TruncFOp, arith::IndexCastOp>(op)) {
        r = v(0);
      } else if (isa<arith::ExtUIOp, arith::UIToFPOp>(op)) {
        r = asUnsigned(v(0), in.operandBits);
      } else if (isa<arith::TruncIOp>(op)) {
        r = wrapSigned(v(0), in.resultBits);
      } else if (isa<arith::FPToSIOp>(op)) {
        r = wrapSigned(std::trunc(v(0)), in.resultBits);
      } else if (auto cmp = dyn_cast<arith::CmpFOp>(op)) {
        r = compareF(cmp.getPredicate(), v(0), v(1));
      } else if (auto cmp = dyn_cast<arith::CmpIOp>(op)) {
        r = compareI(cmp.getPredicate(), v(0), v(1), in.operandBits);
      } else if (isa<arith::SelectOp>(op)) {
        r = v(0) != 0 ? v(1) : v(2);
      } else if (isa<math::ExpOp>(op)) {
        r = std::exp(v(0));
      } else if (isa<math::TanhOp>(op)) {
        r = std::tanh(v(0));
      } else if (isa<math::SqrtOp>(op)) {
        r = std::sqrt(v(0));
      } else if (isa<math::AbsFOp>(op)) {
        r = std::fabs(v(0));
      } else if (isa<math::FmaOp>(op)) {
        r = v(0) * v(1) + v(2);
      } else if (isa<math::ErfOp>(op)) {
        r = std::erf(v(0));
      } else if (isa<math::PowFOp>(op)) {
        r = std::pow(v(0), v(1));
      } else if (isa<math::LogOp>(op)) {
        r = std::log(v(0));
      } else if (isa<math::Log1pOp>(op)) {
        r = std::log1p(v(0));
      } else if (isa<math::ExpM1Op>(op)) {
        r = std::expm1(v(0));
      } else if (isa<math::RsqrtOp>(op)) {
        r = 1 / std::sqrt(v(0));
      } else if (isa<math::SinOp>(op)) {
        r = std::sin(v(0));
      } else if (isa<math::CosOp>(op)) {
        r = std::cos(v(0));
      } else if (isa<math::FloorOp>(op)) {
        r = std::floor(v(0));
      } else if (isa<math::CeilOp>(op)) {
        r = std::ceil(v(0));
      } else if (isa<math::RoundEvenOp>(op)) {
        r = std::nearbyint(v(0)); // the default rounding mode: ties to even
      } else if (isa<math::RoundOp>(op)) {
        r = std::round(v(0));
      } else if (isa<arith::RemFOp>(op)) {
        r = std::fmod(v(0), v(1));
      } else if (isa<arith::AndIOp, arith::OrIOp, arith::XOrIOp>(op)) {
        int64_t a = int64_t(v(0)), b = int64_t(v(1));
        int64_t bits = isa<arith::AndIOp>(op)  ? (a & b)
                       : isa<arith::OrIOp>(op) ? (a | b)
                                               : (a ^ b);
        // i1 values are 0 and 1; wider ones wrap to their signed range.
        r = in.resultBits == 1 ? double(bits & 1)
                               : wrapSigned(double(bits), in.resultBits);
      }
      if (in.roundToF32)
        r = double(float(r));
      values[in.result] = r;
    }
    static const std::vector<int> none;
    return none;
  }

private:
  static bool isKnown(Operation *op) { return referenceEvaluates(op); }

  static double compareF(arith::CmpFPredicate p, double a, double b) {
    bool unordered = std::isnan(a) || std::isnan(b);
    using P = arith::CmpFPredicate;
    switch (p) {
    case P::AlwaysFalse: return 0;
    case P::AlwaysTrue: return 1;
    case P::OEQ: return !unordered && a == b;
    case P::OGT: return !unordered && a > b;
    case P::OGE: return !unordered && a >= b;
    case P::OLT: return !unordered && a < b;
    case P::OLE: return !unordered && a <= b;
    case P::ONE: return !unordered && a != b;
    case P::ORD: return !unordered;
    case P::UEQ: return unordered || a == b;
    case P::UGT: return unordered || a > b;
    case P::UGE: return unordered || a >= b;
    case P::ULT: return unordered || a < b;
    case P::ULE: return unordered || a <= b;
    case P::UNE: return unordered || a != b;
    case P::UNO: return unordered;
    }
    return 0;
  }

  static double compareI(arith::CmpIPredicate p, double a, double b,
                         unsigned bits) {
    using P = arith::CmpIPredicate;
    double ua = asUnsigned(a, bits), ub = asUnsigned(b, bits);
    switch (p) {
    case P::eq: return a == b;
    case P::ne: return a != b;
    case P::slt: return a < b;
    case P::sle: return a <= b;
    case P::sgt: return a > b;
    case P::sge: return a >= b;
    case P::ult: return ua < ub;
    case P::ule: return ua <= ub;
    case P::ugt: return ua > ub;
    case P::uge: return ua >= ub;
    }
    return 0;
  }

  llvm::DenseMap<Value, int> slots;
  std::vector<Instr> program;
};

/// One operand of a linalg op during interpretation.
struct OperandView {
  double *data = nullptr; // null for a scalar operand
  double scalar = 0;
  AffineMap map;
  std::vector<int64_t> strides; // row-major strides of the tensor
  bool linear = true;
  std::vector<int64_t> dimStride; // flat offset per unit step of each loop
  int64_t base = 0;

  int64_t offsetAt(const int64_t *ivs) const {
    int64_t off = 0;
    for (unsigned r = 0; r < map.getNumResults(); ++r)
      off += strides[r] * evalAffine(map.getResult(r), ivs);
    return off;
  }
};

bool isLinear(AffineExpr expr) {
  bool linear = true;
  expr.walk([&](AffineExpr e) {
    if (e.getKind() == AffineExprKind::Mod ||
        e.getKind() == AffineExprKind::FloorDiv ||
        e.getKind() == AffineExprKind::CeilDiv)
      linear = false;
    if (e.getKind() == AffineExprKind::Mul) {
      auto bin = cast<AffineBinaryOpExpr>(e);
      if (!isa<AffineConstantExpr>(bin.getLHS()) &&
          !isa<AffineConstantExpr>(bin.getRHS()))
        linear = false;
    }
  });
  return linear;
}

llvm::Error interpretLinalg(linalg::LinalgOp op,
                            std::vector<OperandView> &views,
                            const llvm::DenseMap<Value, double> &captured,
                            const llvm::DenseMap<Value, RefTensor> &tensors) {
  auto interp = BodyInterpreter::compile(*op.getBlock(), captured, tensors,
                                        op.getNumReductionLoops() == 0);
  if (!interp)
    return interp.takeError();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  size_t numLoops = ranges.size();
  for (int64_t r : ranges)
    if (r == 0)
      return llvm::Error::success();

  std::vector<int64_t> zero(numLoops, 0), unit(numLoops, 0);
  for (OperandView &view : views) {
    if (!view.data)
      continue;
    view.linear = llvm::all_of(view.map.getResults(), isLinear);
    if (!view.linear)
      continue;
    view.base = view.offsetAt(zero.data());
    view.dimStride.assign(numLoops, 0);
    for (size_t d = 0; d < numLoops; ++d) {
      unit[d] = 1;
      view.dimStride[d] = view.offsetAt(unit.data()) - view.base;
      unit[d] = 0;
    }
  }

  size_t numInputs = op.getNumDpsInputs();
  std::vector<double> values(interp->numSlots);
  for (auto [slot, value] : interp->capturedValues)
    values[slot] = value;
  std::vector<int64_t> ivs(numLoops, 0), offsets(views.size(), 0);
  auto recompute = [&]() {
    for (size_t o = 0; o < views.size(); ++o) {
      const OperandView &view = views[o];
      if (!view.data)
        continue;
      if (!view.linear) {
        offsets[o] = view.offsetAt(ivs.data());
        continue;
      }
      int64_t off = view.base;
      for (size_t d = 0; d < numLoops; ++d)
        off += view.dimStride[d] * ivs[d];
      offsets[o] = off;
    }
  };
  recompute();
  while (true) {
    for (size_t o = 0; o < views.size(); ++o)
      values[o] = views[o].data ? views[o].data[offsets[o]] : views[o].scalar;
    const std::vector<int> &yielded = interp->run(values, ivs.data());
    if (interp->outOfRange)
      return errorAt(op, "reference: a tensor.extract reads outside its "
                         "tensor: " + *interp->outOfRange +
                         " (the inputs are no valid indices: give them "
                         "with --inputs, or clamp them in the IR as the "
                         "ONNX importer does)");
    for (size_t r = 0; r < yielded.size(); ++r) {
      OperandView &out = views[numInputs + r];
      out.data[offsets[numInputs + r]] = values[yielded[r]];
    }
    // Odometer step, innermost loop fastest.
    size_t d = numLoops;
    while (d > 0) {
      --d;
      if (++ivs[d] < ranges[d])
        break;
      ivs[d] = 0;
      if (d == 0) {
        return llvm::Error::success();
      }
    }
    if (numLoops == 0)
      return llvm::Error::success();
    recompute();
  }
}

//===----------------------------------------------------------------------===//
// Fast paths for the heavy ops.
//===----------------------------------------------------------------------===//

bool allFloatSame(Operation *op) {
  Type first;
  for (Value v : op->getOperands()) {
    Type t = getElementTypeOrSelf(v.getType());
    if (!isa<FloatType>(t))
      return false;
    if (first && t != first)
      return false;
    first = t;
  }
  return true;
}

/// Float operands that widen exactly to the float result (f32 x f32 -> f32,
/// bf16 x bf16 -> f32): a named matmul then is a plain product in double.
bool floatsWidenExactly(Operation *op) {
  if (op->getNumOperands() == 0)
    return false;
  auto out = dyn_cast<FloatType>(
      getElementTypeOrSelf(op->getOperands().back().getType()));
  if (!out)
    return false;
  for (Value v : op->getOperands()) {
    auto t = dyn_cast<FloatType>(getElementTypeOrSelf(v.getType()));
    if (!t || t.getWidth() > out.getWidth() ||
        (t.getWidth() == out.getWidth() && t != out))
      return false;
  }
  return true;
}

/// Integer matmul or conv with sign-extending casts (i8 x i8 -> i32 and the
/// like).
bool isSignedIntContraction(linalg::LinalgOp op) {
  for (Value v : op->getOperands())
    if (!isa<IntegerType>(getElementTypeOrSelf(v.getType())))
      return false;
  if (auto matmul = dyn_cast<linalg::MatmulOp>(op.getOperation()))
    return matmul.getCast() == linalg::TypeFn::cast_signed;
  // batch_matmul and conv_2d_nhwc_hwcf always cast signed in LLVM 19.
  if (isa<linalg::BatchMatmulOp, linalg::Conv2DNhwcHwcfOp>(op.getOperation()))
    return true;
  return false;
}

} // namespace
} // namespace hatc

// OpenBLAS's, where the BLAS is OpenBLAS (weak: any other BLAS leaves it
// null).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

namespace hatc {
namespace {

/// The reference's BLAS runs on the calling thread only. A threaded
/// OpenBLAS leaves its threads spinning for a while after each call, on
/// the cores the kernel is timed on next: measured, a 2-thread 32x784x512
/// matmul checked first then timed ran at 140-170 us in 5 processes of 10
/// (59 us unchecked).
void singleThreadedBlas() {
  static const bool done = [] {
    if (openblas_set_num_threads)
      openblas_set_num_threads(1);
    return true;
  }();
  (void)done;
}

void gemm(int64_t m, int64_t n, int64_t k, const double *a, const double *b,
          double *c, bool integer, unsigned outBits) {
  if (!integer) {
    singleThreadedBlas();
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(n),
                int(k), 1.0, a, int(k), b, int(n), 1.0, c, int(n));
    return;
  }
  std::vector<int64_t> ai(a, a + m * k), bi(b, b + k * n);
  std::vector<int64_t> row(n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j)
      row[j] = int64_t(c[i * n + j]);
    for (int64_t p = 0; p < k; ++p) {
      int64_t aip = ai[i * k + p];
      const int64_t *brow = &bi[p * n];
      for (int64_t j = 0; j < n; ++j)
        row[j] += aip * brow[j];
    }
    for (int64_t j = 0; j < n; ++j)
      c[i * n + j] = wrapSigned(double(row[j]), outBits);
  }
}

void conv2dNhwcHwcf(linalg::Conv2DNhwcHwcfOp conv, const RefTensor &in,
                    const RefTensor &filter, RefTensor &out) {
  auto strides = llvm::to_vector(conv.getStrides().getValues<int64_t>());
  auto dilations = llvm::to_vector(conv.getDilations().getValues<int64_t>());
  int64_t N = out.shape[0], OH = out.shape[1], OW = out.shape[2],
          F = out.shape[3];
  int64_t IH = in.shape[1], IW = in.shape[2], C = in.shape[3];
  int64_t KH = filter.shape[0], KW = filter.shape[1];
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oh = 0; oh < OH; ++oh)
      for (int64_t ow = 0; ow < OW; ++ow) {
        double *o = &out.data[((n * OH + oh) * OW + ow) * F];
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw) {
            int64_t ih = oh * strides[0] + kh * dilations[0];
            int64_t iw = ow * strides[1] + kw * dilations[1];
            const double *x = &in.data[((n * IH + ih) * IW + iw) * C];
            const double *w = &filter.data[(kh * KW + kw) * C * F];
            for (int64_t c = 0; c < C; ++c) {
              double xv = x[c];
              const double *wr = w + c * F;
              for (int64_t f = 0; f < F; ++f)
                o[f] += xv * wr[f];
            }
          }
      }
}

struct Env {
  llvm::DenseMap<Value, RefTensor> tensors;
  llvm::DenseMap<Value, double> scalars;
};

/// A dense_resource constant (an imported model's weights): its blob's
/// bytes, little-endian, one element after another.
llvm::Error evalResourceConstant(arith::ConstantOp op,
                                 DenseResourceElementsAttr resource,
                                 Env &env) {
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  Type element = resource.getType().getElementType();
  unsigned bits = element.isIntOrFloat() ? element.getIntOrFloatBitWidth() : 0;
  RefTensor t;
  t.shape = shapeOf(op.getResult());
  t.data.resize(product(t.shape));
  if (!blob || bits == 0 || bits % 8 ||
      blob->getData().size() != t.data.size() * (bits / 8))
    return errorAt(op, "reference: unsupported constant (a dense_resource "
                       "without its data, or of an element type not stored "
                       "as whole bytes)");
  ArrayRef<char> bytes = blob->getData();
  auto floatType = dyn_cast<FloatType>(element);
  for (size_t i = 0; i < t.data.size(); ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, bytes.data() + i * (bits / 8), bits / 8);
    APInt value(bits, raw);
    t.data[i] = floatType
                    ? APFloat(floatType.getFloatSemantics(), value)
                          .convertToDouble()
                    : double(value.getSExtValue());
  }
  env.tensors[op.getResult()] = std::move(t);
  return llvm::Error::success();
}

llvm::Error evalConstant(arith::ConstantOp op, Env &env) {
  Attribute value = op.getValue();
  if (auto f = dyn_cast<FloatAttr>(value)) {
    env.scalars[op.getResult()] = f.getValueAsDouble();
    return llvm::Error::success();
  }
  if (auto i = dyn_cast<IntegerAttr>(value)) {
    env.scalars[op.getResult()] = double(i.getValue().getSExtValue());
    return llvm::Error::success();
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    return evalResourceConstant(op, resource, env);
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense)
    return errorAt(op, "reference: unsupported constant");
  RefTensor t;
  t.shape = shapeOf(op.getResult());
  t.data.resize(product(t.shape));
  bool isFloat = isa<FloatType>(dense.getElementType());
  if (dense.isSplat()) {
    double v = isFloat ? dense.getSplatValue<APFloat>().convertToDouble()
                       : double(dense.getSplatValue<APInt>().getSExtValue());
    std::fill(t.data.begin(), t.data.end(), v);
  } else if (isFloat) {
    size_t i = 0;
    for (APFloat f : dense.getValues<APFloat>())
      t.data[i++] = f.convertToDouble();
  } else {
    size_t i = 0;
    for (APInt v : dense.getValues<APInt>())
      t.data[i++] = double(v.getSExtValue());
  }
  env.tensors[op.getResult()] = std::move(t);
  return llvm::Error::success();
}

llvm::Error evalLinalg(linalg::LinalgOp op, Env &env) {
  // Outputs start as copies of their inits (destination-passing style).
  std::vector<RefTensor> outs;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    auto it = env.tensors.find(init.get());
    if (it == env.tensors.end())
      return errorAt(op, "reference: output init has no value");
    outs.push_back(it->second);
  }
  std::vector<const RefTensor *> ins;
  for (OpOperand *input : op.getDpsInputOperands()) {
    if (isa<ShapedType>(input->get().getType())) {
      auto it = env.tensors.find(input->get());
      if (it == env.tensors.end())
        return errorAt(op, "reference: input has no value");
      ins.push_back(&it->second);
    } else {
      ins.push_back(nullptr);
    }
  }

  Operation *raw = op.getOperation();
  bool floats = allFloatSame(raw) ||
                (isa<linalg::MatmulOp, linalg::BatchMatmulOp,
                     linalg::Conv2DNhwcHwcfOp>(raw) &&
                 floatsWidenExactly(raw));
  if (isa<linalg::MatmulOp>(raw) &&
      (floats || isSignedIntContraction(op))) {
    const RefTensor &a = *ins[0], &b = *ins[1];
    RefTensor &c = outs[0];
    gemm(a.shape[0], b.shape[1], a.shape[1], a.data.data(), b.data.data(),
         c.data.data(), !floats,
         bitWidthOf(getElementTypeOrSelf(op.getDpsInits()[0].getType())));
  } else if (isa<linalg::BatchMatmulOp>(raw) &&
             (floats || isSignedIntContraction(op))) {
    const RefTensor &a = *ins[0], &b = *ins[1];
    RefTensor &c = outs[0];
    int64_t batch = a.shape[0], m = a.shape[1], k = a.shape[2],
            n = b.shape[2];
    for (int64_t i = 0; i < batch; ++i)
      gemm(m, n, k, &a.data[i * m * k], &b.data[i * k * n],
           &c.data[i * m * n], !floats,
           bitWidthOf(getElementTypeOrSelf(op.getDpsInits()[0].getType())));
  } else if (auto conv = dyn_cast<linalg::Conv2DNhwcHwcfOp>(raw);
             conv && (floats || isSignedIntContraction(op))) {
    // Integers: the sums are exact in double (i8 x i8 products over any
    // realistic patch stay far below 2^53), wrapped once at the end.
    conv2dNhwcHwcf(conv, *ins[0], *ins[1], outs[0]);
    if (!floats) {
      unsigned bits =
          bitWidthOf(getElementTypeOrSelf(op.getDpsInits()[0].getType()));
      for (double &v : outs[0].data)
        v = wrapSigned(v, bits);
    }
  } else {
    std::vector<OperandView> views;
    auto maps = op.getIndexingMapsArray();
    size_t operandIndex = 0;
    for (OpOperand &operand : raw->getOpOperands()) {
      OperandView view;
      view.map = maps[operandIndex];
      Value v = operand.get();
      if (auto shaped = dyn_cast<ShapedType>(v.getType())) {
        RefTensor *t = operandIndex < ins.size()
                           ? const_cast<RefTensor *>(ins[operandIndex])
                           : &outs[operandIndex - ins.size()];
        view.data = t->data.data();
        view.strides.assign(t->shape.size(), 1);
        for (size_t i = t->shape.size(); i-- > 1;)
          view.strides[i - 1] = view.strides[i] * t->shape[i];
      } else {
        auto it = env.scalars.find(v);
        if (it == env.scalars.end())
          return errorAt(op, "reference: scalar operand is not a constant");
        view.scalar = it->second;
      }
      views.push_back(std::move(view));
      ++operandIndex;
    }
    if (llvm::Error err = interpretLinalg(op, views, env.scalars, env.tensors))
      return err;
  }
  for (auto [result, out] : llvm::zip(raw->getResults(), outs))
    env.tensors[result] = std::move(out);
  return llvm::Error::success();
}

} // namespace

llvm::Expected<std::vector<RefTensor>>
evaluateReference(func::FuncOp entry, const std::vector<RefTensor> &inputs) {
  if (inputs.size() != entry.getNumArguments())
    return makeError(llvm::formatv("reference: @{0} takes {1} arguments, got "
                                   "{2}",
                                   entry.getSymName(), entry.getNumArguments(),
                                   inputs.size()));
  Env env;
  for (auto [arg, input] : llvm::zip(entry.getArguments(), inputs))
    env.tensors[arg] = input;
  for (Operation &op : entry.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      std::vector<RefTensor> results;
      for (Value v : ret.getOperands()) {
        auto it = env.tensors.find(v);
        if (it == env.tensors.end())
          return errorAt(ret, "reference: returned value has no tensor");
        results.push_back(it->second);
      }
      return results;
    }
    if (auto empty = dyn_cast<tensor::EmptyOp>(op)) {
      RefTensor t;
      t.shape = shapeOf(empty.getResult());
      t.data.assign(product(t.shape), 0.0);
      env.tensors[empty.getResult()] = std::move(t);
      continue;
    }
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      if (llvm::Error err = evalConstant(constant, env))
        return std::move(err);
      continue;
    }
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(op)) {
      if (llvm::Error err = evalLinalg(linalgOp, env))
        return std::move(err);
      continue;
    }
    return errorAt(&op, llvm::formatv("reference: unsupported op '{0}'",
                                      op.getName().getStringRef()));
  }
  return makeError("reference: @" + entry.getSymName() + " has no return");
}

} // namespace hatc
