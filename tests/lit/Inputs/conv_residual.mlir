// ResNet's first bottleneck's end: two 1x1 convs (the block's last and the
// projection shortcut), each from its bias, meet in one residual add +
// ReLU, the only user of both.
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @conv_residual(%x: tensor<1x8x8x16xf32>, %y: tensor<1x8x8x32xf32>,
                         %w1: tensor<1x1x16x64xf32>, %w2: tensor<1x1x32x64xf32>,
                         %b1: tensor<64xf32>, %b2: tensor<64xf32>) -> tensor<1x8x8x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8x8x64xf32>
  %i1 = linalg.broadcast ins(%b1 : tensor<64xf32>) outs(%e : tensor<1x8x8x64xf32>) dimensions = [0, 1, 2]
  %c1 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%x, %w1 : tensor<1x8x8x16xf32>, tensor<1x1x16x64xf32>)
          outs(%i1 : tensor<1x8x8x64xf32>) -> tensor<1x8x8x64xf32>
  %i2 = linalg.broadcast ins(%b2 : tensor<64xf32>) outs(%e : tensor<1x8x8x64xf32>) dimensions = [0, 1, 2]
  %c2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
          ins(%y, %w2 : tensor<1x8x8x32xf32>, tensor<1x1x32x64xf32>)
          outs(%i2 : tensor<1x8x8x64xf32>) -> tensor<1x8x8x64xf32>
  %r = linalg.generic {indexing_maps = [#map, #map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c1, %c2 : tensor<1x8x8x64xf32>, tensor<1x8x8x64xf32>) outs(%e : tensor<1x8x8x64xf32>) {
  ^bb0(%a: f32, %s: f32, %out: f32):
    %sum = arith.addf %a, %s : f32
    %m = arith.maximumf %sum, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x8x8x64xf32>
  return %r : tensor<1x8x8x64xf32>
}
