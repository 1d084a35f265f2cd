// convert-math-to-llvm in MLIR 19 lowers none of these: hatc-expand-math
// approximates an f32 erf by a polynomial and calls libm for the rest (f64
// erf, the inverse and hyperbolic trigonometric functions, tan, cbrt),
// unrolling vectors; ops with an LLVM intrinsic (sin) are left alone.
// RUN: hatc-opt %s --hatc-expand-math | FileCheck %s
// RUN: hatc-opt %s --hatc-cpu-to-llvm | mlir-translate --mlir-to-llvmir | FileCheck %s --check-prefix=LLVM

// CHECK-LABEL: func.func @erf_f32
// CHECK-NOT: math.erf
// CHECK-NOT: call
// CHECK: return
func.func @erf_f32(%x: f32, %v: vector<4xf32>) -> (f32, vector<4xf32>) {
  %0 = math.erf %x : f32
  %1 = math.erf %v : vector<4xf32>
  return %0, %1 : f32, vector<4xf32>
}

// CHECK-LABEL: func.func @libm
// CHECK: call @erf(%{{.*}}) : (f64) -> f64
// CHECK: call @atanf(%{{.*}}) : (f32) -> f32
// CHECK: call @asin(%{{.*}}) : (f64) -> f64
// CHECK: call @acosf
// CHECK: call @sinhf
// CHECK: call @cosh(
// CHECK: call @tanf
// CHECK: call @asinhf
// CHECK: call @acoshf
// CHECK: call @atanhf
// CHECK: call @cbrtf
// CHECK: math.sin
// CHECK: return
func.func @libm(%x: f32, %d: f64) -> (f64, f32, f64, f32, f32, f64, f32, f32, f32, f32, f32, f32) {
  %0 = math.erf %d : f64
  %1 = math.atan %x : f32
  %2 = math.asin %d : f64
  %3 = math.acos %x : f32
  %4 = math.sinh %x : f32
  %5 = math.cosh %d : f64
  %6 = math.tan %x : f32
  %7 = math.asinh %x : f32
  %8 = math.acosh %x : f32
  %9 = math.atanh %x : f32
  %10 = math.cbrt %x : f32
  %11 = math.sin %x : f32
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11
      : f64, f32, f64, f32, f32, f64, f32, f32, f32, f32, f32, f32
}

// CHECK-LABEL: func.func @vector_f64
// CHECK-COUNT-2: call @atan(
// CHECK: return
func.func @vector_f64(%v: vector<2xf64>) -> vector<2xf64> {
  %0 = math.atan %v : vector<2xf64>
  return %0 : vector<2xf64>
}

// LLVM-DAG: declare double @erf(double)
// LLVM-DAG: declare float @atanf(float)
// LLVM-DAG: call float @llvm.sin.f32
