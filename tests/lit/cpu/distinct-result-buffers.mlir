// hatc-distinct-result-buffers: after bufferization, a returned memref that
// is a function argument, or that the return lists again, is copied into an
// allocation of its own, so buffer-results-to-out-params (whose
// hoist-static-allocs crashed on both in MLIR 19) sees one allocation per
// result. Others are left as they are.
// RUN: hatc-opt %s --hatc-distinct-result-buffers | FileCheck %s
// RUN: hatc-opt %s --hatc-distinct-result-buffers --buffer-results-to-out-params=hoist-static-allocs | FileCheck %s --check-prefix=OUT

// CHECK-LABEL: func.func @input_and_twice(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<4x4xf32>
// CHECK: %[[C:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
// CHECK: linalg.matmul
// CHECK: %[[COPYA:.*]] = memref.alloc() : memref<4x4xf32>
// CHECK-NEXT: memref.copy %[[A]], %[[COPYA]]
// CHECK-NEXT: %[[COPYC:.*]] = memref.alloc() : memref<4x4xf32>
// CHECK-NEXT: memref.copy %[[C]], %[[COPYC]]
// CHECK-NEXT: return %[[COPYA]], %[[C]], %[[COPYC]]
// OUT-LABEL: func.func @input_and_twice(
// OUT-SAME: %[[A:[a-z0-9]+]]: memref<4x4xf32>, %{{.*}}: memref<4x4xf32>, %[[O0:[a-z0-9]+]]: memref<4x4xf32>, %[[O1:[a-z0-9]+]]: memref<4x4xf32>, %[[O2:[a-z0-9]+]]: memref<4x4xf32>)
// OUT: linalg.matmul {{.*}} outs(%[[O1]] : memref<4x4xf32>)
// OUT: memref.copy %[[A]], %[[O0]]
// OUT: memref.copy %[[O1]], %[[O2]]
// OUT: return
func.func @input_and_twice(%a: memref<4x4xf32>, %b: memref<4x4xf32>)
    -> (memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() {alignment = 64 : i64} : memref<4x4xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<4x4xf32>)
  linalg.matmul ins(%a, %b : memref<4x4xf32>, memref<4x4xf32>)
      outs(%c : memref<4x4xf32>)
  return %a, %c, %c : memref<4x4xf32>, memref<4x4xf32>, memref<4x4xf32>
}

// A dynamic size is read off the value copied.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<?x8xf32>
// CHECK: %[[N:.*]] = memref.dim %[[X]], %c0
// CHECK-NEXT: %[[COPY:.*]] = memref.alloc(%[[N]]) : memref<?x8xf32>
// CHECK-NEXT: memref.copy %[[X]], %[[COPY]]
// CHECK-NEXT: return %[[COPY]]
func.func @dynamic(%x: memref<?x8xf32>) -> memref<?x8xf32> {
  return %x : memref<?x8xf32>
}

// One allocation returned once, and a non-memref: nothing to do.
// CHECK-LABEL: func.func @fresh(
// CHECK-NOT: memref.copy
// CHECK: return %{{.*}}, %{{.*}} : memref<4xf32>, index
func.func @fresh(%n: index) -> (memref<4xf32>, index) {
  %r = memref.alloc() : memref<4xf32>
  return %r, %n : memref<4xf32>, index
}
