// A ResNet stem's MaxPool (3x3, stride 2, on a -inf padded input) in the
// CPU layout: NHWC, 32 channels, two images.
func.func @task(%arg0: tensor<2x34x34x32xf32>) -> tensor<2x16x16x32xf32> {
  %cst = arith.constant 0xFF800000 : f32
  %0 = tensor.empty() : tensor<2x16x16x32xf32>
  %1 = tensor.empty() : tensor<3x3xf32>
  %2 = linalg.fill ins(%cst : f32) outs(%0 : tensor<2x16x16x32xf32>) -> tensor<2x16x16x32xf32>
  %3 = linalg.pooling_nhwc_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>} ins(%arg0, %1 : tensor<2x34x34x32xf32>, tensor<3x3xf32>) outs(%2 : tensor<2x16x16x32xf32>) -> tensor<2x16x16x32xf32>
  return %3 : tensor<2x16x16x32xf32>
}
