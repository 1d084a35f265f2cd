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

TEST(TunerSpace, GpuSketchesCoverMatmulAndElementwise) {
  TargetFacts gpu;
  gpu.kind = TargetKind::Gpu;
  Workload mm = load("matmul_1024.mlir");
  SearchSpace matmul(analyzeWorkload(mm), gpu);
  ASSERT_FALSE(matmul.empty());
  EXPECT_EQ(matmul.all()[0]->name(), "gpu_matmul");
  Workload ew = load("bias_relu.mlir");
  SearchSpace elementwise(analyzeWorkload(ew), gpu);
  ASSERT_FALSE(elementwise.empty());
  EXPECT_EQ(elementwise.all()[0]->name(), "gpu_elementwise");
  // No GPU sketch for convolutions, batch matmuls or i8.
  for (const char *example : {"resnet50_conv3x3.mlir",
                              "attention_batch_matmul.mlir", "matmul_i8.mlir"}) {
    Workload w = load(example);
    EXPECT_TRUE(SearchSpace(analyzeWorkload(w), gpu).empty()) << example;
  }
}

TEST(TunerSpace, GpuConstraintsExplainThemselves) {
  TargetFacts gpu;
  gpu.kind = TargetKind::Gpu;
  gpu.gpuSharedBytes = 48 * 1024;
  Workload mm = load("matmul_1024.mlir");
  SearchSpace space(analyzeWorkload(mm), gpu);
  Config good = {{"sketch", "gpu_matmul"}, {"bm", 64}, {"bn", 64},
                 {"tm", 4},  {"tn", 4},    {"bk", 16},
                 {"promote", true}, {"vec", 4}};
  EXPECT_EQ(space.invalidReason(good), std::nullopt);
  auto reasonWith = [&](const char *knob, nlohmann::json value) {
    Config c = good;
    c[knob] = value;
    return space.invalidReason(c).value_or("");
  };
  Config few = good;
  few["bm"] = 16, few["tm"] = 8, few["tn"] = 8; // 2 x 8 threads
  EXPECT_NE(space.invalidReason(few).value_or("").find("16 threads per block"),
            std::string::npos)
      << space.invalidReason(few).value_or("");
  EXPECT_NE(reasonWith("bm", 3).find("knob 'bm' = 3"), std::string::npos)
      << reasonWith("bm", 3);
  Config big = good; // 128x32 + 32x128 floats = 32 KiB
  big["bm"] = 128, big["bn"] = 128, big["bk"] = 32, big["tm"] = 8, big["tn"] = 8;
  gpu.gpuSharedBytes = 16 * 1024;
  SearchSpace small(analyzeWorkload(mm), gpu);
  EXPECT_NE(small.invalidReason(big).value_or("").find("32768 bytes of shared"),
            std::string::npos)
      << small.invalidReason(big).value_or("");
  EXPECT_EQ(space.invalidReason(big), std::nullopt);
  EXPECT_NE(reasonWith("promote", false).find("vec"), std::string::npos);
  Config slim = good;
  slim["tm"] = 1, slim["tn"] = 1, slim["bm"] = 16, slim["bn"] = 16;
  EXPECT_EQ(space.invalidReason(slim), std::nullopt); // 256 threads
  // The script: blocks and threads as configured, promotion, copy width.
  auto script = space.script(good);
  ASSERT_TRUE(bool(script));
  EXPECT_NE(script->find("tile_sizes [64, 64] (mapping = [#gpu.block<y>"),
            std::string::npos);
  EXPECT_NE(script->find("num_threads [16, 16] (mapping = [#gpu.thread<y>"),
            std::string::npos);
  EXPECT_NE(script->find("tile_sizes [0, 0, 16]"), std::string::npos);
  EXPECT_NE(script->find("mapping = [#gpu.memory_space<workgroup>]"),
            std::string::npos);
  EXPECT_NE(script->find("transform.param.constant 4 : i64"),
            std::string::npos);
  Config noPromote = good;
  noPromote["promote"] = false, noPromote["vec"] = 1;
  EXPECT_EQ(space.script(noPromote)->find("structured.promote"),
            std::string::npos);
}
