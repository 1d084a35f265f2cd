// tensor.concat has no bufferization model in MLIR 19: hatc-decompose-tensor-ops
// rewrites it into tensor.empty + one insert_slice per operand, and the CPU
// bufferization pipeline runs it first, so a concat (ONNX Concat) bufferizes
// into copies into the result buffer. Each operand lands in a strided view
// of it, so the copy is a linalg.copy (loops), not a memref.copy (the C
// runner's memrefCopy, one element at a time).
// RUN: hatc-opt %s --hatc-decompose-tensor-ops | FileCheck %s --implicit-check-not=tensor.concat
// RUN: hatc-opt %s --hatc-cpu-bufferize | FileCheck %s --check-prefix=BUF

// CHECK-LABEL: func.func @concat
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x7xf32>
// CHECK: %[[S:.*]] = tensor.insert_slice %{{.*}} into %[[E]][0, 0] [2, 3] [1, 1]
// CHECK: tensor.insert_slice %{{.*}} into %[[S]][0, 3] [2, 4] [1, 1]

// BUF-LABEL: func.func @concat
// BUF-SAME: %[[OUT:[^:]*]]: memref<2x7xf32>)
// BUF-NOT: tensor.
// BUF: %[[V0:.*]] = memref.subview %[[OUT]][0, 0] [2, 3] [1, 1]
// BUF: linalg.copy ins(%arg0 : memref<2x3xf32{{.*}}>) outs(%[[V0]] :
// BUF: %[[V1:.*]] = memref.subview %[[OUT]][0, 3] [2, 4] [1, 1]
// BUF: linalg.copy ins(%arg1 : memref<2x4xf32{{.*}}>) outs(%[[V1]] :
// BUF: return
func.func @concat(%a: tensor<2x3xf32> {bufferization.writable = false},
                  %b: tensor<2x4xf32> {bufferization.writable = false}) -> tensor<2x7xf32> {
  %r = tensor.concat dim(1) %a, %b : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x7xf32>
  return %r : tensor<2x7xf32>
}

// tensor.pack / unpack (the AMX schedule's data tiling): one that only
// splits the innermost dim is a reshape; any other becomes pad + reshape +
// transpose, which bufferizes.
// CHECK-LABEL: func.func @packs
// CHECK: %[[A:.*]] = tensor.expand_shape %arg0 {{\[\[}}0], [1, 2]] output_shape [32, 16, 4]
// CHECK: %[[PAD:.*]] = tensor.pad %arg1
// CHECK: %[[B:.*]] = tensor.expand_shape %[[PAD]] {{\[\[}}0, 1], [2, 3]] output_shape [16, 4, 2, 16]
// CHECK: %[[T:.*]] = linalg.transpose ins(%[[B]] : tensor<16x4x2x16xi8>) outs(%{{.*}} : tensor<2x16x16x4xi8>) permutation = [2, 0, 3, 1]
// CHECK: return %[[A]], %[[T]]
// CHECK-NOT: tensor.pack
func.func @packs(%a: tensor<32x64xi8>, %b: tensor<64x32xi8>) -> (tensor<32x16x4xi8>, tensor<2x16x16x4xi8>) {
  %e0 = tensor.empty() : tensor<32x16x4xi8>
  %pa = tensor.pack %a inner_dims_pos = [1] inner_tiles = [4] into %e0 : tensor<32x64xi8> -> tensor<32x16x4xi8>
  %e1 = tensor.empty() : tensor<2x16x16x4xi8>
  %pb = tensor.pack %b outer_dims_perm = [1, 0] inner_dims_pos = [1, 0] inner_tiles = [16, 4] into %e1 : tensor<64x32xi8> -> tensor<2x16x16x4xi8>
  return %pa, %pb : tensor<32x16x4xi8>, tensor<2x16x16x4xi8>
}

// A packed result unpacked (a reshape): computed in the reshaped buffer of
// the result itself, so it bufferizes into the out-param with no copy.
// CHECK-LABEL: func.func @unpacked_result
// CHECK: %[[FLAT:.*]] = tensor.empty() : tensor<32x32xi32>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[FLAT]] {{\[\[}}0], [1, 2]] output_shape [32, 2, 16]
// CHECK: %[[F:.*]] = linalg.fill ins(%arg0 : i32) outs(%[[E]] : tensor<32x2x16xi32>)
// CHECK: tensor.collapse_shape %[[F]] {{\[\[}}0], [1, 2]]
// BUF-LABEL: func.func @unpacked_result
// BUF-SAME: %[[OUT:[^:]*]]: memref<32x32xi32>)
// BUF-NEXT: %[[E:.*]] = memref.expand_shape %[[OUT]]
// BUF-NEXT: linalg.fill ins(%arg0 : i32) outs(%[[E]] : memref<32x2x16xi32>)
// BUF-NEXT: return
func.func @unpacked_result(%x: i32) -> tensor<32x32xi32> {
  %e = tensor.empty() : tensor<32x2x16xi32>
  %f = linalg.fill ins(%x : i32) outs(%e : tensor<32x2x16xi32>) -> tensor<32x2x16xi32>
  %out = tensor.empty() : tensor<32x32xi32>
  %u = tensor.unpack %f inner_dims_pos = [1] inner_tiles = [16] into %out : tensor<32x2x16xi32> -> tensor<32x32xi32>
  return %u : tensor<32x32xi32>
}

