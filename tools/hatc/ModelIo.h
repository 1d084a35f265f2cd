//===- ModelIo.h - hatc run's tensor folders: inputs, expected, saved -*- C++ -*-===//
//
// `hatc run --inputs DIR` reads the entry's inputs from tensor files
// (ONNX TensorProto .pb or .npy, `input_N` in order); `--expect DIR`
// compares the outputs with `output_N` files; `--save-outputs DIR` writes
// them as .npy.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_TOOLS_MODELIO_H
#define HATC_TOOLS_MODELIO_H

#include "hatc/Lowering/Workload.h"
#include "hatc/Runtime/Buffer.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace hatc {

/// The workload's inputs from `dir`, checked against its signature. Files
/// at the positions in `skip` (graph inputs the model was specialized for)
/// are not inputs of the workload.
llvm::Expected<std::vector<HostBuffer>>
readInputTensors(llvm::StringRef dir, const Workload &workload,
                 const std::vector<size_t> &skip = {});

/// Writes output_N.npy for each output (the folder is created).
llvm::Error saveOutputTensors(llvm::StringRef dir,
                              const std::vector<HostBuffer> &outputs);

struct OutputComparison {
  std::string file;
  int64_t elements = 0;
  int64_t mismatches = 0; // elements outside the tolerance
  double maxAbsErr = 0, maxRelErr = 0;
  std::string problem; // a shape or type mismatch, when there is one
  bool correct() const { return problem.empty() && mismatches == 0; }
};

/// Compares `outputs` with the expected files in `dir`: floats within
/// atol + rtol * |expected| (NaN matches NaN), integers and bools exactly.
llvm::Expected<std::vector<OutputComparison>>
compareWithExpected(llvm::StringRef dir, const std::vector<HostBuffer> &outputs,
                    double rtol, double atol);

} // namespace hatc

#endif // HATC_TOOLS_MODELIO_H
