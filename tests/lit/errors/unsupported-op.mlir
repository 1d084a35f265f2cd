// RUN: %expect-exit 1 hatc run %s 2>&1 | FileCheck %s
// CHECK: hatc: error: {{.*}}unsupported-op.mlir:[[@LINE+3]]:8: unsupported op 'tensor.pad' in @pad
func.func @pad(%a: tensor<4xf32>) -> tensor<6xf32> {
  %zero = arith.constant 0.0 : f32
  %0 = tensor.pad %a low[1] high[1] {
  ^bb0(%i: index):
    tensor.yield %zero : f32
  } : tensor<4xf32> to tensor<6xf32>
  return %0 : tensor<6xf32>
}
