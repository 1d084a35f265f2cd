//===- Compile.cpp - hatc compile: show each stage of the compile path ----===//
#include "Commands.h"
#include "Common.h"
#include "Flags.h"
#include "Output.h"
#include "hatc/Lowering/Compiler.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

namespace hatc {

int compileCommand(const Args &args) {
  CompileRequest request;
  std::string emit = "mlir", output = "-";
  FlagParser parser(
      "hatc compile",
      "Applies the schedule and lowers the workload, printing the stage asked "
      "for.\n\n"
      "--emit obj writes an ELF object defining hatc_entry(void **args) and\n"
      "_mlir_ciface_<entry>. Its parallel loops call the OpenMP runtime (and\n"
      "some copies MLIR's C runner utilities), so link it with\n"
      "  clang-19 -fopenmp main.c kernel.o -L/usr/lib/llvm-19/lib \\\n"
      "    -Wl,-rpath,/usr/lib/llvm-19/lib -lmlir_c_runner_utils -lm\n"
      "and, for --target hwacc, also -Lbuild/lib -lhatc_hwacc_rt (the device\n"
      "model behind the hatc_hwacc_* calls; see docs/hwacc.md).");
  parser.positional("WORKLOAD.mlir|MODEL.onnx", &request.workloadPath,
                    "linalg ops on tensors in one entry function");
  addCompileFlags(parser, request);
  parser.option("--emit", &emit, "STAGE",
                "mlir (scheduled, default) | mlir-llvm | llvm | asm | obj |\n"
                "                          ptx (gpu) |\n"
                "                          schedule (the transform script used)");
  parser.option("-o", &output, "OUT", "output file (default: stdout)");
  if (auto exit = parseFlags(parser, args))
    return *exit;
  std::optional<EmitStage> stage = parseEmitStage(emit);
  if (!stage && emit != "schedule")
    return reportError(makeError("hatc compile: --emit expects mlir, "
                                 "mlir-llvm, llvm, asm, obj, ptx or schedule, got '" +
                                 emit + "'"));
  if (stage && *stage == EmitStage::Object && output == "-" &&
      llvm::sys::Process::StandardOutIsDisplayed())
    return reportError(makeError("hatc compile: --emit obj writes binary; "
                                 "give -o FILE or redirect stdout"));

  auto compileLimit = compileTimeoutSeconds(request);
  if (!compileLimit)
    return reportError(compileLimit.takeError());
  std::string text;
  {
    CompileWatchdog watchdog(*compileLimit, "compiling " +
                                                request.workloadPath +
                                                " for " + request.targetSpec);
    auto inputs = loadCompileInputs(request);
    if (!inputs)
      return reportError(inputs.takeError());
    text = inputs->scheduleText;
    if (stage) {
      auto compiled = compileToStage(inputs->workload, inputs->schedule.get(),
                                     *stage, inputs->lowering);
      if (!compiled)
        return reportError(compiled.takeError());
      text = std::move(*compiled);
    }
  }

  if (llvm::Error err = writeOutputFile(
          output, [&](llvm::raw_ostream &os) { os << text; },
          /*binary=*/stage && *stage == EmitStage::Object))
    return reportError(std::move(err));
  return kExitOk;
}

} // namespace hatc
