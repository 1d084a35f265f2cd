// RUN: %expect-exit 1 hatc run %s 2>&1 | FileCheck %s
// CHECK: hatc: error: {{.*}}unsupported-op.mlir:[[@LINE+3]]:8: unsupported op 'tensor.splat' in @splat
func.func @splat(%a: tensor<6xf32>) -> tensor<6xf32> {
  %zero = arith.constant 0.0 : f32
  %0 = tensor.splat %zero : tensor<6xf32>
  return %0 : tensor<6xf32>
}
