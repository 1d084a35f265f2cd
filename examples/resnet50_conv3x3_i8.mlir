// ResNet-50 stage 2 3x3 convolution in int8: 56x56x64 -> 56x56x64, stride 1,
// NHWC x HWCF, i8 x i8 -> i32. The input arrives padded by one pixel on each
// side (58x58). On a CPU with AVX-512 VNNI its register tiles run on vpdpbusd.
func.func @conv3x3_i8(%I: tensor<1x58x58x64xi8>, %F: tensor<3x3x64x64xi8>) -> tensor<1x56x56x64xi32> {
  %zero = arith.constant 0 : i32
  %init = tensor.empty() : tensor<1x56x56x64xi32>
  %O0 = linalg.fill ins(%zero : i32) outs(%init : tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32>
  %O = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%I, %F : tensor<1x58x58x64xi8>, tensor<3x3x64x64xi8>)
         outs(%O0 : tensor<1x56x56x64xi32>) -> tensor<1x56x56x64xi32>
  return %O : tensor<1x56x56x64xi32>
}
