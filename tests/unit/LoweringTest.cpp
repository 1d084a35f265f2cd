//===- LoweringTest.cpp - Workloads, default schedule, CPU compile path ---===//
#include "TestContext.h"
#include "hatc/Lowering/Compiler.h"
#include "hatc/Lowering/DefaultSchedule.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Lowering/Workload.h"
#include "hatc/Measure/Check.h"
#include "hatc/Measure/Reference.h"
#include "hatc/Runtime/Buffer.h"
#include "hatc/Runtime/CpuKernel.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/FileSystem.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace hatc;

namespace {

const char *kMatmul = R"mlir(
func.func @mm(%A: tensor<33x17xf32>, %B: tensor<17x9xf32>) -> tensor<33x9xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<33x9xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<33x9xf32>) -> tensor<33x9xf32>
  %C = linalg.matmul ins(%A, %B : tensor<33x17xf32>, tensor<17x9xf32>) outs(%C0 : tensor<33x9xf32>) -> tensor<33x9xf32>
  return %C : tensor<33x9xf32>
}
)mlir";

Workload parseOrDie(const char *source) {
  auto w = parseWorkload(test::context(), source, "test.mlir");
  if (!w) {
    ADD_FAILURE() << errorMessage(w.takeError());
    return Workload();
  }
  return std::move(*w);
}

std::string parseError(const char *source) {
  auto w = parseWorkload(test::context(), source, "test.mlir");
  if (w)
    return "";
  return errorMessage(w.takeError());
}

} // namespace

TEST(Workload, ExtractsTasksWithKeysAndFlops) {
  Workload w = parseOrDie(kMatmul);
  EXPECT_EQ(w.entryName, "mm");
  ASSERT_EQ(w.inputs.size(), 2u);
  EXPECT_EQ(w.inputs[0].str(), "33x17xf32");
  EXPECT_EQ(w.outputs[0].str(), "33x9xf32");
  ASSERT_EQ(w.tasks.size(), 1u); // the fill does no arithmetic
  EXPECT_EQ(w.key(), "matmul_f32_M33_N9_K17");
  EXPECT_DOUBLE_EQ(w.flops(), 2.0 * 33 * 9 * 17);
  EXPECT_EQ(w.tasks[0].iteratorTypes,
            (std::vector<std::string>{"parallel", "parallel", "reduction"}));
  EXPECT_EQ(w.tasks[0].hash.size(), 35u); // "w1-" and 32 hex digits
  EXPECT_EQ(w.tasks[0].hash.rfind("w1-", 0), 0u);
}

TEST(Workload, StructuralHashIgnoresNamesButNotShapes) {
  Workload a = parseOrDie(kMatmul);
  std::string renamed = kMatmul;
  renamed.replace(renamed.find("@mm"), 3, "@other");
  Workload b = parseOrDie(renamed.c_str());
  EXPECT_EQ(a.tasks[0].hash, b.tasks[0].hash);
  std::string reshaped = kMatmul;
  for (size_t pos; (pos = reshaped.find("x9xf32")) != std::string::npos;)
    reshaped.replace(pos, 6, "x8xf32");
  Workload c = parseOrDie(reshaped.c_str());
  EXPECT_NE(a.tasks[0].hash, c.tasks[0].hash);
  EXPECT_EQ(c.key(), "matmul_f32_M33_N8_K17");
}

TEST(Workload, RejectsWhatItCannotRun) {
  EXPECT_NE(parseError("module {}").find("no public function"),
            std::string::npos);
  EXPECT_NE(parseError(R"(func.func @f(%a: memref<4xf32>) -> memref<4xf32> {
                            return %a : memref<4xf32> })")
                .find("needs ranked tensors"),
            std::string::npos);
  // bf16 and f16 are kernel arguments now; 4-bit integers are not.
  EXPECT_NE(parseError(R"(func.func @f(%a: tensor<4xi4>) -> tensor<4xi4> {
                            return %a : tensor<4xi4> })")
                .find("element type i4"),
            std::string::npos);
  EXPECT_NE(parseError(R"(func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
                            return %a : tensor<4xf32> })")
                .find("holds no linalg op"),
            std::string::npos);
  EXPECT_NE(parseError(R"(func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
                            %b = tensor.empty() : tensor<4xf32>
                            %c = linalg.add ins(%a, %a : tensor<4xf32>, tensor<4xf32>) outs(%b : tensor<4xf32>) -> tensor<4xf32>
                            return %c : tensor<4xf32> }
                          func.func @g(%a: tensor<4xf32>) -> tensor<4xf32> {
                            return %a : tensor<4xf32> })")
                .find("several public functions (@f, @g)"),
            std::string::npos);
  EXPECT_NE(parseError("func.func @f(").find("test.mlir:1:"),
            std::string::npos);
}

