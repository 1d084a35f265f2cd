//===- MetricsTest.cpp - Tests of the cost-model metrics ------------------===//
//
// pairwiseRankAccuracy and topKRecall on small examples counted by hand.
//
//===----------------------------------------------------------------------===//

#include "hatc/CostModel/CostModel.h"

#include <gtest/gtest.h>

using namespace hatc::cost_model;

TEST(CostModelMetrics, PairwiseRankAccuracyCountsPairsWithinGroups) {
  // Groups interleaved: pairs across groups must not count.
  //   a: actual 1, 2, 3 predicted 0.1, 0.3, 0.2 -> (0,1) ok, (0,2) ok,
  //      (1,2) wrong: 2 of 3.
  //   b: actual 5, 5, 1 predicted 3, 2, 2 -> (0,1) tied actual: skipped;
  //      (0,2) ok; (1,2) tied prediction: half.
  // Total (2 + 1 + 0.5) / 5 pairs.
  std::vector<std::string> groups = {"a", "b", "a", "b", "a", "b"};
  std::vector<double> actual = {1, 5, 2, 5, 3, 1};
  std::vector<double> predicted = {0.1, 3, 0.3, 2, 0.2, 2};
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy(predicted, actual, groups), 0.7);
  // Predicting b's worst as its best: (0,2) and (1,2) wrong: 2 / 5.
  predicted[5] = 10;
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy(predicted, actual, groups), 0.4);
}

TEST(CostModelMetrics, PairwiseRankAccuracyEdgeCases) {
  // Perfect and reversed orders.
  std::vector<std::string> one = {"g", "g", "g", "g"};
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy({1, 2, 3, 4}, {10, 20, 30, 40}, one), 1.0);
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy({4, 3, 2, 1}, {10, 20, 30, 40}, one), 0.0);
  // Only cross-group pairs, or only ties: nothing to judge.
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy({1, 2}, {1, 2}, {"a", "b"}), 0.5);
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy({1, 2}, {3, 3}, {"a", "a"}), 0.5);
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy({}, {}, {}), 0.5);
}

TEST(CostModelMetrics, PairwiseRankAccuracyLeavesOutPairsWithinTheGap) {
  // Actual 100, 103, 200: with a 5% gap the pair (100, 103) is noise and
  // does not count; the model gets it wrong and the other two right.
  std::vector<std::string> g = {"g", "g", "g"};
  std::vector<double> actual = {100, 103, 200};
  std::vector<double> predicted = {2, 1, 3};
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy(predicted, actual, g), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy(predicted, actual, g, 0.05), 1.0);
  // 3 / 103 is under 3%: a 2% gap keeps the pair.
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy(predicted, actual, g, 0.02),
                   2.0 / 3.0);
  // A gap wider than every difference leaves nothing to judge.
  EXPECT_DOUBLE_EQ(pairwiseRankAccuracy(predicted, actual, g, 0.6), 0.5);
}

TEST(CostModelMetrics, TopKRecallAveragesGroups) {
  //   a: actual 10, 9, 8, 1, 0; predicted 0.9, 0.1, 0.8, 0.7, 0.0.
  //      k=2: true {0, 1}, predicted {0, 2}: 1/2. k=1: {0} vs {0}: 1.
  //   b: actual 3, 1; predicted 0, 1.
  //      k=2 (the whole group): 1. k=1: true {0}, predicted {1}: 0.
  std::vector<std::string> groups = {"a", "a", "b", "a", "a", "b", "a"};
  std::vector<double> actual = {10, 9, 3, 8, 1, 1, 0};
  std::vector<double> predicted = {0.9, 0.1, 0, 0.8, 0.7, 1, 0.0};
  EXPECT_DOUBLE_EQ(topKRecall(predicted, actual, groups, 2), 0.75);
  EXPECT_DOUBLE_EQ(topKRecall(predicted, actual, groups, 1), 0.5);
  // k larger than every group: everything is found.
  EXPECT_DOUBLE_EQ(topKRecall(predicted, actual, groups, 10), 1.0);
  EXPECT_DOUBLE_EQ(topKRecall(predicted, actual, groups, 0), 0.0);
  EXPECT_DOUBLE_EQ(topKRecall({}, {}, {}, 3), 0.0);
}

TEST(CostModelMetrics, TopKRecallCountsTiesWithTheKthBest) {
  // Two configs share the best throughput: predicting either is a hit.
  std::vector<std::string> groups = {"g", "g", "g"};
  EXPECT_DOUBLE_EQ(topKRecall({0, 1, 0.5}, {5, 5, 1}, groups, 1), 1.0);
  EXPECT_DOUBLE_EQ(topKRecall({0, 0.5, 1}, {5, 5, 1}, groups, 1), 0.0);
}
