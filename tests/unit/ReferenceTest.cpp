//===- ReferenceTest.cpp - The independent reference evaluator ------------===//
#include "TestContext.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Measure/Reference.h"
#include "hatc/Support/Error.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hatc;

namespace {

std::vector<RefTensor> evaluate(const std::string &source,
                                const std::vector<RefTensor> &inputs) {
  auto w = parseWorkload(test::context(), source, "ref.mlir");
  if (!w) {
    ADD_FAILURE() << errorMessage(w.takeError());
    return {};
  }
  auto out = evaluateReference(w->entry(), inputs);
  if (!out) {
    ADD_FAILURE() << errorMessage(out.takeError());
    return {};
  }
  return *out;
}

} // namespace

/// C (2x2, all ones) += A (2x3) * B (3x2), on the f32 path (OpenBLAS).
static std::vector<RefTensor> smallFloatMatmul() {
  return evaluate(R"(
func.func @f(%a: tensor<2x3xf32>, %b: tensor<3x2xf32>, %c: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x2xf32>) outs(%c : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
})",
                  {{{2, 3}, {1, 2, 3, 4, 5, 6}},
                   {{3, 2}, {7, 8, 9, 10, 11, 12}},
                   {{2, 2}, {1, 1, 1, 1}}});
}

TEST(Reference, FloatMatmulAccumulatesIntoItsInit) {
  auto out = smallFloatMatmul();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, (std::vector<double>{59, 65, 140, 155}));
}

extern "C" int openblas_get_num_threads(void) __attribute__((weak));

TEST(Reference, ItsBlasRunsOnTheCallingThreadOnly) {
  // A threaded OpenBLAS would leave its threads spinning on the cores the
  // kernel is timed on right after the check.
  if (!openblas_get_num_threads)
    GTEST_SKIP() << "the BLAS linked is not OpenBLAS";
  smallFloatMatmul();
  EXPECT_EQ(openblas_get_num_threads(), 1);
}

