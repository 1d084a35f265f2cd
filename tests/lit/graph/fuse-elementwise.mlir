// hatc-fuse-elementwise: elementwise chains become one generic reading the
// anchor's result; small multi-user producers are recomputed into
// reductions (softmax); reshapes between a matmul and its bias fold away.
// RUN: hatc-opt %s -split-input-file --hatc-fuse-elementwise=recompute=true | FileCheck %s
// RUN: hatc-opt %s -split-input-file --hatc-fuse-elementwise | FileCheck %s --check-prefix=NORE
// RUN: hatc-opt %s -split-input-file --hatc-fuse-elementwise="recompute=true collapse-reshapes=false" | FileCheck %s --check-prefix=NOCOL

// matmul + bias + GELU (as exported: h * (erf(h / sqrt2) + 1) * 0.5, h used
// twice): one generic on the matmul's result.
// CHECK-LABEL: func.func @matmul_bias_gelu
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK: %[[G:.*]] = linalg.generic
// CHECK-SAME: ins(%[[MM]], %arg2 : tensor<16x64xf32>, tensor<64xf32>)
// CHECK: arith.addf
// CHECK: math.erf
// CHECK: linalg.yield
// CHECK-NOT: linalg.generic
// CHECK: return %[[G]]
// Without recomputation (the default) too: the erf part (one user) fuses first, then the
// bias add has one user left.
// NORE-LABEL: func.func @matmul_bias_gelu
// NORE: linalg.matmul
// NORE-NEXT: linalg.generic
// NORE-NOT: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @matmul_bias_gelu(%a: tensor<16x32xf32>, %b: tensor<32x64xf32>, %bias: tensor<64xf32>) -> tensor<16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x64xf32>) outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
  %h = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
         ins(%mm, %bias : tensor<16x64xf32>, tensor<64xf32>) outs(%e : tensor<16x64xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %0 = arith.addf %x, %y : f32
    linalg.yield %0 : f32
  } -> tensor<16x64xf32>
  %erf = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
         ins(%h : tensor<16x64xf32>) outs(%e : tensor<16x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    %c = arith.constant 0.707106769 : f32
    %one = arith.constant 1.0 : f32
    %0 = arith.mulf %x, %c : f32
    %1 = math.erf %0 : f32
    %2 = arith.addf %1, %one : f32
    linalg.yield %2 : f32
  } -> tensor<16x64xf32>
  %gelu = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
         ins(%h, %erf : tensor<16x64xf32>, tensor<16x64xf32>) outs(%e : tensor<16x64xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %half = arith.constant 0.5 : f32
    %0 = arith.mulf %x, %y : f32
    %1 = arith.mulf %0, %half : f32
    linalg.yield %1 : f32
  } -> tensor<16x64xf32>
  return %gelu : tensor<16x64xf32>
}

// -----

