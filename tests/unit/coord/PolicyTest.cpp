//===- PolicyTest.cpp - Predictions, queues and policies ------------------===//
#include "CoordTestUtil.h"

#include "hatc/Coord/LatencyModel.h"
#include "hatc/Coord/Policy.h"
#include "hatc/Coord/Simulator.h"

#include <gtest/gtest.h>

using namespace hatc::coord;
using namespace hatc::coord::testing;

namespace {

/// Two backends (cpu, hwacc0), a GEMM and an elementwise workload, with base
/// predictions set by hand.
struct Fixture {
  LatencyModel model{{fakeCpu(), fakeHwacc()}};
  int gemm, eltwise;
  Fixture() {
    gemm = model.addWorkload(fakeWorkload("gemm", OpKind::Gemm, 1e9), nullptr);
    eltwise = model.addWorkload(
        fakeWorkload("relu", OpKind::Elementwise, 1e6), nullptr);
    model.setBase(gemm, 0, 1.0, PredictionSource::Measured);
    model.setBase(gemm, 1, 0.2, PredictionSource::Measured);
    model.setBase(eltwise, 0, 0.01, PredictionSource::Measured);
  }
};

TEST(CoordPolicy, EarliestFinishTimeWaitsOrSpills) {
  Fixture f;
  QueueModel queues(f.model.backends());
  auto dynamic = makePolicy(PolicyKind::Dynamic, f.model);
  // hwacc finishes at 0.2, cpu at 1.0.
  EXPECT_EQ(dynamic->choose(f.gemm, 0, f.model, queues, {}), 1);
  // Three queued GEMMs (until 0.6): waiting still ends first (0.8 < 1.0).
  for (int i = 0; i < 3; ++i)
    queues.assign(1, 0, 0.2);
  EXPECT_EQ(dynamic->choose(f.gemm, 0, f.model, queues, {}), 1);
  // Five (until 1.0): the idle cpu finishes first.
  queues.assign(1, 0, 0.2);
  queues.assign(1, 0, 0.2);
  EXPECT_EQ(dynamic->choose(f.gemm, 0, f.model, queues, {}), 0);
  // Elementwise work never goes to the array.
  EXPECT_EQ(dynamic->choose(f.eltwise, 0, f.model, queues, {}), 0);
  // A backend the task failed on is excluded.
  std::vector<bool> allowed = {false, true};
  EXPECT_EQ(dynamic->choose(f.gemm, 0, f.model, queues, allowed), 1);
  EXPECT_EQ(dynamic->choose(f.eltwise, 0, f.model, queues, allowed), -1);
}

TEST(CoordPolicy, TransferCostCounts) {
  BackendSpec hw = fakeHwacc();
  hw.transferBytesPerS = 1e6; // 1.5e5 bytes -> 0.15 s
  LatencyModel model({fakeCpu(), hw});
  int w = model.addWorkload(fakeWorkload("gemm", OpKind::Gemm, 1e9), nullptr);
  model.setBase(w, 0, 0.2, PredictionSource::Measured);
  model.setBase(w, 1, 0.1, PredictionSource::Measured);
  EXPECT_NEAR(model.transfer(w, 1), 0.15, 1e-12);
  EXPECT_NEAR(model.predict(w, 1), 0.25, 1e-12);
  QueueModel queues(model.backends());
  EXPECT_EQ(makePolicy(PolicyKind::Dynamic, model)
                ->choose(w, 0, model, queues, {}),
            0);
}

TEST(CoordPolicy, OnlineCorrectionConverges) {
  Fixture f;
  // The hwacc really takes 3x its prediction.
  for (int i = 0; i < 30; ++i)
    f.model.observe(f.gemm, 1, 0.6);
  EXPECT_NEAR(f.model.correction(f.gemm, 1), 3.0, 0.01);
  EXPECT_NEAR(f.model.predict(f.gemm, 1), 0.6, 0.01);
  // Other pairs are untouched; reset forgets.
  EXPECT_EQ(f.model.correction(f.gemm, 0), 1.0);
  f.model.resetCorrections();
  EXPECT_EQ(f.model.correction(f.gemm, 1), 1.0);
}

TEST(CoordPolicy, StaticBaselinesDoWhatTheySay) {
  Fixture f;
  QueueModel queues(f.model.backends());
  auto allCpu = makePolicy(PolicyKind::AllCpu, f.model);
  auto allHwacc = makePolicy(PolicyKind::AllHwacc, f.model);
  auto roundRobin = makePolicy(PolicyKind::RoundRobin, f.model);
  auto byOp = makePolicy(PolicyKind::StaticByOp, f.model);
  for (int i = 0; i < 5; ++i) {
    // Queues full of work change nothing for a static policy.
    queues.assign(1, 0, 10);
    EXPECT_EQ(allCpu->choose(f.gemm, 0, f.model, queues, {}), 0);
    EXPECT_EQ(allHwacc->choose(f.gemm, 0, f.model, queues, {}), 1);
    EXPECT_EQ(allHwacc->choose(f.eltwise, 0, f.model, queues, {}), 0)
        << "what the array cannot run stays on the cpu";
    EXPECT_EQ(byOp->choose(f.gemm, 0, f.model, queues, {}), 1);
    EXPECT_EQ(byOp->choose(f.eltwise, 0, f.model, queues, {}), 0);
  }
  std::vector<int> picks;
  for (int i = 0; i < 4; ++i)
    picks.push_back(roundRobin->choose(f.gemm, 0, f.model, queues, {}));
  EXPECT_EQ(picks, (std::vector<int>{0, 1, 0, 1}));
}

TEST(CoordPolicy, StaticByOpSpreadsOverIdenticalDevices) {
  LatencyModel model({fakeCpu(), fakeHwacc("hwacc0"), fakeHwacc("hwacc1")});
  int w = model.addWorkload(fakeWorkload("gemm", OpKind::Gemm, 1e9), nullptr);
  QueueModel queues(model.backends());
  auto byOp = makePolicy(PolicyKind::StaticByOp, model);
  EXPECT_EQ(byOp->choose(w, 0, model, queues, {}), 1);
  EXPECT_EQ(byOp->choose(w, 0, model, queues, {}), 2);
  EXPECT_EQ(byOp->choose(w, 0, model, queues, {}), 1);
}

TEST(CoordPolicy, QueueModelSplitsCoresIntoSlots) {
  QueueModel queues({fakeCpu(2)});
  EXPECT_EQ(queues.assign(0, 0, 1.0), 1.0);
  EXPECT_EQ(queues.availableAt(0, 0), 0.0) << "the second core is free";
  EXPECT_EQ(queues.assign(0, 0, 0.5), 0.5);
  EXPECT_EQ(queues.availableAt(0, 0), 0.5);
  queues.rebuild(0, 0.7, {1.0}, {});
  EXPECT_EQ(queues.availableAt(0, 0.7), 0.7);
}

TEST(CoordPolicy, RooflineWhenNothingIsKnown) {
  LatencyModel model({fakeCpu(), fakeHwacc()});
  int w = model.addWorkload(fakeWorkload("gemm", OpKind::Gemm, 2e9), nullptr);
  EXPECT_EQ(model.source(w, 0), PredictionSource::Roofline);
  // 2 GFLOP at 30 GFLOP/s on one core; a 16x16 array at 1 GHz and 60%.
  EXPECT_NEAR(model.predict(w, 0), 2e9 / 30e9, 1e-9);
  EXPECT_NEAR(model.predict(w, 1), 2e9 / (2 * 256 * 1e9 * 0.6), 1e-9);
  EXPECT_LT(model.predict(w, 1), model.predict(w, 0));
}

TEST(CoordPolicy, StreamIsSeeded) {
  auto a = makeStream(4, {1, 2, 3, 4}, 100, 7);
  auto b = makeStream(4, {1, 2, 3, 4}, 100, 7);
  auto c = makeStream(4, {1, 2, 3, 4}, 100, 8);
  std::vector<int> wa, wb, wc;
  for (size_t i = 0; i < a.size(); ++i) {
    wa.push_back(a[i].workload);
    wb.push_back(b[i].workload);
    wc.push_back(c[i].workload);
  }
  EXPECT_EQ(wa, wb);
  EXPECT_NE(wa, wc);
}

} // namespace