TEST(Workload, AnEntryOfSeveralFunctionsIsThatFunctionAlone) {
  // @g is another workload of the same file, whose add a schedule matching
  // linalg.add by name would also reach.
  const char *source = R"(
    func.func @f(%a: tensor<4xf32>) -> tensor<4xf32> {
      %b = tensor.empty() : tensor<4xf32>
      %c = linalg.add ins(%a, %a : tensor<4xf32>, tensor<4xf32>) outs(%b : tensor<4xf32>) -> tensor<4xf32>
      return %c : tensor<4xf32> }
    func.func private @unused(%a: tensor<4xf32>) -> tensor<4xf32> {
      return %a : tensor<4xf32> }
    func.func @g(%a: tensor<4xf32>) -> tensor<4xf32> {
      %b = tensor.empty() : tensor<4xf32>
      %c = linalg.add ins(%a, %a : tensor<4xf32>, tensor<4xf32>) outs(%b : tensor<4xf32>) -> tensor<4xf32>
      return %c : tensor<4xf32> })";
  auto f = parseWorkload(test::context(), source, "two.mlir", "f");
  ASSERT_TRUE(bool(f)) << errorMessage(f.takeError());
  mlir::ModuleOp module = f->module.get();
  EXPECT_TRUE(module.lookupSymbol("f"));
  EXPECT_FALSE(module.lookupSymbol("unused"));
  EXPECT_FALSE(module.lookupSymbol("g"));
  // What a record keeps is the entry alone, and it loads without --entry.
  EXPECT_EQ(f->ownIr.find("@g"), std::string::npos) << f->ownIr;
  auto again = parseWorkload(test::context(), f->ownIr, "own.mlir");
  ASSERT_TRUE(bool(again)) << errorMessage(again.takeError());
  EXPECT_EQ(again->key(), f->key());
  EXPECT_EQ(again->hash(), f->hash());
  // A file of one workload is its own IR.
  Workload one = parseOrDie(kMatmul);
  EXPECT_TRUE(one.ownIr.empty());
}

TEST(DefaultSchedule, MovesReductionsBeforeTheLastParallelLoop) {
  using V = std::vector<int64_t>;
  EXPECT_EQ(innermostParallelPermutation({"parallel", "parallel", "reduction"}),
            (V{0, 2, 1}));
  EXPECT_EQ(innermostParallelPermutation({"parallel", "parallel", "parallel",
                                          "parallel", "reduction", "reduction",
                                          "reduction"}),
            (V{0, 1, 2, 4, 5, 6, 3}));
  EXPECT_TRUE(innermostParallelPermutation({"parallel", "parallel"}).empty());
  EXPECT_TRUE(innermostParallelPermutation({"reduction"}).empty());
  EXPECT_TRUE(innermostParallelPermutation({"reduction", "parallel"}).empty());
}

/// Compiles `source` with `schedule`, runs it, and checks it against the
/// reference: the whole CPU path in one process.
static void compileRunCheck(const char *source, const std::string &schedule) {
  Workload w = parseOrDie(source);
  auto original = w.module->clone();
  auto scheduleModule =
      parseSchedule(test::context(),
                    schedule.empty() ? llvm::cantFail(defaultScheduleFor(w, TargetKind::Cpu)) : schedule,
                    "schedule.mlir");
  ASSERT_TRUE(bool(scheduleModule)) << errorMessage(scheduleModule.takeError());
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("hatc-unit", dir));
  auto so = compileToSharedObject(w, scheduleModule->get(), dir, "k");
  ASSERT_TRUE(bool(so)) << errorMessage(so.takeError());
  auto kernel = CpuKernel::load(*so);
  ASSERT_TRUE(bool(kernel)) << errorMessage(kernel.takeError());

  std::vector<HostBuffer> buffers;
  std::vector<RefTensor> refInputs;
  for (size_t i = 0; i < w.inputs.size(); ++i) {
    buffers.emplace_back(w.inputs[i]);
    buffers.back().fillRandom(i + 1);
    refInputs.push_back({w.inputs[i].shape, buffers.back().toDoubles()});
  }
  buffers.emplace_back(w.outputs[0]);
  buffers.back().poison();
  std::vector<HostBuffer *> args;
  for (HostBuffer &b : buffers)
    args.push_back(&b);
  kernel->run(args);
  auto ref = evaluateReference(
      original.lookupSymbol<mlir::func::FuncOp>(w.entryName), refInputs);
  ASSERT_TRUE(bool(ref)) << errorMessage(ref.takeError());
  CheckResult r = compareWithReference(buffers.back().toDoubles(),
                                       (*ref)[0].data, 1e-4);
  EXPECT_TRUE(r.correct) << "max rel err " << r.maxRelErr;
  llvm::sys::fs::remove_directories(dir);
}

