// A constant B of cpu_matmul's panels (a model's weight) is packed at
// compile time: the CPU bufferize pipeline decomposes the tensor.pack into
// a reshape and a transpose of the constant, and hatc-fold-constants
// computes them. B = [[0 1 2 3] [4 5 6 7]] (K = 2, N = 4) in 2-wide panels
// is N/2 x K x 2 = [[[0 1] [4 5]] [[2 3] [6 7]]].
// RUN: hatc-opt %s --hatc-decompose-tensor-ops --hatc-fold-constants --canonicalize | FileCheck %s
// RUN: hatc-opt %s --hatc-cpu-bufferize | FileCheck %s --check-prefix=BUF

// CHECK-LABEL: func.func @panels
// CHECK: arith.constant dense<{{\[\[\[}}0.000000e+00, 1.000000e+00], [4.000000e+00, 5.000000e+00]], {{\[\[}}2.000000e+00, 3.000000e+00], [6.000000e+00, 7.000000e+00]]]> : tensor<2x2x2xf32>
// CHECK-NOT: tensor.pack
// CHECK-NOT: linalg.transpose
// BUF-LABEL: func.func @panels
// BUF: memref.get_global
// BUF-NOT: linalg.transpose
// BUF-LABEL: func.func @argument
func.func @panels() -> tensor<2x2x2xf32> {
  %b = arith.constant dense<[[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]> : tensor<2x4xf32>
  %e = tensor.empty() : tensor<2x2x2xf32>
  %p = tensor.pack %b outer_dims_perm = [1, 0] inner_dims_pos = [1] inner_tiles = [2] into %e {hatc.panel_pack = 2 : i64} : tensor<2x4xf32> -> tensor<2x2x2xf32>
  return %p : tensor<2x2x2xf32>
}

// A pack of an argument stays a transpose (hatc's schedules thread and
// vectorize it before this pipeline; here it is only decomposed).
// CHECK-LABEL: func.func @argument
// CHECK: linalg.transpose
func.func @argument(%b: tensor<2x4xf32>) -> tensor<2x2x2xf32> {
  %e = tensor.empty() : tensor<2x2x2xf32>
  %p = tensor.pack %b outer_dims_perm = [1, 0] inner_dims_pos = [1] inner_tiles = [2] into %e : tensor<2x4xf32> -> tensor<2x2x2xf32>
  return %p : tensor<2x2x2xf32>
}
