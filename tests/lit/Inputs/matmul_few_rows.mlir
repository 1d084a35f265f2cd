// Matmuls of few rows: 49 (a 7x7 grid's positions) and 8 (a small batch).
func.func @rows49(%a: tensor<49x256xf32>, %b: tensor<256x512xf32>) -> tensor<49x512xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<49x512xf32>
  %c0 = linalg.fill ins(%zero : f32) outs(%init : tensor<49x512xf32>) -> tensor<49x512xf32>
  %c = linalg.matmul ins(%a, %b : tensor<49x256xf32>, tensor<256x512xf32>) outs(%c0 : tensor<49x512xf32>) -> tensor<49x512xf32>
  return %c : tensor<49x512xf32>
}

func.func @rows8(%a: tensor<8x512xf32>, %b: tensor<512x1024xf32>) -> tensor<8x1024xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<8x1024xf32>
  %c0 = linalg.fill ins(%zero : f32) outs(%init : tensor<8x1024xf32>) -> tensor<8x1024xf32>
  %c = linalg.matmul ins(%a, %b : tensor<8x512xf32>, tensor<512x1024xf32>) outs(%c0 : tensor<8x1024xf32>) -> tensor<8x1024xf32>
  return %c : tensor<8x1024xf32>
}
