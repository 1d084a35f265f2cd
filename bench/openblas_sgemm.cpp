//===- openblas_sgemm.cpp - OpenBLAS sgemm timed like hatc run ------------===//
//
// hatc-bench-sgemm M N K THREADS [REPEAT] [BATCH] prints one JSON object with
// the median time and GFLOP/s of cblas_sgemm (C = A * B, row-major; BATCH
// independent products in a loop, as a batch matmul) on inputs from the
// same RNG as hatc run, after one warm-up call.
//
//===----------------------------------------------------------------------===//
#include "TimeCall.h"
#include "hatc/Runtime/Buffer.h"

#include <cblas.h>
#include <cstdio>
#include <cstdlib>

extern "C" void openblas_set_num_threads(int);

int main(int argc, char **argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s M N K THREADS [REPEAT]\n", argv[0]);
    return 1;
  }
  int m = std::atoi(argv[1]), n = std::atoi(argv[2]), k = std::atoi(argv[3]);
  int threads = std::atoi(argv[4]);
  int repeat = argc > 5 ? std::atoi(argv[5]) : 10;
  int batch = argc > 6 ? std::atoi(argv[6]) : 1;
  if (m <= 0 || n <= 0 || k <= 0 || threads <= 0 || repeat <= 0 ||
      batch <= 0) {
    std::fprintf(stderr, "%s: sizes, threads and repeat must be positive\n",
                 argv[0]);
    return 1;
  }
  openblas_set_num_threads(threads);
  hatc::HostBuffer a({hatc::ElemKind::F32, {batch, m, k}}),
      b({hatc::ElemKind::F32, {batch, k, n}}),
      c({hatc::ElemKind::F32, {batch, m, n}});
  a.fillRandom(0);
  b.fillRandom(1);
  auto call = [&] {
    for (int i = 0; i < batch; ++i)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
                  static_cast<float *>(a.data()) + size_t(i) * m * k, k,
                  static_cast<float *>(b.data()) + size_t(i) * k * n, n, 0.0f,
                  static_cast<float *>(c.data()) + size_t(i) * m * n, n);
  };
  hatc::TimingStats stats = hatc::bench::timeCall(call, repeat);
  double gflops = 2.0 * batch * m * n * k / stats.median / 1e9;
  std::printf("{\"impl\":\"openblas\",\"threads\":%d,\"median_s\":%.9g,"
              "\"cv\":%.4g,\"gflops\":%.6g}\n",
              threads, stats.median, stats.cv, gflops);
  return 0;
}
