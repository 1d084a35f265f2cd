// A vector<16xi1> is stored bit-packed by LLVM, but bool buffers hold one
// byte an element: hatc-widen-i1-vector-memory widens every vector-of-i1
// load and store to bytes, so a vectorized comparison writes 0/1 bytes
// (it once packed 8 results into each byte) and a vectorized select reads
// them back right.
// RUN: hatc run %s --schedule %inputs/vectorize_generics_1x16.mlir --check --repeat 1 | FileCheck %s --check-prefix=OK
// RUN: hatc compile %s --schedule %inputs/vectorize_generics_1x16.mlir --emit llvm | FileCheck %s --check-prefix=IR --implicit-check-not='store <16 x i1>' --implicit-check-not='load <16 x i1>'
// OK: check{{.*}}correct
// IR: store <16 x i8>
// IR: load <16 x i8>
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @main(%a: tensor<8x64xf32>, %b: tensor<8x64xf32>) -> (tensor<8x64xi1>, tensor<8x64xf32>) {
  %e = tensor.empty() : tensor<8x64xi1>
  %gt = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%a, %b : tensor<8x64xf32>, tensor<8x64xf32>) outs(%e : tensor<8x64xi1>) {
  ^bb0(%x: f32, %y: f32, %o: i1):
    %c = arith.cmpf ogt, %x, %y : f32
    linalg.yield %c : i1
  } -> tensor<8x64xi1>
  %e2 = tensor.empty() : tensor<8x64xf32>
  %s = linalg.generic {indexing_maps = [#map, #map, #map, #map], iterator_types = ["parallel", "parallel"]} ins(%gt, %a, %b : tensor<8x64xi1>, tensor<8x64xf32>, tensor<8x64xf32>) outs(%e2 : tensor<8x64xf32>) {
  ^bb0(%c: i1, %x: f32, %y: f32, %o: f32):
    %r = arith.select %c, %y, %x : f32
    linalg.yield %r : f32
  } -> tensor<8x64xf32>
  return %gt, %s : tensor<8x64xi1>, tensor<8x64xf32>
}
