// A MobileNet-style depthwise 3x3 conv, NHWC x HWC, on a padded input,
// with a bias as its init (the graph pipeline's form).
func.func @depthwise(%I: tensor<1x30x30x32xf32>, %F: tensor<3x3x32xf32>,
                     %B: tensor<32xf32>) -> tensor<1x28x28x32xf32> {
  %init = tensor.empty() : tensor<1x28x28x32xf32>
  %bias = linalg.broadcast ins(%B : tensor<32xf32>) outs(%init : tensor<1x28x28x32xf32>) dimensions = [0, 1, 2]
  %O = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%I, %F : tensor<1x30x30x32xf32>, tensor<3x3x32xf32>)
         outs(%bias : tensor<1x28x28x32xf32>) -> tensor<1x28x28x32xf32>
  return %O : tensor<1x28x28x32xf32>
}
