// A late ResNet stage's 3x3 conv, narrowed: 4x4 outputs of 256 filters
// over 128 channels, from its bias, with ReLU. Its filter (1.2 MB) far
// outweighs a thread's input rows (16 KB).
#map = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
func.func @late_stage(%x: tensor<1x6x6x128xf32>, %w: tensor<3x3x128x256xf32>,
                      %b: tensor<256xf32>) -> tensor<1x4x4x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x4x256xf32>
  %bias = linalg.broadcast ins(%b : tensor<256xf32>) outs(%e : tensor<1x4x4x256xf32>) dimensions = [0, 1, 2]
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
         ins(%x, %w : tensor<1x6x6x128xf32>, tensor<3x3x128x256xf32>)
         outs(%bias : tensor<1x4x4x256xf32>) -> tensor<1x4x4x256xf32>
  %r = linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
         ins(%c : tensor<1x4x4x256xf32>) outs(%e : tensor<1x4x4x256xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x256xf32>
  return %r : tensor<1x4x4x256xf32>
}
