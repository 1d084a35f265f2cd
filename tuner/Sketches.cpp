//===- Sketches.cpp - The CPU, hwacc and GPU sketches ---------------------===//
//
//   cpu_matmul       matmul / batch_matmul (+ a fused elementwise consumer):
//                    threads x cache tiles x vectorized register tile
//   cpu_conv         conv_2d_nhwc_hwcf: direct, tiled, 1-D-decomposed,
//                    vectorized
//   cpu_conv_im2col  conv_2d_nhwc_hwcf as a GEMM on its patch matrix, each
//                    thread building its own patch rows
//   cpu_elementwise  all-parallel generics: threads x vectorized tiles
//   hwacc_gemm       tile factors, loop order, double buffering, dataflow,
//                    which GEMMs stay on the host (with several)
//   gpu_matmul       blocks x threads x k steps, shared-memory A/B tiles
//   gpu_elementwise  2-D all-parallel ops: blocks x threads
//
// Each prints a transform script; the constraints in invalidReason keep the
// configs the script cannot handle (a dynamic tile the vectorizer cannot
// take, a register tile that spills, a tile that overflows a memory) from
// ever being built.
//
//===----------------------------------------------------------------------===//
#include "hatc/Tuner/Sketch.h"
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/Schedule.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

namespace hatc::tuner {
namespace {

using json = nlohmann::json;

std::vector<json> ints(std::initializer_list<int64_t> values) {
  return std::vector<json>(values.begin(), values.end());
}

/// Thread counts for `par` knobs: powers of two up to the core count (at
/// least 4, so a small machine still sees oversubscription), and the core
/// count itself.
std::vector<json> threadCounts(const TargetFacts &target) {
  std::vector<json> out;
  int64_t most = std::max<int64_t>(4, target.cores);
  for (int64_t p = 1; p <= most; p *= 2)
    out.push_back(p);
  if (target.cores > 4 && (target.cores & (target.cores - 1)))
    out.push_back(target.cores);
  return out;
}

/// The divisors of n in [lo, hi], ascending; {n} when there are none (a
/// small extent is one whole tile).
std::vector<json> divisorsIn(int64_t n, int64_t lo, int64_t hi) {
  std::vector<json> out;
  for (int64_t d = std::max<int64_t>(lo, 1); d <= std::min(n, hi); ++d)
    if (n % d == 0)
      out.push_back(d);
  if (out.empty())
    out.push_back(n);
  return out;
}

std::string list(const std::vector<int64_t> &values) {
  return "[" +
         llvm::join(llvm::map_range(values,
                                    [](int64_t v) { return std::to_string(v); }),
                    ", ") +
         "]";
}

/// `n` results of !transform.any_op, for a tiling op's type signature.
std::string anyOps(size_t n) {
  std::vector<std::string> types(n, "!transform.any_op");
  return llvm::join(types, ", ");
}

std::string zeroOf(const std::string &type) {
  return type[0] == 'f' ? "0.0 : " + type : "0 : " + type;
}

/// A transform script being written: one named sequence over %root.
class Script {
public:
  explicit Script(std::string comment) {
    text = "// " + comment +
           "\nmodule attributes {transform.with_named_sequence} {\n"
           "  transform.named_sequence @__transform_main(%root: "
           "!transform.any_op {transform.readonly}) {\n";
  }
  Script &line(const std::string &l) {
    text += "    " + l + "\n";
    return *this;
  }
  std::string match(const std::string &op) {
    std::string h = fresh("op");
    line(h + " = transform.structured.match ops{[\"" + op +
         "\"]} in %root : (!transform.any_op) -> !transform.any_op");
    return h;
  }
  /// scf.forall over threads; returns {tiled op, forall}.
  std::pair<std::string, std::string>
  forall(const std::string &op, const std::vector<int64_t> &numThreads) {
    std::string t = fresh("par"), f = fresh("forall");
    line(t + ", " + f + " = transform.structured.tile_using_forall " + op +
         " num_threads " + list(numThreads) +
         " : (!transform.any_op) -> (!transform.any_op, !transform.any_op)");
    return {t, f};
  }
  /// fuse_into_containing_op; returns {fused producer, containing op}.
  std::pair<std::string, std::string> fuse(const std::string &producer,
                                           const std::string &containing) {
    std::string fused = fresh("fused"), loop = fresh("forall");
    line(fused + ", " + loop +
         " = transform.structured.fuse_into_containing_op " + producer +
         " into " + containing +
         " : (!transform.any_op, !transform.any_op) -> "
         "(!transform.any_op, !transform.any_op)");
    return {fused, loop};
  }
  /// The op producing operand `operand` of `op`.
  std::string producerOf(const std::string &op, int operand) {
    std::string h = fresh("producer");
    line(h + " = transform.get_producer_of_operand " + op + "[" +
         std::to_string(operand) +
         "] : (!transform.any_op) -> !transform.any_op");
    return h;
  }
  /// scf.for tiling; returns {tiled op, loops handle prefix}. Loop i is
  /// "<prefix>#i".
  std::pair<std::string, std::string>
  tile(const std::string &op, const std::vector<int64_t> &sizes,
       const std::vector<int64_t> &interchange = {}) {
    size_t loops = llvm::count_if(sizes, [](int64_t s) { return s != 0; });
    std::string t = fresh("tiled"), l = fresh("loops");
    line(t + ", " + l + ":" + std::to_string(loops) +
         " = transform.structured.tile_using_for " + op + " tile_sizes " +
         list(sizes) +
         (interchange.empty() ? "" : " interchange = " + list(interchange)) +
         " : (!transform.any_op) -> (" + anyOps(loops + 1) + ")");
    return {t, l};
  }
  std::string func() {
    if (funcHandle.empty())
      funcHandle = match("func.func");
    return funcHandle;
  }
  /// Vector patterns that turn vectorized contractions into vector.fma.
  void lowerContractions() { text += contractionsToFmaText(func(), "    "); }
  void cleanup() {
    std::string f = func();
    line("transform.apply_patterns to " + f + " {");
    line("  transform.apply_patterns.canonicalization");
    line("} : !transform.any_op");
    line("transform.apply_cse to " + f + " : !transform.any_op");
  }
  /// Tiles `op` by the register tile `sizes` and vectorizes it; returns the
  /// loops handle prefix.
  std::string vectorizedTile(const std::string &op,
                             const std::vector<int64_t> &sizes) {
    auto [micro, loops] = tile(op, sizes);
    line("transform.structured.vectorize " + micro + " : !transform.any_op");
    return loops;
  }
  /// After vectorizedTile (and any other vectorization): contractions to
  /// vector.fma, the accumulator hoisted out of the k loop `kLoop`, which is
  /// unrolled, and a cleanup.
  void finishRegisterTile(const std::string &kLoop, int64_t unroll) {
    lowerContractions();
    line("transform.loop.hoist_loop_invariant_subsets " + kLoop +
         " : !transform.any_op");
    if (unroll > 1)
      line("transform.loop.unroll " + kLoop + " {factor = " +
           std::to_string(unroll) + "} : !transform.any_op");
    cleanup();
  }
  std::string finish() {
    return text + "    transform.yield\n  }\n}\n";
  }
  std::string fresh(const std::string &base) {
    return "%" + base + std::to_string(counter++);
  }

private:
  std::string text, funcHandle;
  int counter = 0;
};

int64_t knob(const Config &c, const char *name) { return c.at(name).get<int64_t>(); }

/// Why an mr x nr register tile of accumulators (plus a row of B and a
/// broadcast A element) cannot be vectorized without spilling, or nullopt.
/// The knobs are named in the reason: `rowsKnob` (mr) and `colsKnob` (nr,
/// the vectorized dim).
std::optional<std::string>
registerTileReason(int64_t mr, int64_t nr, const TargetFacts &target,
                   const char *rowsKnob = "mr", const char *colsKnob = "nr") {
  if (nr % target.vectorLanes)
    return llvm::formatv("{0}={1} is not a multiple of the {2} vector lanes",
                         colsKnob, nr, target.vectorLanes)
        .str();
  int64_t vectors = nr / target.vectorLanes;
  int64_t registers = mr * vectors + vectors + 1;
  if (registers > target.vectorRegisters)
    return llvm::formatv("a {0}x{1} register tile needs {2} vector "
                         "registers, the target has {3} ({4} x {5} too big)",
                         mr, nr, registers, target.vectorRegisters, rowsKnob,
                         colsKnob)
        .str();
  return std::nullopt;
}

/// Why a kc x nc B panel does not stay in L2, or nullopt.
std::optional<std::string> panelReason(int64_t kc, int64_t nc,
                                       const std::string &elemType,
                                       const TargetFacts &target) {
  int64_t elemBytes = elemType == "i8" ? 1 : 4;
  if (kc * nc * elemBytes > target.l2Bytes)
    return llvm::formatv("the B panel kc x nc = {0}x{1} ({2} KiB) exceeds "
                         "the L2 cache ({3} KiB)",
                         kc, nc, kc * nc * elemBytes / 1024,
                         target.l2Bytes / 1024)
        .str();
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// cpu_matmul
//===----------------------------------------------------------------------===//

class CpuMatmulSketch : public Sketch {
public:
  CpuMatmulSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    batched = shape.anchor == WorkloadShape::Anchor::BatchMatmul;
    size_t off = batched ? 1 : 0;
    if (batched)
      B = shape.loopRanges[0];
    M = shape.loopRanges[off];
    N = shape.loopRanges[off + 1];
    K = shape.loopRanges[off + 2];
    specs = {{"par", threadCounts(target)},
             {"mc", ints({8, 16, 32, 64, 128, 256})},
             {"nc", ints({16, 32, 64, 128, 256, 512})},
             {"kc", ints({16, 32, 64, 128, 256, 512})},
             {"mr", ints({1, 2, 4, 6, 8})},
             {"nr", ints({16, 32, 48, 64})},
             {"k_unroll", ints({1, 2, 4})},
             {"order", {"mnk", "nmk"}},
             {"pack", ints({0, 1})}};
    if (shape.hasElementwiseConsumer && !batched)
      specs.push_back({"fuse", ints({0, 1})});
  }
  std::string name() const override { return "cpu_matmul"; }

  /// Tile sizes clamped to what a thread's part of the problem has.
  struct Tiles {
    int64_t rows, mc, nc, kc;
  };
  Tiles tiles(const Config &c) const {
    int64_t par = knob(c, "par");
    // Threads split the batch when there is one, else the rows.
    int64_t rows = batched ? M : (M + par - 1) / par;
    return {rows, std::min(knob(c, "mc"), rows), std::min(knob(c, "nc"), N),
            std::min(knob(c, "kc"), K)};
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = checkDomains(c))
      return reason;
    int64_t par = knob(c, "par"), mr = knob(c, "mr"), nr = knob(c, "nr");
    bool pack = knob(c, "pack"), fuse = c.value("fuse", 0);
    Tiles t = tiles(c);
    if (par > target.cores * 2)
      return llvm::formatv("par {0} oversubscribes {1} cores", par,
                           target.cores)
          .str();
    if (auto reason = registerTileReason(mr, nr, target))
      return reason;
    if (auto reason = panelReason(t.kc, t.nc, shape.elemType, target))
      return reason;
    if (batched && B % par)
      return llvm::formatv("par={0} does not divide the batch {1}", par, B)
          .str();
    if (!batched && M % par && !pack)
      return llvm::formatv("par={0} does not divide M={1}; needs pack=1 "
                           "(padding)",
                           par, M)
          .str();
    if (!pack && (t.rows % t.mc || N % t.nc || K % t.kc))
      return llvm::formatv("cache tiles {0}x{1}x{2} do not divide "
                           "{3}x{4}x{5}; needs pack=1 (padding)",
                           t.mc, t.nc, t.kc, t.rows, N, K)
          .str();
    // Without padding the register tile must divide the cache tile; with
    // it, the packed panels are padded to a multiple of the register tile.
    if (!pack && t.mc % mr)
      return llvm::formatv("register rows mr={0} do not divide the cache "
                           "tile mc={1}; needs pack=1 (padding)",
                           mr, t.mc)
          .str();
    if (!pack && t.nc % nr)
      return llvm::formatv("register cols nr={0} do not divide the cache "
                           "tile nc={1}; needs pack=1 (padding)",
                           nr, t.nc)
          .str();
    if (mr > t.mc || nr > t.nc + target.vectorLanes - 1)
      return llvm::formatv("the {0}x{1} register tile is larger than the "
                           "{2}x{3} cache tile",
                           mr, nr, t.mc, t.nc)
          .str();
    if (fuse) {
      if (M % par)
        return llvm::formatv("fusion needs par={0} to divide M={1}", par, M)
            .str();
      if (N % target.vectorLanes)
        return llvm::formatv("fusion vectorizes the consumer by {0} lanes, "
                             "which do not divide N={1}",
                             target.vectorLanes, N)
            .str();
    }
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    Tiles t = tiles(c);
    int64_t par = knob(c, "par"), mr = knob(c, "mr"), nr = knob(c, "nr"),
            unroll = knob(c, "k_unroll");
    bool pack = knob(c, "pack"), fuse = c.value("fuse", 0);
    bool nmk = c.at("order") == "nmk";
    Script s("hatc sketch cpu_matmul: " + c.dump());
    std::string op = s.match(shape.anchorOp);
    std::string consumer;
    if (fuse) {
      // Tile the consumer over threads and pull the matmul (and its fill)
      // into each thread's tile.
      std::string cons = s.fresh("consumer");
      s.line(cons + " = transform.get_consumers_of_result " + op +
             "[0] : (!transform.any_op) -> !transform.any_op");
      std::string fill = s.producerOf(op, 2);
      auto [tiledConsumer, forall] = s.forall(cons, {par, 0});
      auto [fused, forall2] = s.fuse(op, forall);
      s.fuse(fill, forall2);
      op = fused;
      consumer = tiledConsumer;
    } else if (par > 1) {
      op = s.forall(op, batched ? std::vector<int64_t>{par, 0, 0, 0}
                                : std::vector<int64_t>{par, 0, 0})
               .first;
    }
    std::vector<int64_t> cache = {t.mc, t.nc, t.kc};
    std::vector<int64_t> reg = {mr, nr, 1};
    std::vector<int64_t> order =
        nmk ? std::vector<int64_t>{1, 0, 2} : std::vector<int64_t>{0, 1, 2};
    if (batched) {
      cache.insert(cache.begin(), 1);
      reg.insert(reg.begin(), 0);
      order = nmk ? std::vector<int64_t>{0, 2, 1, 3}
                  : std::vector<int64_t>{0, 1, 2, 3};
    }
    op = s.tile(op, cache, order).first;
    if (pack) {
      // Pad the cache tile to its static size, copying the A and B panels
      // into contiguous buffers (packing); the pads become fill + copy.
      std::string zero = zeroOf(shape.elemType), acc = zeroOf(shape.accType);
      std::string padded = s.fresh("padded"), pad = s.fresh("pad"),
                  copy = s.fresh("copy");
      std::string dims = batched ? "[0, 1, 2, 3]" : "[0, 1, 2]";
      std::string multiple = batched ? list({1, mr, nr, 1}) : list({mr, nr, 1});
      s.line(padded + ", " + pad + ", " + copy +
             " = transform.structured.pad " + op + " pad_to_multiple_of " +
             multiple + " {padding_values = [" +
             zero + ", " + zero + ", " + acc + "], padding_dimensions = " +
             dims +
             ", pack_paddings = [1, 1, 0], copy_back_op = \"linalg.copy\"} : "
             "(!transform.any_op) -> (!transform.any_op, !transform.any_op, "
             "!transform.any_op)");
      std::string pads = s.fresh("pads"), dps = s.fresh("dps");
      s.line(pads + " = transform.structured.match ops{[\"tensor.pad\"]} in "
                    "%root : (!transform.any_op) -> !transform.any_op");
      s.line(dps + " = transform.structured.rewrite_in_destination_passing_"
                   "style " +
             pads + " : (!transform.any_op) -> !transform.any_op");
      op = padded;
    }
    std::string loops = s.vectorizedTile(op, reg);
    if (fuse) {
      auto [tile, l] = s.tile(consumer, {1, target.vectorLanes});
      s.line("transform.structured.vectorize " + tile + " : !transform.any_op");
    }
    s.finishRegisterTile(loops + "#2", unroll);
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  bool batched = false;
  int64_t B = 1, M = 0, N = 0, K = 0;
};

//===----------------------------------------------------------------------===//
// cpu_conv
//===----------------------------------------------------------------------===//

class CpuConvSketch : public Sketch {
public:
  CpuConvSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    // Loops: n, oh, ow, f, kh, kw, c.
    const auto &r = shape.loopRanges;
    OH = r[1], OW = r[2], F = r[3], C = r[6];
    specs = {{"par", threadCounts(target)},
             {"ow_t", ints({1, 2, 4, 7, 8, 14})},
             {"f_t", ints({16, 32, 48, 64})},
             {"c_t", ints({1, 4, 8, 16, 32, 64})},
             {"hoist", ints({0, 1})}};
  }
  std::string name() const override { return "cpu_conv"; }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = checkDomains(c))
      return reason;
    int64_t par = knob(c, "par"), ow = knob(c, "ow_t"), f = knob(c, "f_t"),
            ch = knob(c, "c_t");
    if (OH % par)
      return llvm::formatv("par={0} does not divide the {1} output rows", par,
                           OH)
          .str();
    if (OW % ow)
      return llvm::formatv("ow_t={0} does not divide the output width {1}", ow,
                           OW)
          .str();
    if (F % f)
      return llvm::formatv("f_t={0} does not divide the {1} filters", f, F)
          .str();
    if (C % ch)
      return llvm::formatv("c_t={0} does not divide the {1} channels", ch, C)
          .str();
    if (knob(c, "hoist") && ch == C)
      return llvm::formatv("hoist=1 needs a channel loop to hoist out of, but "
                           "c_t={0} covers all {1} channels",
                           ch, C)
          .str();
    return registerTileReason(ow, f, target, "ow_t", "f_t");
  }

  std::string script(const Config &c) const override {
    int64_t par = knob(c, "par");
    Script s("hatc sketch cpu_conv: " + c.dump());
    std::string op = s.match(shape.anchorOp);
    if (par > 1)
      op = s.forall(op, {0, par, 0, 0}).first;
    auto [tiled, loops] = s.tile(op, {1, 1, knob(c, "ow_t"), knob(c, "f_t"),
                                      1, 1, knob(c, "c_t")});
    std::string decomposed = s.fresh("conv1d");
    s.line(decomposed + " = transform.structured.decompose " + tiled +
           " : (!transform.any_op) -> !transform.any_op");
    s.line("transform.structured.vectorize " + decomposed +
           " : !transform.any_op");
    s.lowerContractions();
    if (knob(c, "hoist"))
      s.line("transform.loop.hoist_loop_invariant_subsets " + loops +
             "#6 : !transform.any_op");
    s.cleanup();
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  int64_t OH = 1, OW = 1, F = 1, C = 1;
};

