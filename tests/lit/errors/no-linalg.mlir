// RUN: %expect-exit 1 hatc run %s 2>&1 | FileCheck %s
// CHECK: hatc: error: {{.*}}no-linalg.mlir:[[@LINE+1]]:1: @identity holds no linalg op
func.func @identity(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
