//===- CpuSchedules.h - CPU schedule families and their analytical defaults -*- C++ -*-===//
//
//   facts (vector lanes, registers, L1/L2, threads) + op shape
//     -> derive*(): the parameters a BLAS library would pick
//     -> CpuScheduleScript: the transform steps of each family
//
// A schedule family is a typed parameter struct and the transform steps
// that apply it to one op. The tuner's CPU sketches (tuner/sketches/Cpu*.cpp)
// search over these parameters (knob domains and constraints are theirs) and
// print their scripts with the steps here; the default schedule
// (DefaultSchedule.cpp) derives one parameter set per op from the target's
// facts and prints it the same way. So the script of a config is written in
// one place, and lowering/ needs nothing of tuner/.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_LOWERING_CPUSCHEDULES_H
#define HATC_LOWERING_CPUSCHEDULES_H

#include "hatc/Lowering/ScriptBuilder.h"
#include "hatc/Lowering/Workload.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hatc {

/// What a CPU schedule needs to know about the machine.
struct CpuFacts {
  int64_t vectorLanes = 16; // f32 lanes of the widest vector unit
  int64_t vectorRegisters = 32;
  int64_t l1Bytes = 32 << 10; // data cache per core
  int64_t l2Bytes = 1 << 20;
  int64_t cores = 2;
  int64_t threads = 2; // the kernel threads schedules split work over
  /// Dot-product instructions: AVX-512 VNNI (i8 x i8 -> i32, vpdpbusd) and
  /// AVX-512 BF16 (bf16 x bf16 -> f32, vdpbf16ps).
  bool vnni = false, bf16Dot = false;
  /// Intel AMX tiles: 16x64-byte tile registers and tdpbssd (i8 x i8 ->
  /// i32) / tdpbf16ps (bf16 x bf16 -> f32) tile products.
  bool amxInt8 = false, amxBf16 = false;

  /// This machine: vector unit from the host CPU's features, caches from
  /// sysfs, the core count; `threads` (0: one per core). HATC_CPU_FACTS
  /// (kCpuFactsEnv), when set, replaces the vector unit and caches it
  /// names (pinFacts); the dot-product and AMX features stay the host's.
  static CpuFacts host(int64_t threads = 0);
};

/// Applies a facts pin, "key=value" pairs separated by commas: lanes (4, 8
/// or 16 f32 lanes), registers (16 or 32), l1 and l2 (bytes, or with a K or
/// M suffix). Code still runs on the host: LLVM splits vectors wider than
/// its own. An unknown key or a bad value is an error naming it.
llvm::Error pinFacts(CpuFacts &facts, llvm::StringRef spec);
/// Checks HATC_CPU_FACTS when it is set (the CLI does, before any command).
llvm::Error checkPinnedFacts();

/// Register tile widths (`nr`) of 1 to 4 vectors: {16, 32, 48, 64} on
/// AVX-512, {8, 16, 24, 32} on AVX2. The defaults choose from them; the
/// cpu_matmul and im2col sketches offer them (cpu_matmul one wider too).
std::vector<int64_t> registerTileWidths(const CpuFacts &facts);

