// RUN: hatc-opt %s --hatc-cpu-bufferize | FileCheck %s

// Results become trailing out-params; read-only arguments are never written.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%{{.*}}: memref<4x3xf32>, %{{.*}}: memref<3x5xf32>, %[[OUT:.*]]: memref<4x5xf32>)
// CHECK-NOT: tensor<
// CHECK: linalg.fill {{.*}} outs(%[[OUT]]
// CHECK: linalg.matmul {{.*}} outs(%[[OUT]]
// CHECK: return
// CHECK-NOT: memref.alloc
func.func @matmul(%A: tensor<4x3xf32> {bufferization.writable = false},
                  %B: tensor<3x5xf32> {bufferization.writable = false}) -> tensor<4x5xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x5xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<4x5xf32>) -> tensor<4x5xf32>
  %C = linalg.matmul ins(%A, %B : tensor<4x3xf32>, tensor<3x5xf32>) outs(%C0 : tensor<4x5xf32>) -> tensor<4x5xf32>
  return %C : tensor<4x5xf32>
}
