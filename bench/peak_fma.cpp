//===- peak_fma.cpp - This machine's arithmetic peaks, measured -----------===//
//
// hatc-bench-peak [THREADS] [f32|int8|bf16]: runs independent multiply-add
// chains (enough to hide the latency on two ports) on THREADS threads and
// prints one JSON object, the ceiling the kernels are compared to (the best
// of 20 short runs):
//   f32   vfmadd on the widest vectors the build targets (AVX-512, else
//         AVX2): {"impl":"fma-peak","threads","lanes","gflops"}
//   int8  AVX-512 VNNI vpdpbusd (u8 x s8, 4 products summed into each i32
//         lane: 128 integer ops per instruction):
//         {"impl":"vnni-peak","threads","lanes","gops"}
//   bf16  AVX-512 BF16 vdpbf16ps (2 bf16 products summed into each f32
//         lane: 64 flops per instruction):
//         {"impl":"bf16-peak","threads","lanes","gflops"}
//   amx-int8, amx-bf16  Intel AMX tile products, tdpbssd (16x16 i32 tile
//         += 16x64 s8 x 64x16 s8: 32768 integer ops) and tdpbf16ps (16x16
//         f32 += 16x32 bf16 x 32x16 bf16: 16384 flops), on 4 independent
//         accumulator tiles: {"impl":"amx-int8-peak"|"amx-bf16-peak",...}
// int8, bf16 and AMX are looked up at run time (cpuid); a CPU without them gets
// {"impl":..., "threads", "supported":false} and exit status 0, so tables
// can print n/a.
//
// Each chain starts from its own value, known only at run time: chains that
// start equal compute the same numbers, and the compiler folds them into one
// (an earlier version did, and reported 1.5x the real peak).
// tests/lit/cpu/peak-fma.test checks the loops keep every chain.
//
//===----------------------------------------------------------------------===//
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
inline Vec splat(float v) { return _mm512_set1_ps(v); }
inline Vec fma(Vec x, Vec b, Vec a) { return _mm512_fmadd_ps(x, b, a); }
inline void store(float *to, Vec v) { _mm512_storeu_ps(to, v); }
#elif defined(__AVX2__) && defined(__FMA__)
using Vec = __m256;
constexpr int kLanes = 8;
inline Vec splat(float v) { return _mm256_set1_ps(v); }
inline Vec fma(Vec x, Vec b, Vec a) { return _mm256_fmadd_ps(x, b, a); }
inline void store(float *to, Vec v) { _mm256_storeu_ps(to, v); }
#else
#error "hatc-bench-peak needs AVX2 with FMA or AVX-512"
#endif

constexpr int kChains = 12; // latency 4-6 x 2 ports, with margin

// The 12 chains written out, so they stay in registers: STEP(x0) ... .
#define HATC_CHAINS(STEP)                                                      \
  STEP(x0) STEP(x1) STEP(x2) STEP(x3) STEP(x4) STEP(x5) STEP(x6) STEP(x7)      \
      STEP(x8) STEP(x9) STEP(x10) STEP(x11)

inline float total(Vec v) {
  float lanes[kLanes];
  store(lanes, v);
  float sum = 0;
  for (float lane : lanes)
    sum += lane;
  return sum;
}

/// kChains independent FMA chains. `start` is a run-time value, so no two
/// chains can be proven equal.
double chainFlops(long iterations, float start, double *result) {
  Vec b = splat(0.999999f), a = splat(1e-6f);
  Vec x0 = splat(start), x1 = splat(start * 2), x2 = splat(start * 3),
      x3 = splat(start * 4), x4 = splat(start * 5), x5 = splat(start * 6),
      x6 = splat(start * 7), x7 = splat(start * 8), x8 = splat(start * 9),
      x9 = splat(start * 10), x10 = splat(start * 11),
      x11 = splat(start * 12);
  for (long it = 0; it < iterations; ++it) {
#define STEP(x) x = fma(x, b, a);
    HATC_CHAINS(STEP)
#undef STEP
  }
  double sum = 0;
#define STEP(x) sum += total(x);
  HATC_CHAINS(STEP)
#undef STEP
  *result = sum;
  return 2.0 * kLanes * kChains * double(iterations);
}

// The low-precision kernels are compiled for their ISA whatever the build
// targets and only called when cpuid says the CPU has it.
#define HATC_VNNI __attribute__((target("avx512f,avx512vnni")))
#define HATC_BF16 __attribute__((target("avx512f,avx512bf16")))

HATC_VNNI double totalI32(__m512i v) {
  int lanes[16];
  _mm512_storeu_si512(lanes, v);
  double sum = 0;
  for (int lane : lanes)
    sum += lane;
  return sum;
}

