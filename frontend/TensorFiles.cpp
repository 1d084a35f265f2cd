//===- TensorFiles.cpp - .pb (ONNX TensorProto) and .npy tensor files -----===//
#include "Importer.h"
#include "hatc/Frontend/Onnx.h"
#include "hatc/Frontend/TensorFiles.h"
#include "hatc/Support/Error.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>

namespace hatc::frontend {

namespace {

/// ONNX element type -> buffer kind (unsigned 8-bit kept apart: same bytes
/// as i8 in the IR, read back as unsigned).
std::optional<ElemKind> kindForOnnx(int onnxType) {
  switch (onnxType) {
  case onnx::TensorProto::FLOAT: return ElemKind::F32;
  case onnx::TensorProto::DOUBLE: return ElemKind::F64;
  case onnx::TensorProto::INT8: return ElemKind::I8;
  case onnx::TensorProto::UINT8: return ElemKind::U8;
  case onnx::TensorProto::INT16: return ElemKind::I16;
  case onnx::TensorProto::INT32: return ElemKind::I32;
  case onnx::TensorProto::INT64: return ElemKind::I64;
  case onnx::TensorProto::BOOL: return ElemKind::Bool;
  case onnx::TensorProto::FLOAT16: return ElemKind::F16;
  case onnx::TensorProto::BFLOAT16: return ElemKind::BF16;
  case onnx::TensorProto::UINT16: return ElemKind::U16;
  case onnx::TensorProto::UINT32: return ElemKind::U32;
  case onnx::TensorProto::UINT64: return ElemKind::U64;
  default: return std::nullopt;
  }
}

int onnxForKind(ElemKind kind) {
  switch (kind) {
  case ElemKind::F32: return onnx::TensorProto::FLOAT;
  case ElemKind::F64: return onnx::TensorProto::DOUBLE;
  case ElemKind::I8: return onnx::TensorProto::INT8;
  case ElemKind::U8: return onnx::TensorProto::UINT8;
  case ElemKind::I16: return onnx::TensorProto::INT16;
  case ElemKind::I32: return onnx::TensorProto::INT32;
  case ElemKind::I64: return onnx::TensorProto::INT64;
  case ElemKind::Bool: return onnx::TensorProto::BOOL;
  case ElemKind::F16: return onnx::TensorProto::FLOAT16;
  case ElemKind::BF16: return onnx::TensorProto::BFLOAT16;
  case ElemKind::U16: return onnx::TensorProto::UINT16;
  case ElemKind::U32: return onnx::TensorProto::UINT32;
  case ElemKind::U64: return onnx::TensorProto::UINT64;
  }
  return onnx::TensorProto::UNDEFINED;
}

llvm::Expected<NamedBuffer> readProto(llvm::StringRef path,
                                      llvm::StringRef bytes) {
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(bytes.data(), int(bytes.size())))
    return makeError(path + ": not an ONNX TensorProto (the protobuf does "
                            "not parse)");
  auto data = decodeTensor(proto, llvm::sys::path::parent_path(path), path);
  if (!data)
    return data.takeError();
  auto kind = kindForOnnx(data->onnxType);
  if (!kind)
    return makeError(path + ": element type " + onnxTypeName(data->onnxType) +
                     " is not supported for inputs and outputs");
  TensorSpec spec{*kind, data->shape};
  NamedBuffer result{proto.name(), HostBuffer(spec)};
  if (!data->bytes.empty())
    std::memcpy(result.buffer.data(), data->bytes.data(), data->bytes.size());
  return result;
}

/// The .npy format, version 1.0-3.0: magic, version, header length, a
/// Python dict literal {'descr': '<f4', 'fortran_order': False,
/// 'shape': (2, 3), }, then the data in C order.
llvm::Expected<NamedBuffer> readNpy(llvm::StringRef path,
                                    llvm::StringRef bytes) {
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
    return makeError(path + ": not a .npy file (bad magic)");
  uint8_t major = uint8_t(bytes[6]);
  size_t headerLength, offset;
  if (major == 1) {
    headerLength = uint8_t(bytes[8]) | (uint8_t(bytes[9]) << 8);
    offset = 10;
  } else {
    if (bytes.size() < 12)
      return makeError(path + ": truncated .npy header");
    headerLength = uint32_t(uint8_t(bytes[8])) |
                   (uint32_t(uint8_t(bytes[9])) << 8) |
                   (uint32_t(uint8_t(bytes[10])) << 16) |
                   (uint32_t(uint8_t(bytes[11])) << 24);
    offset = 12;
  }
  if (offset + headerLength > bytes.size())
    return makeError(path + ": truncated .npy header");
  llvm::StringRef header = bytes.substr(offset, headerLength);
  auto field = [&](llvm::StringRef key) -> llvm::StringRef {
    size_t at = header.find("'" + key.str() + "'");
    if (at == llvm::StringRef::npos)
      return {};
    llvm::StringRef rest = header.substr(at + key.size() + 2).ltrim(" :");
    return rest;
  };
  llvm::StringRef descr = field("descr");
  if (descr.size() < 2)
    return makeError(path + ": .npy header has no 'descr'");
  char quote = descr[0];
  descr = descr.drop_front().take_until([&](char c) { return c == quote; });
  if (field("fortran_order").starts_with("True"))
    return makeError(path + ": Fortran-order .npy arrays are not supported");
  static const std::pair<const char *, ElemKind> kinds[] = {
      {"<f4", ElemKind::F32}, {"<f8", ElemKind::F64}, {"|i1", ElemKind::I8},
      {"|u1", ElemKind::U8},  {"<i2", ElemKind::I16}, {"<i4", ElemKind::I32},
      {"<i8", ElemKind::I64}, {"|b1", ElemKind::Bool}, {"<f2", ElemKind::F16},
      {"<u2", ElemKind::U16}, {"<u4", ElemKind::U32}, {"<u8", ElemKind::U64},
      {"bfloat16", ElemKind::BF16}};
  std::optional<ElemKind> kind;
  for (auto [name, k] : kinds)
    if (descr == name)
      kind = k;
  if (!kind)
    return makeError(path + ": .npy element type '" + descr +
                     "' is not supported (little-endian f2, f4, f8, i1, u1, "
                     "i2, u2, i4, u4, i8, u8, b1)");
  llvm::StringRef shapeText = field("shape");
  if (!shapeText.starts_with("("))
    return makeError(path + ": .npy header has no 'shape'");
  shapeText = shapeText.drop_front().take_until([](char c) { return c == ')'; });
  std::vector<int64_t> shape;
  llvm::SmallVector<llvm::StringRef> parts;
  shapeText.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef part : parts) {
    int64_t d = 0;
    if (part.trim().empty())
      continue;
    if (part.trim().getAsInteger(10, d) || d < 0)
      return makeError(path + ": bad .npy shape '" + shapeText + "'");
    shape.push_back(d);
  }
  TensorSpec spec{*kind, shape};
  size_t dataOffset = offset + headerLength;
  if (bytes.size() - dataOffset != spec.byteSize())
    return makeError(llvm::formatv("{0}: .npy data has {1} bytes; shape "
                                   "({2}) of {3} needs {4}",
                                   path, bytes.size() - dataOffset, shapeText,
                                   descr, spec.byteSize())
                         .str());
  NamedBuffer result{"", HostBuffer(spec)};
  std::memcpy(result.buffer.data(), bytes.data() + dataOffset,
              spec.byteSize());
  return result;
}

