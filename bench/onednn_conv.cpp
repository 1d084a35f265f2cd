//===- onednn_conv.cpp - oneDNN's 2-D convolution, timed like hatc run ----===//
//
// hatc-bench-onednn N H W C F KH KW STRIDE THREADS [REPEAT] [user|any]: an
// f32 NHWC x HWIO (= hatc's HWCF) convolution without padding; prints the
// median time and GFLOP/s.
//
//===----------------------------------------------------------------------===//
#include "TimeCall.h"

#include <dnnl.hpp>
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 10) {
    std::fprintf(stderr, "usage: %s N H W C F KH KW STRIDE THREADS [REPEAT]\n",
                 argv[0]);
    return 1;
  }
  long n = std::atol(argv[1]), h = std::atol(argv[2]), w = std::atol(argv[3]),
       c = std::atol(argv[4]), f = std::atol(argv[5]), kh = std::atol(argv[6]),
       kw = std::atol(argv[7]), s = std::atol(argv[8]);
  int threads = std::atoi(argv[9]);
  int repeat = argc > 10 ? std::atoi(argv[10]) : 20;
  // "user": NHWC/HWIO as given (what hatc computes on); "any": oneDNN picks
  // its blocked layouts and the inputs are reordered once, outside timing.
  bool anyLayout = argc > 11 && std::string(argv[11]) == "any";
  long oh = (h - kh) / s + 1, ow = (w - kw) / s + 1;
  // oneDNN runs on OpenMP here; OMP_NUM_THREADS is read when the runtime
  // loads, before main (setting it here left every run on all cores).
  omp_set_num_threads(threads);
  using namespace dnnl;
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::desc src({n, c, h, w}, memory::data_type::f32, memory::format_tag::nhwc);
  memory::desc wei({f, c, kh, kw}, memory::data_type::f32, memory::format_tag::hwio);
  memory::desc dst({n, f, oh, ow}, memory::data_type::f32, memory::format_tag::nhwc);
  // oneDNN 2.x: an op descriptor, then the primitive descriptor.
  auto pick = [&](const memory::desc &d) {
    return anyLayout ? memory::desc(d.dims(), memory::data_type::f32,
                                    memory::format_tag::any)
                     : d;
  };
  convolution_forward::desc desc(prop_kind::forward_inference,
                                 algorithm::convolution_direct, pick(src),
                                 pick(wei), pick(dst), {s, s}, {0, 0}, {0, 0});
  convolution_forward::primitive_desc pd(desc, eng);
  std::vector<float> x(n * h * w * c, 0.5f), k(kh * kw * c * f, 0.25f),
      y(n * oh * ow * f);
  memory srcUser(src, eng, x.data()), weiUser(wei, eng, k.data());
  memory srcMem = srcUser, weiMem = weiUser;
  if (pd.src_desc() != src) {
    srcMem = memory(pd.src_desc(), eng);
    reorder(srcUser, srcMem).execute(strm, srcUser, srcMem);
  }
  if (pd.weights_desc() != wei) {
    weiMem = memory(pd.weights_desc(), eng);
    reorder(weiUser, weiMem).execute(strm, weiUser, weiMem);
  }
  memory dstMem = pd.dst_desc() == dst ? memory(dst, eng, y.data())
                                       : memory(pd.dst_desc(), eng);
  strm.wait();
  // The descriptors above fix user layouts; oneDNN may still prefer blocked
  // ones internally. We time the primitive on the user layouts, as hatc is.
  convolution_forward conv(pd);
  auto run = [&] {
    conv.execute(strm, {{DNNL_ARG_SRC, srcMem},
                        {DNNL_ARG_WEIGHTS, weiMem},
                        {DNNL_ARG_DST, dstMem}});
    strm.wait();
  };
  hatc::TimingStats stats = hatc::bench::timeCall(run, repeat);
  double flops = 2.0 * n * oh * ow * f * kh * kw * c;
  std::printf("{\"impl\":\"onednn\",\"layout\":\"%s\",\"impl_name\":\"%s\","
              "\"threads\":%d,\"median_s\":%.9g,\"gflops\":%.6g}\n",
              anyLayout ? "any" : "nhwc", pd.impl_info_str(), threads, stats.median,
              flops / stats.median / 1e9);
  return 0;
}
