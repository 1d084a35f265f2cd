// ResNet-50 down-sampling 3x3 convolution with stride 2: 57x57x64 -> 28x28x128.
func.func @conv3x3_s2(%I: tensor<1x57x57x64xf32>, %F: tensor<3x3x64x128xf32>) -> tensor<1x28x28x128xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<1x28x28x128xf32>
  %O0 = linalg.fill ins(%zero : f32) outs(%init : tensor<1x28x28x128xf32>) -> tensor<1x28x28x128xf32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%I, %F : tensor<1x57x57x64xf32>, tensor<3x3x64x128xf32>)
         outs(%O0 : tensor<1x28x28x128xf32>) -> tensor<1x28x28x128xf32>
  return %O : tensor<1x28x28x128xf32>
}
