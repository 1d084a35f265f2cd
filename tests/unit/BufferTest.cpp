//===- BufferTest.cpp - HostBuffer, memref descriptors, timing stats ------===//
#include "hatc/Measure/Timing.h"
#include "hatc/Runtime/Buffer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <thread>

using namespace hatc;

TEST(HostBuffer, DescriptorIsRowMajorMemref) {
  HostBuffer buffer({ElemKind::F32, {3, 4, 5}});
  std::vector<int64_t> d = buffer.memrefDescriptor();
  ASSERT_EQ(d.size(), 3u + 2 * 3);
  EXPECT_EQ(d[0], reinterpret_cast<int64_t>(buffer.data()));
  EXPECT_EQ(d[1], reinterpret_cast<int64_t>(buffer.data()));
  EXPECT_EQ(d[2], 0);
  EXPECT_EQ((std::vector<int64_t>(d.begin() + 3, d.begin() + 6)),
            (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ((std::vector<int64_t>(d.begin() + 6, d.end())),
            (std::vector<int64_t>{20, 5, 1}));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % 64, 0u);
}

TEST(HostBuffer, RandomFillIsSeededAndInRange) {
  HostBuffer a({ElemKind::F32, {1000}}), b({ElemKind::F32, {1000}}),
      c({ElemKind::F32, {1000}});
  a.fillRandom(7);
  b.fillRandom(7);
  c.fillRandom(8);
  EXPECT_EQ(a.toDoubles(), b.toDoubles());
  EXPECT_NE(a.toDoubles(), c.toDoubles());
  for (double v : a.toDoubles()) {
    EXPECT_GE(v, -1.0);
    EXPECT_LT(v, 1.0);
  }
  HostBuffer i8({ElemKind::I8, {4096}});
  i8.fillRandom(1);
  double lo = 0, hi = 0;
  for (double v : i8.toDoubles()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, -128);
  EXPECT_EQ(hi, 127);
}

TEST(HostBuffer, PoisonMakesFloatsNaNAndIntegersAPattern) {
  HostBuffer f({ElemKind::F64, {8}});
  f.poison();
  for (double v : f.toDoubles())
    EXPECT_TRUE(std::isnan(v));
  HostBuffer i({ElemKind::I32, {8}});
  i.poison();
  for (double v : i.toDoubles())
    EXPECT_EQ(v, double(int32_t(0x5A5A5A5A)));
}

TEST(HostBuffer, RoundTripsThroughDoubles) {
  HostBuffer b({ElemKind::I16, {2, 2}});
  b.fromDoubles({1, -2, 300, -32768});
  EXPECT_EQ(b.toDoubles(), (std::vector<double>{1, -2, 300, -32768}));
  EXPECT_THROW(b.fromDoubles({1, 2}), std::invalid_argument);
}

TEST(TensorSpec, SizesAndNames) {
  TensorSpec spec{ElemKind::I8, {16, 3}};
  EXPECT_EQ(spec.numElements(), 48);
  EXPECT_EQ(spec.byteSize(), 48u);
  EXPECT_EQ(spec.str(), "16x3xi8");
  EXPECT_EQ(parseElemKind("f64"), ElemKind::F64);
  EXPECT_EQ(parseElemKind("bf16"), ElemKind::BF16);
  EXPECT_EQ(parseElemKind("u32"), ElemKind::U32);
  EXPECT_FALSE(parseElemKind("f8").has_value());
  EXPECT_EQ((TensorSpec{ElemKind::F16, {3}}).byteSize(), 6u);
  EXPECT_EQ((TensorSpec{ElemKind::U64, {3}}).byteSize(), 24u);
  EXPECT_TRUE(isFloatKind(ElemKind::BF16));
  EXPECT_FALSE(isFloatKind(ElemKind::U16));
  EXPECT_EQ(signlessKind(ElemKind::U16), ElemKind::I16);
  EXPECT_EQ(signlessKind(ElemKind::F16), ElemKind::F16);
}

TEST(HalfFloat, DecodesExactValues) {
  EXPECT_EQ(halfToDouble(0x3C00), 1.0);
  EXPECT_EQ(halfToDouble(0xC000), -2.0);
  EXPECT_EQ(halfToDouble(0x7BFF), 65504.0);               // largest finite
  EXPECT_EQ(halfToDouble(0x0400), std::ldexp(1.0, -14));  // smallest normal
  EXPECT_EQ(halfToDouble(0x0001), std::ldexp(1.0, -24));  // smallest subnormal
  EXPECT_EQ(halfToDouble(0x3555), 0.333251953125);
  EXPECT_TRUE(std::signbit(halfToDouble(0x8000)));
  EXPECT_EQ(halfToDouble(0x8000), 0.0);
  EXPECT_EQ(halfToDouble(0x7C00), INFINITY);
  EXPECT_EQ(halfToDouble(0xFC00), -INFINITY);
  EXPECT_TRUE(std::isnan(halfToDouble(0x7E00)));
  EXPECT_TRUE(std::isnan(halfToDouble(0x7C01)));
}

TEST(HalfFloat, EncodesWithRoundToNearestEven) {
  EXPECT_EQ(doubleToHalf(1.0), 0x3C00);
  EXPECT_EQ(doubleToHalf(-2.0), 0xC000);
  EXPECT_EQ(doubleToHalf(65504.0), 0x7BFF);
  EXPECT_EQ(doubleToHalf(1.0 / 3), 0x3555);
  // Halfway between 1 and 1 + 2^-10 rounds to the even 1; halfway between
  // 1 + 2^-10 and 1 + 2^-9 rounds up to the even 1 + 2^-9.
  EXPECT_EQ(doubleToHalf(1.0 + std::ldexp(1.0, -11)), 0x3C00);
  EXPECT_EQ(doubleToHalf(1.0 + 3 * std::ldexp(1.0, -11)), 0x3C02);
  EXPECT_EQ(doubleToHalf(1.0 + std::ldexp(1.0, -11) + 1e-9), 0x3C01);
  // Rounding carries into the exponent: 2 - 2^-12 -> 2.
  EXPECT_EQ(doubleToHalf(2.0 - std::ldexp(1.0, -12)), 0x4000);
  // Overflow: 65520 (halfway to 2^16) and beyond -> infinity; just below
  // stays finite.
  EXPECT_EQ(doubleToHalf(65519.0), 0x7BFF);
  EXPECT_EQ(doubleToHalf(65520.0), 0x7C00);
  EXPECT_EQ(doubleToHalf(-1e10), 0xFC00);
  // Subnormals and underflow.
  EXPECT_EQ(doubleToHalf(std::ldexp(1.0, -24)), 0x0001);
  EXPECT_EQ(doubleToHalf(std::ldexp(1.0, -25)), 0x0000); // tie to even 0
  EXPECT_EQ(doubleToHalf(std::ldexp(1.5, -25)), 0x0001);
  EXPECT_EQ(doubleToHalf(std::ldexp(3.0, -25)), 0x0002); // tie to even 2
  EXPECT_EQ(doubleToHalf(std::ldexp(1.0, -14) - std::ldexp(1.0, -26)),
            0x0400); // rounds up to the smallest normal
  EXPECT_EQ(doubleToHalf(-0.0), 0x8000);
  EXPECT_EQ(doubleToHalf(1e-30), 0x0000);
  EXPECT_EQ(doubleToHalf(INFINITY), 0x7C00);
  EXPECT_EQ(doubleToHalf(-INFINITY), 0xFC00);
  uint16_t nan = doubleToHalf(NAN);
  EXPECT_EQ(nan & 0x7C00, 0x7C00);
  EXPECT_NE(nan & 0x03FF, 0);
  // Every finite half round-trips.
  for (uint32_t bits = 0; bits < 0x10000; ++bits)
    if ((bits & 0x7C00) != 0x7C00)
      EXPECT_EQ(doubleToHalf(halfToDouble(uint16_t(bits))), bits);
}

TEST(BFloat16, DecodesAndEncodes) {
  EXPECT_EQ(bfloat16ToDouble(0x3F80), 1.0);
  EXPECT_EQ(bfloat16ToDouble(0xC040), -3.0);
  EXPECT_EQ(bfloat16ToDouble(0x7F7F), 0x1.FEp127);        // largest finite
  EXPECT_EQ(bfloat16ToDouble(0x0001), std::ldexp(1.0, -133)); // subnormal
  EXPECT_EQ(bfloat16ToDouble(0x7F80), INFINITY);
  EXPECT_TRUE(std::isnan(bfloat16ToDouble(0x7FC0)));
  EXPECT_EQ(doubleToBFloat16(1.0), 0x3F80);
  EXPECT_EQ(doubleToBFloat16(-3.0), 0xC040);
  // bfloat16 is the top half of a float32, rounded to nearest even:
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7.
  EXPECT_EQ(doubleToBFloat16(1.0 + std::ldexp(1.0, -8)), 0x3F80);
  EXPECT_EQ(doubleToBFloat16(1.0 + 3 * std::ldexp(1.0, -8)), 0x3F82);
  EXPECT_EQ(doubleToBFloat16(1.0 / 3), 0x3EAB);
  EXPECT_EQ(doubleToBFloat16(0x1.FFp127), 0x7F80); // halfway to 2^128
  EXPECT_EQ(doubleToBFloat16(1e39), 0x7F80);
  EXPECT_EQ(doubleToBFloat16(-1e39), 0xFF80);
  EXPECT_EQ(doubleToBFloat16(-0.0), 0x8000);
  EXPECT_EQ(doubleToBFloat16(-INFINITY), 0xFF80);
  uint16_t nan = doubleToBFloat16(NAN);
  EXPECT_EQ(nan & 0x7F80, 0x7F80);
  EXPECT_NE(nan & 0x007F, 0);
  for (uint32_t bits = 0; bits < 0x10000; ++bits)
    if ((bits & 0x7F80) != 0x7F80)
      EXPECT_EQ(doubleToBFloat16(bfloat16ToDouble(uint16_t(bits))), bits);
}

TEST(HostBuffer, TwoByteFloatsAndUnsignedRoundTrip) {
  HostBuffer h({ElemKind::F16, {4}});
  h.fromDoubles({1.5, -0.25, 70000, 1.0 / 3});
  EXPECT_EQ(h.toDoubles(),
            (std::vector<double>{1.5, -0.25, INFINITY, 0.333251953125}));
  EXPECT_EQ(static_cast<const uint16_t *>(h.data())[0], 0x3E00);
  h.poison();
  for (double v : h.toDoubles())
    EXPECT_TRUE(std::isnan(v));
  HostBuffer bf({ElemKind::BF16, {1000}});
  bf.fillRandom(3);
  for (double v : bf.toDoubles()) {
    EXPECT_GE(v, -1.0);
    EXPECT_LE(v, 1.0);
  }
  HostBuffer u({ElemKind::U32, {2}});
  u.fromDoubles({4294967295.0, 7});
  EXPECT_EQ(u.toDoubles(), (std::vector<double>{4294967295.0, 7}));
  HostBuffer u64({ElemKind::U64, {1}});
  static_cast<uint64_t *>(u64.data())[0] = ~uint64_t(0);
  EXPECT_EQ(u64.toDoubles()[0], 18446744073709551615.0);
}

TEST(Timing, MedianMinCv) {
  TimingStats s = summarizeTimings({3, 1, 2, 10});
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 10);
  EXPECT_DOUBLE_EQ(s.mean, 4);
  EXPECT_NEAR(s.cv, std::sqrt(((1 + 4 + 9 + 36) / 3.0)) / 4, 1e-12);
  EXPECT_EQ(summarizeTimings({}).count, 0);
  EXPECT_DOUBLE_EQ(summarizeTimings({5}).median, 5);
  EXPECT_DOUBLE_EQ(summarizeTimings({5}).cv, 0);
}

TEST(Timing, WarmUpMakesTheCountedRunsWhenNoTimeIsAsked) {
  int calls = 0;
  EXPECT_EQ(warmUp([&] { ++calls; }, 3, 0), 3);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(warmUp([&] { ++calls; }, 0, 0), 0);
  EXPECT_EQ(calls, 3);
}

TEST(Timing, WarmUpRunsUntilItsTimeHasPassed) {
  // Each call takes 2 ms: 30 ms of warm-up is about 15 calls, far more than
  // the one asked for, and it stops once the time is up.
  using Clock = std::chrono::steady_clock;
  std::vector<Clock::time_point> started;
  auto before = Clock::now();
  int64_t calls = warmUp(
      [&] {
        started.push_back(Clock::now());
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      },
      1, 0.03);
  double took = std::chrono::duration<double>(Clock::now() - before).count();
  EXPECT_EQ(calls, int64_t(started.size()));
  EXPECT_GE(took, 0.03);
  EXPECT_GE(calls, 5);
  // No call starts after the 30 ms (allowing the clock reads around it).
  EXPECT_LT(std::chrono::duration<double>(started.back() - before).count(),
            0.03 + 0.002);
  EXPECT_LE(calls, 16);
}
