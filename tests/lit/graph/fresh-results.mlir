// hatc-fresh-results: every returned tensor comes from its own linalg op.
// RUN: hatc-opt %s --pass-pipeline='builtin.module(func.func(hatc-fresh-results))' | FileCheck %s

// An argument returned as is, and one value returned twice, get copies; a
// linalg result returned once stays.
// CHECK-LABEL: func.func @results
// CHECK: %[[F:.*]] = linalg.fill
// CHECK: %[[A:.*]] = linalg.generic
// CHECK-SAME: ins(%arg0 : tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK: %[[B:.*]] = linalg.generic
// CHECK-SAME: ins(%[[F]] : tensor<4xf32>)
// CHECK: return %[[A]], %[[F]], %[[B]]
func.func @results(%arg0: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %arg0, %f, %f : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
