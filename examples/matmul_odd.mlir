// Shapes that are multiples of nothing: 257x67 times 67x129.
func.func @matmul_odd(%A: tensor<257x67xf32>, %B: tensor<67x129xf32>) -> tensor<257x129xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<257x129xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<257x129xf32>) -> tensor<257x129xf32>
  %C = linalg.matmul ins(%A, %B : tensor<257x67xf32>, tensor<67x129xf32>)
                     outs(%C0 : tensor<257x129xf32>) -> tensor<257x129xf32>
  return %C : tensor<257x129xf32>
}
