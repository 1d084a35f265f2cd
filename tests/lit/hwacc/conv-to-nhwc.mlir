// RUN: hatc-opt %s -split-input-file --hatc-conv-to-nhwc | FileCheck %s
// RUN: hatc-opt %s -split-input-file --hatc-conv-to-nhwc=max-groups=1 | FileCheck %s --check-prefix=NOSPLIT

// A bias-initialized NCHW conv (ONNX's Conv): input and filter transposed,
// the bias broadcast redone in NHWC, strides, dilations and the schedule's
// attributes kept, the result transposed back.
// CHECK-LABEL: func.func @nchw_bias
// CHECK-SAME: (%[[X:.*]]: tensor<1x3x9x9xf32>, %[[W:.*]]: tensor<8x3x3x3xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK: %[[XE:.*]] = tensor.empty() : tensor<1x9x9x3xf32>
// CHECK: %[[XT:.*]] = linalg.transpose ins(%[[X]] : tensor<1x3x9x9xf32>) outs(%[[XE]] : tensor<1x9x9x3xf32>) permutation = [0, 2, 3, 1]
// CHECK: %[[WE:.*]] = tensor.empty() : tensor<3x3x3x8xf32>
// CHECK: %[[WT:.*]] = linalg.transpose ins(%[[W]] : tensor<8x3x3x3xf32>) outs(%[[WE]] : tensor<3x3x3x8xf32>) permutation = [2, 3, 1, 0]
// CHECK: %[[AE:.*]] = tensor.empty() : tensor<1x4x4x8xf32>
// CHECK: %[[ACC:.*]] = linalg.broadcast ins(%[[B]] : tensor<8xf32>) outs(%[[AE]] : tensor<1x4x4x8xf32>) dimensions = [0, 1, 2]
// CHECK: %[[C:.*]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, hwacc.dataflow = "os", hwacc.tile = array<i64: 32, 16, 32>, strides = dense<2> : tensor<2xi64>}
// CHECK-SAME: ins(%[[XT]], %[[WT]] : tensor<1x9x9x3xf32>, tensor<3x3x3x8xf32>) outs(%[[ACC]] : tensor<1x4x4x8xf32>)
// CHECK: %[[RE:.*]] = tensor.empty() : tensor<1x8x4x4xf32>
// CHECK: %[[R:.*]] = linalg.transpose ins(%[[C]] : tensor<1x4x4x8xf32>) outs(%[[RE]] : tensor<1x8x4x4xf32>) permutation = [0, 3, 1, 2]
// CHECK: return %[[R]]
// CHECK-NOT: conv_2d_nchw_fchw
func.func @nchw_bias(%x: tensor<1x3x9x9xf32>, %w: tensor<8x3x3x3xf32>, %b: tensor<8xf32>) -> tensor<1x8x4x4xf32> {
  %e = tensor.empty() : tensor<1x8x4x4xf32>
  %acc = linalg.broadcast ins(%b : tensor<8xf32>) outs(%e : tensor<1x8x4x4xf32>) dimensions = [0, 2, 3]
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>, hwacc.tile = array<i64: 32, 16, 32>, hwacc.dataflow = "os"}
    ins(%x, %w : tensor<1x3x9x9xf32>, tensor<8x3x3x3xf32>) outs(%acc : tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
  return %r : tensor<1x8x4x4xf32>
}

// -----

// A zero fill is redone in NHWC right before the conv (the hwacc lowering
// folds it there); dilations kept.
// CHECK-LABEL: func.func @nchw_zero_dilated
// CHECK: linalg.transpose
// CHECK: linalg.transpose
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x6x6x4xf32>
// CHECK-NEXT: %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<2x6x6x4xf32>)
// CHECK-NEXT: linalg.conv_2d_nhwc_hwcf {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>} ins({{.*}} : tensor<2x10x10x5xf32>, tensor<3x3x5x4xf32>) outs(%[[F]] : tensor<2x6x6x4xf32>)
// CHECK: linalg.transpose {{.*}} permutation = [0, 3, 1, 2]
// CHECK-NOT: linalg.fill
func.func @nchw_zero_dilated(%x: tensor<2x5x10x10xf32>, %w: tensor<4x5x3x3xf32>) -> tensor<2x4x6x6xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x4x6x6xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<2x5x10x10xf32>, tensor<4x5x3x3xf32>) outs(%acc : tensor<2x4x6x6xf32>) -> tensor<2x4x6x6xf32>
  return %r : tensor<2x4x6x6xf32>
}

// -----