// Softmax as imported: max, exp(x - max), sum, divide. exp(x - max) has two
// users (the sum and the division); with recompute=true it is recomputed
// into both: three ops each reading x, no exp temporary. By default
// (slower with recomputation, see the pass description) four ops stay.
// CHECK-LABEL: func.func @softmax
// CHECK: %[[MAX:.*]] = linalg.generic
// CHECK-SAME: ["parallel", "reduction"]
// CHECK-SAME: ins(%arg0 : tensor<8x16xf32>)
// CHECK: %[[SUM:.*]] = linalg.generic
// CHECK-SAME: ["parallel", "reduction"]
// CHECK-SAME: ins(%arg0, %[[MAX]] :
// CHECK: math.exp
// CHECK: %[[OUT:.*]] = linalg.generic
// CHECK-SAME: ["parallel", "parallel"]
// CHECK-SAME: ins(%arg0, %[[MAX]], %[[SUM]] :
// CHECK: math.exp
// CHECK: arith.divf
// CHECK-NEXT: linalg.yield
// CHECK-NEXT: }
// CHECK-NEXT: return %[[OUT]]
// NORE-LABEL: func.func @softmax
// NORE-COUNT-4: linalg.generic
// NORE-NOT: linalg.generic
#id = affine_map<(d0, d1) -> (d0, d1)>
#red = affine_map<(d0, d1) -> (d0, 0)>
func.func @softmax(%x: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<8x1xf32>
  %m0 = linalg.fill ins(%ninf : f32) outs(%e1 : tensor<8x1xf32>) -> tensor<8x1xf32>
  %max = linalg.generic {indexing_maps = [#id, #red], iterator_types = ["parallel", "reduction"]}
         ins(%x : tensor<8x16xf32>) outs(%m0 : tensor<8x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<8x1xf32>
  %e = tensor.empty() : tensor<8x16xf32>
  %exp = linalg.generic {indexing_maps = [#id, #red, #id], iterator_types = ["parallel", "parallel"]}
         ins(%x, %max : tensor<8x16xf32>, tensor<8x1xf32>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %0 = arith.subf %in, %m : f32
    %1 = math.exp %0 : f32
    linalg.yield %1 : f32
  } -> tensor<8x16xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<8x1xf32>) -> tensor<8x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #red], iterator_types = ["parallel", "reduction"]}
         ins(%exp : tensor<8x16xf32>) outs(%s0 : tensor<8x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<8x1xf32>
  %div = linalg.generic {indexing_maps = [#id, #red, #id], iterator_types = ["parallel", "parallel"]}
         ins(%exp, %sum : tensor<8x16xf32>, tensor<8x1xf32>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.divf %in, %s : f32
    linalg.yield %0 : f32
  } -> tensor<8x16xf32>
  return %div : tensor<8x16xf32>
}

// -----

// A producer with a user that is not a generic (here the function's return)
// is not duplicated: ReLU feeds both the next op and the result.
// CHECK-LABEL: func.func @keep_shared
// NORE-LABEL: func.func @keep_shared
// CHECK: %[[R:.*]] = linalg.generic
// CHECK: arith.maximumf
// CHECK: %[[N:.*]] = linalg.generic
// CHECK-SAME: ins(%[[R]] :
// CHECK: return %[[R]], %[[N]]
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @keep_shared(%x: tensor<8x16xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x16xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
         ins(%x : tensor<8x16xf32>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<8x16xf32>
  %n = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
         ins(%r : tensor<8x16xf32>) outs(%e : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = math.tanh %in : f32
    linalg.yield %0 : f32
  } -> tensor<8x16xf32>
  return %r, %n : tensor<8x16xf32>, tensor<8x16xf32>
}

// -----

// A matmul result reshaped to [1, 16, 64] before its bias add (as ONNX
// MatMul on 3-D inputs imports): the add runs on the matmul's 16x64 result
// and the reshape moves after it.
// CHECK-LABEL: func.func @bias_through_reshape
// CHECK: %[[MM:.*]] = linalg.matmul
// CHECK: %[[G:.*]] = linalg.generic
// CHECK-SAME: ins(%[[MM]], %arg2 : tensor<16x64xf32>, tensor<64xf32>)
// CHECK: %[[R:.*]] = tensor.expand_shape %[[G]]
// CHECK: return %[[R]]
// NOCOL-LABEL: func.func @bias_through_reshape
// NOCOL: tensor.expand_shape
// NOCOL: linalg.generic
// NOCOL-SAME: tensor<1x16x64xf32>
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#col = affine_map<(d0, d1, d2) -> (d2)>
func.func @bias_through_reshape(%a: tensor<16x32xf32>, %b: tensor<32x64xf32>, %bias: tensor<64xf32>) -> tensor<1x16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x64xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<16x64xf32>) -> tensor<16x64xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<16x32xf32>, tensor<32x64xf32>) outs(%acc : tensor<16x64xf32>) -> tensor<16x64xf32>
  %r = tensor.expand_shape %mm [[0, 1], [2]] output_shape [1, 16, 64] : tensor<16x64xf32> into tensor<1x16x64xf32>
  %e3 = tensor.empty() : tensor<1x16x64xf32>
  %y = linalg.generic {indexing_maps = [#id3, #col, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
         ins(%r, %bias : tensor<1x16x64xf32>, tensor<64xf32>) outs(%e3 : tensor<1x16x64xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %0 = arith.addf %x, %y : f32
    linalg.yield %0 : f32
  } -> tensor<1x16x64xf32>
  return %y : tensor<1x16x64xf32>
}
