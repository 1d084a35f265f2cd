// hatc-prefetch-weights: a micro-kernel reading a block of a large
// constant (packed weights) prefetches, one line a step, the next block
// into L2, so that only the first register tile on a block waits for it.
// RUN: hatc-opt %s --split-input-file --hatc-prefetch-weights | FileCheck %s
//
// In the CPU pipeline: BERT-base's matmuls (their packed weights 2.25 and
// 9 MiB) get prefetcht1 in their micro-kernels; the model's outputs are
// checked against ONNX Runtime by onnx.model.bert_base_layer.
// RUN: rm -rf %t && %onnx-make --only bert_base_layer --out %t
// RUN: %avx512-facts hatc compile %t/bert_base_layer/model.onnx --input-shape hidden=1,128,768 --emit asm | FileCheck %s --check-prefix=ASM
// ASM: prefetcht1
// ASM: vfmadd231ps

// BERT's FFN matmul as cpu_matmul packs it: panels of 64 columns
// (48x768x64), a block of 128 k rows for each panel read by 16 register
// tiles of 4 rows. Step k of tile m prefetches line (m * 128 + k) mod 512
// of the next block: row 128 + that / 4, lane (that mod 4) * 16.
// CHECK-LABEL: func.func @packed_panels
// CHECK: %[[W:.*]] = memref.get_global @panels
// CHECK: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[K0:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[M:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[C512:.*]] = arith.constant 512 : index
// CHECK: %[[C128:.*]] = arith.constant 128 : index
// CHECK: %[[MI:.*]] = arith.divui %[[M]], %{{.*}} : index
// CHECK: %[[MK:.*]] = arith.muli %[[MI]], %[[C128]] : index
// CHECK: %[[STEP:.*]] = arith.addi %[[MK]], %[[K]] : index
// CHECK: %[[LINE:.*]] = arith.remui %[[STEP]], %[[C512]] : index
// CHECK: %[[ROW0:.*]] = arith.divui %[[LINE]], %{{.*}} : index
// CHECK: %[[ROW:.*]] = arith.addi %[[ROW0]], %c128{{(_[0-9]+)?}} : index
// CHECK: %[[C16:.*]] = arith.constant 16 : index
// CHECK: %[[LANE0:.*]] = arith.remui %[[LINE]], %{{.*}} : index
// CHECK: %[[LANE:.*]] = arith.muli %[[LANE0]], %[[C16]] : index
// CHECK: %[[KROW:.*]] = arith.addi %[[ROW]], %[[K0]] : index
// CHECK: memref.prefetch %[[W]][%[[N]], %[[KROW]], %[[LANE]]], read, locality<2>, data : memref<48x768x64xf32>
// CHECK-NEXT: vector.transfer_read
// CHECK-NOT: memref.prefetch
// CHECK: return
memref.global "private" constant @panels : memref<48x768x64xf32> = dense<1.0>
func.func @packed_panels(%a: memref<64x768xf32>, %out: memref<64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c48 = arith.constant 48 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %c768 = arith.constant 768 : index
  %f0 = arith.constant 0.0 : f32
  %w = memref.get_global @panels : memref<48x768x64xf32>
  scf.for %n = %c0 to %c48 step %c1 {
    scf.for %k0 = %c0 to %c768 step %c128 {
      %block = memref.subview %w[%n, %k0, 0] [1, 128, 64] [1, 1, 1] : memref<48x768x64xf32> to memref<1x128x64xf32, strided<[49152, 64, 1], offset: ?>>
      scf.for %m = %c0 to %c64 step %c4 {
        %acc = scf.for %k = %c0 to %c128 step %c1 iter_args(%sum = %f0) -> (f32) {
          %row = memref.subview %block[0, %k, 0] [1, 1, 64] [1, 1, 1] : memref<1x128x64xf32, strided<[49152, 64, 1], offset: ?>> to memref<1x1x64xf32, strided<[49152, 64, 1], offset: ?>>
          %v = vector.transfer_read %row[%c0, %c0, %c0], %f0 {in_bounds = [true]} : memref<1x1x64xf32, strided<[49152, 64, 1], offset: ?>>, vector<64xf32>
          %s = vector.reduction <add>, %v, %sum : vector<64xf32> into f32
          scf.yield %s : f32
        }
        memref.store %acc, %out[%m, %n] : memref<64x64xf32>
      }
    }
  }
  return
}

// -----

