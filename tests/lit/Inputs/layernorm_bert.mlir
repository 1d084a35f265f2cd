// A BERT layernorm as hatc import writes it (1x128x768, the batch dim 1
// leading): the mean (a sum), the centred values, the variance (their
// squares summed), then normalize, scale and shift.
#map2 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#map5 = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
#map6 = affine_map<(d0, d1, d2) -> (d2)>
func.func @layernorm(%x: tensor<1x128x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>) -> tensor<1x128x768xf32> {
    %cst_7 = arith.constant 0.0 : f32
    %cst_5 = arith.constant 768.0 : f32
    %cst_3 = arith.constant 2.0 : f32
    %cst_2 = arith.constant 1.0e-12 : f32
    %28 = tensor.empty() : tensor<1x128x1xf32>
    %29 = linalg.fill ins(%cst_7 : f32) outs(%28 : tensor<1x128x1xf32>) -> tensor<1x128x1xf32>
    %30 = linalg.generic {indexing_maps = [#map2, #map5], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : tensor<1x128x768xf32>) outs(%29 : tensor<1x128x1xf32>) {
    ^bb0(%in: f32, %out: f32):
      %45 = arith.addf %out, %in : f32
      linalg.yield %45 : f32
    } -> tensor<1x128x1xf32>
    %31 = tensor.empty() : tensor<1x128x768xf32>
    %32 = linalg.generic {indexing_maps = [#map2, #map5, #map2], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %30 : tensor<1x128x768xf32>, tensor<1x128x1xf32>) outs(%31 : tensor<1x128x768xf32>) {
    ^bb0(%in: f32, %in_39: f32, %out: f32):
      %45 = arith.divf %in_39, %cst_5 : f32
      %46 = arith.subf %in, %45 : f32
      linalg.yield %46 : f32
    } -> tensor<1x128x768xf32>
    %33 = linalg.generic {indexing_maps = [#map2, #map5], iterator_types = ["parallel", "parallel", "reduction"]} ins(%32 : tensor<1x128x768xf32>) outs(%29 : tensor<1x128x1xf32>) {
    ^bb0(%in: f32, %out: f32):
      %45 = math.powf %in, %cst_3 : f32
      %46 = arith.addf %out, %45 : f32
      linalg.yield %46 : f32
    } -> tensor<1x128x1xf32>
    %34 = linalg.generic {indexing_maps = [#map2, #map5, #map6, #map6, #map2], iterator_types = ["parallel", "parallel", "parallel"]} ins(%32, %33, %g, %b : tensor<1x128x768xf32>, tensor<1x128x1xf32>, tensor<768xf32>, tensor<768xf32>) outs(%31 : tensor<1x128x768xf32>) {
    ^bb0(%in: f32, %in_39: f32, %in_40: f32, %in_41: f32, %out: f32):
      %45 = arith.divf %in_39, %cst_5 : f32
      %46 = arith.addf %45, %cst_2 : f32
      %47 = math.sqrt %46 : f32
      %48 = arith.divf %in, %47 : f32
      %49 = arith.mulf %48, %in_40 : f32
      %50 = arith.addf %49, %in_41 : f32
      linalg.yield %50 : f32
    } -> tensor<1x128x768xf32>
    return %34 : tensor<1x128x768xf32>
}
