// hatc-fold-constants with pad-conv-filters (the graph pipeline's CPU
// layout): an NHWC conv whose constant filter has at least 512 rows (kh x
// kw x c) of a multiple of 1 KiB reads it through a slice of the filter
// with each row padded by a 64-byte cache line. The padded values are
// checked end to end (onnx.model.resnet_wide_block against ONNX Runtime).
// RUN: hatc-opt %s -split-input-file --hatc-fold-constants="pad-conv-filters=true" | FileCheck %s
// Off by default.
// RUN: hatc-opt %s -split-input-file --hatc-fold-constants | FileCheck %s --check-prefix=OFF

// 512 rows of 256 f32 (1 KiB): padded to 272 (1,088 bytes).
// CHECK-LABEL: func.func @rows_1k
// CHECK: %[[W:.*]] = arith.constant dense_resource<{{.*}}> : tensor<1x1x512x272xf32>
// CHECK: %[[S:.*]] = tensor.extract_slice %[[W]][0, 0, 0, 0] [1, 1, 512, 256] [1, 1, 1, 1] : tensor<1x1x512x272xf32> to tensor<1x1x512x256xf32>
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} ins(%arg0, %[[S]] : tensor<1x4x4x512xf32>, tensor<1x1x512x256xf32>)
// OFF-LABEL: func.func @rows_1k
// OFF-NOT: extract_slice
// OFF: linalg.conv_2d_nhwc_hwcf {{.*}} tensor<1x1x512x256xf32>
func.func @rows_1k(%x: tensor<1x4x4x512xf32>) -> tensor<1x4x4x256xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.5> : tensor<1x1x512x256xf32>
  %e = tensor.empty() : tensor<1x4x4x256xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x256xf32>) -> tensor<1x4x4x256xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x4x4x512xf32>, tensor<1x1x512x256xf32>)
         outs(%acc : tensor<1x4x4x256xf32>) -> tensor<1x4x4x256xf32>
  return %c : tensor<1x4x4x256xf32>
}

// -----

// Rows of 128 f32 (512 bytes) do not alias as much: left alone.
// CHECK-LABEL: func.func @rows_512b
// CHECK-NOT: extract_slice
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} tensor<1x1x1024x128xf32>
func.func @rows_512b(%x: tensor<1x4x4x1024xf32>) -> tensor<1x4x4x128xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.5> : tensor<1x1x1024x128xf32>
  %e = tensor.empty() : tensor<1x4x4x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x128xf32>) -> tensor<1x4x4x128xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x4x4x1024xf32>, tensor<1x1x1024x128xf32>)
         outs(%acc : tensor<1x4x4x128xf32>) -> tensor<1x4x4x128xf32>
  return %c : tensor<1x4x4x128xf32>
}

// -----

// 504 rows (3 x 3 x 56): too few to evict each other; left alone.
// CHECK-LABEL: func.func @few_rows
// CHECK-NOT: extract_slice
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} tensor<3x3x56x256xf32>
func.func @few_rows(%x: tensor<1x6x6x56xf32>) -> tensor<1x4x4x256xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.5> : tensor<3x3x56x256xf32>
  %e = tensor.empty() : tensor<1x4x4x256xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x256xf32>) -> tensor<1x4x4x256xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x6x6x56xf32>, tensor<3x3x56x256xf32>)
         outs(%acc : tensor<1x4x4x256xf32>) -> tensor<1x4x4x256xf32>
  return %c : tensor<1x4x4x256xf32>
}

// -----

// A filter that is an argument (a task's) is not read: left alone.
// CHECK-LABEL: func.func @argument
// CHECK-NOT: extract_slice
func.func @argument(%x: tensor<1x4x4x512xf32>, %w: tensor<1x1x512x256xf32>) -> tensor<1x4x4x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x256xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x256xf32>) -> tensor<1x4x4x256xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x4x4x512xf32>, tensor<1x1x512x256xf32>)
         outs(%acc : tensor<1x4x4x256xf32>) -> tensor<1x4x4x256xf32>
  return %c : tensor<1x4x4x256xf32>
}
