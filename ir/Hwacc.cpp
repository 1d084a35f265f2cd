//===- Hwacc.cpp - The hwacc dialect: registration and verifiers ----------===//
#include "hatc/IR/Hwacc.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace hatc::hwacc;

#include "HwaccDialect.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "HwaccAttrs.cpp.inc"

#define GET_OP_CLASSES
#include "HwaccOps.cpp.inc"

void HwaccDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "HwaccAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "HwaccOps.cpp.inc"
      >();
}

namespace hatc::hwacc {

TargetAttr lookupTarget(Operation *op) {
  for (Operation *p = op; p; p = p->getParentOp())
    if (auto target = p->getAttrOfType<TargetAttr>(kTargetAttrName))
      return target;
  return {};
}

int64_t scratchpadRowsFor(TargetAttr target, Type elemType) {
  unsigned bytes = std::max(1u, elemType.getIntOrFloatBitWidth() / 8);
  return target.getScratchpadRows() * 4 / bytes;
}

} // namespace hatc::hwacc

LogicalResult
TargetAttr::verify(llvm::function_ref<InFlightDiagnostic()> emitError,
                   int64_t dim, int64_t scratchpadRows,
                   int64_t accumulatorRows) {
  if (dim < 2 || dim > 256 || (dim & (dim - 1)))
    return emitError() << "dim must be a power of two in [2, 256], got "
                       << dim;
  if (scratchpadRows < 2 * dim)
    return emitError() << "scratchpad_rows must hold two dim x dim blocks ("
                       << 2 * dim << "), got " << scratchpadRows;
  if (accumulatorRows < dim)
    return emitError() << "accumulator_rows must hold a dim x dim block ("
                       << dim << "), got " << accumulatorRows;
  return success();
}

namespace {

/// Checks a size operand that is a constant against [1, dim].
LogicalResult checkSize(Operation *op, Value size, StringRef name,
                        TargetAttr target) {
  std::optional<int64_t> value = getConstantIntValue(size);
  if (!value)
    return success();
  if (*value < 1)
    return op->emitOpError() << name << " must be at least 1, got " << *value;
  if (target && *value > target.getDim())
    return op->emitOpError() << name << " " << *value
                             << " exceeds the array dim " << target.getDim();
  return success();
}

/// Checks rows [addr, addr + rows) against a memory of `limit` rows when
/// both are constants.
LogicalResult checkRange(Operation *op, Value addr, Value rows,
                         StringRef memory, int64_t limit) {
  std::optional<int64_t> a = getConstantIntValue(addr);
  if (!a)
    return success();
  if (*a < 0)
    return op->emitOpError() << memory << " address " << *a
                             << " is negative";
  int64_t n = getConstantIntValue(rows).value_or(1);
  if (*a + n > limit)
    return op->emitOpError() << memory << " rows [" << *a << ", " << *a + n
                             << ") exceed the " << limit << " rows of the "
                             << memory;
  return success();
}

bool isF32(Type t) { return t.isF32(); }
bool isI8(Type t) { return t.isSignlessInteger(8); }
bool isI32(Type t) { return t.isSignlessInteger(32); }

} // namespace

LogicalResult MatmulOp::verify() {
  auto a = getA().getType(), b = getB().getType(), c = getC().getType();
  Type ea = a.getElementType(), eb = b.getElementType(),
       ec = c.getElementType();
  if (!((isF32(ea) && isF32(eb) && isF32(ec)) ||
        (isI8(ea) && isI8(eb) && isI32(ec))))
    return emitOpError("element types must be f32 x f32 -> f32 or i8 x i8 -> "
                       "i32, got ")
           << ea << " x " << eb << " -> " << ec;
  auto compatible = [](int64_t x, int64_t y) {
    return ShapedType::isDynamic(x) || ShapedType::isDynamic(y) || x == y;
  };
  if (!compatible(a.getDimSize(1), b.getDimSize(0)) ||
      !compatible(a.getDimSize(0), c.getDimSize(0)) ||
      !compatible(b.getDimSize(1), c.getDimSize(1)))
    return emitOpError("shapes do not form a GEMM: ")
           << a << " x " << b << " -> " << c;
  ArrayRef<int64_t> tile = getTile();
  if (tile.size() != 3 || llvm::any_of(tile, [](int64_t t) { return t < 1; }))
    return emitOpError("tile must be three positive sizes [tm, tn, tk]");
  if (getDataflow() != "ws" && getDataflow() != "os")
    return emitOpError("dataflow must be \"ws\" or \"os\", got \"")
           << getDataflow() << "\"";
  if (getLoopOrder() != "mnk" && getLoopOrder() != "nmk")
    return emitOpError("loop_order must be \"mnk\" or \"nmk\", got \"")
           << getLoopOrder() << "\"";
  TargetAttr target = lookupTarget(*this);
  if (!target)
    return success();
  int64_t dim = target.getDim();
  for (int64_t t : tile)
    if (t % dim)
      return emitOpError("tile sizes must be multiples of the array dim ")
             << dim << ", got [" << tile[0] << ", " << tile[1] << ", "
             << tile[2] << "]";
  int64_t tm = tile[0], tn = tile[1], tk = tile[2];
  int64_t buffers = getDoubleBuffer() ? 2 : 1;
  int64_t spNeeded = buffers * (tm * tk + tk * tn) / dim;
  int64_t spRows = scratchpadRowsFor(target, ea);
  if (spNeeded > spRows)
    return emitOpError("tile [")
           << tm << ", " << tn << ", " << tk << "] needs " << spNeeded
           << " scratchpad rows (A and B tiles"
           << (buffers == 2 ? ", double-buffered" : "") << ") but the target has "
           << spRows;
  int64_t accNeeded = tm * tn / dim;
  if (accNeeded > target.getAccumulatorRows())
    return emitOpError("tile [")
           << tm << ", " << tn << ", " << tk << "] needs " << accNeeded
           << " accumulator rows but the target has "
           << target.getAccumulatorRows();
  return success();
}

