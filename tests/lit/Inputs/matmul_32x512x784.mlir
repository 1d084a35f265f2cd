// The MLP benchmark's first layer: 32 rows of 784 inputs by 512 outputs.
func.func @layer1(%A: tensor<32x784xf32>, %B: tensor<784x512xf32>) -> tensor<32x512xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<32x512xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<32x512xf32>) -> tensor<32x512xf32>
  %C = linalg.matmul ins(%A, %B : tensor<32x784xf32>, tensor<784x512xf32>) outs(%C0 : tensor<32x512xf32>) -> tensor<32x512xf32>
  return %C : tensor<32x512xf32>
}
