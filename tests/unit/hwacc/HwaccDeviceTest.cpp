//===- HwaccDeviceTest.cpp - Tests of the hwacc device model and C ABI ----===//
//
// Expected cycle counts are written as the formulas of docs/hwacc.md, so a
// failure shows which term of the model moved.
//
//===----------------------------------------------------------------------===//
#include "hatc/Runtime/HwaccAbi.h"
#include "hatc/Runtime/HwaccDevice.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <thread>
#include <vector>

using namespace hatc;

namespace {

// hatc_hwacc_config argument values.
constexpr int64_t kOS = 0, kWS = 1;
constexpr int64_t kF32 = 0, kI8 = 1;
constexpr int64_t kOutAcc = 0, kOutI8 = 1;

/// The DMA occupancy formula: ceil(bytes / dmaBytesPerCycle).
int64_t dmaCycles(const HwaccParams &p, int64_t bytes) {
  return int64_t(std::ceil(double(bytes) / p.dmaBytesPerCycle));
}

HwaccParams paramsWithDim(int64_t dim) {
  HwaccParams p; // the defaults are configs/targets/hwacc.json
  p.dim = dim;
  p.scratchpadBytes = std::max<int64_t>(p.scratchpadBytes, 16 * dim * dim * 4);
  p.accumulatorBytes =
      std::max<int64_t>(p.accumulatorBytes, 8 * dim * dim * 4);
  return p;
}

void expectSameStats(const HwaccStats &a, const HwaccStats &b) {
  EXPECT_EQ(a.totalCycles, b.totalCycles);
  EXPECT_EQ(a.computeCycles, b.computeCycles);
  EXPECT_EQ(a.preloadCycles, b.preloadCycles);
  EXPECT_EQ(a.macs, b.macs);
  EXPECT_EQ(a.dmaBytesIn, b.dmaBytesIn);
  EXPECT_EQ(a.dmaBytesOut, b.dmaBytesOut);
  EXPECT_EQ(a.instructions, b.instructions);
  EXPECT_EQ(a.stallCycles, b.stallCycles);
}

//===----------------------------------------------------------------------===//
// A plain tiled driver and reference
//===----------------------------------------------------------------------===//

struct GemmOptions {
  int64_t dataflow = kWS;
  bool i8 = false;     // i8 inputs, i32 accumulation; else f32
  bool outI8 = false;  // i8 output; else the accumulator type
  float scale = 1.0f;
  bool relu = false;
  bool bias = false;   // C = bias + A * B, bias moved in with mvin_acc
};

/// C[M x N] = (bias +) A[M x K] * B[K x N], all row-major, through the
/// device: one DIM x DIM output block at a time, edge blocks with fewer rows
/// and columns, the scratchpad and accumulator blocks alternating between two
/// slots so that consecutive blocks use different rows.
void runTiledGemm(HwaccDevice &dev, const void *a, const void *b,
                  const void *bias, void *c, int64_t M, int64_t N, int64_t K,
                  const GemmOptions &opt) {
  const int64_t dim = dev.params().dim;
  const int64_t inBytes = opt.i8 ? 1 : 4;
  const int64_t outBytes = opt.outI8 ? 1 : 4;
  const auto *A = static_cast<const unsigned char *>(a);
  const auto *B = static_cast<const unsigned char *>(b);
  const auto *bias8 = static_cast<const unsigned char *>(bias);
  auto *C = static_cast<unsigned char *>(c);
  dev.config(opt.dataflow, opt.i8 ? kI8 : kF32, opt.outI8 ? kOutI8 : kOutAcc,
             opt.scale, opt.relu);
  int64_t step = 0, block = 0;
  for (int64_t m0 = 0; m0 < M; m0 += dim) {
    int64_t mr = std::min(dim, M - m0);
    for (int64_t n0 = 0; n0 < N; n0 += dim, ++block) {
      int64_t nr = std::min(dim, N - n0);
      int64_t accRow = (block % 2) * dim;
      if (opt.bias)
        dev.mvinAcc(bias8 + (m0 * N + n0) * 4, N, accRow, mr, nr);
      for (int64_t k0 = 0; k0 < K; k0 += dim, ++step) {
        int64_t kr = std::min(dim, K - k0);
        int64_t aRow = (step % 2) * 2 * dim, bRow = aRow + dim;
        dev.mvin(A + (m0 * K + k0) * inBytes, K, aRow, mr, kr);
        dev.mvin(B + (k0 * N + n0) * inBytes, N, bRow, kr, nr);
        dev.preload(bRow, accRow, kr, nr, opt.bias || k0 > 0);
        dev.compute(aRow, mr, kr);
      }
      dev.mvout(C + (m0 * N + n0) * outBytes, N, accRow, mr, nr);
    }
  }
  dev.fence();
}

/// The output conversion of docs/hwacc.md: scale, relu, then RNE and
/// saturation for integer outputs.
int64_t roundSaturate(double v, int64_t lo, int64_t hi) {
  return std::clamp<int64_t>(int64_t(std::nearbyint(v)), lo, hi);
}

std::vector<float> referenceF32(const std::vector<float> &A,
                                const std::vector<float> &B,
                                const std::vector<float> *bias, int64_t M,
                                int64_t N, int64_t K, float scale, bool relu) {
  std::vector<float> C(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float sum = bias ? (*bias)[i * N + j] : 0.0f;
      for (int64_t p = 0; p < K; ++p)
        sum += A[i * K + p] * B[p * N + j];
      sum *= scale;
      C[i * N + j] = relu ? std::max(sum, 0.0f) : sum;
    }
  return C;
}

std::vector<int64_t> referenceI32Sums(const std::vector<int8_t> &A,
                                      const std::vector<int8_t> &B,
                                      const std::vector<int32_t> *bias,
                                      int64_t M, int64_t N, int64_t K) {
  std::vector<int64_t> C(static_cast<size_t>(M * N));
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      int64_t sum = bias ? (*bias)[i * N + j] : 0;
      for (int64_t p = 0; p < K; ++p)
        sum += int64_t(A[i * K + p]) * B[p * N + j];
      C[i * N + j] = sum;
    }
  return C;
}

/// Small integers: every product and sum is exact in f32, so the device
/// and the reference agree bit for bit whatever order they add in.
std::vector<float> randomIntegralF32(std::mt19937 &rng, int64_t count) {
  std::uniform_int_distribution<int> dist(-4, 4);
  std::vector<float> v(static_cast<size_t>(count));
  for (float &x : v)
    x = float(dist(rng));
  return v;
}

std::vector<int8_t> randomI8(std::mt19937 &rng, int64_t count) {
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> v(static_cast<size_t>(count));
  for (int8_t &x : v)
    x = int8_t(dist(rng));
  return v;
}

struct Shape {
  int64_t M, N, K;
};
// Multiples of DIM and not, single rows/columns, K longer than several
// blocks.
const Shape kShapes[] = {{1, 1, 1},   {16, 16, 16}, {17, 33, 5},
                         {45, 19, 70}, {64, 48, 32}, {3, 40, 100}};

//===----------------------------------------------------------------------===//
// 1. One tile: the critical path, term by term
//===----------------------------------------------------------------------===//