//===----------------------------------------------------------------------===//
// cpu_conv_im2col
//===----------------------------------------------------------------------===//

/// The convolution of one image as a GEMM: convert_conv2d_to_img2col builds
/// the (OH*OW) x (KH*KW*C) patch matrix and a contraction with the
/// (KH*KW*C) x F filter, the unit batch dim is folded away (the vectorizer
/// turns a contraction with a leading unit dim into scalar code), the GEMM
/// is tiled like cpu_matmul (threads over patch rows, cache tiles, a
/// vectorized register tile) and each thread builds its own rows of the
/// patch matrix (the im2col generic fused into the thread's loop), `copy`
/// elements at a time.
class CpuConvIm2colSketch : public Sketch {
public:
  CpuConvIm2colSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    // Loops: n, oh, ow, f, kh, kw, c.
    const auto &r = shape.loopRanges;
    images = r[0], M = r[1] * r[2], N = r[3], K = r[4] * r[5] * r[6];
    specs = {{"par", threadCounts(target)},
             {"mc", divisorsIn(M, 8, 256)},
             {"nc", divisorsIn(N, 16, 512)},
             {"kc", divisorsIn(K, 16, 1024)},
             {"mr", ints({1, 2, 4, 6, 7, 8})},
             {"nr", ints({16, 32, 48, 64})},
             {"k_unroll", ints({1, 2, 4})},
             {"copy", ints({16, 32, 64})}};
  }
  std::string name() const override { return "cpu_conv_im2col"; }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = checkDomains(c))
      return reason;
    int64_t par = knob(c, "par"), mc = knob(c, "mc"), nc = knob(c, "nc"),
            kc = knob(c, "kc"), mr = knob(c, "mr"), nr = knob(c, "nr"),
            copy = knob(c, "copy");
    if (images != 1)
      return llvm::formatv("cpu_conv_im2col takes one image, not {0}", images)
          .str();
    if (par > target.cores * 2)
      return llvm::formatv("par {0} oversubscribes {1} cores", par,
                           target.cores)
          .str();
    if (M % par)
      return llvm::formatv("par={0} does not divide the {1} patch rows", par,
                           M)
          .str();
    if ((M / par) % mc)
      return llvm::formatv("mc={0} does not divide a thread's {1} patch rows",
                           mc, M / par)
          .str();
    if (N % nc)
      return llvm::formatv("nc={0} does not divide the {1} filters", nc, N)
          .str();
    if (mc % mr || nc % nr)
      return llvm::formatv("the {0}x{1} register tile does not divide the "
                           "{2}x{3} cache tile",
                           mr, nr, mc, nc)
          .str();
    if (auto reason = registerTileReason(mr, nr, target))
      return reason;
    if (auto reason = panelReason(kc, nc, shape.elemType, target))
      return reason;
    if (K % copy || copy % target.vectorLanes)
      return llvm::formatv("copy={0} must divide the patch length {1} and be "
                           "a multiple of the {2} vector lanes",
                           copy, K, target.vectorLanes)
          .str();
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    int64_t par = knob(c, "par");
    Script s("hatc sketch cpu_conv_im2col: " + c.dump());
    std::string conv = s.match(shape.anchorOp);
    s.line(s.fresh("im2col") + ", " + s.fresh("expand") +
           " = transform.structured.convert_conv2d_to_img2col " + conv +
           " : (!transform.any_op) -> (!transform.any_op, !transform.any_op)");
    // Without the unit batch dim the contraction is a plain matmul (patch
    // rows, filters, patch length) and the patch copy 2-D; the rewrite
    // replaces both ops, so they are matched again: the GEMM by its result
    // type, the copy as the producer of its first operand.
    std::string f = s.func();
    s.line("transform.apply_patterns to " + f + " {");
    s.line("  transform.apply_patterns.linalg.fold_unit_extent_dims_via_"
           "reshapes");
    s.line("  transform.apply_patterns.canonicalization");
    s.line("} : !transform.any_op");
    std::string gemm = s.fresh("gemm");
    s.line(gemm + " = transform.structured.match ops{[\"linalg.generic\"]} "
                  "filter_result_type = tensor<" +
           std::to_string(M) + "x" + std::to_string(N) + "x" + shape.accType +
           "> in %root : (!transform.any_op) -> !transform.any_op");
    std::string im2col = s.producerOf(gemm, 0);
    if (par > 1) {
      auto [tiled, forall] = s.forall(gemm, {par, 0, 0});
      im2col = s.fuse(im2col, forall).first;
      gemm = tiled;
    }
    // The patch copy: a gather of `copy` elements per step.
    std::string copy = s.tile(im2col, {1, knob(c, "copy")}).first;
    s.line("transform.structured.vectorize " + copy +
           " {vectorize_nd_extract} : !transform.any_op");
    std::string cache =
        s.tile(gemm, {knob(c, "mc"), knob(c, "nc"), knob(c, "kc")}).first;
    std::string loops =
        s.vectorizedTile(cache, {knob(c, "mr"), knob(c, "nr"), 1});
    s.finishRegisterTile(loops + "#2", knob(c, "k_unroll"));
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  int64_t images = 1, M = 1, N = 1, K = 1; // M x N x K: the GEMM per image
};