/// The op a schedule is for, as the families read it. Convolutions list
/// their loops in conv_2d_nhwc_hwcf's order: n, oh, ow, f, kh, kw, c.
struct CpuOpShape {
  OpClass opClass = OpClass::Other;
  std::string opName;              // "linalg.matmul"
  std::vector<int64_t> loopRanges;
  std::vector<bool> parallel;      // per loop: a parallel iterator
  std::string elemType = "f32";    // first input
  std::string accType = "f32";     // output
  /// An all-parallel generic consumes the result alone, element for
  /// element (elementwiseConsumerOf): matmul and conv schedules fuse it.
  bool hasElementwiseConsumer = false;
  /// The init is a linalg.fill or linalg.broadcast used only there (a
  /// conv's bias; a fill may be shared): conv schedules fuse it into their
  /// tiles.
  bool initProducer = false;
  /// That init is a linalg.fill (initIsFill).
  bool initFill = false;
  /// That init has other users too (initIsShared).
  bool initShared = false;
  /// The body reads another tensor at computed indices (gathers: an
  /// embedding lookup, a Gather with run-time indices). Vectorizing it
  /// needs vectorize_nd_extract once that tensor has more than one dim.
  bool gathers = false;
  /// The second input (a matmul's B) is a constant, a model's weights:
  /// B's panels are packed at compile time (finishPanelPacks).
  bool constantB = false;
  int64_t elemBytes() const {
    if (elemType == "i8")
      return 1;
    return elemType == "bf16" || elemType == "f16" ? 2 : 4;
  }
  /// The k values one dot-product instruction takes per 32-bit lane where
  /// `facts` has one for this op's types (4 for i8 -> i32 with VNNI, 2 for
  /// bf16 -> f32 with BF16), else 0.
  int64_t dotGroup(const CpuFacts &facts) const;
  /// The k values per 32 bits for this op's types whatever the host has:
  /// 4 for i8 -> i32, 2 for bf16 -> f32, else 0.
  int64_t narrowGroup() const;
  /// The k values per 32-bit element of an AMX tile where `facts` has AMX
  /// for this op's types (4 for i8 -> i32, 2 for bf16 -> f32), else 0.
  int64_t amxGroup(const CpuFacts &facts) const;
};

/// The shape of a linalg op (conv_2d_nchw_fchw's loops reordered as above).
CpuOpShape cpuOpShapeOf(mlir::Operation *linalgOp);

/// The all-parallel linalg.generic that alone consumes `anchor`'s result,
/// reading it and writing its own result through identity maps over as
/// many loops as `anchor` has parallel ones (relu, bias + gelu, a residual
/// add): a tile of the anchor's result is a tile of it. Null otherwise.
mlir::Operation *elementwiseConsumerOf(mlir::Operation *anchor);

/// Whether `anchor`'s init is a linalg.fill (its own or shared with other
/// ops, each of which fuses a copy) or a linalg.broadcast whose only use
/// it is (the accumulators' starting value).
bool hasInitProducer(mlir::Operation *anchor);

/// Whether `anchor`'s init is a linalg.fill (a zero accumulator).
bool initIsFill(mlir::Operation *anchor);

/// Whether `anchor` has an init producer that other ops read too (a fill
/// CSE merged).
bool initIsShared(mlir::Operation *anchor);

/// Whether the body of linalg op `op` reads a tensor by position
/// (tensor.extract: a gather).
bool gathers(mlir::Operation *op);

/// cpu_matmul: threads over M (or the batch), cache tiles mc x nc x kc in
/// `order`, packed (padded) panels, an mr x nr register tile of vector.fma
/// with the k loop unrolled, optionally the elementwise consumer fused.
/// `dotGroup` > 1: the register tile takes that many k values a step, which
/// hatc-x86-dot-products lowers to VNNI / BF16 dot products (i8, bf16).
struct CpuMatmulParams {
  int64_t par = 1, mc = 64, nc = 256, kc = 256, mr = 8, nr = 32, kUnroll = 1;
  bool orderNmk = false, pack = true, fuse = false;
  /// With pack: B in nr-wide panels (tensor.pack to N/nr x K x nr, folded
  /// at compile time where B is a constant, else copied by a threaded
  /// vectorized loop), the register loops n outer so an nr x kc panel
  /// stays in L1 over a cache tile's rows; A read in place. f32-like
  /// matmuls whose tiles divide the problem (panelMatmulReason).
  bool panels = false;
  int64_t dotGroup = 1;

  /// Whether the threads split N rather than M: an in-place matmul (no
  /// packing) whose threads would get few rows each, where N splits into
  /// whole register tiles per thread. Each thread then reads all of A's
  /// few rows and only its part of B, which (a model layer's weights)
  /// stays in its core's L2 from one run to the next.
  bool splitsN(const CpuOpShape &shape) const;

  /// Whether CpuScheduleScript::matmul schedules the op's elementwise
  /// consumer too: fused into its threads' tiles (fuse; a batch matmul's
  /// over its batches), as its own vectorized loop in the matmul's
  /// parallel region after each thread's rows (panels), or otherwise as
  /// its own threaded, vectorized loop where N is whole vectors.
  bool ownsConsumer(const CpuOpShape &shape, int64_t vectorLanes) const;