TEST(HwaccTiming, OneTileFollowsTheCriticalPath) {
  for (int64_t dim : {4, 16, 32}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    HwaccParams p = paramsWithDim(dim);
    HwaccDevice dev(p);
    std::mt19937 rng(1);
    auto A = randomIntegralF32(rng, dim * dim);
    auto B = randomIntegralF32(rng, dim * dim);
    std::vector<float> C(static_cast<size_t>(dim * dim), -1.0f);

    dev.mvin(A.data(), dim, /*spRow=*/0, dim, dim);
    dev.mvin(B.data(), dim, /*spRow=*/dim, dim, dim);
    dev.preload(/*spRow=*/dim, /*accRow=*/0, /*k=*/dim, /*n=*/dim, 0);
    dev.compute(/*spRow=*/0, /*m=*/dim, /*k=*/dim);
    dev.mvout(C.data(), dim, /*accRow=*/0, dim, dim);
    dev.fence();
    ASSERT_EQ(dev.error(), "");

    const int64_t lat = p.dmaLatencyCycles;
    const int64_t blockDma = dmaCycles(p, dim * dim * 4);
    // Both mvins share the load queue; B is the later one.
    const int64_t bArrives = 2 * blockDma + lat;
    const int64_t preloadDone = bArrives + /*k=*/dim;
    // Fill + compute + drain: m rows enter, then the skew drains.
    const int64_t computeDone = preloadDone + dim + 2 * (dim - 1);
    const int64_t expectedTotal = computeDone + blockDma + lat;

    const HwaccStats &s = dev.stats();
    EXPECT_EQ(s.totalCycles, expectedTotal);
    EXPECT_EQ(computeDone - preloadDone, dim + 2 * (dim - 1));
    EXPECT_EQ(s.preloadCycles, dim);
    EXPECT_EQ(s.computeCycles, dim);
    EXPECT_EQ(s.macs, dim * dim * dim);
    EXPECT_EQ(s.dmaBytesIn, 2 * dim * dim * 4);
    EXPECT_EQ(s.dmaBytesOut, dim * dim * 4);
    EXPECT_EQ(s.instructions, 6);
    // The execute queue idled until B arrived; the store queue until the
    // results were out of the array.
    EXPECT_EQ(s.stallCycles.at("exec_wait_load"), bArrives);
    EXPECT_EQ(s.stallCycles.at("store_wait_exec"), computeDone);
    EXPECT_EQ(s.stallCycles.at("load_wait_exec"), 0);
    EXPECT_EQ(s.stallCycles.at("exec_wait_store"), 0);
    EXPECT_DOUBLE_EQ(s.utilization(dim),
                     double(dim * dim * dim) / (expectedTotal * dim * dim));

    EXPECT_EQ(C, referenceF32(A, B, nullptr, dim, dim, dim, 1.0f, false));

    nlohmann::json json = s.toJson(dim, p.clockGHz);
    EXPECT_EQ(json["total_cycles"], expectedTotal);
    EXPECT_EQ(json["stall_cycles"]["exec_wait_load"], bArrives);
    EXPECT_DOUBLE_EQ(json["seconds"].get<double>(),
                     expectedTotal / (p.clockGHz * 1e9));
  }
}

// Write-after-read: an mvin into rows a compute still streams waits for the
// last A row to enter the array; a compute into accumulator rows an mvout
// still reads waits for the DMA to have read them.
TEST(HwaccTiming, WriteAfterReadHazardsStallTheWriter) {
  HwaccParams p;
  const int64_t dim = p.dim, lat = p.dmaLatencyCycles;
  const int64_t blockDma = dmaCycles(p, dim * dim * 4);
  HwaccDevice dev(p, /*timingOnly=*/true);
  std::vector<float> dram(static_cast<size_t>(dim * dim));
  dev.mvin(dram.data(), dim, 0, dim, dim);   // A
  dev.mvin(dram.data(), dim, dim, dim, dim); // B
  dev.preload(dim, 0, dim, dim, 0);
  dev.compute(0, dim, dim);
  const int64_t preloadStart = 2 * blockDma + lat;
  const int64_t computeStart = preloadStart + dim;
  const int64_t computeDone = computeStart + dim + 2 * (dim - 1);

  // The load queue is free at 2 * blockDma, but rows 0..dim are read until
  // computeStart + dim.
  dev.mvin(dram.data(), dim, 0, dim, dim);
  const int64_t secondMvinStart = computeStart + dim;
  EXPECT_EQ(dev.stats().stallCycles.at("load_wait_exec"),
            secondMvinStart - 2 * blockDma);
  EXPECT_EQ(dev.stats().totalCycles, secondMvinStart + blockDma + lat);

  // The mvout reads accumulator rows 0..dim during [computeDone,
  // computeDone + blockDma); a compute overwriting them starts after that,
  // although the execute queue (and the reused weights) are ready earlier.
  dev.mvout(dram.data(), dim, 0, dim, dim);
  dev.preload(dim, 0, dim, dim, 0); // same weights: no shift
  dev.compute(dim * 2, dim, dim);
  const int64_t execFree = computeStart + dim;
  const int64_t mvoutReadDone = computeDone + blockDma;
  EXPECT_EQ(dev.stats().stallCycles.at("exec_wait_store"),
            mvoutReadDone - execFree);
  EXPECT_EQ(dev.stats().totalCycles,
            std::max({mvoutReadDone + dim + 2 * (dim - 1),
                      mvoutReadDone + lat, secondMvinStart + blockDma + lat}));
  ASSERT_EQ(dev.error(), "");
}

TEST(HwaccTiming, OutputStationaryPreloadTakesDimAndComputeTakesK) {
  HwaccParams p;
  const int64_t dim = p.dim, k = dim / 2, m = dim;
  HwaccDevice dev(p, /*timingOnly=*/true);
  std::vector<float> dram(static_cast<size_t>(dim * dim), 0.0f);
  dev.config(kOS, kF32, kOutAcc, 1.0f, 0);
  dev.mvin(dram.data(), dim, 0, m, k);
  dev.mvin(dram.data(), dim, dim, k, dim);
  dev.preload(dim, 0, k, dim, 0);
  dev.compute(0, m, k);
  dev.fence();
  ASSERT_EQ(dev.error(), "");
  const int64_t lat = p.dmaLatencyCycles;
  const int64_t bArrives =
      dmaCycles(p, m * k * 4) + dmaCycles(p, k * dim * 4) + lat;
  EXPECT_EQ(dev.stats().preloadCycles, dim);
  EXPECT_EQ(dev.stats().computeCycles, k);
  EXPECT_EQ(dev.stats().totalCycles, bArrives + dim + k + 2 * (dim - 1));
}

TEST(HwaccTiming, ManyMvinsAreBandwidthBound) {
  HwaccParams p;
  HwaccDevice dev(p, /*timingOnly=*/true);
  const int64_t dim = p.dim, count = 1000;
  std::vector<float> dram(static_cast<size_t>(dim * dim));
  for (int64_t i = 0; i < count; ++i)
    dev.mvin(dram.data(), dim, (i % 64) * dim, dim, dim);
  dev.fence();
  // Pipelined DMA: back-to-back occupancies, one latency at the end.
  EXPECT_EQ(dev.stats().totalCycles,
            count * dmaCycles(p, dim * dim * 4) + p.dmaLatencyCycles);
  EXPECT_EQ(dev.stats().dmaBytesIn, count * dim * dim * 4);
}

