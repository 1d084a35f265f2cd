// BERT's head split: 128 positions x 12 heads x 64 -> 12 heads x 128 x 64
// (98,304 elements, 384 KiB).
func.func @heads(%x: tensor<1x128x12x64xf32>) -> tensor<1x12x128x64xf32> {
  %init = tensor.empty() : tensor<1x12x128x64xf32>
  %t = linalg.transpose ins(%x : tensor<1x128x12x64xf32>) outs(%init : tensor<1x12x128x64xf32>) permutation = [0, 2, 1, 3]
  return %t : tensor<1x12x128x64xf32>
}
