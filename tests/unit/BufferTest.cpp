//===- BufferTest.cpp - HostBuffer, memref descriptors, timing stats ------===//
#include "hatc/Measure/Timing.h"
#include "hatc/Runtime/Buffer.h"

#include <gtest/gtest.h>

#include <cmath>

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
  EXPECT_FALSE(parseElemKind("bf16").has_value());
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
