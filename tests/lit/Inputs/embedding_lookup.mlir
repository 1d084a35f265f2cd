// Word plus position embeddings, as the importer writes two Gathers with
// run-time ids and their Add: one all-parallel generic whose body reads
// both tables by tensor.extract, each id counted from the end when
// negative and clamped to its table.
#ids = affine_map<(d0, d1, d2) -> (d0, d1)>
#out = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @embed(%words: tensor<100x64xf32>, %positions: tensor<32x64xf32>,
                 %ids: tensor<1x16xi64>, %pos: tensor<1x16xi64>)
    -> tensor<1x16x64xf32> {
  %c0 = arith.constant 0 : index
  %c31 = arith.constant 31 : index
  %c32 = arith.constant 32 : index
  %c99 = arith.constant 99 : index
  %c100 = arith.constant 100 : index
  %init = tensor.empty() : tensor<1x16x64xf32>
  %r = linalg.generic {indexing_maps = [#ids, #ids, #out],
                       iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%ids, %pos : tensor<1x16xi64>, tensor<1x16xi64>)
      outs(%init : tensor<1x16x64xf32>) {
  ^bb0(%id: i64, %p: i64, %o: f32):
    %col = linalg.index 2 : index
    %row = arith.index_cast %id : i64 to index
    %neg = arith.cmpi slt, %row, %c0 : index
    %wrapped = arith.addi %row, %c100 : index
    %r0 = arith.select %neg, %wrapped, %row : index
    %r1 = arith.maxsi %r0, %c0 : index
    %r2 = arith.minsi %r1, %c99 : index
    %w = tensor.extract %words[%r2, %col] : tensor<100x64xf32>
    %prow = arith.index_cast %p : i64 to index
    %pneg = arith.cmpi slt, %prow, %c0 : index
    %pwrapped = arith.addi %prow, %c32 : index
    %p0 = arith.select %pneg, %pwrapped, %prow : index
    %p1 = arith.maxsi %p0, %c0 : index
    %p2 = arith.minsi %p1, %c31 : index
    %q = tensor.extract %positions[%p2, %col] : tensor<32x64xf32>
    %s = arith.addf %w, %q : f32
    linalg.yield %s : f32
  } -> tensor<1x16x64xf32>
  return %r : tensor<1x16x64xf32>
}
