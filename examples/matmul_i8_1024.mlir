// Quantized GEMM on the CPU: i8 x i8 with i32 accumulation, 1024^3.
// On hosts with AVX-512 VNNI the micro-kernel is vpdpbusd.
func.func @matmul_i8(%A: tensor<1024x1024xi8>, %B: tensor<1024x1024xi8>) -> tensor<1024x1024xi32> {
  %zero = arith.constant 0 : i32
  %init = tensor.empty() : tensor<1024x1024xi32>
  %C0 = linalg.fill ins(%zero : i32) outs(%init : tensor<1024x1024xi32>) -> tensor<1024x1024xi32>
  %C = linalg.matmul ins(%A, %B : tensor<1024x1024xi8>, tensor<1024x1024xi8>)
                     outs(%C0 : tensor<1024x1024xi32>) -> tensor<1024x1024xi32>
  return %C : tensor<1024x1024xi32>
}
