// 257x129x67: no dim a multiple of the register tile or of the k group.
func.func @matmul_odd_bf16(%A: tensor<257x67xbf16>, %B: tensor<67x129xbf16>) -> tensor<257x129xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<257x129xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<257x129xf32>) -> tensor<257x129xf32>
  %C = linalg.matmul ins(%A, %B : tensor<257x67xbf16>, tensor<67x129xbf16>)
                     outs(%C0 : tensor<257x129xf32>) -> tensor<257x129xf32>
  return %C : tensor<257x129xf32>
}