//===----------------------------------------------------------------------===//
// cpu_elementwise
//===----------------------------------------------------------------------===//

class CpuElementwiseSketch : public Sketch {
public:
  CpuElementwiseSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    specs = {{"par", threadCounts(target)},
             {"rows", ints({1, 2, 4, 8})},
             {"cols", ints({16, 32, 64, 128, 256})}};
  }
  std::string name() const override { return "cpu_elementwise"; }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = checkDomains(c))
      return reason;
    const auto &r = shape.loopRanges;
    if (r.size() < 2)
      return "cpu_elementwise needs at least two loops";
    int64_t outer = 1;
    for (size_t i = 0; i + 1 < r.size(); ++i)
      outer *= r[i];
    int64_t par = knob(c, "par"), rows = knob(c, "rows"), cols = knob(c, "cols");
    if (r.front() % (par * rows))
      return llvm::formatv("par x rows = {0} does not divide the {1} outer "
                           "iterations",
                           par * rows, r.front())
          .str();
    if (r.back() % cols)
      return llvm::formatv("cols={0} does not divide the inner extent {1}",
                           cols, r.back())
          .str();
    if (cols % target.vectorLanes)
      return llvm::formatv("cols={0} is not a multiple of the {1} lanes", cols,
                           target.vectorLanes)
          .str();
    (void)outer;
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    size_t loops = shape.loopRanges.size();
    Script s("hatc sketch cpu_elementwise: " + c.dump());
    std::string op = s.match(shape.anchorOp);
    int64_t par = knob(c, "par");
    if (par > 1) {
      std::vector<int64_t> threads(loops, 0);
      threads[0] = par;
      op = s.forall(op, threads).first;
    }
    std::vector<int64_t> sizes(loops, 1);
    sizes[0] = knob(c, "rows");
    sizes[loops - 1] = knob(c, "cols");
    std::string tiled = s.tile(op, sizes).first;
    s.line("transform.structured.vectorize " + tiled + " : !transform.any_op");
    s.cleanup();
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
};

