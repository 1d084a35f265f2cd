// A stride-2 depthwise 3x3 conv over two images, NHWC x HWC.
func.func @depthwise_stride2(%I: tensor<2x57x57x32xf32>, %F: tensor<3x3x32xf32>) -> tensor<2x28x28x32xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<2x28x28x32xf32>
  %O0 = linalg.fill ins(%zero : f32) outs(%init : tensor<2x28x28x32xf32>) -> tensor<2x28x28x32xf32>
  %O = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%I, %F : tensor<2x57x57x32xf32>, tensor<3x3x32xf32>)
         outs(%O0 : tensor<2x28x28x32xf32>) -> tensor<2x28x28x32xf32>
  return %O : tensor<2x28x28x32xf32>
}
