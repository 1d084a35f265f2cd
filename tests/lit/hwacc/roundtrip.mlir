// RUN: hatc-opt %s | hatc-opt | FileCheck %s

// CHECK: module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 1024>}
module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 1024>} {
  // CHECK-LABEL: func.func @high
  // CHECK: hwacc.matmul ins(%{{.*}}, %{{.*}} : memref<64x32xf32>, memref<32x48xf32>) outs(%{{.*}} : memref<64x48xf32>) tile [64, 48, 32] dataflow "ws" loop_order "mnk" double_buffer
  // CHECK: hwacc.matmul ins({{.*}} : memref<40x24xi8>, memref<24x20xi8>) outs({{.*}} : memref<40x20xi32>) tile [32, 32, 32] dataflow "os" loop_order "nmk" accumulate
  func.func @high(%A: memref<64x32xf32>, %B: memref<32x48xf32>, %C: memref<64x48xf32>,
                  %Ai: memref<40x24xi8>, %Bi: memref<24x20xi8>, %Ci: memref<40x20xi32>) {
    hwacc.matmul ins(%A, %B : memref<64x32xf32>, memref<32x48xf32>) outs(%C : memref<64x48xf32>)
                 tile [64, 48, 32] dataflow "ws" loop_order "mnk" double_buffer
    hwacc.matmul ins(%Ai, %Bi : memref<40x24xi8>, memref<24x20xi8>) outs(%Ci : memref<40x20xi32>)
                 tile [32, 32, 32] dataflow "os" loop_order "nmk" accumulate
    return
  }

  // CHECK-LABEL: func.func @low
  // CHECK: hwacc.config dataflow "ws" elem f32 out f32 scale 1.000000e+00 relu false
  // CHECK: hwacc.mvin %{{.*}}[%{{.*}}, %{{.*}}] to sp[%{{.*}}] size[%{{.*}}, %{{.*}}] : memref<64x32xf32>
  // CHECK: hwacc.mvin %{{.*}}[%{{.*}}, %{{.*}}] to acc[%{{.*}}] size[%{{.*}}, %{{.*}}] : memref<64x48xf32>
  // CHECK: hwacc.preload sp[%{{.*}}] acc[%{{.*}}] size[%{{.*}}, %{{.*}}] accumulate %{{.*}}
  // CHECK: hwacc.compute sp[%{{.*}}] size[%{{.*}}, %{{.*}}]
  // CHECK: hwacc.mvout %{{.*}}[%{{.*}}, %{{.*}}] from acc[%{{.*}}] size[%{{.*}}, %{{.*}}] : memref<64x48xf32>
  // CHECK: hwacc.fence
  func.func @low(%A: memref<64x32xf32>, %C: memref<64x48xf32>) {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c256 = arith.constant 256 : index
    %true = arith.constant true
    hwacc.config dataflow "ws" elem f32 out f32 scale 1.0 relu false
    hwacc.mvin %A[%c0, %c0] to sp[%c0] size [%c16, %c16] : memref<64x32xf32>
    hwacc.mvin %C[%c0, %c0] to acc[%c0] size [%c16, %c16] : memref<64x48xf32>
    hwacc.preload sp[%c256] acc[%c0] size [%c16, %c16] accumulate %true
    hwacc.compute sp[%c0] size [%c16, %c16]
    hwacc.mvout %C[%c0, %c0] from acc[%c0] size [%c16, %c16] : memref<64x48xf32>
    hwacc.fence
    return
  }
}
