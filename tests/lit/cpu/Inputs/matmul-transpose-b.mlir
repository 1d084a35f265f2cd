// A linear layer as PyTorch stores it: x (128x768) times W^T (W: 768x768), plus a bias.
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @task(%a: tensor<128x768xf32>, %b: tensor<768x768xf32>, %bias: tensor<768xf32>) -> tensor<128x768xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<128x768xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<128x768xf32>) -> tensor<128x768xf32>
  %mm = linalg.matmul_transpose_b ins(%a, %b : tensor<128x768xf32>, tensor<768x768xf32>)
      outs(%f2 : tensor<128x768xf32>) -> tensor<128x768xf32>
  %y = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<128x768xf32>, tensor<768xf32>) outs(%e1 : tensor<128x768xf32>) {
  ^bb0(%in: f32, %bb: f32, %out: f32):
    %s = arith.addf %in, %bb : f32
    linalg.yield %s : f32
  } -> tensor<128x768xf32>
  return %y : tensor<128x768xf32>
}
