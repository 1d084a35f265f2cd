// An i8 x i8 -> i32 3x3 conv with 3 channels and 24 filters, stride 2: no
// k group of 4 divides its channels, so its tiles stay on widened FMAs.
func.func @conv_i8_odd(%I: tensor<1x11x11x3xi8>, %F: tensor<3x3x3x24xi8>) -> tensor<1x5x5x24xi32> {
  %zero = arith.constant 0 : i32
  %init = tensor.empty() : tensor<1x5x5x24xi32>
  %O0 = linalg.fill ins(%zero : i32) outs(%init : tensor<1x5x5x24xi32>) -> tensor<1x5x5x24xi32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%I, %F : tensor<1x11x11x3xi8>, tensor<3x3x3x24xi8>)
         outs(%O0 : tensor<1x5x5x24xi32>) -> tensor<1x5x5x24xi32>
  return %O : tensor<1x5x5x24xi32>
}