/// kChains independent vpdpbusd chains: x += u8(a) . s8(b), 4 bytes per
/// lane. Each chain starts from its own run-time value.
HATC_VNNI double chainVnni(long iterations, float start, double *result) {
  int s = int(start * 1000);
  __m512i a = _mm512_set1_epi8(1), b = _mm512_set1_epi8(1);
  __m512i x0 = _mm512_set1_epi32(s), x1 = _mm512_set1_epi32(s * 2),
          x2 = _mm512_set1_epi32(s * 3), x3 = _mm512_set1_epi32(s * 4),
          x4 = _mm512_set1_epi32(s * 5), x5 = _mm512_set1_epi32(s * 6),
          x6 = _mm512_set1_epi32(s * 7), x7 = _mm512_set1_epi32(s * 8),
          x8 = _mm512_set1_epi32(s * 9), x9 = _mm512_set1_epi32(s * 10),
          x10 = _mm512_set1_epi32(s * 11), x11 = _mm512_set1_epi32(s * 12);
  for (long it = 0; it < iterations; ++it) {
#define STEP(x) x = _mm512_dpbusd_epi32(x, a, b);
    HATC_CHAINS(STEP)
#undef STEP
  }
  double sum = 0;
#define STEP(x) sum += totalI32(x);
  HATC_CHAINS(STEP)
#undef STEP
  *result = sum;
  return 2.0 * 4 * 16 * kChains * double(iterations);
}

HATC_BF16 double totalF32(__m512 v) {
  float lanes[16];
  _mm512_storeu_ps(lanes, v);
  double sum = 0;
  for (float lane : lanes)
    sum += lane;
  return sum;
}

/// kChains independent vdpbf16ps chains: x += a0*b0 + a1*b1 per f32 lane.
HATC_BF16 double chainBf16(long iterations, float start, double *result) {
  __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f),
                                   _mm512_set1_ps(1e-3f));
  __m512bh b = a;
  __m512 x0 = _mm512_set1_ps(start), x1 = _mm512_set1_ps(start * 2),
         x2 = _mm512_set1_ps(start * 3), x3 = _mm512_set1_ps(start * 4),
         x4 = _mm512_set1_ps(start * 5), x5 = _mm512_set1_ps(start * 6),
         x6 = _mm512_set1_ps(start * 7), x7 = _mm512_set1_ps(start * 8),
         x8 = _mm512_set1_ps(start * 9), x9 = _mm512_set1_ps(start * 10),
         x10 = _mm512_set1_ps(start * 11), x11 = _mm512_set1_ps(start * 12);
  for (long it = 0; it < iterations; ++it) {
#define STEP(x) x = _mm512_dpbf16_ps(x, a, b);
    HATC_CHAINS(STEP)
#undef STEP
  }
  double sum = 0;
#define STEP(x) sum += totalF32(x);
  HATC_CHAINS(STEP)
#undef STEP
  *result = sum;
  return 2.0 * 2 * 16 * kChains * double(iterations);
}

// AMX: 4 accumulator tiles (tmm0-3), 4 operand tiles (tmm4-7), each 16
// rows of 64 bytes. Linux grants the tile state on request (main does).
#define HATC_AMX __attribute__((target("amx-tile,amx-int8,amx-bf16")))

struct TileConfig {
  unsigned char palette, startRow, reserved[14];
  unsigned short bytesPerRow[16];
  unsigned char rows[16];
};
static_assert(sizeof(TileConfig) == 64, "the 64-byte tile configuration");

/// Configures 8 tiles of 16 x 64 bytes and loads the operand tiles from
/// values known only at run time.
HATC_AMX void loadAmxOperands(float start) {
  alignas(64) TileConfig config;
  std::memset(&config, 0, sizeof config);
  config.palette = 1;
  for (int t = 0; t < 8; ++t)
    config.bytesPerRow[t] = 64, config.rows[t] = 16;
  // GCC 12 does not see ldtilecfg read the whole configuration and drops
  // the zeroing of the unused tiles' fields (a #GP at run time).
  asm volatile("" : : "r"(&config) : "memory");
  _tile_loadconfig(&config);
  alignas(64) unsigned char data[4][16 * 64];
  int s = int(start * 1000);
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 16 * 64; ++i)
      data[t][i] = (unsigned char)((s + t + i) & 3);
  _tile_loadd(4, data[0], 64);
  _tile_loadd(5, data[1], 64);
  _tile_loadd(6, data[2], 64);
  _tile_loadd(7, data[3], 64);
  _tile_zero(0);
  _tile_zero(1);
  _tile_zero(2);
  _tile_zero(3);
}

/// Sums the accumulator tiles (as 32-bit lanes read by `lane`), then
/// releases the tile state.
template <typename Lane>
HATC_AMX double storeAmxAccumulators(Lane lane) {
  alignas(64) unsigned char out[4][16 * 64];
  _tile_stored(0, out[0], 64);
  _tile_stored(1, out[1], 64);
  _tile_stored(2, out[2], 64);
  _tile_stored(3, out[3], 64);
  _tile_release();
  double sum = 0;
  for (auto &tile : out)
    for (int i = 0; i < 16 * 16; ++i)
      sum += lane(tile + 4 * i);
  return sum;
}

