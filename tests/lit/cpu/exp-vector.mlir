// exp on f32 vectors (what a vectorized softmax or tanh has): LLVM 19 would
// call expf once per lane, so hatc-expand-math writes it as a range
// reduction and a polynomial; a scalar exp and an f64 vector keep math.exp
// (libm through LLVM's intrinsic). Values: LoweringTest's
// CpuCompile.VectorizedExpMatchesLibm.
// RUN: hatc-opt %s --hatc-expand-math | FileCheck %s

// The clamp to exp's finite range is a compare and a select (one vminps /
// vmaxps, a NaN passes through), not minimumf / maximumf; the range
// reduction and the polynomial may contract into FMAs.
// CHECK-LABEL: func.func @vector_f32
// CHECK-NOT: math.exp
// CHECK-NOT: arith.minimumf
// CHECK-NOT: arith.maximumf
// CHECK: %[[ABOVE:.*]] = arith.cmpf ogt, %arg0, %[[HI:.*]] : vector<2x16xf32>
// CHECK: %[[X:.*]] = arith.select %[[ABOVE]], %[[HI]], %arg0
// CHECK: %[[BELOW:.*]] = arith.cmpf olt, %[[X]], %[[LO:.*]] : vector<2x16xf32>
// CHECK: arith.select %[[BELOW]], %[[LO]], %[[X]]
// CHECK: arith.mulf %{{.*}} fastmath<contract>
// CHECK: arith.addf %{{.*}} fastmath<contract>
// CHECK: math.floor %{{.*}} : vector<2x16xf32>
// CHECK-COUNT-6: arith.addf %{{.*}} fastmath<contract>
// CHECK-NOT: arith.minimumf
// CHECK-NOT: arith.maximumf
// CHECK: arith.fptosi %{{.*}} : vector<2x16xf32> to vector<2x16xi32>
// CHECK: arith.bitcast %{{.*}} : vector<2x16xi32> to vector<2x16xf32>
// CHECK-NOT: math.exp
// CHECK: return
func.func @vector_f32(%v: vector<2x16xf32>) -> vector<2x16xf32> {
  %0 = math.exp %v : vector<2x16xf32>
  return %0 : vector<2x16xf32>
}

// CHECK-LABEL: func.func @kept
// CHECK: math.exp %{{.*}} : f32
// CHECK: math.exp %{{.*}} : vector<4xf64>
// CHECK: return
func.func @kept(%x: f32, %d: vector<4xf64>) -> (f32, vector<4xf64>) {
  %0 = math.exp %x : f32
  %1 = math.exp %d : vector<4xf64>
  return %0, %1 : f32, vector<4xf64>
}
