// Chooses hwacc tiles and dataflow for every matmul.
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.matmul"]} in %root : (!transform.any_op) -> !transform.any_op
    %tile = transform.param.constant array<i64: 32, 64, 16> -> !transform.any_param
    transform.annotate %mm "hwacc.tile" = %tile : !transform.any_op, !transform.any_param
    %df = transform.param.constant "os" -> !transform.any_param
    transform.annotate %mm "hwacc.dataflow" = %df : !transform.any_op, !transform.any_param
    transform.yield
  }
}
