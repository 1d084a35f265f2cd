// hatc-x86-amx on cpu_conv_amx's micro-tiles: a packed NHWC conv over one
// output row (n, oh, ow, f/16, kh, kw, c/g, f%16, c%g) becomes AMX tile
// products straight-line over kh, kw and 64-byte channel steps. Its A tiles
// are loaded from the input in place: row r of a tile is output position r,
// so a tile's rows lie the conv's stride times the channels apart (128
// bytes below: stride 2, 64 channels). 28 positions are a 16-row and a
// 12-row tile; a zero-filled output starts from zeroed tiles.
// RUN: hatc-opt %s --split-input-file --hatc-x86-amx="features=amx" -verify-diagnostics | FileCheck %s

#in = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (n, oh * 2 + kh, ow * 2 + kw, cb, c)>
#fl = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (kh, kw, fb, cb, f, c)>
#out = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (n, oh, ow, fb, f)>

// CHECK-LABEL: func.func @stride2
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.generic
// Accumulators: rows 0-15 and 16-27 of both 16-filter panels, zeroed.
// CHECK-COUNT-2: amx.tile_zero : vector<16x16xi32>
// CHECK-COUNT-2: amx.tile_zero : vector<12x16xi32>
// kh = 0, kw = 0: positions 0-15 from column 0, 16-27 from column 32.
// CHECK: memref.subview %[[IN:[a-z0-9_]+]][0, 0, 0, 0, 0] [1, 1, 16, 16, 4] [1, 1, 2, 1, 1] : memref<1x3x57x16x4xi8> to memref<16x16x4xi8, strided<[128, 4, 1]>>
// CHECK: memref.reinterpret_cast %{{.*}} to offset: [0], sizes: [16, 128], strides: [128, 1]
// CHECK: amx.tile_load %{{.*}} : memref<16x128xi8{{.*}}> into vector<16x64xi8>
// CHECK: memref.subview %[[IN]][0, 0, 32, 0, 0] [1, 1, 12, 16, 4] [1, 1, 2, 1, 1] : memref<1x3x57x16x4xi8> to memref<12x16x4xi8, strided<[128, 4, 1], offset: 2048>>
// CHECK: amx.tile_load %{{.*}} into vector<12x64xi8>
// CHECK: memref.subview %[[F:[a-z0-9_]+]][0, 0, 0, 0, 0, 0] [1, 1, 1, 16, 16, 4]
// CHECK: amx.tile_load %{{.*}} into vector<16x64xi8>
// CHECK: memref.subview %[[F]][0, 0, 1, 0, 0, 0] [1, 1, 1, 16, 16, 4]
// CHECK: amx.tile_load %{{.*}} into vector<16x64xi8>
// CHECK-COUNT-2: amx.tile_muli %{{.*}} : vector<16x64xi8>, vector<16x64xi8>, vector<16x16xi32>
// CHECK-COUNT-2: amx.tile_muli %{{.*}} : vector<12x64xi8>, vector<16x64xi8>, vector<12x16xi32>
// kh = 0, kw = 1: one column on.
// CHECK: memref.subview %[[IN]][0, 0, 1, 0, 0] [1, 1, 16, 16, 4] [1, 1, 2, 1, 1]
// The last step, kh = 2, kw = 2: row 2, column 2 (and 34).
// CHECK: memref.subview %[[IN]][0, 2, 2, 0, 0] [1, 1, 16, 16, 4] [1, 1, 2, 1, 1]
// CHECK: memref.subview %[[IN]][0, 2, 34, 0, 0] [1, 1, 12, 16, 4] [1, 1, 2, 1, 1]
// CHECK: memref.subview %[[F]][2, 2, 1, 0, 0, 0] [1, 1, 1, 16, 16, 4]
// CHECK-COUNT-4: amx.tile_muli
// CHECK-NOT: amx.tile_muli
// CHECK-COUNT-4: amx.tile_store
// CHECK: return
func.func @stride2(%I: memref<1x3x57x16x4xi8>, %F: memref<3x3x2x16x16x4xi8>,
                   %O: memref<1x1x28x2x16xi32>) {
  %zero = arith.constant 0 : i32
  linalg.fill ins(%zero : i32) outs(%O : memref<1x1x28x2x16xi32>)
  linalg.generic {indexing_maps = [#in, #fl, #out],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]}
      ins(%I, %F : memref<1x3x57x16x4xi8>, memref<3x3x2x16x16x4xi8>)
      outs(%O : memref<1x1x28x2x16xi32>) attrs = {hatc.amx_micro_tile} {
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

// bf16, dilation 2, 64 channels (two 64-byte steps of 16 groups of 2) into
// a bias the output holds already: the accumulators are loaded, not zeroed.
#in = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (n, oh + kh * 2, ow + kw * 2, cb, c)>
#fl = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (kh, kw, fb, cb, f, c)>
#out = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (n, oh, ow, fb, f)>

// CHECK-LABEL: func.func @bf16_dilated
// CHECK-NOT: amx.tile_zero
// CHECK: amx.tile_load %{{.*}} into vector<8x16xf32>
// CHECK: memref.subview %[[IN:[a-z0-9_]+]][0, 0, 0, 0, 0] [1, 1, 8, 16, 2] [1, 1, 1, 1, 1]
// CHECK: amx.tile_load %{{.*}} into vector<8x32xbf16>
// CHECK: amx.tile_load %{{.*}} into vector<16x32xbf16>
// One accumulator and two steps' A and B tiles fit the 8 registers: the
// second channel step's tiles are loaded before the first step's product.
// CHECK-NEXT: memref.subview %[[IN]][0, 0, 0, 16, 0] [1, 1, 8, 16, 2]
// CHECK: amx.tile_load %{{.*}} into vector<8x32xbf16>
// CHECK: amx.tile_load %{{.*}} into vector<16x32xbf16>
// CHECK-NEXT: amx.tile_mulf %{{.*}} : vector<8x32xbf16>, vector<16x32xbf16>, vector<8x16xf32>
// Then kw = 1, two columns on (dilation 2), and at last kh = kw = 2.
// CHECK-NEXT: memref.subview %[[IN]][0, 0, 2, 0, 0] [1, 1, 8, 16, 2]
// CHECK: memref.subview %[[IN]][0, 4, 4, 16, 0] [1, 1, 8, 16, 2]
// CHECK: amx.tile_mulf
// CHECK-NEXT: amx.tile_mulf
// CHECK-NOT: amx.tile_mulf
// CHECK: amx.tile_store
func.func @bf16_dilated(%I: memref<1x5x12x32x2xbf16>, %F: memref<3x3x1x32x16x2xbf16>,
                        %O: memref<1x1x8x1x16xf32>) {
  linalg.generic {indexing_maps = [#in, #fl, #out],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]}
      ins(%I, %F : memref<1x5x12x32x2xbf16>, memref<3x3x1x32x16x2xbf16>)
      outs(%O : memref<1x1x8x1x16xf32>) attrs = {hatc.amx_micro_tile} {
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

// 8 channel groups: half a tile row.
#in = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (n, oh + kh, ow + kw, cb, c)>
#fl = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (kh, kw, fb, cb, f, c)>
#out = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (n, oh, ow, fb, f)>
func.func @half_row(%I: memref<1x1x16x8x4xi8>, %F: memref<1x1x1x8x16x4xi8>,
                    %O: memref<1x1x16x1x16xi32>) {
  // expected-error @+1 {{hatc-x86-amx: cannot lower this conv micro-tile: channels and filters do not tile into 16-row, 64-byte AMX tiles}}
  linalg.generic {indexing_maps = [#in, #fl, #out],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]}
      ins(%I, %F : memref<1x1x16x8x4xi8>, memref<1x1x1x8x16x4xi8>)
      outs(%O : memref<1x1x16x1x16xi32>) attrs = {hatc.amx_micro_tile} {
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

// The input's column reads the filter's row: not a conv.
#in = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (n, oh + kh, ow + kh, cb, c)>
#fl = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (kh, kw, fb, cb, f, c)>
#out = affine_map<(n, oh, ow, fb, kh, kw, cb, f, c) -> (n, oh, ow, fb, f)>
func.func @not_conv(%I: memref<1x1x16x16x4xi8>, %F: memref<1x1x1x16x16x4xi8>,
                    %O: memref<1x1x16x1x16xi32>) {
  // expected-error @+1 {{hatc-x86-amx: cannot lower this conv micro-tile: the input's row or column reads another loop}}
  linalg.generic {indexing_maps = [#in, #fl, #out],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction", "parallel", "reduction"]}
      ins(%I, %F : memref<1x1x16x16x4xi8>, memref<1x1x1x16x16x4xi8>)
      outs(%O : memref<1x1x16x1x16xi32>) attrs = {hatc.amx_micro_tile} {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extsi %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %acc, %2 : i32
    linalg.yield %3 : i32
  }
  return
}
