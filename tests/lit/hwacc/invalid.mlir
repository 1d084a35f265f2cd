// RUN: hatc-opt %s -split-input-file -verify-diagnostics

module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 1024>} {
  func.func @tile_not_multiple(%A: memref<64x32xf32>, %B: memref<32x48xf32>, %C: memref<64x48xf32>) {
    // expected-error @+1 {{tile sizes must be multiples of the array dim 16, got [24, 48, 32]}}
    hwacc.matmul ins(%A, %B : memref<64x32xf32>, memref<32x48xf32>) outs(%C : memref<64x48xf32>) tile [24, 48, 32] dataflow "ws" loop_order "mnk"
    return
  }
}

// -----

module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 512, accumulator_rows = 1024>} {
  func.func @scratchpad_too_small(%A: memref<64x64xf32>, %B: memref<64x64xf32>, %C: memref<64x64xf32>) {
    // expected-error @+1 {{needs 1024 scratchpad rows (A and B tiles, double-buffered) but the target has 512}}
    hwacc.matmul ins(%A, %B : memref<64x64xf32>, memref<64x64xf32>) outs(%C : memref<64x64xf32>) tile [64, 64, 64] dataflow "ws" loop_order "mnk" double_buffer
    return
  }
}

// -----

module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 128>} {
  func.func @accumulator_too_small(%A: memref<64x64xf32>, %B: memref<64x64xf32>, %C: memref<64x64xf32>) {
    // expected-error @+1 {{needs 256 accumulator rows but the target has 128}}
    hwacc.matmul ins(%A, %B : memref<64x64xf32>, memref<64x64xf32>) outs(%C : memref<64x64xf32>) tile [64, 64, 64] dataflow "ws" loop_order "mnk"
    return
  }
}

// -----

func.func @element_types(%A: memref<8x8xf32>, %B: memref<8x8xi8>, %C: memref<8x8xf32>) {
  // expected-error @+1 {{element types must be f32 x f32 -> f32 or i8 x i8 -> i32, got 'f32' x 'i8' -> 'f32'}}
  hwacc.matmul ins(%A, %B : memref<8x8xf32>, memref<8x8xi8>) outs(%C : memref<8x8xf32>) tile [16, 16, 16] dataflow "ws" loop_order "mnk"
  return
}

// -----

func.func @shapes(%A: memref<8x4xf32>, %B: memref<5x8xf32>, %C: memref<8x8xf32>) {
  // expected-error @+1 {{shapes do not form a GEMM}}
  hwacc.matmul ins(%A, %B : memref<8x4xf32>, memref<5x8xf32>) outs(%C : memref<8x8xf32>) tile [16, 16, 16] dataflow "ws" loop_order "mnk"
  return
}

// -----

func.func @dataflow(%A: memref<8x8xf32>, %B: memref<8x8xf32>, %C: memref<8x8xf32>) {
  // expected-error @+1 {{dataflow must be "ws" or "os", got "rs"}}
  hwacc.matmul ins(%A, %B : memref<8x8xf32>, memref<8x8xf32>) outs(%C : memref<8x8xf32>) tile [16, 16, 16] dataflow "rs" loop_order "mnk"
  return
}

// -----

module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 1024>} {
  func.func @mvin_out_of_range(%A: memref<64x32xf32>) {
    %c4090 = arith.constant 4090 : index
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    // expected-error @+1 {{scratchpad rows [4090, 4106) exceed the 4096 rows of the scratchpad}}
    hwacc.mvin %A[%c0, %c0] to sp[%c4090] size [%c16, %c16] : memref<64x32xf32>
    return
  }
}

// -----

module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 1024>} {
  func.func @size_above_dim(%A: memref<64x32xf32>) {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c32 = arith.constant 32 : index
    // expected-error @+1 {{rows 32 exceeds the array dim 16}}
    hwacc.mvin %A[%c0, %c0] to sp[%c0] size [%c32, %c16] : memref<64x32xf32>
    return
  }
}

// -----

module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 1024>} {
  func.func @mvout_out_of_range(%C: memref<64x32xf32>) {
    %c0 = arith.constant 0 : index
    %c16 = arith.constant 16 : index
    %c1020 = arith.constant 1020 : index
    // expected-error @+1 {{accumulator rows [1020, 1036) exceed the 1024 rows of the accumulator}}
    hwacc.mvout %C[%c0, %c0] from acc[%c1020] size [%c16, %c16] : memref<64x32xf32>
    return
  }
}

// -----

func.func @mvin_type(%A: memref<16x16xi32>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  // expected-error @+1 {{scratchpad mvin takes f32 or i8 elements, got 'i32'}}
  hwacc.mvin %A[%c0, %c0] to sp[%c0] size [%c16, %c16] : memref<16x16xi32>
  return
}

// -----

func.func @config_types() {
  // expected-error @+1 {{f32 inputs write f32 outputs, got 'i8'}}
  hwacc.config dataflow "ws" elem f32 out i8 scale 1.0 relu false
  return
}

// -----

func.func @compute_zero() {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  // expected-error @+1 {{m must be at least 1, got 0}}
  hwacc.compute sp[%c0] size [%c0, %c16]
  return
}

// -----

// expected-error @+1 {{dim must be a power of two in [2, 256], got 12}}
module attributes {hwacc.target = #hwacc.target<dim = 12, scratchpad_rows = 4096, accumulator_rows = 1024>} {
}
