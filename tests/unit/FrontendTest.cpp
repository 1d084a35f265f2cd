//===- FrontendTest.cpp - tensor files (.npy, .pb), --input-shape ---------===//
#include "hatc/Frontend/Onnx.h"
#include "hatc/Frontend/TensorFiles.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <string>

using namespace hatc;
using namespace hatc::frontend;

namespace {

/// A fresh temporary directory, removed with its files at the end.
class TempDir {
public:
  TempDir() {
    llvm::SmallString<128> dir;
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("hatc-frontend", dir));
    path = std::string(dir);
  }
  ~TempDir() { llvm::sys::fs::remove_directories(path); }
  std::string file(llvm::StringRef name) const {
    llvm::SmallString<128> p(path);
    llvm::sys::path::append(p, name);
    return std::string(p);
  }
  std::string path;
};

HostBuffer bufferOf(ElemKind kind, std::vector<int64_t> shape,
                    const std::vector<double> &values) {
  HostBuffer buffer({kind, std::move(shape)});
  buffer.fromDoubles(values);
  return buffer;
}

void expectRoundTrip(const std::string &path, const HostBuffer &written,
                     llvm::StringRef name = "") {
  ASSERT_FALSE(bool(writeTensorFile(path, written, name)));
  auto read = readTensorFile(path);
  ASSERT_TRUE(bool(read)) << llvm::toString(read.takeError());
  EXPECT_EQ(read->buffer.spec().kind, written.spec().kind);
  EXPECT_EQ(read->buffer.spec().shape, written.spec().shape);
  EXPECT_EQ(read->buffer.toDoubles(), written.toDoubles());
  EXPECT_EQ(read->name, name.str());
}

TEST(TensorFiles, NpyRoundTripF32) {
  TempDir dir;
  expectRoundTrip(dir.file("a.npy"),
                  bufferOf(ElemKind::F32, {2, 3}, {1, -2.5, 3, 0, 1e-3, 7}));
}

TEST(TensorFiles, NpyRoundTripI64) {
  TempDir dir;
  expectRoundTrip(dir.file("b.npy"),
                  bufferOf(ElemKind::I64, {4}, {-1, 0, 1234567890123, 5}));
}

TEST(TensorFiles, NpyRoundTripBool) {
  TempDir dir;
  expectRoundTrip(dir.file("c.npy"),
                  bufferOf(ElemKind::Bool, {2, 2}, {1, 0, 0, 1}));
}

TEST(TensorFiles, NpyRoundTripScalar) {
  TempDir dir;
  expectRoundTrip(dir.file("s.npy"), bufferOf(ElemKind::F64, {}, {42.5}));
}

TEST(TensorFiles, PbRoundTripKeepsTheName) {
  TempDir dir;
  expectRoundTrip(dir.file("input_0.pb"),
                  bufferOf(ElemKind::F32, {3, 1}, {0.5, -1, 2}), "x");
  expectRoundTrip(dir.file("input_1.pb"),
                  bufferOf(ElemKind::Bool, {3}, {1, 1, 0}), "mask");
}

TEST(TensorFiles, TruncatedNpyIsRejected) {
  TempDir dir;
  std::string path = dir.file("t.npy");
  ASSERT_FALSE(bool(writeTensorFile(
      path, bufferOf(ElemKind::F32, {16}, std::vector<double>(16, 1.0)))));
  // Drop the last 8 bytes: the header promises 64 bytes of data.
  auto bytes = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  ASSERT_TRUE(bool(bytes));
  std::string content = (*bytes)->getBuffer().drop_back(8).str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec);
    ASSERT_FALSE(ec);
    out << content;
  }
  auto read = readTensorFile(path);
  ASSERT_FALSE(bool(read));
  std::string message = llvm::toString(read.takeError());
  EXPECT_NE(message.find("t.npy"), std::string::npos) << message;
}

TEST(TensorFiles, GarbageIsRejected) {
  TempDir dir;
  std::string path = dir.file("g.npy");
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec);
    out << "not a numpy file";
  }
  auto read = readTensorFile(path);
  ASSERT_FALSE(bool(read));
  EXPECT_FALSE(llvm::toString(read.takeError()).empty());
}

