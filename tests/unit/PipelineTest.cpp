//===- PipelineTest.cpp - hatc's pipelines, built from pass constructors --===//
//
// Each pipeline is built in C++ and printed; the print must equal that of the
// pass-pipeline text hatc used to parse at run time (kept here, and only
// here, as the reference). Two passes take C++ option structs their printers
// do not see (one-shot-bufferize, buffer-results-to-out-params): their
// options are compared out of the text and checked by running the stage.
//
//===----------------------------------------------------------------------===//
#include "TestContext.h"
#include "hatc/Lowering/CpuPipeline.h"
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/HwaccPipeline.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

using namespace hatc;
using namespace mlir;

namespace {

// The pipelines as hatc wrote them as text before they were built from
// constructors (plus the vector reductions' reassociation, since cpu_rows,
// hatc-defer-accumulator-reads, hatc-x86-dot-row-sums and
// hatc-distinct-result-buffers).
const char *kOldBufferize =
    "hatc-decompose-tensor-ops,hatc-x86-dot-row-sums,hatc-fold-constants,"
    "hatc-pad-in-place,"
    "one-shot-bufferize{bufferize-function-boundaries=1 "
    "function-boundary-type-conversion=identity-layout-map},"
    "canonicalize,func.func(hatc-distinct-result-buffers),"
    "buffer-results-to-out-params{hoist-static-allocs=1},"
    "canonicalize,cse,func.func(buffer-loop-hoisting)";
const char *kOldDeallocation =
    "func.func(ownership-based-buffer-deallocation),canonicalize,"
    "func.func(buffer-deallocation-simplification,"
    "bufferization-lower-deallocations),cse,canonicalize,"
    "func.func(hatc-shrink-live-ranges)";
const char *kOldToLLVM =
    "hatc-defer-accumulator-reads,hatc-expand-math,hatc-x86-dot-products,"
    "hatc-x86-amx,hatc-prefetch-weights,"
    "func.func(convert-linalg-to-loops),convert-vector-to-scf{full-unroll=1},"
    "scf-forall-to-parallel,convert-scf-to-openmp,lower-affine,"
    "expand-strided-metadata,lower-affine,finalize-memref-to-llvm,"
    "convert-scf-to-cf,convert-vector-to-llvm{enable-amx=1 "
    "reassociate-fp-reductions=1},"
    "finalize-memref-to-llvm,"
    "convert-openmp-to-llvm,convert-math-to-llvm,convert-arith-to-llvm,"
    "convert-index-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,"
    "hatc-widen-i1-vector-memory,reconcile-unrealized-casts";

std::string print(const OpPassManager &pm) {
  std::string text;
  llvm::raw_string_ostream os(text);
  pm.printAsTextualPipeline(os);
  return text;
}

/// The printed pipeline with the options of the passes configured through
/// C++ structs taken out (their printers show the textual defaults).
std::string withoutStructOptions(std::string text) {
  llvm::Regex options(
      "(one-shot-bufferize|buffer-results-to-out-params)\\{[^}]*\\}");
  while (options.match(text))
    text = options.sub("\\1", text);
  return text;
}

std::string printTyped(llvm::function_ref<void(OpPassManager &)> build) {
  test::context(); // registers every pass, for the reference text
  OpPassManager pm("builtin.module");
  build(pm);
  EXPECT_GT(pm.size(), 0u);
  return withoutStructOptions(print(pm));
}

std::string printParsed(const std::string &text) {
  test::context();
  OpPassManager pm("builtin.module");
  std::string errors;
  llvm::raw_string_ostream os(errors);
  if (failed(parsePassPipeline(text, pm, os)))
    ADD_FAILURE() << "reference pipeline does not parse: " << errors;
  return withoutStructOptions(print(pm));
}

/// The names of the top-level passes and nests, in order.
std::vector<std::string> passNames(const OpPassManager &pm) {
  std::vector<std::string> names;
  for (const Pass &pass : pm.getPasses())
    names.push_back(pass.getArgument().empty() ? "(nest)"
                                               : pass.getArgument().str());
  return names;
}

OwningOpRef<ModuleOp> parse(const char *source) {
  return parseSourceString<ModuleOp>(source, &test::context());
}

} // namespace