HATC_AMX double chainAmxInt8(long iterations, float start, double *result) {
  loadAmxOperands(start);
  for (long it = 0; it < iterations; ++it) {
    _tile_dpbssd(0, 4, 5);
    _tile_dpbssd(1, 4, 6);
    _tile_dpbssd(2, 7, 5);
    _tile_dpbssd(3, 7, 6);
  }
  *result = storeAmxAccumulators([](const unsigned char *p) {
    int v;
    std::memcpy(&v, p, 4);
    return double(v);
  });
  return 2.0 * 16 * 16 * 64 * 4 * double(iterations);
}

HATC_AMX double chainAmxBf16(long iterations, float start, double *result) {
  loadAmxOperands(start);
  for (long it = 0; it < iterations; ++it) {
    _tile_dpbf16ps(0, 4, 5);
    _tile_dpbf16ps(1, 4, 6);
    _tile_dpbf16ps(2, 7, 5);
    _tile_dpbf16ps(3, 7, 6);
  }
  *result = storeAmxAccumulators([](const unsigned char *p) {
    float v;
    std::memcpy(&v, p, 4);
    return double(v);
  });
  return 2.0 * 16 * 16 * 32 * 4 * double(iterations);
}

/// Whether the CPU has AMX tiles with `extension` and Linux grants them to
/// this process.
bool amxGranted(bool extension) {
  constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
  return __builtin_cpu_supports("amx-tile") && extension &&
         syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
}

struct Kind {
  const char *name, *impl, *unit;
  int lanes;
  double (*chains)(long, float, double *);
  bool (*supported)();
  /// Iterations relative to the FMA chains' (an AMX step is ~64 cycles).
  long divisor = 1;
};

const Kind kKinds[] = {
    {"f32", "fma-peak", "gflops", kLanes, chainFlops, [] { return true; }},
    {"int8", "vnni-peak", "gops", 16, chainVnni,
     [] {
       return __builtin_cpu_supports("avx512f") &&
              __builtin_cpu_supports("avx512vnni");
     }},
    {"bf16", "bf16-peak", "gflops", 16, chainBf16,
     [] {
       return __builtin_cpu_supports("avx512f") &&
              __builtin_cpu_supports("avx512bf16");
     }},
    {"amx-int8", "amx-int8-peak", "gops", 256, chainAmxInt8,
     [] { return amxGranted(__builtin_cpu_supports("amx-int8")); }, 16},
    {"amx-bf16", "amx-bf16-peak", "gflops", 256, chainAmxBf16,
     [] { return amxGranted(__builtin_cpu_supports("amx-bf16")); }, 16},
};

} // namespace

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  if (threads < 1)
    threads = 1;
  const char *kindName = argc > 2 ? argv[2] : "f32";
  const Kind *kind = nullptr;
  for (const Kind &k : kKinds)
    if (std::strcmp(kindName, k.name) == 0)
      kind = &k;
  if (!kind) {
    std::fprintf(stderr,
                 "%s: unknown kind '%s' (f32, int8, bf16, amx-int8 or "
                 "amx-bf16)\n",
                 argv[0], kindName);
    return 1;
  }
  __builtin_cpu_init();
  if (!kind->supported()) {
    std::fprintf(stderr, "%s: this CPU has no %s dot-product instructions\n",
                 argv[0], kind->name);
    std::printf("{\"impl\":\"%s\",\"threads\":%d,\"supported\":false}\n",
                kind->impl, threads);
    return 0;
  }
  // The best of several short runs: other work on the machine only ever
  // slows a run down, so the fastest is the closest to the ceiling.
  constexpr int kRuns = 20;
  long iterations = 5000000 / kind->divisor;
  // A value the compiler cannot see: the chains' starting points.
  float start = 1e-3f * float(argc);
  double sink = 0;
  kind->chains(iterations / 2, start, &sink); // warm up (clocks)
  double best = 0;
  for (int run = 0; run < kRuns; ++run) {
    auto begin = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    std::vector<double> ops(threads), results(threads);
    for (int t = 0; t < threads; ++t)
      pool.emplace_back(
          [&, t] { ops[t] = kind->chains(iterations, start, &results[t]); });
    for (auto &th : pool)
      th.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin)
            .count();
    double sum = 0;
    for (double o : ops)
      sum += o;
    for (double r : results)
      sink += r;
    best = std::max(best, sum / seconds / 1e9);
  }
  // Printed (to stderr) so the results are used and no chain is dead code.
  std::fprintf(stderr, "checksum %g\n", sink);
  std::printf("{\"impl\":\"%s\",\"threads\":%d,\"lanes\":%d,\"%s\":%.1f}\n",
              kind->impl, threads, kind->lanes, kind->unit, best);
  return 0;
}
