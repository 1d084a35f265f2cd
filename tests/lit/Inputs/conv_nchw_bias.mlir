// An ONNX-style Conv: NCHW input, FCHW weight, padding 1, a bias-initialized
// accumulator, stride 2: 1x8x17x17 -> 1x32x9x9.
func.func @conv_nchw_bias(%X: tensor<1x8x17x17xf32>, %W: tensor<32x8x3x3xf32>, %B: tensor<32xf32>) -> tensor<1x32x9x9xf32> {
  %zero = arith.constant 0.0 : f32
  %P = tensor.pad %X low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x8x17x17xf32> to tensor<1x8x19x19xf32>
  %init = tensor.empty() : tensor<1x32x9x9xf32>
  %acc = linalg.broadcast ins(%B : tensor<32xf32>) outs(%init : tensor<1x32x9x9xf32>) dimensions = [0, 2, 3]
  %O = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%P, %W : tensor<1x8x19x19xf32>, tensor<32x8x3x3xf32>)
         outs(%acc : tensor<1x32x9x9xf32>) -> tensor<1x32x9x9xf32>
  return %O : tensor<1x32x9x9xf32>
}
