// math.tanh has no lowering in LLVM 19: hatc-expand-math turns it into exp
// and arithmetic, so a workload using it compiles, runs and matches the
// reference (it once passed validation and then failed in LLVM translation).
// RUN: hatc-opt %inputs/bias_tanh.mlir --hatc-expand-math | FileCheck %s --implicit-check-not=math.tanh
// CHECK: math.exp
// RUN: hatc run %inputs/bias_tanh.mlir --check --repeat 1 --json | FileCheck %s --check-prefix=RESULT
// RUN: hatc run %inputs/bias_tanh.mlir --target hwacc --check --json | FileCheck %s --check-prefix=RESULT
// RESULT: "correct":true
