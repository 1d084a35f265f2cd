// hatc-fold-constants: data movement of constants (dense and dense_resource)
// becomes a constant; per-channel affine consumers (an imported
// BatchNormalization) fold into the convolution before them.
// RUN: hatc-opt %s -split-input-file --hatc-fold-constants | FileCheck %s
// RUN: hatc-opt %s -split-input-file --hatc-fold-constants=resource-threshold=2 | FileCheck %s --check-prefix=RES
// RUN: hatc-opt %s -split-input-file --hatc-fold-constants=fold-into-conv=false | FileCheck %s --check-prefix=NOCONV

// A transpose of a dense_resource weight (a Gemm's transB): values moved.
// CHECK-LABEL: func.func @transpose_resource
// CHECK-NEXT: %[[C:.*]] = arith.constant dense<{{\[}}[1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-NEXT: return %[[C]]
// Above the threshold the result is a new blob, read back with the same
// bytes the transpose gives.
// RES-LABEL: func.func @transpose_resource
// RES-NEXT: arith.constant dense_resource<w_folded> : tensor<3x2xf32>
// RES: w_folded: "0x080000000000803F0000804000000040
// RES-SAME: 0000A040000040400000C040"
func.func @transpose_resource() -> tensor<3x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x3xf32>
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%w : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  return %t : tensor<3x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F0000004000004040000080400000A0400000C040"
    }
  }
#-}

// -----

// Reshapes and small broadcasts of constants fold; a large broadcast stays.
// CHECK-LABEL: func.func @reshape_broadcast
// CHECK-DAG: arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00], [1.000000e+00, 2.000000e+00, 3.000000e+00]]> : tensor<2x3xf32>
// CHECK-DAG: arith.constant dense<{{\[}}[1.000000e+00], [2.000000e+00], [3.000000e+00]]> : tensor<3x1xf32>
// CHECK: linalg.broadcast
// CHECK-SAME: tensor<3x2048xf32>
// CHECK-NOT: tensor.expand_shape
func.func @reshape_broadcast() -> (tensor<2x3xf32>, tensor<3x1xf32>, tensor<3x2048xf32>) {
  %v = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %b = linalg.broadcast ins(%v : tensor<3xf32>) outs(%e : tensor<2x3xf32>) dimensions = [0]
  %r = tensor.expand_shape %v [[0, 1]] output_shape [3, 1] : tensor<3xf32> into tensor<3x1xf32>
  %e2 = tensor.empty() : tensor<3x2048xf32>
  %big = linalg.broadcast ins(%v : tensor<3xf32>) outs(%e2 : tensor<3x2048xf32>) dimensions = [1]
  return %b, %r, %big : tensor<2x3xf32>, tensor<3x1xf32>, tensor<3x2048xf32>
}

// -----

