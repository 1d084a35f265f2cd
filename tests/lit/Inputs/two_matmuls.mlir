// Two workloads in one file: matmuls of different shapes. A schedule that
// matches linalg.matmul by name must reach only its own function's.
func.func @small(%a: tensor<64x128xf32>, %b: tensor<128x96xf32>) -> tensor<64x96xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<64x96xf32>
  %c0 = linalg.fill ins(%zero : f32) outs(%init : tensor<64x96xf32>) -> tensor<64x96xf32>
  %c = linalg.matmul ins(%a, %b : tensor<64x128xf32>, tensor<128x96xf32>) outs(%c0 : tensor<64x96xf32>) -> tensor<64x96xf32>
  return %c : tensor<64x96xf32>
}
func.func @large(%a: tensor<128x256xf32>, %b: tensor<256x160xf32>) -> tensor<128x160xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<128x160xf32>
  %c0 = linalg.fill ins(%zero : f32) outs(%init : tensor<128x160xf32>) -> tensor<128x160xf32>
  %c = linalg.matmul ins(%a, %b : tensor<128x256xf32>, tensor<256x160xf32>) outs(%c0 : tensor<128x160xf32>) -> tensor<128x160xf32>
  return %c : tensor<128x160xf32>
}
