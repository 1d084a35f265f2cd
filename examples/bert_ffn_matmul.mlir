// BERT-base feed-forward up-projection: 128 tokens x 768 hidden -> 3072.
func.func @bert_ffn(%X: tensor<128x768xf32>, %W: tensor<768x3072xf32>) -> tensor<128x3072xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<128x3072xf32>
  %Y0 = linalg.fill ins(%zero : f32) outs(%init : tensor<128x3072xf32>) -> tensor<128x3072xf32>
  %Y = linalg.matmul ins(%X, %W : tensor<128x768xf32>, tensor<768x3072xf32>)
                     outs(%Y0 : tensor<128x3072xf32>) -> tensor<128x3072xf32>
  return %Y : tensor<128x3072xf32>
}
