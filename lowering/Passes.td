//===- Passes.td - hatc's passes ------------------------------*- tablegen -*-===//
#ifndef HATC_LOWERING_PASSES_TD
#define HATC_LOWERING_PASSES_TD

include "mlir/Pass/PassBase.td"

def LowerLinalgToHwacc : Pass<"hatc-lower-linalg-to-hwacc", "mlir::ModuleOp"> {
  let summary = "Offload matmul, batch_matmul and conv_2d (via im2col) to hwacc";
  let description = [{
    Runs on bufferized IR. Each `linalg.matmul` with f32 or i8 x i8 -> i32
    operands becomes a `hwacc.matmul`; `linalg.batch_matmul` becomes a loop
    of them over the batch; `linalg.conv_2d_nhwc_hwcf` becomes a host im2col
    (a `linalg.generic` copy into an (N*OH*OW) x (KH*KW*C) buffer) and a
    `hwacc.matmul` with the filter viewed as (KH*KW*C) x F. A
    `linalg.fill` of zero right before the op, into the same buffer, is
    folded away (the accelerator overwrites); otherwise the op accumulates.
    Every other op stays on the host, between calls to
    `hatc_hwacc_host_begin` and `hatc_hwacc_host_end`, so that the device
    model measures its wall time; an op marked `hwacc.on_host` (a GEMM the
    schedule kept on the host) begins with `hatc_hwacc_host_kept_begin`
    instead, so that its time counts in the time the schedule is ranked by.

    Tile factors come from the op's `hwacc.tile` attribute (set by a
    schedule), else from the pass options, else [4*dim, 4*dim, 4*dim]
    clamped to the problem. Also `hwacc.dataflow`, `hwacc.loop_order`,
    `hwacc.double_buffer` and `hwacc.on_host` (leave the op on the host).
    The module gets a `hwacc.target` from the options unless it has one.

    ```mlir
    linalg.fill ins(%zero : f32) outs(%C : memref<64x48xf32>)
    linalg.matmul ins(%A, %B : ...) outs(%C : memref<64x48xf32>)
    // becomes
    hwacc.matmul ins(%A, %B : ...) outs(%C : memref<64x48xf32>)
                 tile [64, 48, 32] dataflow "ws" loop_order "mnk" double_buffer
    ```
  }];
  let options = [
    Option<"arrayDim", "array-dim", "int64_t", "16", "PEs per side of the array">,
    Option<"scratchpadRows", "scratchpad-rows", "int64_t", "4096",
           "scratchpad rows (of dim f32 elements)">,
    Option<"accumulatorRows", "accumulator-rows", "int64_t", "1024",
           "accumulator rows (of dim 4-byte elements)">,
    ListOption<"tile", "tile", "int64_t", "default tile factors tm,tn,tk">,
    Option<"dataflow", "dataflow", "std::string", "\"ws\"", "ws or os">,
    Option<"loopOrder", "loop-order", "std::string", "\"mnk\"", "mnk or nmk">,
    Option<"doubleBuffer", "double-buffer", "bool", "true",
           "alternate two scratchpad regions">
  ];
  let dependentDialects = ["::hatc::hwacc::HwaccDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def ConvToNhwc : Pass<"hatc-conv-to-nhwc"> {
  let summary = "Rewrite NCHW convolutions (ONNX's layout) into "
                "linalg.conv_2d_nhwc_hwcf for hwacc";
  let description = [{
    The hwacc lowering takes `linalg.conv_2d_nhwc_hwcf` (through im2col);
    the ONNX front end produces NCHW convolutions. On tensors, before
    bufferization, each `linalg.conv_2d_nchw_fchw` becomes transposes of
    its input (NCHW -> NHWC) and filter (FCHW -> HWCF), a
    `linalg.conv_2d_nhwc_hwcf` with the same strides and dilations, and a
    transpose of the result back to NCHW. The accumulator moves too: a
    `linalg.fill` or a `linalg.broadcast` (a bias) is redone in NHWC, so no
    transpose is needed and a zero fill still sits right before the conv;
    any other accumulator is transposed. The op's discardable attributes
    (`hwacc.tile`, `hwacc.dataflow`, ...) go to the new conv.

    A grouped `linalg.conv_2d_ngchw_gfchw` with at most `max-groups` groups
    becomes one `conv_2d_nchw_fchw` per group, on rank-reduced
    `tensor.extract_slice`s, each result put back with
    `tensor.insert_slice`, and those are rewritten as above. With more
    groups the per-group GEMMs are too narrow for the array and the op
    stays on the host, as do depthwise convolutions (no reduction over
    channels: nothing for a GEMM array). Ops marked `hwacc.on_host` and
    element types the array does not compute (it takes f32, and i8 x i8 ->
    i32) are left alone.

    The graph pipeline uses the same rewrite for the CPU layout
    (`depthwise=true pooling=true grouped-nhwc=true any-type=true
    max-groups=0`): depthwise convolutions become
    `linalg.depthwise_conv_2d_nhwc_hwc` (filter CHW -> HWC) too, a grouped
    convolution one `linalg.conv_2d_nhwc_hwcf` per group reading and
    writing channel slices of one NHWC input and output (no per-group
    transposes), NCHW max and sum pooling (MaxPool, AveragePool) become
    `linalg.pooling_nhwc_max` / `linalg.pooling_nhwc_sum`, and
    `hatc-propagate-transposes` then cancels the transposes between
    consecutive convolutions and pools.

    ```mlir
    %r = linalg.conv_2d_nchw_fchw {strides = dense<2> : tensor<2xi64>, ...}
           ins(%x, %w : tensor<1x3x9x9xf32>, tensor<8x3x3x3xf32>)
           outs(%acc : tensor<1x8x4x4xf32>) -> tensor<1x8x4x4xf32>
    // becomes
    %xt = linalg.transpose ins(%x : ...) outs(...) permutation = [0, 2, 3, 1]
    %wt = linalg.transpose ins(%w : ...) outs(...) permutation = [2, 3, 1, 0]
    %c = linalg.conv_2d_nhwc_hwcf {strides = dense<2> : tensor<2xi64>, ...}
           ins(%xt, %wt : tensor<1x9x9x3xf32>, tensor<3x3x3x8xf32>)
           outs(%acct : tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
    %r = linalg.transpose ins(%c : ...) outs(...) permutation = [0, 3, 1, 2]
    ```
  }];
  let options = [
    Option<"maxGroups", "max-groups", "int64_t", "4",
           "split grouped convolutions with at most this many groups">,
    Option<"depthwise", "depthwise", "bool", "false",
           "also rewrite depthwise_conv_2d_nchw_chw into "
           "depthwise_conv_2d_nhwc_hwc (the CPU layout)">,
    Option<"groupedNhwc", "grouped-nhwc", "bool", "false",
           "rewrite grouped convolutions not split for the array into one "
           "conv_2d_nhwc_hwcf per group on channel slices of NHWC tensors "
           "(the CPU layout)">,
    Option<"pooling", "pooling", "bool", "false",
           "also rewrite pooling_nchw_max and pooling_nchw_sum into their "
           "NHWC forms (the CPU layout)">,
    Option<"anyType", "any-type", "bool", "false",
           "rewrite convolutions of every element type, not only those "
           "the array computes (the CPU layout)">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def LowerHwacc : Pass<"hatc-lower-hwacc", "mlir::func::FuncOp"> {
  let summary = "hwacc.matmul -> hwacc.config/mvin/preload/compute/mvout/fence";
  let description = [{
    Expands each `hwacc.matmul` into loops over its tiles (in `loop_order`)
    that move DIM x DIM blocks into the scratchpad (two regions each for A
    and B when double-buffered, alternating with the k tile), preload the
    weight blocks, stream the A blocks through the array, and move the C
    blocks out of the accumulator when their k loop is done. Edge blocks get
    their true row and column counts, so no shape needs padding. With
    weight-stationary dataflow a weight block is latched once and reused for
    every A block of the tile (re-preloading the latched block is free).

    ```mlir
    hwacc.matmul ins(%A, %B ...) outs(%C ...) tile [16, 16, 16] ...
    // becomes (one tile)
    hwacc.config dataflow "ws" elem f32 out f32 scale 1.0 relu false
    hwacc.mvin %A[%i, %k] to sp[%a] size [%m, %kk] : memref<...>
    hwacc.mvin %B[%k, %j] to sp[%b] size [%kk, %n] : memref<...>
    hwacc.preload sp[%b] acc[%c] size [%kk, %n]
    hwacc.compute sp[%a] size [%m, %kk]
    hwacc.mvout %C[%i, %j] from acc[%c] size [%m, %n] : memref<...>
    hwacc.fence
    ```
  }];
  let dependentDialects = ["::hatc::hwacc::HwaccDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def ConvertHwaccToLLVM : Pass<"hatc-convert-hwacc-to-llvm", "mlir::ModuleOp"> {
  let summary = "hwacc instructions -> llvm.call @hatc_hwacc_* (the C ABI)";
  let description = [{
    Each instruction-level op becomes a call of its `hatc_hwacc_*` function
    (runtime/HwaccAbi.h); memref operands become element pointers computed
    from their strided metadata, sizes and addresses i64.

    ```mlir
    hwacc.mvin %A[%i, %k] to sp[%a] size [%m, %kk] : memref<64x32xf32>
    // becomes
    llvm.call @hatc_hwacc_mvin(%ptr, %stride, %a64, %m64, %kk64)
        : (!llvm.ptr, i64, i64, i64, i64) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def GpuWorkgroupCopies : Pass<"hatc-gpu-workgroup-copies", "mlir::ModuleOp"> {
  let summary = "Move workgroup buffers into gpu.launch and share their copies "
                "among the block's threads";
  let description = [{
    `transform.structured.promote` with the workgroup memory space allocates
    its tiles at the top of the host function and fills them with a
    `memref.copy` that every thread would run whole. This pass makes such a
    schedule runnable and fast:

    - each `memref.alloc` in `#gpu.address_space<workgroup>` becomes a
      workgroup attribution of every `gpu.launch` that uses it (shared memory
      on NVVM); the host alloc and its deallocs go away;
    - each `memref.copy` inside a `gpu.launch` into or out of workgroup memory
      becomes a loop in which thread t of the block moves chunks t, t + T,
      t + 2T, ... (T threads), each chunk a `vector.load`/`vector.store` of
      `vector-width` elements (or the launch's `hatc.copy_vector_width`
      attribute) along the innermost dimension (narrower where the innermost
      size does not divide). The barriers `promote` put around the
      copies keep them ordered with the compute.

    ```mlir
    %a = memref.alloc() : memref<64x16xf32, #gpu.address_space<workgroup>>
    gpu.launch ... {
      memref.copy %tile, %a : memref<64x16xf32, strided<[1024, 1], offset: ?>>
                           to memref<64x16xf32, #gpu.address_space<workgroup>>
    }
    // becomes
    gpu.launch ... workgroup(%a : memref<64x16xf32, #gpu.address_space<workgroup>>) {
      scf.for %c = %tid to %c256 step %nthreads {
        %v = vector.load %tile[%r, %col] : ..., vector<4xf32>
        vector.store %v, %a[%r, %col] : ..., vector<4xf32>
      }
    }
    ```
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", "4",
           "elements per load/store of a copy (1, 2 or 4)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def GpuDeviceBuffers : Pass<"hatc-gpu-device-buffers", "mlir::ModuleOp"> {
  let summary = "Allocate the host functions' temporaries in GPU memory";
  let description = [{
    On the GPU target every buffer the kernels touch must be device memory:
    the caller passes the arguments and results (device pointers), but a
    temporary between two launches (a matmul's result feeding its bias +
    ReLU) is still a host `memref.alloc` after bufferization. This pass
    turns each such alloc at the top level of a host function into a
    `gpu.alloc` (and frees it with `gpu.dealloc` before every return,
    replacing any `memref.dealloc`), synchronous through `gpu.wait`:

    ```mlir
    %t = memref.alloc() : memref<128x3072xf32>
    gpu.launch ... { ... %t ... }
    return
    // becomes
    %w0 = gpu.wait async
    %t, %w1 = gpu.alloc async [%w0] () : memref<128x3072xf32>
    gpu.wait [%w1]
    gpu.launch ... { ... %t ... }
    %w2 = gpu.wait async
    %w3 = gpu.dealloc async [%w2] %t : memref<128x3072xf32>
    gpu.wait [%w3]
    return
    ```

    A temporary that host code reads or writes itself, or one allocated
    inside a host loop, is an error: it cannot live on the device.
    Workgroup buffers (`hatc-gpu-workgroup-copies`) are left alone.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect"];
}

def GpuFpContract : Pass<"hatc-gpu-fp-contract", "mlir::ModuleOp"> {
  let summary = "Let the GPU kernels fuse multiplies and adds (FMA)";
  let description = [{
    Adds `contract` to the fast-math flags of every floating-point `arith`
    op inside a `gpu.launch`. Without it LLVM's NVPTX backend must keep a
    multiply and the add that consumes it apart (`mul.rn.f32` +
    `add.rn.f32`, two roundings, two instructions); with it they become one
    `fma.rn.f32`, which is also the more accurate result. Host code and CPU
    kernels are untouched.

    ```mlir
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    // becomes
    %p = arith.mulf %a, %b fastmath<contract> : f32
    %s = arith.addf %c, %p fastmath<contract> : f32
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def ExpandMath : Pass<"hatc-expand-math", "mlir::ModuleOp"> {
  let summary = "Rewrite math ops LLVM 19 cannot lower into ones it can";
  let description = [{
    `convert-math-to-llvm` in MLIR 19 has no lowering for `math.tanh`,
    `math.erf`, the inverse and hyperbolic trigonometric functions, `tan` or
    `cbrt` (LLVM 19 has no intrinsics for them), so a workload using one
    validated and then failed in LLVM translation. This pass rewrites them
    into ops that lower everywhere (the CPU and the hwacc host code):

    - `math.tanh` (any float type): MLIR's expansion into `math.exp` and
      arithmetic;
    - `math.erf` on f32 (scalar or vector): MLIR's polynomial approximation;
    - `math.exp` on f32 vectors: a range reduction and Cephes' polynomial
      (LLVM 19 would call `expf` once per lane); a scalar exp stays;
    - `math.powf` by a constant exponent of 1, 2, 3, 0.5, 0.75, -0.5 or
      -1: multiplies, `math.sqrt`, `math.rsqrt` and a divide (MLIR's
      algebraic simplification; `llvm.pow` is a `powf` call per element,
      and a tanh-form GELU's x^3 made its matmul 8x slower);
    - `math.erf` on other types, `atan`, `atan2`, `asin`, `acos`, `sinh`,
      `cosh`, `tan`, `asinh`, `acosh`, `atanh` and `cbrt`: calls of libm
      (`erf`, `atanf`, ..., vector operands unrolled), which the kernel's
      shared object links (`-lm`).

    ```mlir
    %t = math.tanh %x : f32
    // becomes, with s = sign(x) and e = exp(-2|x|):
    // (1 - e) / (1 + e), with the sign of x
    %a = math.atan %y : f64
    // becomes
    %a = call @atan(%y) : (f64) -> f64
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def DecomposeTensorOps : Pass<"hatc-decompose-tensor-ops", "mlir::ModuleOp"> {
  let summary = "Rewrite tensor ops one-shot bufferization cannot take";
  let description = [{
    One-shot bufferization in MLIR 19 has no model for `tensor.concat`, which
    the ONNX importer emits for Concat. Before bufferizing, each concat
    becomes a `tensor.empty` of the result's shape filled by one
    `tensor.insert_slice` per operand (MLIR's
    `populateDecomposeTensorConcatPatterns`), which bufferizes in place:

    ```mlir
    %r = tensor.concat dim(1) %a, %b
        : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x7xf32>
    // becomes
    %e = tensor.empty() : tensor<2x7xf32>
    %0 = tensor.insert_slice %a into %e[0, 0] [2, 3] [1, 1]
        : tensor<2x3xf32> into tensor<2x7xf32>
    %r = tensor.insert_slice %b into %0[0, 3] [2, 4] [1, 1]
        : tensor<2x4xf32> into tensor<2x7xf32>
    ```

    Nor for `tensor.pack` / `tensor.unpack` (data tiling, e.g. the AMX
    matmul schedule's). One that only splits or joins the innermost dim is
    a reshape (`tensor.expand_shape` / `collapse_shape`, no copy); any
    other becomes pad + expand_shape + `linalg.transpose` (unpack: the
    reverse), which bufferize. Schedules that care for speed tile and
    vectorize their packs before this.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def X86Amx : Pass<"hatc-x86-amx", "mlir::ModuleOp"> {
  let summary = "Lower cpu_matmul_amx's and cpu_conv_amx's micro-tiles to "
                "Intel AMX tile ops";
  let description = [{
    cpu_matmul_amx packs an i8 (or bf16) matmul so that each micro-tile is
    a `linalg.generic` over (m, n/16, k/g, n%16, k%g) reading A as
    m x k/g x g (its rows), B as n/16 x k/g x 16 x g (per 16 columns, one
    64-byte row per group of g = 4 i8 or 2 bf16 k values: the tiles' VNNI
    layout) and accumulating C as m x n/16 x 16, and marks it
    `hatc.amx_micro_tile`. Each marked op on memrefs (after bufferization)
    becomes, per 16 rows i and 16 columns j of C (at most 2 x 2, with their
    A and B tiles the 8 tile registers):

    ```mlir
    %c_ij = amx.tile_load %C_j[16 i, 0] : ... into vector<16x16xi32>
    // per 64 bytes s of k, unrolled over the whole k block:
    %a_i = amx.tile_load %A[16 i, 64 s] : ... into vector<16x64xi8>
    %b_j = amx.tile_load %B_j[16 s, 0] : ... into vector<16x64xi8>
    %c_ij = amx.tile_muli %a_i, %b_j, %c_ij : ...   // tdpbssd
    amx.tile_store %C_j[16 i, 0], %c_ij : ...
    ```

    `tile_mulf` (tdpbf16ps) for bf16; `zext` on an operand read through
    `arith.extui`. Micro-tiles that take all of K into a buffer whose only
    earlier writer is a zero `linalg.fill` (every other use after them)
    start from `amx.tile_zero` and the fill is erased: the schedule's tiles
    cover the buffer. The k steps are straight-line code: LLVM 19 cannot
    carry AMX tiles through loop block arguments as MLIR lowers them.

    cpu_conv_amx packs an NHWC conv the same way: a micro-tile is a
    `linalg.generic` over (n, oh, ow, f/16, kh, kw, c/g, f%16, c%g) reading
    the input as N x H x W x C/g x g (a reshape), the filter as
    KH x KW x F/16 x C/g x 16 x g, and accumulating the output as
    N x OH x OW x F/16 x 16, for one image, one output row, up to 32
    output positions and up to 2 x 16 filters, over all of kh, kw and the
    channels. Its output positions split into tiles of 16 rows and the
    rest (28 = 16 + 12), each loaded straight from the input: row r of the
    tile is the channels at column `(ow + r) * stride + kw * dilation` of
    input row `kh * dilation`, so the tile's row stride is the stride
    times the channels. Straight-line over kh, kw and 64-byte channel
    steps:

    ```mlir
    %a_i = amx.tile_load %In_kh_kw_i[0, 0] : ... into vector<12x64xi8>
    %b_j = amx.tile_load %F_kh_kw_j[0, 0] : ... into vector<16x64xi8>
    %c_ij = amx.tile_muli %a_i, %b_j, %c_ij : ...
    ```

    Linux hands out the tile state only on request, so the module gets a
    constructor calling `arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA)` when
    it is loaded. A marked op on a host without AMX, or one whose shapes or
    body do not fit the tiles, is an error naming the op.
  }];
  let options = [
    Option<"features", "features", "std::string", "\"host\"",
           "whose AMX to check for: host (this CPU must have amx-tile), or "
           "amx (assume it: lowering tests on any host)">
  ];
  let dependentDialects = ["::mlir::amx::AMXDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::memref::MemRefDialect"];
}

def X86DotProducts : Pass<"hatc-x86-dot-products", "mlir::ModuleOp"> {
  let summary = "Lower i8 and bf16 matmul contractions to AVX-512 VNNI and "
                "BF16 dot-product instructions";
  let description = [{
    A CPU micro-kernel scheduled with a k step of 4 (i8 x i8 -> i32) or 2
    (bf16 x bf16 -> f32) is a `vector.contract` of an mr x k block of A
    with a k x nr block of B into the mr x nr accumulators, its operands
    sign- (or float-) extended from the narrow type; or of one row, a
    k-vector with a k x nr block into nr accumulators (what the vectorizer
    makes of a strided conv's register tile, one per output position).
    Each group of k values becomes one dot-product instruction per 16
    columns and row:
    `vpdpbusd` (`llvm.x86.avx512.vpdpbusd.512`) for i8 and `vdpbf16ps`
    (`llvm.x86.avx512bf16.dpbf16ps.512`) for bf16. The k values of one
    column of B are interleaved in registers (shuffles), the k values of a
    row of A are broadcast as one 32-bit word. A B packed in k groups
    (cpu_matmul's panels: B(ko, n, k) with k one group, read from a
    buffer whose minor dims are the columns and the group) needs no
    shuffles: each 16 columns of a group is one 64-byte `vector.load`.
    Dims of size 1 between (a packed register tile's) are ignored.

    `vpdpbusd` multiplies unsigned bytes by signed bytes. For signed A the
    row is shifted to unsigned (a + 128, an xor of the sign bit) and
    128 * (the column sums of B) subtracted, computed with one more
    `vpdpbusd` of 0x80 bytes per column vector and group, summed over the
    groups and subtracted from each accumulator once: exact in i32. A
    zero-extended (u8) operand takes the unsigned side as it is, with no
    compensation; so does a B zero-extended from its bytes xor 0x80 (what
    hatc-x86-dot-row-sums makes of signed B), flipped back to b + 128 as
    each block is loaded, with A's signed words on the other side (C's
    initial value holds the compensation). Two unsigned operands are left
    to the generic lowering.

    ```mlir
    %r = vector.contract {matmul maps} (arith.extsi %a : vector<8x4xi8>),
         (arith.extsi %b : vector<4x32xi8>), %acc : vector<8x32xi32>
    // becomes, per row i and 16 columns c
    %r_ic = llvm.call_intrinsic "llvm.x86.avx512.vpdpbusd.512"
              (%acc_ic, splat(a_i xor 0x80808080), %b_c) - %comp_c
    ```

    Contractions of other shapes and types, and all of them when the
    instruction set is not in `features` (by default, those of the host
    the code is compiled for), are left to the generic vector lowering.
  }];
  let options = [
    Option<"features", "features", "std::string", "\"host\"",
           "the instruction sets to use: host (this CPU's), or a comma "
           "list of avx512vnni and avx512bf16 (empty: none)">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

def X86DotRowSums : Pass<"hatc-x86-dot-row-sums", "mlir::ModuleOp"> {
  let summary = "Put signed A on vpdpbusd's signed side: B's bytes shifted, "
                "A's row sums in C's initial value";
  let description = [{
    `vpdpbusd` multiplies unsigned bytes by signed ones. For an i8 x i8
    matmul, hatc-x86-dot-products shifts A to unsigned in the kernel and
    subtracts 128 x (B's column sums), recomputed in every register tile:
    two more dot products and one xor per row of each k group. Where C
    starts from a fill, this pass (on the scheduled tensors, before
    bufferization) moves that work out of the kernel:

    - each register tile's B is zero-extended from its bytes xor 0x80
      (b + 128, unsigned), so that A's signed bytes take the signed side;
    - the fill becomes c - 128 x (the sum of A's row) for each of its rows
      (one pass over A's rows, 64 bytes a step), which
      the tiles' 128 x (their part of A's row sums) cancel exactly in i32.

    The tiles of a fill are taken together or not at all: all must be
    i8 x i8 -> i32 contractions the dot products take, reading rows of one
    A (a tensor of the function, its dim 0 the rows and the others summed)
    into rows of C (dim 0). Others are left as they are.

    ```mlir
    %c0 = linalg.fill ins(%c) outs(%t)            // becomes
    %c0 = scf.for %r ... { c - (sum(A[r, ...]) << 7) written over row r }
    ... vector.contract (extsi %a), (extsi %b), %acc // becomes
    ... vector.contract (extsi %a), (extui (xori %b, 0x80)), %acc
    ```
  }];
  let options = [
    Option<"features", "features", "std::string", "\"host\"",
           "the instruction sets to use: host (this CPU's), or a comma "
           "list of avx512vnni and avx512bf16 (without avx512vnni: nothing "
           "to do)">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::vector::VectorDialect"];
}

def DeferAccumulatorReads : Pass<"hatc-defer-accumulator-reads"> {
  let summary = "Start register tiles from zero and add the old values "
                "after their loop";
  let description = [{
    A vectorized matmul (or conv) keeps its register tile in vectors
    carried by the k loop: the tile is read from C before the loop and
    written back after it. Every tile's FMA chain then waits for that read,
    and C is often far (a fresh 4 MiB result comes from memory): at each
    tile start the core stalls for the read's latency. Libraries' kernels
    start their accumulators at zero and add C at the end instead, so the
    read overlaps the arithmetic. This pass does the same: for an
    `scf.for` whose vector iter_arg starts from a `vector.transfer_read`
    and whose result is written back by the matching
    `vector.transfer_write` (same memref, indices, map, no mask), and whose
    body only adds to that argument, row by row (`vector.fma`'s accumulator,
    `vector.contract` of kind add, `arith.addf`/`addi`, through
    `vector.extract`/`insert` and unit broadcasts; the other operands
    independent of it), the argument starts from zero and the read moves
    after the loop, added to its result:

    ```mlir
    %c = vector.transfer_read %C[%i, %j] ... : vector<8x32xf32>
    %r = scf.for ... iter_args(%acc = %c) -> (vector<8x32xf32>) { ... }
    vector.transfer_write %r, %C[%i, %j] ...
    // becomes (with a memref.prefetch of each of the tile's lines first)
    %r = scf.for ... iter_args(%acc = %zero) -> (vector<8x32xf32>) { ... }
    %c = vector.transfer_read %C[%i, %j] ... : vector<8x32xf32>
    %s = arith.addf %r, %c : vector<8x32xf32>
    vector.transfer_write %s, %C[%i, %j] ...
    ```

    Floating-point sums are reassociated (C is added last, not first).
    Loops whose body does anything else with the argument (a max, a
    product, a lane insert) are left alone, and so are those where
    anything from the read to the write (the loop included) may write
    memory: C could change in between (two matmuls sharing their initial
    buffer, the first writing it before the second's loop). Runs on
    memrefs (after bufferization): each line of the tile is prefetched
    for writing before the loop (`memref.prefetch`), so the read after it
    finds the lines in L1.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def PrefetchWeights : Pass<"hatc-prefetch-weights"> {
  let summary = "Prefetch the next block of a large constant (the weights) "
                "while a micro-kernel computes on the current one";
  let description = [{
    A packed matmul reads its weights (B's panels, a constant global) one
    block at a time: the block is used by every register tile of the
    thread's rows, and the first tile finds it in memory, not in cache.
    The hardware prefetchers do not run ahead across blocks, so that
    tile waits for the block's lines: measured on the BERT FFN matmul
    (9 MiB of weights), its run with the caches flushed first took 12-15%
    longer than with them warm, and a model streams every weight from
    memory on every run.

    In each innermost `scf.for` (constant bounds) with a
    `vector.transfer_read` (minor identity map) from a
    chain of unit-stride, rank-preserving `memref.subview`s of a
    `memref.get_global` of a constant global of at least
    `min-bytes`, where the loop's induction variable is one dim's offset,
    this pass prefetches into L2 each cache line of the read one whole
    trip of the loop ahead along that dim: the same place in the next
    block (past the end of the dim, the layout's next row of blocks; past
    the end of the global, a prefetch that does nothing). Only the first
    tile that uses a block misses the cache; the others find the lines
    prefetched already.

    ```mlir
    scf.for %k = %c0 to %c128 step %c1 {
      %b = memref.subview %B[%n, %k0 + %k, 0] [1, 1, 64] [1, 1, 1] ...
      %v = vector.transfer_read %b[%c0, %c0, %c0] ... : vector<64xf32>
    // gains, before the read, for each of its 4 lines
      memref.prefetch %B[%n, %k0 + %k + 128, %line], read, locality<2>, data
    ```
  }];
  let options = [
    Option<"minBytes", "min-bytes", "int64_t", "1048576",
           "only constants at least this large (smaller ones stay cached)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def WidenI1VectorMemory : Pass<"hatc-widen-i1-vector-memory", "mlir::ModuleOp"> {
  let summary = "Load and store vectors of i1 as bytes";
  let description = [{
    A `memref<...xi1>` (an ONNX bool tensor, a comparison's result) keeps
    one byte per element: scalar `i1` loads and stores touch one byte each.
    LLVM stores a `vector<N x i1>` bit-packed, though (N bits), so a
    vectorized schedule of an op that writes or reads bools would pack
    eight elements into each byte and read them back that way, while the
    caller's buffers hold bytes. Runs on the LLVM dialect and widens each
    vector-of-i1 memory access (`llvm.store`, `llvm.load` and their masked
    intrinsics) to bytes:

    ```mlir
    llvm.store %v, %p : vector<16xi1>, !llvm.ptr
    // becomes
    %b = llvm.zext %v : vector<16xi1> to vector<16xi8>
    llvm.store %b, %p : vector<16xi8>, !llvm.ptr

    %l = llvm.load %p : !llvm.ptr -> vector<16xi1>
    // becomes
    %w = llvm.load %p : !llvm.ptr -> vector<16xi8>
    %l = llvm.trunc %w : vector<16xi8> to vector<16xi1>
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

//===----------------------------------------------------------------------===//
// Graph-level passes: run on an imported model before it is scheduled
// (buildGraphPipeline in include/hatc/Lowering/GraphPipeline.h).
//===----------------------------------------------------------------------===//

def FoldConstants : Pass<"hatc-fold-constants"> {
  let summary = "Fold weight-only subgraphs: per-channel affine ops into "
                "convolutions, transposes, reshapes and broadcasts of constants";
  let description = [{
    Computes at compile time what only depends on weights, reading
    `dense` and `dense_resource` constants alike (an elided resource is
    left alone). Results with more than `resource-threshold` elements
    become new `dense_resource` blobs, smaller ones `dense` constants.

    - `linalg.transpose`, `tensor.expand_shape` and `tensor.collapse_shape`
      of a constant become a constant; so does a `linalg.broadcast` of a
      constant whose result has at most `max-broadcast-elements` elements
      (larger ones stay: they would only grow the weights), unless it is
      an op's accumulator (`outs`), which stays a broadcast.
    - A `linalg.generic` whose only non-constant input is the sole use of a
      convolution (`conv_2d_nchw_fchw`, `depthwise_conv_2d_nchw_chw`,
      `conv_2d_nhwc_hwcf`, `depthwise_conv_2d_nhwc_hwc`) and whose body is
      `a[c] * x + b[c]` for per-output-channel constants (an imported
      inference BatchNormalization, a bias add, a scale) is folded into the
      convolution: the filter is scaled by `a`, and the accumulator
      (a zero fill or a broadcast bias) becomes a broadcast of
      `a * bias + b`. Floating-point f32 and f64 only; the arithmetic is
      done in double.
    - With `pad-matmul-columns` (the graph pipeline's first run), a
      `linalg.matmul` accumulating into a fill whose B is a constant with
      a column count 16 does not divide (a classifier's 1000 classes, a
      vocabulary) runs on B padded with zero columns to the next multiple
      of 64 (of 16 where 64 would add more than an eighth; none where 16
      would), its result sliced back: no register tile divided N, so its
      cache tiles were padded, a copy of B, on every run.
    - With `pad-conv-filters` (the graph pipeline's CPU layout), a
      `linalg.conv_2d_nhwc_hwcf` whose filter is a constant with rows (one
      per kh, kw, c) a multiple of 1 KiB long (f32 F = 256, 512, ...) and
      at least 512 of them reads it through a `tensor.extract_slice` of the
      same filter with each row padded by one 64-byte cache line of zeros.
      A register tile reads the same filter columns of every row; rows 1 KiB
      apart share a few L1 sets and evict each other (ResNet-18's 14x14 256
      -> 256 3x3: 750 us on 2 threads, 540 padded). Runs after the folds
      above.

    ```mlir
    %acc = linalg.broadcast ins(%bias : tensor<8xf32>) outs(%e : tensor<1x8x4x4xf32>) dimensions = [0, 2, 3]
    %c = linalg.conv_2d_nchw_fchw ins(%x, %w : ...) outs(%acc : ...)
    %y = linalg.generic {...} ins(%c, %scale, %shift : ...) outs(%e2 : ...) {
      ^bb0(%in: f32, %s: f32, %t: f32, %out: f32):
        %m = arith.mulf %in, %s : f32
        %a = arith.addf %m, %t : f32
        linalg.yield %a : f32
    }
    // becomes
    %acc2 = linalg.broadcast ins(%bias2 : tensor<8xf32>) outs(...) dimensions = [0, 2, 3]
    %y = linalg.conv_2d_nchw_fchw ins(%x, %w2 : ...) outs(%acc2 : ...)
    ```
  }];
  let options = [
    Option<"foldIntoConv", "fold-into-conv", "bool", "true",
           "fold per-channel affine consumers (BatchNormalization) into "
           "convolutions">,
    Option<"padMatmulColumns", "pad-matmul-columns", "bool", "false",
           "pad a matmul's constant B with zero columns to a multiple of 64 "
           "(or 16) and slice the result back (the graph pipeline)">,
    Option<"padConvFilters", "pad-conv-filters", "bool", "false",
           "pad the rows of NHWC conv filters that are a multiple of 1 KiB "
           "long by a cache line (the graph pipeline's CPU layout)">,
    Option<"maxBroadcastElements", "max-broadcast-elements", "int64_t",
           "1024", "fold broadcasts of constants up to this many result "
           "elements">,
    Option<"resourceThreshold", "resource-threshold", "int64_t", "64",
           "folded constants with more elements become dense_resource blobs">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FuseElementwise : Pass<"hatc-fuse-elementwise"> {
  let summary = "Fuse chains of elementwise linalg.generic ops, and "
                "elementwise producers into reductions";
  let description = [{
    Upstream linalg elementwise fusion (`populateElementwiseOpsFusionPatterns`)
    with a control function, plus folding of reshapes into generics by
    collapsing their loops, so that the elementwise consumers of a
    convolution or matmul (bias, BatchNormalization, activations, residual
    adds, GELU) end up as one `linalg.generic` directly reading the
    anchor's result: the unit task extraction and fused schedules take.

    A producer with one user (which may read it several times) is always
    fused. One with several users is fused into all of them (recomputed)
    only with `recompute=true`, a body of at most `max-recompute-ops`
    operations, and only `linalg.generic` users, so that it dies once
    fused: softmax's `exp(x - max)` then goes into both its sum and its
    division, layernorm's `x - mean` into its variance and its
    normalization. Off by default: measured on the CPU with the default
    schedules, a 1536x128 softmax took 1.4 ms recomputed against 0.75 ms
    not (exp twice, and a reduction with exp in it vectorizes worse), and
    the BERT layer of tests/onnx/make_models.py 65 us against 63 us.
    Elementwise producers fuse into reductions unless
    `into-reductions=false`.

    ```mlir
    %0 = linalg.generic {... ["parallel", "parallel"]} ins(%mm, %bias : ...) { addf }
    %1 = linalg.generic {... ["parallel", "parallel"]} ins(%0 : ...) { maximumf }
    // becomes
    %1 = linalg.generic {... ["parallel", "parallel"]} ins(%mm, %bias : ...) { addf; maximumf }
    ```
  }];
  let options = [
    Option<"recompute", "recompute", "bool", "false",
           "fuse a producer with several users into all of them">,
    Option<"maxRecomputeOps", "max-recompute-ops", "int64_t", "8",
           "largest producer body (operations) that is recomputed">,
    Option<"intoReductions", "into-reductions", "bool", "true",
           "fuse elementwise producers into reductions">,
    Option<"collapseReshapes", "collapse-reshapes", "bool", "true",
           "fold expand_shape producers into generics by collapsing loops">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def PropagateTransposes : Pass<"hatc-propagate-transposes"> {
  let summary = "Push layout transposes toward the graph edges and cancel "
                "inverse pairs";
  let description = [{
    After `hatc-conv-to-nhwc`, every convolution sits between a transpose
    of its input (NCHW -> NHWC) and one of its result (back to NCHW). This
    pass moves the result transposes down until they meet the next
    convolution's input transpose and cancel:

    - `linalg.transpose(linalg.transpose(x, p), q)` becomes `x` (or one
      transpose when the two do not cancel);
    - an elementwise `linalg.generic` (all loops parallel, identity output
      maps, the outputs' values unused) all of whose full-size inputs are
      `linalg.transpose`s with the same permutation runs in the
      untransposed layout (its other inputs, broadcast constants, are read
      through permuted indexing maps) and its results are transposed
      instead;
    - a `tensor.pad` with a constant value of a transpose pads the
      untransposed tensor;
    - a concatenation (a chain of `tensor.insert_slice` into a
      `tensor.empty`, as the importer writes Concat) of transposes by one
      permutation concatenates the untransposed tensors (offsets and sizes
      permuted) and transposes the result;
    - a transpose read by a `linalg.generic` with reduction loops (a
      pooling, a softmax) is folded into that operand's indexing map when
      all its users are generics.

    Weight transposes are left to `hatc-fold-constants`.

    ```mlir
    %t = linalg.transpose ins(%c : tensor<1x8x8x16xf32>) outs(...) permutation = [0, 3, 1, 2]
    %r = linalg.generic {...} ins(%t : tensor<1x16x8x8xf32>) ... { maximumf }
    %u = linalg.transpose ins(%r : tensor<1x16x8x8xf32>) outs(...) permutation = [0, 2, 3, 1]
    // becomes
    %r = linalg.generic {...} ins(%c : tensor<1x8x8x16xf32>) ... { maximumf }
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def DropKeptDims : Pass<"hatc-drop-kept-dims", "mlir::func::FuncOp"> {
  let summary = "Reductions write their rows without the reduced dims kept as 1s";
  let description = [{
    ONNX reductions keep the reduced dims by default (keepdims), and the
    importer writes them as a unit dim read at constant 0: a softmax's row
    max is a `tensor<1x12x128x1xf32>` with the out map `(d0, d1, d2, d3) ->
    (d0, d1, d2, 0)`, and its consumer reads it the same way. A map with a
    constant is not a projected permutation, so such a reduction cannot be
    tiled as a producer and fused into its consumer's loops (what a fused
    softmax or layernorm needs, CpuRowChain.cpp). This pass drops the kept
    dims from every `linalg.generic` reduction's result: the result, its
    out map and its fill (when the fill has no other use; else a
    `tensor.collapse_shape` of the init) lose them, `linalg.generic`
    consumers that read those dims at constant 0 read the smaller tensor
    through the map without them, and every other user gets a
    `tensor.expand_shape` back to the old type.

    ```mlir
    %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<4x1xf32>) -> tensor<4x1xf32>
    %m = linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1), (d0, d1) -> (d0, 0)], ...}
    %y = linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1), (d0, d1) -> (d0, 0), ...]}
           ins(%x, %m : tensor<4x8xf32>, tensor<4x1xf32>) ...
    // becomes
    %f = linalg.fill ins(%ninf : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
    %m = linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1), (d0, d1) -> (d0)], ...}
    %y = linalg.generic {indexing_maps = [(d0, d1) -> (d0, d1), (d0, d1) -> (d0), ...]}
           ins(%x, %m : tensor<4x8xf32>, tensor<4xf32>) ...
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def ShrinkLiveRanges : Pass<"hatc-shrink-live-ranges", "mlir::func::FuncOp"> {
  let summary = "Allocate each temporary buffer at its first use and free it "
                "after its last";
  let description = [{
    Ownership-based deallocation frees a buffer at the end of the block
    that owns it, and bufferization allocates some (a 3x3 conv's padded
    input) well before they are written: a model's function held every
    intermediate tensor at once. A ResNet-50 stage's eleven temporaries
    (up to 3.2 MB each) then walk through more memory than the last-level
    cache holds, and each op writes its output to lines the previous ones
    evicted. This pass moves each `memref.alloc` down to just before the
    first op of its block that uses it, and each `memref.dealloc` of an
    alloc of the same block up to just after the last op of that block that
    uses the buffer or a view of it (BufferViewFlowAnalysis), so the
    allocator hands freed, cache-warm memory to the next temporaries.

    A dealloc stays where a use could outlive the op that makes it: a call,
    or the address taken as an integer
    (`memref.extract_aligned_pointer_as_index`), which no alias analysis
    follows. Neither moves across a block boundary (never into or out of a
    loop). Run after the deallocations are lowered
    (`-bufferization-lower-deallocations`).

    ```mlir
    %a = memref.alloc() : memref<64xf32>
    %b = memref.alloc() : memref<64xf32>
    linalg.fill ins(%zero : f32) outs(%a : memref<64xf32>)
    linalg.copy ins(%a : memref<64xf32>) outs(%out : memref<64xf32>)
    linalg.fill ins(%one : f32) outs(%b : memref<64xf32>)
    ...
    memref.dealloc %a : memref<64xf32>
    memref.dealloc %b : memref<64xf32>
    // becomes
    %a = memref.alloc() : memref<64xf32>
    linalg.fill ins(%zero : f32) outs(%a : memref<64xf32>)
    linalg.copy ins(%a : memref<64xf32>) outs(%out : memref<64xf32>)
    memref.dealloc %a : memref<64xf32>
    %b = memref.alloc() : memref<64xf32>
    linalg.fill ins(%one : f32) outs(%b : memref<64xf32>)
    ...
    ```
  }];
}

def OwnInits : Pass<"hatc-own-inits", "mlir::func::FuncOp"> {
  let summary = "Give every linalg op its own accumulator fill or broadcast";
  let description = [{
    CSE merges the identical `linalg.fill`s (and `linalg.broadcast`s of one
    bias) that initialize several ops' accumulators: a BERT layer's five
    128x768 matmuls all accumulate into one zero fill. That one value then
    belongs to no op's task (Tasks.h), so each task is measured with its
    accumulator passed in, its schedule cannot fuse the fill into its
    loops, and bufferization copies the shared filled buffer for every op
    that writes into it. This pass undoes the merge for accumulators: every
    `outs` use of a fill or broadcast after the first gets a clone of it
    (and of its `tensor.empty` init), placed just before the user. Uses as
    an input stay on the original. Run after the last CSE.

    ```mlir
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
    %a = linalg.matmul ins(%x, %w1 : ...) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
    %b = linalg.matmul ins(%x, %w2 : ...) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
    // becomes
    %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
    %a = linalg.matmul ins(%x, %w1 : ...) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
    %e2 = tensor.empty() : tensor<4x4xf32>
    %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x4xf32>) -> tensor<4x4xf32>
    %b = linalg.matmul ins(%x, %w2 : ...) outs(%f2 : tensor<4x4xf32>) -> tensor<4x4xf32>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FreshResults : Pass<"hatc-fresh-results", "mlir::func::FuncOp"> {
  let summary = "Give every function result its own linalg op";
  let description = [{
    The importer's invariant, restored after graph passes that remove
    identity copies (canonicalization) or move reshapes after a generic:
    a returned value that is not the result of a linalg op (a function
    argument, a constant, a reshape, a `tensor.insert_slice`) or that is
    returned twice gets an identity `linalg.generic` copy, so each result
    bufferizes into its own out-param and a model with nothing else to
    compute still has a linalg op.

    ```mlir
    return %arg0 : tensor<4xf32>
    // becomes
    %e = tensor.empty() : tensor<4xf32>
    %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
           ins(%arg0 : tensor<4xf32>) outs(%e : tensor<4xf32>) {
    ^bb0(%in: f32, %out: f32):
      linalg.yield %in : f32
    } -> tensor<4xf32>
    return %c : tensor<4xf32>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def DistinctResultBuffers
    : Pass<"hatc-distinct-result-buffers", "mlir::func::FuncOp"> {
  let summary = "Give every returned buffer its own allocation";
  let description = [{
    Run after bufferization, before `buffer-results-to-out-params`: a
    returned memref that is a block argument (an input returned as an
    output), or that the return lists a second time, is copied into a new
    `memref.alloc` and the copy returned. MLIR 19's out-param pass with
    `hoist-static-allocs` crashes on both (it asks a block argument for its
    defining op, and erases one allocation twice); after this pass every
    returned buffer is an allocation of its own or a view it copies out.

    With `copy=false` (the GPU pipeline: the copy would run on the host,
    over device memory) such a return is an error naming the result
    instead.

    ```mlir
    return %arg0, %alloc, %alloc : memref<4xf32>, memref<4xf32>, memref<4xf32>
    // becomes
    %a = memref.alloc() : memref<4xf32>
    memref.copy %arg0, %a : memref<4xf32> to memref<4xf32>
    %b = memref.alloc() : memref<4xf32>
    memref.copy %alloc, %b : memref<4xf32> to memref<4xf32>
    return %a, %alloc, %b : memref<4xf32>, memref<4xf32>, memref<4xf32>
    ```
  }];
  let options = [
    Option<"copy", "copy", "bool", "true",
           "copy such a buffer (false: report it as an error)">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

#endif // HATC_LOWERING_PASSES_TD
