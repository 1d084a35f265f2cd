// RUN: hatc-opt %s --hatc-cpu-bufferize | FileCheck %s

// Results become trailing out-params; read-only arguments are never written.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%{{.*}}: memref<4x3xf32>, %{{.*}}: memref<3x5xf32>, %[[OUT:.*]]: memref<4x5xf32>)
// CHECK-NOT: tensor<
// CHECK: linalg.fill {{.*}} outs(%[[OUT]]
// CHECK: linalg.matmul {{.*}} outs(%[[OUT]]
// CHECK: return
// CHECK-NOT: memref.alloc
func.func @matmul(%A: tensor<4x3xf32> {bufferization.writable = false},
                  %B: tensor<3x5xf32> {bufferization.writable = false}) -> tensor<4x5xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x5xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<4x5xf32>) -> tensor<4x5xf32>
  %C = linalg.matmul ins(%A, %B : tensor<4x3xf32>, tensor<3x5xf32>) outs(%C0 : tensor<4x5xf32>) -> tensor<4x5xf32>
  return %C : tensor<4x5xf32>
}

// A copy between contiguous buffers stays a memref.copy (a memcpy): here the
// read-only argument copied whole before a slice of it is overwritten. One
// into a strided view is a linalg.copy (loops LLVM vectorizes), not a
// memref.copy, whose lowering calls the C runner's memrefCopy.
// CHECK-LABEL: func.func @overwritten_argument
// CHECK-SAME: %[[OUT:[^:]*]]: memref<4x8xf32>)
// CHECK: memref.copy %arg0, %[[OUT]] : memref<4x8xf32> to memref<4x8xf32>
// CHECK: %[[V:.*]] = memref.subview %[[OUT]][1, 2] [2, 3] [1, 1]
// CHECK: linalg.copy ins(%arg1 : memref<2x3xf32{{.*}}>) outs(%[[V]] :
func.func @overwritten_argument(%a: tensor<4x8xf32> {bufferization.writable = false},
                                %b: tensor<2x3xf32> {bufferization.writable = false}) -> tensor<4x8xf32> {
  %r = tensor.insert_slice %b into %a[1, 2] [2, 3] [1, 1] : tensor<2x3xf32> into tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// Temporaries are freed after their last use (hatc-shrink-live-ranges):
// the first of two chained ones before the op after its reader.
// CHECK-LABEL: func.func @chained_temporaries
// CHECK: %[[T:.*]] = memref.alloc()
// CHECK: linalg.generic {{.*}} outs(%[[T]]
// CHECK: %[[U:.*]] = memref.alloc()
// CHECK: linalg.generic {{.*}} ins(%[[T]] {{.*}} outs(%[[U]]
// CHECK: linalg.yield
// CHECK-NEXT: }
// CHECK-NEXT: memref.dealloc %[[T]]
// CHECK: linalg.generic {{.*}} ins(%[[U]]
// CHECK: linalg.yield
// CHECK-NEXT: }
// CHECK-NEXT: memref.dealloc %[[U]]
// CHECK-NEXT: return
func.func @chained_temporaries(%x: tensor<1024xf32>) -> tensor<1024xf32> {
  %e0 = tensor.empty() : tensor<1024xf32>
  %t = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%x : tensor<1024xf32>) outs(%e0 : tensor<1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %in : f32
    linalg.yield %s : f32
  } -> tensor<1024xf32>
  %e1 = tensor.empty() : tensor<1024xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%t : tensor<1024xf32>) outs(%e1 : tensor<1024xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.mulf %in, %in : f32
    linalg.yield %s : f32
  } -> tensor<1024xf32>
  %e2 = tensor.empty() : tensor<1024xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%u, %x : tensor<1024xf32>, tensor<1024xf32>) outs(%e2 : tensor<1024xf32>) {
  ^bb0(%in: f32, %in2: f32, %out: f32):
    %s = arith.subf %in, %in2 : f32
    linalg.yield %s : f32
  } -> tensor<1024xf32>
  return %w : tensor<1024xf32>
}
