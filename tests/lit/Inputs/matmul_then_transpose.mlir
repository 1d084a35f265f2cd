// A matmul and a transpose of its result (as BERT's attention has): the
// default schedule's steps for the transpose canonicalize the function, and
// the matmul's register tile must already be a contraction by then (else
// its unit k reduction folds to mulf + addf, which never become FMAs).
func.func @matmul_then_transpose(%A: tensor<128x64xf32>, %B: tensor<64x64xf32>) -> tensor<64x128xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<128x64xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<128x64xf32>) -> tensor<128x64xf32>
  %C = linalg.matmul ins(%A, %B : tensor<128x64xf32>, tensor<64x64xf32>) outs(%C0 : tensor<128x64xf32>) -> tensor<128x64xf32>
  %tinit = tensor.empty() : tensor<64x128xf32>
  %T = linalg.transpose ins(%C : tensor<128x64xf32>) outs(%tinit : tensor<64x128xf32>) permutation = [1, 0]
  return %T : tensor<64x128xf32>
}
