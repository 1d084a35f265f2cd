// A matmul whose B is a constant (a model's weight, as a task measured with
// its weights), and the same matmul with B an argument.
func.func @weights(%A: tensor<128x512xf32>) -> tensor<128x256xf32> {
  %B = arith.constant dense<0.25> : tensor<512x256xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<128x256xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<128x256xf32>) -> tensor<128x256xf32>
  %C = linalg.matmul ins(%A, %B : tensor<128x512xf32>, tensor<512x256xf32>) outs(%C0 : tensor<128x256xf32>) -> tensor<128x256xf32>
  return %C : tensor<128x256xf32>
}

func.func @argument(%A: tensor<128x512xf32>, %B: tensor<512x256xf32>) -> tensor<128x256xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<128x256xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<128x256xf32>) -> tensor<128x256xf32>
  %C = linalg.matmul ins(%A, %B : tensor<128x512xf32>, tensor<512x256xf32>) outs(%C0 : tensor<128x256xf32>) -> tensor<128x256xf32>
  return %C : tensor<128x256xf32>
}
