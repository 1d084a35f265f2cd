// A bf16 x bf16 -> f32 3x3 conv (NHWC x HWCF, input padded by one pixel):
// 32 channels and 32 filters, so its register tiles take the BF16 dots'
// k groups of 2 and whole 16-lane vectors of filters.
func.func @conv_bf16(%I: tensor<1x10x10x32xbf16>, %F: tensor<3x3x32x32xbf16>) -> tensor<1x8x8x32xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<1x8x8x32xf32>
  %O0 = linalg.fill ins(%zero : f32) outs(%init : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%I, %F : tensor<1x10x10x32xbf16>, tensor<3x3x32x32xbf16>)
         outs(%O0 : tensor<1x8x8x32xf32>) -> tensor<1x8x8x32xf32>
  return %O : tensor<1x8x8x32xf32>
}
