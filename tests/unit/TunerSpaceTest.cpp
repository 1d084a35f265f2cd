//===- TunerSpaceTest.cpp - Sketches: sampling, mutation, validity --------===//
#include "TestContext.h"
#include "hatc/Config.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Support/Error.h"
#include "hatc/Tuner/Sketch.h"
#include "hatc/Tuner/Tuner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

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
  facts.threads = 2;
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
  const Sketch &sketch = *space.all().front(); // cpu_conv (of two)
  Rng rng(3);
  Config a = *sketch.sample(rng), b = *sketch.sample(rng);
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
  EXPECT_NE(space.invalidReason(config)->find(
                "par=3 exceeds the 2 kernel threads"),
            std::string::npos)
      << *space.invalidReason(config);
  config["par"] = 1;
  config["mc"] = 7;
  EXPECT_NE(space.invalidReason(config)->find("outside its domain"),
            std::string::npos);
  config["mc"] = 64;
  config["bogus"] = 1;
  EXPECT_NE(space.invalidReason(config)->find("unknown knob 'bogus'"),
            std::string::npos);
  EXPECT_NE(space.invalidReason({{"sketch", "cpu_conv"}})->find("no sketch"),
            std::string::npos);
}

// A knob added to a space after configs without it were recorded (fuse,
// offered to batch matmuls later) may be absent: the config is valid and
// means its absentMeans value. Any other knob is still required.
TEST(TunerSpace, AKnobAddedLaterMayBeAbsent) {
  Workload w = load("matmul_bias_relu.mlir");
  SearchSpace space(analyzeWorkload(w), cpuFacts());
  Config config = {{"sketch", "cpu_matmul"}, {"par", 2},       {"mc", 64},
                   {"nc", 128},              {"kc", 128},      {"mr", 8},
                   {"nr", 32},               {"k_unroll", 2},  {"order", "mnk"},
                   {"pack", 0},              {"fuse", 0}};
  ASSERT_FALSE(space.invalidReason(config)) << *space.invalidReason(config);
  auto withFuse = space.script(config);
  ASSERT_TRUE(bool(withFuse)) << errorMessage(withFuse.takeError());
  config.erase("fuse");
  EXPECT_FALSE(space.invalidReason(config)) << *space.invalidReason(config);
  auto without = space.script(config);
  ASSERT_TRUE(bool(without)) << errorMessage(without.takeError());
  // The same script, below its first line (the config as given).
  EXPECT_EQ(without->substr(without->find('\n')),
            withFuse->substr(withFuse->find('\n')));
  config.erase("mr");
  auto reason = space.invalidReason(config);
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("missing knob 'mr'"), std::string::npos) << *reason;
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
                 {"promote", true}, {"vec", 4}, {"reg", true}};
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
  EXPECT_NE(script->find("tile_sizes [64, 64](mapping = [#gpu.block<y>"),
            std::string::npos);
  EXPECT_NE(script->find("num_threads [16, 16](mapping = [#gpu.thread<y>"),
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
  // Register tiles: k steps of 1 per thread, vectorized, C hoisted.
  EXPECT_NE(script->find("tile_sizes [0, 0, 1]"), std::string::npos);
  EXPECT_NE(script->find("hoist_redundant_vector_transfers"),
            std::string::npos);
  Config scalar = good;
  scalar["reg"] = false;
  EXPECT_EQ(space.script(scalar)->find("hoist_redundant_vector_transfers"),
            std::string::npos);
}

