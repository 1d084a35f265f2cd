// ResNet-50's first 1x1 conv of stage 1 (64 -> 64 channels, NHWC x HWCF)
// at 28x28, with its bias + ReLU: as many filters as channels, so the
// im2col patch matrix and the GEMM's result are both 784 x 64.
func.func @square(%I: tensor<1x28x28x64xf32>, %F: tensor<1x1x64x64xf32>, %b: tensor<64xf32>) -> tensor<1x28x28x64xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<1x28x28x64xf32>
  %acc0 = linalg.fill ins(%zero : f32) outs(%init : tensor<1x28x28x64xf32>) -> tensor<1x28x28x64xf32>
  %acc = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%I, %F : tensor<1x28x28x64xf32>, tensor<1x1x64x64xf32>) outs(%acc0 : tensor<1x28x28x64xf32>) -> tensor<1x28x28x64xf32>
  %out = linalg.generic {indexing_maps = [affine_map<(n, h, w, c) -> (n, h, w, c)>, affine_map<(n, h, w, c) -> (c)>, affine_map<(n, h, w, c) -> (n, h, w, c)>],
                         iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%acc, %b : tensor<1x28x28x64xf32>, tensor<64xf32>) outs(%init : tensor<1x28x28x64xf32>) {
  ^bb0(%x: f32, %bias: f32, %o: f32):
    %s = arith.addf %x, %bias : f32
    %r = arith.maximumf %s, %zero : f32
    linalg.yield %r : f32
  } -> tensor<1x28x28x64xf32>
  return %out : tensor<1x28x28x64xf32>
}
