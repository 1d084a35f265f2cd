// An Inception-style block: two convs whose results are concatenated on
// channels (the importer's insert_slice chain into a tensor.empty), then a
// third conv. In the CPU layout the concatenation runs in NHWC (channel
// offsets on dim 3) and the transposes between the convs cancel: one at
// the input edge, one at the output.
// RUN: hatc-opt %s --hatc-conv-to-nhwc="depthwise=true pooling=true any-type=true max-groups=0" --hatc-propagate-transposes --hatc-fold-constants --canonicalize | FileCheck %s

// CHECK-LABEL: func.func @inception
// CHECK: linalg.transpose ins(%arg0 : tensor<1x8x6x6xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[A:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x6x6x16xf32>
// CHECK: %[[B:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x6x6x8xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x6x6x24xf32>
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[A]] into %[[E]][0, 0, 0, 0] [1, 6, 6, 16] [1, 1, 1, 1]
// CHECK: %[[I1:.*]] = tensor.insert_slice %[[B]] into %[[I0]][0, 0, 0, 16] [1, 6, 6, 8] [1, 1, 1, 1]
// CHECK-NOT: linalg.transpose
// CHECK: %[[C:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[I1]], %{{.*}} : tensor<1x6x6x24xf32>, tensor<1x1x24x4xf32>)
// CHECK: linalg.transpose ins(%[[C]] : tensor<1x6x6x4xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: return

// A chain whose inputs are not all transposes stays as it is.
// CHECK-LABEL: func.func @mixed
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 0] [1, 16, 6, 6]
// CHECK: tensor.insert_slice %arg1 into %{{.*}}[0, 16, 0, 0] [1, 8, 6, 6]
func.func @inception(%x: tensor<1x8x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<0.25> : tensor<16x8x1x1xf32>
  %w2 = arith.constant dense<0.5> : tensor<8x8x1x1xf32>
  %w3 = arith.constant dense<0.125> : tensor<4x24x1x1xf32>
  %e1 = tensor.empty() : tensor<1x16x6x6xf32>
  %a1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%x, %w1 : tensor<1x8x6x6xf32>, tensor<16x8x1x1xf32>) outs(%a1 : tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
  %e2 = tensor.empty() : tensor<1x8x6x6xf32>
  %a2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%x, %w2 : tensor<1x8x6x6xf32>, tensor<8x8x1x1xf32>) outs(%a2 : tensor<1x8x6x6xf32>) -> tensor<1x8x6x6xf32>
  %cat0 = tensor.empty() : tensor<1x24x6x6xf32>
  %cat1 = tensor.insert_slice %c1 into %cat0[0, 0, 0, 0] [1, 16, 6, 6] [1, 1, 1, 1] : tensor<1x16x6x6xf32> into tensor<1x24x6x6xf32>
  %cat2 = tensor.insert_slice %c2 into %cat1[0, 16, 0, 0] [1, 8, 6, 6] [1, 1, 1, 1] : tensor<1x8x6x6xf32> into tensor<1x24x6x6xf32>
  %e3 = tensor.empty() : tensor<1x4x6x6xf32>
  %a3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  %c3 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%cat2, %w3 : tensor<1x24x6x6xf32>, tensor<4x24x1x1xf32>) outs(%a3 : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %c3 : tensor<1x4x6x6xf32>
}

func.func @mixed(%x: tensor<1x8x6x6xf32>, %y: tensor<1x8x6x6xf32>) -> tensor<1x24x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<0.25> : tensor<16x8x1x1xf32>
  %e1 = tensor.empty() : tensor<1x16x6x6xf32>
  %a1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%x, %w1 : tensor<1x8x6x6xf32>, tensor<16x8x1x1xf32>) outs(%a1 : tensor<1x16x6x6xf32>) -> tensor<1x16x6x6xf32>
  %cat0 = tensor.empty() : tensor<1x24x6x6xf32>
  %cat1 = tensor.insert_slice %c1 into %cat0[0, 0, 0, 0] [1, 16, 6, 6] [1, 1, 1, 1] : tensor<1x16x6x6xf32> into tensor<1x24x6x6xf32>
  %cat2 = tensor.insert_slice %y into %cat1[0, 16, 0, 0] [1, 8, 6, 6] [1, 1, 1, 1] : tensor<1x8x6x6xf32> into tensor<1x24x6x6xf32>
  return %cat2 : tensor<1x24x6x6xf32>
}
