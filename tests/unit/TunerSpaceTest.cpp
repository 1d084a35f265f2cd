//===- TunerSpaceTest.cpp - Sketches: sampling, mutation, validity --------===//
#include "TestContext.h"
#include "hatc/Config.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Sketch.h"

#include <gtest/gtest.h>

using namespace hatc;
using namespace hatc::tuner;

namespace {

Workload load(const std::string &example) {
  auto w = loadWorkload(test::context(),
                        std::string(HATC_SOURCE_DIR) + "/examples/" + example);
  if (!w) {
    ADD_FAILURE() << errorMessage(w.takeError());
    return Workload();
  }
  return std::move(*w);
}

TargetFacts cpuFacts() {
  TargetFacts facts;
  facts.kind = TargetKind::Cpu;
  facts.vectorLanes = 16;
  facts.vectorRegisters = 32;
  facts.l2Bytes = 1 << 20;
  facts.cores = 2;
  return facts;
}

bool inDomain(const Sketch &sketch, const Config &config) {
  for (const KnobSpec &knob : sketch.knobs())
    if (std::find(knob.domain.begin(), knob.domain.end(),
                  config.at(knob.name)) == knob.domain.end())
      return false;
  return true;
}

} // namespace

TEST(TunerSpace, AnalysisFindsAnchorAndConsumer) {
  Workload w = load("matmul_bias_relu.mlir");
  WorkloadShape shape = analyzeWorkload(w);
  EXPECT_EQ(shape.anchor, WorkloadShape::Anchor::Matmul);
  EXPECT_EQ(shape.loopRanges, (std::vector<int64_t>{128, 3072, 768}));
  EXPECT_TRUE(shape.hasElementwiseConsumer);
  EXPECT_EQ(shape.elemType, "f32");
  Workload conv = load("resnet50_conv3x3.mlir");
  EXPECT_EQ(analyzeWorkload(conv).anchor, WorkloadShape::Anchor::Conv2D);
  Workload ew = load("bias_relu.mlir");
  EXPECT_EQ(analyzeWorkload(ew).anchor, WorkloadShape::Anchor::Elementwise);
  Workload i8 = load("matmul_i8.mlir");
  EXPECT_EQ(analyzeWorkload(i8).elemType, "i8");
  EXPECT_EQ(analyzeWorkload(i8).accType, "i32");
}

TEST(TunerSpace, SamplesAreValidAndSeeded) {
  Workload w = load("matmul_1024.mlir");
  SearchSpace space(analyzeWorkload(w), cpuFacts());
  ASSERT_FALSE(space.empty());
  Rng a(7), b(7);
  for (int i = 0; i < 50; ++i) {
    auto x = space.sample(a), y = space.sample(b);
    ASSERT_TRUE(x && y);
    EXPECT_EQ(*x, *y);
    EXPECT_FALSE(space.invalidReason(*x)) << x->dump();
  }
}

TEST(TunerSpace, MutationAndCrossoverStayInTheDomain) {
  Workload w = load("resnet50_conv3x3.mlir");
  SearchSpace space(analyzeWorkload(w), cpuFacts());
  const Sketch &sketch = *space.all().front();
  Rng rng(3);
  Config a = *space.sample(rng), b = *space.sample(rng);
  int changed = 0;
  for (int i = 0; i < 200; ++i) {
    Config m = space.mutate(a, rng);
    EXPECT_TRUE(inDomain(sketch, m)) << m.dump();
    changed += m != a;
    Config c = space.crossover(a, b, rng);
    EXPECT_TRUE(inDomain(sketch, c));
    for (const KnobSpec &knob : sketch.knobs())
      EXPECT_TRUE(c[knob.name] == a[knob.name] || c[knob.name] == b[knob.name]);
  }
  EXPECT_GT(changed, 150); // a mutation almost always changes something
}

TEST(TunerSpace, ConstraintsExplainThemselves) {
  Workload w = load("matmul_odd.mlir");
  SearchSpace space(analyzeWorkload(w), cpuFacts());
  Config config = {{"sketch", "cpu_matmul"}, {"par", 1},    {"mc", 64},
                   {"nc", 64},               {"kc", 64},    {"mr", 8},
                   {"nr", 64},               {"k_unroll", 1}, {"order", "mnk"},
                   {"pack", 0}};
  auto reason = space.invalidReason(config);
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("a 8x64 register tile needs 37 vector registers"),
            std::string::npos)
      << *reason;
  config["mr"] = 4;
  reason = space.invalidReason(config);
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("needs pack=1 (padding)"), std::string::npos);
  config["pack"] = 1;
  EXPECT_FALSE(space.invalidReason(config)) << *space.invalidReason(config);
  config["par"] = 3;
  EXPECT_NE(space.invalidReason(config)->find("outside its domain"),
            std::string::npos);
  config["par"] = 1;
  config["bogus"] = 1;
  EXPECT_NE(space.invalidReason(config)->find("unknown knob 'bogus'"),
            std::string::npos);
  EXPECT_NE(space.invalidReason({{"sketch", "cpu_conv"}})->find("no sketch"),
            std::string::npos);
}

TEST(TunerSpace, HwaccTilesRespectTheMemories) {
  Workload w = load("matmul_1024.mlir");
  TargetFacts facts;
  facts.kind = TargetKind::Hwacc;
  facts.arrayDim = 16;
  facts.scratchpadRows = 4096;
  facts.accumulatorRows = 1024;
  SearchSpace space(analyzeWorkload(w), facts);
  ASSERT_EQ(space.all().size(), 1u);
  Config big = {{"sketch", "hwacc_gemm"}, {"tm", 256},
                {"tn", 256},              {"tk", 256},
                {"loop_order", "mnk"},    {"double_buffer", true},
                {"dataflow", "ws"}};
  auto reason = space.invalidReason(big);
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("scratchpad rows"), std::string::npos) << *reason;
  Rng rng(1);
  for (int i = 0; i < 30; ++i) {
    Config c = *space.sample(rng);
    EXPECT_EQ(c["tm"].get<int64_t>() % 16, 0);
    auto script = space.script(c);
    ASSERT_TRUE(bool(script));
    EXPECT_NE(script->find("transform.annotate"), std::string::npos);
  }
}

TEST(TunerSpace, NoSketchForWhatCannotBeTuned) {
  Workload ew = load("bias_relu.mlir");
  TargetFacts facts;
  facts.kind = TargetKind::Hwacc;
  EXPECT_TRUE(SearchSpace(analyzeWorkload(ew), facts).empty());
}