//===----------------------------------------------------------------------===//
// hwacc_gemm
//===----------------------------------------------------------------------===//

class HwaccGemmSketch : public Sketch {
public:
  HwaccGemmSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target) {
    int64_t d = target.arrayDim;
    std::vector<json> tiles = ints({d, 2 * d, 4 * d, 8 * d, 16 * d});
    specs = {{"tm", tiles},
             {"tn", tiles},
             {"tk", tiles},
             {"loop_order", {"mnk", "nmk"}},
             {"double_buffer", {false, true}},
             {"dataflow", {"ws", "os"}}};
    // With several GEMMs, which stay on the host: bit i keeps the i-th (in
    // program order) there. Not all of them: that would be the cpu target.
    gemms = std::min<int64_t>(shape.gemmOps, 4);
    if (gemms >= 2) {
      std::vector<json> masks;
      for (int64_t mask = 0; mask + 1 < (int64_t(1) << gemms); ++mask)
        masks.push_back(mask);
      specs.push_back({"host_ops", masks});
    }
    // The GEMM the accelerator sees: conv through im2col.
    const auto &r = shape.loopRanges;
    switch (shape.anchor) {
    case WorkloadShape::Anchor::Matmul:
      M = r[0], N = r[1], K = r[2];
      break;
    case WorkloadShape::Anchor::BatchMatmul:
      M = r[1], N = r[2], K = r[3];
      break;
    case WorkloadShape::Anchor::Conv2D:
      M = r[0] * r[1] * r[2], N = r[3], K = r[4] * r[5] * r[6];
      break;
    default:
      break;
    }
  }
  std::string name() const override { return "hwacc_gemm"; }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = checkDomains(c))
      return reason;
    int64_t d = target.arrayDim;
    int64_t tm = knob(c, "tm"), tn = knob(c, "tn"), tk = knob(c, "tk");
    auto roundUp = [&](int64_t x) { return (x + d - 1) / d * d; };
    // Tiles past the problem only waste memory (and the lowering clamps
    // them, so they would measure the same as a smaller one).
    if (tm > roundUp(M) || tn > roundUp(N) || tk > roundUp(K))
      return llvm::formatv("tile {0}x{1}x{2} is larger than the GEMM "
                           "{3}x{4}x{5}",
                           tm, tn, tk, M, N, K)
          .str();
    int64_t buffers = c.at("double_buffer").get<bool>() ? 2 : 1;
    int64_t spRows = target.scratchpadRows * (shape.elemType == "i8" ? 4 : 1);
    int64_t need = buffers * (tm * tk + tk * tn) / d;
    if (need > spRows)
      return llvm::formatv("A and B tiles need {0} scratchpad rows, the "
                           "target has {1}",
                           need, spRows)
          .str();
    if (tm * tn / d > target.accumulatorRows)
      return llvm::formatv("the C tile needs {0} accumulator rows, the target "
                           "has {1}",
                           tm * tn / d, target.accumulatorRows)
          .str();
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    Script s("hatc sketch hwacc_gemm: " + c.dump());
    std::string tile = s.fresh("tile"), order = s.fresh("order"),
                db = s.fresh("db"), flow = s.fresh("dataflow");
    s.line(tile + " = transform.param.constant array<i64: " +
           std::to_string(knob(c, "tm")) + ", " +
           std::to_string(knob(c, "tn")) + ", " +
           std::to_string(knob(c, "tk")) + "> -> !transform.any_param");
    s.line(order + " = transform.param.constant \"" +
           c.at("loop_order").get<std::string>() + "\" -> !transform.any_param");
    s.line(db + " = transform.param.constant " +
           std::string(c.at("double_buffer").get<bool>() ? "true" : "false") +
           " -> !transform.any_param");
    s.line(flow + " = transform.param.constant \"" +
           c.at("dataflow").get<std::string>() + "\" -> !transform.any_param");
    int64_t hostOps = c.contains("host_ops") ? knob(c, "host_ops") : 0;
    if (hostOps != 0) {
      std::string all = s.fresh("gemms");
      s.line(all + " = transform.structured.match ops{[\"linalg.matmul\", "
                   "\"linalg.batch_matmul\", \"linalg.conv_2d_nhwc_hwcf\"]} "
                   "in %root : (!transform.any_op) -> !transform.any_op");
      // One handle per GEMM the knob can pick, and with more GEMMs than
      // that, one for the rest (they stay on the accelerator). Only then:
      // MLIR 19's split_handle crashes on an overflow result it does not
      // need.
      bool overflow = shape.gemmOps > gemms;
      std::vector<std::string> each;
      for (int64_t i = 0; i < gemms + (overflow ? 1 : 0); ++i)
        each.push_back(s.fresh("gemm"));
      s.line(llvm::join(each, ", ") + " = transform.split_handle " + all +
             (overflow ? " {overflow_result = " + std::to_string(gemms) + "}"
                       : std::string()) +
             " : (!transform.any_op) -> (" + anyOps(each.size()) + ")");
      for (int64_t i = 0; i < gemms; ++i)
        if (hostOps & (int64_t(1) << i))
          s.line("transform.annotate " + each[i] +
                 " \"hwacc.on_host\" : !transform.any_op");
    }
    for (const char *opName : {"linalg.matmul", "linalg.batch_matmul",
                               "linalg.conv_2d_nhwc_hwcf"}) {
      std::string op = s.match(opName);
      for (auto [attr, param] :
           {std::pair{"hwacc.tile", tile}, {"hwacc.loop_order", order},
            {"hwacc.double_buffer", db}, {"hwacc.dataflow", flow}})
        s.line("transform.annotate " + op + " \"" + attr + "\" = " + param +
               " : !transform.any_op, !transform.any_param");
    }
    return s.finish();
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  int64_t M = 1, N = 1, K = 1;
  int64_t gemms = 1;
};

