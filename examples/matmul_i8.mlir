// Quantized GEMM: i8 x i8 with i32 accumulation, 512x512x512.
func.func @matmul_i8(%A: tensor<512x512xi8>, %B: tensor<512x512xi8>) -> tensor<512x512xi32> {
  %zero = arith.constant 0 : i32
  %init = tensor.empty() : tensor<512x512xi32>
  %C0 = linalg.fill ins(%zero : i32) outs(%init : tensor<512x512xi32>) -> tensor<512x512xi32>
  %C = linalg.matmul ins(%A, %B : tensor<512x512xi8>, tensor<512x512xi8>)
                     outs(%C0 : tensor<512x512xi32>) -> tensor<512x512xi32>
  return %C : tensor<512x512xi32>
}