TEST(TunerSpace, ConvIsTunedDirectOrThroughIm2col) {
  Workload conv = load("resnet50_conv3x3.mlir");
  SearchSpace space(analyzeWorkload(conv), cpuFacts());
  ASSERT_EQ(space.all().size(), 2u);
  EXPECT_EQ(space.all()[0]->name(), "cpu_conv");
  EXPECT_EQ(space.all()[1]->name(), "cpu_conv_im2col");
  // The GEMM of the patch matrix: 3136 x 64 x 576.
  Config good = {{"sketch", "cpu_conv_im2col"}, {"par", 2},  {"mc", 56},
                 {"nc", 64},                    {"kc", 64},  {"mr", 7},
                 {"nr", 32},                    {"k_unroll", 2},
                 {"copy", 64}};
  EXPECT_EQ(space.invalidReason(good), std::nullopt);
  auto reasonWith = [&](const char *knob, nlohmann::json value) {
    Config c = good;
    c[knob] = value;
    return space.invalidReason(c).value_or("");
  };
  EXPECT_NE(reasonWith("mc", 64).find("mc=64 does not divide a thread's "
                                      "1568 patch rows"),
            std::string::npos)
      << reasonWith("mc", 64);
  EXPECT_NE(reasonWith("mr", 6).find("register tile does not divide"),
            std::string::npos);
  EXPECT_NE(reasonWith("nr", 48).find("register tile does not divide"),
            std::string::npos);
  auto script = space.script(good);
  ASSERT_TRUE(bool(script));
  for (const char *piece :
       {"convert_conv2d_to_img2col", "fold_unit_extent_dims_via_reshapes",
        "filter_result_type = tensor<3136x64xf32>",
        "num_threads [2, 0, 0]", "fuse_into_containing_op",
        "tile_sizes [1, 64]", "{vectorize_nd_extract}",
        "tile_sizes [56, 64, 64]", "tile_sizes [7, 32, 1]",
        "transform.loop.unroll"})
    EXPECT_NE(script->find(piece), std::string::npos) << piece;

  // Batches of images stay with the direct sketch.
  WorkloadShape batched = analyzeWorkload(conv);
  batched.loopRanges[0] = 2;
  SearchSpace two(batched, cpuFacts());
  EXPECT_NE(two.invalidReason(good).value_or("").find("takes one image, not 2"),
            std::string::npos);
}

