//===- CpuKernel.h - A compiled kernel loaded into this process -*- C++ -*-===//
//
// Loads a shared object produced by hatc's compile path (CPU, hwacc or the
// host side of a GPU kernel) and calls its
// packed entry `hatc_entry(void **args)` with one memref descriptor per
// argument: inputs first, then outputs.
//
//===----------------------------------------------------------------------===//
#ifndef HATC_RUNTIME_CPUKERNEL_H
#define HATC_RUNTIME_CPUKERNEL_H

#include "hatc/Runtime/Buffer.h"

#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace hatc {

class CpuKernel {
public:
  static llvm::Expected<CpuKernel> load(const std::string &sharedObjectPath);
  CpuKernel(CpuKernel &&other) noexcept;
  CpuKernel &operator=(CpuKernel &&other) noexcept;
  CpuKernel(const CpuKernel &) = delete;
  CpuKernel &operator=(const CpuKernel &) = delete;
  ~CpuKernel();

  /// Threads that scf.forall loops (OpenMP parallel regions) may use.
  void setNumThreads(int threads);
  /// Calls the kernel; `args` are inputs then outputs, in entry order.
  /// `data`, when given, replaces the buffers' storage in the descriptors
  /// (device memory of the same shape, for GPU kernels).
  void run(const std::vector<HostBuffer *> &args,
           const std::vector<void *> &data = {});

private:
  CpuKernel() = default;
  using EntryFn = void (*)(void **);
  using SetThreadsFn = void (*)(int);
  void *handle = nullptr;
  EntryFn entry = nullptr;
  SetThreadsFn setThreads = nullptr;
};

} // namespace hatc

#endif // HATC_RUNTIME_CPUKERNEL_H
