// hatc-pad-in-place: a constant tensor.pad becomes a buffer whose border
// strips are filled (made at the start of the block) with its source
// inserted, shared empty tensors one per use, and empty tensor elimination
// then has the op that produced the source write into the padded buffer's
// interior: the CPU bufferization leaves no memref.copy for the border of
// a 3x3 conv, and fills only the border. The other relu (its empty tensor
// once shared) keeps its own buffer.
// RUN: hatc-opt %s --hatc-pad-in-place | FileCheck %s
// RUN: hatc-opt %s --hatc-cpu-bufferize | FileCheck %s --check-prefix=BUF

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>

// CHECK-LABEL: func.func @relu_then_pad
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PE:.*]] = tensor.empty() : tensor<1x6x6x4xf32>
// Rows 0 and 5, then columns 0 and 5, each a fill of its strip.
// CHECK: %[[S0:.*]] = tensor.extract_slice %[[PE]][0, 0, 0, 0] [1, 1, 6, 4] [1, 1, 1, 1]
// CHECK: %[[F0:.*]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[S0]] : tensor<1x1x6x4xf32>)
// CHECK: %[[P0:.*]] = tensor.insert_slice %[[F0]] into %[[PE]][0, 0, 0, 0] [1, 1, 6, 4]
// CHECK: tensor.insert_slice %{{.*}} into %[[P0]][0, 5, 0, 0] [1, 1, 6, 4]
// CHECK: tensor.insert_slice %{{.*}}[0, 0, 0, 0] [1, 6, 1, 4]
// CHECK: %[[PF:.*]] = tensor.insert_slice %{{.*}}[0, 0, 5, 0] [1, 6, 1, 4]
// CHECK-NOT: linalg.fill
// CHECK: %[[INTERIOR:.*]] = tensor.extract_slice %[[PF]][0, 1, 1, 0] [1, 4, 4, 4] [1, 1, 1, 1]
// CHECK: %[[E:.*]] = tensor.empty() : tensor<1x4x4x4xf32>
// CHECK: linalg.generic {{.*}} outs(%[[E]] :
// CHECK: %[[R:.*]] = linalg.generic {{.*}} outs(%[[INTERIOR]] :
// CHECK-NOT: tensor.pad
// CHECK: tensor.insert_slice %[[R]] into %[[PF]][0, 1, 1, 0] [1, 4, 4, 4] [1, 1, 1, 1]

// BUF-LABEL: func.func @relu_then_pad
// BUF-SAME: %[[OUT0:[^:]*]]: memref<1x6x6x4xf32>, %{{[^:]*}}: memref<1x4x4x4xf32>)
// BUF: %[[TOP:.*]] = memref.subview %[[OUT0]][0, 0, 0, 0] [1, 1, 6, 4]
// BUF: linalg.fill {{.*}} outs(%[[TOP]] :
// BUF-COUNT-3: linalg.fill
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

// A residual block's input, made by a threaded loop (a scheduled op's
// scf.forall): its first conv reads it padded, the residual
// add reads it as it is, after the insertion. The add reads it from the
// padded buffer's interior, so that bufferization writes the relu into
// that interior and copies nothing (it copied the relu's result out and
// back around it: a read after the insertion's write).
// CHECK-LABEL: func.func @residual
// CHECK: %[[R:.*]] = scf.forall
// CHECK: %[[P:.*]] = tensor.insert_slice %[[R]] into %{{.*}}[0, 1, 1, 0] [1, 4, 4, 4]
// CHECK: %[[X:.*]] = tensor.extract_slice %[[P]][0, 1, 1, 0] [1, 4, 4, 4] [1, 1, 1, 1]
// CHECK: linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[P]],
// CHECK: scf.forall
// CHECK: tensor.extract_slice %[[X]]
// BUF-LABEL: func.func @residual
// BUF-NOT: memref.copy
// BUF-NOT: linalg.copy
// BUF: return
func.func @residual(%x: tensor<1x4x4x4xf32> {bufferization.writable = false},
                    %w: tensor<3x3x4x4xf32> {bufferization.writable = false})
    -> tensor<1x4x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %r = scf.forall (%i) in (2) shared_outs(%o = %e) -> (tensor<1x4x4x4xf32>) {
    %row = affine.apply affine_map<(d0) -> (d0 * 2)>(%i)
    %xs = tensor.extract_slice %x[0, %row, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x4x4x4xf32> to tensor<1x2x4x4xf32>
    %os = tensor.extract_slice %o[0, %row, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x4x4x4xf32> to tensor<1x2x4x4xf32>
    %t = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
        ins(%xs : tensor<1x2x4x4xf32>) outs(%os : tensor<1x2x4x4xf32>) {
    ^bb0(%in: f32, %out: f32):
      %m = arith.maximumf %in, %zero : f32
      linalg.yield %m : f32
    } -> tensor<1x2x4x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %o[0, %row, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x4xf32> into tensor<1x4x4x4xf32>
    }
  }
  %p = tensor.pad %r low[0, 1, 1, 0] high[0, 1, 1, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x4x4xf32> to tensor<1x6x6x4xf32>
  %e2 = tensor.empty() : tensor<1x4x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%p, %w : tensor<1x6x6x4xf32>, tensor<3x3x4x4xf32>) outs(%f : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %e3 = tensor.empty() : tensor<1x4x4x4xf32>
  %y = scf.forall (%i) in (2) shared_outs(%o = %e3) -> (tensor<1x4x4x4xf32>) {
    %row = affine.apply affine_map<(d0) -> (d0 * 2)>(%i)
    %cs = tensor.extract_slice %c[0, %row, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x4x4x4xf32> to tensor<1x2x4x4xf32>
    %rs = tensor.extract_slice %r[0, %row, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x4x4x4xf32> to tensor<1x2x4x4xf32>
    %os = tensor.extract_slice %o[0, %row, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x4x4x4xf32> to tensor<1x2x4x4xf32>
    %t = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
        ins(%cs, %rs : tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) outs(%os : tensor<1x2x4x4xf32>) {
    ^bb0(%a: f32, %b: f32, %out: f32):
      %s = arith.addf %a, %b : f32
      linalg.yield %s : f32
    } -> tensor<1x2x4x4xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %t into %o[0, %row, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x2x4x4xf32> into tensor<1x4x4x4xf32>
    }
  }
  return %y : tensor<1x4x4x4xf32>
}
