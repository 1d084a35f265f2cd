//===- HwaccDialect.td - The hwacc accelerator dialect ------*- tablegen -*-===//
#ifndef HATC_IR_HWACCDIALECT_TD
#define HATC_IR_HWACCDIALECT_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/OpBase.td"

def Hwacc_Dialect : Dialect {
  let name = "hwacc";
  let cppNamespace = "::hatc::hwacc";
  let summary = "A Gemmini-like systolic-array GEMM accelerator";
  let description = [{
    Two levels. `hwacc.matmul` is a whole GEMM on memrefs with the tile
    factors a schedule chose; `hatc-lower-hwacc` expands it into the
    instruction level (`hwacc.config`, `hwacc.mvin`, `hwacc.preload`,
    `hwacc.compute`, `hwacc.mvout`, `hwacc.fence`), which
    `hatc-convert-hwacc-to-llvm` turns into calls of the `hatc_hwacc_*` C ABI.

    The array's size and memories come from a `hwacc.target` attribute on
    the enclosing module; verifiers check tile factors and addresses
    against it when it is there.
  }];
  let useDefaultAttributePrinterParser = 1;
}

def Hwacc_TargetAttr : AttrDef<Hwacc_Dialect, "Target"> {
  let mnemonic = "target";
  let summary = "The accelerator's array and memories";
  let description = [{
    `dim` PEs per side; `scratchpad_rows` rows of `dim` input elements
    (counted for f32 inputs; i8 inputs get four times as many);
    `accumulator_rows` rows of `dim` 4-byte accumulators.

    ```mlir
    module attributes {hwacc.target = #hwacc.target<dim = 16, scratchpad_rows = 4096, accumulator_rows = 1024>}
    ```
  }];
  let parameters = (ins "int64_t":$dim, "int64_t":$scratchpad_rows,
                        "int64_t":$accumulator_rows);
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

class Hwacc_Op<string mnemonic, list<Trait> traits = []>
    : Op<Hwacc_Dialect, mnemonic, traits>;

#endif // HATC_IR_HWACCDIALECT_TD
