// An i8 x i8 -> i32 3x3 conv (NHWC x HWCF, input padded by one pixel):
// 32 channels and 32 filters, so its register tiles take VNNI's k groups
// of 4 and whole 16-lane vectors of filters.
func.func @conv_i8(%I: tensor<1x10x10x32xi8>, %F: tensor<3x3x32x32xi8>) -> tensor<1x8x8x32xi32> {
  %zero = arith.constant 0 : i32
  %init = tensor.empty() : tensor<1x8x8x32xi32>
  %O0 = linalg.fill ins(%zero : i32) outs(%init : tensor<1x8x8x32xi32>) -> tensor<1x8x8x32xi32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%I, %F : tensor<1x10x10x32xi8>, tensor<3x3x32x32xi8>)
         outs(%O0 : tensor<1x8x8x32xi32>) -> tensor<1x8x8x32xi32>
  return %O : tensor<1x8x8x32xi32>
}
