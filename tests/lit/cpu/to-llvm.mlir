// RUN: hatc-opt %s --hatc-cpu-lowering | FileCheck %s \
// RUN:   --implicit-check-not=linalg. --implicit-check-not=memref. --implicit-check-not=scf. \
// RUN:   --implicit-check-not=vector. --implicit-check-not=tensor. \
// RUN:   --implicit-check-not=bufferization. --implicit-check-not=arith. \
// RUN:   --implicit-check-not=affine. --implicit-check-not=cf. --implicit-check-not=func. \
// RUN:   --implicit-check-not=omp.

// The whole CPU lowering leaves only LLVM dialect ops (and a C interface):
// the implicit checks hold between and after every CHECK below, so a
// leftover op anywhere in the module fails.
// CHECK: llvm.func @bias_relu
// CHECK: llvm.intr.maximum
// CHECK: llvm.func @_mlir_ciface_bias_relu(%{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
#rows = affine_map<(i, j) -> (i, j)>
#bias = affine_map<(i, j) -> (j)>
func.func @bias_relu(%X: tensor<8x16xf32>, %b: tensor<16xf32>) -> tensor<8x16xf32>
    attributes {llvm.emit_c_interface} {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<8x16xf32>
  %Y = linalg.generic {indexing_maps = [#rows, #bias, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%X, %b : tensor<8x16xf32>, tensor<16xf32>) outs(%init : tensor<8x16xf32>) {
  ^bb0(%x: f32, %bb: f32, %o: f32):
    %s = arith.addf %x, %bb : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  } -> tensor<8x16xf32>
  return %Y : tensor<8x16xf32>
}
