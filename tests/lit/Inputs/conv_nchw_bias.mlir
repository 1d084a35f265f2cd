// An ONNX-style Conv (no padding): NCHW input, FCHW weight, a
// bias-initialized accumulator, stride 2: 1x8x17x17 -> 1x32x8x8.
func.func @conv_nchw_bias(%X: tensor<1x8x17x17xf32>, %W: tensor<32x8x3x3xf32>, %B: tensor<32xf32>) -> tensor<1x32x8x8xf32> {
  %init = tensor.empty() : tensor<1x32x8x8xf32>
  %acc = linalg.broadcast ins(%B : tensor<32xf32>) outs(%init : tensor<1x32x8x8xf32>) dimensions = [0, 2, 3]
  %O = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%X, %W : tensor<1x8x17x17xf32>, tensor<32x8x3x3xf32>)
         outs(%acc : tensor<1x32x8x8xf32>) -> tensor<1x32x8x8xf32>
  return %O : tensor<1x32x8x8xf32>
}
