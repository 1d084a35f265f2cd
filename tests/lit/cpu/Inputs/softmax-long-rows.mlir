// A softmax over rows of 2048 (row-chain.test: too long to fuse whole).
#map3 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
module {
  func.func @main(%x: tensor<1x12x4x2048xf32>) -> tensor<1x12x4x2048xf32> {
    %cst_6 = arith.constant 0xFF800000 : f32
    %cst_7 = arith.constant 0.0 : f32
    %18 = tensor.empty() : tensor<1x12x4xf32>
    %19 = linalg.fill ins(%cst_6 : f32) outs(%18 : tensor<1x12x4xf32>) -> tensor<1x12x4xf32>
    %20 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%x : tensor<1x12x4x2048xf32>) outs(%19 : tensor<1x12x4xf32>) {
    ^bb0(%in: f32, %out: f32):
      %59 = arith.maximumf %out, %in : f32
      linalg.yield %59 : f32
    } -> tensor<1x12x4xf32>
    %21 = tensor.empty() : tensor<1x12x4x2048xf32>
    %22 = linalg.generic {indexing_maps = [#map3, #map4, #map3], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %20 : tensor<1x12x4x2048xf32>, tensor<1x12x4xf32>) outs(%21 : tensor<1x12x4x2048xf32>) {
    ^bb0(%in: f32, %in_39: f32, %out: f32):
      %59 = arith.subf %in, %in_39 : f32
      %60 = math.exp %59 : f32
      linalg.yield %60 : f32
    } -> tensor<1x12x4x2048xf32>
    %23 = linalg.fill ins(%cst_7 : f32) outs(%18 : tensor<1x12x4xf32>) -> tensor<1x12x4xf32>
    %24 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%22 : tensor<1x12x4x2048xf32>) outs(%23 : tensor<1x12x4xf32>) {
    ^bb0(%in: f32, %out: f32):
      %59 = arith.addf %out, %in : f32
      linalg.yield %59 : f32
    } -> tensor<1x12x4xf32>
    %25 = linalg.generic {indexing_maps = [#map3, #map4, #map3], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%22, %24 : tensor<1x12x4x2048xf32>, tensor<1x12x4xf32>) outs(%21 : tensor<1x12x4x2048xf32>) {
    ^bb0(%in: f32, %in_39: f32, %out: f32):
      %59 = arith.divf %in, %in_39 : f32
      linalg.yield %59 : f32
    } -> tensor<1x12x4x2048xf32>
    return %25 : tensor<1x12x4x2048xf32>
  }
}