TEST(CpuCompile, DefaultScheduleRunsCorrect) { compileRunCheck(kMatmul, ""); }

TEST(CpuCompile, TiledParallelScheduleRunsCorrect) {
  compileRunCheck(kMatmul, R"mlir(
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.matmul"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %f = transform.structured.tile_using_forall %mm num_threads [4, 0, 0] : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %t2, %l:3 = transform.structured.tile_using_for %t tile_sizes [4, 8, 5] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.yield
  }
})mlir");
}

TEST(Schedule, FailureNamesTheTransformError) {
  Workload w = parseOrDie(kMatmul);
  auto schedule = parseSchedule(test::context(), R"mlir(
module attributes {transform.with_named_sequence} {
  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {
    %mm = transform.structured.match ops{["linalg.matmul"]} in %root : (!transform.any_op) -> !transform.any_op
    %t, %l:3 = transform.structured.tile_using_for %mm tile_sizes [8, 8, 8] : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    transform.structured.vectorize %t : !transform.any_op
    transform.yield
  }
})mlir",
                                "s.mlir");
  ASSERT_TRUE(bool(schedule));
  llvm::Error err = applySchedule(*w.module, schedule->get());
  ASSERT_TRUE(bool(err));
  EXPECT_NE(errorMessage(std::move(err)).find("schedule failed"),
            std::string::npos);
}

TEST(CpuCompile, VectorizedExpMatchesLibm) {
  // The default schedule vectorizes this op, so its exp is hatc-expand-
  // math's polynomial: within a few ulp of libm over the float range, and
  // inf, 0 and NaN where expf gives them.
  Workload w = parseOrDie(R"mlir(
#id = affine_map<(i, j) -> (i, j)>
func.func @exp(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = math.exp %v : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
})mlir");
  auto schedule = parseSchedule(
      test::context(), llvm::cantFail(defaultScheduleFor(w, TargetKind::Cpu)),
      "schedule.mlir");
  ASSERT_TRUE(bool(schedule)) << errorMessage(schedule.takeError());
  llvm::SmallString<128> dir;
  ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("hatc-unit", dir));
  auto so = compileToSharedObject(w, schedule->get(), dir, "k");
  ASSERT_TRUE(bool(so)) << errorMessage(so.takeError());
  auto kernel = CpuKernel::load(*so);
  ASSERT_TRUE(bool(kernel)) << errorMessage(kernel.takeError());
  std::vector<double> xs = {-INFINITY, -200, -103.9, -87.4, -87.3, -50, -10,
                            -1, -0.5, -1e-3, -0.0, 0, 1e-7, 0.25, 0.5, 0.69,
                            0.7, 1, 2, 3.5, 10, 20, 42, 60, 80, 88, 88.7,
                            88.72, 88.73, 100, INFINITY, NAN};
  for (int i = 0; xs.size() < 64; ++i)
    xs.push_back(-80 + 2.6 * i); // a sweep over the range
  HostBuffer in(w.inputs[0]), out(w.outputs[0]);
  in.fromDoubles(xs);
  out.poison();
  std::vector<HostBuffer *> args = {&in, &out};
  kernel->run(args);
  std::vector<double> ys = out.toDoubles();
  for (size_t i = 0; i < xs.size(); ++i) {
    float expected = std::exp(float(xs[i]));
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(ys[i])) << "exp(" << xs[i] << ")";
      continue;
    }
    // Below the smallest normal float the polynomial gives 0.
    if (expected < 1.2e-38f) {
      EXPECT_LE(ys[i], 1.2e-38) << "exp(" << xs[i] << ")";
      continue;
    }
    if (std::isinf(expected)) {
      EXPECT_EQ(ys[i], expected) << "exp(" << xs[i] << ")";
      continue;
    }
    // Cephes promises about 1 ulp; 3 ulp is 3.6e-7.
    EXPECT_NEAR(ys[i] / expected, 1.0, 3.6e-7) << "exp(" << xs[i] << ")";
  }
  llvm::sys::fs::remove_directories(dir);
}
