// The hand-written example schedule is plain transform dialect: stock
// mlir-opt applies it too, and it tiles, parallelizes and vectorizes.
// RUN: mlir-opt %hatc_src/examples/matmul_1024.mlir \
// RUN:   --transform-preload-library=transform-library-paths=%hatc_src/examples/schedules/matmul_tile_vectorize.mlir \
// RUN:   --transform-interpreter | FileCheck %s
// CHECK: scf.forall
// CHECK: scf.for
// CHECK: vector.transfer_read {{.*}} vector<8x32xf32>
// CHECK: vector.fma
// CHECK-NOT: linalg.matmul
