// RUN: hatc-opt %s --hatc-gpu-fp-contract | FileCheck %s

// Float arithmetic inside a launch may contract into FMAs (existing flags
// kept); host code keeps its exact rounding.
// CHECK-LABEL: func @kernel_and_host
// CHECK: gpu.launch
// CHECK: arith.mulf %{{.*}}, %{{.*}} fastmath<contract> : f32
// CHECK: arith.addf %{{.*}}, %{{.*}} fastmath<nnan,contract> : f32
// CHECK: gpu.terminator
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f32
// CHECK-NOT: fastmath
// CHECK: return
func.func @kernel_and_host(%a: f32, %b: f32, %m: memref<1xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%u = %c1, %v = %c1, %w = %c1) {
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %p, %b fastmath<nnan> : f32
    memref.store %s, %m[%c0] : memref<1xf32>
    gpu.terminator
  }
  %h = arith.mulf %a, %b : f32
  return %h : f32
}