//===----------------------------------------------------------------------===//
// gpu_matmul, gpu_elementwise
//===----------------------------------------------------------------------===//

/// Blocks of bm x bn outputs (divisors of the shape, so thread tiles are
/// static), tm x tn per thread; for matmuls a k step bk and optionally its
/// A and B tiles in shared memory, copied vec elements at a time, and the
/// thread's tile as register-held outer products (reg). The script
/// comes from lowering's gpuScheduleText, as the default GPU schedule does.
class GpuSketch : public Sketch {
public:
  GpuSketch(const WorkloadShape &shape, const TargetFacts &target)
      : shape(shape), target(target),
        matmul(shape.anchor == WorkloadShape::Anchor::Matmul) {
    const auto &r = shape.loopRanges;
    specs = {{"bm", divisorsIn(r[0], 1, 128)},
             {"bn", divisorsIn(r[1], 1, 128)},
             {"tm", ints({1, 2, 4, 8})},
             {"tn", ints({1, 2, 4, 8})}};
    if (matmul) {
      specs.push_back({"bk", ints({4, 8, 16, 32})});
      specs.push_back({"promote", {false, true}});
      specs.push_back({"vec", ints({1, 2, 4})});
      specs.push_back({"reg", {false, true}});
    }
  }
  std::string name() const override {
    return matmul ? "gpu_matmul" : "gpu_elementwise";
  }