//===----------------------------------------------------------------------===//
// 2. A compute-bound GEMM with a good tiling
//===----------------------------------------------------------------------===//

// M = N = K = 512 on the 16 x 16 target, i8 inputs (f32 at 16 B/cycle needs
// 64 MACs per moved element, more reuse than a 64 KiB accumulator allows).
// Output tiles of TM x TN live in one of two accumulator halves so mvouts
// overlap the next tile; per K step the A and B sub-panels go to one of two
// scratchpad buffers so loads overlap compute; each B block is preloaded once
// and reused over the TM / DIM A blocks of the tile.
TEST(HwaccTiming, ComputeBoundGemmApproachesPeak) {
  HwaccParams p;
  const int64_t dim = p.dim;
  const int64_t M = 512, N = 512, K = 512, TM = 128, TN = 64;
  const int64_t mBlocks = TM / dim, nBlocks = TN / dim;
  const int64_t bufferRows = (mBlocks + nBlocks) * dim;
  const int64_t accHalf = mBlocks * nBlocks * dim;
  ASSERT_LE(2 * accHalf, p.accumulatorRows());
  ASSERT_LE(2 * bufferRows, p.scratchpadRows(1));

  // Timing only: the point is the instruction stream, and 1.3e8 MACs of
  // arithmetic would dominate the test time. Exactness is tested below.
  HwaccDevice dev(p, /*timingOnly=*/true);
  std::vector<int8_t> A(static_cast<size_t>(M * K));
  std::vector<int8_t> B(static_cast<size_t>(K * N));
  std::vector<int32_t> C(static_cast<size_t>(M * N));
  dev.config(kWS, kI8, kOutAcc, 1.0f, 0);
  int64_t tile = 0, step = 0;
  for (int64_t mt = 0; mt < M; mt += TM)
    for (int64_t nt = 0; nt < N; nt += TN, ++tile) {
      const int64_t accBase = (tile % 2) * accHalf;
      auto accRow = [&](int64_t i, int64_t j) {
        return accBase + (i * nBlocks + j) * dim;
      };
      for (int64_t k0 = 0; k0 < K; k0 += dim, ++step) {
        const int64_t aBase = (step % 2) * bufferRows;
        const int64_t bBase = aBase + mBlocks * dim;
        for (int64_t i = 0; i < mBlocks; ++i)
          dev.mvin(&A[(mt + i * dim) * K + k0], K, aBase + i * dim, dim, dim);
        for (int64_t j = 0; j < nBlocks; ++j)
          dev.mvin(&B[k0 * N + nt + j * dim], N, bBase + j * dim, dim, dim);
        for (int64_t j = 0; j < nBlocks; ++j)
          for (int64_t i = 0; i < mBlocks; ++i) {
            dev.preload(bBase + j * dim, accRow(i, j), dim, dim, k0 > 0);
            dev.compute(aBase + i * dim, dim, dim);
          }
      }
      for (int64_t i = 0; i < mBlocks; ++i)
        for (int64_t j = 0; j < nBlocks; ++j)
          dev.mvout(&C[(mt + i * dim) * N + nt + j * dim], N, accRow(i, j),
                    dim, dim);
    }
  dev.fence();
  ASSERT_EQ(dev.error(), "");

  const HwaccStats &s = dev.stats();
  const int64_t idealCycles = M * N * K / (dim * dim);
  // One weight shift per (tile, K step, B block); the other preloads reuse.
  const int64_t weightShifts = (M / TM) * (N / TN) * (K / dim) * nBlocks;
  EXPECT_EQ(s.macs, M * N * K);
  EXPECT_EQ(s.computeCycles, idealCycles);
  EXPECT_EQ(s.preloadCycles, weightShifts * dim);
  EXPECT_GE(s.totalCycles, s.computeCycles + s.preloadCycles);
  EXPECT_GT(s.utilization(dim), 0.8) << s.toJson(dim, p.clockGHz).dump();
  EXPECT_LE(s.utilization(dim),
            double(idealCycles) / (s.computeCycles + s.preloadCycles));
}

//===----------------------------------------------------------------------===//
// 3. A DMA-bound GEMM
//===----------------------------------------------------------------------===//

// K = N = DIM and a tall A: every A block is used once, for DIM cycles of
// compute against 4 * DIM^2 / bandwidth cycles of DMA, so the load queue is
// the bottleneck. i8 output keeps the store queue lighter than the load one.
TEST(HwaccTiming, DmaBoundGemmRunsAtDmaBandwidth) {
  HwaccParams p;
  const int64_t dim = p.dim, M = 2048 * dim, N = dim, K = dim;
  HwaccDevice dev(p, /*timingOnly=*/true);
  std::vector<float> A(static_cast<size_t>(M * K));
  std::vector<float> B(static_cast<size_t>(K * N));
  std::vector<int8_t> C(static_cast<size_t>(M * N));
  const int64_t bRow = 0, aSlots = 8, accSlots = p.accumulatorRows() / dim;
  dev.config(kWS, kF32, kOutI8, 1.0f, 0);
  dev.mvin(B.data(), N, bRow, K, N);
  for (int64_t blk = 0; blk < M / dim; ++blk) {
    const int64_t aRow = (1 + blk % aSlots) * dim;
    const int64_t accRow = (blk % accSlots) * dim;
    dev.mvin(&A[blk * dim * K], K, aRow, dim, K);
    dev.preload(bRow, accRow, K, N, 0);
    dev.compute(aRow, dim, K);
    dev.mvout(&C[blk * dim * N], N, accRow, dim, N);
  }
  dev.fence();
  ASSERT_EQ(dev.error(), "");

  const HwaccStats &s = dev.stats();
  const int64_t bytesIn = (M * K + K * N) * 4;
  const double dmaBound = double(bytesIn) / p.dmaBytesPerCycle;
  EXPECT_EQ(s.dmaBytesIn, bytesIn);
  EXPECT_EQ(s.dmaBytesOut, M * N);
  EXPECT_GE(s.totalCycles, dmaBound);
  EXPECT_LE(s.totalCycles, 1.03 * dmaBound);
  // The array mostly waits for operands.
  EXPECT_GT(s.stallCycles.at("exec_wait_load"), s.totalCycles / 2);
  EXPECT_EQ(s.preloadCycles, K); // B is shifted in once, then reused
}

//===----------------------------------------------------------------------===//
// 4. Functional exactness
//===----------------------------------------------------------------------===//

TEST(HwaccFunctional, F32MatchesReferenceOnEdgeShapes) {
  std::mt19937 rng(42);
  for (int64_t dataflow : {kWS, kOS})
    for (const Shape &sh : kShapes) {
      SCOPED_TRACE(std::to_string(sh.M) + "x" + std::to_string(sh.N) + "x" +
                   std::to_string(sh.K) + " dataflow " +
                   std::to_string(dataflow));
      auto A = randomIntegralF32(rng, sh.M * sh.K);
      auto B = randomIntegralF32(rng, sh.K * sh.N);
      std::vector<float> C(static_cast<size_t>(sh.M * sh.N), -7.0f);
      HwaccDevice dev(HwaccParams{});
      GemmOptions opt;
      opt.dataflow = dataflow;
      runTiledGemm(dev, A.data(), B.data(), nullptr, C.data(), sh.M, sh.N,
                   sh.K, opt);
      ASSERT_EQ(dev.error(), "");
      EXPECT_EQ(C, referenceF32(A, B, nullptr, sh.M, sh.N, sh.K, 1.0f, false));
    }
}

