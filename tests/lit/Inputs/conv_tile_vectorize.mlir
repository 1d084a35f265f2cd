// Conv: tile output rows over threads, then vectorize a 1 x 1 x 8 x 64 output
// tile after decomposing the 2-D conv into 1-D convs.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %conv = transform.structured.match ops{["linalg.conv_2d_nhwc_hwcf"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %f = transform.structured.tile_using_forall %conv num_threads [0, 2, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %t2, %l:6 = transform.structured.tile_using_for %t tile_sizes [1, 1, 8, 64, 1, 1, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    %d = transform.structured.decompose %t2 : (!transform.any_op) -> !transform.any_op
    transform.structured.vectorize %d : !transform.any_op
    %func = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %func {
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.yield
  }
}
