//===- ModelIo.cpp - hatc run's tensor folders ----------------------------===//
#include "ModelIo.h"
#include "hatc/Frontend/Onnx.h"
#include "hatc/Frontend/TensorFiles.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace hatc {

namespace {

/// A u8/u16/u32/u64 file for an i8/i16/i32/i64 argument (ONNX's unsigned
/// integers are signless in the IR) is the same bytes: relabel it.
/// A uint16 file for a bfloat16 argument holds its bit patterns (ONNX's
/// older bfloat16 test data is stored so).
bool sameBytes(ElemKind a, ElemKind b) {
  auto bits = [](ElemKind k) {
    return k == ElemKind::BF16 ? ElemKind::I16 : signlessKind(k);
  };
  return signlessKind(a) == signlessKind(b) ||
         (bits(a) == bits(b) &&
          (a == ElemKind::BF16 || b == ElemKind::BF16));
}

/// `buffer`'s bytes read as `spec`.
HostBuffer relabel(const HostBuffer &buffer, const TensorSpec &spec) {
  HostBuffer result(spec);
  std::memcpy(result.data(), buffer.data(), spec.byteSize());
  return result;
}

/// The relative tolerance for comparing `kind`: at least a few units in the
/// last place of the two-byte float kinds (10 and 7 fraction bits).
double relativeTolerance(ElemKind kind, double rtol) {
  if (kind == ElemKind::F16)
    return std::max(rtol, std::ldexp(1.0, -10));
  if (kind == ElemKind::BF16)
    return std::max(rtol, std::ldexp(1.0, -7));
  return rtol;
}

} // namespace

llvm::Expected<std::vector<HostBuffer>>
readInputTensors(llvm::StringRef dir, const Workload &workload,
                 const std::vector<size_t> &skip) {
  auto allFiles = frontend::tensorFilesIn(dir, "input");
  if (!allFiles)
    return allFiles.takeError();
  auto files = std::make_unique<std::vector<std::string>>();
  for (auto [i, file] : llvm::enumerate(*allFiles))
    if (!llvm::is_contained(skip, i))
      files->push_back(file);
  if (files->size() != workload.inputs.size())
    return makeError(llvm::formatv("{0}: {1} input files; {2} takes {3} "
                                   "inputs",
                                   dir, files->size(), workload.path,
                                   workload.inputs.size())
                         .str());
  std::vector<HostBuffer> buffers;
  for (auto [i, file] : llvm::enumerate(*files)) {
    auto tensor = frontend::readTensorFile(file);
    if (!tensor)
      return tensor.takeError();
    const TensorSpec &want = workload.inputs[i];
    const TensorSpec &got = tensor->buffer.spec();
    if (!sameBytes(want.kind, got.kind) || want.shape != got.shape)
      return makeError(llvm::formatv("{0}: tensor<{1}>; input {2} of {3} is "
                                     "tensor<{4}>",
                                     file, got.str(), i, workload.path,
                                     want.str())
                           .str());
    HostBuffer buffer(want);
    std::memcpy(buffer.data(), tensor->buffer.data(), want.byteSize());
    buffers.push_back(std::move(buffer));
  }
  return buffers;
}

llvm::Error saveOutputTensors(llvm::StringRef dir,
                              const std::vector<HostBuffer> &outputs) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return makeError(dir + ": cannot create: " + ec.message());
  for (auto [i, buffer] : llvm::enumerate(outputs)) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, "output_" + std::to_string(i) + ".npy");
    if (llvm::Error err = frontend::writeTensorFile(path, buffer))
      return err;
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<OutputComparison>>
compareWithExpected(llvm::StringRef dir, const std::vector<HostBuffer> &outputs,
                    double rtol, double atol) {
  auto files = frontend::tensorFilesIn(dir, "output");
  if (!files)
    return files.takeError();
  if (files->size() != outputs.size())
    return makeError(llvm::formatv("{0}: {1} expected output files; the "
                                   "workload has {2} outputs",
                                   dir, files->size(), outputs.size())
                         .str());
  std::vector<OutputComparison> results;
  for (auto [i, file] : llvm::enumerate(*files)) {
    OutputComparison cmp;
    cmp.file = file;
    auto expected = frontend::readTensorFile(file);
    if (!expected)
      return expected.takeError();
    const TensorSpec &want = expected->buffer.spec();
    const TensorSpec &got = outputs[i].spec();
    cmp.elements = want.numElements();
    if (want.shape != got.shape || !sameBytes(want.kind, got.kind)) {
      cmp.problem = "expected tensor<" + want.str() + ">, got tensor<" +
                    got.str() + ">";
      results.push_back(cmp);
      continue;
    }
    // Read ours with the expected file's signedness (u8 vs i8), and a
    // uint16 file expected of a bfloat16 output as bfloat16.
    TensorSpec common = want;
    if (got.kind == ElemKind::BF16)
      common.kind = ElemKind::BF16;
    std::vector<double> e = relabel(expected->buffer, common).toDoubles();
    std::vector<double> a = relabel(outputs[i], common).toDoubles();
    bool exact = !isFloatKind(common.kind);
    double kindRtol = relativeTolerance(common.kind, rtol);
    for (size_t k = 0; k < e.size(); ++k) {
      if (std::isnan(e[k]) && std::isnan(a[k]))
        continue;
      double diff = std::fabs(a[k] - e[k]);
      if (std::isinf(e[k]) && a[k] == e[k])
        diff = 0;
      if (std::isnan(diff))
        diff = INFINITY;
      cmp.maxAbsErr = std::max(cmp.maxAbsErr, diff);
      if (e[k] != 0)
        cmp.maxRelErr = std::max(cmp.maxRelErr, diff / std::fabs(e[k]));
      bool ok = exact ? diff == 0 : diff <= atol + kindRtol * std::fabs(e[k]);
      cmp.mismatches += !ok;
    }
    results.push_back(cmp);
  }
  return results;
}

} // namespace hatc