std::string npyHeader(const TensorSpec &spec) {
  const char *descr = "<f4";
  switch (spec.kind) {
  case ElemKind::F32: descr = "<f4"; break;
  case ElemKind::F64: descr = "<f8"; break;
  case ElemKind::I8: descr = "|i1"; break;
  case ElemKind::U8: descr = "|u1"; break;
  case ElemKind::I16: descr = "<i2"; break;
  case ElemKind::I32: descr = "<i4"; break;
  case ElemKind::I64: descr = "<i8"; break;
  case ElemKind::Bool: descr = "|b1"; break;
  case ElemKind::F16: descr = "<f2"; break;
  case ElemKind::U16: descr = "<u2"; break;
  case ElemKind::U32: descr = "<u4"; break;
  case ElemKind::U64: descr = "<u8"; break;
  case ElemKind::BF16:
    // numpy has no bfloat16; ml_dtypes (as used by JAX) names it so.
    descr = "bfloat16";
    break;
  }
  std::string shape;
  for (int64_t d : spec.shape)
    shape += std::to_string(d) + ", ";
  if (spec.shape.size() > 1)
    shape.resize(shape.size() - 2);
  else if (spec.shape.size() == 1)
    shape.pop_back(); // "(4,)"
  std::string dict = std::string("{'descr': '") + descr +
                     "', 'fortran_order': False, 'shape': (" + shape + "), }";
  // Magic (6) + version (2) + length (2) + dict + padding + '\n', a multiple
  // of 64 bytes.
  size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string header("\x93NUMPY\x01\x00", 8);
  header += char(dict.size() & 0xff);
  header += char((dict.size() >> 8) & 0xff);
  return header + dict;
}

} // namespace

