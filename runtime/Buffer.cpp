//===- Buffer.cpp - Host tensors handed to compiled kernels ---------------===//
#include "hatc/Runtime/Buffer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <type_traits>

namespace hatc {

const char *elemKindName(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32: return "f32";
  case ElemKind::F64: return "f64";
  case ElemKind::I8: return "i8";
  case ElemKind::I16: return "i16";
  case ElemKind::I32: return "i32";
  case ElemKind::I64: return "i64";
  case ElemKind::Bool: return "i1";
  case ElemKind::U8: return "u8";
  case ElemKind::F16: return "f16";
  case ElemKind::BF16: return "bf16";
  case ElemKind::U16: return "u16";
  case ElemKind::U32: return "u32";
  case ElemKind::U64: return "u64";
  }
  return "?";
}

std::optional<ElemKind> parseElemKind(const std::string &name) {
  for (ElemKind kind : {ElemKind::F32, ElemKind::F64, ElemKind::I8,
                        ElemKind::I16, ElemKind::I32, ElemKind::I64,
                        ElemKind::Bool, ElemKind::U8, ElemKind::F16,
                        ElemKind::BF16, ElemKind::U16, ElemKind::U32,
                        ElemKind::U64})
    if (name == elemKindName(kind))
      return kind;
  return std::nullopt;
}

size_t elemKindBytes(ElemKind kind) {
  switch (kind) {
  case ElemKind::I8:
  case ElemKind::Bool:
  case ElemKind::U8: return 1;
  case ElemKind::I16:
  case ElemKind::U16:
  case ElemKind::F16:
  case ElemKind::BF16: return 2;
  case ElemKind::F32:
  case ElemKind::I32:
  case ElemKind::U32: return 4;
  case ElemKind::F64:
  case ElemKind::I64:
  case ElemKind::U64: return 8;
  }
  return 0;
}

bool isFloatKind(ElemKind kind) {
  return kind == ElemKind::F32 || kind == ElemKind::F64 ||
         kind == ElemKind::F16 || kind == ElemKind::BF16;
}

ElemKind signlessKind(ElemKind kind) {
  switch (kind) {
  case ElemKind::U8: return ElemKind::I8;
  case ElemKind::U16: return ElemKind::I16;
  case ElemKind::U32: return ElemKind::I32;
  case ElemKind::U64: return ElemKind::I64;
  default: return kind;
  }
}

namespace {

/// A binary floating-point format of at most 16 bits: 1 sign bit,
/// `ExpBits` exponent bits (bias 2^(ExpBits-1) - 1), `MantBits` stored
/// fraction bits; subnormals, infinities and NaNs as in IEEE 754.
template <int ExpBits, int MantBits> struct SmallFloat {
  static constexpr int bias = (1 << (ExpBits - 1)) - 1;
  static constexpr uint32_t expMax = (1u << ExpBits) - 1;
  static constexpr uint32_t signBit = 1u << (ExpBits + MantBits);
  static constexpr uint32_t mantMask = (1u << MantBits) - 1;

  static double decode(uint16_t bits) {
    uint32_t exp = (bits >> MantBits) & expMax;
    uint32_t mant = bits & mantMask;
    double magnitude;
    if (exp == expMax)
      magnitude = mant ? std::numeric_limits<double>::quiet_NaN()
                       : std::numeric_limits<double>::infinity();
    else if (exp == 0) // subnormal: 0.mant x 2^(1-bias)
      magnitude = std::ldexp(double(mant), 1 - bias - MantBits);
    else
      magnitude = std::ldexp(double(mant | (1u << MantBits)),
                             int(exp) - bias - MantBits);
    return (bits & signBit) ? -magnitude : magnitude;
  }

  static uint16_t encode(double value) {
    uint32_t sign = std::signbit(value) ? signBit : 0;
    if (std::isnan(value)) // quiet NaN: top fraction bit set
      return uint16_t(sign | (expMax << MantBits) | (1u << (MantBits - 1)));
    double a = std::fabs(value);
    if (std::isinf(a))
      return uint16_t(sign | (expMax << MantBits));
    if (a == 0)
      return uint16_t(sign);
    // a = 1.f x 2^e for normals; subnormals share the smallest normal
    // exponent. Scaled by the quantum 2^(e - MantBits), the significand is
    // an integer n that rounding to nearest even makes exact; the encoding
    // is then (e + bias - 1) << MantBits plus n, where a carry out of the
    // fraction (n = 2^(MantBits+1)) bumps the exponent field by itself and
    // a subnormal rounding up to 2^MantBits becomes the smallest normal.
    int e = std::ilogb(a);
    e = std::max(e, 1 - bias);
    double n = std::nearbyint(std::ldexp(a, MantBits - e));
    int64_t encoded = (int64_t(e + bias - 1) << MantBits) + int64_t(n);
    if (encoded >= int64_t(expMax) << MantBits)
      return uint16_t(sign | (expMax << MantBits)); // overflow: infinity
    return uint16_t(sign | uint32_t(encoded));
  }
};

using HalfFormat = SmallFloat<5, 10>;
using BFloat16Format = SmallFloat<8, 7>;

} // namespace

