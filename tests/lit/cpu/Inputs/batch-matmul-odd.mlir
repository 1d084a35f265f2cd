// A batch matmul whose dims the register tile does not divide (the pad path).
func.func @odd(%A: tensor<3x37x29xf32>, %B: tensor<3x29x45xf32>) -> tensor<3x37x45xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<3x37x45xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<3x37x45xf32>) -> tensor<3x37x45xf32>
  %C = linalg.batch_matmul ins(%A, %B : tensor<3x37x29xf32>, tensor<3x29x45xf32>) outs(%C0 : tensor<3x37x45xf32>) -> tensor<3x37x45xf32>
  return %C : tensor<3x37x45xf32>
}
