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

// One zero fill (CSE made it one) as the destination of two matmuls, the
// second fill of an expanded empty (a packed result's, as
// hatc-decompose-tensor-ops leaves it) feeding a forall's shared_outs and a
// read: each writer gets its own fill, so bufferization writes both in
// place; the reader keeps the original. Without this, one-shot-bufferize
// copied the shared fill for every writer but the last.
// CHECK-LABEL: func.func @shared_fill
// CHECK: %[[F1:.*]] = linalg.fill {{.*}} -> tensor<4x8xf32>
// CHECK: linalg.matmul {{.*}} outs(%[[F1]] : tensor<4x8xf32>)
// CHECK: %[[E2:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[F2:.*]] = linalg.fill {{.*}} outs(%[[E2]] : tensor<4x8xf32>)
// CHECK: linalg.matmul {{.*}} outs(%[[F2]] : tensor<4x8xf32>)
// The expanded fill is also read: both foralls get clones, the read keeps it.
// CHECK: %[[G:.*]] = linalg.fill {{.*}} -> tensor<4x2x4xf32>
// CHECK: %[[E3:.*]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[X3:.*]] = tensor.expand_shape %[[E3]]
// CHECK: %[[G1:.*]] = linalg.fill {{.*}} outs(%[[X3]] : tensor<4x2x4xf32>)
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %[[G1]])
// CHECK: %[[G2:.*]] = linalg.fill {{.*}} -> tensor<4x2x4xf32>
// CHECK: scf.forall {{.*}} shared_outs(%{{.*}} = %[[G2]])
// CHECK: tensor.extract %[[G]]
// BUF-LABEL: func.func @shared_fill
// No copy but the two returned expanded results' (into their out-params).
// BUF-NOT: memref.copy
// BUF: memref.copy %{{.*}}, %arg5
// BUF: memref.copy %{{.*}}, %arg6
// BUF-NOT: memref.copy
// BUF: return
func.func @shared_fill(%a: tensor<4x4xf32>, %b: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x2x4xf32>, tensor<4x2x4xf32>, f32) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %c0 = arith.constant 0 : index
  %e = tensor.empty() : tensor<4x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %m1 = linalg.matmul ins(%a, %b : tensor<4x4xf32>, tensor<4x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  %m2 = linalg.matmul ins(%a, %c : tensor<4x4xf32>, tensor<4x8xf32>) outs(%f : tensor<4x8xf32>) -> tensor<4x8xf32>
  %e2 = tensor.empty() : tensor<4x8xf32>
  %x = tensor.expand_shape %e2 [[0], [1, 2]] output_shape [4, 2, 4] : tensor<4x8xf32> into tensor<4x2x4xf32>
  %g = linalg.fill ins(%zero : f32) outs(%x : tensor<4x2x4xf32>) -> tensor<4x2x4xf32>
  %p1 = scf.forall (%i) in (4) shared_outs(%o = %g) -> (tensor<4x2x4xf32>) {
    %s = tensor.extract_slice %o[%i, 0, 0] [1, 2, 4] [1, 1, 1] : tensor<4x2x4xf32> to tensor<1x2x4xf32>
    %w = linalg.fill ins(%one : f32) outs(%s : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %w into %o[%i, 0, 0] [1, 2, 4] [1, 1, 1] : tensor<1x2x4xf32> into tensor<4x2x4xf32>
    }
  }
  %p2 = scf.forall (%i) in (4) shared_outs(%o = %g) -> (tensor<4x2x4xf32>) {
    %s = tensor.extract_slice %o[%i, 0, 0] [1, 2, 4] [1, 1, 1] : tensor<4x2x4xf32> to tensor<1x2x4xf32>
    %w = linalg.fill ins(%one : f32) outs(%s : tensor<1x2x4xf32>) -> tensor<1x2x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %w into %o[%i, 0, 0] [1, 2, 4] [1, 1, 1] : tensor<1x2x4xf32> into tensor<4x2x4xf32>
    }
  }
  %r = tensor.extract %g[%c0, %c0, %c0] : tensor<4x2x4xf32>
  return %m1, %m2, %p1, %p2, %r : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x2x4xf32>, tensor<4x2x4xf32>, f32
}
