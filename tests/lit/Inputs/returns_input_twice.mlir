// Returns an input, and one computed value twice.
func.func @f(%A: tensor<4x4xf32>, %B: tensor<4x4xf32>)
    -> (tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x4xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<4x4xf32>) -> tensor<4x4xf32>
  %C = linalg.matmul ins(%A, %B : tensor<4x4xf32>, tensor<4x4xf32>)
      outs(%C0 : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %A, %C, %C : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xf32>
}
