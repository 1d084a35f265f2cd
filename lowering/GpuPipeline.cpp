//===- GpuPipeline.cpp - Scheduled linalg -> NVVM -> PTX ------------------===//
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/Passes.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Lowering/ScriptBuilder.h"
#include "hatc/Runtime/Cuda.h"
#include "hatc/Support/Error.h"

#include "mlir/Dialect/Bufferization/TransformOps/BufferizationTransformOps.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/TransformOps/GPUTransformOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/TransformOps/LinalgTransformOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Transform/IR/TransformOps.h"
#include "mlir/Dialect/Transform/IR/TransformTypes.h"
#include "mlir/Dialect/Vector/TransformOps/VectorTransformOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

namespace hatc {

llvm::Error gpuOptionsFromTarget(const Target &target, GpuOptions &options) {
  std::string origin = target.path.empty() ? "target '" + target.name + "'"
                                           : target.path;
  auto chip = target.params.find("chip");
  std::string value = "auto";
  if (chip != target.params.end()) {
    if (!chip->is_string() ||
        !(chip->get<std::string>() == "auto" ||
          llvm::StringRef(chip->get<std::string>()).starts_with("sm_")))
      return makeError(origin + ": \"chip\" must be \"auto\" or a string "
                                "like \"sm_90\", got " + chip->dump());
    value = chip->get<std::string>();
  }
  if (value == "auto") {
    auto device = cuda::deviceInfo();
    value = device ? device->chip() : "sm_90";
  }
  options.chip = value;
  return llvm::Error::success();
}

void buildGpuPipeline(OpPassManager &pm, const GpuOptions &options) {
  // Results become out-params, so the caller passes every buffer (device
  // memory), temporaries between launches are allocated on the device, and
  // no host code touches data.
  // A returned input, or a buffer returned twice: an error here, as the
  // copy the CPU pipeline makes would run on the host over device memory
  // (the out-param pass below crashes on either).
  DistinctResultBuffersOptions distinct;
  distinct.copy = false;
  pm.addNestedPass<func::FuncOp>(createDistinctResultBuffers(distinct));
  bufferization::BufferResultsToOutParamsOpts outParams;
  outParams.hoistStaticAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createGpuWorkgroupCopies());
  pm.addPass(createGpuDeviceBuffers());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addPass(createGpuFpContract());
  // Outlining, NVVM, and gpu-module-to-binary with PTX text ("isa").
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip;
  nvvm.cubinFormat = "isa";
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
}

namespace {
struct GpuPipelineCliOptions
    : public PassPipelineOptions<GpuPipelineCliOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("PTX target architecture (sm_NN)"),
                           llvm::cl::init(GpuOptions().chip)};
};
} // namespace

void registerGpuPipelines() {
  PassPipelineRegistration<GpuPipelineCliOptions>(
      "hatc-gpu-lowering",
      "hatc GPU: scheduled, bufferized gpu.launch code to host LLVM dialect "
      "plus a gpu.binary of PTX",
      [](OpPassManager &pm, const GpuPipelineCliOptions &cli) {
        GpuOptions options;
        options.chip = cli.chip;
        buildGpuPipeline(pm, options);
      });
}

