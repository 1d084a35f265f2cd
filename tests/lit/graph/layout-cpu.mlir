// The CPU layout: hatc-conv-to-nhwc with depthwise=true any-type=true puts
// both convolutions in NHWC; hatc-propagate-transposes moves the first
// conv's result transpose through the ReLU and the pad, where it cancels
// with the depthwise conv's input transpose; the pooling reads the NHWC
// result through its indexing map. What remains: one transpose at the
// input edge, none in between.
// RUN: hatc-opt %s --hatc-conv-to-nhwc="depthwise=true any-type=true max-groups=0" --hatc-propagate-transposes --hatc-fold-constants --canonicalize | FileCheck %s
// Without propagation every conv keeps its transposes (3 per conv).
// RUN: hatc-opt %s --hatc-conv-to-nhwc="depthwise=true any-type=true max-groups=0" --canonicalize | FileCheck %s --check-prefix=NOPROP
// The hwacc default leaves depthwise convolutions alone.
// RUN: hatc-opt %s --hatc-conv-to-nhwc | FileCheck %s --check-prefix=HWACC

// CHECK-LABEL: func.func @block
// CHECK: %[[X:.*]] = linalg.transpose ins(%arg0 : tensor<1x3x8x8xf32>)
// CHECK-SAME: permutation = [0, 2, 3, 1]
// CHECK: %[[C:.*]] = linalg.conv_2d_nhwc_hwcf
// CHECK-SAME: ins(%[[X]], %{{.*}} : tensor<1x8x8x3xf32>, tensor<1x1x3x4xf32>)
// CHECK: %[[R:.*]] = linalg.generic
// CHECK-SAME: ins(%[[C]] : tensor<1x8x8x4xf32>)
// CHECK: arith.maximumf
// CHECK: %[[P:.*]] = tensor.pad %[[R]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: %[[D:.*]] = linalg.depthwise_conv_2d_nhwc_hwc
// CHECK-SAME: ins(%[[P]], %{{.*}} : tensor<1x10x10x4xf32>, tensor<3x3x4xf32>)
// CHECK: linalg.generic
// CHECK-SAME: ins(%[[D]] : tensor<1x8x8x4xf32>)
// CHECK-SAME: outs(%{{.*}} : tensor<1x4x1x1xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: return
// NOPROP-LABEL: func.func @block
// NOPROP-COUNT-5: linalg.transpose
// HWACC-LABEL: func.func @block
// HWACC: linalg.conv_2d_nhwc_hwcf
// HWACC: linalg.depthwise_conv_2d_nchw_chw
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#pool = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, 0)>
func.func @block(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x1x1xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<1.0> : tensor<4x3x1x1xf32>
  %dw = arith.constant dense<0.5> : tensor<4x3x3xf32>
  %e = tensor.empty() : tensor<1x4x8x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x3x8x8xf32>, tensor<4x3x1x1xf32>) outs(%acc : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c : tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<1x4x8x8xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x8x8xf32> to tensor<1x4x10x10xf32>
  %d = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%p, %dw : tensor<1x4x10x10xf32>, tensor<4x3x3xf32>) outs(%acc : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %e1 = tensor.empty() : tensor<1x4x1x1xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x4x1x1xf32>) -> tensor<1x4x1x1xf32>
  %s = linalg.generic {indexing_maps = [#id, #pool], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}
         ins(%d : tensor<1x4x8x8xf32>) outs(%s0 : tensor<1x4x1x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %out, %in : f32
    linalg.yield %0 : f32
  } -> tensor<1x4x1x1xf32>
  return %s : tensor<1x4x1x1xf32>
}
