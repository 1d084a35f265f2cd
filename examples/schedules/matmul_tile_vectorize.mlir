// A hand-written schedule for linalg.matmul whose sizes divide the tiles
// (1024^3, say):
//   - 2 parallel row blocks over threads (scf.forall -> OpenMP),
//   - cache tiles 64 x 256 x 256 (mc x nc x kc),
//   - an 8 x 32 register tile (16 zmm accumulators with AVX-512) over k,
//     vectorized, turned into vector.contract and lowered to outer products
//     (vector.fma),
//   - the accumulator tile hoisted out of the k loop.
// It is also accepted by stock `mlir-opt-19 --transform-interpreter`.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.matmul"]} in %root
      : (!transform.any_op) -> !transform.any_op
    %threads, %forall = transform.structured.tile_using_forall %mm num_threads [2, 0, 0]
      : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %cache, %cl:3 = transform.structured.tile_using_for %threads tile_sizes [64, 256, 256]
      : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    %reg, %rl:3 = transform.structured.tile_using_for %cache tile_sizes [8, 32, 1]
      : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.structured.vectorize %reg : !transform.any_op
    %func = transform.structured.match ops{["func.func"]} in %root
      : (!transform.any_op) -> !transform.any_op
    // broadcast + multiply + add -> vector.contract -> outer products -> fma.
    transform.apply_patterns to %func {
      transform.apply_patterns.vector.reduction_to_contract
      transform.apply_patterns.vector.transfer_permutation_patterns
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_patterns to %func {
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.loop.hoist_loop_invariant_subsets %rl#2 : !transform.any_op
    // Drop the loop-carried tensors the hoisting left unchanged, so that
    // bufferization writes the accumulator tile in place.
    transform.apply_patterns to %func {
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %func : !transform.any_op
    transform.yield
  }
}