TEST(Reference, ReadsWeightsFromResourceBlobs) {
  // A model task measured with its weights: dense_resource constants, the
  // blob's elements little-endian after its 4-byte alignment.
  auto out = evaluate(R"(
func.func @f(%a: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %w = arith.constant dense_resource<w> : tensor<2x2xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x2xf32>
  %c = linalg.fill ins(%zero : f32) outs(%e : tensor<2x2xf32>) -> tensor<2x2xf32>
  %r = linalg.matmul ins(%a, %w : tensor<2x2xf32>, tensor<2x2xf32>) outs(%c : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      w: "0x040000000000803F000000400000404000008040"
    }
  }
#-})",
                      {{{2, 2}, {1, 0, 1, 1}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, (std::vector<double>{1, 2, 4, 6}));
}

TEST(Reference, IntegerMatmulWrapsToItsResultType) {
  // 127 * 127 * 3 = 48387 does not fit in i16: it wraps to -17149.
  auto out = evaluate(R"(
func.func @f(%a: tensor<1x3xi8>, %b: tensor<3x1xi8>) -> tensor<1x1xi16> {
  %z = arith.constant 0 : i16
  %e = tensor.empty() : tensor<1x1xi16>
  %c = linalg.fill ins(%z : i16) outs(%e : tensor<1x1xi16>) -> tensor<1x1xi16>
  %r = linalg.matmul ins(%a, %b : tensor<1x3xi8>, tensor<3x1xi8>) outs(%c : tensor<1x1xi16>) -> tensor<1x1xi16>
  return %r : tensor<1x1xi16>
})",
                      {{{1, 3}, {127, 127, 127}}, {{3, 1}, {127, 127, 127}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data[0], 48387 - 65536);
}

TEST(Reference, IntegerConvMatchesItsGenericFormAndWraps) {
  // i8 x i8 -> i16 conv_2d_nhwc_hwcf (the loops of the float conv, exact
  // in double, wrapped at the end) against the same contraction written as
  // a generic (the interpreter, wrapping at each step): equal, and
  // 4 * 127 * 127 = 64516 wraps to -1020 in i16.
  const char *named = R"(
func.func @f(%i: tensor<1x3x3x2xi8>, %w: tensor<2x2x2x1xi8>, %c: tensor<1x2x2x1xi16>) -> tensor<1x2x2x1xi16> {
  %r = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%i, %w : tensor<1x3x3x2xi8>, tensor<2x2x2x1xi8>) outs(%c : tensor<1x2x2x1xi16>) -> tensor<1x2x2x1xi16>
  return %r : tensor<1x2x2x1xi16>
})";
  const char *generic = R"(
func.func @f(%i: tensor<1x3x3x2xi8>, %w: tensor<2x2x2x1xi8>, %c: tensor<1x2x2x1xi16>) -> tensor<1x2x2x1xi16> {
  %r = linalg.generic {indexing_maps = [affine_map<(n, oh, ow, f, kh, kw, c) -> (n, oh + kh, ow + kw, c)>, affine_map<(n, oh, ow, f, kh, kw, c) -> (kh, kw, c, f)>, affine_map<(n, oh, ow, f, kh, kw, c) -> (n, oh, ow, f)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%i, %w : tensor<1x3x3x2xi8>, tensor<2x2x2x1xi8>) outs(%c : tensor<1x2x2x1xi16>) {
  ^bb0(%x: i8, %y: i8, %acc: i16):
    %0 = arith.extsi %x : i8 to i16
    %1 = arith.extsi %y : i8 to i16
    %2 = arith.muli %0, %1 : i16
    %3 = arith.addi %acc, %2 : i16
    linalg.yield %3 : i16
  } -> tensor<1x2x2x1xi16>
  return %r : tensor<1x2x2x1xi16>
})";
  std::vector<RefTensor> inputs = {
      {{1, 3, 3, 2}, {127, 127, 127, 127, 1, 2, 127, 127, 127, 127, -3, 4,
                      5, -6, 7, 8, -128, 9}},
      {{2, 2, 2, 1}, {127, 0, 127, 0, 127, 0, 127, 1}},
      {{1, 2, 2, 1}, {0, 1, -1, 2}}};
  auto a = evaluate(named, inputs), b = evaluate(generic, inputs);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].data, b[0].data);
  EXPECT_EQ(a[0].data[0], 4 * 127 * 127 + 127 - 65536);
}

TEST(Reference, ElementwiseF32RoundsLikeTheKernelsAndBitwiseOps) {
  // A requantization: roundeven(3 x m) with m = f32(1/6). In f32, 3 x m is
  // 0.5 exactly (rounded), which rounds to even 0; kept in double it is
  // 0.50000001 and would round to 1. The elementwise body rounds f32
  // results as the kernels compute them. The uint8 -> int8 flip
  // (x xor -128) and and/or on i8 and i1 are evaluated too.
  const char *text = R"(
#id = affine_map<(d0) -> (d0)>
func.func @f(%x: tensor<2xi32>, %q: tensor<3xi8>, %b: tensor<2xi1>, %o: tensor<2xf32>, %p: tensor<3xi8>, %c: tensor<2xi1>) -> (tensor<2xf32>, tensor<3xi8>, tensor<2xi1>) {
  %m = arith.constant 0.166666672 : f32
  %flip = arith.constant -128 : i8
  %mask = arith.constant 15 : i8
  %t = arith.constant true
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<2xi32>) outs(%o : tensor<2xf32>) {
  ^bb0(%v: i32, %out: f32):
    %0 = arith.sitofp %v : i32 to f32
    %1 = arith.mulf %0, %m : f32
    %2 = math.roundeven %1 : f32
    linalg.yield %2 : f32
  } -> tensor<2xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%q : tensor<3xi8>) outs(%p : tensor<3xi8>) {
  ^bb0(%v: i8, %out: i8):
    %0 = arith.xori %v, %flip : i8
    %1 = arith.andi %0, %mask : i8
    %2 = arith.ori %1, %0 : i8
    linalg.yield %2 : i8
  } -> tensor<3xi8>
  %l = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%b : tensor<2xi1>) outs(%c : tensor<2xi1>) {
  ^bb0(%v: i1, %out: i1):
    %0 = arith.xori %v, %t : i1
    linalg.yield %0 : i1
  } -> tensor<2xi1>
  return %r, %s, %l : tensor<2xf32>, tensor<3xi8>, tensor<2xi1>
})";
  auto out = evaluate(text, {{{2}, {3, 9}},
                             {{3}, {5, -1, -128}},
                             {{2}, {0, 1}},
                             {{2}, {0, 0}},
                             {{3}, {0, 0, 0}},
                             {{2}, {0, 0}}});
  ASSERT_EQ(out.size(), 3u);
  // 9 x m = 1.5 in f32 and in double (1.50000004): 2 either way.
  EXPECT_EQ(out[0].data, (std::vector<double>{0, 2}));
  // 5 ^ -128 = -123 (0x85); & 15 = 5; | -123 = -123. -1 ^ -128 = 127.
  // -128 ^ -128 = 0.
  EXPECT_EQ(out[1].data, (std::vector<double>{-123, 127, 0}));
  EXPECT_EQ(out[2].data, (std::vector<double>{1, 0}));
}

