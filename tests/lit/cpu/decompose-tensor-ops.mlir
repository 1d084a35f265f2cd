// tensor.concat has no bufferization model in MLIR 19: hatc-decompose-tensor-ops
// rewrites it into tensor.empty + one insert_slice per operand, and the CPU
// bufferization pipeline runs it first, so a concat (ONNX Concat) bufferizes
// into copies into the result buffer.
// RUN: hatc-opt %s --hatc-decompose-tensor-ops | FileCheck %s --implicit-check-not=tensor.concat
// RUN: hatc-opt %s --hatc-cpu-bufferize | FileCheck %s --check-prefix=BUF

// CHECK-LABEL: func.func @concat
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x7xf32>
// CHECK: %[[S:.*]] = tensor.insert_slice %{{.*}} into %[[E]][0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %[[S]][0, 3] [2, 4] [1, 1]

// BUF-LABEL: func.func @concat
// BUF-SAME: %[[OUT:[^:]*]]: memref<2x7xf32>)
// BUF-NOT: tensor.
// BUF: memref.subview %[[OUT]][0, 0] [2, 3] [1, 1]
// BUF: memref.copy
// BUF: memref.subview %[[OUT]][0, 3] [2, 4] [1, 1]
// BUF: memref.copy
// BUF: return
func.func @concat(%a: tensor<2x3xf32> {bufferization.writable = false},
                  %b: tensor<2x4xf32> {bufferization.writable = false}) -> tensor<2x7xf32> {
  %r = tensor.concat dim(1) %a, %b : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x7xf32>
  return %r : tensor<2x7xf32>
}