llvm::Expected<TensorData> readTensorData(llvm::StringRef path) {
  auto tensor = readTensorFile(path);
  if (!tensor)
    return tensor.takeError();
  TensorData data;
  const TensorSpec &spec = tensor->buffer.spec();
  data.onnxType = onnxForKind(spec.kind);
  data.shape = spec.shape;
  const char *bytes = static_cast<const char *>(tensor->buffer.data());
  data.bytes.assign(bytes, bytes + spec.byteSize());
  return data;
}

llvm::Expected<NamedBuffer> readTensorFile(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return makeError(path + ": cannot read: " + buffer.getError().message());
  llvm::StringRef bytes = (*buffer)->getBuffer();
  if (path.ends_with_insensitive(".npy"))
    return readNpy(path, bytes);
  return readProto(path, bytes);
}

llvm::Error writeTensorFile(llvm::StringRef path, const HostBuffer &buffer,
                            llvm::StringRef name) {
  std::string bytes;
  if (path.ends_with_insensitive(".pb")) {
    onnx::TensorProto proto;
    proto.set_name(name.str());
    proto.set_data_type(onnxForKind(buffer.spec().kind));
    for (int64_t d : buffer.spec().shape)
      proto.add_dims(d);
    proto.set_raw_data(buffer.data(), buffer.spec().byteSize());
    if (!proto.SerializeToString(&bytes))
      return makeError(path + ": cannot encode the tensor");
  } else {
    bytes = npyHeader(buffer.spec());
    bytes.append(static_cast<const char *>(buffer.data()),
                 buffer.spec().byteSize());
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return makeError(path + ": cannot write: " + ec.message());
  os << bytes;
  os.close();
  if (os.has_error())
    return makeError(path + ": write failed: " + os.error().message());
  return llvm::Error::success();
}

llvm::Expected<std::vector<std::string>> tensorFilesIn(llvm::StringRef dir,
                                                       llvm::StringRef prefix) {
  if (!llvm::sys::fs::is_directory(dir))
    return makeError(dir + ": not a folder");
  std::vector<std::pair<int64_t, std::string>> numbered;
  std::vector<std::string> all;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::StringRef file = llvm::sys::path::filename(it->path());
    llvm::StringRef ext = llvm::sys::path::extension(file);
    if (ext != ".pb" && ext != ".npy")
      continue;
    llvm::StringRef stem = llvm::sys::path::stem(file);
    // input_N / output_N files belong to their prefix only: a folder with
    // just output_0.pb (a model without inputs) has no input files.
    auto [head, tail] = stem.rsplit('_');
    int64_t index = 0;
    bool isNumbered = stem.contains('_') && !tail.getAsInteger(10, index) &&
                      (head == "input" || head == "output" || head == prefix);
    if (!isNumbered)
      all.push_back(it->path());
    else if (head == prefix)
      numbered.emplace_back(index, it->path());
  }
  if (ec)
    return makeError(dir + ": cannot list: " + ec.message());
  std::vector<std::string> files;
  if (!numbered.empty()) {
    std::sort(numbered.begin(), numbered.end());
    for (auto &[index, path] : numbered)
      files.push_back(path);
    return files;
  }
  std::sort(all.begin(), all.end());
  return all;
}

} // namespace hatc::frontend