TEST(HwaccFunctional, F32BiasScaleAndRelu) {
  std::mt19937 rng(7);
  for (const Shape &sh : kShapes) {
    SCOPED_TRACE(std::to_string(sh.M) + "x" + std::to_string(sh.N) + "x" +
                 std::to_string(sh.K));
    auto A = randomIntegralF32(rng, sh.M * sh.K);
    auto B = randomIntegralF32(rng, sh.K * sh.N);
    auto bias = randomIntegralF32(rng, sh.M * sh.N);
    std::vector<float> C(static_cast<size_t>(sh.M * sh.N));
    HwaccDevice dev(HwaccParams{});
    GemmOptions opt;
    opt.bias = true;
    opt.scale = 0.5f; // a power of two keeps the scaled sums exact
    opt.relu = true;
    runTiledGemm(dev, A.data(), B.data(), bias.data(), C.data(), sh.M, sh.N,
                 sh.K, opt);
    ASSERT_EQ(dev.error(), "");
    EXPECT_EQ(C, referenceF32(A, B, &bias, sh.M, sh.N, sh.K, 0.5f, true));
  }
}

TEST(HwaccFunctional, I8AccumulatesExactlyInI32) {
  std::mt19937 rng(3);
  for (bool withBias : {false, true})
    for (const Shape &sh : kShapes) {
      SCOPED_TRACE(std::to_string(sh.M) + "x" + std::to_string(sh.N) + "x" +
                   std::to_string(sh.K) + (withBias ? " bias" : ""));
      auto A = randomI8(rng, sh.M * sh.K);
      auto B = randomI8(rng, sh.K * sh.N);
      std::vector<int32_t> bias(static_cast<size_t>(sh.M * sh.N));
      std::uniform_int_distribution<int32_t> biasDist(-100000, 100000);
      for (int32_t &x : bias)
        x = biasDist(rng);
      std::vector<int32_t> C(static_cast<size_t>(sh.M * sh.N));
      HwaccDevice dev(HwaccParams{});
      GemmOptions opt;
      opt.i8 = true;
      opt.bias = withBias;
      runTiledGemm(dev, A.data(), B.data(), bias.data(), C.data(), sh.M, sh.N,
                   sh.K, opt);
      ASSERT_EQ(dev.error(), "");
      auto ref = referenceI32Sums(A, B, withBias ? &bias : nullptr, sh.M, sh.N,
                                  sh.K);
      for (size_t i = 0; i < C.size(); ++i)
        ASSERT_EQ(C[i], ref[i]) << "at " << i;
    }
}

TEST(HwaccFunctional, I8OutputScalesRoundsAndSaturates) {
  std::mt19937 rng(11);
  int saturated = 0;
  for (bool relu : {false, true})
    for (const Shape &sh : kShapes) {
      SCOPED_TRACE(std::to_string(sh.M) + "x" + std::to_string(sh.N) + "x" +
                   std::to_string(sh.K) + (relu ? " relu" : ""));
      auto A = randomI8(rng, sh.M * sh.K);
      auto B = randomI8(rng, sh.K * sh.N);
      std::vector<int8_t> C(static_cast<size_t>(sh.M * sh.N));
      HwaccDevice dev(HwaccParams{});
      GemmOptions opt;
      opt.i8 = true;
      opt.outI8 = true;
      opt.scale = 1.0f / 300.0f;
      opt.relu = relu;
      runTiledGemm(dev, A.data(), B.data(), nullptr, C.data(), sh.M, sh.N,
                   sh.K, opt);
      ASSERT_EQ(dev.error(), "");
      auto sums = referenceI32Sums(A, B, nullptr, sh.M, sh.N, sh.K);
      for (size_t i = 0; i < C.size(); ++i) {
        double v = double(sums[i]) * double(opt.scale);
        if (relu)
          v = std::max(v, 0.0);
        int64_t expected = roundSaturate(v, -128, 127);
        saturated += expected == 127 || expected == -128;
        ASSERT_EQ(C[i], expected) << "at " << i << ", sum " << sums[i];
      }
    }
  EXPECT_GT(saturated, 0) << "the shapes should exercise saturation";
}

TEST(HwaccFunctional, RoundsHalfToEvenAndSaturatesOnMvout) {
  HwaccDevice dev(HwaccParams{});
  const int64_t dim = dev.params().dim;
  std::vector<int32_t> acc = {5, 7, -5, -7, 1, 3, 300, -300, 255, 256, 0, -1};
  // value * 0.5 = 2.5, 3.5, -2.5, -3.5, 0.5, 1.5, 150, -150, 127.5, 128, 0,
  // -0.5: ties go to the even neighbour, then [-128, 127].
  const std::vector<int8_t> expected = {2, 4, -2, -4, 0, 2,
                                        127, -128, 127, 127, 0, 0};
  const int64_t n = int64_t(acc.size());
  ASSERT_LE(n, dim);
  std::vector<int8_t> out(static_cast<size_t>(n), 99);
  dev.config(kWS, kI8, kOutI8, 0.5f, 0);
  dev.mvinAcc(acc.data(), n, 0, 1, n);
  dev.mvout(out.data(), n, 0, 1, n);
  ASSERT_EQ(dev.error(), "");
  EXPECT_EQ(out, expected);

  // relu clamps after scaling: negatives become 0.
  std::vector<int8_t> reluOut(static_cast<size_t>(n), 99);
  dev.config(kWS, kI8, kOutI8, 0.5f, 1);
  dev.mvout(reluOut.data(), n, 0, 1, n);
  for (int64_t i = 0; i < n; ++i)
    EXPECT_EQ(reluOut[i], std::max<int8_t>(expected[i], 0)) << "at " << i;
}

// A narrow mvin zero-fills the rest of each row, so a full-width compute over
// it sees zeros, not what the rows held before; mvin_acc likewise.
TEST(HwaccFunctional, NarrowMovesZeroFillTheRows) {
  HwaccDevice dev(HwaccParams{});
  const int64_t dim = dev.params().dim, cols = 5;
  std::vector<float> ones(static_cast<size_t>(dim * dim), 1.0f);
  dev.mvin(ones.data(), dim, 0, dim, dim);   // stale data in A's rows
  dev.mvin(ones.data(), dim, dim, dim, dim); // B = all ones
  dev.mvin(ones.data(), dim, 0, dim, cols);  // A = ones in cols 0..5 only
  dev.preload(dim, 0, dim, dim, 0);
  dev.compute(0, dim, dim);
  std::vector<float> C(static_cast<size_t>(dim * dim));
  dev.mvout(C.data(), dim, 0, dim, dim);
  EXPECT_TRUE(std::all_of(C.begin(), C.end(),
                          [&](float v) { return v == float(cols); }));

  dev.mvinAcc(ones.data(), dim, 0, 1, cols);
  dev.mvout(C.data(), dim, 0, 1, dim);
  for (int64_t j = 0; j < dim; ++j)
    EXPECT_EQ(C[j], j < cols ? 1.0f : 0.0f) << "at " << j;
  ASSERT_EQ(dev.error(), "");
}

