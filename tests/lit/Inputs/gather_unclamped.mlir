// A gather whose ids are used as they are: random inputs read outside
// the table.
#ids = affine_map<(d0, d1) -> (d0)>
#out = affine_map<(d0, d1) -> (d0, d1)>
func.func @lookup(%table: tensor<10x32xf32>, %ids: tensor<8xi64>) -> tensor<8x32xf32> {
  %init = tensor.empty() : tensor<8x32xf32>
  %r = linalg.generic {indexing_maps = [#ids, #out],
                       iterator_types = ["parallel", "parallel"]}
      ins(%ids : tensor<8xi64>) outs(%init : tensor<8x32xf32>) {
  ^bb0(%id: i64, %o: f32):
    %col = linalg.index 1 : index
    %row = arith.index_cast %id : i64 to index
    %v = tensor.extract %table[%row, %col] : tensor<10x32xf32>
    linalg.yield %v : f32
  } -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}
