//===- peak_fma.cpp - This machine's f32 FMA peak, measured ---------------===//
//
// hatc-bench-peak [THREADS]: runs independent FMA chains (enough to hide the
// FMA latency on two FMA ports) on THREADS threads, on the widest vectors the
// build targets (AVX-512, else AVX2), and prints {"threads", "gflops",
// "lanes"}: the ceiling the kernels are compared to.
//
// Each chain starts from its own value, known only at run time: chains that
// start equal compute the same numbers, and the compiler folds them into one
// (an earlier version did, and reported 1.5x the real peak).
// tests/lit/cpu/peak-fma.test checks the loop keeps every chain.
//
//===----------------------------------------------------------------------===//
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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

constexpr int kChains = 12; // FMA latency 4 x 2 ports, with margin

inline float total(Vec v) {
  float lanes[kLanes];
  store(lanes, v);
  float sum = 0;
  for (float lane : lanes)
    sum += lane;
  return sum;
}

/// kChains independent FMA chains, written out so they stay in registers.
/// `start` is a run-time value, so no two chains can be proven equal.
double chainFlops(long iterations, float start, float *result) {
  Vec b = splat(0.999999f), a = splat(1e-6f);
  Vec x0 = splat(start), x1 = splat(start * 2), x2 = splat(start * 3),
      x3 = splat(start * 4), x4 = splat(start * 5), x5 = splat(start * 6),
      x6 = splat(start * 7), x7 = splat(start * 8), x8 = splat(start * 9),
      x9 = splat(start * 10), x10 = splat(start * 11),
      x11 = splat(start * 12);
  for (long it = 0; it < iterations; ++it) {
    x0 = fma(x0, b, a);
    x1 = fma(x1, b, a);
    x2 = fma(x2, b, a);
    x3 = fma(x3, b, a);
    x4 = fma(x4, b, a);
    x5 = fma(x5, b, a);
    x6 = fma(x6, b, a);
    x7 = fma(x7, b, a);
    x8 = fma(x8, b, a);
    x9 = fma(x9, b, a);
    x10 = fma(x10, b, a);
    x11 = fma(x11, b, a);
  }
  *result = total(x0) + total(x1) + total(x2) + total(x3) + total(x4) +
            total(x5) + total(x6) + total(x7) + total(x8) + total(x9) +
            total(x10) + total(x11);
  return 2.0 * kLanes * kChains * double(iterations);
}

} // namespace

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  if (threads < 1)
    threads = 1;
  long iterations = 50000000;
  // A value the compiler cannot see: the chains' starting points.
  float start = 1e-3f * float(argc);
  float sink = 0;
  chainFlops(iterations / 10, start, &sink); // warm up (clocks)
  auto begin = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  std::vector<double> flops(threads);
  std::vector<float> results(threads);
  for (int t = 0; t < threads; ++t)
    pool.emplace_back(
        [&, t] { flops[t] = chainFlops(iterations, start, &results[t]); });
  for (auto &th : pool)
    th.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin)
          .count();
  double sum = 0;
  for (double f : flops)
    sum += f;
  for (float r : results)
    sink += r;
  // Printed (to stderr) so the results are used and no chain is dead code.
  std::fprintf(stderr, "checksum %g\n", double(sink));
  std::printf("{\"impl\":\"fma-peak\",\"threads\":%d,\"lanes\":%d,"
              "\"gflops\":%.1f}\n",
              threads, kLanes, sum / seconds / 1e9);
  return 0;
}
