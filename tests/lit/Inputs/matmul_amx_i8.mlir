// 128x96x192 i8: tiles into AMX's 16-row, 64-byte tiles (2 x 2 per micro-tile
// on two threads), small enough for the reference check.
func.func @matmul_amx_i8(%A: tensor<128x192xi8>, %B: tensor<192x96xi8>) -> tensor<128x96xi32> {
  %zero = arith.constant 0 : i32
  %init = tensor.empty() : tensor<128x96xi32>
  %C0 = linalg.fill ins(%zero : i32) outs(%init : tensor<128x96xi32>) -> tensor<128x96xi32>
  %C = linalg.matmul ins(%A, %B : tensor<128x192xi8>, tensor<192x96xi8>)
                     outs(%C0 : tensor<128x96xi32>) -> tensor<128x96xi32>
  return %C : tensor<128x96xi32>
}
