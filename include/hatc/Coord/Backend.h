//===- Backend.h - Backends and workloads as policies see them --*- C++ -*-===//
//
// What every part of the coordinator talks about: a backend (the CPU's cores,
// a hwacc device) with the database target its records belong to, and a
// workload reduced to what a dispatch decision needs (op class, FLOPs, bytes;
// no MLIR).
//
//===----------------------------------------------------------------------===//
#ifndef HATC_COORD_BACKEND_H
#define HATC_COORD_BACKEND_H

#include "hatc/Runtime/HwaccDevice.h"

#include "llvm/Support/Error.h"

#include <functional>
#include <string>

namespace hatc::coord {

enum class BackendKind { Cpu, Hwacc, Gpu };
const char *backendKindName(BackendKind kind);

/// The op class of a workload; the static-by-op baseline maps each class to
/// one backend.
enum class OpKind { Gemm, Conv, Elementwise, Other };
const char *opKindName(OpKind kind);

/// Receives warnings (one line each, no "hatc: warning:" prefix). Default:
/// stderr.
using WarnFn = std::function<void(const std::string &)>;
WarnFn stderrWarn();

struct BackendSpec {
  std::string name; // "cpu", "hwacc0", ...
  BackendKind kind = BackendKind::Cpu;
  /// Tasks it runs at once. The CPU's cores are split among concurrent
  /// tasks: slots = cores / threadsPerTask. A hwacc device runs one task.
  int slots = 1;
  int threadsPerTask = 1; // cpu
  HwaccParams hwacc;      // hwacc
  /// Host <-> device copy bandwidth (bytes/s) for the transfer term; 0: the
  /// backend works on host memory (the CPU).
  double transferBytesPerS = 0;
  // Which database records belong to it.
  std::string targetKind; // "cpu" | "hwacc"
  std::string targetName;
  std::string fingerprint;
};

/// The CPU of this machine as a backend (cores 0: all of them).
BackendSpec cpuBackend(int cores = 0, int threadsPerTask = 1);
/// A hwacc device from a target spec ("hwacc" or a target JSON path).
llvm::Expected<BackendSpec> hwaccBackend(const std::string &targetSpec,
                                         const std::string &name,
                                         double transferBytesPerS);

/// What policies need to know of a workload (no MLIR).
struct WorkloadInfo {
  std::string key, hash, path;
  OpKind op = OpKind::Other;
  double flops = 0;
  double bytesIn = 0, bytesOut = 0;
  /// Every compute op goes to the systolic array (matmul, batch matmul,
  /// conv). The hwacc lowering leaves other ops on the host, so a hwacc
  /// backend does not take workloads with any: that would be CPU work.
  bool accelerable = false;
};

} // namespace hatc::coord

#endif // HATC_COORD_BACKEND_H
