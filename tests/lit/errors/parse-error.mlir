// Unparsable IR: the MLIR diagnostic with file:line:col, one line, exit 1.
// RUN: %expect-exit 1 hatc run %s 2>&1 | FileCheck %s
// CHECK: hatc: error: {{.*}}parse-error.mlir:[[@LINE+2]]:{{[0-9]+}}: expected '>' in tensor type
func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
  %0 = linalg.add ins(%a, %a : tensor<4xf32>, tensor<4xf32) outs(%a : tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
