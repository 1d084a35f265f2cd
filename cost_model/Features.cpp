//===- Features.cpp - Cost-model features of (task, config, target) -------===//
//
// One function per family of schedules (a tiled CPU GEMM, a direct conv,
// an elementwise tiling, a hwacc GEMM, a GPU kernel) fills the knob and
// derived features from the typed knobs the sketch describes; the common
// part (sketch, op, element type, problem size) is shared. The estimates
// here (bytes moved, cycles) are deliberately simple: they only have to
// order configs roughly the way the hardware does, so the trees can learn
// the rest from measurements.
//
//===----------------------------------------------------------------------===//

#include "hatc/CostModel/Features.h"
#include "hatc/Support/Json.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <type_traits>

namespace hatc::cost_model {
namespace {

using json = nlohmann::json;

struct FeatureInfo {
  FeatureId id;
  const char *name;
  const char *description;
};

// The single source of names and documentation; checked against the enum
// order at start-up (featureTable below).
const FeatureInfo kFeatureInfo[] = {
    {FSketchCpuMatmul, "sketch_cpu_matmul", "1 if the sketch is cpu_matmul"},
    {FSketchCpuConv, "sketch_cpu_conv", "1 if the sketch is cpu_conv"},
    {FSketchCpuElementwise, "sketch_cpu_elementwise",
     "1 if the sketch is cpu_elementwise"},
    {FSketchHwaccGemm, "sketch_hwacc_gemm", "1 if the sketch is hwacc_gemm"},
    {FSketchCpuConvIm2col, "sketch_cpu_conv_im2col",
     "1 if the sketch is cpu_conv_im2col"},
    {FSketchGpuMatmul, "sketch_gpu_matmul", "1 if the sketch is gpu_matmul"},
    {FSketchGpuElementwise, "sketch_gpu_elementwise",
     "1 if the sketch is gpu_elementwise"},
    {FOpMatmul, "op_matmul", "1 if the anchor op is a matmul"},
    {FOpBatchMatmul, "op_batch_matmul", "1 if the anchor op is a batch matmul"},
    {FOpConv2d, "op_conv2d", "1 if the anchor op is a 2-D convolution"},
    {FOpElementwise, "op_elementwise",
     "1 if the anchor op is an all-parallel elementwise op"},
    {FLog2ElemBytes, "log2_elem_bytes", "log2 bytes of the input element type"},
    {FElemIsFloat, "elem_is_float", "1 for a floating-point element type"},
    {FTargetIsHwacc, "target_is_hwacc", "1 when the target is the hwacc array"},
    {FTargetIsGpu, "target_is_gpu", "1 when the target is a GPU"},
    {FLog2Flops, "log2_flops",
     "log2 of the op's arithmetic (2 per MAC; 1 per point for elementwise)"},
    {FLog2GemmM, "log2_gemm_m",
     "log2 M of the GEMM view (conv: N*OH*OW; elementwise: outer points)"},
    {FLog2GemmN, "log2_gemm_n",
     "log2 N of the GEMM view (conv: F; elementwise: innermost extent)"},
    {FLog2GemmK, "log2_gemm_k",
     "log2 K of the GEMM view (conv: KH*KW*C; elementwise: 0)"},
    {FLog2Batch, "log2_batch", "log2 of the batch of a batch matmul"},
    {FLog2Par, "log2_par", "log2 of the thread count (cpu sketches)"},
    {FLog2Mc, "log2_mc", "cpu_matmul: log2 cache tile rows (knob)"},
    {FLog2Nc, "log2_nc", "cpu_matmul: log2 cache tile columns (knob)"},
    {FLog2Kc, "log2_kc", "cpu_matmul: log2 cache tile depth (knob)"},
    {FLog2Mr, "log2_mr", "cpu_matmul: log2 register tile rows (knob)"},
    {FLog2Nr, "log2_nr", "cpu_matmul: log2 register tile columns (knob)"},
    {FLog2KUnroll, "log2_k_unroll", "cpu_matmul: log2 k-loop unroll (knob)"},
    {FOrderNmk, "order_nmk", "cpu_matmul: 1 for the nmk cache-tile order"},
    {FPack, "pack", "cpu_matmul: 1 when panels are padded/packed"},
    {FFuse, "fuse", "cpu_matmul: 1 when the elementwise consumer is fused"},
    {FLog2OwT, "log2_ow_t", "cpu_conv: log2 output-width tile (knob)"},
    {FLog2FT, "log2_f_t", "cpu_conv: log2 filter tile (knob)"},
    {FLog2CT, "log2_c_t", "cpu_conv: log2 channel tile (knob)"},
    {FHoist, "hoist", "cpu_conv: 1 when loop-invariant subsets are hoisted"},
    {FLog2Rows, "log2_rows", "cpu_elementwise: log2 rows per tile (knob)"},
    {FLog2Cols, "log2_cols", "cpu_elementwise: log2 columns per tile (knob)"},
    {FLog2Tm, "log2_tm", "hwacc_gemm: log2 tile M (knob)"},
    {FLog2Tn, "log2_tn", "hwacc_gemm: log2 tile N (knob)"},
    {FLog2Tk, "log2_tk", "hwacc_gemm: log2 tile K (knob)"},
    {FLoopOrderNmk, "loop_order_nmk", "hwacc_gemm: 1 for the nmk tile order"},
    {FDoubleBuffer, "double_buffer", "hwacc_gemm: 1 when double-buffered"},
    {FDataflowOs, "dataflow_os", "hwacc_gemm: 1 for output-stationary"},
    {FLog2Copy, "log2_copy",
     "cpu_conv_im2col: log2 patch elements gathered per step (knob)"},
    {FLog2GpuBm, "log2_gpu_bm", "gpu sketches: log2 block tile rows (knob)"},
    {FLog2GpuBn, "log2_gpu_bn", "gpu sketches: log2 block tile columns (knob)"},
    {FLog2GpuTm, "log2_gpu_tm", "gpu sketches: log2 thread tile rows (knob)"},
    {FLog2GpuTn, "log2_gpu_tn",
     "gpu sketches: log2 thread tile columns (knob)"},
    {FLog2GpuBk, "log2_gpu_bk", "gpu_matmul: log2 k step (knob)"},
    {FGpuPromote, "gpu_promote",
     "gpu_matmul: 1 when A/B tiles go through shared memory"},
    {FLog2GpuVec, "log2_gpu_vec",
     "gpu_matmul: log2 elements per shared-memory copy (knob)"},
    {FGpuRegTile, "gpu_reg_tile",
     "gpu_matmul: 1 when each thread's tile is register-held outer products"},
    {FLog2TilesM, "log2_tiles_m",
     "log2 trip count of the M tile loop (per thread; conv: ow tiles; "
     "elementwise: row tiles)"},
    {FLog2TilesN, "log2_tiles_n",
     "log2 trip count of the N tile loop (conv: filter tiles; elementwise: "
     "column tiles)"},
    {FLog2TilesK, "log2_tiles_k",
     "log2 trip count of the K tile loop (conv: KH*KW*channel tiles)"},
    {FLog2ATileBytes, "log2_a_tile_bytes",
     "log2 bytes of the A (input) tile: mc*kc, ow_t*c_t, rows*cols, tm*tk"},
    {FLog2BTileBytes, "log2_b_tile_bytes",
     "log2 bytes of the B (weight) tile: kc*nc, c_t*f_t, tk*tn"},
    {FLog2CTileBytes, "log2_c_tile_bytes",
     "log2 bytes of the C (output/accumulator) tile"},
    {FL1Ratio, "l1_ratio",
     "innermost working set / L1 (matmul: A and B slivers of the register "
     "tile over kc)"},
    {FL2Ratio, "l2_ratio",
     "panel kept in L2 / L2 (matmul: B panel kc*nc; conv: filter block; "
     "elementwise: tile)"},
    {FTileWsL2Ratio, "tile_ws_l2_ratio", "A+B+C cache tiles / L2"},
    {FRegRatio, "reg_ratio",
     "vector registers the register tile needs / the register file"},
    {FLog2RegVectors, "log2_reg_vectors",
     "log2 vector registers of the accumulator tile"},
    {FLaneUtil, "lane_util",
     "useful fraction of vector lanes along the vectorized dim (N % lanes "
     "waste)"},
    {FLog2ArithIntensity, "log2_arith_intensity",
     "log2 flops per byte moved from memory for this tiling (tile reuse "
     "model)"},
    {FLog2WorkPerThread, "log2_work_per_thread",
     "log2 output elements each thread computes"},
    {FParImbalance, "par_imbalance",
     "slowest thread's share * threads / work - 1 (0 when threads divide "
     "the parallel dim)"},
    {FParPerCore, "par_per_core", "threads / cores (> 1 oversubscribes)"},
    {FPadWaste, "pad_waste",
     "padded volume / true volume - 1 (cpu_matmul pack=1; hwacc edge tiles)"},
    {FSpOccupancy, "sp_occupancy",
     "hwacc: scratchpad rows the A and B tiles use (x2 double-buffered) / "
     "scratchpad rows"},
    {FAccOccupancy, "acc_occupancy",
     "hwacc: accumulator rows the C tile uses / accumulator rows"},
    {FArrayUtil, "array_util",
     "hwacc: PE utilization from edge blocks, prod(X / roundUp(X, dim))"},
    {FTileEff, "tile_eff",
     "hwacc: tile efficiency, prod(X / (ceil(X / tx) * tx)) for M, N, K"},
    {FDmaBytesPerMac, "dma_bytes_per_mac",
     "hwacc: DMA bytes moved per MAC for the tiling"},
    {FDmaComputeRatio, "dma_compute_ratio",
     "hwacc: estimated DMA cycles / compute cycles (> 1: memory bound)"},
    {FLog2BlocksPerTile, "log2_blocks_per_tile",
     "hwacc: log2 dim x dim blocks of work per C tile and k step"},
    {FLog2GpuThreads, "log2_gpu_threads", "gpu: log2 threads per block"},
    {FLog2GpuBlocks, "log2_gpu_blocks", "gpu: log2 blocks in the grid"},
    {FGpuWaveEff, "gpu_wave_eff",
     "gpu: blocks / (waves x multiprocessors), how full the last wave is "
     "(one block per multiprocessor a wave)"},
    {FGpuSharedRatio, "gpu_shared_ratio",
     "gpu_matmul: shared memory the A/B tiles use / shared memory per block"},
    {FGpuCoalescing, "gpu_coalescing",
     "gpu: useful fraction of a warp's global accesses along a row "
     "(1 / thread tile columns: neighbouring threads own tn-wide chunks)"},
    {FRelTileM, "rel_tile_m",
     "M tile / the M extent it tiles (cpu_matmul: mc / a thread's rows; "
     "conv: ow_t / OW; elementwise: rows / a thread's rows; hwacc: tm / M "
     "rounded to the array; gpu: bm / M)"},
    {FRelTileN, "rel_tile_n",
     "N tile / N (nc / N, f_t / F, cols / innermost extent, tn / N, bn / N)"},
    {FRelTileK, "rel_tile_k",
     "K tile / K (kc / K, c_t / C, tk / K, bk / K); 0 without a reduction"},
    {FRelRegM, "rel_reg_m",
     "register tile rows / cache tile rows (cpu_matmul mr / mc; hwacc: "
     "array dim / tm)"},
    {FRelRegN, "rel_reg_n",
     "register tile columns / cache tile columns (cpu_matmul nr / nc; "
     "hwacc: array dim / tn)"},
    {FL3Ratio, "l3_ratio",
     "cache tiles of all threads (A and C per thread, B shared) / L3 "
     "(hwacc: A+B+C tiles / scratchpad bytes)"},
    {FLog2ProblemL3Ratio, "log2_problem_l3_ratio",
     "log2 of the task's operand bytes / L3 (hwacc: / scratchpad bytes): "
     "the task's own size against the last level it can live in"},
    {FLog2ParItersPerThread, "log2_par_iters_per_thread",
     "log2 of the parallel loop's iterations / threads (cpu sketches)"},
    {FThreadBalance, "thread_balance",
     "parallel iterations / (threads x the slowest thread's iterations): 1 "
     "when threads split the work evenly and all have some (cpu sketches)"},
    {FLog2TilesPerThread, "log2_tiles_per_thread",
     "log2 of the cache tiles (M x N, conv: rows x ow x f) one thread walks; "
     "hwacc: all C tiles"},
    {FLog2HwaccCyclesOverIdeal, "log2_hwacc_cycles_over_ideal",
     "hwacc: log2 of the estimated cycles (the device's load, execute and "
     "store queues over the lowering's block loops) / MACs / dim^2"},
    {FHwaccLoadShare, "hwacc_load_share",
     "hwacc: estimated load-queue (mvin) cycles / estimated cycles"},
    {FHwaccExecShare, "hwacc_exec_share",
     "hwacc: estimated execute-queue (preload, compute) cycles / estimated "
     "cycles"},
    {FHwaccStoreShare, "hwacc_store_share",
     "hwacc: estimated store-queue (mvout) cycles / estimated cycles"},
    {FLog2CpuTimeOverIdeal, "log2_cpu_time_over_ideal",
     "cpu gemm and conv: log2 of a roofline estimate of the time (kernel "
     "efficiency, thread balance, padding, memory traffic of the cache "
     "tiles) / the time at every core's FMA peak"},
    {FCpuKernelEff, "cpu_kernel_eff",
     "cpu gemm and conv: the register tile's fraction of FMA peak (enough "
     "accumulators to hide FMA latency, loads per FMA, lanes used, spills)"},
    {FCpuMemShare, "cpu_mem_share",
     "cpu gemm and conv: estimated memory time / (memory + compute time)"},
    {FPanels, "panels",
     "cpu_matmul: 1 when B is packed into register-tile-wide panels"},
    {FSplitN, "split_n",
     "cpu_matmul: 1 when threads split N instead of the rows"},
    {FLog2DotGroup, "log2_dot_group",
     "cpu gemm and conv: log2 of the k elements one dot-product step "
     "takes (0: FMAs)"},
    {FAmx, "amx", "cpu gemm and conv: 1 when the register tile is an AMX micro-tile"},
    {FConstantWeights, "constant_weights",
     "1 when the task runs with its weights as constants (a model's task): "
     "packing them costs nothing at run time"},
};
static_assert(sizeof(kFeatureInfo) / sizeof(kFeatureInfo[0]) == kFeatureCount,
              "every FeatureId needs a name and a description");

struct FeatureTable {
  std::vector<std::string> names, descriptions;
  FeatureTable() {
    for (int i = 0; i < kFeatureCount; ++i) {
      // The table must list the enumerators in order; a slip would silently
      // mislabel every later feature.
      if (kFeatureInfo[i].id != i)
        std::abort();
      names.push_back(kFeatureInfo[i].name);
      descriptions.push_back(kFeatureInfo[i].description);
    }
  }
};

const FeatureTable &featureTable() {
  static const FeatureTable table;
  return table;
}

//===----------------------------------------------------------------------===//
// Reading plain inputs
//===----------------------------------------------------------------------===//

/// A numeric field of the target description: numbers as they are,
/// booleans as 0/1, anything else (missing, a string, null) as 0.
int64_t intKnob(const json &config, const char *name) {
  return jsonIntOr0(config, name);
}

std::string stringField(const json &object, const char *name) {
  if (!object.is_object())
    return "";
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

/// The defaults are the tuner's TargetFacts defaults, so a description with
/// fields left out describes the same machine the sketches assumed.
struct TargetParams {
  bool hwacc = false, gpu = false;
  int64_t gpuSharedBytes = 48 * 1024, gpuMultiprocessors = 132;
  int64_t vectorLanes = 16, vectorRegisters = 32, l1Bytes = 32 * 1024,
          l2Bytes = 1 << 20, l3Bytes = 32 << 20, cores = 2;
  int64_t arrayDim = 16, scratchpadRows = 4096, accumulatorRows = 1024,
          dmaBytesPerCycle = 16, dmaLatencyCycles = 64;

  explicit TargetParams(const json &target) {
    hwacc = stringField(target, "kind") == "hwacc";
    gpu = stringField(target, "kind") == "gpu";
    auto read = [&](const char *name, int64_t &field) {
      int64_t value = intKnob(target, name);
      if (value > 0)
        field = value;
    };
    read("vector_lanes", vectorLanes);
    read("vector_registers", vectorRegisters);
    read("l1_bytes", l1Bytes);
    read("l2_bytes", l2Bytes);
    read("l3_bytes", l3Bytes);
    read("cores", cores);
    read("array_dim", arrayDim);
    read("scratchpad_rows", scratchpadRows);
    read("accumulator_rows", accumulatorRows);
    read("dma_bytes_per_cycle", dmaBytesPerCycle);
    read("dma_latency_cycles", dmaLatencyCycles);
    read("gpu_shared_bytes", gpuSharedBytes);
    read("gpu_multiprocessors", gpuMultiprocessors);
  }
};

/// Bytes of an MLIR element type name ("f32" -> 4, "i8" -> 1, "bf16" -> 2).
int64_t elemBytesOf(const std::string &type) {
  size_t digits = type.find_first_of("0123456789");
  if (digits == std::string::npos)
    return 4;
  int64_t bits = std::atoll(type.c_str() + digits);
  return bits >= 8 ? bits / 8 : 1;
}

//===----------------------------------------------------------------------===//
// Arithmetic helpers
//===----------------------------------------------------------------------===//

/// log2 of a size; 0 for anything not positive (a missing knob), so absent
/// values and size 1 look alike, which is what "unused = 0" wants.
double log2Of(double x) { return x > 0 ? std::log2(x) : 0.0; }

int64_t ceilDiv(int64_t a, int64_t b) { return b > 0 ? (a + b - 1) / b : a; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }
/// A knob used as a size: at least 1, so missing knobs cannot divide by 0.
int64_t atLeast1(int64_t x) { return std::max<int64_t>(x, 1); }

double product(const std::vector<int64_t> &values, size_t begin, size_t end) {
  double p = 1;
  for (size_t i = begin; i < end && i < values.size(); ++i)
    p *= double(std::max<int64_t>(values[i], 1));
  return p;
}

/// Extra share of the slowest thread when `threads` split `work` units in
/// ceil-sized chunks (0 when they divide evenly).
double imbalance(int64_t work, int64_t threads) {
  if (work <= 0 || threads <= 1)
    return 0;
  return double(ceilDiv(work, threads) * threads) / double(work) - 1.0;
}

/// Efficiency of covering `extent` with whole tiles of `tile`.
double edgeEfficiency(int64_t extent, int64_t tile) {
  if (extent <= 0)
    return 1;
  return double(extent) / double(roundUp(extent, atLeast1(tile)));
}

/// Rows after padding each cache tile of `rows` (size `cacheTile`) up to a
/// multiple of `regTile`: what transform.structured.pad does when packing.
int64_t paddedExtent(int64_t rows, int64_t cacheTile, int64_t regTile) {
  cacheTile = atLeast1(cacheTile);
  regTile = atLeast1(regTile);
  int64_t full = rows / cacheTile, rest = rows % cacheTile;
  return full * roundUp(cacheTile, regTile) + roundUp(rest, regTile);
}

/// The data moved by a three-level tiled GEMM (M, N, K with tiles tm, tn,
/// tk): A is read once per N tile, B once per M tile, and C read and written
/// once per K tile unless it stays resident across K (an accumulator).
double gemmBytesMoved(double M, double N, double K, int64_t tm, int64_t tn,
                      int64_t tk, int64_t elemBytes, int64_t accBytes,
                      bool cResident) {
  double tilesM = std::ceil(M / atLeast1(tm)), tilesN = std::ceil(N / atLeast1(tn)),
         tilesK = std::ceil(K / atLeast1(tk));
  double a = M * K * tilesN * elemBytes;
  double b = K * N * tilesM * elemBytes;
  double c = M * N * accBytes * (cResident ? 1.0 : 2.0 * tilesK);
  return a + b + c;
}

/// The problem in GEMM terms plus what the sketches parallelize over.
struct Problem {
  double batch = 1, M = 1, N = 1, K = 0, flops = 0;
  int64_t elemBytes = 4, accBytes = 4;
};

Problem problemOf(const FeatureInput &in) {
  Problem p;
  const auto &r = in.loopRanges;
  p.elemBytes = elemBytesOf(in.elemType);
  p.accBytes = std::max<int64_t>(p.elemBytes, 4);
  if (in.opKind == "matmul" && r.size() >= 3) {
    p.M = r[0], p.N = r[1], p.K = r[2];
  } else if (in.opKind == "batch_matmul" && r.size() >= 4) {
    p.batch = r[0], p.M = r[1], p.N = r[2], p.K = r[3];
  } else if (in.opKind == "conv2d" && r.size() >= 7) {
    p.M = product(r, 0, 3), p.N = r[3], p.K = product(r, 4, 7);
  } else if (!r.empty()) {
    // Elementwise and anything else: outer points x innermost extent.
    p.M = product(r, 0, r.size() - 1), p.N = std::max<int64_t>(r.back(), 1);
  }
  p.flops = p.K > 0 ? 2 * p.batch * p.M * p.N * p.K : p.batch * p.M * p.N;
  return p;
}

using Features = std::vector<float>;

void set(Features &f, FeatureId id, double value) {
  // Trees cannot split on NaN the way we mean, and inf breaks the DMatrix.
  f[id] = std::isfinite(value) ? float(value) : 0.0f;
}

//===----------------------------------------------------------------------===//
// Analytical time estimates
//===----------------------------------------------------------------------===//

/// An extent cut into pieces of `step`: the whole pieces and the remainder.
struct Piece {
  int64_t size, count;
};
std::vector<Piece> pieces(int64_t extent, int64_t step) {
  step = atLeast1(step);
  std::vector<Piece> out;
  if (extent / step > 0)
    out.push_back({step, extent / step});
  if (extent % step)
    out.push_back({extent % step, 1});
  return out;
}

/// The device's DMA occupancy of one transfer (HwaccDevice: at least one
/// cycle, bytes over the bandwidth rounded up).
double dmaTransferCycles(double bytes, double bytesPerCycle) {
  return std::max(1.0, std::ceil(bytes / bytesPerCycle - 1e-9));
}

/// DMA cycles of a rows x cols tile moved as dim x dim blocks, one transfer
/// each (as LowerHwacc emits mvin/mvout).
double blockDmaCycles(int64_t rows, int64_t cols, int64_t dim,
                      double elemBytes, double bytesPerCycle) {
  double sum = 0;
  for (Piece r : pieces(rows, dim))
    for (Piece c : pieces(cols, dim))
      sum += double(r.count * c.count) *
             dmaTransferCycles(double(r.size * c.size) * elemBytes,
                               bytesPerCycle);
  return sum;
}

struct HwaccEstimate {
  double total = 0, load = 0, exec = 0, store = 0;
  /// A tile's first k step: the part of its loads and computes that
  /// cannot overlap when the pipeline starts.
  double fill = 0;
};

/// Cycles of one hwacc.matmul as LowerHwacc expands it and HwaccDevice
/// times it: per C tile, per k step, mvin of the A then the B blocks (load
/// queue), preloads and computes (execute queue), then mvout of the C
/// blocks (store queue); each queue runs in order and waits only for the
/// rows another queue writes or reads. Weight-stationary latches each B
/// block once (k cycles) and streams the tile's A blocks past it (m cycles
/// each); output-stationary preloads dim cycles and computes k cycles per
/// block. Double-buffered k steps overlap loads and computes. Single-
/// buffered ones overlap only where rows free early: ws, the next A loads
/// overlap the last weight column's computes, and the computes of the
/// first weight column wait for their B blocks, which load interleaved
/// with the others'; os, the A loads overlap the computes, the B loads
/// wait for the last row of C blocks. The tile order does not matter to
/// the device (no DRAM cache), so it is not an input.
HwaccEstimate estimateHwacc(int64_t M, int64_t N, int64_t K, int64_t batch,
                            int64_t tm, int64_t tn, int64_t tk, bool ws,
                            bool doubleBuffer, const TargetParams &t,
                            double elemBytes, double outBytes) {
  HwaccEstimate e;
  int64_t d = atLeast1(t.arrayDim);
  double bw = double(t.dmaBytesPerCycle), lat = double(t.dmaLatencyCycles);
  double drain = 2.0 * double(d - 1);
  // One C tile of mt x nt (edge tiles are smaller).
  auto tile = [&](int64_t mt, int64_t nt) {
    HwaccEstimate one;
    int64_t mb = ceilDiv(mt, d), nb = ceilDiv(nt, d);
    double firstLoad = -1, firstExec = 0;
    for (Piece kp : pieces(K, tk)) {
      int64_t kt = kp.size, kb = ceilDiv(kt, d);
      double loadA = blockDmaCycles(mt, kt, d, elemBytes, bw),
             loadB = blockDmaCycles(kt, nt, d, elemBytes, bw);
      double load = loadA + loadB, exec = 0;
      for (Piece block : pieces(kt, d))
        exec += double(block.count * nb) *
                (ws ? double(block.size + mt)
                    : double(mb) * double(d + block.size));
      double step = std::max(load, exec);
      if (!doubleBuffer && ws) {
        // g: one weight group's computes; b: one B block's load.
        double g = exec / double(nb * kb), b = loadB / double(nb * kb);
        double firstColumn = std::max(double(kb) * g,
                                      double((kb - 1) * nb + 1) * b + g);
        double span = firstColumn + double((nb - 1) * kb) * g;
        step = std::max(load + lat, loadA + lat + span - double(kb) * g);
      } else if (!doubleBuffer) {
        step = std::max(load + lat, exec + loadB + lat);
      }
      if (firstLoad < 0)
        firstLoad = load, firstExec = exec;
      one.total += double(kp.count) * step;
      one.load += double(kp.count) * load;
      one.exec += double(kp.count) * exec;
    }
    // Double-buffered: the buffers alternate per k step and restart with
    // every tile, so after an odd number of k steps the next tile's first
    // loads overwrite the buffer still being read: they cannot overlap.
    one.fill = std::min(firstLoad, firstExec) + lat;
    if (doubleBuffer && ceilDiv(K, tk) % 2 == 1)
      one.total += one.fill;
    one.store = blockDmaCycles(mt, nt, d, outBytes, bw);
    return one;
  };
  double lastStore = 0, fill = -1;
  for (Piece mp : pieces(M, tm))
    for (Piece np : pieces(N, tn)) {
      HwaccEstimate one = tile(mp.size, np.size);
      double count = double(mp.count * np.count);
      // A tile's C blocks leave while the next tile loads and computes;
      // the next tile's computes wait for them to leave the accumulator.
      e.total += count * std::max(one.total, one.store);
      e.load += count * one.load;
      e.exec += count * one.exec;
      e.store += count * one.store;
      lastStore = one.store;
      if (fill < 0)
        fill = one.fill;
    }
  // The pipeline fills (double-buffered: the first loads overlap nothing),
  // and the last tile's partial sums drain and its C blocks leave.
  if (doubleBuffer && ceilDiv(K, tk) % 2 == 0)
    e.total += fill;
  e.total += drain + lastStore + lat;
  // A batch is a loop of hwacc.matmul ops, each ending in a fence: every
  // one fills and drains the pipeline anew.
  double matmuls = double(std::max<int64_t>(batch, 1));
  e.total *= matmuls;
  e.load *= matmuls;
  e.exec *= matmuls;
  e.store *= matmuls;
  return e;
}

//===----------------------------------------------------------------------===//
// Per-sketch features
//===----------------------------------------------------------------------===//

void cpuCommon(Features &f, const TargetParams &t, int64_t par,
               int64_t parallelExtent, double workPerThread) {
  set(f, FLog2Par, log2Of(par));
  set(f, FLog2WorkPerThread, log2Of(workPerThread));
  set(f, FParImbalance, imbalance(parallelExtent, par));
  set(f, FParPerCore, double(par) / double(t.cores));
  if (parallelExtent > 0) {
    set(f, FLog2ParItersPerThread, log2Of(double(parallelExtent) / double(par)));
    set(f, FThreadBalance,
        double(parallelExtent) /
            double(ceilDiv(parallelExtent, par) * std::max<int64_t>(par, 1)));
  }
}

/// Tile extent over the extent it tiles (a tile larger than the extent is
/// clamped, so this lies in (0, 1]).
double relative(double tile, double extent) {
  if (tile <= 0 || extent <= 0)
    return 0;
  return std::min(tile, extent) / extent;
}

/// A roofline estimate of a register-tiled kernel on the CPU cores.
struct CpuEstimate {
  double kernelEff = 0, memShare = 0, timeOverIdeal = 0;
};

/// `regRows` x `regCols` accumulators (the vectorized dim is regCols),
/// `par` threads of which the slowest has 1 / `balance` of its fair share,
/// `bytes` moved between memory levels by the cache tiling, `padded` the
/// computed volume over the true one. Two FMA pipes of about four cycles
/// latency want about eight independent accumulators; each k step loads a
/// vector per accumulator column and broadcasts one element per row, at
/// two loads and two FMAs a cycle; a tile needing more vector registers
/// than there are spills; a dot-product step takes `dotGroup` k elements
/// per lane. Memory: about 8 bytes a cycle per core busy.
CpuEstimate estimateCpu(double flops, double padded, int64_t regRows,
                        int64_t regCols, int64_t par, double balance,
                        double bytes, const TargetParams &t,
                        int64_t dotGroup = 1) {
  CpuEstimate e;
  int64_t lanes = atLeast1(t.vectorLanes);
  regRows = atLeast1(regRows);
  regCols = atLeast1(regCols);
  int64_t vectors = ceilDiv(regCols, lanes);
  double fmas = double(regRows * vectors);
  double latencyEff = std::min(1.0, fmas / 8.0);
  double loadEff = fmas / std::max(fmas, double(vectors + regRows));
  double laneEff = double(regCols) / double(vectors * lanes);
  double spillEff =
      std::min(1.0, double(t.vectorRegisters) / (fmas + double(vectors) + 1));
  e.kernelEff = std::min(latencyEff, loadEff) * laneEff * spillEff * spillEff;
  double busy = std::min<double>(double(atLeast1(par)), double(t.cores));
  double peak = 4.0 * double(lanes) * double(atLeast1(dotGroup));
  double compute = flops * std::max(padded, 1.0) /
                   (peak * busy * std::max(balance, 1e-3) * e.kernelEff);
  double memory = bytes / (8.0 * busy);
  double time = std::max(compute, memory);
  e.memShare = memory / (memory + compute);
  // The ideal is the FMA peak: a tile on dot products can beat it.
  e.timeOverIdeal = time / (flops / (4.0 * double(lanes) * double(t.cores)));
  return e;
}

void setCpuEstimate(Features &f, const CpuEstimate &e) {
  set(f, FLog2CpuTimeOverIdeal, log2Of(e.timeOverIdeal));
  set(f, FCpuKernelEff, e.kernelEff);
  set(f, FCpuMemShare, e.memShare);
}

/// A GEMM tiled over threads, cache tiles and a register tile: a matmul or
/// batch_matmul, or a conv's GEMM on its patch matrix (k.copy > 0: the
/// patch copy's step).
void cpuGemm(Features &f, const CpuGemmKnobs &k, bool batched,
             const Problem &p, const TargetParams &t) {
  int64_t par = atLeast1(k.par);
  int64_t mc = k.mc, nc = k.nc, kc = k.kc, mr = k.mr, nr = k.nr;
  bool pack = k.pack;
  set(f, FLog2Mc, log2Of(mc));
  set(f, FLog2Nc, log2Of(nc));
  set(f, FLog2Kc, log2Of(kc));
  set(f, FLog2Mr, log2Of(mr));
  set(f, FLog2Nr, log2Of(nr));
  set(f, FLog2KUnroll, log2Of(k.kUnroll));
  set(f, FOrderNmk, k.orderNmk);
  set(f, FPack, pack);
  set(f, FFuse, k.fuse);
  set(f, FLog2Copy, log2Of(k.copy));

  set(f, FPanels, k.panels);
  set(f, FLog2DotGroup, log2Of(k.dotGroup));
  set(f, FAmx, k.amx);

  int64_t M = int64_t(p.M), N = int64_t(p.N), K = int64_t(std::max(p.K, 1.0)),
          B = int64_t(p.batch);
  // As the sketch does: threads split the batch when there is one, else the
  // rows, or N where the config says so; cache tiles are clamped to a
  // thread's part of the problem.
  bool splitN = k.splitN && !batched;
  set(f, FSplitN, splitN);
  int64_t rows = batched || splitN ? M : ceilDiv(M, par);
  int64_t cols = splitN ? ceilDiv(N, par) : N;
  int64_t mcEff = std::min(atLeast1(mc), rows),
          ncEff = std::min(atLeast1(nc), cols),
          kcEff = std::min(atLeast1(kc), K);
  int64_t eb = p.elemBytes, ab = p.accBytes;
  int64_t parExtent = batched ? B : splitN ? N : M;
  double work = batched ? double(ceilDiv(B, par)) * M * N : double(rows) * cols;
  cpuCommon(f, t, par, parExtent, work);

  set(f, FLog2TilesM, log2Of(ceilDiv(rows, mcEff)));
  set(f, FLog2TilesN, log2Of(ceilDiv(cols, ncEff)));
  set(f, FLog2TilesK, log2Of(ceilDiv(K, kcEff)));
  double aTile = double(mcEff) * kcEff * eb, bPanel = double(kcEff) * ncEff * eb,
         cTile = double(mcEff) * ncEff * ab;
  set(f, FLog2ATileBytes, log2Of(aTile));
  set(f, FLog2BTileBytes, log2Of(bPanel));
  set(f, FLog2CTileBytes, log2Of(cTile));
  // The micro-kernel streams an mr x kc sliver of A and a kc x nr sliver of
  // B through L1 for every register tile.
  double slivers = double(atLeast1(mr) + atLeast1(nr)) * kcEff * eb;
  set(f, FL1Ratio, slivers / double(t.l1Bytes));
  set(f, FL2Ratio, bPanel / double(t.l2Bytes));
  set(f, FTileWsL2Ratio, (aTile + bPanel + cTile) / double(t.l2Bytes));
  set(f, FRelTileM, relative(double(mcEff), double(rows)));
  set(f, FRelTileN, relative(double(ncEff), double(cols)));
  set(f, FRelTileK, relative(double(kcEff), double(K)));
  set(f, FRelRegM, relative(double(atLeast1(mr)), double(mcEff)));
  set(f, FRelRegN, relative(double(atLeast1(nr)), double(ncEff)));
  set(f, FL3Ratio, (double(par) * (aTile + cTile) + bPanel) / double(t.l3Bytes));
  set(f, FLog2TilesPerThread,
      log2Of(double(batched ? ceilDiv(B, par) : 1) * ceilDiv(rows, mcEff) *
             ceilDiv(cols, ncEff)));

  // Register tile: mr rows of nr/lanes accumulators, one B row of vectors
  // and a broadcast A element (the sketch's own register count).
  int64_t vectors = ceilDiv(atLeast1(nr), t.vectorLanes);
  set(f, FRegRatio,
      double(atLeast1(mr) * vectors + vectors + 1) / double(t.vectorRegisters));
  set(f, FLog2RegVectors, log2Of(double(atLeast1(mr) * vectors)));
  set(f, FLaneUtil, edgeEfficiency(N, t.vectorLanes));

  double bytes = gemmBytesMoved(p.M, p.N, double(K), mcEff, ncEff, kcEff, eb, ab,
                                /*cResident=*/false);
  set(f, FLog2ArithIntensity, log2Of(2.0 * p.M * p.N * K / bytes));

  if (pack) {
    // Each thread's rows are cut into cache tiles, each padded to a multiple
    // of mr (and N likewise of nr); K is not padded.
    double paddedRows = 0;
    if (batched || splitN) {
      paddedRows = double(paddedExtent(M, mcEff, mr));
    } else {
      int64_t chunk = ceilDiv(M, par);
      for (int64_t i = 0; i < par; ++i) {
        int64_t mine = std::max<int64_t>(0, std::min(chunk, M - i * chunk));
        paddedRows += double(paddedExtent(mine, std::min(mcEff, atLeast1(mine)), mr));
      }
    }
    double paddedCols = double(paddedExtent(N, ncEff, nr));
    set(f, FPadWaste, paddedRows * paddedCols / (double(M) * double(N)) - 1.0);
  }
  double balance =
      double(parExtent) / double(ceilDiv(parExtent, par) * par);
  setCpuEstimate(f, estimateCpu(p.flops, 1.0 + double(f[FPadWaste]), mr, nr,
                                par, balance, p.batch * bytes, t, k.dotGroup));
}

void cpuConv(Features &f, const CpuConvKnobs &k, const FeatureInput &in,
             const Problem &p, const TargetParams &t) {
  const auto &r = in.loopRanges;
  int64_t par = atLeast1(k.par);
  int64_t owT = k.owT, fT = k.fT, cT = k.cT;
  set(f, FLog2OwT, log2Of(owT));
  set(f, FLog2FT, log2Of(fT));
  set(f, FLog2CT, log2Of(cT));
  set(f, FHoist, k.hoist);
  set(f, FAmx, k.amx);
  if (r.size() < 7)
    return;
  int64_t n = r[0], oh = r[1], ow = r[2], filters = r[3], kh = r[4], kw = r[5],
          ch = r[6];
  owT = std::min(atLeast1(owT), atLeast1(ow));
  fT = std::min(atLeast1(fT), atLeast1(filters));
  cT = std::min(atLeast1(cT), atLeast1(ch));
  int64_t eb = p.elemBytes, ab = p.accBytes;
  // Threads split the output rows.
  cpuCommon(f, t, par, oh,
            double(n) * ceilDiv(oh, par) * double(ow) * double(filters));

  set(f, FLog2TilesM, log2Of(ceilDiv(ow, owT)));
  set(f, FLog2TilesN, log2Of(ceilDiv(filters, fT)));
  set(f, FLog2TilesK, log2Of(double(kh) * kw * ceilDiv(ch, cT)));
  double aTile = double(owT) * cT * eb, bTile = double(cT) * fT * eb,
         cTile = double(owT) * fT * ab;
  set(f, FLog2ATileBytes, log2Of(aTile));
  set(f, FLog2BTileBytes, log2Of(bTile));
  set(f, FLog2CTileBytes, log2Of(cTile));
  set(f, FL1Ratio, (aTile + bTile + cTile) / double(t.l1Bytes));
  // The filter block of one f tile is reused by every output position.
  double filterBlock = double(kh) * kw * ch * fT * eb;
  set(f, FL2Ratio, filterBlock / double(t.l2Bytes));
  double inputRows = double(kh) * kw * ch * owT * eb;
  set(f, FTileWsL2Ratio, (inputRows + filterBlock + cTile) / double(t.l2Bytes));
  set(f, FRelTileM, relative(double(owT), double(ow)));
  set(f, FRelTileN, relative(double(fT), double(filters)));
  set(f, FRelTileK, relative(double(cT), double(ch)));
  set(f, FL3Ratio,
      (double(par) * (inputRows + cTile) + double(kh) * kw * ch * filters * eb) /
          double(t.l3Bytes));
  set(f, FLog2TilesPerThread,
      log2Of(double(n) * ceilDiv(oh, par) * ceilDiv(ow, owT) *
             ceilDiv(filters, fT)));

  int64_t vectors = ceilDiv(fT, t.vectorLanes);
  set(f, FRegRatio, double(owT * vectors + vectors + 1) / double(t.vectorRegisters));
  set(f, FLog2RegVectors, log2Of(double(owT * vectors)));
  set(f, FLaneUtil, edgeEfficiency(filters, t.vectorLanes));

  // The output tile stays in registers over the whole reduction.
  double bytes = gemmBytesMoved(p.M, p.N, p.K, owT, fT, int64_t(p.K), eb, ab,
                                /*cResident=*/true);
  set(f, FLog2ArithIntensity, log2Of(2.0 * p.M * p.N * p.K / bytes));
  double balance = double(oh) / double(ceilDiv(oh, par) * par);
  set(f, FLog2DotGroup, log2Of(k.dotGroup));
  setCpuEstimate(f, estimateCpu(p.flops, 1.0, owT, fT, par, balance, bytes, t,
                                k.dotGroup));
}

void cpuElementwise(Features &f, const CpuElementwiseKnobs &k,
                    const FeatureInput &in, const Problem &p,
                    const TargetParams &t) {
  const auto &r = in.loopRanges;
  int64_t par = atLeast1(k.par);
  int64_t rows = k.rows, cols = k.cols;
  set(f, FLog2Rows, log2Of(rows));
  set(f, FLog2Cols, log2Of(cols));
  if (r.empty())
    return;
  rows = atLeast1(rows);
  cols = atLeast1(cols);
  int64_t outer = atLeast1(r.front()), inner = atLeast1(r.back());
  double middle = r.size() > 2 ? product(r, 1, r.size() - 1) : 1.0;
  double points = p.M * p.N;
  cpuCommon(f, t, par, outer, points / outer * ceilDiv(outer, par));

  set(f, FLog2TilesM, log2Of(double(ceilDiv(ceilDiv(outer, par), rows)) * middle));
  set(f, FLog2TilesN, log2Of(ceilDiv(inner, cols)));
  double tile = double(rows) * cols * p.elemBytes;
  set(f, FLog2ATileBytes, log2Of(tile));
  set(f, FLog2CTileBytes, log2Of(tile));
  set(f, FL1Ratio, 2 * tile / double(t.l1Bytes));
  set(f, FL2Ratio, 2 * tile / double(t.l2Bytes));
  set(f, FTileWsL2Ratio, 2 * tile / double(t.l2Bytes));
  set(f, FRelTileM, relative(double(rows), double(ceilDiv(outer, par))));
  set(f, FRelTileN, relative(double(cols), double(inner)));
  set(f, FL3Ratio, 2 * tile * par / double(t.l3Bytes));
  set(f, FLog2TilesPerThread,
      log2Of(double(ceilDiv(ceilDiv(outer, par), rows)) * middle *
             ceilDiv(inner, cols)));
  int64_t vectors = rows * ceilDiv(cols, t.vectorLanes);
  set(f, FRegRatio, double(vectors) / double(t.vectorRegisters));
  set(f, FLog2RegVectors, log2Of(vectors));
  set(f, FLaneUtil, edgeEfficiency(inner, t.vectorLanes));
  // Every point is read and written once whatever the tiling.
  set(f, FLog2ArithIntensity, log2Of(1.0 / (2.0 * p.elemBytes)));
}

void hwaccGemm(Features &f, const HwaccGemmKnobs &k, const Problem &p,
               const TargetParams &t) {
  int64_t tm = k.tm, tn = k.tn, tk = k.tk;
  bool doubleBuffer = k.doubleBuffer;
  set(f, FLog2Tm, log2Of(tm));
  set(f, FLog2Tn, log2Of(tn));
  set(f, FLog2Tk, log2Of(tk));
  set(f, FLoopOrderNmk, k.loopOrderNmk);
  set(f, FDoubleBuffer, doubleBuffer);
  set(f, FDataflowOs, k.dataflowOs);

  int64_t d = t.arrayDim;
  int64_t M = int64_t(p.M), N = int64_t(p.N), K = int64_t(std::max(p.K, 1.0));
  // The lowering clamps tiles to the dim-rounded problem.
  tm = std::min(atLeast1(tm), roundUp(M, d));
  tn = std::min(atLeast1(tn), roundUp(N, d));
  tk = std::min(atLeast1(tk), roundUp(K, d));
  int64_t eb = p.elemBytes;

  set(f, FLog2TilesM, log2Of(ceilDiv(M, tm)));
  set(f, FLog2TilesN, log2Of(ceilDiv(N, tn)));
  set(f, FLog2TilesK, log2Of(ceilDiv(K, tk)));
  set(f, FLog2ATileBytes, log2Of(double(tm) * tk * eb));
  set(f, FLog2BTileBytes, log2Of(double(tk) * tn * eb));
  set(f, FLog2CTileBytes, log2Of(double(tm) * tn * 4));

  // Scratchpad rows are dim elements wide; the target counts f32 rows, and
  // an i8 row packs four times as many elements (as the sketch assumes).
  double spRows = double(t.scratchpadRows) * (eb == 1 ? 4 : 1);
  double buffers = doubleBuffer ? 2 : 1;
  set(f, FSpOccupancy, buffers * double(tm * tk + tk * tn) / d / spRows);
  set(f, FAccOccupancy, double(tm) * tn / d / double(t.accumulatorRows));
  set(f, FRelTileM, relative(double(tm), double(roundUp(M, d))));
  set(f, FRelTileN, relative(double(tn), double(roundUp(N, d))));
  set(f, FRelTileK, relative(double(tk), double(roundUp(K, d))));
  set(f, FRelRegM, relative(double(d), double(tm)));
  set(f, FRelRegN, relative(double(d), double(tn)));
  double spBytes = spRows * double(d) * double(eb);
  set(f, FL3Ratio,
      (buffers * double(tm * tk + tk * tn) * eb + double(tm) * tn * 4) /
          spBytes);
  set(f, FLog2TilesPerThread,
      log2Of(double(ceilDiv(M, tm)) * ceilDiv(N, tn)));

  // Edge blocks carry their true sizes, so the array only wastes the part
  // of the last dim-block; whole tiles are what the scratchpad and the DMA
  // see, so their edges cost occupancy and overlap.
  double arrayUtil =
      edgeEfficiency(M, d) * edgeEfficiency(N, d) * edgeEfficiency(K, d);
  double tileEff =
      edgeEfficiency(M, tm) * edgeEfficiency(N, tn) * edgeEfficiency(K, tk);
  set(f, FArrayUtil, arrayUtil);
  set(f, FTileEff, tileEff);
  set(f, FPadWaste, 1.0 / tileEff - 1.0);

  // C stays in the accumulator across the k loop and leaves once.
  double bytes = gemmBytesMoved(p.M, p.N, double(K), tm, tn, tk, eb, p.accBytes,
                                /*cResident=*/true);
  double macs = p.M * p.N * double(K);
  set(f, FDmaBytesPerMac, bytes / macs);
  set(f, FLog2ArithIntensity, log2Of(2.0 * macs / bytes));
  double dmaCycles = bytes / double(t.dmaBytesPerCycle);
  double computeCycles = macs / (double(d) * d) / arrayUtil;
  set(f, FDmaComputeRatio, dmaCycles / computeCycles);
  set(f, FLog2BlocksPerTile,
      log2Of(double(ceilDiv(tm, d)) * ceilDiv(tn, d) * ceilDiv(tk, d)));

  HwaccEstimate estimate =
      estimateHwacc(M, N, K, int64_t(p.batch), tm, tn, tk, !k.dataflowOs,
                    doubleBuffer, t, double(eb), double(p.accBytes));
  double ideal = p.batch * macs / (double(d) * double(d));
  if (estimate.total > 0 && ideal > 0) {
    set(f, FLog2HwaccCyclesOverIdeal, log2Of(estimate.total / ideal));
    set(f, FHwaccLoadShare, estimate.load / estimate.total);
    set(f, FHwaccExecShare, estimate.exec / estimate.total);
    set(f, FHwaccStoreShare, estimate.store / estimate.total);
  }
}

void gpuKernel(Features &f, const GpuKernelKnobs &k, const Problem &p,
               const TargetParams &t) {
  int64_t bm = atLeast1(k.bm), bn = atLeast1(k.bn), tm = atLeast1(k.tm),
          tn = atLeast1(k.tn), bk = k.bk;
  bool promote = k.promote;
  set(f, FLog2GpuBm, log2Of(bm));
  set(f, FLog2GpuBn, log2Of(bn));
  set(f, FLog2GpuTm, log2Of(tm));
  set(f, FLog2GpuTn, log2Of(tn));
  set(f, FLog2GpuBk, log2Of(bk));
  set(f, FGpuPromote, promote);
  set(f, FLog2GpuVec, log2Of(k.vec));
  set(f, FGpuRegTile, k.registerTile);
  int64_t M = int64_t(p.M), N = int64_t(p.N);
  double threads = double(bm / tm) * double(bn / tn);
  double blocks = double(ceilDiv(M, bm)) * double(ceilDiv(N, bn));
  set(f, FLog2GpuThreads, log2Of(threads));
  set(f, FLog2GpuBlocks, log2Of(blocks));
  double sms = double(atLeast1(t.gpuMultiprocessors));
  set(f, FGpuWaveEff, blocks / (std::ceil(blocks / sms) * sms));
  set(f, FGpuCoalescing, 1.0 / double(tn));
  set(f, FLog2WorkPerThread, log2Of(double(tm * tn)));
  set(f, FLog2TilesM, log2Of(ceilDiv(M, bm)));
  set(f, FLog2TilesN, log2Of(ceilDiv(N, bn)));
  set(f, FLog2CTileBytes, log2Of(double(bm) * bn * p.accBytes));
  set(f, FRelTileM, relative(double(bm), p.M));
  set(f, FRelTileN, relative(double(bn), p.N));
  set(f, FRelRegM, relative(double(tm), double(bm)));
  set(f, FRelRegN, relative(double(tn), double(bn)));
  if (p.K <= 0)
    return;
  set(f, FRelTileK, relative(double(bk > 0 ? bk : p.K), p.K));
  int64_t K = int64_t(p.K), step = bk > 0 ? bk : K;
  set(f, FLog2TilesK, log2Of(ceilDiv(K, step)));
  double aTile = double(bm) * step * p.elemBytes,
         bTile = double(step) * bn * p.elemBytes;
  set(f, FLog2ATileBytes, log2Of(aTile));
  set(f, FLog2BTileBytes, log2Of(bTile));
  if (promote)
    set(f, FGpuSharedRatio, (aTile + bTile) / double(t.gpuSharedBytes));
  // With shared tiles a block reads A and B once per block tile; without,
  // each thread reads its rows and columns itself (the caches catch some).
  double bytes = promote ? gemmBytesMoved(p.M, p.N, p.K, bm, bn, step,
                                          p.elemBytes, p.accBytes, true)
                         : gemmBytesMoved(p.M, p.N, p.K, tm, tn, step,
                                          p.elemBytes, p.accBytes, true);
  set(f, FLog2ArithIntensity, log2Of(2.0 * p.M * p.N * p.K / bytes));
}

} // namespace

size_t featureCount() { return kFeatureCount; }

const std::vector<std::string> &featureNames() { return featureTable().names; }

const std::vector<std::string> &featureDescriptions() {
  return featureTable().descriptions;
}

int featureIndex(const std::string &name) {
  const auto &names = featureNames();
  auto it = std::find(names.begin(), names.end(), name);
  return it == names.end() ? -1 : int(it - names.begin());
}

std::vector<float> extractFeatures(const FeatureInput &in) {
  Features f(kFeatureCount, 0.0f);
  TargetParams target(in.target);
  Problem problem = problemOf(in);
  if (in.sketch.sketchFeature)
    set(f, *in.sketch.sketchFeature, 1);
  set(f, FOpMatmul, in.opKind == "matmul");
  set(f, FOpBatchMatmul, in.opKind == "batch_matmul");
  set(f, FOpConv2d, in.opKind == "conv2d");
  set(f, FOpElementwise, in.opKind == "elementwise");
  set(f, FLog2ElemBytes, log2Of(problem.elemBytes));
  set(f, FElemIsFloat, !in.elemType.empty() && (in.elemType[0] == 'f' ||
                                                in.elemType[0] == 'b'));
  set(f, FTargetIsHwacc, target.hwacc);
  set(f, FTargetIsGpu, target.gpu);
  set(f, FConstantWeights, in.constantWeights);
  set(f, FLog2Flops, log2Of(problem.flops));
  set(f, FLog2GemmM, log2Of(problem.M));
  set(f, FLog2GemmN, log2Of(problem.N));
  set(f, FLog2GemmK, log2Of(problem.K));
  set(f, FLog2Batch, log2Of(problem.batch));
  // The task's own footprint against the last level that could hold it.
  double operandBytes =
      problem.K > 0
          ? problem.batch * ((problem.M + problem.N) * problem.K *
                                 double(problem.elemBytes) +
                             problem.M * problem.N * double(problem.accBytes))
          : 2 * problem.M * problem.N * double(problem.elemBytes);
  double lastLevel =
      target.hwacc ? double(target.scratchpadRows) * double(target.arrayDim) *
                         double(problem.elemBytes == 1 ? 4 : problem.elemBytes)
                   : double(target.l3Bytes);
  set(f, FLog2ProblemL3Ratio, log2Of(operandBytes / lastLevel));

  // Each family of schedules has its own estimates; which family a config
  // belongs to is the sketch's word (FeatureInput::sketch), not a name.
  std::visit(
      [&](const auto &knobs) {
        using K = std::decay_t<decltype(knobs)>;
        if constexpr (std::is_same_v<K, CpuGemmKnobs>)
          cpuGemm(f, knobs, in.opKind == "batch_matmul", problem, target);
        else if constexpr (std::is_same_v<K, CpuConvKnobs>)
          cpuConv(f, knobs, in, problem, target);
        else if constexpr (std::is_same_v<K, CpuElementwiseKnobs>)
          cpuElementwise(f, knobs, in, problem, target);
        else if constexpr (std::is_same_v<K, HwaccGemmKnobs>)
          hwaccGemm(f, knobs, problem, target);
        else if constexpr (std::is_same_v<K, GpuKernelKnobs>)
          gpuKernel(f, knobs, problem, target);
      },
      in.sketch.knobs);
  return f;
}

} // namespace hatc::cost_model
