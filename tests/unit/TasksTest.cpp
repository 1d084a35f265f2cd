//===- TasksTest.cpp - A model split into tasks, and schedules put back ---===//
//
// Extraction: identical blocks share one task (weight 2) whatever their
// weights' values; the task holds its fill and its elementwise consumers;
// transposed-operand matmuls are tasks too. Going back: a tuned script
// reaches every instance of its task and nothing else, and one that does
// not apply in the model falls back to the default schedule.
//
//===----------------------------------------------------------------------===//
#include "TestContext.h"
#include "hatc/Db/Database.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Lowering/ScriptBuilder.h"
#include "hatc/Lowering/Tasks.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/Version.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/TransformOps/LinalgTransformOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace hatc;

namespace {

// Two conv + ReLU blocks of one shape (1x1 convs keep the shape), each with
// its own weights, then a matmul_transpose_b + bias of another shape.
const char *kModel = R"mlir(
#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
func.func @main(%x: tensor<1x4x8x8xf32>, %a: tensor<8x16xf32>,
                %b: tensor<32x16xf32>, %bias: tensor<32xf32>)
    -> (tensor<1x4x8x8xf32>, tensor<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<1.0> : tensor<4x4x1x1xf32>
  %w2 = arith.constant dense<2.0> : tensor<4x4x1x1xf32>
  %e0 = tensor.empty() : tensor<1x4x8x8xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %c0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w1 : tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) outs(%f0 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %r0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c0 : tensor<1x4x8x8xf32>) outs(%e0 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x8x8xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%r0, %w2 : tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) outs(%f1 : tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%c1 : tensor<1x4x8x8xf32>) outs(%e0 : tensor<1x4x8x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x4x8x8xf32>
  %e1 = tensor.empty() : tensor<8x32xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<8x32xf32>) -> tensor<8x32xf32>
  %mm = linalg.matmul_transpose_b ins(%a, %b : tensor<8x16xf32>, tensor<32x16xf32>)
      outs(%f2 : tensor<8x32xf32>) -> tensor<8x32xf32>
  %y = linalg.generic {indexing_maps = [#id2, #row, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %bias : tensor<8x32xf32>, tensor<32xf32>) outs(%e1 : tensor<8x32xf32>) {
  ^bb0(%in: f32, %bb: f32, %out: f32):
    %s = arith.addf %in, %bb : f32
    linalg.yield %s : f32
  } -> tensor<8x32xf32>
  return %r1, %y : tensor<1x4x8x8xf32>, tensor<8x32xf32>
}
)mlir";

Workload loadModel() {
  auto workload = parseWorkload(test::context(), kModel, "model.mlir");
  EXPECT_TRUE(bool(workload)) << llvm::toString(workload.takeError());
  return std::move(*workload);
}

