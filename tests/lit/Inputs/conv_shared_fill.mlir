// Two int8 convs of one output shape, each with its own elementwise
// consumer, accumulating from one zero fill (as CSE leaves a quantized
// model's equal accumulators).
func.func @shared(%x: tensor<1x30x30x64xi8>, %w1: tensor<3x3x64x64xi8>,
                  %w2: tensor<3x3x64x64xi8>, %b: tensor<1x28x28x64xi32>)
    -> (tensor<1x28x28x64xi32>, tensor<1x28x28x64xi32>) {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<1x28x28x64xi32>
  %acc = linalg.fill ins(%zero : i32) outs(%e : tensor<1x28x28x64xi32>) -> tensor<1x28x28x64xi32>
  %c1 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
        ins(%x, %w1 : tensor<1x30x30x64xi8>, tensor<3x3x64x64xi8>) outs(%acc : tensor<1x28x28x64xi32>) -> tensor<1x28x28x64xi32>
  %c2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
        ins(%x, %w2 : tensor<1x30x30x64xi8>, tensor<3x3x64x64xi8>) outs(%acc : tensor<1x28x28x64xi32>) -> tensor<1x28x28x64xi32>
  %o1 = tensor.empty() : tensor<1x28x28x64xi32>
  %r1 = linalg.add ins(%c1, %b : tensor<1x28x28x64xi32>, tensor<1x28x28x64xi32>) outs(%o1 : tensor<1x28x28x64xi32>) -> tensor<1x28x28x64xi32>
  %o2 = tensor.empty() : tensor<1x28x28x64xi32>
  %r2 = linalg.sub ins(%c2, %b : tensor<1x28x28x64xi32>, tensor<1x28x28x64xi32>) outs(%o2 : tensor<1x28x28x64xi32>) -> tensor<1x28x28x64xi32>
  return %r1, %r2 : tensor<1x28x28x64xi32>, tensor<1x28x28x64xi32>
}
