//===- HwaccPipeline.cpp - The hwacc lowering channel as one pipeline -----===//
#include "hatc/Lowering/HwaccPipeline.h"
#include "hatc/Lowering/CpuPipeline.h"
#include "hatc/Lowering/Passes.h"
#include "hatc/Support/Error.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;

namespace hatc {

void buildHwaccPipeline(OpPassManager &pm,
                        const HwaccPipelineOptions &options) {
  // ONNX's NCHW convolutions in the layout the offload takes (on tensors).
  pm.addPass(createConvToNhwc());
  buildCpuBufferizePipeline(pm, CpuPipelineOptions());
  const HwaccParams &p = options.params;
  LowerLinalgToHwaccOptions offload;
  offload.arrayDim = p.dim;
  offload.scratchpadRows = p.scratchpadRows(4);
  offload.accumulatorRows = p.accumulatorRows();
  offload.dataflow = options.dataflow;
  offload.loopOrder = options.loopOrder;
  offload.doubleBuffer = options.doubleBuffer;
  offload.tile = options.tile; // empty: per-op attributes or defaults
  pm.addPass(createLowerLinalgToHwacc(offload));
  pm.addNestedPass<func::FuncOp>(createLowerHwacc());
  pm.addPass(createConvertHwaccToLLVM());
  pm.addPass(createCanonicalizerPass());
  buildCpuToLLVMPipeline(pm);
}

llvm::Error applyHwaccKnobs(const nlohmann::json &config,
                            const std::string &origin,
                            HwaccPipelineOptions &options) {
  const nlohmann::json &knobs =
      config.is_object() && config.contains("knobs") ? config["knobs"] : config;
  if (!knobs.is_object())
    return makeError(origin + ": a config is a JSON object of knobs");
  for (const auto &[key, value] : knobs.items()) {
    if (key == "tile") {
      if (!value.is_array() || value.size() != 3 ||
          !llvm::all_of(value, [](const nlohmann::json &v) {
            return v.is_number_integer() && v.get<int64_t>() > 0;
          }))
        return makeError(origin + ": knob \"tile\" must be three positive "
                                  "integers [tm, tn, tk], got " +
                         value.dump());
      options.tile = value.get<std::vector<int64_t>>();
    } else if (key == "dataflow") {
      if (!value.is_string() || (value != "ws" && value != "os"))
        return makeError(origin + ": knob \"dataflow\" must be \"ws\" or "
                                  "\"os\", got " +
                         value.dump());
      options.dataflow = value.get<std::string>();
    } else if (key == "loop_order") {
      if (!value.is_string() || (value != "mnk" && value != "nmk"))
        return makeError(origin + ": knob \"loop_order\" must be \"mnk\" "
                                  "or \"nmk\", got " +
                         value.dump());
      options.loopOrder = value.get<std::string>();
    } else if (key == "double_buffer") {
      if (!value.is_boolean())
        return makeError(origin + ": knob \"double_buffer\" must be true or "
                                  "false, got " +
                         value.dump());
      options.doubleBuffer = value.get<bool>();
    } else if (key == "tm" || key == "tn" || key == "tk") {
      // The hwacc_gemm sketch's spelling of "tile".
      for (const char *name : {"tm", "tn", "tk"})
        if (!knobs.contains(name) || !knobs[name].is_number_integer() ||
            knobs[name].get<int64_t>() <= 0)
          return makeError(origin + ": knobs \"tm\", \"tn\", \"tk\" go "
                                    "together, each a positive integer");
      options.tile = {knobs["tm"].get<int64_t>(), knobs["tn"].get<int64_t>(),
                      knobs["tk"].get<int64_t>()};
    } else if (key == "host_ops") {
      // Which GEMMs stay on the host: the hwacc_gemm sketch's script marks
      // them (hwacc.on_host); nothing for the pass options.
      if (!value.is_number_integer() || value.get<int64_t>() < 0)
        return makeError(origin + ": knob \"host_ops\" must be a bit mask "
                                  "(a non-negative integer), got " +
                         value.dump());
    } else if (key != "sketch") {
      return makeError(origin + ": unknown hwacc knob \"" + key +
                       "\" (known: tile or tm/tn/tk, dataflow, loop_order, "
                       "double_buffer, host_ops)");
    }
  }
  return llvm::Error::success();
}

void registerHwaccPipelines() {
  PassPipelineRegistration<>(
      "hatc-hwacc-lowering",
      "hatc hwacc: scheduled linalg on tensors to LLVM dialect calls of the "
      "hatc_hwacc_* ABI plus host code (default 16x16 target)",
      [](OpPassManager &pm) {
        buildHwaccPipeline(pm, HwaccPipelineOptions());
      });
}

} // namespace hatc
