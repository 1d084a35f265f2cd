// MobileNetV2's depthwise 3x3 as hatc's graph pipeline leaves it: NHWC
// over a padded input, the folded BatchNormalization's bias broadcast into
// the accumulators, Clip(0, 6) as the elementwise consumer.
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @depthwise_bias_clip(%x: tensor<1x30x30x64xf32>, %w: tensor<3x3x64xf32>,
                               %b: tensor<64xf32>) -> tensor<1x28x28x64xf32> {
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %e = tensor.empty() : tensor<1x28x28x64xf32>
  %bias = linalg.broadcast ins(%b : tensor<64xf32>) outs(%e : tensor<1x28x28x64xf32>) dimensions = [0, 1, 2]
  %c = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x30x30x64xf32>, tensor<3x3x64xf32>)
         outs(%bias : tensor<1x28x28x64xf32>) -> tensor<1x28x28x64xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c : tensor<1x28x28x64xf32>) outs(%e : tensor<1x28x28x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %lo = arith.maximumf %in, %zero : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x28x28x64xf32>
  return %r : tensor<1x28x28x64xf32>
}
