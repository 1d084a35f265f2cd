// 96x48x160 bf16: tiles into AMX's 16-row tiles of 32 bf16 (1 x 1
// micro-tiles: 48 is not a multiple of 32), small enough for the reference
// check.
func.func @matmul_amx_bf16(%A: tensor<96x160xbf16>, %B: tensor<160x48xbf16>) -> tensor<96x48xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<96x48xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<96x48xf32>) -> tensor<96x48xf32>
  %C = linalg.matmul ins(%A, %B : tensor<96x160xbf16>, tensor<160x48xbf16>)
                     outs(%C0 : tensor<96x48xf32>) -> tensor<96x48xf32>
  return %C : tensor<96x48xf32>
}
