// hatc-x86-dot-row-sums: an i8 x i8 -> i32 matmul's register tiles whose C
// starts from a fill take B's bytes shifted (xor 0x80, zero-extended) and
// the fill becomes c - 128 x (the sum of A's row), one row at a time; a
// fill whose tiles read two A, a tile the dot products do not take, or a C
// that does not start from a fill are left alone, and so is everything
// without VNNI.
// RUN: hatc-opt %s --hatc-x86-dot-row-sums="features=avx512vnni" | FileCheck %s
// RUN: hatc-opt %s --hatc-x86-dot-row-sums="features=avx512bf16" | FileCheck %s --check-prefix=OFF
// RUN: not hatc-opt %s --hatc-x86-dot-row-sums="features=amx" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: hatc-x86-dot-row-sums: unknown feature 'amx'

#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (k, n)>
#out = affine_map<(m, n, k) -> (m, n)>

// CHECK-LABEL: func.func @tiles
// CHECK-SAME: (%[[A:.*]]: tensor<16x128xi8>, %[[B:.*]]: tensor<128x32xi8>)
// CHECK-NOT: linalg.fill
// One row at a time: its 128 bytes summed 64 at a time, in i32 lanes.
// CHECK: scf.for %[[R:[a-z0-9_]+]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[T:.*]] = %{{.*}}) -> (tensor<16x32xi32>)
// CHECK: %[[ROW:.*]] = arith.addi %{{.*}}, %[[R]] : index
// CHECK: scf.for {{.*}} -> (vector<64xi32>)
// CHECK: vector.transfer_read %[[A]][%[[ROW]], %{{.*}}], %{{.*}} {in_bounds = [true]} : tensor<16x128xi8>, vector<64xi8>
// CHECK: arith.extsi %{{.*}} : vector<64xi8> to vector<64xi32>
// CHECK: %[[SUM:.*]] = vector.reduction <add>, %{{.*}} : vector<64xi32> into i32
// CHECK: %[[X128:.*]] = arith.shli %[[SUM]], %c7_i32{{.*}} : i32
// CHECK: %[[START:.*]] = arith.subi %[[C5:.*]], %[[X128]] : i32
// CHECK: %[[SPLAT:.*]] = vector.broadcast %[[START]] : i32 to vector<32xi32>
// CHECK: vector.transfer_write %[[SPLAT]], %[[T]][%[[R]], %{{.*}}] {in_bounds = [true]} : vector<32xi32>, tensor<16x32xi32>
// The tiles: A sign-extended, B zero-extended from its bytes xor 0x80.
// CHECK: %[[BB:.*]] = vector.transfer_read %[[B]]
// CHECK: %[[AE:.*]] = arith.extsi
// CHECK: %[[FLIP:.*]] = arith.xori %[[BB]], %{{.*}} : vector<4x32xi8>
// CHECK: %[[BE:.*]] = arith.extui %[[FLIP]] : vector<4x32xi8> to vector<4x32xi32>
// CHECK: vector.contract {{.*}} %[[AE]], %[[BE]], %{{.*}} : vector<8x4xi32>, vector<4x32xi32> into vector<8x32xi32>
// CHECK: return
// OFF-LABEL: func.func @tiles
// OFF: linalg.fill
// OFF-NOT: arith.extui
// OFF: return
func.func @tiles(%a: tensor<16x128xi8>, %b: tensor<128x32xi8>) -> tensor<16x32xi32> {
  %c0 = arith.constant 0 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %c5 = arith.constant 5 : i32
  %z8 = arith.constant 0 : i8
  %z32 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<16x32xi32>
  %f = linalg.fill ins(%c5 : i32) outs(%e : tensor<16x32xi32>) -> tensor<16x32xi32>
  %r = scf.for %i = %c0 to %c16 step %c8 iter_args(%t = %f) -> (tensor<16x32xi32>) {
    %acc = vector.transfer_read %t[%i, %c0], %z32 {in_bounds = [true, true]} : tensor<16x32xi32>, vector<8x32xi32>
    %s = scf.for %k = %c0 to %c128 step %c4 iter_args(%v = %acc) -> (vector<8x32xi32>) {
      %x = vector.transfer_read %a[%i, %k], %z8 {in_bounds = [true, true]} : tensor<16x128xi8>, vector<8x4xi8>
      %y = vector.transfer_read %b[%k, %c0], %z8 {in_bounds = [true, true]} : tensor<128x32xi8>, vector<4x32xi8>
      %xe = arith.extsi %x : vector<8x4xi8> to vector<8x4xi32>
      %ye = arith.extsi %y : vector<4x32xi8> to vector<4x32xi32>
      %n = vector.contract {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xe, %ye, %v : vector<8x4xi32>, vector<4x32xi32> into vector<8x32xi32>
      scf.yield %n : vector<8x32xi32>
    }
    %w = vector.transfer_write %s, %t[%i, %c0] {in_bounds = [true, true]} : vector<8x32xi32>, tensor<16x32xi32>
    scf.yield %w : tensor<16x32xi32>
  }
  return %r : tensor<16x32xi32>
}

// A thread's rows of a packed C (rows x panels x 32), A packed in k groups
// (rows x groups x 4): A read as rows x k, the rows from the thread's
// offset, each row written as one vector of its panels.
// CHECK-LABEL: func.func @thread_rows
// CHECK: scf.forall (%[[TH:.*]]) in (2)
// CHECK: %[[SHIFT:.*]] = affine.apply #{{.*}}(%[[TH]])
// CHECK: %[[FROM:.*]] = arith.addi %{{.*}}, %[[SHIFT]] : index
// CHECK: %[[ROWS:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0], [1, 2]] : tensor<16x32x4xi8> into tensor<16x128xi8>
// CHECK: scf.for %[[R:[a-z0-9_]+]] =
// CHECK: arith.addi %[[FROM]], %[[R]] : index
// CHECK: vector.transfer_read %[[ROWS]]
// CHECK: vector.broadcast %{{.*}} : i32 to vector<2x32xi32>
// CHECK: vector.transfer_write {{.*}} : vector<2x32xi32>, tensor<8x2x32xi32>
// CHECK: arith.extui
// CHECK-NOT: linalg.fill
// CHECK: return
#thread = affine_map<(t) -> (t * 8)>
#plhs = affine_map<(m, p, ko, n, k) -> (m, ko, k)>
#prhs = affine_map<(m, p, ko, n, k) -> (p, ko, n, k)>
#pout = affine_map<(m, p, ko, n, k) -> (m, p, n)>
func.func @thread_rows(%a: tensor<16x32x4xi8>, %b: tensor<2x32x32x4xi8>) -> tensor<16x2x32xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c32 = arith.constant 32 : index
  %z8 = arith.constant 0 : i8
  %z32 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<16x2x32xi32>
  %r = scf.forall (%th) in (2) shared_outs(%o = %e) -> (tensor<16x2x32xi32>) {
    %off = affine.apply #thread(%th)
    %slice = tensor.extract_slice %o[%off, 0, 0] [8, 2, 32] [1, 1, 1] : tensor<16x2x32xi32> to tensor<8x2x32xi32>
    %f = linalg.fill ins(%z32 : i32) outs(%slice : tensor<8x2x32xi32>) -> tensor<8x2x32xi32>
    %p = scf.for %j = %c0 to %c2 step %c1 iter_args(%t = %f) -> (tensor<8x2x32xi32>) {
      %acc = vector.transfer_read %t[%c0, %j, %c0], %z32 {in_bounds = [true, true, true]} : tensor<8x2x32xi32>, vector<8x1x32xi32>
      %s = scf.for %g = %c0 to %c32 step %c1 iter_args(%v = %acc) -> (vector<8x1x32xi32>) {
        %x = vector.transfer_read %a[%off, %g, %c0], %z8 {in_bounds = [true, true, true]} : tensor<16x32x4xi8>, vector<8x1x4xi8>
        %y = vector.transfer_read %b[%j, %g, %c0, %c0], %z8 {in_bounds = [true, true, true, true]} : tensor<2x32x32x4xi8>, vector<1x1x32x4xi8>
        %xe = arith.extsi %x : vector<8x1x4xi8> to vector<8x1x4xi32>
        %ye = arith.extsi %y : vector<1x1x32x4xi8> to vector<1x1x32x4xi32>
        %n = vector.contract {indexing_maps = [#plhs, #prhs, #pout], iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"], kind = #vector.kind<add>} %xe, %ye, %v : vector<8x1x4xi32>, vector<1x1x32x4xi32> into vector<8x1x32xi32>
        scf.yield %n : vector<8x1x32xi32>
      }
      %w = vector.transfer_write %s, %t[%c0, %j, %c0] {in_bounds = [true, true, true]} : vector<8x1x32xi32>, tensor<8x2x32xi32>
      scf.yield %w : tensor<8x2x32xi32>
    }
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %p into %o[%off, 0, 0] [8, 2, 32] [1, 1, 1] : tensor<8x2x32xi32> into tensor<16x2x32xi32>
    }
  }
  return %r : tensor<16x2x32xi32>
}

// Two tiles into one fill reading different A: the fill and both tiles
// stay (the row sums would be of one of them only).
// CHECK-LABEL: func.func @two_a
// CHECK: linalg.fill
// CHECK-NOT: arith.extui
// CHECK: return
func.func @two_a(%a: tensor<8x4xi8>, %a2: tensor<8x4xi8>, %b: tensor<4x32xi8>) -> tensor<8x32xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %z8 = arith.constant 0 : i8
  %z32 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<8x32xi32>
  %f = linalg.fill ins(%z32 : i32) outs(%e : tensor<8x32xi32>) -> tensor<8x32xi32>
  %r = scf.for %i = %c0 to %c1 step %c1 iter_args(%t = %f) -> (tensor<8x32xi32>) {
    %acc = vector.transfer_read %t[%c0, %c0], %z32 {in_bounds = [true, true]} : tensor<8x32xi32>, vector<8x32xi32>
    %x = vector.transfer_read %a[%c0, %c0], %z8 {in_bounds = [true, true]} : tensor<8x4xi8>, vector<8x4xi8>
    %x2 = vector.transfer_read %a2[%c0, %c0], %z8 {in_bounds = [true, true]} : tensor<8x4xi8>, vector<8x4xi8>
    %y = vector.transfer_read %b[%c0, %c0], %z8 {in_bounds = [true, true]} : tensor<4x32xi8>, vector<4x32xi8>
    %xe = arith.extsi %x : vector<8x4xi8> to vector<8x4xi32>
    %x2e = arith.extsi %x2 : vector<8x4xi8> to vector<8x4xi32>
    %ye = arith.extsi %y : vector<4x32xi8> to vector<4x32xi32>
    %n = vector.contract {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xe, %ye, %acc : vector<8x4xi32>, vector<4x32xi32> into vector<8x32xi32>
    %n2 = vector.contract {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %x2e, %ye, %n : vector<8x4xi32>, vector<4x32xi32> into vector<8x32xi32>
    %w = vector.transfer_write %n2, %t[%c0, %c0] {in_bounds = [true, true]} : vector<8x32xi32>, tensor<8x32xi32>
    scf.yield %w : tensor<8x32xi32>
  }
  return %r : tensor<8x32xi32>
}

// A tile the dot products do not take (12 columns: not 16 lanes) beside
// one they do refuses its fill (it would not add A's row sums back); an
// accumulator that does not start from a fill (C passed in) is left alone.
// CHECK-LABEL: func.func @narrow
// CHECK: linalg.fill
// CHECK-NOT: arith.extui
// CHECK: return
func.func @narrow(%a: tensor<8x4xi8>, %b: tensor<4x44xi8>) -> tensor<8x44xi32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %z8 = arith.constant 0 : i8
  %z32 = arith.constant 0 : i32
  %e = tensor.empty() : tensor<8x44xi32>
  %f = linalg.fill ins(%z32 : i32) outs(%e : tensor<8x44xi32>) -> tensor<8x44xi32>
  %r = scf.for %i = %c0 to %c1 step %c1 iter_args(%t = %f) -> (tensor<8x44xi32>) {
    %acc = vector.transfer_read %t[%c0, %c0], %z32 {in_bounds = [true, true]} : tensor<8x44xi32>, vector<8x32xi32>
    %acc2 = vector.transfer_read %t[%c0, %c32], %z32 {in_bounds = [true, true]} : tensor<8x44xi32>, vector<8x12xi32>
    %x = vector.transfer_read %a[%c0, %c0], %z8 {in_bounds = [true, true]} : tensor<8x4xi8>, vector<8x4xi8>
    %y = vector.transfer_read %b[%c0, %c0], %z8 {in_bounds = [true, true]} : tensor<4x44xi8>, vector<4x32xi8>
    %y2 = vector.transfer_read %b[%c0, %c32], %z8 {in_bounds = [true, true]} : tensor<4x44xi8>, vector<4x12xi8>
    %xe = arith.extsi %x : vector<8x4xi8> to vector<8x4xi32>
    %ye = arith.extsi %y : vector<4x32xi8> to vector<4x32xi32>
    %y2e = arith.extsi %y2 : vector<4x12xi8> to vector<4x12xi32>
    %n = vector.contract {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xe, %ye, %acc : vector<8x4xi32>, vector<4x32xi32> into vector<8x32xi32>
    %n2 = vector.contract {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xe, %y2e, %acc2 : vector<8x4xi32>, vector<4x12xi32> into vector<8x12xi32>
    %w = vector.transfer_write %n, %t[%c0, %c0] {in_bounds = [true, true]} : vector<8x32xi32>, tensor<8x44xi32>
    %w2 = vector.transfer_write %n2, %w[%c0, %c32] {in_bounds = [true, true]} : vector<8x12xi32>, tensor<8x44xi32>
    scf.yield %w2 : tensor<8x44xi32>
  }
  return %r : tensor<8x44xi32>
}

// CHECK-LABEL: func.func @accumulate
// CHECK-NOT: arith.extui
// CHECK: return
func.func @accumulate(%a: tensor<8x4xi8>, %b: tensor<4x32xi8>, %c: tensor<8x32xi32>) -> tensor<8x32xi32> {
  %c0 = arith.constant 0 : index
  %z8 = arith.constant 0 : i8
  %z32 = arith.constant 0 : i32
  %acc = vector.transfer_read %c[%c0, %c0], %z32 {in_bounds = [true, true]} : tensor<8x32xi32>, vector<8x32xi32>
  %x = vector.transfer_read %a[%c0, %c0], %z8 {in_bounds = [true, true]} : tensor<8x4xi8>, vector<8x4xi8>
  %y = vector.transfer_read %b[%c0, %c0], %z8 {in_bounds = [true, true]} : tensor<4x32xi8>, vector<4x32xi8>
  %xe = arith.extsi %x : vector<8x4xi8> to vector<8x4xi32>
  %ye = arith.extsi %y : vector<4x32xi8> to vector<4x32xi32>
  %n = vector.contract {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"], kind = #vector.kind<add>} %xe, %ye, %acc : vector<8x4xi32>, vector<4x32xi32> into vector<8x32xi32>
  %w = vector.transfer_write %n, %c[%c0, %c0] {in_bounds = [true, true]} : vector<8x32xi32>, tensor<8x32xi32>
  return %w : tensor<8x32xi32>
}
