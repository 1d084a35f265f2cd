// Elementwise over [2, 3, 4, 5]: an inner extent of 5, which no column
// chunk of cpu_elementwise (16 to 256) divides.
#id = affine_map<(a, b, c, d) -> (a, b, c, d)>
func.func @relu_odd_columns(%X: tensor<2x3x4x5xf32>) -> tensor<2x3x4x5xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<2x3x4x5xf32>
  %Y = linalg.generic {indexing_maps = [#id, #id],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%X : tensor<2x3x4x5xf32>) outs(%init : tensor<2x3x4x5xf32>) {
  ^bb0(%x: f32, %out: f32):
    %relu = arith.maximumf %x, %zero : f32
    linalg.yield %relu : f32
  } -> tensor<2x3x4x5xf32>
  return %Y : tensor<2x3x4x5xf32>
}
