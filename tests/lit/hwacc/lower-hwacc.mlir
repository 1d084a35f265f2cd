// RUN: hatc-opt %s --hatc-lower-hwacc --canonicalize | FileCheck %s

// One 16x16x16 tile: config, A and B blocks in, preload, compute, C out, fence.
// The first k step overwrites (accumulate false); no loops remain, before
// the config or after the fence (the one instruction before the return).
// CHECK-LABEL: func.func @one_tile
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG: %[[FALSE:.*]] = arith.constant false
// CHECK-NOT: scf.
// CHECK: hwacc.config dataflow "ws" elem f32 out f32
// CHECK-NEXT: hwacc.mvin %arg0[%[[C0]], %[[C0]]] to sp[%[[C0]]] size[%[[C16]], %[[C16]]]
// CHECK-NEXT: hwacc.mvin %arg1[%[[C0]], %[[C0]]] to sp[%[[B:.*]]] size[%[[C16]], %[[C16]]]
// CHECK-NEXT: hwacc.preload sp[%[[B]]] acc[%[[C0]]] size[%[[C16]], %[[C16]]] accumulate %[[FALSE]]
// CHECK-NEXT: hwacc.compute sp[%[[C0]]] size[%[[C16]], %[[C16]]]
// CHECK-NEXT: hwacc.mvout %arg2[%[[C0]], %[[C0]]] from acc[%[[C0]]] size[%[[C16]], %[[C16]]]
// CHECK-NEXT: hwacc.fence
// CHECK-NEXT: return
module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 1024>} {
  func.func @one_tile(%A: memref<16x16xf32>, %B: memref<16x16xf32>, %C: memref<16x16xf32>) {
    hwacc.matmul ins(%A, %B : memref<16x16xf32>, memref<16x16xf32>) outs(%C : memref<16x16xf32>) tile [16, 16, 16] dataflow "ws" loop_order "mnk"
    return
  }

  // Odd shapes: edge blocks get their true sizes (min(16, remaining)); the
  // k loop alternates two scratchpad regions; with accumulate, C moves into
  // the accumulator first.
  // CHECK-LABEL: func.func @edges
  // CHECK: scf.for
  // CHECK: arith.minsi
  // CHECK: hwacc.mvin %arg2[{{.*}}] to acc[{{.*}}]
  // CHECK: arith.remui
  // CHECK: hwacc.mvin %arg0
  // CHECK: hwacc.mvin %arg1
  // CHECK: hwacc.preload
  // CHECK: hwacc.compute
  // CHECK: hwacc.mvout %arg2
  // CHECK: hwacc.fence
  func.func @edges(%A: memref<37x21xf32>, %B: memref<21x19xf32>, %C: memref<37x19xf32>) {
    hwacc.matmul ins(%A, %B : memref<37x21xf32>, memref<21x19xf32>) outs(%C : memref<37x19xf32>) tile [32, 32, 16] dataflow "ws" loop_order "mnk" double_buffer accumulate
    return
  }
}