// BatchNormalization as imported: (x - mean) / sqrt(var + eps) * gamma + beta
// on a conv with a zero accumulator. mean = 1, var + eps = 4, gamma = [2, 4],
// beta = [0, 1]: y = [1, 2] * x + [-1, -1]. The filter (all ones) is scaled
// per output channel; the accumulator becomes the broadcast bias.
// CHECK-LABEL: func.func @batchnorm_into_conv
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00, 1.000000e+00]]], {{\[\[\[}}2.000000e+00, 2.000000e+00]]]]> : tensor<2x1x1x2xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<-1.000000e+00> : tensor<2xf32>
// CHECK: %[[ACC:.*]] = linalg.broadcast ins(%[[B]] : tensor<2xf32>) outs(%{{.*}} : tensor<1x2x4x3xf32>) dimensions = [0, 2, 3]
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw
// CHECK-SAME: ins(%arg0, %[[W]] :
// CHECK-SAME: outs(%[[ACC]] :
// CHECK-NEXT: return %[[C]]
// NOCONV-LABEL: func.func @batchnorm_into_conv
// NOCONV: linalg.conv_2d_nchw_fchw
// NOCONV: linalg.generic
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
func.func @batchnorm_into_conv(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x3xf32> {
  %w = arith.constant dense<1.0> : tensor<2x1x1x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x3xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x3xf32>) -> tensor<1x2x4x3xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>) outs(%acc : tensor<1x2x4x3xf32>) -> tensor<1x2x4x3xf32>
  %gamma1 = arith.constant dense<[2.0, 4.0]> : tensor<2xf32>
  %gamma = tensor.expand_shape %gamma1 [[0, 1, 2]] output_shape [2, 1, 1] : tensor<2xf32> into tensor<2x1x1xf32>
  %beta = arith.constant dense<[[[0.0]], [[1.0]]]> : tensor<2x1x1xf32>
  %mean = arith.constant dense<1.0> : tensor<2x1x1xf32>
  %var = arith.constant dense<3.0> : tensor<2x1x1xf32>
  %e2 = tensor.empty() : tensor<1x2x4x3xf32>
  %y = linalg.generic {indexing_maps = [#id, #ch, #ch, #ch, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c, %gamma, %beta, %mean, %var : tensor<1x2x4x3xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>, tensor<2x1x1xf32>)
         outs(%e2 : tensor<1x2x4x3xf32>) {
  ^bb0(%in: f32, %g: f32, %b: f32, %m: f32, %v: f32, %out: f32):
    %eps = arith.constant 1.0 : f32
    %0 = arith.addf %v, %eps : f32
    %1 = math.sqrt %0 : f32
    %2 = arith.subf %in, %m : f32
    %3 = arith.divf %2, %1 : f32
    %4 = arith.mulf %3, %g : f32
    %5 = arith.addf %4, %b : f32
    linalg.yield %5 : f32
  } -> tensor<1x2x4x3xf32>
  return %y : tensor<1x2x4x3xf32>
}

// -----

// A depthwise conv with a bias accumulator and a scale: y = 3 * (conv + bias);
// the filter is scaled by 3 and the bias becomes 3 * bias.
// CHECK-LABEL: func.func @scale_into_depthwise
// CHECK-DAG: %[[W:.*]] = arith.constant dense<3.000000e+00> : tensor<2x1x1xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[1.500000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK: linalg.broadcast ins(%[[B]]
// CHECK: linalg.depthwise_conv_2d_nchw_chw
// CHECK-SAME: ins(%arg0, %[[W]] :
// CHECK-NOT: linalg.generic
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
func.func @scale_into_depthwise(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<2x1x1xf32>
  %bias = arith.constant dense<[0.5, 2.0]> : tensor<2xf32>
  %three = arith.constant dense<3.0> : tensor<f32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %acc = linalg.broadcast ins(%bias : tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) dimensions = [0, 2, 3]
  %c = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) outs(%acc : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e2 = tensor.empty() : tensor<1x2x4x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c, %three : tensor<1x2x4x4xf32>, tensor<f32>) outs(%e2 : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.mulf %s, %in : f32
    linalg.yield %0 : f32
  } -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Not folded: a nonlinear consumer (ReLU), and a conv whose result has
// another user.
// CHECK-LABEL: func.func @not_affine
// CHECK: linalg.conv_2d_nchw_fchw
// CHECK: linalg.generic
// CHECK: arith.maximumf
// CHECK-LABEL: func.func @conv_used_twice
// CHECK: %[[C:.*]] = linalg.conv_2d_nchw_fchw
// CHECK: %[[Y:.*]] = linalg.generic
// CHECK-SAME: ins(%[[C]], %{{.*}} :
// CHECK: return %[[Y]], %[[C]]
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#scalar = affine_map<(d0, d1, d2, d3) -> ()>
func.func @not_affine(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = arith.constant dense<1.0> : tensor<2x1x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) outs(%acc : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

func.func @conv_used_twice(%x: tensor<1x1x4x4xf32>) -> (tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = arith.constant dense<1.0> : tensor<2x1x1x1xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) outs(%acc : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #scalar, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c, %two : tensor<1x2x4x4xf32>, tensor<f32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %0 = arith.mulf %in, %s : f32
    linalg.yield %0 : f32
  } -> tensor<1x2x4x4xf32>
  return %y, %c : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>
}
