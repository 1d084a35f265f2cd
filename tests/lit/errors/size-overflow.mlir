// A tensor of more bytes than 64 bits count is refused up front: its byte
// count would wrap around to a small buffer (a crash before this check).
// RUN: %expect-exit 1 hatc run %s 2>&1 | FileCheck %s
// RUN: %expect-exit 1 hatc measure %s --random 1 2>&1 | FileCheck %s
// CHECK: hatc: error: {{.*}}size-overflow.mlir:[[@LINE+1]]:1: argument #0 of @huge has type tensor<2147483648x2147483648xf32>, more bytes than a 64-bit size holds
func.func @huge(%a: tensor<2147483648x2147483648xf32>, %o: tensor<2147483648x2147483648xf32>) -> tensor<2147483648x2147483648xf32> {
  %r = linalg.copy ins(%a : tensor<2147483648x2147483648xf32>) outs(%o : tensor<2147483648x2147483648xf32>) -> tensor<2147483648x2147483648xf32>
  return %r : tensor<2147483648x2147483648xf32>
}
