// A 3x3 conv on a 7x7 output (ResNet's last stage, narrowed to 128
// filters): 7 rows do not split over 2 threads.
func.func @last_stage(%x: tensor<1x9x9x128xf32>, %w: tensor<3x3x128x128xf32>)
    -> tensor<1x7x7x128xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x7x7x128xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<1x7x7x128xf32>) -> tensor<1x7x7x128xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x9x9x128xf32>, tensor<3x3x128x128xf32>)
         outs(%acc : tensor<1x7x7x128xf32>) -> tensor<1x7x7x128xf32>
  return %c : tensor<1x7x7x128xf32>
}
