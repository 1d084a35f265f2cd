// Attention scores and context as an Einsum imports them: linalg.generic
// contractions, 'bid,bjd->bij' (B transposed) and 'bij,bjd->bid'.
#q = affine_map<(b, i, j, d) -> (b, i, d)>
#k = affine_map<(b, i, j, d) -> (b, j, d)>
#s = affine_map<(b, i, j, d) -> (b, i, j)>
#p = affine_map<(b, i, d, j) -> (b, i, j)>
#v = affine_map<(b, i, d, j) -> (b, j, d)>
#o = affine_map<(b, i, d, j) -> (b, i, d)>
func.func @attention(%q: tensor<3x16x64xf32>, %k: tensor<3x16x64xf32>,
                     %v: tensor<3x16x64xf32>) -> tensor<3x16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x16x16xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<3x16x16xf32>) -> tensor<3x16x16xf32>
  %scores = linalg.generic {indexing_maps = [#q, #k, #s],
                            iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<3x16x64xf32>, tensor<3x16x64xf32>) outs(%acc : tensor<3x16x16xf32>) {
  ^bb0(%x: f32, %y: f32, %a: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<3x16x16xf32>
  %e2 = tensor.empty() : tensor<3x16x64xf32>
  %acc2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<3x16x64xf32>) -> tensor<3x16x64xf32>
  %ctx = linalg.generic {indexing_maps = [#p, #v, #o],
                         iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%scores, %v : tensor<3x16x16xf32>, tensor<3x16x64xf32>) outs(%acc2 : tensor<3x16x64xf32>) {
  ^bb0(%x: f32, %y: f32, %a: f32):
    %m = arith.mulf %x, %y : f32
    %r = arith.addf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<3x16x64xf32>
  return %ctx : tensor<3x16x64xf32>
}
