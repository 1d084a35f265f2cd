// BERT-base attention scores: 12 heads, Q (128x64) times K^T (64x128).
func.func @attention_scores(%Q: tensor<12x128x64xf32>, %Kt: tensor<12x64x128xf32>) -> tensor<12x128x128xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<12x128x128xf32>
  %S0 = linalg.fill ins(%zero : f32) outs(%init : tensor<12x128x128xf32>) -> tensor<12x128x128xf32>
  %S = linalg.batch_matmul ins(%Q, %Kt : tensor<12x128x64xf32>, tensor<12x64x128xf32>)
                           outs(%S0 : tensor<12x128x128xf32>) -> tensor<12x128x128xf32>
  return %S : tensor<12x128x128xf32>
}