TEST(Tasks, IdenticalBlocksShareOneTaskWeightedByTheirCount) {
  Workload model = loadModel();
  auto tasks = extractTasks(model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  ASSERT_EQ(tasks->size(), 3u); // the convs, B's transpose, the matmul
  const ModelTask &conv = (*tasks)[0];
  EXPECT_EQ(conv.weight, 2);
  ASSERT_EQ(conv.instances.size(), 2u);
  EXPECT_EQ(conv.instances[0].opIndices, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(conv.instances[1].opIndices, (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ((*tasks)[1].weight, 1);
  EXPECT_EQ((*tasks)[2].weight, 1);
  // The weights are arguments of the task, not its constants.
  EXPECT_NE(conv.ir.find("tensor<4x4x1x1xf32>"), std::string::npos);
  EXPECT_EQ(conv.ir.find("arith.constant dense"), std::string::npos)
      << conv.ir;
  // What the tuner measures is the standalone module, keyed as a workload.
  auto workload = taskWorkload(test::context(), conv);
  ASSERT_TRUE(bool(workload)) << llvm::toString(workload.takeError());
  EXPECT_EQ(workload->key(), conv.key);
  EXPECT_EQ(workload->hash(), conv.hash);
}

TEST(Tasks, WithWeightsTheFirstInstancesConstantsAreInTheModule) {
  Workload model = loadModel();
  auto tasks = extractTasks(model, /*withWeights=*/true);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  const ModelTask &conv = (*tasks)[0];
  // Keyed and recorded as without weights; measured with the first
  // instance's weights (dense<1.0>, not the second's dense<2.0>) in place
  // of the filter argument.
  EXPECT_EQ(conv.ir.find("arith.constant dense"), std::string::npos);
  ASSERT_FALSE(conv.weightsIr.empty());
  EXPECT_NE(conv.weightsIr.find("arith.constant dense<1.000000e+00> : "
                                "tensor<4x4x1x1xf32>"),
            std::string::npos)
      << conv.weightsIr;
  auto withWeights =
      parseWorkload(test::context(), conv.weightsIr, "weights.mlir", "task");
  ASSERT_TRUE(bool(withWeights)) << llvm::toString(withWeights.takeError());
  auto plain = taskWorkload(test::context(), conv);
  ASSERT_TRUE(bool(plain)) << llvm::toString(plain.takeError());
  EXPECT_EQ(withWeights->inputs.size() + 1, plain->inputs.size());
  EXPECT_EQ(withWeights->key(), conv.key);
  // A task without constant operands has nothing else to measure.
  EXPECT_TRUE((*tasks)[1].weightsIr.empty()) << (*tasks)[1].weightsIr;
  // Off by default: compiling a model does not print its weights again.
  auto lean = extractTasks(model);
  ASSERT_TRUE(bool(lean));
  EXPECT_TRUE((*lean)[0].weightsIr.empty());
}

TEST(Tasks, TaskHoldsItsFillAndItsElementwiseConsumers) {
  Workload model = loadModel();
  auto tasks = extractTasks(model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  const ModelTask &conv = (*tasks)[0];
  EXPECT_EQ(conv.opNames,
            (std::vector<std::string>{"linalg.fill", "linalg.conv_2d_nchw_fchw",
                                      "linalg.generic"}));
  EXPECT_EQ(conv.anchorOp, "linalg.conv_2d_nchw_fchw");
  EXPECT_EQ(conv.key, "conv_2d_nchw_fchw_f32_1x4x8x8x4x1x1_pppprrr+"
                      "generic_f32_1x4x8x8_pppp");
}

// A conv reading its filter through a slice of a padded constant (as
// hatc-fold-constants pad-conv-filters leaves it), twice with other values.
const char *kPaddedFilterModel = R"mlir(
func.func @main(%x: tensor<1x4x4x8xf32>) -> tensor<1x4x4x4xf32> {
  %zero = arith.constant 0.0 : f32
  %w1 = arith.constant dense<1.0> : tensor<1x1x8x6xf32>
  %w2 = arith.constant dense<2.0> : tensor<1x1x4x6xf32>
  %s1 = tensor.extract_slice %w1[0, 0, 0, 0] [1, 1, 8, 4] [1, 1, 1, 1]
      : tensor<1x1x8x6xf32> to tensor<1x1x8x4xf32>
  %s2 = tensor.extract_slice %w2[0, 0, 0, 0] [1, 1, 4, 4] [1, 1, 1, 1]
      : tensor<1x1x4x6xf32> to tensor<1x1x4x4xf32>
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c1 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %s1 : tensor<1x4x4x8xf32>, tensor<1x1x8x4xf32>) outs(%f : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %c2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%c1, %s2 : tensor<1x4x4x4xf32>, tensor<1x1x4x4xf32>) outs(%f2 : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  return %c2 : tensor<1x4x4x4xf32>
}
)mlir";

TEST(Tasks, FilterReadThroughASliceOfAConstantKeepsItsSlice) {
  auto model = parseWorkload(test::context(), kPaddedFilterModel, "model.mlir");
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  auto tasks = extractTasks(*model, /*withWeights=*/true);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  ASSERT_EQ(tasks->size(), 2u);
  const ModelTask &conv = (*tasks)[0];
  // The task reads the padded filter with the model's layout: the whole
  // constant is its argument (or, with weights, its constant) and the
  // slice is in the task, not an argument of the sliced type.
  EXPECT_NE(conv.ir.find("tensor<1x1x8x6xf32>"), std::string::npos) << conv.ir;
  EXPECT_NE(conv.ir.find("tensor.extract_slice"), std::string::npos)
      << conv.ir;
  EXPECT_EQ(conv.ir.find("%arg1: tensor<1x1x8x4xf32>"), std::string::npos)
      << conv.ir;
  EXPECT_NE(conv.weightsIr.find("arith.constant dense<1.000000e+00> : "
                                "tensor<1x1x8x6xf32>"),
            std::string::npos)
      << conv.weightsIr;
  EXPECT_NE(conv.weightsIr.find("tensor.extract_slice"), std::string::npos);
  auto plain = taskWorkload(test::context(), conv);
  ASSERT_TRUE(bool(plain)) << llvm::toString(plain.takeError());
  EXPECT_EQ(plain->key(), conv.key);
  auto withWeights =
      parseWorkload(test::context(), conv.weightsIr, "weights.mlir", "task");
  ASSERT_TRUE(bool(withWeights)) << llvm::toString(withWeights.takeError());
  EXPECT_EQ(withWeights->inputs.size() + 1, plain->inputs.size());
}

TEST(Tasks, TransposedOperandMatmulIsAMatmulTaskWithItsBias) {
  Workload model = loadModel();
  auto tasks = extractTasks(model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  ASSERT_EQ(tasks->size(), 3u);
  // Loaded as a linalg.transpose of B and a plain matmul, which has
  // schedules (as matmul_transpose_b it had none: scalar loops).
  const ModelTask &mm = (*tasks)[1], &transpose = (*tasks)[2];
  EXPECT_EQ(transpose.anchorOp, "linalg.transpose");
  EXPECT_EQ(transpose.instances[0].opIndices, (std::vector<int64_t>{7}));
  EXPECT_EQ(mm.anchorOp, "linalg.matmul");
  EXPECT_EQ(mm.opNames.back(), "linalg.generic");
  EXPECT_EQ(mm.instances[0].opIndices, (std::vector<int64_t>{6, 8, 9}));
}

/// A "tuned" script for the conv task: tile the conv's output channels and
/// the ReLU's first loop. Unless retargeted, its generic match would reach
/// the matmul task's bias add too.
std::string tileConvScript() {
  ScriptBuilder s("test: tile the conv");
  mlir::Value conv = s.match({"linalg.conv_2d_nchw_fchw"});
  s.tileFor(conv, {0, 2, 0, 0, 0, 0, 0});
  s.tileFor(s.match({"linalg.generic"}), {0, 2}); // 2 trips: canonicalization keeps the loop
  return s.finish();
}

/// A script that fails on any payload: splits a one-op handle in two.
std::string failingScript() {
  ScriptBuilder s("test: fails");
  mlir::Value conv = s.match({"linalg.conv_2d_nchw_fchw"});
  s.builder().create<mlir::transform::SplitHandleOp>(
      s.loc(), llvm::SmallVector<mlir::Type>(2, s.anyOp()), conv,
      /*pass_through_empty_handle=*/false,
      /*fail_on_payload_too_small=*/true, mlir::IntegerAttr());
  return s.finish();
}

/// Applies `script` to a copy of `model`; per linalg op name, how many of
/// its ops sit inside an scf.for.
std::map<std::string, int> tiledOps(Workload &model, const std::string &script) {
  auto schedule = parseSchedule(test::context(), script, "<test>");
  EXPECT_TRUE(bool(schedule)) << llvm::toString(schedule.takeError());
  mlir::OwningOpRef<mlir::ModuleOp> payload = model.module->clone();
  llvm::Error err = applySchedule(*payload, schedule->get());
  EXPECT_FALSE(bool(err)) << llvm::toString(std::move(err));
  std::map<std::string, int> tiled;
  payload->walk([&](mlir::linalg::LinalgOp op) {
    if (op->getParentOfType<mlir::scf::ForOp>())
      ++tiled[op->getName().getStringRef().str()];
  });
  return tiled;
}

TEST(Tasks, TunedScriptReachesEveryInstanceAndNothingElse) {
  Workload model = loadModel();
  auto tasks = extractTasks(model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  std::string convKey = (*tasks)[0].key;
  auto schedule = buildModelSchedule(
      model, *tasks, TargetKind::Cpu,
      [&](const ModelTask &task) -> std::optional<TunedScript> {
        if (task.key == convKey)
          return TunedScript{tileConvScript(), "db"};
        return std::nullopt;
      });
  ASSERT_TRUE(bool(schedule)) << llvm::toString(schedule.takeError());
  EXPECT_EQ(schedule->sources,
            (std::vector<std::string>{"db", "default", "default"}));
  std::map<std::string, int> tiled = tiledOps(model, schedule->script);
  // Both convs and both ReLUs are tiled; the matmul task and its bias add
  // kept their default (no tiling).
  EXPECT_EQ(tiled["linalg.conv_2d_nchw_fchw"], 2);
  EXPECT_EQ(tiled["linalg.generic"], 2);
  EXPECT_EQ(tiled.size(), 2u);
}

TEST(Tasks, ScriptThatFailsInTheModelFallsBackToTheDefault) {
  Workload model = loadModel();
  auto tasks = extractTasks(model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  auto schedule = buildModelSchedule(
      model, *tasks, TargetKind::Cpu,
      [&](const ModelTask &) -> std::optional<TunedScript> {
        return TunedScript{failingScript(), "db"};
      });
  ASSERT_TRUE(bool(schedule)) << llvm::toString(schedule.takeError());
  EXPECT_EQ(schedule->sources[0], "default (fallback)");
  EXPECT_NE(schedule->notes[0].find("does not apply"), std::string::npos);
  tiledOps(model, schedule->script); // and the joined script applies
}

// A matmul task first, then an elementwise task with a unit dim.
const char *kFoldModel = R"mlir(
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @main(%a: tensor<8x16xf32>, %b: tensor<16x16xf32>,
                %x: tensor<1x8x16xf32>) -> (tensor<8x16xf32>, tensor<1x8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x16xf32>) -> tensor<8x16xf32>
  %mm = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x16xf32>)
      outs(%f : tensor<8x16xf32>) -> tensor<8x16xf32>
  %e3 = tensor.empty() : tensor<1x8x16xf32>
  %r = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x8x16xf32>) outs(%e3 : tensor<1x8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x8x16xf32>
  return %mm, %r : tensor<8x16xf32>, tensor<1x8x16xf32>
}
)mlir";

TEST(Tasks, ScriptsRewritingOtherTasksOpsGoLast) {
  auto model = parseWorkload(test::context(), kFoldModel, "fold.mlir");
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  auto tasks = extractTasks(*model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  ASSERT_EQ(tasks->size(), 2u);
  // The matmul's script folds unit dims in the whole func (as
  // cpu_conv_im2col does): the elementwise generic is replaced, and a
  // script run after that would not find it by its hatc.op_index.
  ScriptBuilder folding("test: fold, then tile the matmul");
  folding.applyPatterns(folding.func(), [](mlir::OpBuilder &b,
                                           mlir::Location loc) {
    b.create<mlir::transform::ApplyFoldUnitExtentDimsViaReshapesPatternsOp>(
        loc);
  });
  folding.tileFor(folding.match({"linalg.matmul"}), {2});
  std::string foldScript = folding.finish();
  ScriptBuilder tiling("test: tile the elementwise op");
  tiling.tileFor(tiling.match({"linalg.generic"}), {0, 2});
  std::string tileScript = tiling.finish();
  auto schedule = buildModelSchedule(
      *model, *tasks, TargetKind::Cpu,
      [&](const ModelTask &task) -> std::optional<TunedScript> {
        return TunedScript{task.anchorOp == "linalg.matmul" ? foldScript
                                                            : tileScript,
                           "db"};
      });
  ASSERT_TRUE(bool(schedule)) << llvm::toString(schedule.takeError());
  EXPECT_EQ(schedule->sources, (std::vector<std::string>{"db", "db"}));
  std::map<std::string, int> tiled = tiledOps(*model, schedule->script);
  EXPECT_EQ(tiled["linalg.matmul"], 1);
  EXPECT_EQ(tiled["linalg.generic"], 1);
}

/// The model's schedule with `script` as the matmul task's tuned record
/// (the other tasks on their defaults), for kernels on 2 threads.
llvm::Expected<ModelSchedule>
scheduleWithMatmulScript(Workload &model, const std::vector<ModelTask> &tasks,
                         const std::string &script) {
  return buildModelSchedule(
      model, tasks, TargetKind::Cpu,
      [&](const ModelTask &task) -> std::optional<TunedScript> {
        if (task.anchorOp == "linalg.matmul")
          return TunedScript{script, "db"};
        return std::nullopt;
      },
      2);
}

TEST(Tasks, TunedScriptThatLeavesItsContractionScalarIsNoted) {
  auto model = parseWorkload(test::context(), kFoldModel, "fold.mlir");
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  auto tasks = extractTasks(*model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  ASSERT_EQ(tasks->size(), 2u);
  ASSERT_EQ((*tasks)[0].anchorOp, "linalg.matmul");
  auto matmul = taskWorkload(test::context(), (*tasks)[0]);
  ASSERT_TRUE(bool(matmul)) << llvm::toString(matmul.takeError());
  auto vectorizing = defaultScheduleFor(*matmul, TargetKind::Cpu, 2);
  ASSERT_TRUE(bool(vectorizing)) << llvm::toString(vectorizing.takeError());
  // Tiles the matmul and vectorizes nothing: no error, and the model would
  // run the matmul as scalar loops.
  ScriptBuilder tiling("test: tile the matmul, vectorize nothing");
  tiling.tileFor(tiling.match({"linalg.matmul"}), {2});
  std::string tileOnly = tiling.finish();
  auto noteOf = [&](const std::string &script) {
    auto schedule = scheduleWithMatmulScript(*model, *tasks, script);
    EXPECT_TRUE(bool(schedule)) << llvm::toString(schedule.takeError());
    if (!schedule)
      return std::string("(no schedule)");
    EXPECT_EQ(schedule->sources[0], "db");
    return schedule->notes[0];
  };
  EXPECT_EQ(noteOf(tileOnly),
            "its tuned schedule leaves 1 of the task's contractions "
            "unvectorized in the model: scalar loops");
  EXPECT_EQ(noteOf(*vectorizing), "");
}

TEST(Tasks, ScriptOfAnotherOpFallsBackToTheDefault) {
  auto model = parseWorkload(test::context(), kFoldModel, "fold.mlir");
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  auto tasks = extractTasks(*model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  ASSERT_EQ((*tasks)[0].anchorOp, "linalg.matmul");
  // A conv's schedule recorded for the matmul task (a log of the wrong
  // op): it applies (its match finds nothing), and would leave the matmul
  // as scalar loops.
  ScriptBuilder conv("test: a conv's schedule");
  conv.tileFor(conv.match({"linalg.conv_2d_nhwc_hwcf"}), {0, 2});
  std::string convScript = conv.finish();
  auto schedule = scheduleWithMatmulScript(*model, *tasks, convScript);
  ASSERT_TRUE(bool(schedule)) << llvm::toString(schedule.takeError());
  EXPECT_EQ(schedule->sources[0], "default (fallback)");
  EXPECT_EQ(schedule->notes[0],
            "its db schedule does not apply in the model: its script matches "
            "none of the task's ops (it matches linalg.conv_2d_nhwc_hwcf; "
            "the task's ops are linalg.fill, linalg.matmul): a schedule of "
            "another op");
}

} // namespace

// A softmax over rows of 8 (max, exp, sum, divide) whose fills sit above
// it in reverse order (as a graph pass may leave them), then a second
// softmax whose exp is also returned.
const char *kRowsModel = R"mlir(
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
func.func @main(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %es = tensor.empty() : tensor<4xf32>
  %fsum = linalg.fill ins(%zero : f32) outs(%es : tensor<4xf32>) -> tensor<4xf32>
  %em = tensor.empty() : tensor<4xf32>
  %fmax = linalg.fill ins(%ninf : f32) outs(%em : tensor<4xf32>) -> tensor<4xf32>
  %max = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<4x8xf32>) outs(%fmax : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %out, %in : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %exp = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %max : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %d = arith.subf %in, %m : f32
    %v = math.exp %d : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%exp : tensor<4x8xf32>) outs(%fsum : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %out, %in : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%exp, %sum : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %q = arith.divf %in, %s : f32
    linalg.yield %q : f32
  } -> tensor<4x8xf32>
  %fmax2 = linalg.fill ins(%ninf : f32) outs(%em : tensor<4xf32>) -> tensor<4xf32>
  %max2 = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%y : tensor<4x8xf32>) outs(%fmax2 : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.maximumf %out, %in : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %exp2 = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%y, %max2 : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %m: f32, %out: f32):
    %d = arith.subf %in, %m : f32
    %v = math.exp %d : f32
    linalg.yield %v : f32
  } -> tensor<4x8xf32>
  %fsum2 = linalg.fill ins(%zero : f32) outs(%es : tensor<4xf32>) -> tensor<4xf32>
  %sum2 = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%exp2 : tensor<4x8xf32>) outs(%fsum2 : tensor<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.addf %out, %in : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  %y2 = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%exp2, %sum2 : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%in: f32, %s: f32, %out: f32):
    %q = arith.divf %in, %s : f32
    linalg.yield %q : f32
  } -> tensor<4x8xf32>
  return %y, %y2, %exp2 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
)mlir";

TEST(Tasks, SoftmaxIsOneRowChainTaskWithItsFills) {
  auto model = parseWorkload(test::context(), kRowsModel, "rows.mlir");
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  auto tasks = extractTasks(*model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  // The first softmax: one task of six ops, its fills included though they
  // come first in reverse order.
  const ModelTask &softmax = (*tasks)[0];
  EXPECT_TRUE(softmax.rowChain);
  EXPECT_EQ(softmax.opNames,
            (std::vector<std::string>{"linalg.fill", "linalg.fill",
                                      "linalg.generic", "linalg.generic",
                                      "linalg.generic", "linalg.generic"}));
  EXPECT_EQ(softmax.instances[0].opIndices,
            (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  // The second one's exp is also a result: the chain stops at it (max and
  // exp), and the sum and divide form a chain of their own.
  ASSERT_EQ(tasks->size(), 3u);
  EXPECT_TRUE((*tasks)[1].rowChain);
  EXPECT_EQ((*tasks)[1].instances[0].opIndices,
            (std::vector<int64_t>{6, 7, 8}));
  EXPECT_TRUE((*tasks)[2].rowChain);
  EXPECT_EQ((*tasks)[2].instances[0].opIndices,
            (std::vector<int64_t>{9, 10, 11}));
}

// A CPU record beats the task's default only by more than db::kTunedMargin
// (both measured more than once): closer, the default is built, and the
// task's source says why. Records measured once, and hwacc's deterministic
// cycles, are taken as they rank.
TEST(Tasks, TunedRecordWithinTheNoiseOfTheDefaultGivesWay) {
  auto model = parseWorkload(test::context(), kFoldModel, "fold.mlir");
  ASSERT_TRUE(bool(model)) << llvm::toString(model.takeError());
  auto tasks = extractTasks(*model);
  ASSERT_TRUE(bool(tasks)) << llvm::toString(tasks.takeError());
  const ModelTask &matmul = (*tasks)[0];
  ASSERT_EQ(matmul.key.rfind("matmul_", 0), 0u) << matmul.key;
  auto target = resolveTarget("cpu");
  ASSERT_TRUE(bool(target)) << llvm::toString(target.takeError());
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("hatc-margin-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto database = db::Database::open((dir / "m.db").string());

  ScriptBuilder tile("test: tile the matmul");
  tile.tileFor(tile.match({"linalg.matmul"}), {4, 0, 0});
  std::string script = tile.finish();
  auto record = [&](const std::string &sketch, const std::string &config,
                    double latency, int measurements) {
    db::Record r;
    r.workloadKey = matmul.key;
    r.workloadHash = matmul.hash;
    r.targetKind = "cpu";
    r.targetName = target->name;
    r.targetFingerprint = target->fingerprint();
    r.compilerVersion = compilerVersion();
    r.sketch = sketch;
    r.configJson = config;
    r.script = script;
    r.samples = std::vector<double>(size_t(measurements), latency);
    r.extrasJson =
        "{\"measurements\":" + std::to_string(measurements) + "}";
    r.threads = 2;
    database->commitRecord(r);
  };
  auto sourceOfMatmul = [&]() {
    auto schedule = modelScheduleFor(*model, database.get(), *target,
                                     /*allowStale=*/false, /*threads=*/2);
    EXPECT_TRUE(bool(schedule)) << llvm::toString(schedule.takeError());
    return schedule ? schedule->sources[0] : std::string();
  };
  const std::string withinNoise =
      "db (the default schedule: the best record is less than 2% faster, "
      "within the noise)";

  record("default", R"({"sketch":"default"})", 1.0e-3, 3);
  // 1% faster, measured 3 times: the default.
  record("cpu_matmul", R"({"mr":4})", 0.99e-3, 3);
  EXPECT_EQ(sourceOfMatmul(), withinNoise);
  // 10% faster but measured once: ranks after the confirmed ones.
  record("cpu_matmul", R"({"mr":8})", 0.90e-3, 1);
  EXPECT_EQ(sourceOfMatmul(), withinNoise);
  // 5% faster, measured 3 times: taken.
  record("cpu_matmul", R"({"mr":2})", 0.95e-3, 3);
  EXPECT_EQ(sourceOfMatmul(), "db");
  std::filesystem::remove_all(dir);
}
