//===- peak_fma.cpp - This machine's f32 FMA peak, measured ---------------===//
//
// hatc-bench-peak [THREADS]: runs independent AVX-512 FMA chains (enough to
// hide the FMA latency) on THREADS threads, and prints {"threads", "gflops"}: the ceiling the kernels are
// compared to.
//
//===----------------------------------------------------------------------===//
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

/// 12 independent FMA chains on zmm registers (FMA latency 4 x 2 ports,
/// with margin), written out so they stay in registers.
double chainFlops(long iterations) {
  __m512 b = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-6f);
  __m512 x0 = a, x1 = a, x2 = a, x3 = a, x4 = a, x5 = a, x6 = a, x7 = a,
         x8 = a, x9 = a, x10 = a, x11 = a;
  for (long it = 0; it < iterations; ++it) {
    x0 = _mm512_fmadd_ps(x0, b, a);
    x1 = _mm512_fmadd_ps(x1, b, a);
    x2 = _mm512_fmadd_ps(x2, b, a);
    x3 = _mm512_fmadd_ps(x3, b, a);
    x4 = _mm512_fmadd_ps(x4, b, a);
    x5 = _mm512_fmadd_ps(x5, b, a);
    x6 = _mm512_fmadd_ps(x6, b, a);
    x7 = _mm512_fmadd_ps(x7, b, a);
    x8 = _mm512_fmadd_ps(x8, b, a);
    x9 = _mm512_fmadd_ps(x9, b, a);
    x10 = _mm512_fmadd_ps(x10, b, a);
    x11 = _mm512_fmadd_ps(x11, b, a);
  }
  __m512 sum = _mm512_add_ps(
      _mm512_add_ps(_mm512_add_ps(x0, x1), _mm512_add_ps(x2, x3)),
      _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(x4, x5), _mm512_add_ps(x6, x7)),
                    _mm512_add_ps(_mm512_add_ps(x8, x9), _mm512_add_ps(x10, x11))));
  volatile float sink = _mm512_reduce_add_ps(sum);
  (void)sink;
  return 2.0 * 16 * 12 * double(iterations);
}

} // namespace

int main(int argc, char **argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  long iterations = 200000000 / threads > 0 ? 50000000 : 1;
  chainFlops(iterations / 10); // warm up (clocks)
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  std::vector<double> flops(threads);
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { flops[t] = chainFlops(iterations); });
  for (auto &th : pool)
    th.join();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  double total = 0;
  for (double f : flops)
    total += f;
  std::printf("{\"impl\":\"fma-peak\",\"threads\":%d,\"gflops\":%.1f}\n",
              threads, total / seconds / 1e9);
  return 0;
}
