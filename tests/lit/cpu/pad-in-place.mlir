// hatc-pad-in-place: a constant tensor.pad becomes a filled buffer (made at
// the start of the block) with its source inserted, shared empty tensors
// one per use, and empty tensor elimination then has the op that produced
// the source write into the padded buffer's interior: the CPU bufferization
// leaves no memref.copy for the border of a 3x3 conv. The other relu (its
// empty tensor once shared) keeps its own buffer.
// RUN: hatc-opt %s --hatc-pad-in-place | FileCheck %s
// RUN: hatc-opt %s --hatc-cpu-bufferize | FileCheck %s --check-prefix=BUF

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// CHECK-LABEL: func.func @relu_then_pad
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PE:.*]] = tensor.empty() : tensor<1x6x6x4xf32>
// CHECK: %[[PF:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[PE]] : tensor<1x6x6x4xf32>)
// CHECK: %[[INTERIOR:.*]] = tensor.extract_slice %[[PF]][0, 1, 1, 0] [1, 4, 4, 4] [1, 1, 1, 1]
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x4x4x4xf32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] :
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%[[INTERIOR]] :
// CHECK-NOT: tensor.pad
// CHECK: tensor.insert_slice %[[R]] into %[[PF]][0, 1, 1, 0] [1, 4, 4, 4] [1, 1, 1, 1]

// BUF-LABEL: func.func @relu_then_pad
// BUF-SAME: %[[OUT0:[^:]*]]: memref<1x6x6x4xf32>, %{{[^:]*}}: memref<1x4x4x4xf32>)
// BUF: linalg.fill {{.*}} outs(%[[OUT0]] :
// BUF: %[[INTERIOR:.*]] = memref.subview %[[OUT0]][0, 1, 1, 0] [1, 4, 4, 4] [1, 1, 1, 1]
// BUF: linalg.generic {{.*}} outs(%[[INTERIOR]] :
// BUF-NOT: memref.copy
// BUF: return
func.func @relu_then_pad(%x: tensor<1x4x4x4xf32> {bufferization.writable = false},
                         %y: tensor<1x4x4x4xf32> {bufferization.writable = false})
    -> (tensor<1x6x6x4xf32>, tensor<1x4x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %other = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : tensor<1x4x4x4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x4x4xf32>) outs(%e : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32>
  %p = tensor.pad %r low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x4xf32> to tensor<1x6x6x4xf32>
  return %p, %other : tensor<1x6x6x4xf32>, tensor<1x4x4x4xf32>
}

// A pad whose value depends on the position, and one of a dynamic shape:
// left as they are.
// CHECK-LABEL: func.func @kept
// CHECK: tensor.pad
// CHECK: tensor.pad
// CHECK-NOT: linalg.fill
// CHECK: return
func.func @kept(%x: tensor<2x2xf32>, %d: tensor<?x2xf32>) -> (tensor<4x4xf32>, tensor<?x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[1, 1] high[1, 1] {
  ^bb0(%i: index, %j: index):
    %c = arith.index_cast %i : index to i32
    %f = arith.sitofp %c : i32 to f32
    tensor.yield %f : f32
  } : tensor<2x2xf32> to tensor<4x4xf32>
  %q = tensor.pad %d low[0, 1] high[0, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<?x2xf32> to tensor<?x4xf32>
  return %p, %q : tensor<4x4xf32>, tensor<?x4xf32>
}
