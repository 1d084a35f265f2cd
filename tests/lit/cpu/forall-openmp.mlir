// RUN: hatc-opt %s --hatc-cpu-lowering | FileCheck %s

// scf.forall from tile_using_forall runs on OpenMP threads.
// CHECK: llvm.func @scale
// CHECK: omp.parallel
// CHECK: omp.wsloop
func.func @scale(%X: tensor<64x32xf32>) -> tensor<64x32xf32> {
  %init = tensor.empty() : tensor<64x32xf32>
  %r = scf.forall (%i) in (4) shared_outs(%out = %init) -> (tensor<64x32xf32>) {
    %row = affine.apply affine_map<(d0) -> (d0 * 16)>(%i)
    %in = tensor.extract_slice %X[%row, 0] [16, 32] [1, 1] : tensor<64x32xf32> to tensor<16x32xf32>
    %o = tensor.extract_slice %out[%row, 0] [16, 32] [1, 1] : tensor<64x32xf32> to tensor<16x32xf32>
    %d = linalg.add ins(%in, %in : tensor<16x32xf32>, tensor<16x32xf32>) outs(%o : tensor<16x32xf32>) -> tensor<16x32xf32>
    scf.forall.in_parallel {
      tensor.parallel_insert_slice %d into %out[%row, 0] [16, 32] [1, 1] : tensor<16x32xf32> into tensor<64x32xf32>
    }
  }
  return %r : tensor<64x32xf32>
}
