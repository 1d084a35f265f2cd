// hatc-x86-amx: a marked micro-tile of the packed i8 matmul (A 32 x k/4 x 4,
// B 2 x k/4 x 16 x 4 in the VNNI layout, C 32 x 2 x 16) becomes AMX tile
// loads, 2 x 2 tile products per 64 bytes of k (straight-line over the k
// block) and stores; bf16 uses tile_mulf; an unmarked op stays; a marked op
// the tiles cannot take is an error naming it.
// RUN: hatc-opt %s --split-input-file --hatc-x86-amx="features=amx" -verify-diagnostics | FileCheck %s
// RUN: not hatc-opt %s --split-input-file --hatc-x86-amx="features=avx" 2>&1 | FileCheck %s --check-prefix=BAD
// BAD: hatc-x86-amx: unknown features 'avx' (expected host or amx)

#a = affine_map<(m, nb, kb, n, k) -> (m, kb, k)>
#b = affine_map<(m, nb, kb, n, k) -> (nb, kb, n, k)>
#c = affine_map<(m, nb, kb, n, k) -> (m, nb, n)>

// CHECK-LABEL: func.func @i8
// CHECK-NOT: linalg.generic
// A's rows and C's panels are viewed as wide as their row stride (MLIR 19
// lowers the tile ops' stride from the last dim's size).
// CHECK: %[[AROWS:.*]] = memref.collapse_shape %{{.*}} {{\[\[}}0], [1, 2]] : memref<32x32x4xi8, strided<[256, 4, 1], offset: ?>> into memref<32x128xi8, strided<[256, 1], offset: ?>>
// CHECK: %[[ABASE:[a-z_0-9]+]], %[[AOFF:[a-z_0-9]+]], %{{.*}} = memref.extract_strided_metadata %[[AROWS]]
// CHECK: %[[A:.*]] = memref.reinterpret_cast %[[ABASE]] to offset: [%[[AOFF]]], sizes: [32, 256], strides: [256, 1]
// CHECK-COUNT-4: amx.tile_load %{{.*}} : memref<32x32xi32, strided<[32, 1], offset: ?>> into vector<16x16xi32>
// First 64 bytes of k: A rows 0 and 16, both B panels, 4 products.
// CHECK: amx.tile_load %[[A]][%c0, %c0] : {{.*}} into vector<16x64xi8>
// CHECK: amx.tile_load %[[A]][%c16, %c0] : {{.*}} into vector<16x64xi8>
// CHECK-COUNT-2: amx.tile_load %{{.*}}[%c0, %c0] : memref<32x64xi8{{.*}}> into vector<16x64xi8>
// CHECK-COUNT-4: amx.tile_muli %{{.*}}, %{{.*}}, %{{.*}} : vector<16x64xi8>, vector<16x64xi8>, vector<16x16xi32>
// Second 64 bytes.
// CHECK: amx.tile_load %[[A]][%c0, %c64]
// CHECK-COUNT-4: amx.tile_muli
// CHECK-NOT: amx.tile_muli
// CHECK-COUNT-4: amx.tile_store
// CHECK: return
// The tile state is asked for when the code is loaded.
// CHECK: llvm.func @syscall(i64, ...) -> i64
// CHECK: llvm.func internal @__hatc_amx_permit()
// CHECK: llvm.mlir.global_ctors {ctors = [@__hatc_amx_permit], priorities = [0 : i32]}
func.func @i8(%A: memref<32x32x4xi8, strided<[256, 4, 1], offset: ?>>,
              %B: memref<2x32x16x4xi8, strided<[2048, 64, 4, 1], offset: ?>>,
              %C: memref<32x2x16xi32, strided<[32, 16, 1], offset: ?>>) {
  linalg.generic {indexing_maps = [#a, #b, #c],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]}
      ins(%A, %B : memref<32x32x4xi8, strided<[256, 4, 1], offset: ?>>, memref<2x32x16x4xi8, strided<[2048, 64, 4, 1], offset: ?>>)
      outs(%C : memref<32x2x16xi32, strided<[32, 16, 1], offset: ?>>) attrs = {hatc.amx_micro_tile} {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extui %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

#a = affine_map<(m, nb, kb, n, k) -> (m, kb, k)>
#b = affine_map<(m, nb, kb, n, k) -> (nb, kb, n, k)>
#c = affine_map<(m, nb, kb, n, k) -> (m, nb, n)>

// CHECK-LABEL: func.func @bf16
// CHECK: amx.tile_load %{{.*}} into vector<16x16xf32>
// CHECK: amx.tile_load %{{.*}} into vector<16x32xbf16>
// CHECK: amx.tile_load %{{.*}} into vector<16x32xbf16>
// CHECK: amx.tile_mulf %{{.*}}, %{{.*}}, %{{.*}} : vector<16x32xbf16>, vector<16x32xbf16>, vector<16x16xf32>
// CHECK-NOT: amx.tile_mulf
// CHECK: amx.tile_store
// Unmarked: left for the generic lowering.
// CHECK-LABEL: func.func @unmarked
// CHECK: linalg.generic
// CHECK-NOT: amx.
func.func @bf16(%A: memref<16x16x2xbf16>, %B: memref<1x16x16x2xbf16>,
                %C: memref<16x1x16xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]}
      ins(%A, %B : memref<16x16x2xbf16>, memref<1x16x16x2xbf16>)
      outs(%C : memref<16x1x16xf32>) attrs = {hatc.amx_micro_tile} {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %0 = arith.extf %x : bf16 to f32
    %1 = arith.extf %y : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}
func.func @unmarked(%A: memref<16x16x2xbf16>, %B: memref<1x16x16x2xbf16>,
                    %C: memref<16x1x16xf32>) {
  linalg.generic {indexing_maps = [#a, #b, #c],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]}
      ins(%A, %B : memref<16x16x2xbf16>, memref<1x16x16x2xbf16>)
      outs(%C : memref<16x1x16xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %0 = arith.extf %x : bf16 to f32
    %1 = arith.extf %y : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  }
  return
}

// -----

#a = affine_map<(m, nb, kb, n, k) -> (m, kb, k)>
#b = affine_map<(m, nb, kb, n, k) -> (nb, kb, n, k)>
#c = affine_map<(m, nb, kb, n, k) -> (m, nb, n)>

// 32 x 16 (two accumulators): the next step's three operand tiles are
// loaded before this step's two products (2 + 2 x 3 registers).
// CHECK-LABEL: func.func @ahead
// CHECK-COUNT-2: amx.tile_load {{.*}} into vector<16x16xi32>
// CHECK-COUNT-3: amx.tile_load {{.*}}[%{{c0|c16}}, %c0] : {{.*}} into vector<16x64xi8>
// CHECK: amx.tile_load {{.*}}[%c0, %c64] : {{.*}} into vector<16x64xi8>
// CHECK: amx.tile_load {{.*}}[%c16, %c64] : {{.*}} into vector<16x64xi8>
// CHECK: amx.tile_load {{.*}}[%c16, %c0] : {{.*}} into vector<16x64xi8>
// CHECK-COUNT-4: amx.tile_muli
// CHECK-COUNT-2: amx.tile_store
func.func @ahead(%A: memref<32x32x4xi8>, %B: memref<1x32x16x4xi8>,
                 %C: memref<32x1x16xi32>) {
  linalg.generic {indexing_maps = [#a, #b, #c],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]}
      ins(%A, %B : memref<32x32x4xi8>, memref<1x32x16x4xi8>)
      outs(%C : memref<32x1x16xi32>) attrs = {hatc.amx_micro_tile} {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

#a = affine_map<(m, nb, kb, n, k) -> (m, kb, k)>
#b = affine_map<(m, nb, kb, n, k) -> (nb, kb, n, k)>
#c = affine_map<(m, nb, kb, n, k) -> (m, nb, n)>

// The tile takes all of K (A is 16 x 64) and C is zero-filled just before:
// the accumulators start as zeroed tiles and the fill goes. Where something
// else touches C between the fill and the tile, the fill stays.
// CHECK-LABEL: func.func @zeroed
// CHECK-NOT: linalg.fill
// CHECK: amx.tile_zero : vector<16x16xi32>
// CHECK-NOT: amx.tile_load {{.*}} into vector<16x16xi32>
// CHECK: amx.tile_muli
// CHECK: amx.tile_store
// CHECK-LABEL: func.func @read_between
// CHECK: linalg.fill
// CHECK: memref.load
// CHECK-NOT: amx.tile_zero
// CHECK: amx.tile_load {{.*}} into vector<16x16xi32>
func.func @zeroed(%A: memref<16x64xi8>, %B: memref<1x16x16x4xi8>,
                  %C: memref<16x16xi32>) {
  %zero = arith.constant 0 : i32
  %A3 = memref.expand_shape %A [[0], [1, 2]] output_shape [16, 16, 4] : memref<16x64xi8> into memref<16x16x4xi8>
  %C3 = memref.expand_shape %C [[0], [1, 2]] output_shape [16, 1, 16] : memref<16x16xi32> into memref<16x1x16xi32>
  linalg.fill ins(%zero : i32) outs(%C3 : memref<16x1x16xi32>)
  linalg.generic {indexing_maps = [#a, #b, #c],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]}
      ins(%A3, %B : memref<16x16x4xi8>, memref<1x16x16x4xi8>)
      outs(%C3 : memref<16x1x16xi32>) attrs = {hatc.amx_micro_tile} {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}
func.func @read_between(%A: memref<16x64xi8>, %B: memref<1x16x16x4xi8>,
                        %C: memref<16x16xi32>) -> i32 {
  %zero = arith.constant 0 : i32
  %c0 = arith.constant 0 : index
  %A3 = memref.expand_shape %A [[0], [1, 2]] output_shape [16, 16, 4] : memref<16x64xi8> into memref<16x16x4xi8>
  %C3 = memref.expand_shape %C [[0], [1, 2]] output_shape [16, 1, 16] : memref<16x16xi32> into memref<16x1x16xi32>
  linalg.fill ins(%zero : i32) outs(%C3 : memref<16x1x16xi32>)
  %v = memref.load %C[%c0, %c0] : memref<16x16xi32>
  linalg.generic {indexing_maps = [#a, #b, #c],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]}
      ins(%A3, %B : memref<16x16x4xi8>, memref<1x16x16x4xi8>)
      outs(%C3 : memref<16x1x16xi32>) attrs = {hatc.amx_micro_tile} {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return %v : i32
}

// -----

#a = affine_map<(m, nb, kb, n, k) -> (m, kb, k)>
#b = affine_map<(m, nb, kb, n, k) -> (nb, kb, n, k)>
#c = affine_map<(m, nb, kb, n, k) -> (m, nb, n)>

// 8 rows: not a whole tile.
func.func @partial(%A: memref<8x16x4xi8>, %B: memref<1x16x16x4xi8>,
                   %C: memref<8x1x16xi32>) {
  // expected-error @+1 {{hatc-x86-amx: cannot lower this micro-tile: shapes do not tile into 16-row, 64-byte AMX tiles}}
  linalg.generic {indexing_maps = [#a, #b, #c],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel", "reduction"]}
      ins(%A, %B : memref<8x16x4xi8>, memref<1x16x16x4xi8>)
      outs(%C : memref<8x1x16xi32>) attrs = {hatc.amx_micro_tile} {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}
