//===- Hwacc.h - The hwacc accelerator dialect -----------------*- C++ -*-===//
#ifndef HATC_IR_HWACC_H
#define HATC_IR_HWACC_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "HwaccDialect.h.inc"

#define GET_ATTRDEF_CLASSES
#include "HwaccAttrs.h.inc"

#define GET_OP_CLASSES
#include "HwaccOps.h.inc"

namespace hatc::hwacc {

/// Name of the module attribute holding the #hwacc.target.
inline constexpr const char *kTargetAttrName = "hwacc.target";

/// The #hwacc.target of the closest enclosing module that has one.
TargetAttr lookupTarget(mlir::Operation *op);

/// Scratchpad rows for inputs of `elemType` (f32 rows are the unit; i8 rows
/// hold 4x as many).
int64_t scratchpadRowsFor(TargetAttr target, mlir::Type elemType);

} // namespace hatc::hwacc

#endif // HATC_IR_HWACC_H
