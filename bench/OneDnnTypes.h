//===- OneDnnTypes.h - Element types of the oneDNN bench drivers -*- C++ -*-===//
//
// The operand types hatc-bench-onednn-matmul and hatc-bench-onednn take
// (TYPE: f32, s8, u8, bf16), their sizes, and the values they are filled
// with.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_BENCH_ONEDNNTYPES_H
#define HATC_BENCH_ONEDNNTYPES_H

#include <dnnl.hpp>

#include <cstdint>
#include <cstring>
#include <string>

namespace hatc::bench {

/// One TYPE: the element types of the two inputs (activations a, weights
/// b) and of the result c.
struct OneDnnType {
  const char *name;
  dnnl::memory::data_type a, b, c;
};

/// f32 x f32 -> f32; s8 x s8 -> s32 (hatc's i8 x i8 -> i32); u8 x s8 ->
/// s32 (what vpdpbusd multiplies natively; oneDNN runs s8 x s8 through it
/// with a +128 shift of a and a compensation term); bf16 x bf16 -> f32.
/// Null for another name.
inline const OneDnnType *oneDnnType(const std::string &name) {
  using dt = dnnl::memory::data_type;
  static const OneDnnType types[] = {{"f32", dt::f32, dt::f32, dt::f32},
                                     {"s8", dt::s8, dt::s8, dt::s32},
                                     {"u8", dt::u8, dt::s8, dt::s32},
                                     {"bf16", dt::bf16, dt::bf16, dt::f32}};
  for (const OneDnnType &t : types)
    if (name == t.name)
      return &t;
  return nullptr;
}

inline size_t bytesOf(dnnl::memory::data_type t) {
  switch (t) {
  case dnnl::memory::data_type::s8:
  case dnnl::memory::data_type::u8:
    return 1;
  case dnnl::memory::data_type::bf16:
    return 2;
  default:
    return 4;
  }
}

/// Small nonzero values of type `t` (a pseudo-random pattern), so that no
/// path can skip zeros; the values do not change the speed.
inline void fill(void *data, size_t count, dnnl::memory::data_type t,
                 uint32_t seed) {
  uint32_t state = seed * 2654435761u + 1;
  for (size_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    int v = int(state >> 28) - 8; // -8..7
    switch (t) {
    case dnnl::memory::data_type::s8:
      static_cast<int8_t *>(data)[i] = int8_t(v);
      break;
    case dnnl::memory::data_type::u8:
      static_cast<uint8_t *>(data)[i] = uint8_t(v + 8);
      break;
    case dnnl::memory::data_type::bf16: {
      float f = 0.125f * float(v);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      static_cast<uint16_t *>(data)[i] = uint16_t(bits >> 16); // exact
      break;
    }
    default:
      static_cast<float *>(data)[i] = 0.125f * float(v);
    }
  }
}

} // namespace hatc::bench

#endif // HATC_BENCH_ONEDNNTYPES_H
