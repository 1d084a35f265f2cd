// A transpose whose dims no vector tile divides: left to LLVM's loops.
func.func @main(%x: tensor<3x5x7xf32>) -> tensor<7x3x5xf32> {
  %e = tensor.empty() : tensor<7x3x5xf32>
  %t = linalg.transpose ins(%x : tensor<3x5x7xf32>)
         outs(%e : tensor<7x3x5xf32>) permutation = [2, 0, 1]
  return %t : tensor<7x3x5xf32>
}
