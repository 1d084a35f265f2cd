// RUN: %expect-exit 1 hatc run %s 2>&1 | FileCheck %s
// CHECK: hatc: error: {{.*}}unsupported-body-op.mlir:[[@LINE+6]]:10: unsupported op 'vector.broadcast' in the body of 'linalg.generic'
func.func @broadcast(%a: tensor<4xf32>) -> tensor<4xf32> {
  %init = tensor.empty() : tensor<4xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%a : tensor<4xf32>) outs(%init : tensor<4xf32>) {
  ^bb0(%x: f32, %o: f32):
    %v = vector.broadcast %x : f32 to vector<4xf32>
    linalg.yield %x : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