TEST(LoweringPipelines, CpuBufferizeMatchesTheOldText) {
  EXPECT_EQ(printTyped([](OpPassManager &pm) {
              buildCpuBufferizePipeline(pm, CpuPipelineOptions());
            }),
            printParsed(std::string(kOldBufferize) + "," + kOldDeallocation));
  CpuPipelineOptions noDealloc;
  noDealloc.deallocate = false;
  EXPECT_EQ(printTyped([&](OpPassManager &pm) {
              buildCpuBufferizePipeline(pm, noDealloc);
            }),
            printParsed(kOldBufferize));
}

TEST(LoweringPipelines, CpuToLLVMMatchesTheOldText) {
  std::string typed = printTyped(buildCpuToLLVMPipeline);
  EXPECT_EQ(typed, printParsed(kOldToLLVM));
  // The option is printed from the pass itself, not assumed.
  EXPECT_NE(typed.find("convert-vector-to-scf{full-unroll=true"),
            std::string::npos)
      << typed;
}

TEST(LoweringPipelines, CpuLoweringIsBothStagesInOrder) {
  OpPassManager pm("builtin.module");
  buildCpuLoweringPipeline(pm, CpuPipelineOptions());
  std::vector<std::string> names = passNames(pm);
  ASSERT_EQ(names.size(), 41u);
  EXPECT_EQ(names.front(), "hatc-decompose-tensor-ops");
  EXPECT_EQ(names[1], "hatc-x86-dot-row-sums");
  EXPECT_EQ(names[2], "hatc-fold-constants");
  EXPECT_EQ(names[3], "hatc-pad-in-place");
  EXPECT_EQ(names[4], "one-shot-bufferize");
  EXPECT_EQ(names[5], "canonicalize");
  EXPECT_EQ(names[6], "(nest)"); // func.func(hatc-distinct-result-buffers)
  EXPECT_EQ(names[7], "buffer-results-to-out-params");
  EXPECT_EQ(names.back(), "reconcile-unrealized-casts");
  EXPECT_EQ(withoutStructOptions(print(pm)),
            printParsed(std::string(kOldBufferize) + "," + kOldDeallocation +
                        "," + kOldToLLVM));
}

TEST(LoweringPipelines, HwaccMatchesTheOldText) {
  HwaccPipelineOptions options;
  options.params.dim = 32;
  options.dataflow = "os";
  options.loopOrder = "nmk";
  options.doubleBuffer = false;
  options.tile = {128, 64, 32};
  std::string offload =
      "hatc-lower-linalg-to-hwacc{array-dim=32 scratchpad-rows=" +
      std::to_string(options.params.scratchpadRows(4)) +
      " accumulator-rows=" + std::to_string(options.params.accumulatorRows()) +
      " dataflow=os loop-order=nmk double-buffer=0 tile=128,64,32}";
  std::string typed = printTyped(
      [&](OpPassManager &pm) { buildHwaccPipeline(pm, options); });
  // NCHW convs become NHWC ones first (hatc-conv-to-nhwc), on tensors.
  EXPECT_EQ(typed, printParsed("hatc-conv-to-nhwc{max-groups=4}," +
                               std::string(kOldBufferize) + "," +
                               kOldDeallocation + "," + offload +
                               ",func.func(hatc-lower-hwacc),"
                               "hatc-convert-hwacc-to-llvm,canonicalize," +
                               kOldToLLVM));
  EXPECT_NE(typed.find("tile=128,64,32"), std::string::npos) << typed;

  // Defaults: no tile option, the 16x16 array.
  std::string defaults = printTyped([](OpPassManager &pm) {
    buildHwaccPipeline(pm, HwaccPipelineOptions());
  });
  EXPECT_NE(defaults.find("array-dim=16"), std::string::npos) << defaults;
  EXPECT_EQ(defaults.find("tile="), std::string::npos) << defaults;
}