TEST(Reference, WideningFloatMatmulMatchesItsGenericForm) {
  // bf16 x bf16 -> f32 goes to the float GEMM (an exact widening); the same
  // contraction written as a generic (the interpreter) gives the same
  // values. An f32 x f32 -> f16 matmul (narrowing) is not taken that way.
  const char *named = R"(
func.func @f(%a: tensor<2x3xbf16>, %b: tensor<3x2xbf16>, %c: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<2x3xbf16>, tensor<3x2xbf16>) outs(%c : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
})";
  const char *generic = R"(
func.func @f(%a: tensor<2x3xbf16>, %b: tensor<3x2xbf16>, %c: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<2x3xbf16>, tensor<3x2xbf16>) outs(%c : tensor<2x2xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %0 = arith.extf %x : bf16 to f32
    %1 = arith.extf %y : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %acc, %2 : f32
    linalg.yield %3 : f32
  } -> tensor<2x2xf32>
  return %r : tensor<2x2xf32>
})";
  std::vector<RefTensor> inputs = {{{2, 3}, {1.5, -2, 0.25, 3, 0.5, -1}},
                                   {{3, 2}, {2, 4, -0.5, 1, 8, 0.125}},
                                   {{2, 2}, {1, 0, 0, -1}}};
  auto a = evaluate(named, inputs), b = evaluate(generic, inputs);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].data, b[0].data);
  EXPECT_EQ(a[0].data, (std::vector<double>{7, 4.03125, -2.25, 11.375}));
}

TEST(Reference, BatchMatmulIsOneGemmPerBatch) {
  auto out = evaluate(R"(
func.func @f(%a: tensor<2x1x2xf32>, %b: tensor<2x2x1xf32>) -> tensor<2x1x1xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x1x1xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x1x2xf32>, tensor<2x2x1xf32>) outs(%c : tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  return %r : tensor<2x1x1xf32>
})",
                      {{{2, 1, 2}, {1, 2, 3, 4}}, {{2, 2, 1}, {5, 6, 7, 8}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, (std::vector<double>{17, 53}));
}

TEST(Reference, ConvHonoursStrides) {
  // 1x4x4x1 input, 2x2 filter of ones, stride 2: sums of 2x2 blocks.
  std::vector<double> input(16);
  for (int i = 0; i < 16; ++i)
    input[i] = i;
  auto out = evaluate(R"(
func.func @f(%i: tensor<1x4x4x1xf32>, %w: tensor<2x2x1x1xf32>) -> tensor<1x2x2x1xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x2x1xf32>
  %c = linalg.fill ins(%z : f32) outs(%e : tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  %r = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%i, %w : tensor<1x4x4x1xf32>, tensor<2x2x1x1xf32>) outs(%c : tensor<1x2x2x1xf32>) -> tensor<1x2x2x1xf32>
  return %r : tensor<1x2x2x1xf32>
})",
                      {{{1, 4, 4, 1}, input}, {{2, 2, 1, 1}, {1, 1, 1, 1}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, (std::vector<double>{0 + 1 + 4 + 5, 2 + 3 + 6 + 7,
                                              8 + 9 + 12 + 13,
                                              10 + 11 + 14 + 15}));
}