TEST(TensorFiles, FilesInConformanceOrder) {
  TempDir dir;
  for (int i : {10, 2, 0, 1})
    ASSERT_FALSE(bool(writeTensorFile(
        dir.file("input_" + std::to_string(i) + ".pb"),
        bufferOf(ElemKind::F32, {1}, {double(i)}))));
  auto files = tensorFilesIn(dir.path, "input");
  ASSERT_TRUE(bool(files)) << llvm::toString(files.takeError());
  ASSERT_EQ(files->size(), 4u);
  EXPECT_EQ(llvm::sys::path::filename((*files)[0]), "input_0.pb");
  EXPECT_EQ(llvm::sys::path::filename((*files)[1]), "input_1.pb");
  EXPECT_EQ(llvm::sys::path::filename((*files)[2]), "input_2.pb");
  EXPECT_EQ(llvm::sys::path::filename((*files)[3]), "input_10.pb");
}

TEST(TensorFiles, OutputFilesAreNoInputs) {
  // A model without inputs: its data set holds only output_0.pb, which
  // `--inputs DIR --expect DIR` must not take for an input.
  TempDir dir;
  ASSERT_FALSE(bool(writeTensorFile(dir.file("output_0.pb"),
                                    bufferOf(ElemKind::F32, {1}, {1}))));
  auto inputs = tensorFilesIn(dir.path, "input");
  ASSERT_TRUE(bool(inputs)) << llvm::toString(inputs.takeError());
  EXPECT_TRUE(inputs->empty());
  auto outputs = tensorFilesIn(dir.path, "output");
  ASSERT_TRUE(bool(outputs)) << llvm::toString(outputs.takeError());
  EXPECT_EQ(outputs->size(), 1u);
  // Files named otherwise are taken in name order.
  ASSERT_FALSE(bool(writeTensorFile(dir.file("b.npy"),
                                    bufferOf(ElemKind::F32, {1}, {2}))));
  ASSERT_FALSE(bool(writeTensorFile(dir.file("a.npy"),
                                    bufferOf(ElemKind::F32, {1}, {3}))));
  inputs = tensorFilesIn(dir.path, "input");
  ASSERT_TRUE(bool(inputs)) << llvm::toString(inputs.takeError());
  ASSERT_EQ(inputs->size(), 2u);
  EXPECT_EQ(llvm::sys::path::filename((*inputs)[0]), "a.npy");
}

TEST(InputShape, Parses) {
  auto shape = parseInputShape("input=1,3,224,224");
  ASSERT_TRUE(bool(shape)) << llvm::toString(shape.takeError());
  EXPECT_EQ(shape->first, "input");
  EXPECT_EQ(shape->second, (std::vector<int64_t>{1, 3, 224, 224}));
}

TEST(InputShape, EmptyDimsIsAScalar) {
  auto shape = parseInputShape("x=");
  ASSERT_TRUE(bool(shape)) << llvm::toString(shape.takeError());
  EXPECT_EQ(shape->first, "x");
  EXPECT_TRUE(shape->second.empty());
}

TEST(InputShape, NameMayHoldAnEqualsSign) {
  // The last '=' separates: ONNX names may contain '='.
  auto shape = parseInputShape("a=b=4");
  ASSERT_TRUE(bool(shape)) << llvm::toString(shape.takeError());
  EXPECT_EQ(shape->first, "a=b");
  EXPECT_EQ(shape->second, (std::vector<int64_t>{4}));
}

TEST(InputShape, AcceptsZeroSizedDims) {
  // ONNX tensors may be empty; a 0 dim is a shape, not a typo.
  auto shape = parseInputShape("x=1,0");
  ASSERT_TRUE(bool(shape)) << llvm::toString(shape.takeError());
  EXPECT_EQ(shape->second, (std::vector<int64_t>{1, 0}));
}

TEST(InputShape, RejectsBadText) {
  for (const char *text : {"input", "=1,2", "x=1,-2", "x=1,a", "x=1,,2"}) {
    auto shape = parseInputShape(text);
    ASSERT_FALSE(bool(shape)) << text;
    EXPECT_NE(llvm::toString(shape.takeError()).find("--input-shape"),
              std::string::npos);
  }
}

} // namespace