std::string gpuScheduleText(const GpuSchedule &g, bool withMatmul,
                            const std::string &comment) {
  // The script bufferizes the whole module, so it consumes %root.
  ScriptBuilder script(comment, ScriptBuilder::Root::Consumed);
  OpBuilder &b = script.builder();
  Location loc = script.loc();
  MLIRContext *context = script.context();
  Type any = script.anyOp();
  SmallVector<int64_t> blocks = {g.blockM, g.blockN},
                       threads = {g.blockM / g.threadM, g.blockN / g.threadN};
  ArrayAttr blockMap = gpuBlockMappingYX(context),
            threadMap = gpuThreadMappingYX(context);
  // Fills and all-parallel generics: blocks of threads, each its own launch.
  for (StringRef op : {linalg::FillOp::getOperationName(),
                       linalg::GenericOp::getOperationName()}) {
    Value ops = script.match({op});
    Value perBlock = script.tileForallSizes(ops, blocks, blockMap).first;
    script.tileForallThreads(perBlock, threads, threadMap);
  }
  if (withMatmul) {
    Value mm = script.match({linalg::MatmulOp::getOperationName()});
    Value perBlock = script.tileForallSizes(mm, blocks, blockMap).first;
    script.tileFor(perBlock, {0, 0, g.blockK});
  }
  Value bufferized = b.create<transform::OneShotBufferizeOp>(
      loc, any, script.root(),
      bufferization::LayoutMapOptionAttr::get(
          context, bufferization::LayoutMapOption::IdentityLayoutMap),
      /*allow_return_allocs_from_loops=*/false, /*allow_unknown_ops=*/false,
      /*bufferize_function_boundaries=*/true);
  if (withMatmul) {
    Value tile = script.match({linalg::MatmulOp::getOperationName()},
                              bufferized);
    if (g.promote) {
      // A and B tiles of each k step to shared memory (the copies are
      // shared out among the threads by hatc-gpu-workgroup-copies).
      tile = b.create<transform::PromoteOp>(
          loc, any, tile, b.getI64ArrayAttr({0, 1}), ArrayAttr(),
          /*use_full_tiles_by_default=*/false, /*use_alloca=*/false,
          /*memory_space=*/Attribute(),
          b.getArrayAttr({gpu::GPUMemorySpaceMappingAttr::get(
              context, gpu::AddressSpace::Workgroup)}),
          /*alignment=*/IntegerAttr());
    }
    Value perThread = script.tileForallThreads(tile, threads, threadMap).first;
    if (g.registerTile) {
      // Each k of the thread's tile is a vectorized outer product.
      script.vectorize(script.tileFor(perThread, {0, 0, 1}).first);
    }
  }
  Value func = script.match({func::FuncOp::getOperationName()}, bufferized);
  if (withMatmul && g.registerTile) {
    // tm x tn outer products of FMAs (scalars once NVPTX splits the vectors),
    // the C tile in registers across the k step (hoisted transfers), and the
    // vector ops lowered to what the NVVM conversion takes (loads, stores,
    // inserts and extracts).
    script.contractionsToFma(func);
    func = b.create<transform::HoistRedundantVectorTransfersOp>(loc, any, func);
    script.applyPatterns(func, [](OpBuilder &b, Location loc) {
      b.create<transform::ApplyCastAwayVectorLeadingOneDimPatternsOp>(loc);
      b.create<transform::ApplyLowerBroadcastPatternsOp>(loc);
      b.create<transform::ApplyLowerTransposePatternsOp>(loc);
      b.create<transform::ApplyTransferPermutationPatternsOp>(loc);
      b.create<transform::ApplyLowerTransferPatternsOp>(loc,
                                                        /*max_transfer_rank=*/1);
      b.create<transform::ApplyLowerShapeCastPatternsOp>(loc);
      b.create<transform::ApplyCanonicalizationPatternsOp>(loc);
    });
  }
  script.cleanup(func);
  Value width = b.create<transform::ParamConstantOp>(
      loc, transform::ParamType::get(context, b.getI64Type()),
      b.getI64IntegerAttr(g.vectorWidth));
  // One gpu.launch per block-mapped loop nest (one per op).
  auto grids = b.create<transform::MatchOp>(
      loc, any, func, /*ops=*/b.getStrArrayAttr({scf::ForallOp::getOperationName()}),
      /*interface=*/transform::MatchInterfaceEnumAttr(),
      /*op_attrs=*/b.getDictionaryAttr(b.getNamedAttr("mapping", blockMap)),
      /*filter_result_type=*/TypeAttr(), /*filter_operand_types=*/ArrayAttr());
  auto foreach = b.create<transform::ForeachOp>(
      loc, TypeRange(), ValueRange{grids}, /*with_zip_shortest=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    Block *body = b.createBlock(&foreach.getBody(), {}, {any}, {loc});
    Value launch = b.create<transform::MapForallToBlocks>(
        loc, any, body->getArgument(0), /*grid_dims=*/DenseI64ArrayAttr(),
        /*generate_gpu_launch=*/b.getUnitAttr());
    Value mapped = b.create<transform::MapNestedForallToThreads>(
        loc, any, launch,
        ArrayRef<int64_t>{g.blockN / g.threadN, g.blockM / g.threadM, 1});
    script.annotate(mapped, "hatc.copy_vector_width", width);
    b.create<transform::YieldOp>(loc);
  }
  return script.finish();
}