TEST(Reference, GenericBodyWithCapturedConstantAndBroadcast) {
  auto out = evaluate(R"(
func.func @f(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%v: f32, %bias: f32, %o: f32):
    %s = arith.addf %v, %bias : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
})",
                      {{{2, 3}, {-1, 0.5, 2, -3, -0.25, 1}}, {{3}, {0.5, 0.5, -1}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, (std::vector<double>{0, 1, 1, 0, 0.25, 0}));
}

TEST(Reference, GenericReductionAndIndex) {
  // Row sums plus the row index, through a reduction loop and linalg.index.
  auto out = evaluate(R"(
func.func @f(%x: tensor<2x3xi32>) -> tensor<2xi32> {
  %z = arith.constant 0 : i32
  %e = tensor.empty() : tensor<2xi32>
  %c = linalg.fill ins(%z : i32) outs(%e : tensor<2xi32>) -> tensor<2xi32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<2x3xi32>) outs(%c : tensor<2xi32>) {
  ^bb0(%v: i32, %acc: i32):
    %s = arith.addi %v, %acc : i32
    linalg.yield %s : i32
  } -> tensor<2xi32>
  return %r : tensor<2xi32>
})",
                      {{{2, 3}, {1, 2, 3, 10, 20, 30}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, (std::vector<double>{6, 60}));
}

TEST(Reference, MathFunctionsOfRealModels) {
  // f32 results, rounded to f32 as the kernels compute them (elementwise
  // bodies; see ElementwiseF32RoundsLikeTheKernelsAndBitwiseOps).
  auto f32 = [](double v) { return double(float(v)); };
  // GELU as exported (erf), a power, a log and an rsqrt: each one's value
  // at x = 0.5 and x = 2, in the order they are yielded.
  const char *source = R"(
func.func @f(%x: tensor<2xf32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %three = arith.constant 3.0 : f32
  %e = tensor.empty() : tensor<2xf32>
  %r:4 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                       iterator_types = ["parallel"]}
      ins(%x : tensor<2xf32>) outs(%e, %e, %e, %e : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  ^bb0(%v: f32, %o0: f32, %o1: f32, %o2: f32, %o3: f32):
    %erf = math.erf %v : f32
    %pow = math.powf %v, %three : f32
    %log = math.log %v : f32
    %rsqrt = math.rsqrt %v : f32
    linalg.yield %erf, %pow, %log, %rsqrt : f32, f32, f32, f32
  } -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>)
  return %r#0, %r#1, %r#2, %r#3 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
})";
  // The workload says so too: its tasks are checked (and so tuned).
  auto w = parseWorkload(test::context(), source, "math.mlir");
  ASSERT_TRUE(bool(w)) << errorMessage(w.takeError());
  EXPECT_EQ(w->uncheckable, "");
  auto out = evaluate(source, {{{2}, {0.5, 2}}});
  ASSERT_EQ(out.size(), 4u);
  EXPECT_DOUBLE_EQ(out[0].data[0], f32(std::erf(0.5)));
  EXPECT_DOUBLE_EQ(out[0].data[1], f32(std::erf(2.0)));
  EXPECT_EQ(out[1].data, (std::vector<double>{0.125, 8}));
  EXPECT_DOUBLE_EQ(out[2].data[1], f32(std::log(2.0)));
  EXPECT_DOUBLE_EQ(out[3].data[0], f32(1 / std::sqrt(0.5)));
}
