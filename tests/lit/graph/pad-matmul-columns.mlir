// hatc-fold-constants with pad-matmul-columns (the graph pipeline's first
// run): a matmul whose constant B has a column count 16 does not divide
// runs on B padded with zero columns, its result sliced back.
// RUN: hatc-opt %s -split-input-file --hatc-fold-constants="pad-matmul-columns=true resource-threshold=1000" | FileCheck %s
// Off by default.
// RUN: hatc-opt %s -split-input-file --hatc-fold-constants | FileCheck %s --check-prefix=OFF

// 100 columns: the next multiple of 64 (128) adds more than an eighth, the
// next of 16 (112) does not.
// CHECK-LABEL: func.func @head
// CHECK: %[[B:.*]] = arith.constant dense<{{.*}}> : tensor<4x112xf32>
// CHECK: %[[E:.*]] = tensor.empty() : tensor<2x112xf32>
// CHECK: %[[ACC:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[E]] : tensor<2x112xf32>)
// CHECK: %[[MM:.*]] = linalg.matmul ins(%arg0, %[[B]] : tensor<2x4xf32>, tensor<4x112xf32>) outs(%[[ACC]] : tensor<2x112xf32>)
// CHECK: %[[R:.*]] = tensor.extract_slice %[[MM]][0, 0] [2, 100] [1, 1] : tensor<2x112xf32> to tensor<2x100xf32>
// CHECK: return %[[R]]
// OFF-LABEL: func.func @head
// OFF: linalg.matmul {{.*}} tensor<4x100xf32>
func.func @head(%a: tensor<2x4xf32>) -> tensor<2x100xf32> {
  %zero = arith.constant 0.0 : f32
  %b = arith.constant dense<1.5> : tensor<4x100xf32>
  %e = tensor.empty() : tensor<2x100xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x100xf32>) -> tensor<2x100xf32>
  %c = linalg.matmul ins(%a, %b : tensor<2x4xf32>, tensor<4x100xf32>) outs(%acc : tensor<2x100xf32>) -> tensor<2x100xf32>
  return %c : tensor<2x100xf32>
}

// -----

// The padded columns are zeros: row k of B keeps its values, then 0s.
// CHECK-LABEL: func.func @values
// CHECK: arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00, 7.000000e+00, 8.000000e+00, 9.000000e+00, 1.000000e+01, 1.100000e+01, 1.200000e+01, 1.300000e+01, 1.400000e+01, 1.500000e+01, 0.000000e+00], [1.600000e+01, {{.*}}, 3.000000e+01, 0.000000e+00]]> : tensor<2x16xf32>
func.func @values(%a: tensor<3x2xf32>) -> tensor<3x15xf32> {
  %zero = arith.constant 0.0 : f32
  %b = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0],
                             [16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0]]> : tensor<2x15xf32>
  %e = tensor.empty() : tensor<3x15xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x15xf32>) -> tensor<3x15xf32>
  %c = linalg.matmul ins(%a, %b : tensor<3x2xf32>, tensor<2x15xf32>) outs(%acc : tensor<3x15xf32>) -> tensor<3x15xf32>
  return %c : tensor<3x15xf32>
}

// -----

// Left alone: 16 divides N; N = 10 (padding would add 60%); B not a
// constant; an accumulator that is not a fill.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: tensor.extract_slice
// CHECK: return
func.func @kept(%a: tensor<2x4xf32>, %b: tensor<4x100xf32>, %acc: tensor<2x100xf32>)
    -> (tensor<2x64xf32>, tensor<2x10xf32>, tensor<2x100xf32>, tensor<2x100xf32>) {
  %zero = arith.constant 0.0 : f32
  %b64 = arith.constant dense<1.0> : tensor<4x64xf32>
  %b10 = arith.constant dense<1.0> : tensor<4x10xf32>
  %b100 = arith.constant dense<1.0> : tensor<4x100xf32>
  %e64 = tensor.empty() : tensor<2x64xf32>
  %f64 = linalg.fill ins(%zero : f32) outs(%e64 : tensor<2x64xf32>) -> tensor<2x64xf32>
  %m64 = linalg.matmul ins(%a, %b64 : tensor<2x4xf32>, tensor<4x64xf32>) outs(%f64 : tensor<2x64xf32>) -> tensor<2x64xf32>
  %e10 = tensor.empty() : tensor<2x10xf32>
  %f10 = linalg.fill ins(%zero : f32) outs(%e10 : tensor<2x10xf32>) -> tensor<2x10xf32>
  %m10 = linalg.matmul ins(%a, %b10 : tensor<2x4xf32>, tensor<4x10xf32>) outs(%f10 : tensor<2x10xf32>) -> tensor<2x10xf32>
  %e100 = tensor.empty() : tensor<2x100xf32>
  %f100 = linalg.fill ins(%zero : f32) outs(%e100 : tensor<2x100xf32>) -> tensor<2x100xf32>
  %mvar = linalg.matmul ins(%a, %b : tensor<2x4xf32>, tensor<4x100xf32>) outs(%f100 : tensor<2x100xf32>) -> tensor<2x100xf32>
  %macc = linalg.matmul ins(%a, %b100 : tensor<2x4xf32>, tensor<4x100xf32>) outs(%acc : tensor<2x100xf32>) -> tensor<2x100xf32>
  return %m64, %m10, %mvar, %macc : tensor<2x64xf32>, tensor<2x10xf32>, tensor<2x100xf32>, tensor<2x100xf32>
}
