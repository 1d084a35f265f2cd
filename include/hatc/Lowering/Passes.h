//===- Passes.h - hatc's passes --------------------------------*- C++ -*-===//
#ifndef HATC_LOWERING_PASSES_H
#define HATC_LOWERING_PASSES_H

#include "hatc/IR/Hwacc.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace hatc {

#define GEN_PASS_DECL
#include "hatc/Lowering/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "hatc/Lowering/Passes.h.inc"

} // namespace hatc

#endif // HATC_LOWERING_PASSES_H
