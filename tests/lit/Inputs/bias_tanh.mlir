// Elementwise with math.tanh, which LLVM 19 cannot lower (hatc-expand-math).
#rows = affine_map<(i, j) -> (i, j)>
#bias = affine_map<(i, j) -> (j)>
func.func @bias_tanh(%X: tensor<128x3072xf32>, %b: tensor<3072xf32>) -> tensor<128x3072xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<128x3072xf32>
  %Y = linalg.generic {indexing_maps = [#rows, #bias, #rows],
                       iterator_types = ["parallel", "parallel"]}
      ins(%X, %b : tensor<128x3072xf32>, tensor<3072xf32>) outs(%init : tensor<128x3072xf32>) {
  ^bb0(%x: f32, %bias: f32, %out: f32):
    %sum = arith.addf %x, %bias : f32
    %relu = math.tanh %sum : f32
    linalg.yield %relu : f32
  } -> tensor<128x3072xf32>
  return %Y : tensor<128x3072xf32>
}
