// RUN: hatc-opt %s --hatc-gpu-lowering="chip=sm_80" | FileCheck %s

// The named GPU pipeline (the one `hatc --target gpu` runs): the launch is
// outlined and compiled to PTX for the chip asked for; the host side is LLVM
// dialect that launches it.
// CHECK: llvm.func @double(
// CHECK: gpu.launch_func @double_kernel::@double_kernel
// CHECK: gpu.binary @double_kernel
// CHECK-SAME: chip = "sm_80"
// CHECK-SAME: .target sm_80
func.func @double(%x: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1) {
    %v = memref.load %x[%tx] : memref<64xf32>
    %w = arith.addf %v, %v : f32
    memref.store %w, %x[%tx] : memref<64xf32>
    gpu.terminator
  }
  return
}
