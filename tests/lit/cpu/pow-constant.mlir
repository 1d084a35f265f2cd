// powf by a constant exponent: hatc-expand-math runs MLIR's algebraic
// simplification, so x^3 (a tanh-form GELU: 0.5 x (1 + tanh(c (x +
// 0.044715 x^3)))) is two multiplies, not llvm.pow (a powf call per
// element, which made a 32x512x128 matmul + GELU 4x slower: 104 against
// 25 us). Exponents it has no rule for (4 here) keep math.powf.
// RUN: hatc-opt %s --hatc-expand-math | FileCheck %s

// CHECK-LABEL: func.func @powers
// CHECK: %[[SQ:.*]] = arith.mulf %arg0, %arg0 : vector<16xf32>
// CHECK: %[[SQ2:.*]] = arith.mulf %arg0, %arg0 : vector<16xf32>
// CHECK: %[[CUBE:.*]] = arith.mulf %arg0, %[[SQ2]] : vector<16xf32>
// CHECK: %[[ROOT:.*]] = math.sqrt %arg0 : vector<16xf32>
// CHECK: %[[RROOT:.*]] = math.rsqrt %arg0 : vector<16xf32>
// CHECK: %[[RECIP:.*]] = arith.divf %{{.*}}, %arg0 : vector<16xf32>
// CHECK: %[[FOURTH:.*]] = math.powf %arg0, %{{.*}} : vector<16xf32>
// CHECK: return %[[SQ]], %[[CUBE]], %[[ROOT]], %[[RROOT]], %[[RECIP]], %[[FOURTH]]
func.func @powers(%x: vector<16xf32>) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>,
                                         vector<16xf32>, vector<16xf32>, vector<16xf32>) {
  %c2 = arith.constant dense<2.0> : vector<16xf32>
  %c3 = arith.constant dense<3.0> : vector<16xf32>
  %ch = arith.constant dense<0.5> : vector<16xf32>
  %cmh = arith.constant dense<-0.5> : vector<16xf32>
  %cm1 = arith.constant dense<-1.0> : vector<16xf32>
  %c4 = arith.constant dense<4.0> : vector<16xf32>
  %0 = math.powf %x, %c2 : vector<16xf32>
  %1 = math.powf %x, %c3 : vector<16xf32>
  %2 = math.powf %x, %ch : vector<16xf32>
  %3 = math.powf %x, %cmh : vector<16xf32>
  %4 = math.powf %x, %cm1 : vector<16xf32>
  %5 = math.powf %x, %c4 : vector<16xf32>
  return %0, %1, %2, %3, %4, %5 : vector<16xf32>, vector<16xf32>, vector<16xf32>,
                                  vector<16xf32>, vector<16xf32>, vector<16xf32>
}

// A scalar cube (the body of a generic LLVM vectorizes) too.
// CHECK-LABEL: func.func @scalar_cube
// CHECK-NOT: math.powf
// CHECK: %[[S:.*]] = arith.mulf %arg0, %arg0 : f32
// CHECK: arith.mulf %arg0, %[[S]] : f32
func.func @scalar_cube(%x: f32) -> f32 {
  %c3 = arith.constant 3.0 : f32
  %0 = math.powf %x, %c3 : f32
  return %0 : f32
}
