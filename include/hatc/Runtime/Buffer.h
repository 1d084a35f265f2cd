//===- Buffer.h - Host tensors handed to compiled kernels ------*- C++ -*-===//
//
// A HostBuffer is a dense, row-major, 64-byte aligned array of one element
// kind. Kernels compiled by hatc take their arguments as MLIR ranked memref
// descriptors; HostBuffer builds those descriptors and converts its contents
// to double for checking against the reference.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_RUNTIME_BUFFER_H
#define HATC_RUNTIME_BUFFER_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace hatc {

/// Element kinds of kernel arguments. Bool is MLIR's i1 (one byte each, 0 or
/// 1, as LLVM stores i1 in memory); U8, U16, U32 and U64 are i8, i16, i32
/// and i64 read as unsigned (ONNX uint8..uint64: the IR sees the same
/// bytes). F16 is IEEE binary16 and BF16 is bfloat16, both two bytes.
enum class ElemKind : uint8_t {
  F32,
  F64,
  I8,
  I16,
  I32,
  I64,
  Bool,
  U8,
  F16,
  BF16,
  U16,
  U32,
  U64
};

/// "f32", "i8", ... ; parse returns nullopt for anything else.
const char *elemKindName(ElemKind kind);
std::optional<ElemKind> parseElemKind(const std::string &name);
size_t elemKindBytes(ElemKind kind);
/// F32, F64, F16 and BF16.
bool isFloatKind(ElemKind kind);
/// The signed kind of the same width for an unsigned one (U16 -> I16), the
/// kind itself otherwise: what the IR's signless integers are read as.
ElemKind signlessKind(ElemKind kind);

/// IEEE binary16 and bfloat16 bit patterns to and from double. Encoding
/// rounds to nearest, ties to even; out-of-range values become infinities,
/// NaN a quiet NaN of the same sign.
double halfToDouble(uint16_t bits);
uint16_t doubleToHalf(double value);
double bfloat16ToDouble(uint16_t bits);
uint16_t doubleToBFloat16(double value);

/// Shape and element kind of one kernel argument.
struct TensorSpec {
  ElemKind kind = ElemKind::F32;
  std::vector<int64_t> shape;

  int64_t numElements() const;
  size_t byteSize() const { return numElements() * elemKindBytes(kind); }
  /// "1024x1024xf32"
  std::string str() const;
};

class HostBuffer {
public:
  explicit HostBuffer(TensorSpec spec);
  ~HostBuffer();
  HostBuffer(HostBuffer &&other) noexcept;
  HostBuffer &operator=(HostBuffer &&other) noexcept;
  HostBuffer(const HostBuffer &) = delete;
  HostBuffer &operator=(const HostBuffer &) = delete;

  const TensorSpec &spec() const { return tensorSpec; }
  void *data() { return storage; }
  const void *data() const { return storage; }

  /// Uniform values from a seeded generator: floats in [-1, 1); integers in
  /// [-128, 127] for i8 and [-1000, 1000] for wider kinds.
  void fillRandom(uint64_t seed);
  /// Overwrites every element with a value no correct kernel produces by
  /// accident: NaN for floats, 0x5A bytes for integers.
  void poison();
  std::vector<double> toDoubles() const;
  void fromDoubles(const std::vector<double> &values);

  /// The MLIR ranked-memref descriptor {allocated, aligned, offset, sizes[],
  /// strides[]} for this buffer, as 64-bit words.
  std::vector<int64_t> memrefDescriptor() const;

private:
  TensorSpec tensorSpec;
  void *storage = nullptr;
};

} // namespace hatc

#endif // HATC_RUNTIME_BUFFER_H