TEST(HwaccFunctional, ComputeWithoutNewPreloadReusesWeightsAndAccumulates) {
  HwaccDevice dev(HwaccParams{});
  const int64_t dim = dev.params().dim;
  std::mt19937 rng(5);
  auto A1 = randomIntegralF32(rng, dim * dim);
  auto A2 = randomIntegralF32(rng, dim * dim);
  auto B = randomIntegralF32(rng, dim * dim);
  dev.mvin(B.data(), dim, 0, dim, dim);
  dev.mvin(A1.data(), dim, dim, dim, dim);
  dev.mvin(A2.data(), dim, 2 * dim, dim, dim);
  dev.preload(0, 0, dim, dim, /*accumulate=*/0);
  dev.compute(dim, dim, dim);
  // No preload: same weights, same accumulator rows, accumulating.
  dev.compute(2 * dim, dim, dim);
  std::vector<float> C(static_cast<size_t>(dim * dim));
  dev.mvout(C.data(), dim, 0, dim, dim);
  ASSERT_EQ(dev.error(), "");
  std::vector<float> sumA(A1.size());
  for (size_t i = 0; i < A1.size(); ++i)
    sumA[i] = A1[i] + A2[i];
  EXPECT_EQ(C, referenceF32(sumA, B, nullptr, dim, dim, dim, 1.0f, false));
  EXPECT_EQ(dev.stats().preloadCycles, dim);
  EXPECT_EQ(dev.stats().computeCycles, 2 * dim);
}

TEST(HwaccFunctional, PreloadOfLatchedWeightsIsFreeUntilTheRowsChange) {
  HwaccDevice dev(HwaccParams{});
  const int64_t dim = dev.params().dim;
  std::mt19937 rng(9);
  auto A = randomIntegralF32(rng, dim * dim);
  auto B1 = randomIntegralF32(rng, dim * dim);
  auto B2 = randomIntegralF32(rng, dim * dim);
  dev.mvin(B1.data(), dim, 0, dim, dim);
  dev.mvin(A.data(), dim, dim, dim, dim);
  dev.preload(0, 0, dim, dim, 0);
  dev.compute(dim, dim, dim);
  dev.preload(0, dim, dim, dim, 0); // same B block: no weight shift
  dev.compute(dim, dim, dim);
  EXPECT_EQ(dev.stats().preloadCycles, dim);
  dev.mvin(B2.data(), dim, 0, dim, dim); // the rows change: shift again
  dev.preload(0, 2 * dim, dim, dim, 0);
  dev.compute(dim, dim, dim);
  EXPECT_EQ(dev.stats().preloadCycles, 2 * dim);

  std::vector<float> C(static_cast<size_t>(3 * dim * dim));
  for (int64_t blk = 0; blk < 3; ++blk)
    dev.mvout(&C[blk * dim * dim], dim, blk * dim, dim, dim);
  ASSERT_EQ(dev.error(), "");
  auto ref1 = referenceF32(A, B1, nullptr, dim, dim, dim, 1.0f, false);
  auto ref2 = referenceF32(A, B2, nullptr, dim, dim, dim, 1.0f, false);
  EXPECT_TRUE(std::equal(ref1.begin(), ref1.end(), C.begin()));
  EXPECT_TRUE(std::equal(ref1.begin(), ref1.end(), C.begin() + dim * dim));
  EXPECT_TRUE(std::equal(ref2.begin(), ref2.end(), C.begin() + 2 * dim * dim));
}

//===----------------------------------------------------------------------===//
// 5. Timing-only mode
//===----------------------------------------------------------------------===//

TEST(HwaccTimingOnly, SameStatsAndDramUntouched) {
  std::mt19937 rng(13);
  for (bool i8 : {false, true}) {
    SCOPED_TRACE(i8 ? "i8" : "f32");
    const int64_t M = 70, N = 45, K = 53;
    GemmOptions opt;
    opt.i8 = i8;
    opt.bias = true;
    std::vector<float> Af = randomIntegralF32(rng, M * K),
                       Bf = randomIntegralF32(rng, K * N);
    std::vector<int8_t> A8 = randomI8(rng, M * K), B8 = randomI8(rng, K * N);
    std::vector<int32_t> bias(static_cast<size_t>(M * N), 0);
    const void *A = i8 ? (const void *)A8.data() : Af.data();
    const void *B = i8 ? (const void *)B8.data() : Bf.data();

    const int32_t sentinel = 0x5a5a5a5a;
    std::vector<int32_t> cFunctional(static_cast<size_t>(M * N), sentinel);
    std::vector<int32_t> cTiming(static_cast<size_t>(M * N), sentinel);
    HwaccDevice functional(HwaccParams{});
    HwaccDevice timing(HwaccParams{}, /*timingOnly=*/true);
    ASSERT_TRUE(timing.timingOnly());
    runTiledGemm(functional, A, B, bias.data(), cFunctional.data(), M, N, K,
                 opt);
    runTiledGemm(timing, A, B, bias.data(), cTiming.data(), M, N, K, opt);
    ASSERT_EQ(functional.error(), "");
    ASSERT_EQ(timing.error(), "");
    expectSameStats(functional.stats(), timing.stats());
    EXPECT_GT(timing.stats().totalCycles, 0);
    EXPECT_TRUE(std::all_of(cTiming.begin(), cTiming.end(),
                            [&](int32_t v) { return v == sentinel; }));
    EXPECT_FALSE(std::all_of(cFunctional.begin(), cFunctional.end(),
                             [&](int32_t v) { return v == sentinel; }));
  }
}

TEST(HwaccTimingOnly, ResetAndToggleStartAfresh) {
  HwaccDevice dev(HwaccParams{}, /*timingOnly=*/true);
  const int64_t dim = dev.params().dim;
  std::vector<float> A(static_cast<size_t>(dim * dim), 1.0f);
  std::vector<float> C(static_cast<size_t>(dim * dim), 0.0f);
  dev.mvin(A.data(), dim, 0, dim, dim);
  dev.compute(0, dim, dim); // invalid: no preload
  EXPECT_NE(dev.error(), "");
  dev.reset();
  EXPECT_EQ(dev.error(), "");
  EXPECT_EQ(dev.stats().totalCycles, 0);
  EXPECT_EQ(dev.stats().instructions, 0);

  dev.setTimingOnly(false);
  EXPECT_FALSE(dev.timingOnly());
  dev.mvin(A.data(), dim, 0, dim, dim);
  dev.preload(0, 0, dim, dim, 0);
  dev.compute(0, dim, dim);
  dev.mvout(C.data(), dim, 0, dim, dim);
  ASSERT_EQ(dev.error(), "");
  EXPECT_EQ(C[0], float(dim)); // a row of ones times a column of ones
}

//===----------------------------------------------------------------------===//
// 6. Invalid instructions and parameters
//===----------------------------------------------------------------------===//

struct InvalidCase {
  const char *name;
  std::function<void(HwaccDevice &, void *)> run;
  const char *message; // a substring of error()
};

