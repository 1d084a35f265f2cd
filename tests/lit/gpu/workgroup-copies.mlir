// RUN: hatc-opt %s --hatc-gpu-workgroup-copies --split-input-file --verify-diagnostics | FileCheck %s

// The host alloc becomes a workgroup attribution; the copy, a loop over the
// block's threads moving 4-wide chunks (64x16 = 256 chunks of 4).
// CHECK-LABEL: func @promote
// CHECK-NOT: memref.alloc
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[WG:.*]] : memref<64x16xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[TX:.*]] = gpu.thread_id x
// CHECK: %[[BX:.*]] = gpu.block_dim x
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %c256 step %{{.*}} {
// CHECK:   %[[COL:.*]] = arith.muli %{{.*}}, %c4
// CHECK:   %[[ROW:.*]] = arith.divui %[[I]], %c4
// CHECK:   %[[V:.*]] = vector.load %{{.*}}[%[[ROW]], %[[COL]]] : memref<64x16xf32, strided<[1024, 1], offset: ?>>, vector<4xf32>
// CHECK:   vector.store %[[V]], %[[WG]][%[[ROW]], %[[COL]]] : memref<64x16xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK: gpu.barrier
// CHECK-NOT: memref.copy
// CHECK-NOT: memref.dealloc
func.func @promote(%A: memref<1024x1024xf32>, %off: index) {
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %wg = memref.alloc() : memref<64x16xf32, #gpu.address_space<workgroup>>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c16, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%a = %c16, %b = %c16, %c = %c1) {
    %tile = memref.subview %A[%off, 0] [64, 16] [1, 1] : memref<1024x1024xf32> to memref<64x16xf32, strided<[1024, 1], offset: ?>>
    memref.copy %tile, %wg : memref<64x16xf32, strided<[1024, 1], offset: ?>> to memref<64x16xf32, #gpu.address_space<workgroup>>
    gpu.barrier
    gpu.terminator
  }
  memref.dealloc %wg : memref<64x16xf32, #gpu.address_space<workgroup>>
  return
}

// -----

// The launch's hatc.copy_vector_width wins; an innermost size it does not
// divide (6) gets the widest width that does (2): 3x6 = 9 chunks of 2.
// CHECK-LABEL: func @width
// CHECK: scf.for %{{.*}} = %{{.*}} to %c9 step
// CHECK: vector.load {{.*}} vector<2xf32>
func.func @width(%A: memref<3x6xf32>) {
  %c1 = arith.constant 1 : index
  %wg = memref.alloc() : memref<3x6xf32, #gpu.address_space<workgroup>>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%a = %c1, %b = %c1, %c = %c1) {
    memref.copy %A, %wg : memref<3x6xf32> to memref<3x6xf32, #gpu.address_space<workgroup>>
    gpu.terminator
  } {hatc.copy_vector_width = 4 : i64}
  return
}

// -----

// Scalars when the width is 1 (or the innermost stride is not 1).
// CHECK-LABEL: func @scalar
// CHECK: scf.for %{{.*}} = %{{.*}} to %c32 step
// CHECK: memref.load
// CHECK: memref.store
func.func @scalar(%A: memref<4x8xf32, strided<[1, 4]>>) {
  %c1 = arith.constant 1 : index
  %wg = memref.alloc() : memref<4x8xf32, #gpu.address_space<workgroup>>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%a = %c1, %b = %c1, %c = %c1) {
    memref.copy %A, %wg : memref<4x8xf32, strided<[1, 4]>> to memref<4x8xf32, #gpu.address_space<workgroup>>
    gpu.terminator
  }
  return
}

// -----

func.func @outside(%A: memref<4xf32>) {
  // expected-error @below {{workgroup buffer used outside any gpu.launch (by memref.copy)}}
  %wg = memref.alloc() : memref<4xf32, #gpu.address_space<workgroup>>
  memref.copy %A, %wg : memref<4xf32> to memref<4xf32, #gpu.address_space<workgroup>>
  return
}
