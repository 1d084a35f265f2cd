//===- GpuPipeline.cpp - Scheduled linalg -> NVVM -> PTX ------------------===//
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Lowering/Passes.h"
#include "hatc/Lowering/Schedule.h"
#include "hatc/Runtime/Cuda.h"
#include "hatc/Support/Error.h"

#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
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
  auto list = [](std::initializer_list<int64_t> values) {
    std::string text;
    for (int64_t v : values)
      text += (text.empty() ? "" : ", ") + std::to_string(v);
    return "[" + text + "]";
  };
  const std::string any = "!transform.any_op";
  const std::string anyPair = "(" + any + ") -> (" + any + ", " + any + ")";
  std::string body;
  auto line = [&](const std::string &l) { body += "    " + l + "\n"; };
  std::string blocks = list({g.blockM, g.blockN}),
              threads = list({g.blockM / g.threadM, g.blockN / g.threadN});
  const std::string blockMap = "(mapping = [#gpu.block<y>, #gpu.block<x>])",
                    threadMap = "(mapping = [#gpu.thread<y>, #gpu.thread<x>])";
  // Fills and all-parallel generics: blocks of threads, each its own launch.
  for (const char *op : {"linalg.fill", "linalg.generic"}) {
    std::string h = std::string(op).substr(7);
    line("%" + h + " = transform.structured.match ops{[\"" + op +
         "\"]} in %root : (" + any + ") -> " + any);
    line("%" + h + "_blk, %" + h +
         "_grid = transform.structured.tile_using_forall %" + h +
         " tile_sizes " + blocks + " " + blockMap + " : " + anyPair);
    line("%" + h + "_thr, %" + h +
         "_threads = transform.structured.tile_using_forall %" + h +
         "_blk num_threads " + threads + " " + threadMap + " : " + anyPair);
  }
  if (withMatmul) {
    line("%mm = transform.structured.match ops{[\"linalg.matmul\"]} in "
         "%root : (" + any + ") -> " + any);
    line("%mm_blk, %mm_grid = transform.structured.tile_using_forall %mm "
         "tile_sizes " + blocks + " " + blockMap + " : " + anyPair);
    line("%mm_k, %mm_kloop = transform.structured.tile_using_for %mm_blk "
         "tile_sizes " + list({0, 0, g.blockK}) + " : " + anyPair);
  }
  line("%bufferized = transform.bufferization.one_shot_bufferize %root "
       "{bufferize_function_boundaries = true, "
       "function_boundary_type_conversion = 1 : i32} : (" + any + ") -> " +
       any);
  if (withMatmul) {
    line("%mm_buf = transform.structured.match ops{[\"linalg.matmul\"]} in "
         "%bufferized : (" + any + ") -> " + any);
    std::string tile = "%mm_buf";
    if (g.promote) {
      // A and B tiles of each k step to shared memory (the copies are
      // shared out among the threads by hatc-gpu-workgroup-copies).
      line("%mm_shared = transform.structured.promote %mm_buf "
           "{operands_to_promote = [0, 1], mapping = "
           "[#gpu.memory_space<workgroup>]} : (" + any + ") -> " + any);
      tile = "%mm_shared";
    }
    line("%mm_thr, %mm_threads = transform.structured.tile_using_forall " +
         tile + " num_threads " + threads + " " + threadMap + " : " +
         anyPair);
    if (g.registerTile) {
      // Each k of the thread's tile is a vectorized outer product.
      line("%mm_kr, %mm_krloop = transform.structured.tile_using_for "
           "%mm_thr tile_sizes [0, 0, 1] : " + anyPair);
      line("transform.structured.vectorize %mm_kr : " + any);
    }
  }
  line("%func = transform.structured.match ops{[\"func.func\"]} in "
       "%bufferized : (" + any + ") -> " + any);
  std::string func = "%func";
  if (withMatmul && g.registerTile) {
    // tm x tn outer products of FMAs (scalars once NVPTX splits the vectors),
    // the C tile in registers across the k step (hoisted transfers), and the
    // vector ops lowered to what the NVVM conversion takes (loads, stores,
    // inserts and extracts).
    body += contractionsToFmaText("%func", "    ");
    line("%hoisted = transform.structured.hoist_redundant_vector_transfers "
         "%func : (" + any + ") -> " + any);
    func = "%hoisted";
    line("transform.apply_patterns to %hoisted {");
    line("  transform.apply_patterns.vector.cast_away_vector_leading_one_dim");
    line("  transform.apply_patterns.vector.lower_broadcast");
    line("  transform.apply_patterns.vector.lower_transpose");
    line("  transform.apply_patterns.vector.transfer_permutation_patterns");
    line("  transform.apply_patterns.vector.lower_transfer "
         "max_transfer_rank = 1");
    line("  transform.apply_patterns.vector.lower_shape_cast");
    line("  transform.apply_patterns.canonicalization");
    line("} : " + any);
  }
  line("transform.apply_patterns to " + func + " {");
  line("  transform.apply_patterns.canonicalization");
  line("} : " + any);
  line("transform.apply_cse to " + func + " : " + any);
  line("%width = transform.param.constant " + std::to_string(g.vectorWidth) +
       " : i64 -> !transform.param<i64>");
  // One gpu.launch per block-mapped loop nest (one per op).
  line("%grids = transform.structured.match ops{[\"scf.forall\"]} "
       "attributes {mapping = [#gpu.block<y>, #gpu.block<x>]} in " + func +
       " : (" + any + ") -> " + any);
  line("transform.foreach %grids : " + any + " {");
  line("^bb0(%grid: " + any + "):");
  line("  %launch = transform.gpu.map_forall_to_blocks %grid "
       "generate_gpu_launch : (" + any + ") -> " + any);
  line("  %mapped = transform.gpu.map_nested_forall_to_threads %launch "
       "block_dims = " +
       list({g.blockN / g.threadN, g.blockM / g.threadM, 1}) + " : (" + any +
       ") -> " + any);
  line("  transform.annotate %mapped \"hatc.copy_vector_width\" = %width : " +
       any + ", !transform.param<i64>");
  line("}");
  return "// " + comment +
         "\nmodule attributes {transform.with_named_sequence} {\n"
         "  transform.named_sequence @__transform_main(%root: "
         "!transform.any_op {transform.consumed}) {\n" +
         body + "    transform.yield\n  }\n}\n";
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