llvm::Expected<std::string> defaultGpuScheduleText(const Workload &workload) {
  bool withMatmul = false;
  int64_t M = 0, N = 0, K = 0;
  for (const Task &task : workload.tasks) {
    bool parallel2d =
        task.iteratorTypes == std::vector<std::string>{"parallel", "parallel"};
    if (task.opName == "linalg.matmul" && !withMatmul) {
      withMatmul = true;
      M = task.loopRanges[0], N = task.loopRanges[1], K = task.loopRanges[2];
    } else if (task.opName == "linalg.matmul" ||
               (task.opName != "linalg.generic" && task.opName != "linalg.fill") ||
               !parallel2d) {
      return makeError("no GPU schedule for " + task.key +
                       " (one matmul and 2-D elementwise ops only)");
    }
  }
  // Tiles that divide the shape (thread tiles must be static).
  auto largestDivisor = [](int64_t n, int64_t atMost) {
    for (int64_t d = std::min(n, atMost); d > 1; --d)
      if (n % d == 0)
        return d;
    return int64_t(1);
  };
  if (!withMatmul && !workload.tasks.empty()) {
    M = workload.tasks.back().loopRanges[0];
    N = workload.tasks.back().loopRanges[1];
  }
  GpuSchedule g;
  g.blockM = largestDivisor(M, 64);
  g.blockN = largestDivisor(N, 64);
  int64_t threadsM = largestDivisor(g.blockM, 16),
          threadsN = largestDivisor(g.blockN, 16);
  if (threadsM * threadsN < 32) // a prime-ish shape: more threads along N
    threadsN = largestDivisor(g.blockN, 1024 / threadsM);
  g.threadM = g.blockM / threadsM;
  g.threadN = g.blockN / threadsN;
  g.promote = withMatmul && g.blockM == 64 && g.blockN == 64 &&
              K % g.blockK == 0;
  return gpuScheduleText(g, withMatmul,
                         "hatc default GPU schedule: " +
                             std::to_string(g.blockM) + "x" +
                             std::to_string(g.blockN) + " blocks of " +
                             std::to_string(g.blockM / g.threadM) + "x" +
                             std::to_string(g.blockN / g.threadN) +
                             " threads" +
                             std::string(g.promote ? ", A/B tiles in shared "
                                                     "memory"
                                                   : "") +
                             std::string(withMatmul ? ", register-tiled" : ""));
}

llvm::Expected<std::string> extractPtx(ModuleOp module) {
  std::string ptx;
  module.walk([&](gpu::BinaryOp binary) {
    for (Attribute attr : binary.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(attr)) {
        // The NVPTX backend's string ends in a NUL for the driver; text
        // output does not want it.
        llvm::StringRef text = object.getObject().getValue();
        ptx += text.rtrim('\0').str();
        if (!ptx.empty() && ptx.back() != '\n')
          ptx += '\n';
      }
  });
  if (ptx.empty())
    return makeError("no PTX in the module: no gpu.binary was produced");
  return ptx;
}

} // namespace hatc
