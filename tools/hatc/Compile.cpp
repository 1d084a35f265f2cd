//===- Compile.cpp - hatc compile: show each stage of the compile path ----===//
#include "Commands.h"
#include "Common.h"
#include "Flags.h"
#include "Output.h"
#include "CompileLibrary.h"
#include "hatc/Lowering/Compiler.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

namespace hatc {

int compileCommand(const Args &args) {
  CompileRequest request;
  std::string emit, output = "-", name;
  bool elideWeights = false;
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
      "model behind the hatc_hwacc_* calls; see docs/hwacc.md).\n\n"
      "--emit lib (the default when -o names a folder: ends in '/' or\n"
      "exists) writes OUT/libNAME.so and OUT/NAME.h, a C API to run the\n"
      "model from any C program: cc app.c -I OUT -L OUT -lNAME\n"
      "-Wl,-rpath,OUT (cpu and hwacc; see README, 'Deploying a model').");
  parser.positional("WORKLOAD.mlir|MODEL.onnx", &request.workloadPath,
                    "linalg ops on tensors in one entry function");
  addCompileFlags(parser, request);
  parser.option("--emit", &emit, "STAGE",
                "mlir (scheduled, default) | mlir-llvm | llvm | asm | obj |\n"
                "                          ptx (gpu) |\n"
                "                          schedule (the transform script used) |\n"
                "                          lib (libNAME.so + NAME.h in the "
                "folder -o)");
  parser.option("-o", &output, "OUT", "output file (default: stdout)");
  parser.option("--name", &name, "NAME",
                "--emit lib: the C API's prefix and file names (default: "
                "the model file's stem)");
  parser.flag("--elide-weights", &elideWeights,
              "--emit mlir, mlir-llvm or llvm: print large constants (a "
              "model's weights) as placeholders, for reading; the text does "
              "not compile to the same program");
  addThreadsFlag(parser, request.threads);
  if (auto exit = parseFlags(parser, args))
    return *exit;
  if (parser.given("--name") && name.empty())
    return reportError(makeError("--name: expects a C identifier, got ''"));
  if (llvm::Error err = refuseOutputOverInputs(
          "-o", output,
          {{"the workload", request.workloadPath},
           {"the database", request.dbPath}}))
    return reportError(std::move(err));
  if (emit.empty())
    emit = output != "-" && (llvm::StringRef(output).ends_with("/") ||
                             llvm::sys::fs::is_directory(output))
               ? "lib"
               : "mlir";
  auto refuseElision = [&] {
    return reportError(makeError("hatc compile: --elide-weights is for "
                                 "--emit mlir, mlir-llvm or llvm, not " +
                                 emit));
  };
  if (emit == "lib" && elideWeights)
    return refuseElision();
  if (emit == "lib") {
    if (output == "-")
      return reportError(makeError("hatc compile: --emit lib writes a "
                                   "folder; give -o DIR"));
    return compileLibrary(request, output, name);
  }
  if (!name.empty())
    return reportError(makeError("hatc compile: --name is for --emit lib"));
  std::optional<EmitStage> stage = parseEmitStage(emit);
  if (!stage && emit != "schedule")
    return reportError(makeError("hatc compile: --emit expects mlir, "
                                 "mlir-llvm, llvm, asm, obj, ptx, schedule or lib, got '" +
                                 emit + "'"));
  bool textStage = stage && (*stage == EmitStage::Scheduled ||
                             *stage == EmitStage::LLVMDialect ||
                             *stage == EmitStage::LLVMIR);
  if (elideWeights && !textStage)
    return refuseElision();
  // BERT-base's 438 MB of weights printed as LLVM IR took over 300 s and
  // 14 GB (--compile-timeout ended it): say so before starting.
  uint64_t inputBytes = 0;
  constexpr uint64_t kLargeInput = uint64_t(64) << 20;
  if (textStage && !elideWeights &&
      !llvm::sys::fs::file_size(request.workloadPath, inputBytes) &&
      inputBytes > kLargeInput)
    llvm::errs() << llvm::formatv(
        "hatc compile: warning: {0} is {1} MiB; its weights printed as text "
        "take minutes and several times that in memory (--elide-weights "
        "prints placeholders)\n",
        request.workloadPath, inputBytes >> 20);
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
                                     *stage, inputs->lowering, elideWeights);
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