// Left alone: weights of 128 KiB (under min-bytes, they stay cached), a
// global that is not constant, an argument, and a block that depends on
// the loop around the kernel (no next block to fetch ahead of it).
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: memref.prefetch
// CHECK: return
memref.global "private" constant @small : memref<4x128x64xf32> = dense<1.0>
memref.global "private" @mutable : memref<48x768x64xf32> = dense<1.0>
func.func @left_alone(%arg: memref<48x768x64xf32>, %out: memref<64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %c128 = arith.constant 128 : index
  %f0 = arith.constant 0.0 : f32
  %small = memref.get_global @small : memref<4x128x64xf32>
  %mutable = memref.get_global @mutable : memref<48x768x64xf32>
  %small_block = memref.subview %small[0, 0, 0] [1, 128, 64] [1, 1, 1] : memref<4x128x64xf32> to memref<1x128x64xf32, strided<[8192, 64, 1]>>
  %mutable_block = memref.subview %mutable[0, 0, 0] [1, 128, 64] [1, 1, 1] : memref<48x768x64xf32> to memref<1x128x64xf32, strided<[49152, 64, 1]>>
  %arg_block = memref.subview %arg[0, 0, 0] [1, 128, 64] [1, 1, 1] : memref<48x768x64xf32> to memref<1x128x64xf32, strided<[49152, 64, 1]>>
  scf.for %m = %c0 to %c64 step %c4 {
    %acc = scf.for %k = %c0 to %c128 step %c1 iter_args(%sum = %f0) -> (f32) {
      %r1 = memref.subview %small_block[0, %k, 0] [1, 1, 64] [1, 1, 1] : memref<1x128x64xf32, strided<[8192, 64, 1]>> to memref<1x1x64xf32, strided<[8192, 64, 1], offset: ?>>
      %v1 = vector.transfer_read %r1[%c0, %c0, %c0], %f0 {in_bounds = [true]} : memref<1x1x64xf32, strided<[8192, 64, 1], offset: ?>>, vector<64xf32>
      %r2 = memref.subview %mutable_block[0, %k, 0] [1, 1, 64] [1, 1, 1] : memref<1x128x64xf32, strided<[49152, 64, 1]>> to memref<1x1x64xf32, strided<[49152, 64, 1], offset: ?>>
      %v2 = vector.transfer_read %r2[%c0, %c0, %c0], %f0 {in_bounds = [true]} : memref<1x1x64xf32, strided<[49152, 64, 1], offset: ?>>, vector<64xf32>
      %r3 = memref.subview %arg_block[0, %k, 0] [1, 1, 64] [1, 1, 1] : memref<1x128x64xf32, strided<[49152, 64, 1]>> to memref<1x1x64xf32, strided<[49152, 64, 1], offset: ?>>
      %v3 = vector.transfer_read %r3[%c0, %c0, %c0], %f0 {in_bounds = [true]} : memref<1x1x64xf32, strided<[49152, 64, 1], offset: ?>>, vector<64xf32>
      %s1 = vector.reduction <add>, %v1, %sum : vector<64xf32> into f32
      %s2 = vector.reduction <add>, %v2, %s1 : vector<64xf32> into f32
      %s3 = vector.reduction <add>, %v3, %s2 : vector<64xf32> into f32
      scf.yield %s3 : f32
    }
    memref.store %acc, %out[%m] : memref<64xf32>
  }
  return
}

// -----

// CHECK-LABEL: func.func @block_moves_with_the_outer_loop
// CHECK-NOT: memref.prefetch
// CHECK: return
memref.global "private" constant @columns : memref<768x512xf32> = dense<1.0>
func.func @block_moves_with_the_outer_loop(%out: memref<512xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c32 = arith.constant 32 : index
  %c512 = arith.constant 512 : index
  %c16 = arith.constant 16 : index
  %f0 = arith.constant 0.0 : f32
  %w = memref.get_global @columns : memref<768x512xf32>
  scf.for %n = %c0 to %c512 step %c32 {
    %acc = scf.for %k = %c0 to %c16 step %c1 iter_args(%sum = %f0) -> (f32) {
      %row = memref.subview %w[%k, %n] [1, 32] [1, 1] : memref<768x512xf32> to memref<1x32xf32, strided<[512, 1], offset: ?>>
      %v = vector.transfer_read %row[%c0, %c0], %f0 {in_bounds = [true]} : memref<1x32xf32, strided<[512, 1], offset: ?>>, vector<32xf32>
      %s = vector.reduction <add>, %v, %sum : vector<32xf32> into f32
      scf.yield %s : f32
    }
    memref.store %acc, %out[%n] : memref<512xf32>
  }
  return
}