TEST(LoweringPipelines, GpuMatchesTheOldText) {
  GpuOptions options;
  options.chip = "sm_80";
  std::string typed = printTyped(
      [&](OpPassManager &pm) { buildGpuPipeline(pm, options); });
  EXPECT_EQ(typed,
            printParsed("func.func(hatc-distinct-result-buffers{copy=false}),"
                        "buffer-results-to-out-params{hoist-static-allocs=1},"
                        "canonicalize,hatc-gpu-workgroup-copies,"
                        "hatc-gpu-device-buffers,"
                        "func.func(convert-linalg-to-loops),"
                        "hatc-gpu-fp-contract,"
                        "gpu-lower-to-nvvm-pipeline{cubin-chip=sm_80 "
                        "cubin-format=isa}"));
  EXPECT_NE(typed.find("chip=sm_80"), std::string::npos) << typed;
  EXPECT_NE(typed.find("format=isa"), std::string::npos) << typed;
}

TEST(LoweringPipelines, RegisteredNamesBuildTheSamePipelines) {
  auto viaName = [](const std::string &text) { return printParsed(text); };
  CpuPipelineOptions noDealloc;
  noDealloc.deallocate = false;
  EXPECT_EQ(viaName("hatc-cpu-bufferize{deallocate=0}"),
            printTyped([&](OpPassManager &pm) {
              buildCpuBufferizePipeline(pm, noDealloc);
            }));
  EXPECT_EQ(viaName("hatc-cpu-to-llvm"), printTyped(buildCpuToLLVMPipeline));
  EXPECT_EQ(viaName("hatc-cpu-lowering"), printTyped([](OpPassManager &pm) {
              buildCpuLoweringPipeline(pm, CpuPipelineOptions());
            }));
  EXPECT_EQ(viaName("hatc-hwacc-lowering"), printTyped([](OpPassManager &pm) {
              buildHwaccPipeline(pm, HwaccPipelineOptions());
            }));
  GpuOptions sm75;
  sm75.chip = "sm_75";
  EXPECT_EQ(viaName("hatc-gpu-lowering{chip=sm_75}"),
            printTyped([&](OpPassManager &pm) { buildGpuPipeline(pm, sm75); }));
}

// The options the printers cannot show, checked by their effect: function
// boundaries bufferized (memref arguments), identity layouts (no strided
// maps), and the result's static allocation hoisted into the caller (an
// out-param written in place, no alloc or copy left).
TEST(LoweringPipelines, CpuBufferizeStructOptionsTakeEffect) {
  OwningOpRef<ModuleOp> module = parse(R"mlir(
func.func @mm(%A: tensor<4x3xf32> {bufferization.writable = false},
              %B: tensor<3x5xf32> {bufferization.writable = false})
    -> tensor<4x5xf32> {
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x5xf32>
  %C0 = linalg.fill ins(%zero : f32) outs(%init : tensor<4x5xf32>) -> tensor<4x5xf32>
  %C = linalg.matmul ins(%A, %B : tensor<4x3xf32>, tensor<3x5xf32>)
                     outs(%C0 : tensor<4x5xf32>) -> tensor<4x5xf32>
  return %C : tensor<4x5xf32>
}
)mlir");
  ASSERT_TRUE(module);
  PassManager pm(&test::context());
  buildCpuBufferizePipeline(pm, CpuPipelineOptions());
  ASSERT_TRUE(succeeded(pm.run(*module)));
  auto mm = module->lookupSymbol<func::FuncOp>("mm");
  ASSERT_TRUE(mm);
  std::string type;
  llvm::raw_string_ostream os(type);
  mm.getFunctionType().print(os);
  EXPECT_EQ(type, "(memref<4x3xf32>, memref<3x5xf32>, memref<4x5xf32>) -> ()");
  std::string body;
  llvm::raw_string_ostream bodyOs(body);
  mm.print(bodyOs);
  EXPECT_EQ(body.find("memref.alloc"), std::string::npos) << body;
  EXPECT_EQ(body.find("memref.copy"), std::string::npos) << body;
}
