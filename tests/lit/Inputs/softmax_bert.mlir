// A BERT attention softmax as hatc import writes it (1x12x128x128 scores,
// the batch dim 1 leading): max, exp of the difference, sum, divide.
#map3 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#map4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, 0)>
func.func @softmax(%expanded_30: tensor<1x12x128x128xf32>) -> tensor<1x12x128x128xf32> {
  %cst_6 = arith.constant 0xFF800000 : f32
  %cst_7 = arith.constant 0.0 : f32
  %14 = tensor.empty() : tensor<1x12x128x1xf32>
  %15 = linalg.fill ins(%cst_6 : f32) outs(%14 : tensor<1x12x128x1xf32>) -> tensor<1x12x128x1xf32>
  %16 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%expanded_30 : tensor<1x12x128x128xf32>) outs(%15 : tensor<1x12x128x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %45 = arith.maximumf %out, %in : f32
    linalg.yield %45 : f32
  } -> tensor<1x12x128x1xf32>
  %17 = tensor.empty() : tensor<1x12x128x128xf32>
  %18 = linalg.generic {indexing_maps = [#map3, #map4, #map3], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%expanded_30, %16 : tensor<1x12x128x128xf32>, tensor<1x12x128x1xf32>) outs(%17 : tensor<1x12x128x128xf32>) {
  ^bb0(%in: f32, %in_39: f32, %out: f32):
    %45 = arith.subf %in, %in_39 : f32
    %46 = math.exp %45 : f32
    linalg.yield %46 : f32
  } -> tensor<1x12x128x128xf32>
  %19 = linalg.fill ins(%cst_7 : f32) outs(%14 : tensor<1x12x128x1xf32>) -> tensor<1x12x128x1xf32>
  %20 = linalg.generic {indexing_maps = [#map3, #map4], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%18 : tensor<1x12x128x128xf32>) outs(%19 : tensor<1x12x128x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %45 = arith.addf %out, %in : f32
    linalg.yield %45 : f32
  } -> tensor<1x12x128x1xf32>
  %21 = linalg.generic {indexing_maps = [#map3, #map4, #map3], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%18, %20 : tensor<1x12x128x128xf32>, tensor<1x12x128x1xf32>) outs(%17 : tensor<1x12x128x128xf32>) {
  ^bb0(%in: f32, %in_39: f32, %out: f32):
    %45 = arith.divf %in, %in_39 : f32
    linalg.yield %45 : f32
  } -> tensor<1x12x128x128xf32>
  return %21 : tensor<1x12x128x128xf32>
}
