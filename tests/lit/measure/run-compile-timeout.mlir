// `hatc run` and `hatc compile` give up on a compile that outlasts
// --compile-timeout with one BUILD_TIMEOUT line and exit 1. The schedule
// tiles by 1 and unrolls everything: without the limit this compile takes
// minutes. `timeout` only guards the suite: if the limit did not work, the
// command would be killed (exit 124) and the test would fail, not hang.

// RUN: %expect-exit 1 timeout 60 hatc run %s --schedule %S/Inputs/unroll-everything.mlir --compile-timeout 1 2>&1 \
// RUN:   | FileCheck %s --check-prefix=TIMEOUT
// RUN: %expect-exit 1 timeout 60 hatc compile %s --schedule %S/Inputs/unroll-everything.mlir --emit llvm --compile-timeout 0.5 -o %t.ll 2>&1 \
// RUN:   | FileCheck %s --check-prefix=COMPILE
// TIMEOUT: hatc: error: BUILD_TIMEOUT: compiling {{.*}}run-compile-timeout.mlir for cpu took longer than 1 s (--compile-timeout)
// TIMEOUT-NOT: {{.}}
// COMPILE: hatc: error: BUILD_TIMEOUT: compiling {{.*}}run-compile-timeout.mlir for cpu took longer than 0.5 s (--compile-timeout)

// The scratch folder of the killed compile is gone.
// RUN: rm -rf %t.tmp && mkdir -p %t.tmp
// RUN: env TMPDIR=%t.tmp %expect-exit 1 timeout 60 hatc run %s --schedule %S/Inputs/unroll-everything.mlir --compile-timeout 1
// RUN: ls -A %t.tmp | count 0

// A bad value is a usage error; 0 means no limit (a normal compile runs).
// RUN: %expect-exit 1 hatc run %s --compile-timeout soon 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: hatc: error: --compile-timeout: expected seconds, a number >= 0, got 'soon'
// RUN: hatc run %s --compile-timeout 0 --repeat 1 --check | FileCheck %s --check-prefix=NOLIMIT
// NOLIMIT: check     correct

func.func @matmul_64(%A: tensor<64x64xf32>, %B: tensor<64x64xf32>) -> tensor<64x64xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<64x64xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<64x64xf32>) -> tensor<64x64xf32>
  %C = linalg.matmul ins(%A, %B : tensor<64x64xf32>, tensor<64x64xf32>)
                     outs(%C0 : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %C : tensor<64x64xf32>
}
