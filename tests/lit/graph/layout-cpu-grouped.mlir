// A grouped conv (4 groups of 8 channels, 3x3, stride 2) between two
// convs, as the importer writes it: the NCHW input expanded to N, G, C,
// H, W, conv_2d_ngchw_gfchw, the result collapsed back. With
// grouped-nhwc=true it becomes one conv_2d_nhwc_hwcf per group on channel
// slices of one NHWC input and output (the filter transposed once and
// folded), and the transposes around it cancel with the convs': one
// transpose at each edge.
// RUN: hatc-opt %s --hatc-conv-to-nhwc="depthwise=true pooling=true grouped-nhwc=true any-type=true max-groups=0" --hatc-propagate-transposes --hatc-fold-constants --canonicalize | FileCheck %s
// Without it the grouped conv stays NCHW, between transposes.
// RUN: hatc-opt %s --hatc-conv-to-nhwc="depthwise=true pooling=true any-type=true max-groups=0" --hatc-propagate-transposes --hatc-fold-constants --canonicalize | FileCheck %s --check-prefix=NCHW

// CHECK-LABEL: func.func @grouped
// CHECK: linalg.transpose ins(%arg0 : tensor<1x8x10x10xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: %[[A:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} -> tensor<1x10x10x32xf32>
// CHECK: %[[P:.*]] = tensor.pad %[[A]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK: %[[ACC:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x5x5x32xf32>)
// CHECK: %[[IN0:.*]] = tensor.extract_slice %[[P]][0, 0, 0, 0] [1, 12, 12, 8] [1, 1, 1, 1]
// CHECK: %[[W0:.*]] = tensor.extract_slice %[[WT:.*]][0, 0, 0, 0, 0] [1, 3, 3, 8, 8] [1, 1, 1, 1, 1] : tensor<4x3x3x8x8xf32> to tensor<3x3x8x8xf32>
// CHECK: %[[ACC0:.*]] = tensor.extract_slice %[[ACC]][0, 0, 0, 0] [1, 5, 5, 8] [1, 1, 1, 1]
// CHECK: %[[G0:.*]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%[[IN0]], %[[W0]] : tensor<1x12x12x8xf32>, tensor<3x3x8x8xf32>) outs(%[[ACC0]] : tensor<1x5x5x8xf32>)
// CHECK: %[[R0:.*]] = tensor.insert_slice %[[G0]] into %[[ACC]][0, 0, 0, 0] [1, 5, 5, 8] [1, 1, 1, 1]
// CHECK: tensor.extract_slice %[[P]][0, 0, 0, 8] [1, 12, 12, 8] [1, 1, 1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %[[R0]][0, 0, 0, 8] [1, 5, 5, 8] [1, 1, 1, 1]
// CHECK: tensor.extract_slice %[[P]][0, 0, 0, 24] [1, 12, 12, 8] [1, 1, 1, 1]
// CHECK: %[[R3:.*]] = tensor.insert_slice %{{.*}} into %{{.*}}[0, 0, 0, 24] [1, 5, 5, 8] [1, 1, 1, 1]
// CHECK-NOT: linalg.transpose
// CHECK: %[[C:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[R3]], %{{.*}} : tensor<1x5x5x32xf32>, tensor<1x1x32x4xf32>)
// CHECK: linalg.transpose ins(%[[C]] : tensor<1x5x5x4xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: return

// NCHW-LABEL: func.func @grouped
// NCHW: linalg.transpose
// NCHW: linalg.conv_2d_ngchw_gfchw
// NCHW: linalg.transpose
func.func @grouped(%x: tensor<1x8x10x10xf32>) -> tensor<1x4x5x5xf32> {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<0.25> : tensor<32x8x1x1xf32>
  %wg = arith.constant dense<0.5> : tensor<4x8x8x3x3xf32>
  %w3 = arith.constant dense<0.125> : tensor<4x32x1x1xf32>
  %e1 = tensor.empty() : tensor<1x32x10x10xf32>
  %a1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x32x10x10xf32>) -> tensor<1x32x10x10xf32>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%x, %w1 : tensor<1x8x10x10xf32>, tensor<32x8x1x1xf32>) outs(%a1 : tensor<1x32x10x10xf32>) -> tensor<1x32x10x10xf32>
  %p = tensor.pad %c1 low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x32x10x10xf32> to tensor<1x32x12x12xf32>
  %pg = tensor.expand_shape %p [[0], [1, 2], [3], [4]] output_shape [1, 4, 8, 12, 12] : tensor<1x32x12x12xf32> into tensor<1x4x8x12x12xf32>
  %eg = tensor.empty() : tensor<1x4x8x5x5xf32>
  %ag = linalg.fill ins(%zero : f32) outs(%eg : tensor<1x4x8x5x5xf32>) -> tensor<1x4x8x5x5xf32>
  %g = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%pg, %wg : tensor<1x4x8x12x12xf32>, tensor<4x8x8x3x3xf32>) outs(%ag : tensor<1x4x8x5x5xf32>) -> tensor<1x4x8x5x5xf32>
  %gc = tensor.collapse_shape %g [[0], [1, 2], [3], [4]] : tensor<1x4x8x5x5xf32> into tensor<1x32x5x5xf32>
  %e3 = tensor.empty() : tensor<1x4x5x5xf32>
  %a3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  %c3 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%gc, %w3 : tensor<1x32x5x5xf32>, tensor<4x32x1x1xf32>) outs(%a3 : tensor<1x4x5x5xf32>) -> tensor<1x4x5x5xf32>
  return %c3 : tensor<1x4x5x5xf32>
}
