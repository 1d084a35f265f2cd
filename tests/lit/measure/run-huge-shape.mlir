// Inputs too big for memory are one clear error naming the size, the
// operand and its shape, not a bare std::bad_alloc: `hatc run` exits 1, and
// a measurement worker records OUT_OF_MEMORY with the same words and goes
// on with the next request. `ulimit -v` makes the allocation fail at once
// whatever the machine's memory.

// RUN: (ulimit -v 4194304; %expect-exit 1 hatc run %s --repeat 1) 2>&1 | FileCheck %s --check-prefix=HUGE
// HUGE-NOT: bad_alloc
// HUGE: hatc: error: cannot allocate 37.3 GiB for operand 0 (tensor<100000x100000xf32>) of matmul_f32_M100000_N100000_K100000 in {{.*}}run-huge-shape.mlir
// HUGE-NOT: bad_alloc

// RUN: printf '%%s\n' \
// RUN:   '{"type":"measure","id":1,"workload":"%s","options":{"threads":1}}' \
// RUN:   '{"type":"measure","id":2,"workload":"%examples/matmul_odd.mlir","options":{"threads":1,"max_repeat":1}}' \
// RUN:   | (ulimit -v 4194304; hatc-worker) | FileCheck %s --check-prefix=WORKER
// WORKER: {{.*}}"error":"OUT_OF_MEMORY",{{.*}}"id":1,"message":"cannot allocate 37.3 GiB for operand 0 (tensor<100000x100000xf32>) of matmul_f32_M100000_N100000_K100000 in {{.*}}run-huge-shape.mlir","type":"result"}
// WORKER: {{.*}}"error":"OK",{{.*}}"id":2,

// The case that used to hang or blame the wrong candidate: hatc measure of
// two random configs. Each is charged with its own OUT_OF_MEMORY (the
// worker's address-space limit is 4 GiB) and the run ends, exit 1 (no config
// ran); `timeout` only turns a hang into a failure.
// RUN: %expect-exit 1 timeout 300 hatc measure %s --target cpu --random 2 --seed 1 --json | FileCheck %s --check-prefix=MEASURE
// MEASURE: "error":"OUT_OF_MEMORY","gflops":0.0,"index":0,"message":"cannot allocate 37.3 GiB for operand 0 (tensor<100000x100000xf32>) of matmul_f32_M100000_N100000_K100000 in {{.*}}run-huge-shape.mlir"
// MEASURE-NEXT: "error":"OUT_OF_MEMORY","gflops":0.0,"index":1,"message":"cannot allocate 37.3 GiB for operand 0
// MEASURE-NOT: "index":2

func.func @matmul_huge(%A: tensor<100000x100000xf32>, %B: tensor<100000x100000xf32>) -> tensor<100000x100000xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<100000x100000xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<100000x100000xf32>) -> tensor<100000x100000xf32>
  %C = linalg.matmul ins(%A, %B : tensor<100000x100000xf32>, tensor<100000x100000xf32>)
                     outs(%C0 : tensor<100000x100000xf32>) -> tensor<100000x100000xf32>
  return %C : tensor<100000x100000xf32>
}
