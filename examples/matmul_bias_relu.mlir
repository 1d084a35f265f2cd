// A fusion candidate: the BERT FFN matmul followed by bias-add + ReLU.
#rows = affine_map<(i, j) -> (i, j)>
#bias = affine_map<(i, j) -> (j)>
func.func @ffn_relu(%X: tensor<128x768xf32>, %W: tensor<768x3072xf32>, %b: tensor<3072xf32>) -> tensor<128x3072xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<128x3072xf32>
  %Y0 = linalg.fill ins(%zero : f32) outs(%init : tensor<128x3072xf32>) -> tensor<128x3072xf32>
  %Y = linalg.matmul ins(%X, %W : tensor<128x768xf32>, tensor<768x3072xf32>)
                     outs(%Y0 : tensor<128x3072xf32>) -> tensor<128x3072xf32>
  %Z = linalg.generic {indexing_maps = [#rows, #bias, #rows],
                       iterator_types = ["parallel", "parallel"]}
      ins(%Y, %b : tensor<128x3072xf32>, tensor<3072xf32>) outs(%init : tensor<128x3072xf32>) {
  ^bb0(%y: f32, %bias: f32, %out: f32):
    %sum = arith.addf %y, %bias : f32
    %relu = arith.maximumf %sum, %zero : f32
    linalg.yield %relu : f32
  } -> tensor<128x3072xf32>
  return %Z : tensor<128x3072xf32>
}
