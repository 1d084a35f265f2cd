// The output edge of an NHWC conv model: NHWC back to the graph's NCHW.
func.func @main(%x: tensor<1x56x56x256xf32>) -> tensor<1x256x56x56xf32> {
  %e = tensor.empty() : tensor<1x256x56x56xf32>
  %t = linalg.transpose ins(%x : tensor<1x56x56x256xf32>)
         outs(%e : tensor<1x256x56x56xf32>) permutation = [0, 3, 1, 2]
  return %t : tensor<1x256x56x56xf32>
}
