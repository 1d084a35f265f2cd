// hatc-defer-accumulator-reads: a register tile carried by its k loop
// starts from zero, its C lines are prefetched before the loop, and C's
// old values are read and added after it. Loops that do anything but add
// to the tile are left alone.
// RUN: hatc-opt %s --split-input-file --hatc-defer-accumulator-reads | FileCheck %s
//
// In the CPU pipeline: the default schedule of BERT's FFN matmul
// prefetches its register tiles' lines for writing before their k loop
// (16 on AVX-512: 4 rows x 4 lines), and still matches the reference.
// RUN: hatc compile %examples/bert_ffn_matmul.mlir --emit asm | FileCheck %s --check-prefix=ASM
// ASM: prefetchw
// ASM: vfmadd231ps
// RUN: hatc run %examples/bert_ffn_matmul.mlir --repeat 2 --check | FileCheck %s --check-prefix=OK
// OK: correct

// The form cpu_matmul's register tile takes after the contraction is
// lowered: rows extracted, an FMA each, inserted back into a fresh vector.
// CHECK-LABEL: func.func @fma_rows
// CHECK: memref.prefetch %[[C:.*]][%[[I:.*]], %[[J:.*]]], write, locality<3>, data
// CHECK: %[[I1:.*]] = arith.addi %[[I]], %{{.*}} : index
// CHECK: memref.prefetch %[[C]][%[[I1]], %[[J]]], write, locality<3>, data
// CHECK: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : vector<2x16xf32>
// CHECK: %[[SUM:.*]] = scf.for {{.*}} iter_args(%{{.*}} = %[[ZERO]])
// CHECK: vector.fma
// CHECK: vector.fma
// CHECK: }
// CHECK: %[[OLD:.*]] = vector.transfer_read %[[C]][%[[I]], %[[J]]]
// CHECK: %[[NEW:.*]] = arith.addf %[[SUM]], %[[OLD]] : vector<2x16xf32>
// CHECK: vector.transfer_write %[[NEW]], %[[C]][%[[I]], %[[J]]]
func.func @fma_rows(%a: memref<2x64xf32>, %b: memref<64x16xf32>,
                    %c: memref<64x16xf32>, %i: index, %j: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f0 = arith.constant 0.0 : f32
  %empty = arith.constant dense<0.0> : vector<2x16xf32>
  %init = vector.transfer_read %c[%i, %j], %f0 {in_bounds = [true, true]} : memref<64x16xf32>, vector<2x16xf32>
  %r = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (vector<2x16xf32>) {
    %brow = vector.transfer_read %b[%k, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
    %a0 = memref.load %a[%c0, %k] : memref<2x64xf32>
    %a1 = memref.load %a[%c1, %k] : memref<2x64xf32>
    %s0 = vector.broadcast %a0 : f32 to vector<16xf32>
    %s1 = vector.broadcast %a1 : f32 to vector<16xf32>
    %r0 = vector.extract %acc[0] : vector<16xf32> from vector<2x16xf32>
    %r1 = vector.extract %acc[1] : vector<16xf32> from vector<2x16xf32>
    %f0v = vector.fma %brow, %s0, %r0 : vector<16xf32>
    %f1v = vector.fma %brow, %s1, %r1 : vector<16xf32>
    %w0 = vector.insert %f0v, %empty [0] : vector<16xf32> into vector<2x16xf32>
    %w1 = vector.insert %f1v, %w0 [1] : vector<16xf32> into vector<2x16xf32>
    scf.yield %w1 : vector<2x16xf32>
  }
  vector.transfer_write %r, %c[%i, %j] {in_bounds = [true, true]} : vector<2x16xf32>, memref<64x16xf32>
  return
}

// -----

// Rows swapped on the way back: row 0 of the result adds to row 1 of the
// start. Not an accumulation in place: left alone.
// CHECK-LABEL: func.func @rows_swapped
// CHECK-NOT: memref.prefetch
// CHECK: %[[INIT:.*]] = vector.transfer_read
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @rows_swapped(%b: memref<64x16xf32>, %c: memref<64x16xf32>, %i: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f0 = arith.constant 0.0 : f32
  %empty = arith.constant dense<0.0> : vector<2x16xf32>
  %init = vector.transfer_read %c[%i, %c0], %f0 {in_bounds = [true, true]} : memref<64x16xf32>, vector<2x16xf32>
  %r = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (vector<2x16xf32>) {
    %brow = vector.transfer_read %b[%k, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
    %r0 = vector.extract %acc[0] : vector<16xf32> from vector<2x16xf32>
    %r1 = vector.extract %acc[1] : vector<16xf32> from vector<2x16xf32>
    %f0v = arith.addf %r0, %brow : vector<16xf32>
    %f1v = arith.addf %r1, %brow : vector<16xf32>
    %w0 = vector.insert %f1v, %empty [0] : vector<16xf32> into vector<2x16xf32>
    %w1 = vector.insert %f0v, %w0 [1] : vector<16xf32> into vector<2x16xf32>
    scf.yield %w1 : vector<2x16xf32>
  }
  vector.transfer_write %r, %c[%i, %c0] {in_bounds = [true, true]} : vector<2x16xf32>, memref<64x16xf32>
  return
}

// -----

// A running maximum (pooling) is not a sum.
// CHECK-LABEL: func.func @running_max
// CHECK-NOT: memref.prefetch
// CHECK: %[[INIT:.*]] = vector.transfer_read
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @running_max(%b: memref<64x16xf32>, %c: memref<64x16xf32>, %i: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f0 = arith.constant 0.0 : f32
  %init = vector.transfer_read %c[%i, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
  %r = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (vector<16xf32>) {
    %brow = vector.transfer_read %b[%k, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
    %m = arith.maximumf %acc, %brow : vector<16xf32>
    scf.yield %m : vector<16xf32>
  }
  vector.transfer_write %r, %c[%i, %c0] {in_bounds = [true]} : vector<16xf32>, memref<64x16xf32>
  return
}

// -----

// The loop writes memory (it could be C itself): left alone.
// CHECK-LABEL: func.func @loop_writes
// CHECK-NOT: memref.prefetch
// CHECK: %[[INIT:.*]] = vector.transfer_read
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @loop_writes(%b: memref<64x16xf32>, %c: memref<64x16xf32>, %i: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f0 = arith.constant 0.0 : f32
  %init = vector.transfer_read %c[%i, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
  %r = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (vector<16xf32>) {
    %brow = vector.transfer_read %b[%k, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
    %s = arith.addf %acc, %brow : vector<16xf32>
    vector.transfer_write %s, %b[%k, %c0] {in_bounds = [true]} : vector<16xf32>, memref<64x16xf32>
    scf.yield %s : vector<16xf32>
  }
  vector.transfer_write %r, %c[%i, %c0] {in_bounds = [true]} : vector<16xf32>, memref<64x16xf32>
  return
}

// -----

// Written back somewhere else than it was read: left alone.
// CHECK-LABEL: func.func @written_elsewhere
// CHECK-NOT: memref.prefetch
// CHECK: %[[INIT:.*]] = vector.transfer_read
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @written_elsewhere(%b: memref<64x16xf32>, %c: memref<64x16xf32>, %i: index, %i2: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f0 = arith.constant 0.0 : f32
  %init = vector.transfer_read %c[%i, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
  %r = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (vector<16xf32>) {
    %brow = vector.transfer_read %b[%k, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
    %s = arith.addf %acc, %brow : vector<16xf32>
    scf.yield %s : vector<16xf32>
  }
  vector.transfer_write %r, %c[%i2, %c0] {in_bounds = [true]} : vector<16xf32>, memref<64x16xf32>
  return
}

// -----

// C is written between the read and the loop (two matmuls of an LSTM step
// share their initial buffer; the first writes it before the second's
// loop): the value read first is not what C holds after the loop. Left
// alone.
// CHECK-LABEL: func.func @written_in_between
// CHECK-NOT: memref.prefetch
// CHECK: %[[INIT:.*]] = vector.transfer_read %[[C:[a-z0-9_]+]][
// CHECK: vector.transfer_write %{{.*}}, %[[C]][
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %[[INIT]])
func.func @written_in_between(%b: memref<64x16xf32>, %c: memref<64x16xf32>, %i: index, %v: vector<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %f0 = arith.constant 0.0 : f32
  %init = vector.transfer_read %c[%i, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
  vector.transfer_write %v, %c[%i, %c0] {in_bounds = [true]} : vector<16xf32>, memref<64x16xf32>
  %r = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (vector<16xf32>) {
    %brow = vector.transfer_read %b[%k, %c0], %f0 {in_bounds = [true]} : memref<64x16xf32>, vector<16xf32>
    %s = arith.addf %acc, %brow : vector<16xf32>
    scf.yield %s : vector<16xf32>
  }
  vector.transfer_write %r, %c[%i, %c0] {in_bounds = [true]} : vector<16xf32>, memref<64x16xf32>
  return
}

// -----

// i32 accumulators (VNNI's register tiles) start from zero too.
// CHECK-LABEL: func.func @int_sum
// CHECK: memref.prefetch
// CHECK: scf.for
// CHECK: arith.addi %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK: }
// CHECK: %[[OLD:.*]] = vector.transfer_read
// CHECK: arith.addi %{{.*}}, %[[OLD]] : vector<16xi32>
func.func @int_sum(%b: memref<64x16xi32>, %c: memref<64x16xi32>, %i: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %z = arith.constant 0 : i32
  %init = vector.transfer_read %c[%i, %c0], %z {in_bounds = [true]} : memref<64x16xi32>, vector<16xi32>
  %r = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %init) -> (vector<16xi32>) {
    %brow = vector.transfer_read %b[%k, %c0], %z {in_bounds = [true]} : memref<64x16xi32>, vector<16xi32>
    %s = arith.addi %brow, %acc : vector<16xi32>
    scf.yield %s : vector<16xi32>
  }
  vector.transfer_write %r, %c[%i, %c0] {in_bounds = [true]} : vector<16xi32>, memref<64x16xi32>
  return
}
