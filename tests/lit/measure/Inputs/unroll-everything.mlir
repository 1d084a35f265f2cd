// A schedule that is slow to compile on purpose: tiles the matmul by 1 and
// unrolls every loop fully, so a 64^3 matmul becomes 262144 scalar bodies
// (for tests of --compile-timeout).
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.matmul"]} in %root
      : (!transform.any_op) -> !transform.any_op
    %tiled, %loops:3 = transform.structured.tile_using_for %mm tile_sizes [1, 1, 1]
      : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.loop.unroll %loops#2 { factor = 64 } : !transform.any_op
    transform.loop.unroll %loops#1 { factor = 64 } : !transform.any_op
    transform.loop.unroll %loops#0 { factor = 64 } : !transform.any_op
    transform.yield
  }
}