  GpuSchedule schedule(const Config &c) const {
    GpuSchedule g;
    g.blockM = knob(c, "bm"), g.blockN = knob(c, "bn");
    g.threadM = knob(c, "tm"), g.threadN = knob(c, "tn");
    if (matmul) {
      g.blockK = knob(c, "bk");
      g.promote = c.at("promote").get<bool>();
      g.vectorWidth = knob(c, "vec");
      g.registerTile = c.at("reg").get<bool>();
    }
    return g;
  }

  std::optional<std::string> invalidReason(const Config &c) const override {
    if (auto reason = checkDomains(c))
      return reason;
    GpuSchedule g = schedule(c);
    if (g.blockM % g.threadM || g.blockN % g.threadN)
      return llvm::formatv("thread tile {0}x{1} does not divide the block "
                           "tile {2}x{3}",
                           g.threadM, g.threadN, g.blockM, g.blockN)
          .str();
    int64_t threads = (g.blockM / g.threadM) * (g.blockN / g.threadN);
    if (threads < 32 || threads > target.gpuMaxThreads)
      return llvm::formatv("{0} threads per block (needs 32 to {1})", threads,
                           target.gpuMaxThreads)
          .str();
    if (g.threadM * g.threadN > 64)
      return llvm::formatv("{0} outputs per thread would spill registers",
                           g.threadM * g.threadN)
          .str();
    if (!matmul)
      return std::nullopt;
    int64_t K = shape.loopRanges[2];
    if (g.blockK > K)
      return llvm::formatv("bk={0} exceeds K={1}", g.blockK, K).str();
    if (!g.promote) {
      if (g.vectorWidth != 1)
        return std::string("vec applies to shared-memory copies only "
                           "(promote=false needs vec=1)");
      return std::nullopt;
    }
    if (K % g.blockK)
      return llvm::formatv("promotion needs bk={0} to divide K={1}", g.blockK,
                           K)
          .str();
    int64_t bytes = 4 * (g.blockM * g.blockK + g.blockK * g.blockN);
    if (bytes > target.gpuSharedBytes)
      return llvm::formatv("A and B tiles need {0} bytes of shared memory, a "
                           "block has {1}",
                           bytes, target.gpuSharedBytes)
          .str();
    if (g.blockK % g.vectorWidth || g.blockN % g.vectorWidth)
      return llvm::formatv("vec={0} does not divide the copied rows (bk={1}, "
                           "bn={2})",
                           g.vectorWidth, g.blockK, g.blockN)
          .str();
    return std::nullopt;
  }

