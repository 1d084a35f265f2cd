// Two images of an i8 3x3 conv with dilation 2, 128 channels (two 64-byte
// steps) -> 48 filters (three 16-filter panels), 10 output positions a row,
// into a bias: on AMX the accumulators start from the bias, not zero.
func.func @conv_amx_dilated(%I: tensor<2x12x14x128xi8>, %F: tensor<3x3x128x48xi8>, %bias: tensor<48xi32>) -> tensor<2x8x10x48xi32> {
  %init = tensor.empty() : tensor<2x8x10x48xi32>
  %B = linalg.broadcast ins(%bias : tensor<48xi32>) outs(%init : tensor<2x8x10x48xi32>) dimensions = [0, 1, 2]
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<2> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%I, %F : tensor<2x12x14x128xi8>, tensor<3x3x128x48xi8>)
         outs(%B : tensor<2x8x10x48xi32>) -> tensor<2x8x10x48xi32>
  return %O : tensor<2x8x10x48xi32>
}
