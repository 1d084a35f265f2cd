//===- Backend.cpp - Backends: the CPU, hwacc devices ---------------------===//
//
// The backends the coordinator places tasks on, built from this machine and
// from target descriptions, and the names the benchmark prints.
//
//===----------------------------------------------------------------------===//
#include "hatc/Coord/Backend.h"
#include "hatc/Runtime/Target.h"
#include "hatc/Support/Error.h"

#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <thread>

namespace hatc::coord {

const char *backendKindName(BackendKind kind) {
  switch (kind) {
  case BackendKind::Cpu:
    return "cpu";
  case BackendKind::Hwacc:
    return "hwacc";
  case BackendKind::Gpu:
    return "gpu";
  }
  return "?";
}

const char *opKindName(OpKind kind) {
  switch (kind) {
  case OpKind::Gemm:
    return "gemm";
  case OpKind::Conv:
    return "conv";
  case OpKind::Elementwise:
    return "elementwise";
  case OpKind::Other:
    return "other";
  }
  return "?";
}

WarnFn stderrWarn() {
  return [](const std::string &message) {
    llvm::errs() << "hatc: warning: " << message << "\n";
  };
}

BackendSpec cpuBackend(int cores, int threadsPerTask) {
  BackendSpec spec;
  spec.name = "cpu";
  spec.kind = BackendKind::Cpu;
  if (cores <= 0)
    cores = int(std::max(1u, std::thread::hardware_concurrency()));
  spec.threadsPerTask = std::clamp(threadsPerTask, 1, cores);
  spec.slots = std::max(1, cores / spec.threadsPerTask);
  spec.targetKind = "cpu";
  if (auto target = resolveTarget("cpu")) {
    spec.targetName = target->name;
    spec.fingerprint = target->fingerprint();
  } else {
    llvm::consumeError(target.takeError());
  }
  return spec;
}

llvm::Expected<BackendSpec> hwaccBackend(const std::string &targetSpec,
                                         const std::string &name,
                                         double transferBytesPerS) {
  auto target = resolveTarget(targetSpec);
  if (!target)
    return target.takeError();
  if (target->kind != TargetKind::Hwacc)
    return makeError(targetSpec + ": not a hwacc target (kind " +
                     targetKindName(target->kind) + ")");
  BackendSpec spec;
  spec.name = name;
  spec.kind = BackendKind::Hwacc;
  spec.slots = 1;
  spec.transferBytesPerS = transferBytesPerS;
  spec.targetKind = "hwacc";
  spec.targetName = target->name;
  spec.fingerprint = target->fingerprint();
  std::string origin = target->path.empty() ? targetSpec : target->path;
  if (auto error = HwaccParams::fromJson(target->params, origin, spec.hwacc))
    return makeError(*error);
  return spec;
}

} // namespace hatc::coord