TEST(HwaccInvalid, InstructionsAreSkippedAndTheFirstReported) {
  const HwaccParams p;
  const int64_t dim = p.dim, spRows = p.scratchpadRows(4);
  const int64_t accRows = p.accumulatorRows();
  const std::vector<InvalidCase> cases = {
      {"mvin zero rows",
       [&](HwaccDevice &d, void *m) { d.mvin(m, dim, 0, 0, dim); },
       "(mvin): rows = 0 is outside [1, 16]"},
      {"mvin too many cols",
       [&](HwaccDevice &d, void *m) { d.mvin(m, 2 * dim, 0, dim, dim + 1); },
       "cols = 17 is outside [1, 16]"},
      {"mvin past the scratchpad",
       [&](HwaccDevice &d, void *m) { d.mvin(m, dim, spRows - 4, dim, dim); },
       "scratchpad rows [4092, 4108) exceed the scratchpad (4096 rows)"},
      {"mvin negative row",
       [&](HwaccDevice &d, void *m) { d.mvin(m, dim, -1, dim, dim); },
       "scratchpad rows [-1, 15)"},
      {"mvin null DRAM",
       [&](HwaccDevice &d, void *) { d.mvin(nullptr, dim, 0, dim, dim); },
       "null DRAM pointer"},
      {"mvin overlapping rows",
       [&](HwaccDevice &d, void *m) { d.mvin(m, dim - 1, 0, dim, dim); },
       "stride 15 is smaller than cols 16"},
      {"mvin_acc past the accumulator",
       [&](HwaccDevice &d, void *m) {
         d.mvinAcc(m, dim, accRows - 1, 2, dim);
       },
       "accumulator rows [1023, 1025) exceed the accumulator (1024 rows)"},
      {"preload k too large",
       [&](HwaccDevice &d, void *) { d.preload(0, 0, dim + 1, dim, 0); },
       "(preload): k = 17 is outside"},
      {"preload past the scratchpad",
       [&](HwaccDevice &d, void *) { d.preload(spRows, 0, 1, dim, 0); },
       "(preload): scratchpad rows"},
      {"compute without preload",
       [&](HwaccDevice &d, void *) { d.compute(0, dim, dim); },
       "(compute): no preload"},
      {"compute with another k",
       [&](HwaccDevice &d, void *) {
         d.preload(0, 0, dim, dim, 0);
         d.compute(dim, dim, dim / 2);
       },
       "k = 8 differs from the preloaded k = 16"},
      {"compute past the accumulator",
       [&](HwaccDevice &d, void *) {
         d.preload(0, accRows - 4, dim, dim, 0);
         d.compute(dim, dim, dim);
       },
       "(compute): accumulator rows [1020, 1036)"},
      {"compute after an element-type change drops the weights",
       [&](HwaccDevice &d, void *) {
         d.preload(0, 0, dim, dim, 0);
         d.config(kWS, kI8, kOutAcc, 1.0f, 0);
         d.compute(dim, dim, dim);
       },
       "(compute): no preload"},
      {"mvout null DRAM",
       [&](HwaccDevice &d, void *) { d.mvout(nullptr, dim, 0, dim, dim); },
       "(mvout): null DRAM pointer"},
      {"mvout zero cols",
       [&](HwaccDevice &d, void *m) { d.mvout(m, dim, 0, dim, 0); },
       "(mvout): cols = 0"},
      {"config bad dataflow",
       [&](HwaccDevice &d, void *) { d.config(2, kF32, kOutAcc, 1.0f, 0); },
       "(config): dataflow must be 0 (OS) or 1 (WS), got 2"},
      {"config NaN scale",
       [&](HwaccDevice &d, void *) {
         d.config(kWS, kF32, kOutAcc, std::numeric_limits<float>::quiet_NaN(),
                  0);
       },
       "(config): scale must be finite"},
  };
  for (const InvalidCase &c : cases) {
    SCOPED_TRACE(c.name);
    HwaccDevice dev(p);
    const int32_t sentinel = 0x11223344;
    std::vector<int32_t> dram(static_cast<size_t>(4 * dim * dim), sentinel);
    c.run(dev, dram.data());
    EXPECT_NE(dev.error().find(c.message), std::string::npos)
        << "error() = " << dev.error();
    EXPECT_NE(dev.error().find("skipped"), std::string::npos);
    // Skipped: DRAM untouched, no DMA, no MACs.
    EXPECT_TRUE(std::all_of(dram.begin(), dram.end(),
                            [&](int32_t v) { return v == sentinel; }));
    EXPECT_EQ(dev.stats().dmaBytesIn, 0);
    EXPECT_EQ(dev.stats().dmaBytesOut, 0);
    EXPECT_EQ(dev.stats().macs, 0);
  }
}

TEST(HwaccInvalid, FirstErrorIsKeptAndValidInstructionsStillRun) {
  HwaccDevice dev(HwaccParams{});
  const int64_t dim = dev.params().dim;
  std::vector<float> A(static_cast<size_t>(dim * dim), 2.0f);
  std::vector<float> C(static_cast<size_t>(dim * dim), 0.0f);
  dev.mvin(A.data(), dim, 0, dim, dim);   // 1: valid
  dev.compute(0, dim, dim);               // 2: no preload
  dev.mvin(nullptr, dim, 0, dim, dim);    // 3: null pointer
  dev.preload(0, 0, dim, dim, 0);         // 4: valid
  dev.compute(0, dim, dim);               // 5: valid
  dev.mvout(C.data(), dim, 0, dim, dim);  // 6: valid
  EXPECT_EQ(dev.error().rfind("instruction 2 (compute): no preload", 0), 0u)
      << dev.error();
  EXPECT_EQ(dev.stats().instructions, 4);
  EXPECT_EQ(C[0], 4.0f * dim);
}

std::string fromJsonError(const nlohmann::json &json) {
  HwaccParams params;
  auto error = HwaccParams::fromJson(json, "configs/targets/x.json", params);
  return error ? *error : "";
}

nlohmann::json readTarget(const std::string &name) {
  std::ifstream in(std::string(HATC_HWACC_TARGETS_DIR) + "/" + name);
  EXPECT_TRUE(in.good()) << name;
  return nlohmann::json::parse(in);
}

TEST(HwaccParamsTest, ShippedTargetsParse) {
  HwaccParams p16, p32;
  EXPECT_EQ(HwaccParams::fromJson(readTarget("hwacc.json"), "hwacc.json", p16),
            std::nullopt);
  EXPECT_EQ(p16.dim, 16);
  EXPECT_EQ(p16.scratchpadBytes, 256 * 1024);
  EXPECT_EQ(p16.accumulatorBytes, 64 * 1024);
  EXPECT_EQ(p16.dmaBytesPerCycle, 16.0);
  EXPECT_EQ(p16.dmaLatencyCycles, 64);
  EXPECT_EQ(p16.clockGHz, 1.0);
  EXPECT_EQ(HwaccParams::fromJson(readTarget("hwacc-32x32.json"),
                                  "hwacc-32x32.json", p32),
            std::nullopt);
  EXPECT_EQ(p32.dim, 32);
  EXPECT_EQ(p32.scratchpadBytes, 1024 * 1024);
  EXPECT_EQ(p32.accumulatorBytes, 256 * 1024);
  EXPECT_EQ(p32.dmaBytesPerCycle, 32.0);
  EXPECT_EQ(p32.dmaLatencyCycles, 80);
  EXPECT_EQ(HwaccParams().validate(), std::nullopt);
}

