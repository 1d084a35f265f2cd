// A ResNet stem as hatc's graph pipeline leaves it, narrowed to a 16x16
// output: NHWC 7x7/2 over a padded RGB input (3 channels), the bias
// broadcast into the accumulators, ReLU as the elementwise consumer.
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @rgb_stem(%x: tensor<1x37x37x3xf32>, %w: tensor<7x7x3x64xf32>,
                    %b: tensor<64xf32>) -> tensor<1x16x16x64xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x16x16x64xf32>
  %bias = linalg.broadcast ins(%b : tensor<64xf32>) outs(%e : tensor<1x16x16x64xf32>) dimensions = [0, 1, 2]
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
         ins(%x, %w : tensor<1x37x37x3xf32>, tensor<7x7x3x64xf32>)
         outs(%bias : tensor<1x16x16x64xf32>) -> tensor<1x16x16x64xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c : tensor<1x16x16x64xf32>) outs(%e : tensor<1x16x16x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x16x16x64xf32>
  return %r : tensor<1x16x16x64xf32>
}