  /// The cache tiles clamped to a thread's part of the problem (`cols`:
  /// its columns).
  struct Tiles {
    int64_t rows, mc, nc, kc, cols;
  };
  Tiles tiles(const CpuOpShape &shape) const;
};

/// Why B panels do not apply to `shape` with any tiles, or nullopt.
std::optional<std::string> panelShapeReason(const CpuOpShape &shape);
/// Why `p` (with panels) does not apply to `shape`, or nullopt where it does.
std::optional<std::string> panelMatmulReason(const CpuOpShape &shape,
                                             const CpuMatmulParams &p);

/// The attribute cpu_matmul's panel script puts on B's tensor.pack, its
/// value the thread count: finishPanelPacks (Schedule.h) threads and
/// vectorizes the packs whose source is not a constant (a constant's is
/// folded by hatc-fold-constants).
inline constexpr char kPanelPackAttr[] = "hatc.panel_pack";

/// cpu_matmul_amx (matmul, i8 -> i32 or bf16 -> f32, on AMX): B packed to
/// the tiles' VNNI layout (per 16 columns, k groups of 4 bytes / 2 bf16
/// per column, one 64-byte row a group), threads over M, then per thread
/// loops over nc-column panels of B and kc-deep k blocks, and a micro-tile
/// of mt x nt outputs (up to 2 x 2 AMX accumulator tiles) over the whole k
/// block, which hatc-x86-amx lowers to tile loads, products and stores.
/// Shapes must tile evenly (amxMatmulReason).
struct CpuAmxMatmulParams {
  int64_t par = 1, mt = 32, nt = 32, kc = 1024, nc = 1024;
};

/// cpu_conv_amx (conv_2d_nhwc_hwcf, i8 -> i32 or bf16 -> f32, on AMX): the
/// input's channels in groups of g (a reshape of NHWC), the filter packed
/// to KH x KW x F/16 x C/g x 16 x g (per 16 filters, one 64-byte row per
/// channel group: the tiles' VNNI layout), threads over output rows, then
/// micro-tiles of `owT` output positions of one row (a 16-row tile and
/// the rest) x `fT` filters (16 or 32), each over all of kh, kw and the
/// channels, which hatc-x86-amx lowers to tile loads straight from the
/// input (a row per output position, the conv's stride apart), products
/// and stores. Channels must be whole 64-byte tile rows (amxConvReason).
struct CpuAmxConvParams {
  int64_t par = 1, owT = 16, fT = 16;
};

/// The unit attribute cpu_matmul_amx's script puts on each micro-tile op:
/// the ops hatc-x86-amx rewrites.
inline constexpr char kAmxMicroTileAttr[] = "hatc.amx_micro_tile";

/// The columns one dot-product instruction computes (an AVX-512 register
/// of i32 or f32): hatc-x86-dot-products takes contractions whose columns
/// are a multiple of it.
inline constexpr int64_t kDotLanes = 16;

/// cpu_conv (conv_2d_nhwc_hwcf): threads over output rows, tiles of ow x f
/// x c, decomposed to 1-D and vectorized. `dotGroup` > 1 (i8 or bf16 on a
/// host with VNNI or BF16 dots, CpuOpShape::dotGroup): tiles whose channels
/// split into such groups and whose filters into 16-lane vectors run on
/// the dot-product instruction (hatc-x86-dot-products), others on FMAs of
/// widened values.
struct CpuConvParams {
  int64_t par = 1, owT = 1, fT = 16, cT = 1;
  bool hoist = false;
  /// The threads split the filters (F, in multiples of fT) instead of the
  /// output rows: where the rows do not divide among them (7x7 outputs).
  bool parF = false;
  /// The filter tiles are the outermost loop of a thread's tiles, so that
  /// each thread reads each filter tile once (from memory, then from its
  /// L2 for every output tile) instead of the whole filter once per output
  /// tile: for convs whose filter outweighs their input.
  bool fOuter = false;
  /// A register tile takes a whole filter row (kw) and cT channels a step,
  /// instead of one filter column: for convs with few input channels (an
  /// RGB stem), whose one-column steps were too short to keep the
  /// accumulators in registers across.
  bool wholeKw = false;
  int64_t dotGroup = 1;
  bool usesDots() const {
    return dotGroup > 1 && cT % dotGroup == 0 && fT % kDotLanes == 0;
  }
};

