//===- HwaccOps.td - hwacc operations -----------------------*- tablegen -*-===//
#ifndef HATC_IR_HWACCOPS_TD
#define HATC_IR_HWACCOPS_TD

include "HwaccDialect.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"

def Hwacc_Matrix : MemRefRankOf<[F32, I8, I32], [2]>;

//===----------------------------------------------------------------------===//
// High level
//===----------------------------------------------------------------------===//

def Hwacc_MatmulOp : Hwacc_Op<"matmul"> {
  let summary = "C = A * B (or C += A * B) on the accelerator, tiled";
  let description = [{
    A GEMM on memrefs: `A` is M x K, `B` is K x N, `C` is M x N; f32 x f32
    -> f32 or i8 x i8 -> i32. `tile` = [tm, tn, tk] elements moved into the
    scratchpad (A and B tiles) and the accumulator (C tile) at a time, each a
    multiple of the array dim; M, N, K need not be. `loop_order` orders the
    tile loops ("mnk": C tiles stay in the accumulator across k; "nmk");
    `double_buffer` alternates two scratchpad regions so the next tiles load
    while the current ones compute; `dataflow` is "ws" (weight-stationary)
    or "os" (output-stationary). With `accumulate`, C's old value is moved
    into the accumulator first.

    ```mlir
    hwacc.matmul ins(%A, %B : memref<64x32xf32>, memref<32x48xf32>)
                 outs(%C : memref<64x48xf32>)
                 tile [32, 48, 32] dataflow "ws" loop_order "mnk" double_buffer
    ```
  }];
  let arguments = (ins Hwacc_Matrix:$a, Hwacc_Matrix:$b, Hwacc_Matrix:$c,
                       DenseI64ArrayAttr:$tile,
                       DefaultValuedStrAttr<StrAttr, "ws">:$dataflow,
                       DefaultValuedStrAttr<StrAttr, "mnk">:$loop_order,
                       UnitAttr:$double_buffer,
                       UnitAttr:$accumulate);
  let assemblyFormat = [{
    `ins` `(` $a `,` $b `:` type($a) `,` type($b) `)`
    `outs` `(` $c `:` type($c) `)`
    `tile` $tile `dataflow` $dataflow `loop_order` $loop_order
    (`double_buffer` $double_buffer^)? (`accumulate` $accumulate^)?
    attr-dict
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Instruction level
//===----------------------------------------------------------------------===//

def Hwacc_ConfigOp : Hwacc_Op<"config"> {
  let summary = "Sets dataflow, element types, output scale and activation";
  let description = [{
    Applies to the instructions that follow. `elem` is the input type (f32
    or i8; accumulators are f32 or i32 to match); `out` the type `mvout`
    writes (the accumulator type, or i8 scaled and saturated); `scale`
    multiplies accumulators on the way out; `relu` clamps them at zero.

    ```mlir
    hwacc.config dataflow "ws" elem f32 out f32 scale 1.0 relu false
    ```
  }];
  let arguments = (ins StrAttr:$dataflow, TypeAttr:$elem, TypeAttr:$out,
                       F32Attr:$scale, BoolAttr:$relu);
  let assemblyFormat = [{
    `dataflow` $dataflow `elem` $elem `out` $out `scale` $scale `relu` $relu
    attr-dict
  }];
  let hasVerifier = 1;
}

def Hwacc_MvinOp : Hwacc_Op<"mvin"> {
  let summary = "DMA: a block of a DRAM matrix -> scratchpad (or accumulator) rows";
  let description = [{
    Moves `rows` x `cols` elements starting at `src[row, col]` into
    scratchpad rows [`addr`, `addr` + `rows`) — or accumulator rows with
    `acc` — zero-filling each row past `cols`. Sizes are in [1, dim].

    ```mlir
    hwacc.mvin %A[%i, %k] to sp[%addr] size [%rows, %cols] : memref<64x32xf32>
    ```
  }];
  let arguments = (ins Hwacc_Matrix:$src, Index:$row, Index:$col, Index:$addr,
                       Index:$rows, Index:$cols, UnitAttr:$acc);
  let assemblyFormat = [{
    $src `[` $row `,` $col `]` `to` (`acc` $acc^):(`sp`)? `[` $addr `]`
    `size` `[` $rows `,` $cols `]` attr-dict `:` type($src)
  }];
  let hasVerifier = 1;
}

def Hwacc_PreloadOp : Hwacc_Op<"preload"> {
  let summary = "Latches a k x n weight block and names the compute's destination";
  let description = [{
    Loads the B block at scratchpad rows [`b_addr`, `b_addr` + `k`) into the
    array and sets accumulator rows starting at `c_addr` as where the next
    `hwacc.compute` writes; when `accumulate` is true it adds to them.
    Preloading the block that is already latched (same rows and sizes, not
    overwritten since) costs no cycles: it only names the new destination,
    as Gemmini's preload of a garbage address does.

    ```mlir
    hwacc.preload sp[%b] acc[%c] size [%k, %n] accumulate %true
    ```
  }];
  let arguments = (ins Index:$b_addr, Index:$c_addr, Index:$k, Index:$n,
                       I1:$accumulate);
  let assemblyFormat = [{
    `sp` `[` $b_addr `]` `acc` `[` $c_addr `]` `size` `[` $k `,` $n `]`
    `accumulate` $accumulate attr-dict
  }];
  let hasVerifier = 1;
}

def Hwacc_ComputeOp : Hwacc_Op<"compute"> {
  let summary = "Streams an m x k block of A through the array";
  let description = [{
    acc[c + i][j] (+)= sum_p sp[a + i][p] * B[p][j], with B and c from the
    last `hwacc.preload`.

    ```mlir
    hwacc.compute sp[%a] size [%m, %k]
    ```
  }];
  let arguments = (ins Index:$a_addr, Index:$m, Index:$k);
  let assemblyFormat = "`sp` `[` $a_addr `]` `size` `[` $m `,` $k `]` attr-dict";
  let hasVerifier = 1;
}

def Hwacc_MvoutOp : Hwacc_Op<"mvout"> {
  let summary = "DMA: accumulator rows -> a block of a DRAM matrix";
  let description = [{
    Moves `rows` x `cols` accumulators from rows [`addr`, `addr` + `rows`)
    through the configured scale and activation to `dst[row, col]`.

    ```mlir
    hwacc.mvout %C[%i, %j] from acc[%addr] size [%rows, %cols] : memref<64x48xf32>
    ```
  }];
  let arguments = (ins Hwacc_Matrix:$dst, Index:$row, Index:$col, Index:$addr,
                       Index:$rows, Index:$cols);
  let assemblyFormat = [{
    $dst `[` $row `,` $col `]` `from` `acc` `[` $addr `]`
    `size` `[` $rows `,` $cols `]` attr-dict `:` type($dst)
  }];
  let hasVerifier = 1;
}

def Hwacc_FenceOp : Hwacc_Op<"fence"> {
  let summary = "Waits until the load, execute and store queues are empty";
  let description = [{
    ```mlir
    hwacc.fence
    ```
  }];
  let assemblyFormat = "attr-dict";
}

#endif // HATC_IR_HWACCOPS_TD
