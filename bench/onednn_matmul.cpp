//===- onednn_matmul.cpp - oneDNN's matmul, timed like hatc run -----------===//
//
// hatc-bench-onednn-matmul M N K THREADS [REPEAT] [TYPE] [user|any]: C = A * B
// with A MxK and B KxN row-major, through oneDNN's matmul primitive; prints
// one JSON object with the median time and G(FL)OP/s (2*M*N*K operations per
// call, integer operations for the int8 types).
//
// TYPE:
//   f32   f32 x f32 -> f32 (default)
//   s8    s8 x s8 -> s32: the same types as hatc's i8 x i8 -> i32 matmul
//   u8    u8 x s8 -> s32: what vpdpbusd multiplies natively; oneDNN runs
//         s8 x s8 through it with a +128 shift of A and a compensation term
//   bf16  bf16 x bf16 -> f32
// Layout "user" (default) times B as given, row-major, as hatc gets it;
// "any" lets oneDNN choose B's layout and reorders B once, outside timing
// (its prepacked-weights case). A and C are row-major either way.
//
//===----------------------------------------------------------------------===//
#include "OneDnnTypes.h"
#include "TimeCall.h"

#include <dnnl.hpp>
#include <omp.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>


int main(int argc, char **argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: %s M N K THREADS [REPEAT] [f32|s8|u8|bf16] "
                 "[user|any]\n",
                 argv[0]);
    return 1;
  }
  long m = std::atol(argv[1]), n = std::atol(argv[2]), k = std::atol(argv[3]);
  int threads = std::atoi(argv[4]);
  int repeat = argc > 5 ? std::atoi(argv[5]) : 20;
  std::string typeName = argc > 6 ? argv[6] : "f32";
  std::string layout = argc > 7 ? argv[7] : "user";
  if (m <= 0 || n <= 0 || k <= 0 || threads <= 0 || repeat <= 0) {
    std::fprintf(stderr, "%s: sizes, threads and repeat must be positive\n",
                 argv[0]);
    return 1;
  }
  const hatc::bench::OneDnnType *type = hatc::bench::oneDnnType(typeName);
  if (!type) {
    std::fprintf(stderr, "%s: unknown TYPE '%s' (f32, s8, u8 or bf16)\n",
                 argv[0], typeName.c_str());
    return 1;
  }
  if (layout != "user" && layout != "any") {
    std::fprintf(stderr, "%s: unknown layout '%s' (user or any)\n", argv[0],
                 layout.c_str());
    return 1;
  }
  // oneDNN runs on OpenMP here; OMP_NUM_THREADS is read when the runtime
  // loads, before main, so set the count through the API.
  omp_set_num_threads(threads);

  using namespace dnnl;
  using tag = memory::format_tag;
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::desc aDesc({m, k}, type->a, tag::ab);
  memory::desc bUser({k, n}, type->b, tag::ab);
  memory::desc cDesc({m, n}, type->c, tag::ab);
  memory::desc bDesc = layout == "any" ? memory::desc({k, n}, type->b, tag::any)
                                       : bUser;
  matmul::primitive_desc pd;
  try {
    // oneDNN 2.x: an op descriptor, then the primitive descriptor.
    pd = matmul::primitive_desc(matmul::desc(aDesc, bDesc, cDesc), eng);
  } catch (const dnnl::error &e) {
    std::fprintf(stderr, "%s: oneDNN has no %s matmul here: %s\n", argv[0],
                 type->name, e.what());
    return 1;
  }
  std::vector<char> a(size_t(m) * k * hatc::bench::bytesOf(type->a)),
      b(size_t(k) * n * hatc::bench::bytesOf(type->b)), c(size_t(m) * n * hatc::bench::bytesOf(type->c));
  hatc::bench::fill(a.data(), size_t(m) * k, type->a, 0);
  hatc::bench::fill(b.data(), size_t(k) * n, type->b, 1);
  memory aMem(aDesc, eng, a.data()), bUserMem(bUser, eng, b.data()),
      cMem(cDesc, eng, c.data());
  memory bMem = bUserMem;
  if (pd.weights_desc() != bUser) {
    bMem = memory(pd.weights_desc(), eng);
    reorder(bUserMem, bMem).execute(strm, bUserMem, bMem);
  }
  strm.wait();
  matmul mm(pd);
  auto run = [&] {
    mm.execute(strm, {{DNNL_ARG_SRC, aMem},
                      {DNNL_ARG_WEIGHTS, bMem},
                      {DNNL_ARG_DST, cMem}});
    strm.wait();
  };
  hatc::TimingStats stats = hatc::bench::timeCall(run, repeat);
  double ops = 2.0 * m * n * k;
  std::printf("{\"impl\":\"onednn-matmul\",\"type\":\"%s\",\"layout\":\"%s\","
              "\"impl_name\":\"%s\",\"threads\":%d,\"median_s\":%.9g,"
              "\"cv\":%.4g,\"gflops\":%.6g}\n",
              type->name, layout.c_str(), pd.impl_info_str(), threads,
              stats.median, stats.cv, ops / stats.median / 1e9);
  return 0;
}