double halfToDouble(uint16_t bits) { return HalfFormat::decode(bits); }
uint16_t doubleToHalf(double value) { return HalfFormat::encode(value); }
double bfloat16ToDouble(uint16_t bits) { return BFloat16Format::decode(bits); }
uint16_t doubleToBFloat16(double value) {
  return BFloat16Format::encode(value);
}

int64_t TensorSpec::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string TensorSpec::str() const {
  std::string text;
  for (int64_t d : shape)
    text += std::to_string(d) + "x";
  return text + elemKindName(kind);
}

HostBuffer::HostBuffer(TensorSpec spec) : tensorSpec(std::move(spec)) {
  size_t bytes = tensorSpec.byteSize();
  size_t rounded = ((bytes + 63) / 64) * 64;
  storage = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!storage)
    throw std::bad_alloc();
  std::memset(storage, 0, rounded == 0 ? 64 : rounded);
}

HostBuffer::~HostBuffer() { std::free(storage); }

HostBuffer::HostBuffer(HostBuffer &&other) noexcept
    : tensorSpec(std::move(other.tensorSpec)), storage(other.storage) {
  other.storage = nullptr;
}

HostBuffer &HostBuffer::operator=(HostBuffer &&other) noexcept {
  if (this != &other) {
    std::free(storage);
    tensorSpec = std::move(other.tensorSpec);
    storage = other.storage;
    other.storage = nullptr;
  }
  return *this;
}

namespace {
/// Storage of the two-byte float kinds (bit patterns).
struct Half {
  uint16_t bits = 0;
};
struct BFloat16 {
  uint16_t bits = 0;
};

template <typename T>
constexpr bool isFloatStorage =
    std::is_floating_point_v<T> || std::is_same_v<T, Half> ||
    std::is_same_v<T, BFloat16>;

template <typename T> double toDouble(T v) { return double(v); }
template <> double toDouble(Half v) { return halfToDouble(v.bits); }
template <> double toDouble(BFloat16 v) { return bfloat16ToDouble(v.bits); }

template <typename T> T fromDouble(double v) { return T(v); }
template <> Half fromDouble(double v) { return Half{doubleToHalf(v)}; }
template <> BFloat16 fromDouble(double v) {
  return BFloat16{doubleToBFloat16(v)};
}

template <typename T, typename Fn> void forEach(void *data, int64_t n, Fn fn) {
  T *p = static_cast<T *>(data);
  for (int64_t i = 0; i < n; ++i)
    fn(p[i], i);
}

template <typename Fn> void dispatch(ElemKind kind, Fn fn) {
  switch (kind) {
  case ElemKind::F32: fn(float()); break;
  case ElemKind::F64: fn(double()); break;
  case ElemKind::I8: fn(int8_t()); break;
  case ElemKind::I16: fn(int16_t()); break;
  case ElemKind::I32: fn(int32_t()); break;
  case ElemKind::I64: fn(int64_t()); break;
  case ElemKind::Bool: fn(uint8_t()); break; // 0 or 1
  case ElemKind::U8: fn(uint8_t()); break;
  case ElemKind::F16: fn(Half()); break;
  case ElemKind::BF16: fn(BFloat16()); break;
  case ElemKind::U16: fn(uint16_t()); break;
  case ElemKind::U32: fn(uint32_t()); break;
  case ElemKind::U64: fn(uint64_t()); break;
  }
}
} // namespace

