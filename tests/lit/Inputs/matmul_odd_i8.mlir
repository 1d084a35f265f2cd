// 257x129x67: no dim a multiple of the register tile or of the k group.
func.func @matmul_odd_i8(%A: tensor<257x67xi8>, %B: tensor<67x129xi8>) -> tensor<257x129xi32> {
  %zero = arith.constant 0 : i32
  %init = tensor.empty() : tensor<257x129xi32>
  %C0 = linalg.fill ins(%zero : i32) outs(%init : tensor<257x129xi32>) -> tensor<257x129xi32>
  %C = linalg.matmul ins(%A, %B : tensor<257x67xi8>, tensor<67x129xi8>)
                     outs(%C0 : tensor<257x129xi32>) -> tensor<257x129xi32>
  return %C : tensor<257x129xi32>
}
