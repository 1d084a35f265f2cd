//===- CheckTest.cpp - Output comparison ----------------------------------===//
#include "hatc/Measure/Check.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hatc;

TEST(Check, ExactMatchIsCorrect) {
  CheckResult r = compareWithReference({1, 2, 3}, {1, 2, 3}, 0);
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.maxRelErr, 0);
}

TEST(Check, RelativeErrorUsesAFloorForTinyReferences) {
  // Element 1's reference is ~0: its error is measured against 1% of the
  // largest reference value (100), not against 1e-9.
  CheckResult r = compareWithReference({100, 0.5}, {100, 1e-9}, 1e-3);
  EXPECT_NEAR(r.maxRelErr, 0.5, 1e-8);
  EXPECT_EQ(r.worstIndex, 1);
  EXPECT_FALSE(r.correct);
  CheckResult ok = compareWithReference({100.01, 0.0}, {100, 1e-9}, 1e-3);
  EXPECT_TRUE(ok.correct);
}

TEST(Check, NaNAlwaysFails) {
  CheckResult r = compareWithReference({1, NAN}, {1, 2}, 1e9);
  EXPECT_FALSE(r.correct);
  EXPECT_EQ(r.nanCount, 1);
  EXPECT_EQ(r.worstIndex, 1);
}

TEST(Check, NaNWhereTheReferenceIsNaNIsNotCompared) {
  // sqrt of a negative random input: undefined in both; the rest counts.
  CheckResult r = compareWithReference({NAN, 2.0}, {NAN, 2.0}, 1e-3);
  EXPECT_TRUE(r.correct);
  EXPECT_EQ(r.nanCount, 0);
  EXPECT_FALSE(compareWithReference({NAN, 3.0}, {NAN, 2.0}, 1e-3).correct);
}

TEST(Check, IntegersMustMatchExactly) {
  EXPECT_EQ(defaultTolerance(ElemKind::I32), 0);
  EXPECT_GT(defaultTolerance(ElemKind::F32), 0);
  EXPECT_FALSE(compareWithReference({5, 7}, {5, 8}, 0).correct);
}

TEST(Check, SizeMismatchFails) {
  EXPECT_FALSE(compareWithReference({1}, {1, 2}, 1).correct);
}

TEST(Check, CombineKeepsTheWorst) {
  CheckResult a = compareWithReference({1}, {1}, 0);
  CheckResult b = compareWithReference({2}, {1}, 0);
  CheckResult all = combine({a, b});
  EXPECT_FALSE(all.correct);
  EXPECT_DOUBLE_EQ(all.maxRelErr, 1.0);
}
