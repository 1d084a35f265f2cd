//===- onednn_conv.cpp - oneDNN's 2-D convolution, timed like hatc run ----===//
//
// hatc-bench-onednn N H W C F KH KW STRIDE THREADS [REPEAT] [user|any]
// [TYPE]: an NHWC x HWIO (= hatc's HWCF) convolution without padding;
// prints the median time and G(FL)OP/s. TYPE as for
// hatc-bench-onednn-matmul: f32 (default), s8 (s8 x s8 -> s32, hatc's i8
// conv), u8 or bf16 (bf16 x bf16 -> f32).
//
//===----------------------------------------------------------------------===//
#include "OneDnnTypes.h"
#include "TimeCall.h"

#include <dnnl.hpp>
#include <omp.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char **argv) {
  if (argc < 10) {
    std::fprintf(stderr,
                 "usage: %s N H W C F KH KW STRIDE THREADS [REPEAT] "
                 "[user|any] [f32|s8|u8|bf16]\n",
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
  std::string typeName = argc > 12 ? argv[12] : "f32";
  const hatc::bench::OneDnnType *type = hatc::bench::oneDnnType(typeName);
  if (!type) {
    std::fprintf(stderr, "%s: unknown TYPE '%s' (f32, s8, u8 or bf16)\n",
                 argv[0], typeName.c_str());
    return 1;
  }
  long oh = (h - kh) / s + 1, ow = (w - kw) / s + 1;
  // oneDNN runs on OpenMP here; OMP_NUM_THREADS is read when the runtime
  // loads, before main (setting it here left every run on all cores).
  omp_set_num_threads(threads);
  using namespace dnnl;
  engine eng(engine::kind::cpu, 0);
  stream strm(eng);
  memory::desc src({n, c, h, w}, type->a, memory::format_tag::nhwc);
  memory::desc wei({f, c, kh, kw}, type->b, memory::format_tag::hwio);
  memory::desc dst({n, f, oh, ow}, type->c, memory::format_tag::nhwc);
  // oneDNN 2.x: an op descriptor, then the primitive descriptor.
  auto pick = [&](const memory::desc &d) {
    return anyLayout ? memory::desc(d.dims(), d.data_type(),
                                    memory::format_tag::any)
                     : d;
  };
  convolution_forward::primitive_desc pd;
  try {
    convolution_forward::desc desc(prop_kind::forward_inference,
                                   algorithm::convolution_direct, pick(src),
                                   pick(wei), pick(dst), {s, s}, {0, 0},
                                   {0, 0});
    pd = convolution_forward::primitive_desc(desc, eng);
  } catch (const dnnl::error &e) {
    std::fprintf(stderr, "%s: oneDNN has no %s convolution here: %s\n",
                 argv[0], type->name, e.what());
    return 1;
  }
  size_t srcCount = size_t(n) * h * w * c, weiCount = size_t(kh) * kw * c * f;
  std::vector<char> x(srcCount * hatc::bench::bytesOf(type->a)),
      k(weiCount * hatc::bench::bytesOf(type->b)),
      y(size_t(n) * oh * ow * f * hatc::bench::bytesOf(type->c));
  hatc::bench::fill(x.data(), srcCount, type->a, 0);
  hatc::bench::fill(k.data(), weiCount, type->b, 1);
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
  std::printf("{\"impl\":\"onednn\",\"type\":\"%s\",\"layout\":\"%s\","
              "\"impl_name\":\"%s\",\"threads\":%d,\"median_s\":%.9g,"
              "\"gflops\":%.6g}\n",
              type->name, anyLayout ? "any" : "nhwc", pd.impl_info_str(),
              threads, stats.median, flops / stats.median / 1e9);
  return 0;
}