  std::string script(const Config &c) const override {
    return gpuScheduleText(schedule(c), matmul,
                           "hatc sketch " + name() + ": " + c.dump());
  }

private:
  WorkloadShape shape;
  TargetFacts target;
  bool matmul;
};

} // namespace

std::vector<std::unique_ptr<Sketch>>
sketchesFor(const WorkloadShape &shape, const TargetFacts &target) {
  std::vector<std::unique_ptr<Sketch>> sketches;
  using A = WorkloadShape::Anchor;
  if (target.kind == TargetKind::Hwacc) {
    if (shape.gemmOps > 0 &&
        (shape.anchor == A::Matmul || shape.anchor == A::BatchMatmul ||
         shape.anchor == A::Conv2D))
      sketches.push_back(std::make_unique<HwaccGemmSketch>(shape, target));
    return sketches;
  }
  if (target.kind == TargetKind::Gpu) {
    // One matmul (with fills and elementwise consumers), or 2-D elementwise.
    bool matmul = shape.anchorOp == "linalg.matmul" && shape.gemmOps == 1 &&
                  shape.elemType == "f32" && shape.accType == "f32";
    bool elementwise = shape.anchor == A::Elementwise &&
                       shape.loopRanges.size() == 2 && shape.gemmOps == 0;
    if (matmul || elementwise)
      sketches.push_back(std::make_unique<GpuSketch>(shape, target));
    return sketches;
  }
  if (target.kind != TargetKind::Cpu)
    return sketches;
  switch (shape.anchor) {
  case A::Matmul:
  case A::BatchMatmul:
    sketches.push_back(std::make_unique<CpuMatmulSketch>(shape, target));
    break;
  case A::Conv2D:
    sketches.push_back(std::make_unique<CpuConvSketch>(shape, target));
    sketches.push_back(std::make_unique<CpuConvIm2colSketch>(shape, target));
    break;
  case A::Elementwise:
    sketches.push_back(std::make_unique<CpuElementwiseSketch>(shape, target));
    break;
  case A::Other:
    break;
  }
  return sketches;
}

} // namespace hatc::tuner
