// A batch matmul whose A is stored transposed (B x K x M).
func.func @bmm_ta(%a: tensor<3x24x40xf32>, %b: tensor<3x24x32xf32>) -> tensor<3x40x32xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x40x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x40x32xf32>) -> tensor<3x40x32xf32>
  %c = linalg.batch_matmul_transpose_a ins(%a, %b : tensor<3x24x40xf32>, tensor<3x24x32xf32>) outs(%f : tensor<3x40x32xf32>) -> tensor<3x40x32xf32>
  return %c : tensor<3x40x32xf32>
}
