//===- GpuPipeline.cpp - Scheduled linalg -> NVVM -> PTX ------------------===//
#include "hatc/Lowering/GpuPipeline.h"
#include "hatc/Support/Error.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

namespace hatc {

llvm::Error buildGpuPipeline(OpPassManager &pm, const GpuOptions &options) {
  std::string text =
      "func.func(convert-linalg-to-loops),gpu-lower-to-nvvm-pipeline{"
      "cubin-chip=" +
      options.chip + " cubin-format=isa}";
  std::string errors;
  llvm::raw_string_ostream os(errors);
  if (failed(parsePassPipeline(text, pm, os)))
    return makeError("internal error: bad gpu pipeline: " + os.str());
  return llvm::Error::success();
}

llvm::Expected<std::string> defaultGpuScheduleText(const Workload &workload) {
  std::string body;
  int n = 0;
  bool sawFill = false;
  for (const Task &task : workload.tasks) {
    bool matmul = task.opName == "linalg.matmul";
    bool parallel2d =
        task.iteratorTypes.size() == 2 &&
        task.iteratorTypes == std::vector<std::string>{"parallel", "parallel"};
    if (!matmul && !parallel2d)
      return makeError("no GPU schedule for " + task.key +
                       " yet (matmuls and 2-D elementwise ops only)");
    std::string i = std::to_string(n++);
    body += "    %op" + i + " = transform.structured.match ops{[\"" +
            task.opName + "\"]} in %root : (!transform.any_op) -> "
                          "!transform.any_op\n";
    body += "    %blk" + i + ", %grid" + i +
            " = transform.structured.tile_using_forall %op" + i +
            " tile_sizes [64, 64] (mapping = [#gpu.block<y>, #gpu.block<x>]) "
            ": (!transform.any_op) -> (!transform.any_op, !transform.any_op)\n";
    if (matmul && !sawFill) {
      // The zero fill of the accumulator moves into the same blocks.
      sawFill = true;
      body += "    %fill = transform.structured.match ops{[\"linalg.fill\"]} "
              "in %root : (!transform.any_op) -> !transform.any_op\n";
      body += "    %fblk, %fgrid = transform.structured.fuse_into_containing_op "
              "%fill into %grid" +
              i +
              " : (!transform.any_op, !transform.any_op) -> "
              "(!transform.any_op, !transform.any_op)\n";
      body += "    %fthr, %fthreads = transform.structured.tile_using_forall "
              "%fblk tile_sizes [4, 4] (mapping = [#gpu.thread<y>, "
              "#gpu.thread<x>]) : (!transform.any_op) -> (!transform.any_op, "
              "!transform.any_op)\n";
    }
    body += "    %thr" + i + ", %threads" + i +
            " = transform.structured.tile_using_forall %blk" + i +
            " tile_sizes [4, 4] (mapping = [#gpu.thread<y>, #gpu.thread<x>]) "
            ": (!transform.any_op) -> (!transform.any_op, !transform.any_op)\n";
    if (matmul)
      body += "    %k" + i + ", %kloop" + i +
              " = transform.structured.tile_using_for %thr" + i +
              " tile_sizes [0, 0, 8] : (!transform.any_op) -> "
              "(!transform.any_op, !transform.any_op)\n";
  }
  return "// hatc default GPU schedule: 64x64 blocks of 16x16 threads.\n"
         "module attributes {transform.with_named_sequence} {\n"
         "  transform.named_sequence @__transform_main(%root: !transform.any_op "
         "{transform.consumed}) {\n" +
         body +
         "    %bufferized = transform.bufferization.one_shot_bufferize %root "
         "{bufferize_function_boundaries = true, "
         "function_boundary_type_conversion = 1 : i32} : (!transform.any_op) "
         "-> !transform.any_op\n"
         "    %func = transform.structured.match ops{[\"func.func\"]} in "
         "%bufferized : (!transform.any_op) -> !transform.any_op\n"
         "    transform.apply_cse to %func : !transform.any_op\n"
         "    transform.apply_patterns to %func {\n"
         "      transform.apply_patterns.canonicalization\n"
         "    } : !transform.any_op\n"
         "    transform.apply_cse to %func : !transform.any_op\n"
         // One gpu.launch per block-mapped loop nest (one per op).
         "    %grids = transform.structured.match ops{[\"scf.forall\"]} "
         "attributes {mapping = [#gpu.block<y>, #gpu.block<x>]} in %func : "
         "(!transform.any_op) -> !transform.any_op\n"
         "    transform.foreach %grids : !transform.any_op {\n"
         "    ^bb0(%grid: !transform.any_op):\n"
         "      %launch = transform.gpu.map_forall_to_blocks %grid "
         "generate_gpu_launch : (!transform.any_op) -> !transform.any_op\n"
         "      transform.gpu.map_nested_forall_to_threads %launch block_dims = "
         "[16, 16, 1] : (!transform.any_op) -> !transform.any_op\n"
         "    }\n"
         "    transform.yield\n"
         "  }\n"
         "}\n";
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
