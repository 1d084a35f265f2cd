// RUN: hatc-opt %s --split-input-file --hatc-shrink-live-ranges | FileCheck %s

// Two temporaries allocated at the top and freed at the end: each now
// lives from its first use to its last, so %b can take %a's memory.
// CHECK-LABEL: func.func @chain
// CHECK-NEXT: %[[ZERO:.*]] = arith.constant
// CHECK-NEXT: %[[A:.*]] = memref.alloc()
// CHECK-NEXT: linalg.fill ins(%[[ZERO]] : f32) outs(%[[A]]
// CHECK-NEXT: linalg.copy ins(%[[A]] {{.*}} outs(%arg0
// CHECK-NEXT: memref.dealloc %[[A]]
// CHECK-NEXT: %[[B:.*]] = memref.alloc()
// CHECK-NEXT: linalg.copy ins(%arg0 {{.*}} outs(%[[B]]
// CHECK-NEXT: linalg.copy ins(%[[B]] {{.*}} outs(%arg1
// CHECK-NEXT: memref.dealloc %[[B]]
// CHECK-NEXT: return
func.func @chain(%x: memref<64xf32>, %y: memref<64xf32>) {
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<64xf32>
  %b = memref.alloc() : memref<64xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<64xf32>)
  linalg.copy ins(%a : memref<64xf32>) outs(%x : memref<64xf32>)
  linalg.copy ins(%x : memref<64xf32>) outs(%b : memref<64xf32>)
  linalg.copy ins(%b : memref<64xf32>) outs(%y : memref<64xf32>)
  memref.dealloc %a : memref<64xf32>
  memref.dealloc %b : memref<64xf32>
  return
}

// -----

// A padded buffer's zero fill moves down with its alloc; a view of the
// buffer read later (in a loop) keeps it alive until that loop ends.
// CHECK-LABEL: func.func @view_in_loop
// CHECK: linalg.copy ins(%arg0 {{.*}} outs(%arg1
// CHECK-NEXT: %[[P:.*]] = memref.alloc()
// CHECK-NEXT: linalg.fill {{.*}} outs(%[[P]]
// CHECK-NEXT: %[[V:.*]] = memref.subview %[[P]]
// CHECK-NEXT: linalg.copy ins(%arg0 {{.*}} outs(%[[V]]
// CHECK-NEXT: scf.for
// CHECK: memref.load %[[V]]
// CHECK: }
// CHECK-NEXT: memref.dealloc %[[P]]
// CHECK-NEXT: linalg.copy ins(%arg1
// CHECK-NEXT: return
func.func @view_in_loop(%x: memref<8xf32>, %y: memref<8xf32>, %z: memref<8xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %p = memref.alloc() : memref<10xf32>
  linalg.fill ins(%zero : f32) outs(%p : memref<10xf32>)
  linalg.copy ins(%x : memref<8xf32>) outs(%y : memref<8xf32>)
  %v = memref.subview %p[1] [8] [1] : memref<10xf32> to memref<8xf32, strided<[1], offset: 1>>
  linalg.copy ins(%x : memref<8xf32>) outs(%v : memref<8xf32, strided<[1], offset: 1>>)
  scf.for %i = %c0 to %c8 step %c1 {
    %e = memref.load %v[%i] : memref<8xf32, strided<[1], offset: 1>>
    memref.store %e, %z[%i] : memref<8xf32>
  }
  linalg.copy ins(%y : memref<8xf32>) outs(%z : memref<8xf32>)
  memref.dealloc %p : memref<10xf32>
  return
}

// -----

// A buffer passed to a call, or whose address is taken as an integer,
// may be used after that op: its dealloc stays at the end. The alloc
// still moves down to its first use.
func.func private @keep(memref<16xf32>)
// CHECK-LABEL: func.func @escapes
// CHECK-NEXT: %[[C:.*]] = memref.alloc()
// CHECK-NEXT: call @keep(%[[C]])
// CHECK-NEXT: %[[D:.*]] = memref.alloc()
// CHECK-NEXT: memref.extract_aligned_pointer_as_index %[[D]]
// CHECK-NEXT: linalg.copy
// CHECK-NEXT: memref.dealloc %[[C]]
// CHECK-NEXT: memref.dealloc %[[D]]
// CHECK-NEXT: return
func.func @escapes(%x: memref<16xf32>, %y: memref<16xf32>) -> index {
  %c = memref.alloc() : memref<16xf32>
  %d = memref.alloc() : memref<16xf32>
  call @keep(%c) : (memref<16xf32>) -> ()
  %addr = memref.extract_aligned_pointer_as_index %d : memref<16xf32> -> index
  linalg.copy ins(%x : memref<16xf32>) outs(%y : memref<16xf32>)
  memref.dealloc %c : memref<16xf32>
  memref.dealloc %d : memref<16xf32>
  return %addr : index
}

// -----

// A dealloc in another block than its alloc (a conditional free) stays,
// and nothing moves across a block boundary.
// CHECK-LABEL: func.func @other_block
// CHECK: %[[A:.*]] = memref.alloc()
// CHECK-NEXT: scf.if
// CHECK-NEXT: linalg.copy ins(%[[A]]
// CHECK-NEXT: }
// CHECK-NEXT: linalg.copy ins(%arg0
// CHECK-NEXT: scf.if
// CHECK-NEXT: memref.dealloc %[[A]]
func.func @other_block(%x: memref<4xf32>, %y: memref<4xf32>, %cond: i1) {
  %a = memref.alloc() : memref<4xf32>
  scf.if %cond {
    linalg.copy ins(%a : memref<4xf32>) outs(%y : memref<4xf32>)
  }
  linalg.copy ins(%x : memref<4xf32>) outs(%y : memref<4xf32>)
  scf.if %cond {
    memref.dealloc %a : memref<4xf32>
  }
  return
}
