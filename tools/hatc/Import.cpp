//===- Import.cpp - hatc import: an ONNX model as one MLIR module ---------===//
#include "Commands.h"
#include "Common.h"
#include "Flags.h"
#include "Output.h"
#include "hatc/Frontend/Onnx.h"
#include "hatc/Lowering/GraphPipeline.h"
#include "hatc/Support/Error.h"
#include "hatc/Support/Time.h"

#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

namespace hatc {

int importCommand(const Args &args) {
  std::string modelPath, output = "-";
  std::vector<std::string> inputShapes;
  bool elideWeights = false, timing = false, listOps = false,
       noGraphOpt = false;
  FlagParser parser("hatc import",
                    "Imports an ONNX model as one MLIR module: @main from the "
                    "graph inputs to the\ngraph outputs, on tensors, in "
                    "linalg/tensor/arith/math. Weights become\ndense_resource "
                    "blobs; dynamic dims are fixed by --input-shape.");
  parser.positional("MODEL.onnx", &modelPath,
                    "the model (external data beside it)", /*required=*/false);
  parser.option("-o", &output, "OUT.mlir", "write here (default: stdout)");
  parser.repeated("--input-shape", &inputShapes, "NAME=D0,D1,...",
                  "a graph input's shape (fixes dynamic dims; repeatable)");
  parser.flag("--elide-weights", &elideWeights,
              "print weight blobs and large constants as placeholders "
              "(for reading; not parsable back)");
  parser.flag("--no-graph-opt", &noGraphOpt,
              "print the module as imported (no constant folding, fusion "
              "or dead-code removal)");
  parser.flag("--time", &timing, "print the import time on stderr");
  parser.flag("--list-ops", &listOps,
              "print the ONNX op types hatc converts, with their opsets");
  if (auto exit = parseFlags(parser, args))
    return *exit;
  if (llvm::Error err =
          refuseOutputOverInputs("-o", output, {{"the model", modelPath}}))
    return reportError(std::move(err));
  if (listOps) {
    for (const frontend::SupportedOp &op : frontend::supportedOps())
      llvm::outs() << llvm::formatv("{0,-28} opsets {1}-{2}\n", op.opType,
                                    op.minOpset, op.maxOpset);
    return kExitOk;
  }
  if (modelPath.empty())
    return reportError(makeError("hatc import: missing MODEL.onnx (see 'hatc "
                                 "import --help')"));

  frontend::ImportOptions options;
  for (const std::string &text : inputShapes) {
    auto shape = frontend::parseInputShape(text);
    if (!shape)
      return reportError(shape.takeError());
    options.inputShapes.push_back(std::move(*shape));
  }
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  auto start = std::chrono::steady_clock::now();
  auto module = frontend::importOnnxModel(context, modelPath, options);
  if (!module)
    return reportError(module.takeError());
  if (!noGraphOpt &&
      mlir::failed(runGraphPipeline(**module, GraphPipelineOptions())))
    return reportError(makeError(modelPath + ": graph optimization failed "
                                             "(--no-graph-opt skips it)"));
  if (timing)
    llvm::errs() << llvm::formatv("hatc import: {0} in {1}\n", modelPath,
                                  formatSeconds(secondsSince(start)));
  mlir::OpPrintingFlags flags;
  if (elideWeights)
    flags.elideLargeElementsAttrs(16).elideLargeResourceString(64);
  if (llvm::Error err = writeOutputFile(output, [&](llvm::raw_ostream &os) {
        (*module)->print(os, flags);
        os << "\n";
      }))
    return reportError(std::move(err));
  return kExitOk;
}

} // namespace hatc
