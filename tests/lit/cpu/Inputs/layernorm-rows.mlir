// A layernorm over rows of 768 as the BERT layer imports it (mean, centre,
// variance, normalize), its reductions' kept dims dropped (row-chain.test).
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#row = affine_map<(d0, d1, d2) -> (d0, d1)>
#vec = affine_map<(d0, d1, d2) -> (d2)>
module {
  func.func @main(%x: tensor<1x128x768xf32>, %gamma: tensor<768xf32>, %beta: tensor<768xf32>) -> tensor<1x128x768xf32> {
    %zero = arith.constant 0.0 : f32
    %n = arith.constant 768.0 : f32
    %two = arith.constant 2.0 : f32
    %eps = arith.constant 1.0e-12 : f32
    %e = tensor.empty() : tensor<1x128xf32>
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x128xf32>) -> tensor<1x128xf32>
    %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%x : tensor<1x128x768xf32>) outs(%f : tensor<1x128xf32>) {
    ^bb0(%in: f32, %out: f32):
      %r = arith.addf %out, %in : f32
      linalg.yield %r : f32
    } -> tensor<1x128xf32>
    %big = tensor.empty() : tensor<1x128x768xf32>
    %c = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %sum : tensor<1x128x768xf32>, tensor<1x128xf32>) outs(%big : tensor<1x128x768xf32>) {
    ^bb0(%in: f32, %s: f32, %out: f32):
      %m = arith.divf %s, %n : f32
      %d = arith.subf %in, %m : f32
      linalg.yield %d : f32
    } -> tensor<1x128x768xf32>
    %e2 = tensor.empty() : tensor<1x128xf32>
    %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x128xf32>) -> tensor<1x128xf32>
    %var = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]} ins(%c : tensor<1x128x768xf32>) outs(%f2 : tensor<1x128xf32>) {
    ^bb0(%in: f32, %out: f32):
      %p = math.powf %in, %two : f32
      %r = arith.addf %out, %p : f32
      linalg.yield %r : f32
    } -> tensor<1x128xf32>
    %y = linalg.generic {indexing_maps = [#id, #row, #vec, #vec, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%c, %var, %gamma, %beta : tensor<1x128x768xf32>, tensor<1x128xf32>, tensor<768xf32>, tensor<768xf32>) outs(%big : tensor<1x128x768xf32>) {
    ^bb0(%in: f32, %v: f32, %g: f32, %b: f32, %out: f32):
      %m = arith.divf %v, %n : f32
      %a = arith.addf %m, %eps : f32
      %s = math.sqrt %a : f32
      %q = arith.divf %in, %s : f32
      %w = arith.mulf %q, %g : f32
      %o = arith.addf %w, %b : f32
      linalg.yield %o : f32
    } -> tensor<1x128x768xf32>
    return %y : tensor<1x128x768xf32>
  }
}
