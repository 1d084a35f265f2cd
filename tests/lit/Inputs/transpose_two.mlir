// Two transposes, one no tile fits (left to LLVM) and one the transpose
// schedule takes: the schedule must reach only the second.
func.func @main(%x: tensor<3x5x7xf32>, %y: tensor<1x8x8x16xf32>)
    -> (tensor<7x3x5xf32>, tensor<1x16x8x8xf32>) {
  %e = tensor.empty() : tensor<7x3x5xf32>
  %t = linalg.transpose ins(%x : tensor<3x5x7xf32>)
         outs(%e : tensor<7x3x5xf32>) permutation = [2, 0, 1]
  %f = tensor.empty() : tensor<1x16x8x8xf32>
  %u = linalg.transpose ins(%y : tensor<1x8x8x16xf32>)
         outs(%f : tensor<1x16x8x8xf32>) permutation = [0, 3, 1, 2]
  return %t, %u : tensor<7x3x5xf32>, tensor<1x16x8x8xf32>
}
