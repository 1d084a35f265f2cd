// The CPU layout with pooling=true: a ResNet stem (conv, ReLU, 3x3/2
// MaxPool on a -inf pad) followed by an AveragePool (sum pooling, then the
// division by the window's count) and a 1x1 conv. Both pools become NHWC
// pools, and propagation cancels every transpose between the convs: one
// transpose at the input edge, one at the output.
// RUN: hatc-opt %s --hatc-conv-to-nhwc="depthwise=true pooling=true any-type=true max-groups=0" --hatc-propagate-transposes --hatc-fold-constants --canonicalize | FileCheck %s
// Without pooling=true the pools stay NCHW, between transposes.
// RUN: hatc-opt %s --hatc-conv-to-nhwc="depthwise=true any-type=true max-groups=0" --hatc-propagate-transposes --hatc-fold-constants --canonicalize | FileCheck %s --check-prefix=NCHW

// CHECK-LABEL: func.func @stem
// CHECK: %[[XP:.*]] = tensor.pad %arg0
// CHECK: linalg.transpose ins(%[[XP]] : tensor<1x3x18x18xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[C:.*]] = linalg.conv_2d_nhwc_hwcf
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[C]] : tensor<1x8x8x16xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[P:.*]] = tensor.pad %[[R]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: %[[MAXINIT:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x4x4x16xf32>)
// CHECK: %[[M:.*]] = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[P]], %{{.*}} : tensor<1x10x10x16xf32>, tensor<3x3xf32>) outs(%[[MAXINIT]] : tensor<1x4x4x16xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[Q:.*]] = tensor.pad %[[M]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: %[[S:.*]] = linalg.pooling_nhwc_sum {{.*}} ins(%[[Q]], %{{.*}} : tensor<1x6x6x16xf32>, tensor<3x3xf32>) outs(%{{.*}} : tensor<1x4x4x16xf32>)
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%[[S]]
// CHECK: arith.divf
// CHECK-NOT: linalg.transpose
// CHECK: %[[D:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[A]], %{{.*}} : tensor<1x4x4x16xf32>, tensor<1x1x16x8xf32>)
// CHECK: %[[OUT:.*]] = linalg.transpose ins(%[[D]] : tensor<1x4x4x8xf32>) {{.*}} permutation = [0, 3, 1, 2]
// CHECK-NOT: linalg.transpose
// CHECK: return %[[OUT]]

// NCHW-LABEL: func.func @stem
// NCHW: linalg.transpose
// NCHW: linalg.conv_2d_nhwc_hwcf
// NCHW: linalg.transpose
// NCHW: linalg.pooling_nchw_max
// NCHW: linalg.pooling_nchw_sum
// NCHW: linalg.transpose
// NCHW: linalg.conv_2d_nhwc_hwcf
// NCHW: linalg.transpose
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @stem(%x: tensor<1x3x16x16xf32>) -> tensor<1x8x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %nine = arith.constant 9.0 : f32
  %w = arith.constant dense<0.25> : tensor<16x3x3x3xf32>
  %w2 = arith.constant dense<0.5> : tensor<8x16x1x1xf32>
  %e = tensor.empty() : tensor<1x16x8x8xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  %xp = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x3x16x16xf32> to tensor<1x3x18x18xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%xp, %w : tensor<1x3x18x18xf32>, tensor<16x3x3x3xf32>) outs(%acc : tensor<1x16x8x8xf32>) -> tensor<1x16x8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c : tensor<1x16x8x8xf32>) outs(%e : tensor<1x16x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.maximumf %in, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<1x16x8x8xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %ninf : f32
  } : tensor<1x16x8x8xf32> to tensor<1x16x10x10xf32>
  %window = tensor.empty() : tensor<3x3xf32>
  %pe = tensor.empty() : tensor<1x16x4x4xf32>
  %minus = linalg.fill ins(%ninf : f32) outs(%pe : tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %m = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%p, %window : tensor<1x16x10x10xf32>, tensor<3x3xf32>) outs(%minus : tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %q = tensor.pad %m low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x16x4x4xf32> to tensor<1x16x6x6xf32>
  %sums = linalg.fill ins(%zero : f32) outs(%pe : tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %s = linalg.pooling_nchw_sum {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%q, %window : tensor<1x16x6x6xf32>, tensor<3x3xf32>) outs(%sums : tensor<1x16x4x4xf32>) -> tensor<1x16x4x4xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%s : tensor<1x16x4x4xf32>) outs(%pe : tensor<1x16x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.divf %in, %nine : f32
    linalg.yield %0 : f32
  } -> tensor<1x16x4x4xf32>
  %e2 = tensor.empty() : tensor<1x8x4x4xf32>
  %acc2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  %d = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%a, %w2 : tensor<1x16x4x4xf32>, tensor<8x16x1x1xf32>) outs(%acc2 : tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  return %d : tensor<1x8x4x4xf32>
}
