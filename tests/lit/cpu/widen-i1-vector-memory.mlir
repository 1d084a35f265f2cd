// hatc-widen-i1-vector-memory: vector-of-i1 loads and stores become byte
// vectors (zext before a store, trunc after a load); scalar i1 ones, which
// LLVM already keeps one byte each, are left alone.
// RUN: hatc-opt %s --hatc-widen-i1-vector-memory | FileCheck %s

// CHECK-LABEL: llvm.func @widen
// CHECK: %[[Z:.*]] = llvm.zext %{{.*}} : vector<16xi1> to vector<16xi8>
// CHECK: llvm.store %[[Z]], %{{.*}} : vector<16xi8>, !llvm.ptr
// CHECK: %[[W:.*]] = llvm.load %{{.*}} {alignment = 4 : i64} : !llvm.ptr -> vector<16xi8>
// CHECK: %[[T:.*]] = llvm.trunc %[[W]] : vector<16xi8> to vector<16xi1>
// CHECK: llvm.store %{{.*}} : i1, !llvm.ptr
// CHECK: llvm.return %[[T]]
llvm.func @widen(%p: !llvm.ptr, %v: vector<16xi1>, %s: i1) -> vector<16xi1> {
  llvm.store %v, %p : vector<16xi1>, !llvm.ptr
  %l = llvm.load %p {alignment = 4 : i64} : !llvm.ptr -> vector<16xi1>
  llvm.store %s, %p : i1, !llvm.ptr
  llvm.return %l : vector<16xi1>
}
