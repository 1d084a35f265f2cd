// A bf16 x bf16 -> f32 3x3 conv, 64 channels (two 64-byte steps of 32) ->
// 32 filters, 14 output positions a row: on AMX, tdpbf16ps on 14-row tiles.
func.func @conv_amx_bf16(%I: tensor<1x16x16x64xbf16>, %F: tensor<3x3x64x32xbf16>) -> tensor<1x14x14x32xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<1x14x14x32xf32>
  %O0 = linalg.fill ins(%zero : f32) outs(%init : tensor<1x14x14x32xf32>) -> tensor<1x14x14x32xf32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%I, %F : tensor<1x16x16x64xbf16>, tensor<3x3x64x32xbf16>)
         outs(%O0 : tensor<1x14x14x32xf32>) -> tensor<1x14x14x32xf32>
  return %O : tensor<1x14x14x32xf32>
}
