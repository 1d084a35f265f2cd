// 196 rows over 2 threads: 98 a thread, which the default's 8-row register
// tile pads to 104 (a 14x14 grid's rows, as in a ViT or a CNN's head).
func.func @matmul_padded_rows(%a: tensor<196x512xf32>, %b: tensor<512x256xf32>) -> tensor<196x256xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<196x256xf32>
  %c0 = linalg.fill ins(%zero : f32) outs(%init : tensor<196x256xf32>) -> tensor<196x256xf32>
  %c = linalg.matmul ins(%a, %b : tensor<196x512xf32>, tensor<512x256xf32>) outs(%c0 : tensor<196x256xf32>) -> tensor<196x256xf32>
  return %c : tensor<196x256xf32>
}
