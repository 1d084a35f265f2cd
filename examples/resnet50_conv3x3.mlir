// ResNet-50 stage 2 3x3 convolution: 56x56x64 -> 56x56x64, stride 1, NHWC x HWCF.
// The input arrives padded by one pixel on each side (58x58).
func.func @conv3x3(%I: tensor<1x58x58x64xf32>, %F: tensor<3x3x64x64xf32>) -> tensor<1x56x56x64xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<1x56x56x64xf32>
  %O0 = linalg.fill ins(%zero : f32) outs(%init : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%I, %F : tensor<1x58x58x64xf32>, tensor<3x3x64x64xf32>)
         outs(%O0 : tensor<1x56x56x64xf32>) -> tensor<1x56x56x64xf32>
  return %O : tensor<1x56x56x64xf32>
}