TEST(HwaccParamsTest, ValidationMessagesNameFileFieldAndValue) {
  const nlohmann::json good = readTarget("hwacc.json");
  auto with = [&](const char *field, nlohmann::json value) {
    nlohmann::json j = good;
    j[field] = value;
    return j;
  };
  EXPECT_EQ(fromJsonError(with("array_dim", 12)),
            "configs/targets/x.json: \"array_dim\" must be a power of two in "
            "[2, 256], got 12");
  EXPECT_EQ(fromJsonError(with("array_dim", 512)),
            "configs/targets/x.json: \"array_dim\" must be a power of two in "
            "[2, 256], got 512");
  EXPECT_EQ(fromJsonError(with("array_dim", 0)),
            "configs/targets/x.json: \"array_dim\" must be positive, got 0");
  EXPECT_EQ(fromJsonError(with("array_dim", "16")),
            "configs/targets/x.json: \"array_dim\" must be an integer, got "
            "\"16\"");
  EXPECT_EQ(fromJsonError(with("array_dim", 16.5)),
            "configs/targets/x.json: \"array_dim\" must be an integer, got "
            "16.5");
  EXPECT_EQ(fromJsonError(with("dma_bytes_per_cycle", -4)),
            "configs/targets/x.json: \"dma_bytes_per_cycle\" must be "
            "positive, got -4");
  EXPECT_EQ(fromJsonError(with("clock_ghz", 0)),
            "configs/targets/x.json: \"clock_ghz\" must be positive, got 0");
  EXPECT_EQ(fromJsonError(with("dma_latency_cycles", -1)),
            "configs/targets/x.json: \"dma_latency_cycles\" must be "
            "non-negative, got -1");
  EXPECT_EQ(fromJsonError(with("dma_latency_cycles", 0)), "");
  EXPECT_EQ(fromJsonError(with("dma_bytes_per_cycle", 12.5)), "");

  nlohmann::json missing = good;
  missing.erase("scratchpad_kib");
  EXPECT_EQ(fromJsonError(missing),
            "configs/targets/x.json: missing field \"scratchpad_kib\"");
  EXPECT_EQ(fromJsonError(nlohmann::json::array()),
            "configs/targets/x.json: a target description is a JSON object");

  // 256 x 256 needs 4 f32 blocks of scratchpad and 2 of accumulator.
  nlohmann::json big = with("array_dim", 256);
  big["scratchpad_kib"] = 4 * 256 * 256 * 4 / 1024;
  EXPECT_EQ(fromJsonError(big),
            "configs/targets/x.json: \"accumulator_kib\" must hold at least 2 "
            "256 x 256 accumulator blocks (512 KiB), got 64");
  big["scratchpad_kib"] = 4 * 256 * 256 * 4 / 1024 - 1;
  EXPECT_NE(fromJsonError(big).find("\"scratchpad_kib\" must hold at least 4 "
                                    "256 x 256 f32 blocks (1024 KiB), got "
                                    "1023"),
            std::string::npos);
  EXPECT_NE(fromJsonError(with("scratchpad_kib", int64_t(1) << 40))
                .find("\"scratchpad_kib\" must be at most"),
            std::string::npos);

  // A failed parse leaves the output alone.
  HwaccParams untouched;
  untouched.dim = 8;
  EXPECT_TRUE(HwaccParams::fromJson(with("array_dim", 12), "x", untouched));
  EXPECT_EQ(untouched.dim, 8);
}

TEST(HwaccParamsTest, DeviceWithInvalidParamsRunsNothing) {
  HwaccParams bad;
  bad.dim = 12;
  HwaccDevice dev(bad);
  EXPECT_NE(dev.error().find("\"array_dim\" must be a power of two"),
            std::string::npos);
  std::vector<float> A(16 * 16);
  dev.mvin(A.data(), 12, 0, 12, 12);
  dev.fence();
  EXPECT_EQ(dev.stats().instructions, 0);
  EXPECT_EQ(dev.stats().totalCycles, 0);
}

//===----------------------------------------------------------------------===//
// 7. The C ABI
//===----------------------------------------------------------------------===//

TEST(HwaccAbi, CallsDriveTheCurrentDevice) {
  HwaccDevice dev(HwaccParams{});
  const int64_t dim = dev.params().dim;
  setCurrentHwaccDevice(&dev);
  EXPECT_EQ(currentHwaccDevice(), &dev);
  // Other threads have their own (no) current device.
  HwaccDevice *seenByOtherThread = &dev;
  std::thread([&] { seenByOtherThread = currentHwaccDevice(); }).join();
  EXPECT_EQ(seenByOtherThread, nullptr);

  std::mt19937 rng(17);
  const int64_t M = 20, N = 24, K = 9; // edge blocks in M and N
  auto A = randomI8(rng, M * K);
  auto B = randomI8(rng, K * N);
  std::vector<int32_t> bias(static_cast<size_t>(M * N), 1000);
  std::vector<int32_t> C(static_cast<size_t>(M * N));
  int64_t calls = 0;
  hatc_hwacc_config(kWS, kI8, kOutAcc, 1.0f, 0), ++calls;
  hatc_hwacc_mvin(B.data(), N, 0, K, dim), ++calls;        // B[:, 0:16]
  hatc_hwacc_mvin(B.data() + dim, N, dim, K, N - dim), ++calls;
  for (int64_t m0 = 0; m0 < M; m0 += dim) {
    int64_t mr = std::min(dim, M - m0);
    hatc_hwacc_mvin(&A[m0 * K], K, 2 * dim, mr, K), ++calls;
    for (int64_t nb = 0; nb < 2; ++nb) {
      int64_t nr = nb == 0 ? dim : N - dim;
      int64_t accRow = nb * dim;
      hatc_hwacc_mvin_acc(&bias[m0 * N + nb * dim], N, accRow, mr, nr),
          ++calls;
      hatc_hwacc_preload(nb * dim, accRow, K, nr, 1), ++calls;
      hatc_hwacc_compute(2 * dim, mr, K), ++calls;
      hatc_hwacc_mvout(&C[m0 * N + nb * dim], N, accRow, mr, nr), ++calls;
    }
  }
  hatc_hwacc_fence(), ++calls;
  setCurrentHwaccDevice(nullptr);
  EXPECT_EQ(currentHwaccDevice(), nullptr);

  ASSERT_EQ(dev.error(), "");
  EXPECT_EQ(dev.stats().instructions, calls);
  EXPECT_GT(dev.stats().totalCycles, 0);
  EXPECT_EQ(dev.stats().macs, M * N * K);
  auto ref = referenceI32Sums(A, B, &bias, M, N, K);
  for (size_t i = 0; i < C.size(); ++i)
    ASSERT_EQ(C[i], ref[i]) << "at " << i;
}

/// C = A * B (f32, M x K times K x N, all <= 16) through the C ABI alone,
/// as a C program would call it; returns C.
std::vector<float> abiMatmul(const std::vector<float> &A,
                             const std::vector<float> &B, int64_t M,
                             int64_t N, int64_t K) {
  std::vector<float> C(static_cast<size_t>(M * N), -1.0f);
  hatc_hwacc_config(kWS, kF32, kOutAcc, 1.0f, 0);
  hatc_hwacc_mvin(B.data(), N, /*sp_row=*/0, K, N);
  hatc_hwacc_mvin(A.data(), K, /*sp_row=*/16, M, K);
  hatc_hwacc_preload(/*sp_row=*/0, /*acc_row=*/0, K, N, /*accumulate=*/0);
  hatc_hwacc_compute(/*sp_row=*/16, M, K);
  hatc_hwacc_mvout(C.data(), N, /*acc_row=*/0, M, N);
  hatc_hwacc_fence();
  return C;
}

