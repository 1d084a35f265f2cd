// An i8 x i8 -> i32 3x3 conv with stride 2, 32 channels and 32 filters:
// the vectorizer unrolls its register tile into one matrix-vector
// contraction per output position, which also takes vpdpbusd.
func.func @conv_i8_s2(%I: tensor<1x17x17x32xi8>, %F: tensor<3x3x32x32xi8>) -> tensor<1x8x8x32xi32> {
  %zero = arith.constant 0 : i32
  %init = tensor.empty() : tensor<1x8x8x32xi32>
  %O0 = linalg.fill ins(%zero : i32) outs(%init : tensor<1x8x8x32xi32>) -> tensor<1x8x8x32xi32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%I, %F : tensor<1x17x17x32xi8>, tensor<3x3x32x32xi8>)
         outs(%O0 : tensor<1x8x8x32xi32>) -> tensor<1x8x8x32xi32>
  return %O : tensor<1x8x8x32xi32>
}
