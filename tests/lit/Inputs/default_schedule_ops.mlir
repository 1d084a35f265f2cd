// Two matmuls of different shapes (same iterators: untagged, matched by
// name and split), a row reduction and a ReLU (generics whose iterators
// differ: tagged with hatc.op_index when loaded).
#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
func.func @ops(%A: tensor<128x256xf32>, %B: tensor<256x192xf32>,
               %C: tensor<192x67xf32>) -> (tensor<128x67xf32>, tensor<128xf32>) {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<128x192xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<128x192xf32>) -> tensor<128x192xf32>
  %m1 = linalg.matmul ins(%A, %B : tensor<128x256xf32>, tensor<256x192xf32>)
                      outs(%f1 : tensor<128x192xf32>) -> tensor<128x192xf32>
  %e2 = tensor.empty() : tensor<128x67xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<128x67xf32>) -> tensor<128x67xf32>
  %m2 = linalg.matmul ins(%m1, %C : tensor<128x192xf32>, tensor<192x67xf32>)
                      outs(%f2 : tensor<128x67xf32>) -> tensor<128x67xf32>
  %e3 = tensor.empty() : tensor<128xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<128xf32>) -> tensor<128xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row],
                         iterator_types = ["parallel", "reduction"]}
      ins(%m2 : tensor<128x67xf32>) outs(%f3 : tensor<128xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %x, %acc : f32
    linalg.yield %s : f32
  } -> tensor<128xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id],
                          iterator_types = ["parallel", "parallel"]}
      ins(%m2 : tensor<128x67xf32>) outs(%e2 : tensor<128x67xf32>) {
  ^bb0(%x: f32, %out: f32):
    %r = arith.maximumf %x, %zero : f32
    linalg.yield %r : f32
  } -> tensor<128x67xf32>
  return %relu, %sum : tensor<128x67xf32>, tensor<128xf32>
}
