// Two GEMMs: a 64x128x256 hidden layer with ReLU, then a 4-class head
// (64x4x128) whose 4 columns fill a quarter of a 16x16 array.
#id = affine_map<(i, j) -> (i, j)>
func.func @mlp(%X: tensor<64x256xf32>, %W1: tensor<256x128xf32>,
               %W2: tensor<128x4xf32>) -> tensor<64x4xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<64x128xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<64x128xf32>) -> tensor<64x128xf32>
  %h = linalg.matmul ins(%X, %W1 : tensor<64x256xf32>, tensor<256x128xf32>)
                     outs(%f1 : tensor<64x128xf32>) -> tensor<64x128xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%h : tensor<64x128xf32>) outs(%e1 : tensor<64x128xf32>) {
  ^bb0(%x: f32, %o: f32):
    %m = arith.maximumf %x, %zero : f32
    linalg.yield %m : f32
  } -> tensor<64x128xf32>
  %e2 = tensor.empty() : tensor<64x4xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<64x4xf32>) -> tensor<64x4xf32>
  %y = linalg.matmul ins(%r, %W2 : tensor<64x128xf32>, tensor<128x4xf32>)
                     outs(%f2 : tensor<64x4xf32>) -> tensor<64x4xf32>
  return %y : tensor<64x4xf32>
}