TEST(TunerSpace, ThreadCountsFollowTheKernelThreads) {
  Workload w = load("matmul_1024.mlir");
  auto parDomain = [&](int64_t threads) {
    TargetFacts facts = cpuFacts();
    facts.cores = 16; // the threads decide, not the cores
    facts.threads = threads;
    SearchSpace space(analyzeWorkload(w), facts);
    std::vector<int64_t> values;
    for (const auto &v : space.all()[0]->knobs()[0].domain)
      values.push_back(v.get<int64_t>());
    return values;
  };
  EXPECT_EQ(parDomain(1), (std::vector<int64_t>{1}));
  EXPECT_EQ(parDomain(2), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(parDomain(3), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(parDomain(6), (std::vector<int64_t>{1, 2, 4, 6}));
  EXPECT_EQ(parDomain(16), (std::vector<int64_t>{1, 2, 4, 8, 16}));
}

/// Every sketch with a `par` knob samples only par <= threads, and names the
/// thread count when a config asks for more.
TEST(TunerSpace, ParNeverExceedsTheThreads) {
  for (const char *example : {"matmul_1024.mlir", "matmul_bias_relu.mlir",
                              "resnet50_conv3x3.mlir", "bias_relu.mlir"}) {
    Workload w = load(example);
    WorkloadShape shape = analyzeWorkload(w);
    for (int64_t threads : {1, 3}) {
      TargetFacts facts = cpuFacts();
      facts.cores = 16;
      facts.threads = threads;
      SearchSpace space(shape, facts);
      ASSERT_FALSE(space.empty()) << example;
      for (const auto &sketch : space.all()) {
        std::set<int64_t> seen;
        Rng rng(7);
        for (int i = 0; i < 300; ++i) {
          Config config = sketch->sampleAny(rng);
          seen.insert(config.at("par").get<int64_t>());
          if (auto valid = sketch->sample(rng)) {
            EXPECT_LE(valid->at("par").get<int64_t>(), threads)
                << example << " " << sketch->name();
          }
        }
        std::set<int64_t> expected =
            threads == 1 ? std::set<int64_t>{1} : std::set<int64_t>{1, 2, 3};
        EXPECT_EQ(seen, expected) << example << " " << sketch->name();
        Config tooMany = sketch->sampleAny(rng);
        tooMany["par"] = threads + 1;
        auto reason = sketch->invalidReason(tooMany);
        ASSERT_TRUE(reason) << example << " " << sketch->name();
        EXPECT_NE(reason->find("par=" + std::to_string(threads + 1) +
                               " exceeds the " + std::to_string(threads) +
                               " kernel threads"),
                  std::string::npos)
            << *reason;
      }
    }
  }
}

TEST(TunerSpace, HostOpsPicksAmongTheFirstFourGemms) {
  // Six GEMMs: the knob covers the first four; the rest stay on the array.
  Workload w = load("matmul_1024.mlir");
  WorkloadShape shape = analyzeWorkload(w);
  shape.gemmOps = 6;
  TargetFacts facts;
  facts.kind = TargetKind::Hwacc;
  SearchSpace space(shape, facts);
  const Sketch &sketch = *space.all()[0];
  ASSERT_EQ(sketch.knobs().back().name, "host_ops");
  EXPECT_EQ(sketch.knobs().back().domain.size(), 15u); // masks 0..14
  Config c = {{"sketch", "hwacc_gemm"}, {"tm", 64},
              {"tn", 64},               {"tk", 64},
              {"loop_order", "mnk"},    {"double_buffer", true},
              {"dataflow", "ws"},       {"host_ops", 5}};
  auto script = space.script(c);
  ASSERT_TRUE(bool(script)) << errorMessage(script.takeError());
  EXPECT_NE(script->find("{overflow_result = 4 : i64} : (!transform.any_op) -> "
                         "(!transform.any_op, !transform.any_op, "
                         "!transform.any_op, !transform.any_op, "
                         "!transform.any_op)"),
            std::string::npos)
      << *script;
  size_t onHost = 0;
  for (size_t at = script->find("hwacc.on_host"); at != std::string::npos;
       at = script->find("hwacc.on_host", at + 1))
    ++onHost;
  EXPECT_EQ(onHost, 2u); // bits 0 and 2

  // As many GEMMs as the knob covers: no overflow handle (MLIR 19's
  // split_handle crashes on one it does not fill).
  shape.gemmOps = 2;
  SearchSpace two(shape, facts);
  c["host_ops"] = 1;
  script = two.script(c);
  ASSERT_TRUE(bool(script)) << errorMessage(script.takeError());
  EXPECT_EQ(script->find("overflow_result"), std::string::npos) << *script;
}

/// The cost model learns which sketch a config is from the sketch itself
/// (Sketch::describe): its own one-hot feature, named after it, and its
/// knobs in the features.
TEST(TunerSpace, SketchesDescribeTheirConfigsToTheCostModel) {
  std::set<std::string> described;
  for (const char *example : {"matmul_1024.mlir", "matmul_bias_relu.mlir",
                              "resnet50_conv3x3.mlir", "bias_relu.mlir"}) {
    Workload w = load(example);
    WorkloadShape shape = analyzeWorkload(w);
    for (TargetKind kind : {TargetKind::Cpu, TargetKind::Hwacc,
                            TargetKind::Gpu}) {
      TargetFacts facts = cpuFacts();
      facts.kind = kind;
      SearchSpace space(shape, facts);
      Rng rng(5);
      for (const auto &sketch : space.all()) {
        Config config = sketch->sampleAny(rng);
        std::vector<float> f = cost_model::extractFeatures(
            featureInputOf(shape, facts, config, 16, sketch.get()));
        for (int id = cost_model::FSketchCpuMatmul;
             id <= cost_model::FSketchGpuElementwise; ++id) {
          EXPECT_EQ(f[id], cost_model::featureNames()[id] ==
                                   "sketch_" + sketch->name()
                               ? 1.0f
                               : 0.0f)
              << sketch->name() << " " << cost_model::featureNames()[id];
        }
        if (config.contains("par")) {
          EXPECT_FLOAT_EQ(f[cost_model::FLog2Par],
                          std::log2(double(config["par"].get<int64_t>())))
              << sketch->name();
        }
        // Without the sketch object, featureInputOf finds it by name.
        EXPECT_EQ(cost_model::extractFeatures(
                      featureInputOf(shape, facts, config, 16)),
                  f);
        described.insert(sketch->name());
      }
    }
  }
  EXPECT_EQ(described.size(), 7u) << "every sketch was described";
}

TEST(TunerSpace, DotProductsOnlyWhereTheTargetHasThem) {
  // i8 and bf16 matmuls get a dot_group knob (FMAs, or a k group of 4 / 2
  // per VNNI / BF16 dot product) when the target has the instruction set;
  // the default takes the dot product. Without it, or for f32, no knob.
  auto knobOf = [](const Sketch &sketch) -> const KnobSpec * {
    for (const KnobSpec &knob : sketch.knobs())
      if (knob.name == "dot_group")
        return &knob;
    return nullptr;
  };
  TargetFacts with = cpuFacts(), without = cpuFacts();
  with.vnni = with.bf16Dot = true;
  struct Case {
    const char *example;
    int64_t group;
  };
  for (Case c : {Case{"matmul_i8_1024.mlir", 4}, Case{"matmul_bf16_1024.mlir", 2},
                 Case{"matmul_1024.mlir", 0}}) {
    SCOPED_TRACE(c.example);
    Workload w = load(c.example);
    SearchSpace on(analyzeWorkload(w), with), off(analyzeWorkload(w), without);
    const Sketch &sketch = *on.all().front();
    ASSERT_EQ(sketch.name(), "cpu_matmul");
    EXPECT_EQ(knobOf(*off.all().front()), nullptr);
    const KnobSpec *knob = knobOf(sketch);
    if (!c.group) {
      EXPECT_EQ(knob, nullptr);
      continue;
    }
    ASSERT_NE(knob, nullptr);
    EXPECT_EQ(knob->domain, (std::vector<nlohmann::json>{1, c.group}));
    auto config = sketch.analyticalDefault();
    ASSERT_TRUE(config);
    EXPECT_EQ(config->at("dot_group"), c.group);
    EXPECT_FALSE(on.invalidReason(*config)) << config->dump();
    EXPECT_FALSE(off.all().front()->analyticalDefault()->contains("dot_group"));
  }
}

TEST(TunerSpace, TargetDescriptionsTurnDotProductsOff) {
  auto plain = parseTarget(nlohmann::json{{"kind", "cpu"}}, "plain");
  auto off = parseTarget(
      nlohmann::json{{"kind", "cpu"},
                     {"disable_features", {"avx512vnni", "avx512bf16"}}},
      "off");
  ASSERT_TRUE(plain && off);
  EXPECT_NE(plain->fingerprint(), off->fingerprint());
  auto facts = TargetFacts::of(*off);
  ASSERT_TRUE(bool(facts));
  EXPECT_FALSE(facts->vnni);
  EXPECT_FALSE(facts->bf16Dot);
  auto bad = parseTarget(
      nlohmann::json{{"kind", "cpu"}, {"disable_features", "avx512vnni"}},
      "t.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(errorMessage(bad.takeError())
                .find("t.json: field \"disable_features\" must be an array"),
            std::string::npos);
}

TEST(TunerSpace, AmxSketchOnlyWhereTheTargetHasTiles) {
  // i8 and bf16 matmuls get cpu_matmul_amx next to cpu_matmul where the
  // target has AMX for their types; its default tiles the problem (2 x 2
  // accumulator tiles, the whole k block where the A strip fits L1) and is
  // valid; shapes that do not tile into 16-row, 64-byte tiles say why.
  // Two accumulator tiles (32 x 16): 3 of the 8 registers stay free for
  // the next step's loads.
  TargetFacts with = cpuFacts(), without = cpuFacts();
  with.amxInt8 = with.amxBf16 = true;
  with.l1Bytes = 48 << 10;
  auto amxOf = [](const SearchSpace &space) -> const Sketch * {
    for (const auto &sketch : space.all())
      if (sketch->name() == "cpu_matmul_amx")
        return sketch.get();
    return nullptr;
  };
  struct Case {
    const char *example;
    bool amx;
    int64_t kc;
  };
  // i8: 32 rows x 1024 bytes of A = 32 KiB <= 3/4 of L1; bf16: 1024 k
  // values are 64 KiB, so 512.
  for (Case c : {Case{"matmul_i8_1024.mlir", true, 1024},
                 Case{"matmul_bf16_1024.mlir", true, 512},
                 Case{"matmul_1024.mlir", false, 0}}) {
    SCOPED_TRACE(c.example);
    Workload w = load(c.example);
    SearchSpace on(analyzeWorkload(w), with), off(analyzeWorkload(w), without);
    EXPECT_EQ(amxOf(off), nullptr);
    const Sketch *sketch = amxOf(on);
    if (!c.amx) {
      EXPECT_EQ(sketch, nullptr);
      continue;
    }
    ASSERT_NE(sketch, nullptr);
    EXPECT_EQ(on.all().front()->name(), "cpu_matmul");
    auto config = sketch->analyticalDefault();
    ASSERT_TRUE(config);
    EXPECT_EQ(*config, (Config{{"sketch", "cpu_matmul_amx"}, {"par", 2},
                              {"mt", 32}, {"nt", 16}, {"kc", c.kc},
                              {"nc", 512}}));
    EXPECT_FALSE(on.invalidReason(*config)) << config->dump();
    std::string script = sketch->script(*config);
    EXPECT_NE(script.find("transform.structured.pack"), std::string::npos);
    EXPECT_NE(script.find("hatc.amx_micro_tile"), std::string::npos);
    // More accumulators than the 8 tile registers hold, and an mt that
    // does not divide a thread's rows.
    Config three = *config;
    three["mt"] = 48;
    EXPECT_TRUE(sketch->invalidReason(three));
    Config square = *config;
    square["nt"] = 32;
    EXPECT_FALSE(sketch->invalidReason(square)) << square.dump();
    Config k = *config;
    k["kc"] = 32; // bf16: one tile row; i8: half of one
    EXPECT_EQ(bool(sketch->invalidReason(k)), c.kc == 1024);
  }
  // 257x129x67: nothing tiles; the reason names the dim.
  Workload odd = load("../tests/lit/Inputs/matmul_odd_i8.mlir");
  SearchSpace space(analyzeWorkload(odd), with);
  const Sketch *sketch = amxOf(space);
  ASSERT_NE(sketch, nullptr);
  EXPECT_FALSE(sketch->analyticalDefault());
  auto reason = sketch->invalidReason(Config{{"sketch", "cpu_matmul_amx"},
                                             {"par", 1}, {"mt", 16},
                                             {"nt", 16}, {"kc", 64},
                                             {"nc", 64}});
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("does not divide"), std::string::npos) << *reason;
  // A target description can turn the tiles off.
  auto off = parseTarget(
      nlohmann::json{{"kind", "cpu"}, {"disable_features", {"amx-tile"}}},
      "off");
  ASSERT_TRUE(bool(off));
  auto facts = TargetFacts::of(*off);
  ASSERT_TRUE(bool(facts));
  EXPECT_FALSE(facts->amxInt8);
  EXPECT_FALSE(facts->amxBf16);
}

TEST(TunerSpace, LargeConstantWeightsStayInPanels) {
  // A model task's weights of 2 MiB or more come from memory in the model:
  // only packed panels (prefetched block by block) are searched; measured
  // alone they stay cached, and unpacked configs won there. Weights passed
  // as arguments keep the whole domain. The default lies in it.
  auto packOf = [](const Sketch &sketch) {
    for (const KnobSpec &knob : sketch.knobs())
      if (knob.name == "pack")
        return knob.domain;
    return std::vector<nlohmann::json>{};
  };
  for (const char *example : {"matmul_1024.mlir", "bert_ffn_matmul.mlir"}) {
    SCOPED_TRACE(example);
    Workload w = load(example);
    WorkloadShape shape = analyzeWorkload(w);
    SearchSpace free(shape, cpuFacts());
    ASSERT_EQ(free.all().front()->name(), "cpu_matmul");
    EXPECT_EQ(packOf(*free.all().front()),
              (std::vector<nlohmann::json>{0, 1, 2}));
    shape.constantWeights = true;
    SearchSpace weights(shape, cpuFacts());
    const Sketch &sketch = *weights.all().front();
    EXPECT_EQ(packOf(sketch), (std::vector<nlohmann::json>{2}));
    auto config = sketch.analyticalDefault();
    ASSERT_TRUE(config);
    EXPECT_FALSE(weights.invalidReason(*config)) << config->dump();
    // A block of the weights serves two register tiles or more (the
    // prefetch's condition): mc = mr is refused, and only then.
    Config one = *config;
    one["mr"] = 8, one["nr"] = 32, one["mc"] = 8;
    auto reason = weights.invalidReason(one);
    ASSERT_TRUE(reason) << one.dump();
    EXPECT_NE(reason->find("mc >= 2 * mr"), std::string::npos) << *reason;
    EXPECT_FALSE(free.invalidReason(one)) << *free.invalidReason(one);
    one["mc"] = 16;
    EXPECT_FALSE(weights.invalidReason(one)) << *weights.invalidReason(one);
  }
}
