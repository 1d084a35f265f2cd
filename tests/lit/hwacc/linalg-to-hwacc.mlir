// RUN: hatc-opt %s -split-input-file --hatc-lower-linalg-to-hwacc | FileCheck %s

// A zero fill before the matmul is folded: the accelerator overwrites C.
// Default tiles are 4x4 blocks, clamped to the dim-rounded problem.
// CHECK: module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 1024>}
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: linalg.fill
// CHECK: hwacc.matmul ins(%{{.*}}, %{{.*}} : memref<40x24xf32>, memref<24x20xf32>) outs(%{{.*}} : memref<40x20xf32>) tile [48, 32, 32] dataflow "ws" loop_order "mnk" double_buffer
// CHECK-NOT: accumulate
func.func @matmul(%A: memref<40x24xf32>, %B: memref<24x20xf32>, %C: memref<40x20xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%C : memref<40x20xf32>)
  linalg.matmul ins(%A, %B : memref<40x24xf32>, memref<24x20xf32>) outs(%C : memref<40x20xf32>)
  return
}

// -----

// No fill: C += A * B. Tiles and dataflow from the op's attributes; the
// ReLU after it stays on the host, bracketed so the device model counts its
// wall time.
// CHECK-DAG: func.func private @hatc_hwacc_host_begin()
// CHECK-DAG: func.func private @hatc_hwacc_host_end()
// CHECK-LABEL: func.func @matmul_attrs_relu
// CHECK: hwacc.matmul {{.*}} tile [32, 32, 16] dataflow "os" loop_order "nmk" accumulate
// CHECK-NEXT: call @hatc_hwacc_host_begin() : () -> ()
// CHECK-NEXT: linalg.generic
// CHECK: arith.maximumf
// CHECK: call @hatc_hwacc_host_end() : () -> ()
// CHECK-NEXT: return
func.func @matmul_attrs_relu(%A: memref<64x16xf32>, %B: memref<16x64xf32>, %C: memref<64x64xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.matmul {hwacc.tile = array<i64: 32, 32, 16>, hwacc.dataflow = "os", hwacc.loop_order = "nmk", hwacc.double_buffer = false}
    ins(%A, %B : memref<64x16xf32>, memref<16x64xf32>) outs(%C : memref<64x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} outs(%C : memref<64x64xf32>) {
  ^bb0(%c: f32):
    %r = arith.maximumf %c, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// batch_matmul: a loop over the batch of rank-reduced views.
// CHECK-LABEL: func.func @batch
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %{{.*}} step
// CHECK: memref.subview %{{.*}}[%[[B]], 0, 0] [1, 128, 64] [1, 1, 1] : memref<12x128x64xf32> to memref<128x64xf32, strided<[64, 1], offset: ?>>
// CHECK: hwacc.matmul {{.*}} outs(%{{.*}} : memref<128x128xf32, strided<[128, 1], offset: ?>>) tile [64, 64, 64]
func.func @batch(%A: memref<12x128x64xf32>, %B: memref<12x64x128xf32>, %C: memref<12x128x128xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%C : memref<12x128x128xf32>)
  linalg.batch_matmul ins(%A, %B : memref<12x128x64xf32>, memref<12x64x128xf32>) outs(%C : memref<12x128x128xf32>)
  return
}

// -----

// conv: im2col on the host, then a GEMM of (N*OH*OW) x (KH*KW*C) by (KH*KW*C) x F.
// CHECK-LABEL: func.func @conv
// CHECK: %[[COLS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<49x36xf32>
// CHECK: %[[COLS6:.*]] = memref.expand_shape %[[COLS]] {{\[\[}}0, 1, 2], [3, 4, 5]] output_shape [1, 7, 7, 3, 3, 4]
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : memref<1x15x15x4xf32>) outs(%[[COLS6]] : memref<1x7x7x3x3x4xf32>)
// CHECK: %[[F:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : memref<3x3x4x8xf32> into memref<36x8xf32>
// CHECK: %[[O:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : memref<1x7x7x8xf32> into memref<49x8xf32>
// CHECK: hwacc.matmul ins(%[[COLS]], %[[F]] : memref<49x36xf32>, memref<36x8xf32>) outs(%[[O]] : memref<49x8xf32>)
// CHECK: memref.dealloc %[[COLS]]
func.func @conv(%I: memref<1x15x15x4xf32>, %F: memref<3x3x4x8xf32>, %O: memref<1x7x7x8xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%O : memref<1x7x7x8xf32>)
  linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%I, %F : memref<1x15x15x4xf32>, memref<3x3x4x8xf32>) outs(%O : memref<1x7x7x8xf32>)
  return
}

// -----

// i8 x i8 -> i32 is offloaded; f32 x f32 -> f64 and ops marked hwacc.on_host
// are not. The f64 one stays on the host whatever the schedule (host_begin);
// the one the schedule kept there begins with host_kept_begin, so that its
// time counts in the schedule's.
// CHECK-DAG: func.func private @hatc_hwacc_host_kept_begin()
// CHECK-LABEL: func.func @types
// CHECK: hwacc.matmul ins({{.*}} : memref<32x32xi8>, memref<32x32xi8>) outs({{.*}} : memref<32x32xi32>)
// CHECK-NEXT: call @hatc_hwacc_host_begin()
// CHECK-NEXT: linalg.matmul ins({{.*}} : memref<32x32xf32>, memref<32x32xf32>) outs({{.*}} : memref<32x32xf64>)
// CHECK-NEXT: call @hatc_hwacc_host_end()
// CHECK-NEXT: call @hatc_hwacc_host_kept_begin()
// CHECK-NEXT: linalg.matmul {hwacc.on_host}
// CHECK-NEXT: call @hatc_hwacc_host_end()
func.func @types(%A: memref<32x32xi8>, %B: memref<32x32xi8>, %C: memref<32x32xi32>,
                 %X: memref<32x32xf32>, %Y: memref<32x32xf64>) {
  linalg.matmul ins(%A, %B : memref<32x32xi8>, memref<32x32xi8>) outs(%C : memref<32x32xi32>)
  linalg.matmul ins(%X, %X : memref<32x32xf32>, memref<32x32xf32>) outs(%Y : memref<32x32xf64>)
  linalg.matmul {hwacc.on_host} ins(%X, %X : memref<32x32xf32>, memref<32x32xf32>) outs(%X : memref<32x32xf32>)
  return
}
