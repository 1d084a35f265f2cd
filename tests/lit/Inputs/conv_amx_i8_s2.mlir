// An i8 3x3 conv, stride 2, 64 channels (one 64-byte tile row) -> 32
// filters, 28 output positions a row: on AMX, a 16-row and a 12-row tile of
// input positions 128 bytes apart.
func.func @conv_amx_s2(%I: tensor<1x9x57x64xi8>, %F: tensor<3x3x64x32xi8>) -> tensor<1x4x28x32xi32> {
  %zero = arith.constant 0 : i32
  %init = tensor.empty() : tensor<1x4x28x32xi32>
  %O0 = linalg.fill ins(%zero : i32) outs(%init : tensor<1x4x28x32xi32>) -> tensor<1x4x28x32xi32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%I, %F : tensor<1x9x57x64xi8>, tensor<3x3x64x32xi8>)
         outs(%O0 : tensor<1x4x28x32xi32>) -> tensor<1x4x28x32xi32>
  return %O : tensor<1x4x28x32xi32>
}