/// cpu_depthwise_conv (depthwise_conv_2d_nhwc_hwc, loops n, oh, ow, c, kh,
/// kw): threads over output rows, tiles of one output row's ow x c for one
/// filter row, decomposed to a 1-D depthwise conv and vectorized over the
/// channels; the accumulators stay in registers across the filter rows.
struct CpuDepthwiseConvParams {
  int64_t par = 1, owT = 1, cT = 16;
  /// The threads split the channels (in multiples of cT) instead of the
  /// output rows, as CpuConvParams::parF.
  bool parC = false;
};

/// cpu_conv_im2col (one-image conv_2d_nhwc_hwcf): a GEMM on the patch
/// matrix, each thread gathering its own rows `copy` elements at a time.
struct CpuConvIm2colParams {
  int64_t par = 1, mc = 8, nc = 16, kc = 16, mr = 1, nr = 16, kUnroll = 1,
          copy = 16;
};

/// cpu_elementwise (all-parallel ops): threads over the first loop, tiles
/// of rows x cols vectorized.
struct CpuElementwiseParams {
  int64_t par = 1, rows = 1, cols = 16;
};

/// Ops no family takes (reductions, pooling, NCHW convs, depthwise convs
/// without a multiple of a quarter vector of channels, matmuls written as
/// generics): threads over the largest parallel loop
/// (`threadsDim`, -1: none), then the loops interchanged so the innermost
/// is parallel (`interchange`, empty: kept), which LLVM vectorizes.
struct CpuGenericParams {
  int64_t threadsDim = -1, par = 1;
  std::vector<int64_t> interchange;
};

/// cpu_rows (CpuRows.cpp): an op over rows, its innermost loop the one
/// reduction (a softmax's max or sum, a layernorm's mean or variance) or
/// parallel (their elementwise steps, on shapes whose first loop cannot
/// take the threads), every other loop parallel. Threads over the largest
/// outer loop (`threadsDim`, -1: none), one row at a time, the row
/// vectorized `chunk` elements a step (0: the whole row as one vector). A
/// reduction's chunk is reduced to its scalar by a tree of vector ops
/// (vector.reduction, reassociated by the CPU pipeline).
struct CpuRowsParams {
  int64_t threadsDim = -1, par = 1, chunk = 0;
};

using CpuSchedule =
    std::variant<CpuMatmulParams, CpuAmxMatmulParams, CpuAmxConvParams,
                 CpuConvParams,
                 CpuDepthwiseConvParams, CpuConvIm2colParams,
                 CpuElementwiseParams, CpuGenericParams, CpuRowsParams>;

/// The largest parallel loop among the first `count` loops of `shape` (all
/// of them by default): the loop threads split, or -1 where none is longer
/// than 1. Shared by the generic and row families and the cpu_rows sketch.
int64_t largestParallelLoop(const CpuOpShape &shape,
                            size_t count = SIZE_MAX);

/// The thread counts a `par` knob may take: powers of two up to `threads`,
/// and `threads` itself (the sketches' domain, and what defaults pick from).
std::vector<int64_t> threadChoices(int64_t threads);

/// Whether an ow x f tile of conv accumulators (plus a row of filter
/// vectors and a broadcast input element) fits the register file, with f
/// whole vectors or one part of a vector (8 of 16 lanes: a narrower native
/// register); a vector and a part (24 of 16 lanes) does not count. With
/// `dots` (a tile on dot-product instructions), a second vector per filter
/// vector. The rule cpu_conv's default and its sketch share.
bool fitsConvRegisters(int64_t ow, int64_t f, const CpuFacts &facts,
                       bool dots = false);

/// The analytical defaults: what a library picks from the facts. Each is
/// valid under its sketch's constraints (checked by TunerDefaultsTest), or
/// nullopt where the family cannot take the shape. Small ops use fewer
/// threads than `facts.threads` (about 2^18 iteration points each).
std::optional<CpuMatmulParams> deriveCpuMatmul(const CpuOpShape &shape,
                                               const CpuFacts &facts);
