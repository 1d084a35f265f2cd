// RUN: %expect-exit 1 hatc run %s 2>&1 | FileCheck %s
// CHECK: hatc: error: {{.*}}dynamic-shape.mlir:[[@LINE+1]]:1: argument #0 of @dyn has dynamic shape tensor<?xf32>; hatc needs static shapes
func.func @dyn(%a: tensor<?xf32>) -> tensor<?xf32> {
  %0 = linalg.add ins(%a, %a : tensor<?xf32>, tensor<?xf32>) outs(%a : tensor<?xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
