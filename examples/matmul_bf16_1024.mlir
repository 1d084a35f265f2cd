// bf16 GEMM on the CPU: bf16 x bf16 with f32 accumulation, 1024^3.
// On hosts with AVX-512 BF16 the micro-kernel is vdpbf16ps.
func.func @matmul_bf16(%A: tensor<1024x1024xbf16>, %B: tensor<1024x1024xbf16>) -> tensor<1024x1024xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<1024x1024xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  %C = linalg.matmul ins(%A, %B : tensor<1024x1024xbf16>, tensor<1024x1024xbf16>)
                     outs(%C0 : tensor<1024x1024xf32>) -> tensor<1024x1024xf32>
  return %C : tensor<1024x1024xf32>
}
