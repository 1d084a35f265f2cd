// A matmul that accumulates into an uninitialized tensor.empty: its result
// depends on whatever the output buffer held, so no schedule can be right.
func.func @matmul_no_fill(%A: tensor<64x32xf32>, %B: tensor<32x48xf32>) -> tensor<64x48xf32> {
  %init = tensor.empty() : tensor<64x48xf32>
  %C = linalg.matmul ins(%A, %B : tensor<64x32xf32>, tensor<32x48xf32>)
                     outs(%init : tensor<64x48xf32>) -> tensor<64x48xf32>
  return %C : tensor<64x48xf32>
}