// Any other accumulator (a function argument here) is transposed.
// CHECK-LABEL: func.func @nchw_arg_acc
// CHECK-SAME: %[[ACC:[a-z0-9]+]]: tensor<1x4x3x3xf32>
// CHECK: linalg.transpose ins(%[[ACC]] : tensor<1x4x3x3xf32>) outs(%{{.*}} : tensor<1x3x3x4xf32>) permutation = [0, 2, 3, 1]
// CHECK: linalg.conv_2d_nhwc_hwcf
func.func @nchw_arg_acc(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>, %acc: tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32> {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>) outs(%acc : tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  return %r : tensor<1x4x3x3xf32>
}

// -----

// Left alone: marked for the host, element types the array does not
// compute, depthwise convs.
// CHECK-LABEL: func.func @stay_on_host
// CHECK-NOT: conv_2d_nhwc_hwcf
// CHECK: linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, hwacc.on_host
// CHECK: linalg.conv_2d_nchw_fchw {{.*}} ins({{.*}} : tensor<1x2x5x5xf16>
// CHECK: linalg.depthwise_conv_2d_nchw_chw
// CHECK-NOT: conv_2d_nhwc_hwcf
func.func @stay_on_host(%x: tensor<1x2x5x5xf32>, %w: tensor<4x2x3x3xf32>, %acc: tensor<1x4x3x3xf32>,
                        %xh: tensor<1x2x5x5xf16>, %wh: tensor<4x2x3x3xf16>, %acch: tensor<1x4x3x3xf16>,
                        %wd: tensor<2x3x3xf32>, %accd: tensor<1x2x3x3xf32>)
    -> (tensor<1x4x3x3xf32>, tensor<1x4x3x3xf16>, tensor<1x2x3x3xf32>) {
  %r = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>, hwacc.on_host}
    ins(%x, %w : tensor<1x2x5x5xf32>, tensor<4x2x3x3xf32>) outs(%acc : tensor<1x4x3x3xf32>) -> tensor<1x4x3x3xf32>
  %h = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%xh, %wh : tensor<1x2x5x5xf16>, tensor<4x2x3x3xf16>) outs(%acch : tensor<1x4x3x3xf16>) -> tensor<1x4x3x3xf16>
  %d = linalg.depthwise_conv_2d_nchw_chw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %wd : tensor<1x2x5x5xf32>, tensor<2x3x3xf32>) outs(%accd : tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %r, %h, %d : tensor<1x4x3x3xf32>, tensor<1x4x3x3xf16>, tensor<1x2x3x3xf32>
}

// -----

// Two groups: one NHWC conv per group on rank-reduced slices, each result
// inserted into the accumulator. With max-groups=1 it stays as it is.
// CHECK-LABEL: func.func @grouped
// CHECK-SAME: (%[[X:.*]]: tensor<1x2x3x6x6xf32>, %[[W:.*]]: tensor<2x4x3x3x3xf32>, %[[ACC:.*]]: tensor<1x2x4x4x4xf32>)
// CHECK: %[[A0:.*]] = tensor.extract_slice %[[ACC]][0, 0, 0, 0, 0] [1, 1, 4, 4, 4] [1, 1, 1, 1, 1] : tensor<1x2x4x4x4xf32> to tensor<1x4x4x4xf32>
// CHECK: %[[X0:.*]] = tensor.extract_slice %[[X]][0, 0, 0, 0, 0] [1, 1, 3, 6, 6] [1, 1, 1, 1, 1] : tensor<1x2x3x6x6xf32> to tensor<1x3x6x6xf32>
// CHECK: %[[W0:.*]] = tensor.extract_slice %[[W]][0, 0, 0, 0, 0] [1, 4, 3, 3, 3] [1, 1, 1, 1, 1] : tensor<2x4x3x3x3xf32> to tensor<4x3x3x3xf32>
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: %[[R0:.*]] = linalg.transpose
// CHECK: %[[I0:.*]] = tensor.insert_slice %[[R0]] into %[[ACC]][0, 0, 0, 0, 0] [1, 1, 4, 4, 4] [1, 1, 1, 1, 1] : tensor<1x4x4x4xf32> into tensor<1x2x4x4x4xf32>
// CHECK: tensor.extract_slice %[[I0]][0, 1, 0, 0, 0] [1, 1, 4, 4, 4]
// CHECK: tensor.extract_slice %[[X]][0, 1, 0, 0, 0] [1, 1, 3, 6, 6]
// CHECK: tensor.extract_slice %[[W]][1, 0, 0, 0, 0] [1, 4, 3, 3, 3]
// CHECK: linalg.conv_2d_nhwc_hwcf
// CHECK: %[[R1:.*]] = linalg.transpose
// CHECK: %[[I1:.*]] = tensor.insert_slice %[[R1]] into %[[I0]][0, 1, 0, 0, 0]
// CHECK: return %[[I1]]
// NOSPLIT-LABEL: func.func @grouped
// NOSPLIT: linalg.conv_2d_ngchw_gfchw
// NOSPLIT-NOT: tensor.extract_slice
func.func @grouped(%x: tensor<1x2x3x6x6xf32>, %w: tensor<2x4x3x3x3xf32>, %acc: tensor<1x2x4x4x4xf32>) -> tensor<1x2x4x4x4xf32> {
  %r = linalg.conv_2d_ngchw_gfchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
    ins(%x, %w : tensor<1x2x3x6x6xf32>, tensor<2x4x3x3x3xf32>) outs(%acc : tensor<1x2x4x4x4xf32>) -> tensor<1x2x4x4x4xf32>
  return %r : tensor<1x2x4x4x4xf32>
}
