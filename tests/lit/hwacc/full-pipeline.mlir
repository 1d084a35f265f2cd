// RUN: hatc-opt %s --hatc-hwacc-lowering | FileCheck %s \
// RUN:   --implicit-check-not='{{hwacc\.(matmul|config|mvin|preload|compute|mvout|fence)}}' \
// RUN:   --implicit-check-not=linalg. --implicit-check-not=memref. --implicit-check-not=scf. \
// RUN:   --implicit-check-not=tensor. --implicit-check-not=bufferization. \
// RUN:   --implicit-check-not=arith. --implicit-check-not=vector. --implicit-check-not=affine. \
// RUN:   --implicit-check-not=cf. --implicit-check-not=func.

// The whole channel: only LLVM dialect ops remain (the implicit checks hold
// between and after every CHECK below, so a leftover op anywhere in the
// module fails; only the module's hwacc.target attribute may say "hwacc."),
// the GEMM is calls of the hatc_hwacc_* ABI, and the ReLU after it is host
// code.
// CHECK-DAG: llvm.func @hatc_hwacc_mvin
// CHECK-DAG: llvm.func @hatc_hwacc_compute
// CHECK: llvm.func @ffn_relu
// CHECK: llvm.call @hatc_hwacc_config
// CHECK: llvm.call @hatc_hwacc_mvin
// CHECK: llvm.call @hatc_hwacc_preload
// CHECK: llvm.call @hatc_hwacc_compute
// CHECK: llvm.call @hatc_hwacc_mvout
// CHECK: llvm.call @hatc_hwacc_fence
// CHECK: llvm.intr.maximum
#rows = affine_map<(i, j) -> (i, j)>
func.func @ffn_relu(%X: tensor<40x24xf32> {bufferization.writable = false},
                    %W: tensor<24x20xf32> {bufferization.writable = false}) -> tensor<40x20xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<40x20xf32>
  %Y0 = linalg.fill ins(%zero : f32) outs(%init : tensor<40x20xf32>) -> tensor<40x20xf32>
  %Y = linalg.matmul ins(%X, %W : tensor<40x24xf32>, tensor<24x20xf32>) outs(%Y0 : tensor<40x20xf32>) -> tensor<40x20xf32>
  %Z = linalg.generic {indexing_maps = [#rows, #rows], iterator_types = ["parallel", "parallel"]}
      ins(%Y : tensor<40x20xf32>) outs(%init : tensor<40x20xf32>) {
  ^bb0(%y: f32, %o: f32):
    %r = arith.maximumf %y, %zero : f32
    linalg.yield %r : f32
  } -> tensor<40x20xf32>
  return %Z : tensor<40x20xf32>
}
