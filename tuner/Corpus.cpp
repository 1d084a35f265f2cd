//===- Corpus.cpp - Synthetic tasks for the cross-task cost model ---------===//
#include "hatc/Tuner/Corpus.h"
#include "hatc/Runtime/Buffer.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <random>
#include <set>

namespace hatc::tuner {

namespace {

using Dims = std::vector<int64_t>;

constexpr double kMinFlops = 2e6, kMaxFlops = 6e8;
/// Draws of one class that may fail (a repeated shape, FLOPs out of range)
/// before the class counts as spent.
constexpr int kAttempts = 1000;

/// A uniform pick that every standard library makes alike (the
/// distributions of <random> may differ between them; the engine does not).
template <typename T> T pick(std::mt19937_64 &rng, std::initializer_list<T> v) {
  return *(v.begin() + rng() % v.size());
}

std::string tensorType(const Dims &dims) {
  return "tensor<" + TensorSpec{ElemKind::F32, dims}.str() + ">";
}

std::string shapeName(const Dims &dims) {
  std::string s;
  for (int64_t d : dims)
    s += (s.empty() ? "" : "x") + std::to_string(d);
  return s;
}

/// What follows the anchor, applied elementwise to its result (and a bias
/// along the last dimension for the bias kinds).
enum class Consumer { None, Bias, BiasRelu, BiasGelu, Scale, Clip };

llvm::StringRef consumerName(Consumer c) {
  switch (c) {
  case Consumer::None:
    return "plain";
  case Consumer::Bias:
    return "bias";
  case Consumer::BiasRelu:
    return "bias_relu";
  case Consumer::BiasGelu:
    return "bias_gelu";
  case Consumer::Scale:
    return "scale";
  case Consumer::Clip:
    return "clip";
  }
  return "";
}

bool hasBias(Consumer c) {
  return c == Consumer::Bias || c == Consumer::BiasRelu ||
         c == Consumer::BiasGelu;
}

/// The anchor drawn for a task: its operands, result and op text (with
/// `%init0` as its zero-filled output, `%acc` its result).
struct Anchor {
  std::string shape; // the name's shape part, e.g. "mm_128x768x3072"
  std::vector<std::pair<std::string, Dims>> operands;
  Dims result;
  std::string op; // the op with its attributes, without ins/outs
  double flops = 0;
  Consumer consumer = Consumer::None;
};

std::string consumerBody(Consumer c) {
  switch (c) {
  case Consumer::Bias:
    return "    %r = arith.addf %y, %b : f32\n";
  case Consumer::BiasRelu:
    return "    %s = arith.addf %y, %b : f32\n"
           "    %r = arith.maximumf %s, %zero : f32\n";
  case Consumer::BiasGelu: // 0.5 x (1 + erf(x / sqrt 2)), as exported
    return "    %s = arith.addf %y, %b : f32\n"
           "    %root2 = arith.constant 1.41421354 : f32\n"
           "    %one = arith.constant 1.0 : f32\n"
           "    %half = arith.constant 0.5 : f32\n"
           "    %d = arith.divf %s, %root2 : f32\n"
           "    %e = math.erf %d : f32\n"
           "    %p = arith.addf %e, %one : f32\n"
           "    %m = arith.mulf %s, %p : f32\n"
           "    %r = arith.mulf %m, %half : f32\n";
  case Consumer::Scale:
    return "    %c = arith.constant 0.125 : f32\n"
           "    %r = arith.mulf %y, %c : f32\n";
  case Consumer::Clip:
    return "    %six = arith.constant 6.0 : f32\n"
           "    %a = arith.maximumf %y, %zero : f32\n"
           "    %r = arith.minimumf %a, %six : f32\n";
  case Consumer::None:
    break;
  }
  return "";
}

std::string emitFunction(const std::string &name, const Anchor &a) {
  std::string text;
  llvm::raw_string_ostream os(text);
  std::string result = tensorType(a.result);
  size_t rank = a.result.size();
  std::string bias = tensorType({a.result.back()});
  os << "func.func @" << name << "(";
  llvm::interleaveComma(a.operands, os, [&](const auto &operand) {
    os << "%" << operand.first << ": " << tensorType(operand.second);
  });
  if (hasBias(a.consumer))
    os << ", %bias: " << bias;
  os << ") -> " << result << " {\n";
  os << "  %zero = arith.constant 0.0 : f32\n";
  os << "  %init = tensor.empty() : " << result << "\n";
  os << "  %init0 = linalg.fill ins(%zero : f32) outs(%init : " << result
     << ") -> " << result << "\n";
  os << "  %acc = " << a.op << " ins(";
  llvm::interleaveComma(a.operands, os,
                        [&](const auto &operand) { os << "%" << operand.first; });
  os << " : ";
  llvm::interleaveComma(a.operands, os, [&](const auto &operand) {
    os << tensorType(operand.second);
  });
  os << ") outs(%init0 : " << result << ") -> " << result << "\n";
  if (a.consumer == Consumer::None) {
    os << "  return %acc : " << result << "\n}\n";
    return text;
  }
  std::string dims, all, parallel;
  for (size_t i = 0; i < rank; ++i) {
    dims += (i ? ", d" : "d") + std::to_string(i);
    parallel += i ? ", \"parallel\"" : "\"parallel\"";
  }
  std::string identity = "affine_map<(" + dims + ") -> (" + dims + ")>";
  std::string last =
      "affine_map<(" + dims + ") -> (d" + std::to_string(rank - 1) + ")>";
  os << "  %z = linalg.generic {indexing_maps = [" << identity << ", ";
  if (hasBias(a.consumer))
    os << last << ", ";
  os << identity << "], iterator_types = [" << parallel << "]} ins(%acc";
  if (hasBias(a.consumer))
    os << ", %bias : " << result << ", " << bias;
  else
    os << " : " << result;
  os << ") outs(%init : " << result << ") {\n";
  os << "  ^bb0(%y: f32" << (hasBias(a.consumer) ? ", %b: f32" : "")
     << ", %o: f32):\n";
  os << consumerBody(a.consumer);
  os << "    linalg.yield %r : f32\n  } -> " << result << "\n";
  os << "  return %z : " << result << "\n}\n";
  return text;
}

Anchor drawMatmul(std::mt19937_64 &rng) {
  int64_t m = pick<int64_t>(rng, {8, 16, 32, 49, 64, 96, 128, 196, 256, 384,
                                  512});
  int64_t n = pick<int64_t>(rng, {10, 16, 32, 64, 100, 128, 256, 384, 512,
                                  768, 1000, 1024, 2048, 3072});
  int64_t k = pick<int64_t>(rng, {64, 128, 256, 512, 576, 768, 1024, 2048});
  Anchor a;
  a.shape = "mm_" + shapeName({m, n, k});
  a.operands = {{"a", {m, k}}, {"w", {k, n}}};
  a.result = {m, n};
  a.op = "linalg.matmul";
  a.flops = 2.0 * m * n * k;
  a.consumer = pick(rng, {Consumer::None, Consumer::Bias, Consumer::BiasRelu,
                          Consumer::BiasGelu});
  return a;
}

Anchor drawBatchMatmul(std::mt19937_64 &rng) {
  int64_t b = pick<int64_t>(rng, {4, 8, 12, 16});
  int64_t m = pick<int64_t>(rng, {49, 64, 128, 197, 256});
  int64_t n = pick<int64_t>(rng, {32, 64, 128, 197, 256});
  int64_t k = pick<int64_t>(rng, {32, 64, 128});
  Anchor a;
  a.shape = "bmm_" + shapeName({b, m, n, k});
  a.operands = {{"a", {b, m, k}}, {"w", {b, k, n}}};
  a.result = {b, m, n};
  a.op = "linalg.batch_matmul";
  a.flops = 2.0 * b * m * n * k;
  a.consumer = pick(rng, {Consumer::None, Consumer::Scale});
  return a;
}

std::string convAttributes(int64_t stride) {
  return " {dilations = dense<1> : tensor<2xi64>, strides = dense<" +
         std::to_string(stride) + "> : tensor<2xi64>}";
}

Anchor drawConv(std::mt19937_64 &rng) {
  int64_t h = pick<int64_t>(rng, {7, 14, 28, 56});
  int64_t c = pick<int64_t>(rng, {16, 24, 32, 64, 96, 128, 256, 512});
  int64_t f = pick<int64_t>(rng, {16, 24, 32, 64, 96, 128, 256, 512});
  int64_t k = pick<int64_t>(rng, {1, 1, 3});
  int64_t s = pick<int64_t>(rng, {1, 1, 2});
  // Padded as the importer leaves it: the input holds the halo.
  int64_t oh = (h + s - 1) / s, in = (oh - 1) * s + k;
  Anchor a;
  a.shape = "conv_" + shapeName({h, c, f}) + "_k" + std::to_string(k) + "s" +
            std::to_string(s);
  a.operands = {{"x", {1, in, in, c}}, {"w", {k, k, c, f}}};
  a.result = {1, oh, oh, f};
  a.op = "linalg.conv_2d_nhwc_hwcf" + convAttributes(s);
  a.flops = 2.0 * oh * oh * f * c * k * k;
  a.consumer = pick(rng, {Consumer::None, Consumer::BiasRelu,
                          Consumer::BiasRelu});
  return a;
}

Anchor drawDepthwise(std::mt19937_64 &rng) {
  int64_t h = pick<int64_t>(rng, {14, 28, 56, 112});
  int64_t c = pick<int64_t>(rng, {32, 64, 96, 144, 192, 240, 384, 480, 576,
                                  960});
  int64_t s = pick<int64_t>(rng, {1, 2});
  int64_t oh = (h + s - 1) / s, in = (oh - 1) * s + 3;
  Anchor a;
  a.shape = "dw_" + shapeName({h, c}) + "_s" + std::to_string(s);
  a.operands = {{"x", {1, in, in, c}}, {"w", {3, 3, c}}};
  a.result = {1, oh, oh, c};
  a.op = "linalg.depthwise_conv_2d_nhwc_hwc" + convAttributes(s);
  a.flops = 2.0 * oh * oh * c * 9;
  a.consumer = pick(rng, {Consumer::None, Consumer::Clip});
  return a;
}

/// Each class: its name, its share of a corpus and how a task is drawn.
struct ClassInfo {
  CorpusClass opClass;
  llvm::StringLiteral name;
  int weight;
  Anchor (*draw)(std::mt19937_64 &);
};
constexpr ClassInfo kClasses[] = {
    {CorpusClass::Matmul, "matmul", 7, drawMatmul},
    {CorpusClass::BatchMatmul, "batch_matmul", 3, drawBatchMatmul},
    {CorpusClass::Conv, "conv", 6, drawConv},
    {CorpusClass::Depthwise, "depthwise", 3, drawDepthwise},
};

const ClassInfo &infoOf(CorpusClass c) {
  return *llvm::find_if(kClasses,
                        [&](const ClassInfo &i) { return i.opClass == c; });
}

} // namespace

llvm::StringRef corpusClassName(CorpusClass opClass) {
  return infoOf(opClass).name;
}

std::optional<CorpusClass> parseCorpusClass(llvm::StringRef name) {
  for (const ClassInfo &info : kClasses)
    if (info.name == name)
      return info.opClass;
  return std::nullopt;
}

std::vector<CorpusClass> corpusClassesFor(TargetKind kind) {
  switch (kind) {
  case TargetKind::Cpu:
    return {CorpusClass::Matmul, CorpusClass::BatchMatmul, CorpusClass::Conv,
            CorpusClass::Depthwise};
  case TargetKind::Hwacc:
    return {CorpusClass::Matmul, CorpusClass::BatchMatmul, CorpusClass::Conv};
  case TargetKind::Gpu:
    return {CorpusClass::Matmul};
  }
  return {};
}

std::vector<CorpusTask> drawCorpus(size_t count, uint64_t seed,
                                   llvm::ArrayRef<CorpusClass> classes) {
  std::mt19937_64 rng(seed);
  std::vector<CorpusClass> open(classes.begin(), classes.end());
  std::map<CorpusClass, size_t> drawn;
  std::set<std::string> anchors;
  std::vector<CorpusTask> tasks;
  while (tasks.size() < count && !open.empty()) {
    // The class furthest below its share so far (smooth weighted round
    // robin: the mix holds at every prefix of the corpus).
    int total = 0;
    for (CorpusClass c : open)
      total += infoOf(c).weight;
    CorpusClass next = open.front();
    double deficit = -1e300;
    for (CorpusClass c : open) {
      double d = double(infoOf(c).weight) / total * double(tasks.size() + 1) -
                 double(drawn[c]);
      if (d > deficit) {
        deficit = d;
        next = c;
      }
    }
    std::optional<Anchor> found;
    for (int attempt = 0; attempt < kAttempts && !found; ++attempt) {
      Anchor a = infoOf(next).draw(rng);
      if (a.flops >= kMinFlops && a.flops <= kMaxFlops &&
          anchors.insert(a.shape).second)
        found = std::move(a);
    }
    if (!found) {
      llvm::erase(open, next);
      continue;
    }
    CorpusTask task;
    task.name = found->shape + "_" + consumerName(found->consumer).str();
    task.opClass = next;
    task.flops = found->flops;
    task.function = emitFunction(task.name, *found);
    tasks.push_back(std::move(task));
    ++drawn[next];
  }
  return tasks;
}

std::string corpusModule(llvm::ArrayRef<CorpusTask> tasks) {
  std::string text = "// hatc model corpus: synthetic tasks for the "
                     "cross-task cost model\n";
  for (const CorpusTask &task : tasks)
    text += task.function + "\n";
  return text;
}

} // namespace hatc::tuner