TEST(HwaccAbi, AThreadWithoutADeviceGetsADefaultOne) {
  // A fresh thread has no current device: a plain C caller.
  std::thread([] {
    ASSERT_EQ(currentHwaccDevice(), nullptr);
    const int64_t M = 4, N = 5, K = 3;
    std::vector<float> A(M * K), B(K * N);
    for (size_t i = 0; i < A.size(); ++i)
      A[i] = float(i % 7) - 3;
    for (size_t i = 0; i < B.size(); ++i)
      B[i] = float(i % 5) * 0.5f;
    std::vector<float> C = abiMatmul(A, B, M, N, K);
    ASSERT_NE(currentHwaccDevice(), nullptr);
    EXPECT_EQ(currentHwaccDevice()->params().dim, HwaccParams().dim);
    EXPECT_STREQ(hatc_hwacc_device_error(), "");
    EXPECT_EQ(hatc_hwacc_cycles(), currentHwaccDevice()->stats().totalCycles);
    EXPECT_GT(hatc_hwacc_cycles(), 0);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float ref = 0;
        for (int64_t p = 0; p < K; ++p)
          ref += A[i * K + p] * B[p * N + j];
        EXPECT_EQ(C[i * N + j], ref) << "at " << i << "," << j;
      }
    hatc_hwacc_destroy_device();
    EXPECT_EQ(currentHwaccDevice(), nullptr);
  }).join();
}

TEST(HwaccAbi, CreateDeviceReadsATargetDescription) {
  std::thread([] {
    ASSERT_EQ(hatc_hwacc_create_device(HATC_HWACC_TARGETS_DIR
                                       "/hwacc-32x32.json"),
              0);
    EXPECT_STREQ(hatc_hwacc_last_error(), "");
    ASSERT_NE(currentHwaccDevice(), nullptr);
    EXPECT_EQ(currentHwaccDevice()->params().dim, 32);

    // A bad file: one message naming it, and the device stays as it was.
    EXPECT_EQ(hatc_hwacc_create_device("/nonexistent/target.json"), -1);
    EXPECT_STREQ(hatc_hwacc_last_error(), "/nonexistent/target.json: cannot "
                                          "read the target description");
    EXPECT_EQ(currentHwaccDevice()->params().dim, 32);

    // An invalid instruction is reported, not fatal.
    hatc_hwacc_compute(0, 1, 1); // no weights latched
    EXPECT_STRNE(hatc_hwacc_device_error(), "");
    hatc_hwacc_destroy_device();
    EXPECT_EQ(currentHwaccDevice(), nullptr);
  }).join();
}

TEST(HwaccAbi, DestroyLeavesAnotherCurrentDeviceAlone) {
  std::thread([] {
    HwaccDevice dev(HwaccParams{});
    setCurrentHwaccDevice(&dev);
    hatc_hwacc_destroy_device(); // made nothing here: no effect
    EXPECT_EQ(currentHwaccDevice(), &dev);
    hatc_hwacc_fence();
    EXPECT_EQ(dev.stats().instructions, 1);
    setCurrentHwaccDevice(nullptr);
  }).join();
}

} // namespace

TEST(HwaccTiming, HostWorkIsTimedAndAddedAfterTheDevice) {
  HwaccParams p;
  HwaccDevice dev(p, /*timingOnly=*/true);
  std::vector<float> dram(static_cast<size_t>(p.dim * p.dim));
  dev.mvin(dram.data(), p.dim, 0, p.dim, p.dim);
  const int64_t cycles = dev.stats().totalCycles;
  dev.hostBegin(); // waits for the device, then times the host
  auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start <
         std::chrono::milliseconds(2)) {
  }
  dev.hostEnd();
  dev.hostEnd(); // unmatched: ignored
  EXPECT_EQ(dev.stats().totalCycles, cycles); // the device's time is its own
  EXPECT_GE(dev.stats().hostSeconds, 0.002);
  EXPECT_LT(dev.stats().hostSeconds, 1.0);
  EXPECT_DOUBLE_EQ(dev.stats().totalSeconds(p.clockGHz),
                   dev.stats().seconds(p.clockGHz) + dev.stats().hostSeconds);
  EXPECT_EQ(dev.stats().toJson(p.dim, p.clockGHz).at("host_s"),
            dev.stats().hostSeconds);
  dev.reset();
  EXPECT_EQ(dev.stats().hostSeconds, 0);
}

// A schedule is ranked by the device's time plus the GEMMs it kept on the
// host; the host work every schedule does alike (an im2col copy) is
// measured, but left out of that figure, so it stays the device's cycles
// however long the host took.
TEST(HwaccTiming, ScheduleTimeLeavesSharedHostWorkOut) {
  HwaccParams p;
  p.clockGHz = 2.0;
  HwaccDevice dev(p, /*timingOnly=*/true);
  std::vector<float> dram(static_cast<size_t>(p.dim * p.dim));
  auto busy = [](std::chrono::milliseconds how) {
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < how) {
    }
  };
  dev.mvin(dram.data(), p.dim, 0, p.dim, p.dim);
  const int64_t cycles = dev.stats().totalCycles;
  ASSERT_GT(cycles, 0);
  dev.hostBegin(); // shared: an im2col
  busy(std::chrono::milliseconds(2));
  dev.hostEnd();
  const HwaccStats &stats = dev.stats();
  EXPECT_GE(stats.hostSeconds, 0.002);
  EXPECT_EQ(stats.keptHostSeconds, 0);
  EXPECT_EQ(stats.scheduleCycles(p.clockGHz), cycles);
  EXPECT_DOUBLE_EQ(stats.scheduleSeconds(p.clockGHz),
                   stats.seconds(p.clockGHz));
  EXPECT_GE(stats.workloadCycles(p.clockGHz), cycles + 4'000'000);

  dev.hostBegin(HwaccDevice::HostWork::Kept); // a GEMM kept on the host
  busy(std::chrono::milliseconds(3));
  dev.hostEnd();
  EXPECT_GE(stats.keptHostSeconds, 0.003);
  EXPECT_GE(stats.hostSeconds, 0.005);
  EXPECT_LT(stats.keptHostSeconds, stats.hostSeconds);
  EXPECT_DOUBLE_EQ(stats.scheduleSeconds(p.clockGHz),
                   stats.seconds(p.clockGHz) + stats.keptHostSeconds);
  EXPECT_EQ(stats.scheduleCycles(p.clockGHz),
            cycles + std::llround(stats.keptHostSeconds * 2e9));
  EXPECT_EQ(stats.toJson(p.dim, p.clockGHz).at("kept_host_s"),
            stats.keptHostSeconds);

  // Through the ABI, as compiled kernels call it.
  dev.reset();
  setCurrentHwaccDevice(&dev);
  hatc_hwacc_host_kept_begin();
  busy(std::chrono::milliseconds(1));
  hatc_hwacc_host_end();
  hatc_hwacc_host_begin();
  busy(std::chrono::milliseconds(1));
  hatc_hwacc_host_end();
  setCurrentHwaccDevice(nullptr);
  EXPECT_GE(dev.stats().keptHostSeconds, 0.001);
  EXPECT_GT(dev.stats().hostSeconds, dev.stats().keptHostSeconds);
  dev.reset();
  EXPECT_EQ(dev.stats().keptHostSeconds, 0);
}
