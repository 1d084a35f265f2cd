// MobileNetV2's 1x1 projection conv (144 -> 24 channels, NHWC x HWCF) at
// 14x14: 24 filters are not a multiple of a 16-lane vector.
func.func @project(%I: tensor<1x14x14x144xf32>, %F: tensor<1x1x144x24xf32>) -> tensor<1x14x14x24xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<1x14x14x24xf32>
  %O0 = linalg.fill ins(%zero : f32) outs(%init : tensor<1x14x14x24xf32>) -> tensor<1x14x14x24xf32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%I, %F : tensor<1x14x14x144xf32>, tensor<1x1x144x24xf32>)
         outs(%O0 : tensor<1x14x14x24xf32>) -> tensor<1x14x14x24xf32>
  return %O : tensor<1x14x14x24xf32>
}
