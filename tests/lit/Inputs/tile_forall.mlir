// Partial tiles: 257 rows over 3 threads, 32x32x16 tiles that do not divide.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.matmul"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %f = transform.structured.tile_using_forall %mm num_threads [3, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %t2, %l:3 = transform.structured.tile_using_for %t tile_sizes [32, 32, 16] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
}
