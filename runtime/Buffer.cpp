//===- Buffer.cpp - Host tensors handed to compiled kernels ---------------===//
#include "hatc/Runtime/Buffer.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>

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
  }
  return "?";
}

std::optional<ElemKind> parseElemKind(const std::string &name) {
  for (ElemKind kind : {ElemKind::F32, ElemKind::F64, ElemKind::I8,
                        ElemKind::I16, ElemKind::I32, ElemKind::I64,
                        ElemKind::Bool, ElemKind::U8})
    if (name == elemKindName(kind))
      return kind;
  return std::nullopt;
}

size_t elemKindBytes(ElemKind kind) {
  switch (kind) {
  case ElemKind::I8:
  case ElemKind::Bool:
  case ElemKind::U8: return 1;
  case ElemKind::I16: return 2;
  case ElemKind::F32:
  case ElemKind::I32: return 4;
  case ElemKind::F64:
  case ElemKind::I64: return 8;
  }
  return 0;
}

bool isFloatKind(ElemKind kind) {
  return kind == ElemKind::F32 || kind == ElemKind::F64;
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
  }
}
} // namespace

void HostBuffer::fillRandom(uint64_t seed) {
  std::mt19937_64 rng(seed);
  int64_t n = tensorSpec.numElements();
  dispatch(tensorSpec.kind, [&](auto zero) {
    using T = decltype(zero);
    if constexpr (std::is_floating_point_v<T>) {
      std::uniform_real_distribution<double> dist(-1.0, 1.0);
      forEach<T>(storage, n, [&](T &v, int64_t) { v = T(dist(rng)); });
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
    if constexpr (std::is_floating_point_v<T>)
      forEach<T>(storage, n, [](T &v, int64_t) {
        v = std::numeric_limits<T>::quiet_NaN();
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
               [&](T &v, int64_t i) { values[i] = double(v); });
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
      v = boolean ? T(values[i] != 0) : T(values[i]);
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