LogicalResult ConfigOp::verify() {
  if (getDataflow() != "ws" && getDataflow() != "os")
    return emitOpError("dataflow must be \"ws\" or \"os\", got \"")
           << getDataflow() << "\"";
  Type elem = getElem(), out = getOut();
  if (isF32(elem) && !isF32(out))
    return emitOpError("f32 inputs write f32 outputs, got ") << out;
  if (isI8(elem) && !(isI32(out) || isI8(out)))
    return emitOpError("i8 inputs write i32 or i8 outputs, got ") << out;
  if (!isF32(elem) && !isI8(elem))
    return emitOpError("elem must be f32 or i8, got ") << elem;
  return success();
}

LogicalResult MvinOp::verify() {
  Type elem = getSrc().getType().getElementType();
  if (getAcc() ? !(isF32(elem) || isI32(elem)) : !(isF32(elem) || isI8(elem)))
    return emitOpError(getAcc() ? "accumulator" : "scratchpad")
           << " mvin takes " << (getAcc() ? "f32 or i32" : "f32 or i8")
           << " elements, got " << elem;
  TargetAttr target = lookupTarget(*this);
  if (failed(checkSize(*this, getRows(), "rows", target)) ||
      failed(checkSize(*this, getCols(), "cols", target)))
    return failure();
  if (!target)
    return success();
  if (getAcc())
    return checkRange(*this, getAddr(), getRows(), "accumulator",
                      target.getAccumulatorRows());
  return checkRange(*this, getAddr(), getRows(), "scratchpad",
                    scratchpadRowsFor(target, elem));
}

LogicalResult PreloadOp::verify() {
  TargetAttr target = lookupTarget(*this);
  if (failed(checkSize(*this, getK(), "k", target)) ||
      failed(checkSize(*this, getN(), "n", target)))
    return failure();
  if (!target)
    return success();
  if (failed(checkRange(*this, getBAddr(), getK(), "scratchpad",
                        scratchpadRowsFor(target,
                                          IntegerType::get(getContext(), 8)))))
    return failure();
  return checkRange(*this, getCAddr(), Value(), "accumulator",
                    target.getAccumulatorRows());
}

LogicalResult ComputeOp::verify() {
  TargetAttr target = lookupTarget(*this);
  if (failed(checkSize(*this, getM(), "m", target)) ||
      failed(checkSize(*this, getK(), "k", target)))
    return failure();
  if (!target)
    return success();
  return checkRange(*this, getAAddr(), getM(), "scratchpad",
                    scratchpadRowsFor(target,
                                      IntegerType::get(getContext(), 8)));
}

LogicalResult MvoutOp::verify() {
  Type elem = getDst().getType().getElementType();
  if (!(isF32(elem) || isI32(elem) || isI8(elem)))
    return emitOpError("mvout writes f32, i32 or i8 elements, got ") << elem;
  TargetAttr target = lookupTarget(*this);
  if (failed(checkSize(*this, getRows(), "rows", target)) ||
      failed(checkSize(*this, getCols(), "cols", target)))
    return failure();
  if (!target)
    return success();
  return checkRange(*this, getAddr(), getRows(), "accumulator",
                    target.getAccumulatorRows());
}