/// AMX where the host has it for the op's types and the shape tiles.
std::optional<CpuAmxMatmulParams> deriveCpuAmxMatmul(const CpuOpShape &shape,
                                                     const CpuFacts &facts);
/// Why `p` cannot schedule `shape` on AMX (the sketch's and the default's
/// one rule), or nullopt where it can.
std::optional<std::string> amxMatmulReason(const CpuOpShape &shape,
                                           const CpuAmxMatmulParams &p,
                                           const CpuFacts &facts);
std::optional<CpuConvParams> deriveCpuConv(const CpuOpShape &shape,
                                           const CpuFacts &facts);
/// AMX for an NHWC conv where the host has it for the op's types and the
/// channels and filters tile.
std::optional<CpuAmxConvParams> deriveCpuAmxConv(const CpuOpShape &shape,
                                                 const CpuFacts &facts);
/// Why `p` cannot schedule `shape` on AMX (the sketch's and the default's
/// one rule), or nullopt where it can.
std::optional<std::string> amxConvReason(const CpuOpShape &shape,
                                         const CpuAmxConvParams &p,
                                         const CpuFacts &facts);
std::optional<CpuDepthwiseConvParams>
deriveCpuDepthwiseConv(const CpuOpShape &shape, const CpuFacts &facts);
std::optional<CpuConvIm2colParams>
deriveCpuConvIm2col(const CpuOpShape &shape, const CpuFacts &facts);
std::optional<CpuElementwiseParams>
deriveCpuElementwise(const CpuOpShape &shape, const CpuFacts &facts);
CpuGenericParams deriveCpuGeneric(const CpuOpShape &shape,
                                  const CpuFacts &facts);
/// Ops of the row form above whose innermost extent is whole vectors; of
/// all-parallel ones, only those cpu_elementwise would run on fewer
/// threads.
std::optional<CpuRowsParams> deriveCpuRows(const CpuOpShape &shape,
                                           const CpuFacts &facts);
/// Whether the shape has cpu_rows' form: static, two or more loops, all
/// parallel but maybe the innermost, which is a reduction or not as
/// `reduction` says; an outer loop longer than one.
bool isRowsShape(const CpuOpShape &shape, bool reduction);
/// What the shape cannot tell: whether the op itself fits cpu_rows (one
/// operand reads the rows whole, the rest broadcast along them; its body
/// vectorizes). A matmul written as a generic has the row shape but no
/// such operand.
bool cpuRowsTakes(mlir::Operation *linalgOp);
/// A row chain: ops over the same rows of a row reduction, in program
/// order, from `reduction` (a generic whose loops are all parallel but the
/// innermost, a reduction) on: each next op is the first user of the
/// chain's values, with the same loop ranges, all loops parallel but maybe
/// the innermost, every map a projected permutation, the chain's values
/// read row by row (the outer loops in order), everything else defined
/// before the chain starts; the fills that only init a member are members.
/// Every member but the last is used only inside the chain. A softmax (max,
/// exp, sum, divide) and a layernorm (mean, centre, variance, normalize)
/// are one chain each. Empty unless it holds two compute ops or more, and
/// for rows longer than 1024 elements (each op is then chunked alone).
llvm::SmallVector<mlir::Operation *> rowChainFrom(mlir::Operation *reduction);
/// The default for a row chain: threads over the largest outer loop (as
/// cpu_rows), one row at a time with every member fused into that row's
/// loop and vectorized whole, so the row stays in registers between them.
struct CpuRowChainParams {
  int64_t threadsDim = -1, par = 1;
};
CpuRowChainParams deriveCpuRowChain(mlir::Operation *reduction,
                                    const CpuFacts &facts);

/// The one default for an op: its family's derivation, else the generic one.
CpuSchedule deriveCpuSchedule(const CpuOpShape &shape, const CpuFacts &facts);

