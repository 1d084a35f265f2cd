// hatc-x86-dot-products: an i8 matmul contraction with a k group of 4
// becomes vpdpbusd per row and 16 columns (A shifted to unsigned, B's
// column sums times 128, summed over the groups, subtracted once), a bf16 one with a k group of 2
// vdpbf16ps; with the instruction set off, or a shape the instructions do
// not take, the contraction stays for the generic lowering.
// RUN: hatc-opt %s --hatc-x86-dot-products="features=avx512vnni,avx512bf16" | FileCheck %s
// RUN: hatc-opt %s --hatc-x86-dot-products="features=" | FileCheck %s --check-prefix=OFF
// RUN: not hatc-opt %s --hatc-x86-dot-products="features=avx512vnni,amx" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: unknown feature 'amx' (expected host, or avx512vnni and avx512bf16)

#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (k, n)>
#out = affine_map<(m, n, k) -> (m, n)>
#trans = affine_map<(m, n, k) -> (n, k)>

// CHECK-LABEL: func.func @i8
// CHECK-NOT: vector.contract
// CHECK: vector.shuffle
// The compensation of the first k group: 0x80 bytes dotted with B's packed
// columns, for each of the two column blocks.
// CHECK: %[[COMP0:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[SIGN:.*]], %[[B0:.*]]) : (vector<16xi32>, vector<16xi32>, vector<16xi32>) -> vector<16xi32>
// CHECK: %[[COMP1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[SIGN]], %[[B1:.*]])
// A's word broadcast, then shifted to unsigned bytes on the vector.
// CHECK: %[[A:.*]] = vector.broadcast %{{.*}} : i32 to vector<16xi32>
// CHECK: %[[SPLAT:.*]] = arith.xori %[[A]], %[[SIGN]] : vector<16xi32>
// CHECK-NOT: arith.subi
// CHECK: %[[ROW0:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[SPLAT]], %[[B0]])
// CHECK-NOT: arith.subi
// The second group's sums add to the first's: one running sum per block.
// CHECK: %[[SUM0:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[COMP0]], %[[SIGN]], %{{.*}})
// CHECK: %[[SUM1:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[COMP1]], %[[SIGN]], %{{.*}})
// CHECK-NOT: arith.subi
// CHECK: %[[LAST:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%[[ROW0]], %{{.*}}, %{{.*}})
// 2 rows x 2 column blocks x 2 k groups, and 2 blocks x 2 groups of sums:
// 12 in all, 6 of them matched above.
// CHECK-COUNT-3: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT: llvm.call_intrinsic
// Each accumulator pays for the sums once, after its last dot.
// CHECK: arith.subi %[[LAST]], %[[SUM0]] : vector<16xi32>
// CHECK-NEXT: arith.subi %{{.*}}, %[[SUM1]] : vector<16xi32>
// CHECK-NEXT: arith.subi %{{.*}}, %[[SUM0]] : vector<16xi32>
// CHECK-NEXT: arith.subi %{{.*}}, %[[SUM1]] : vector<16xi32>
// CHECK-NOT: arith.subi
// CHECK: return
// OFF-LABEL: func.func @i8
// OFF: vector.contract
// OFF-NOT: llvm.call_intrinsic
func.func @i8(%a: vector<2x8xi8>, %b: vector<8x32xi8>, %c: vector<2x32xi32>) -> vector<2x32xi32> {
  %ae = arith.extsi %a : vector<2x8xi8> to vector<2x8xi32>
  %be = arith.extsi %b : vector<8x32xi8> to vector<8x32xi32>
  %r = vector.contract {indexing_maps = [#lhs, #rhs, #out],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %be, %c
       : vector<2x8xi32>, vector<8x32xi32> into vector<2x32xi32>
  return %r : vector<2x32xi32>
}

// CHECK-LABEL: func.func @bf16
// CHECK-NOT: vector.contract
// CHECK: %[[B:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31] : vector<16xbf16>, vector<16xbf16>
// CHECK: %[[A:.*]] = vector.bitcast %{{.*}} : vector<16xi32> to vector<32xbf16>
// CHECK: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"(%{{.*}}, %[[A]], %[[B]]) : (vector<16xf32>, vector<32xbf16>, vector<32xbf16>) -> vector<16xf32>
// CHECK-COUNT-2: llvm.call_intrinsic "llvm.x86.avx512bf16.dpbf16ps.512"
// CHECK-NOT: llvm.call_intrinsic
// CHECK: return
func.func @bf16(%a: vector<3x2xbf16>, %b: vector<2x16xbf16>, %c: vector<3x16xf32>) -> vector<3x16xf32> {
  %ae = arith.extf %a : vector<3x2xbf16> to vector<3x2xf32>
  %be = arith.extf %b : vector<2x16xbf16> to vector<2x16xf32>
  %r = vector.contract {indexing_maps = [#lhs, #rhs, #out],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %be, %c
       : vector<3x2xf32>, vector<2x16xf32> into vector<3x16xf32>
  return %r : vector<3x16xf32>
}

// One row (a strided conv's unrolled register tile): c(n) += a(k) B(k, n),
// as the first row of a matrix.
// CHECK-LABEL: func.func @i8_row
// CHECK-NOT: vector.contract
// CHECK: %[[COMP:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK: %[[ROW:.*]] = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xi32>, vector<16xi32>, vector<16xi32>) -> vector<16xi32>
// CHECK-NOT: llvm.call_intrinsic
// CHECK: %[[SUB:.*]] = arith.subi %[[ROW]], %[[COMP]] : vector<16xi32>
// CHECK: return %{{.*}} : vector<16xi32>
func.func @i8_row(%a: vector<4xi8>, %b: vector<4x16xi8>, %c: vector<16xi32>) -> vector<16xi32> {
  %ae = arith.extsi %a : vector<4xi8> to vector<4xi32>
  %be = arith.extsi %b : vector<4x16xi8> to vector<4x16xi32>
  %r = vector.contract {indexing_maps = [affine_map<(n, k) -> (k)>, affine_map<(n, k) -> (k, n)>, affine_map<(n, k) -> (n)>],
                        iterator_types = ["parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %be, %c
       : vector<4xi32>, vector<4x16xi32> into vector<16xi32>
  return %r : vector<16xi32>
}

// K not a multiple of the group, a transposed B, f32 operands: left alone.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-3: vector.contract
// CHECK-NOT: llvm.call_intrinsic
func.func @left_alone(%a: vector<2x6xi8>, %b: vector<6x16xi8>, %c: vector<2x16xi32>,
                      %bt: vector<16x8xi8>, %a8: vector<2x8xi8>,
                      %f: vector<2x4xf32>, %g: vector<4x16xf32>, %h: vector<2x16xf32>)
    -> (vector<2x16xi32>, vector<2x16xi32>, vector<2x16xf32>) {
  %ae = arith.extsi %a : vector<2x6xi8> to vector<2x6xi32>
  %be = arith.extsi %b : vector<6x16xi8> to vector<6x16xi32>
  %r = vector.contract {indexing_maps = [#lhs, #rhs, #out],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %be, %c
       : vector<2x6xi32>, vector<6x16xi32> into vector<2x16xi32>
  %a8e = arith.extsi %a8 : vector<2x8xi8> to vector<2x8xi32>
  %bte = arith.extsi %bt : vector<16x8xi8> to vector<16x8xi32>
  %t = vector.contract {indexing_maps = [#lhs, #trans, #out],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %a8e, %bte, %c
       : vector<2x8xi32>, vector<16x8xi32> into vector<2x16xi32>
  %s = vector.contract {indexing_maps = [#lhs, #rhs, #out],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %f, %g, %h
       : vector<2x4xf32>, vector<4x16xf32> into vector<2x16xf32>
  return %r, %t, %s : vector<2x16xi32>, vector<2x16xi32>, vector<2x16xf32>
}

// B packed in k groups (a cpu_matmul panel: N/nr x K/g x nr x g), the
// register tile's unit dims between (m, n/nr, k/g, n%nr, k%g): each block
// of 16 columns and one k group is one 64-byte load of the panel, no
// shuffles; two groups a contraction, the sign sums subtracted once.
// CHECK-LABEL: func.func @i8_packed
// CHECK-NOT: vector.shuffle
// CHECK: %[[G0C0:.*]] = vector.load %arg1[%arg3, %arg4, %arg5, %c0] : memref<2x8x32x4xi8>, vector<64xi8>
// CHECK: vector.bitcast %[[G0C0]] : vector<64xi8> to vector<16xi32>
// CHECK: %[[C16:.*]] = arith.addi %arg5, %c16 : index
// CHECK: vector.load %arg1[%arg3, %arg4, %[[C16]], %c0] : memref<2x8x32x4xi8>, vector<64xi8>
// CHECK: %[[G1:.*]] = arith.addi %arg4, %c1 : index
// CHECK: vector.load %arg1[%arg3, %[[G1]], %arg5, %c0] : memref<2x8x32x4xi8>, vector<64xi8>
// 3 rows x 2 blocks x 2 groups, and 2 blocks x 2 groups of sums: 16, the
// second group's 8 after its first load.
// CHECK-COUNT-8: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT: llvm.call_intrinsic
// CHECK-COUNT-6: arith.subi
// CHECK-NOT: arith.subi
// CHECK-NOT: vector.shuffle
// CHECK: return
// OFF-LABEL: func.func @i8_packed
// OFF: vector.contract
#pl = affine_map<(m, no, ko, ni, ki) -> (m, ko, ki)>
#pr = affine_map<(m, no, ko, ni, ki) -> (no, ko, ni, ki)>
#po = affine_map<(m, no, ko, ni, ki) -> (m, no, ni)>
func.func @i8_packed(%a: memref<3x8x4xi8>, %b: memref<2x8x32x4xi8>, %c: vector<3x1x32xi32>,
                     %p: index, %g: index, %n: index) -> vector<3x1x32xi32> {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0 : i8
  %av = vector.transfer_read %a[%c0, %g, %c0], %z {in_bounds = [true, true, true]} : memref<3x8x4xi8>, vector<3x2x4xi8>
  %bv = vector.transfer_read %b[%p, %g, %n, %c0], %z {in_bounds = [true, true, true]} : memref<2x8x32x4xi8>, vector<2x32x4xi8>
  %ae = arith.extsi %av : vector<3x2x4xi8> to vector<3x2x4xi32>
  %be = arith.extsi %bv : vector<2x32x4xi8> to vector<2x32x4xi32>
  %bb = vector.broadcast %be : vector<2x32x4xi32> to vector<1x2x32x4xi32>
  %r = vector.contract {indexing_maps = [#pl, #pr, #po],
                        iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %bb, %c
       : vector<3x2x4xi32>, vector<1x2x32x4xi32> into vector<3x1x32xi32>
  return %r : vector<3x1x32xi32>
}

// A packed B that is not read from a contiguous panel (a function
// argument, a panel whose group is not its minor dim) stays a contraction.
// CHECK-LABEL: func.func @packed_left_alone
// CHECK-COUNT-2: vector.contract
// CHECK-NOT: llvm.call_intrinsic
func.func @packed_left_alone(%a: vector<3x4xi8>, %b: vector<32x4xi8>, %c: vector<3x32xi32>,
                             %m: memref<32x8xi8>) -> (vector<3x32xi32>, vector<3x32xi32>) {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0 : i8
  %ae = arith.extsi %a : vector<3x4xi8> to vector<3x4xi32>
  %be = arith.extsi %b : vector<32x4xi8> to vector<32x4xi32>
  %r = vector.contract {indexing_maps = [#lhs, #trans, #out],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %be, %c
       : vector<3x4xi32>, vector<32x4xi32> into vector<3x32xi32>
  %wide = vector.transfer_read %m[%c0, %c0], %z {in_bounds = [true, true]} : memref<32x8xi8>, vector<32x4xi8>
  %we = arith.extsi %wide : vector<32x4xi8> to vector<32x4xi32>
  %s = vector.contract {indexing_maps = [#lhs, #trans, #out],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %we, %c
       : vector<3x4xi32>, vector<32x4xi32> into vector<3x32xi32>
  return %r, %s : vector<3x32xi32>, vector<3x32xi32>
}

// B shifted by hatc-x86-dot-row-sums (zero-extended from its bytes xor
// 0x80): each loaded block is flipped back to b + 128 and takes the
// unsigned side, A's broadcast words the signed one; no compensation, no
// shift of A.
// CHECK-LABEL: func.func @i8_packed_flipped
// CHECK: %[[SIGN:.*]] = arith.constant dense<-2139062144> : vector<16xi32>
// CHECK: %[[LOAD:.*]] = vector.load %arg1
// CHECK: %[[WORDS:.*]] = vector.bitcast %[[LOAD]] : vector<64xi8> to vector<16xi32>
// CHECK: %[[FLIP:.*]] = arith.xori %[[WORDS]], %[[SIGN]] : vector<16xi32>
// CHECK: %[[A:.*]] = vector.broadcast %{{.*}} : i32 to vector<16xi32>
// CHECK-NOT: arith.xori %[[A]]
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[FLIP]], %[[A]])
// 3 rows x 2 blocks x 2 groups: 12, nothing for compensation.
// CHECK-COUNT-11: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
// CHECK-NOT: llvm.call_intrinsic
// CHECK-NOT: arith.subi
// CHECK: return
func.func @i8_packed_flipped(%a: memref<3x8x4xi8>, %b: memref<2x8x32x4xi8>, %c: vector<3x1x32xi32>,
                             %p: index, %g: index, %n: index) -> vector<3x1x32xi32> {
  %c0 = arith.constant 0 : index
  %z = arith.constant 0 : i8
  %sign = arith.constant dense<-128> : vector<2x32x4xi8>
  %av = vector.transfer_read %a[%c0, %g, %c0], %z {in_bounds = [true, true, true]} : memref<3x8x4xi8>, vector<3x2x4xi8>
  %bv = vector.transfer_read %b[%p, %g, %n, %c0], %z {in_bounds = [true, true, true]} : memref<2x8x32x4xi8>, vector<2x32x4xi8>
  %ae = arith.extsi %av : vector<3x2x4xi8> to vector<3x2x4xi32>
  %bf = arith.xori %bv, %sign : vector<2x32x4xi8>
  %be = arith.extui %bf : vector<2x32x4xi8> to vector<2x32x4xi32>
  %bb = vector.broadcast %be : vector<2x32x4xi32> to vector<1x2x32x4xi32>
  %r = vector.contract {indexing_maps = [#pl, #pr, #po],
                        iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %bb, %c
       : vector<3x2x4xi32>, vector<1x2x32x4xi32> into vector<3x1x32xi32>
  return %r : vector<3x1x32xi32>
}

// Unsigned A (zero-extended: u8 activations) takes the unsigned side as it
// is; two unsigned operands are left to the generic lowering.
// CHECK-LABEL: func.func @u8_s8
// CHECK-NOT: arith.xori
// CHECK: %[[A:.*]] = vector.broadcast %{{.*}} : i32 to vector<16xi32>
// CHECK-NEXT: llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"(%{{.*}}, %[[A]], %{{.*}})
// CHECK-NOT: arith.subi
// CHECK: vector.contract
// CHECK: return
func.func @u8_s8(%a: vector<1x4xi8>, %b: vector<4x16xi8>, %c: vector<1x16xi32>) -> (vector<1x16xi32>, vector<1x16xi32>) {
  %ae = arith.extui %a : vector<1x4xi8> to vector<1x4xi32>
  %be = arith.extsi %b : vector<4x16xi8> to vector<4x16xi32>
  %bu = arith.extui %b : vector<4x16xi8> to vector<4x16xi32>
  %r = vector.contract {indexing_maps = [#lhs, #rhs, #out],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %be, %c
       : vector<1x4xi32>, vector<4x16xi32> into vector<1x16xi32>
  %s = vector.contract {indexing_maps = [#lhs, #rhs, #out],
                        iterator_types = ["parallel", "parallel", "reduction"],
                        kind = #vector.kind<add>} %ae, %bu, %c
       : vector<1x4xi32>, vector<4x16xi32> into vector<1x16xi32>
  return %r, %s : vector<1x16xi32>, vector<1x16xi32>
}
