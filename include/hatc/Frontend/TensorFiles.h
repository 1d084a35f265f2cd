//===- TensorFiles.h - .pb (ONNX TensorProto) and .npy tensor files -*- C++ -*-===//
//
// Tensor files are what a model's inputs and expected outputs come in: ONNX
// `TensorProto` `.pb` files (the conformance suite's format) and NumPy
// `.npy` files, read into and written from HostBuffers.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_FRONTEND_TENSORFILES_H
#define HATC_FRONTEND_TENSORFILES_H

#include "hatc/Runtime/Buffer.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace hatc::frontend {

/// A tensor read from a file: its name (a .pb file's `name` field; empty
/// for .npy) and its data.
struct NamedBuffer {
  std::string name;
  HostBuffer buffer;
};

/// Reads a `.pb` (ONNX TensorProto) or `.npy` file.
llvm::Expected<NamedBuffer> readTensorFile(llvm::StringRef path);

/// Writes `buffer` as a `.npy` file (or, for a path ending in ".pb", an
/// ONNX TensorProto named `name`). Every write is checked.
llvm::Error writeTensorFile(llvm::StringRef path, const HostBuffer &buffer,
                            llvm::StringRef name = "");

/// The tensor files of a folder in the conformance suite's order: files
/// named `<prefix>_<N>.pb` (or `.npy`) by N, else every .pb/.npy file by
/// name. `prefix` is "input" or "output".
llvm::Expected<std::vector<std::string>> tensorFilesIn(llvm::StringRef dir,
                                                       llvm::StringRef prefix);

} // namespace hatc::frontend

#endif // HATC_FRONTEND_TENSORFILES_H
