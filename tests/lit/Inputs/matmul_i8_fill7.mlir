// i8 x i8 -> i32, 64x128x256, C starting from 7 (a fill that is not zero).
func.func @matmul_i8_small(%A: tensor<64x256xi8>, %B: tensor<256x128xi8>) -> tensor<64x128xi32> {
  %c = arith.constant 7 : i32
  %init = tensor.empty() : tensor<64x128xi32>
  %C0 = linalg.fill ins(%c : i32) outs(%init : tensor<64x128xi32>) -> tensor<64x128xi32>
  %C = linalg.matmul ins(%A, %B : tensor<64x256xi8>, tensor<256x128xi8>)
                     outs(%C0 : tensor<64x128xi32>) -> tensor<64x128xi32>
  return %C : tensor<64x128xi32>
}