/// A CPU schedule being written: one or more ops, each scheduled by its
/// family's steps; the function-wide steps (contractions to FMAs,
/// canonicalization) run once in finish(), after every op's loops are
/// made, then each register tile's k loop is hoisted and unrolled. So
/// handles of ops not yet scheduled stay valid while others are.
class CpuScheduleScript : public ScriptBuilder {
public:
  using ScriptBuilder::ScriptBuilder;

  void matmul(mlir::Value op, const CpuOpShape &shape,
              const CpuMatmulParams &params, int64_t vectorLanes);
  void amxMatmul(mlir::Value op, const CpuOpShape &shape,
                 const CpuAmxMatmulParams &params);
  void amxConv(mlir::Value op, const CpuOpShape &shape,
               const CpuAmxConvParams &params);
  void conv(mlir::Value op, const CpuOpShape &shape,
            const CpuConvParams &params);
  void depthwiseConv(mlir::Value op, const CpuOpShape &shape,
                     const CpuDepthwiseConvParams &params);
  /// Rewrites the function's unit dims (it re-matches the GEMM it makes):
  /// for a workload of that one conv.
  void convIm2col(mlir::Value op, const CpuOpShape &shape,
                  const CpuConvIm2colParams &params);
  void elementwise(mlir::Value op, const CpuOpShape &shape,
                   const CpuElementwiseParams &params);
  void generic(mlir::Value op, const CpuOpShape &shape,
               const CpuGenericParams &params);
  void rows(mlir::Value op, const CpuOpShape &shape,
            const CpuRowsParams &params);
  /// A row chain (rowChainFrom): `members` in program order, fills
  /// included, each handle matching one op.
  void rowChain(llvm::ArrayRef<mlir::Value> members, size_t loops,
                const CpuRowChainParams &params);
  /// Any of the above.
  void schedule(mlir::Value op, const CpuOpShape &shape,
                const CpuSchedule &params, int64_t vectorLanes);

  std::string finish();

private:
  /// Packs `op` (a matmul) by `packedSizes` (m, n, k) and permutes B's
  /// outer dims by `outerPerm` (for a matmul's K x N/n: N/n x K, panels one
  /// after another): the packed generic and B's pack.
  std::pair<mlir::Value, mlir::Value>
  packRhsPanels(mlir::Value op, llvm::ArrayRef<int64_t> packedSizes,
                llvm::ArrayRef<int64_t> outerPerm = {1, 0});
  /// An NHWC conv (loops n, oh, ow, channels, then its reductions) over
  /// `par` threads (output rows), output tiles `outTile` and reduction
  /// tiles `reductionTile`, decomposed to 1-D and vectorized, with its
  /// init producer and elementwise consumer (CpuOpShape) fused in: tiled
  /// by the consumer where there is one, the init fused into the consumer's
  /// loops or the threads'. Returns the innermost reduction loop.
  /// `parDim`: the output dim (of n, oh, ow, f) the threads split;
  /// `channelsOuter`: a thread's channel (filter) tiles are its outermost
  /// loop.
  mlir::Value convTiles(mlir::Value op, const CpuOpShape &shape, int64_t par,
                        llvm::ArrayRef<int64_t> outTile,
                        llvm::ArrayRef<int64_t> reductionTile,
                        size_t parDim = 1, bool channelsOuter = false);
  void panelMatmul(mlir::Value op, const CpuOpShape &shape,
                   const CpuMatmulParams &p, int64_t vectorLanes);
  /// A matmul's elementwise consumer of `rank` dims as its own loop: dim
  /// `splitDim` over `par` threads (as the matmul splits), then one vector
  /// of the last dim at a time.
  void consumerLoop(mlir::Value consumer, size_t rank, size_t splitDim,
                    int64_t par, int64_t vectorLanes);

  struct RegisterLoop {
    mlir::Value loop;
    bool hoist;
    int64_t unroll;
  };
  std::vector<RegisterLoop> registerLoops;
  bool contractions = false;
  /// Contractions left for hatc-x86-dot-products (only prepared here); in
  /// a script that also lowers contractions to FMAs, they are lowered too.
  bool dotContractions = false;
  bool scheduled = false; // any op
};

} // namespace hatc

#endif // HATC_LOWERING_CPUSCHEDULES_H
