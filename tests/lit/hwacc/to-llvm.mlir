// RUN: hatc-opt %s --hatc-convert-hwacc-to-llvm | FileCheck %s

// Each instruction becomes a call of the C ABI; memrefs become element
// pointers, sizes and addresses i64.
// CHECK-DAG: llvm.func @hatc_hwacc_config(i64, i64, i64, f32, i64)
// CHECK-DAG: llvm.func @hatc_hwacc_mvin(!llvm.ptr, i64, i64, i64, i64)
// CHECK-DAG: llvm.func @hatc_hwacc_preload(i64, i64, i64, i64, i64)
// CHECK-DAG: llvm.func @hatc_hwacc_compute(i64, i64, i64)
// CHECK-DAG: llvm.func @hatc_hwacc_mvout(!llvm.ptr, i64, i64, i64, i64)
// CHECK-DAG: llvm.func @hatc_hwacc_fence()
// CHECK-LABEL: func.func @low
// CHECK: llvm.call @hatc_hwacc_config
// CHECK: memref.extract_aligned_pointer_as_index %arg0
// CHECK: llvm.inttoptr
// CHECK: llvm.call @hatc_hwacc_mvin(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr, i64, i64, i64, i64) -> ()
// CHECK: llvm.call @hatc_hwacc_preload
// CHECK: llvm.call @hatc_hwacc_compute
// CHECK: llvm.call @hatc_hwacc_mvout
// CHECK: llvm.call @hatc_hwacc_fence() : () -> ()
// CHECK-NOT: hwacc.
func.func @low(%A: memref<64x32xf32>, %C: memref<64x48xf32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %true = arith.constant true
  hwacc.config dataflow "ws" elem f32 out f32 scale 1.0 relu false
  hwacc.mvin %A[%c16, %c0] to sp[%c0] size [%c16, %c16] : memref<64x32xf32>
  hwacc.preload sp[%c16] acc[%c0] size [%c16, %c16] accumulate %true
  hwacc.compute sp[%c0] size [%c16, %c16]
  hwacc.mvout %C[%c0, %c16] from acc[%c0] size [%c16, %c16] : memref<64x48xf32>
  hwacc.fence
  return
}
