//===- Reference.h - Independent reference results for workloads -*- C++ -*-===//
//
// Evaluates a workload's entry function on the host without any of hatc's
// code generation: OpenBLAS dgemm for float (batch) matmuls, plain C++ loops
// for integer matmuls and 2-D convolutions, and a scalar interpreter of the
// op's body over its iteration space for every other linalg op. Values are
// computed in double precision (integers exactly).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_MEASURE_REFERENCE_H
#define HATC_MEASURE_REFERENCE_H

#include "hatc/Runtime/Buffer.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/Error.h"

#include <vector>

namespace hatc {

struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
};

llvm::Expected<std::vector<RefTensor>>
evaluateReference(mlir::func::FuncOp entry,
                  const std::vector<RefTensor> &inputs);

} // namespace hatc

#endif // HATC_MEASURE_REFERENCE_H
