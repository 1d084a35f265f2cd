// The GPU pipeline's hatc-distinct-result-buffers{copy=false}: a returned
// input or a buffer returned twice is an error naming the result (a copy
// would run on the host over device memory; the out-param pass crashed).
// RUN: hatc-opt %s --split-input-file --verify-diagnostics --pass-pipeline='builtin.module(func.func(hatc-distinct-result-buffers{copy=false}))'

func.func @input(%a: memref<4xf32>, %b: memref<4xf32>) -> (memref<4xf32>, memref<4xf32>) {
  %c = memref.alloc() : memref<4xf32>
  // expected-error @+1 {{result 0 is an input of the function: this target cannot copy it on the host; return a value the function computes}}
  return %a, %c : memref<4xf32>, memref<4xf32>
}

// -----

func.func @twice() -> (memref<4xf32>, memref<4xf32>) {
  %c = memref.alloc() : memref<4xf32>
  // expected-error @+1 {{result 1 is a value returned before it: this target cannot copy it on the host; return a value the function computes}}
  return %c, %c : memref<4xf32>, memref<4xf32>
}

// -----

// One fresh allocation per result: nothing to say.
func.func @fresh() -> (memref<4xf32>, memref<4xf32>) {
  %c = memref.alloc() : memref<4xf32>
  %d = memref.alloc() : memref<4xf32>
  return %c, %d : memref<4xf32>, memref<4xf32>
}
