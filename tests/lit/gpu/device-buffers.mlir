// RUN: hatc-opt %s --hatc-gpu-device-buffers --split-input-file --verify-diagnostics | FileCheck %s

// A temporary between two launches (a matmul's result feeding its bias +
// ReLU) is allocated on the device, synchronously, and freed before the
// return; its memref.dealloc goes away.
// CHECK-LABEL: func @between_launches
// CHECK-NOT: memref.alloc
// CHECK: %[[W0:.*]] = gpu.wait async
// CHECK: %[[T:.*]], %[[W1:.*]] = gpu.alloc async [%[[W0]]] () : memref<128x64xf32>
// CHECK: gpu.wait [%[[W1]]]
// CHECK: gpu.launch
// CHECK: memref.store %{{.*}}, %[[T]]
// CHECK: gpu.launch
// CHECK: memref.load %[[T]]
// CHECK-NOT: memref.dealloc
// CHECK: %[[W2:.*]] = gpu.wait async
// CHECK: %[[W3:.*]] = gpu.dealloc async [%[[W2]]] %[[T]] : memref<128x64xf32>
// CHECK: gpu.wait [%[[W3]]]
// CHECK-NEXT: return
func.func @between_launches(%out: memref<128x64xf32>) {
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  %t = memref.alloc() {alignment = 64 : i64} : memref<128x64xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%a = %c1, %b = %c1, %c = %c1) {
    memref.store %f, %t[%tx, %ty] : memref<128x64xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%a = %c1, %b = %c1, %c = %c1) {
    %v = memref.load %t[%tx, %ty] : memref<128x64xf32>
    memref.store %v, %out[%tx, %ty] : memref<128x64xf32>
    gpu.terminator
  }
  memref.dealloc %t : memref<128x64xf32>
  return
}

// -----

// Views of the temporary only compute descriptors on the host: allowed.
// Workgroup buffers are left to hatc-gpu-workgroup-copies.
// CHECK-LABEL: func @views
// CHECK: memref.alloc() : memref<16xf32, #gpu.address_space<workgroup>>
// CHECK: gpu.alloc async
// CHECK: memref.subview
// CHECK: gpu.dealloc async
func.func @views() {
  %c1 = arith.constant 1 : index
  %f = arith.constant 1.0 : f32
  %wg = memref.alloc() : memref<16xf32, #gpu.address_space<workgroup>>
  %t = memref.alloc() : memref<8x8xf32>
  %half = memref.subview %t[0, 0] [4, 8] [1, 1] : memref<8x8xf32> to memref<4x8xf32, strided<[8, 1]>>
  gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
             threads(%tx, %ty, %tz) in (%a = %c1, %b = %c1, %c = %c1) {
    memref.store %f, %half[%tx, %ty] : memref<4x8xf32, strided<[8, 1]>>
    memref.store %f, %wg[%tx] : memref<16xf32, #gpu.address_space<workgroup>>
    gpu.terminator
  }
  return
}

// -----

// Host code that touches the temporary cannot run on device memory.
func.func @host_use(%out: memref<4xf32>) {
  // expected-error @+1 {{a GPU temporary is used by host code (memref.copy), which cannot read device memory}}
  %t = memref.alloc() : memref<4xf32>
  memref.copy %t, %out : memref<4xf32> to memref<4xf32>
  return
}

// -----

func.func @in_host_loop() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c0 to %c4 step %c1 {
    // expected-error @+1 {{a GPU temporary must be allocated at the top level of the host function, not in a host loop}}
    %t = memref.alloc() : memref<4xf32>
    gpu.launch blocks(%bx, %by, %bz) in (%x = %c1, %y = %c1, %z = %c1)
               threads(%tx, %ty, %tz) in (%a = %c1, %b = %c1, %c = %c1) {
      %v = memref.load %t[%tx] : memref<4xf32>
      gpu.terminator
    }
  }
  return
}