void HostBuffer::fillRandom(uint64_t seed) {
  std::mt19937_64 rng(seed);
  int64_t n = tensorSpec.numElements();
  dispatch(tensorSpec.kind, [&](auto zero) {
    using T = decltype(zero);
    if constexpr (isFloatStorage<T>) {
      std::uniform_real_distribution<double> dist(-1.0, 1.0);
      forEach<T>(storage, n,
                 [&](T &v, int64_t) { v = fromDouble<T>(dist(rng)); });
    } else if constexpr (std::is_unsigned_v<T>) {
      bool boolean = tensorSpec.kind == ElemKind::Bool;
      forEach<T>(storage, n,
                 [&](T &v, int64_t) { v = boolean ? T(rng() & 1) : T(rng()); });
    } else {
      int64_t bound = sizeof(T) == 1 ? 127 : 1000;
      int64_t low = sizeof(T) == 1 ? -128 : -1000;
      std::uniform_int_distribution<int64_t> dist(low, bound);
      forEach<T>(storage, n, [&](T &v, int64_t) { v = T(dist(rng)); });
    }
  });
}

void HostBuffer::poison() {
  int64_t n = tensorSpec.numElements();
  dispatch(tensorSpec.kind, [&](auto zero) {
    using T = decltype(zero);
    if constexpr (isFloatStorage<T>)
      forEach<T>(storage, n, [](T &v, int64_t) {
        v = fromDouble<T>(std::numeric_limits<double>::quiet_NaN());
      });
    else
      std::memset(storage, 0x5A, tensorSpec.byteSize());
  });
}

std::vector<double> HostBuffer::toDoubles() const {
  std::vector<double> values(tensorSpec.numElements());
  dispatch(tensorSpec.kind, [&](auto zero) {
    using T = decltype(zero);
    forEach<T>(storage, values.size(),
               [&](T &v, int64_t i) { values[i] = toDouble(v); });
  });
  return values;
}

void HostBuffer::fromDoubles(const std::vector<double> &values) {
  if (int64_t(values.size()) != tensorSpec.numElements())
    throw std::invalid_argument("HostBuffer::fromDoubles: size mismatch");
  dispatch(tensorSpec.kind, [&](auto zero) {
    using T = decltype(zero);
    bool boolean = tensorSpec.kind == ElemKind::Bool;
    forEach<T>(storage, values.size(), [&](T &v, int64_t i) {
      v = fromDouble<T>(boolean ? double(values[i] != 0) : values[i]);
    });
  });
}

std::vector<int64_t> HostBuffer::memrefDescriptor() const {
  size_t rank = tensorSpec.shape.size();
  std::vector<int64_t> words(3 + 2 * rank);
  words[0] = reinterpret_cast<int64_t>(storage); // allocated
  words[1] = reinterpret_cast<int64_t>(storage); // aligned
  words[2] = 0;                                  // offset
  int64_t stride = 1;
  for (size_t i = rank; i-- > 0;) {
    words[3 + i] = tensorSpec.shape[i];
    words[3 + rank + i] = stride;
    stride *= tensorSpec.shape[i];
  }
  return words;
}

} // namespace hatc
